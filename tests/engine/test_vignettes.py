"""The shipped knowledge base on the vignettes, held to the issue's bounds in both modes."""

from __future__ import annotations

from pathlib import Path

import pytest

from miliacheck.engine.case import parse_case
from miliacheck.evaluation import evaluate, read_vignettes
from miliacheck.kb.check import FORMAT_CONDITIONS
from miliacheck.kb.load import KnowledgeBase
from tests.conftest import (
    DEV_VIGNETTES,
    HELDOUT_VIGNETTES,
    LITERATURE_VIGNETTES,
    PROJECT_VIGNETTES,
)

# The project's own vignettes (published case reports) do not meet the bounds yet: the
# gaps are listed in the issue note. strict=True makes this fail loudly once they do.
NOT_YET = pytest.mark.xfail(
    strict=True, reason="project vignettes below the bounds; see issue note"
)
# Written in session 5 by helpers blind to the knowledge base, from published cases the
# project set does not use, and never tuned on: held to the same bounds, not met yet.
HELD_OUT = pytest.mark.xfail(
    strict=True, reason="held-out vignettes below the bounds; see issue note"
)
# Written in session 6 by helpers blind to the knowledge base, from published cases
# neither set above uses; read after its first run, as the project set was.
LITERATURE = pytest.mark.xfail(
    strict=True, reason="literature vignettes below the bounds; see issue note"
)
SETS = [
    pytest.param(PROJECT_VIGNETTES, id="project", marks=NOT_YET),
    pytest.param(HELDOUT_VIGNETTES, id="held-out", marks=HELD_OUT),
    pytest.param(LITERATURE_VIGNETTES, id="literature", marks=LITERATURE),
]
if DEV_VIGNETTES.exists():
    SETS.append(pytest.param(DEV_VIGNETTES, id="dev"))


@pytest.mark.parametrize("path", SETS)
def test_full_mode_meets_the_bounds(kb: KnowledgeBase, path: Path) -> None:
    s = evaluate(kb, read_vignettes(path), "full").summary()
    assert s["top1"] >= 0.90, s
    assert s["top3"] >= 0.98, s
    assert s["triage_exact"] >= 0.85, s
    assert s["under_triage_serious"] == 0, s


@pytest.mark.parametrize("path", SETS)
def test_interview_mode_meets_the_bounds(kb: KnowledgeBase, path: Path) -> None:
    s = evaluate(kb, read_vignettes(path), "interview").summary()
    assert s["top3"] >= 0.95, s
    assert s["under_triage_serious"] == 0, s
    assert s["screen_incomplete"] == 0, s
    assert s["median_questions"] <= 8, s
    assert s["max_questions"] <= 15, s


def test_the_project_vignettes_cover_every_condition_and_level(kb: KnowledgeBase) -> None:
    rows = read_vignettes(PROJECT_VIGNETTES)
    assert len(rows) >= 60
    assert {r["expected"]["diagnosis"] for r in rows} >= set(FORMAT_CONDITIONS)
    assert {r["expected"]["triage"] for r in rows} == {
        "self_care",
        "routine",
        "soon",
        "urgent",
        "emergency",
    }


@pytest.mark.parametrize(
    "path",
    [PROJECT_VIGNETTES, HELDOUT_VIGNETTES, LITERATURE_VIGNETTES],
    ids=["project", "held-out", "literature"],
)
def test_every_vignette_is_a_valid_case_with_a_known_answer(kb: KnowledgeBase, path: Path) -> None:
    rows = read_vignettes(path)
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids))
    for r in rows:
        parse_case(kb, r["case"])  # raises on any field the format does not allow
        assert r["source"].strip(), r["id"]
        exp = r["expected"]
        assert {exp["diagnosis"], *exp.get("also_acceptable", [])} <= set(kb.conditions), r["id"]
        assert exp["triage"] in ("self_care", "routine", "soon", "urgent", "emergency"), r["id"]


def test_full_mode_reads_the_words_and_structured_mode_does_not(kb: KnowledgeBase) -> None:
    # A vignette whose structured part leaves out what only its words say (eczema under
    # blisters, the sign of eczema herpeticum): full mode reads it, structured does not.
    row = {
        "id": "T1",
        "source": "test",
        "case": {
            "age_years": 4,
            "narrative": "She has eczema and now little blisters have come up over it.",
            "locations": ["cheeks"],
            "findings": {"clear_blisters": True},
        },
        "expected": {"diagnosis": "herpes_simplex", "triage": "urgent"},
    }
    full = evaluate(kb, [row], "full").outcomes[0]
    structured = evaluate(kb, [row], "structured").outcomes[0]
    assert full.level in ("urgent", "emergency")
    assert structured.level not in ("urgent", "emergency")


def test_an_unknown_mode_is_refused(kb: KnowledgeBase) -> None:
    with pytest.raises(ValueError, match="mode"):
        evaluate(kb, [], "guess")

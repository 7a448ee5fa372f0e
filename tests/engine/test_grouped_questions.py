"""Grouped questions ("tick any that apply") and the chance that a person can answer."""

from __future__ import annotations

import itertools
import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from miliacheck.engine.case import parse_case
from miliacheck.engine.evidence import evidence, log_prior, posterior
from miliacheck.engine.interview import apply_answer, apply_fields, get_path
from miliacheck.engine.questions import (
    _escalation_question,
    answered_questions,
    candidates,
    entropy_bits,
    grouped,
)
from miliacheck.evaluation import read_vignettes
from miliacheck.kb.check import check
from miliacheck.kb.load import KnowledgeBase, default_root, read_kb
from miliacheck.service import assess_case
from tests.conftest import PROJECT_VIGNETTES

WHITE_CHEEKS = {"age_years": 30, "sex": "female", "locations": ["cheeks"], "colour": "white"}


def _log_normaliser(kb: KnowledgeBase, raw: dict[str, Any]) -> float:
    """log P(the case's evidence), summed over every row by the engine's own items."""
    case = parse_case(kb, raw)
    total = log_prior(kb, case) + sum(e.loglik for e in evidence(kb, case))
    return float(np.logaddexp.reduce(total))


def _candidate(kb: KnowledgeBase, case: dict[str, Any], qid: str) -> Any:
    return next(c for c in candidates(kb, parse_case(kb, case)) if c.spec["id"] == qid)


def test_a_groups_gain_is_the_information_of_its_answers_by_the_engines_own_posterior(
    kb: KnowledgeBase,
) -> None:
    # Expected entropy after every combination of ticks, each posterior computed by the
    # engine from the case with those answers written in, weighed by the chance of the
    # combination (the evidence's normaliser with it over the one without): the group's
    # gain (times the chance of an answer) must equal it. The site pattern couples weak
    # immunity to the cheeks in adults' molluscum, and this must hold with it.
    cand = _candidate(kb, WHITE_CHEEKS, "q_health")
    fields = [p[len("findings.") :] for p in cand.spec["fields"]]
    assert "findings.weakened_immunity" in cand.spec["fields"]
    post = posterior(kb, parse_case(kb, WHITE_CHEEKS))
    z = _log_normaliser(kb, WHITE_CHEEKS)
    after = 0.0
    for ticks in itertools.product([True, False], repeat=len(fields)):
        answered = {**WHITE_CHEEKS, "findings": dict(zip(fields, ticks, strict=True))}
        p_answer = math.exp(_log_normaliser(kb, answered) - z)
        after += p_answer * entropy_bits(posterior(kb, parse_case(kb, answered)))
    exact = entropy_bits(post) - after
    assert exact > 0.01
    known = kb.questions.groups[[g.id for g in kb.questions.groups].index("q_health")]
    assert known.answerable is not None
    assert cand.gain(post) == pytest.approx(known.answerable.p * exact, abs=1e-9)


def test_a_group_offers_only_what_applies_at_the_age(kb: KnowledgeBase) -> None:
    child = _candidate(kb, {**WHITE_CHEEKS, "age_years": 5}, "q_health").spec["fields"]
    adult = _candidate(kb, WHITE_CHEEKS, "q_health").spec["fields"]
    for f in ("acne", "sun_damage", "skin_cancer_history", "high_cholesterol"):
        assert f"findings.{f}" not in child
        assert f"findings.{f}" in adult
    assert "findings.weakened_immunity" in child


def test_a_group_answer_writes_every_finding_and_counts_as_one_question(
    kb: KnowledgeBase,
) -> None:
    q = _candidate(kb, WHITE_CHEEKS, "q_site_history").spec
    assert q["type"] == "multi" and q["none_option"] and not q["red_flag"]
    before = answered_questions(kb, parse_case(kb, WHITE_CHEEKS))
    case = apply_answer(WHITE_CHEEKS, q, ["findings.recent_skin_injury"])
    assert case["findings"]["recent_skin_injury"] is True
    others = [p[len("findings.") :] for p in q["fields"][1:]]
    assert all(case["findings"][f] is False for f in others)
    parsed = parse_case(kb, case)
    assert answered_questions(kb, parsed) == before + 1
    assert "q_site_history" not in [c.spec["id"] for c in candidates(kb, parsed)]


def test_one_finding_left_of_a_group_is_asked_as_yes_or_no(kb: KnowledgeBase) -> None:
    case = {**WHITE_CHEEKS, "findings": {"firm": True}}
    cand = _candidate(kb, case, "q_soft")
    assert cand.spec["type"] == "yes_no" and cand.spec["fields"] == ["findings.soft"]


def test_no_finding_is_asked_twice_in_an_interview(kb: KnowledgeBase) -> None:
    # The project's vignettes, as the evaluation interviews them: each case path is filled
    # by one question only, and a group's findings never come back one by one.
    in_group = grouped(kb)
    for v in read_vignettes(PROJECT_VIGNETTES)[::3]:
        ref = v["case"]
        case: dict[str, Any] = {"age_years": ref["age_years"], "sex": ref.get("sex", "female")}
        seen: set[str] = set()
        for _ in range(40):
            q = assess_case(kb, parse_case(kb, case))["next_question"]
            if q is None:
                break
            assert not seen & set(q["fields"]), (v["id"], q["id"])
            seen |= set(q["fields"])
            if q["type"] == "yes_no" and q["fields"][0][9:] in in_group:
                group = in_group[q["fields"][0][9:]]
                offered = [m.finding for m in group.members if f"findings.{m.finding}" in seen]
                assert len(offered) >= 1, (v["id"], q["id"])
            case = apply_fields(case, {p: get_path(ref, p) for p in q["fields"]})
        else:
            pytest.fail(f"{v['id']}: the interview did not end")


def test_a_grouped_finding_that_completes_an_escalation_is_asked_with_its_group(
    kb: KnowledgeBase,
) -> None:
    # Milia after a graze: a new medicine would make them 'routine' (the prescriber should
    # know). The finding is asked through its group, so the question count stays honest.
    site = {
        "recent_skin_injury": True,
        "recent_skin_procedure": False,
        "blistering_disease": False,
        "steroid_cream_long_term": False,
        "heavy_creams": False,
    }
    findings = {**site, "firm": True, "clear_blisters": False}
    case = {**WHITE_CHEEKS, "count": "many", "size_mm": 1, "findings": findings}
    parsed = parse_case(kb, case)
    q = _escalation_question(kb, parsed, posterior(kb, parsed))
    assert q is not None and q["id"] == "q_health"
    assert "findings.new_medicine" in q["fields"]


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "kb"
    shutil.copytree(default_root(), root)
    return root


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("{finding: soft, label:", "{finding: acne, label:", "already in"),
        ("{finding: soft, label:", "{finding: painful, label:", "red flag"),
        ("{finding: soft, label:", "{finding: sofa, label:", "unknown finding"),
    ],
)
def test_kb_check_refuses_a_broken_group(tmp_path: Path, old: str, new: str, message: str) -> None:
    root = _copy(tmp_path)
    path = root / "questions.yaml"
    path.write_text(path.read_text().replace(old, new, 1))
    problems = [p for p in check(read_kb(root)) if p.severity == "error"]
    assert any(message in p.message and "q_touch" in p.where for p in problems), problems

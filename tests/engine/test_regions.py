"""A part of the body named without the site ("on my face"): read, merged and weighed."""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from miliacheck.engine.case import Case, parse_case
from miliacheck.engine.evidence import evidence, posterior
from miliacheck.kb.load import KnowledgeBase
from miliacheck.text import read, with_narrative


def _where(kb: KnowledgeBase, case: Case) -> np.ndarray:
    return next(e.loglik for e in evidence(kb, case) if e.field == "locations")


@pytest.mark.parametrize("age", [0.5, 5, 30, 70])
def test_a_region_is_the_sum_over_every_set_of_its_sites(kb: KnowledgeBase, age: float) -> None:
    # "On my face": some non-empty set of the face's sites, every site off the face absent.
    # The region's likelihood must equal the sum of the complete-list likelihoods of every
    # such set, for every condition (the engine's own location evidence, profiles mixed).
    face = kb.questions.regions["face"].sites
    case = Case(age_years=age, regions=("face",))
    total = np.zeros(len(kb.model.ids))
    for n in range(1, len(face) + 1):
        for sites in itertools.combinations(face, n):
            total += np.exp(_where(kb, Case(age_years=age, locations=sites)))
    assert np.allclose(np.exp(_where(kb, case)), total, rtol=1e-9, atol=0)
    # A named site of the region ("on my nose and face"): the other face sites unknown.
    named = replace(case, locations=("nose",))
    with_nose = np.zeros(len(kb.model.ids))
    for n in range(0, len(face)):
        for sites in itertools.combinations([s for s in face if s != "nose"], n):
            full = Case(age_years=age, locations=("nose", *sites))
            with_nose += np.exp(_where(kb, full))
    assert np.allclose(np.exp(_where(kb, named)), with_nose, rtol=1e-9, atol=0)


@pytest.mark.parametrize(
    ("text", "regions"),
    [
        ("lots of tiny white bumps on my face", ["face"]),
        ("small bumps spread over my body for years", ["body"]),
        ("white spots on her face and body", ["face", "body"]),
        ("I use a face wash and have bumps on my chin", []),
        ("my body lotion made no difference to the bumps on my arms", []),
        ("no bumps on my face, only on my back", []),
        ("tiny white bumps around my mouth for a month", ["around_mouth"]),
        ("red spots near his mouth and on his chin", ["around_mouth"]),
    ],
)
def test_a_region_is_read_from_the_words(kb: KnowledgeBase, text: str, regions: list[str]) -> None:
    got = [u.value for u in read(kb, text) if u.field == "region" and u.certainty == "stated"]
    assert got == regions


def test_a_region_counts_only_when_the_structured_part_names_no_site(kb: KnowledgeBase) -> None:
    words = "many tiny white bumps on my face"
    only = with_narrative(kb, parse_case(kb, {"age_years": 30, "narrative": words}))[0]
    assert only.regions == ("face",) and only.locations is None
    assert not only.answered("locations")  # the interview still asks where exactly
    sited = {"age_years": 30, "narrative": words, "locations": ["back"]}
    assert with_narrative(kb, parse_case(kb, sited))[0].regions == ()
    # A correction ("that is not right") drops the reading.
    corrected = with_narrative(
        kb, parse_case(kb, {"age_years": 30, "narrative": words}), frozenset({"region:face"})
    )[0]
    assert corrected.regions == ()


def test_on_the_face_moves_the_differential_towards_facial_conditions(kb: KnowledgeBase) -> None:
    base = Case(age_years=35, colour="white", count="many")
    ids = list(kb.model.ids)
    before, after = posterior(kb, base), posterior(kb, replace(base, regions=("face",)))
    assert after[ids.index("milia_primary")] > before[ids.index("milia_primary")]
    assert after[ids.index("keratosis_pilaris")] < before[ids.index("keratosis_pilaris")]


def test_the_places_question_puts_the_named_part_of_the_body_first(kb: KnowledgeBase) -> None:
    from miliacheck.service import assess_json

    words = "many tiny white bumps on my face"
    r = assess_json(kb, {"age_years": 30, "narrative": words, "findings": {"bleeding": False}})
    q = r["next_question"]
    case: dict[str, Any] = {"age_years": 30, "narrative": words, "findings": {}}
    while q["id"] != "q_locations":  # the screen first (answered "no"), then where
        for f in q["fields"]:
            case["findings"][f.split(".", 1)[1]] = False
        q = assess_json(kb, case)["next_question"]
    face = set(kb.questions.regions["face"].sites)
    values = [o["value"] for o in q["options"]]
    assert set(values[: len(face)]) == face
    assert set(values) == set(kb.questions.locations["labels"])  # nothing taken away
    assert q["help"].startswith("You said the bumps are on the face")
    plain = assess_json(kb, {"age_years": 30, "findings": case["findings"]})["next_question"]
    assert plain["id"] == "q_locations" and "You said" not in plain["help"]


def test_a_region_is_said_in_plain_words(kb: KnowledgeBase) -> None:
    # "around the eyes", never "on the around the eyes"
    words = "tiny white bumps around my eyes"
    case = with_narrative(kb, parse_case(kb, {"age_years": 30, "narrative": words}))[0]
    where = next(e for e in evidence(kb, case) if e.field == "locations")
    assert where.text == "Where: somewhere around the eyes"
    for region in kb.questions.regions.values():
        assert not region.where.lower().startswith("on the around")


def test_a_rule_on_sites_holds_for_a_region_only_when_every_site_of_it_is_named() -> None:
    from miliacheck.engine.rules import holds
    from miliacheck.kb.schema import When

    face = When(locations_any=("lips", "chin", "cheeks", "nose", "forehead"))
    mouth = Case(age_years=8, region_sites=(("lips", "chin", "cheeks"),))
    assert holds(face, mouth)  # the bumps are at one of the rule's sites, whichever
    lips_only = When(locations_any=("lips",))
    assert not holds(lips_only, mouth)  # they may be on the chin: not known to be on the lips
    assert not holds(face, Case(age_years=8))


def test_flat_warts_around_the_mouth_for_years_are_seen_by_a_doctor(kb: KnowledgeBase) -> None:
    # Patient.info: warts on the face that spread or persist should be seen by a doctor.
    from miliacheck.service import assess_json

    case = {
        "age_years": 8,
        "narrative": "lots of flat skin-coloured bumps around his mouth",
        "duration_days": 1095,
        "count": "many",
        "colour": "skin",
        "findings": {"flat_topped": True},
    }
    r = assess_json(kb, case)
    assert r["conditions"][0]["id"] == "flat_warts"
    assert r["triage"]["level"] == "routine"
    assert any("two years" in reason for reason in r["triage"]["reasons"])
    r = assess_json(kb, {**case, "duration_days": 60})
    assert r["triage"]["level"] == "self_care"

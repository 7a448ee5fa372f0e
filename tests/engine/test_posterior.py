"""The posterior, checked by hand on a tiny knowledge base and against pgmpy on the real one."""

from __future__ import annotations

import random

import numpy as np
import pytest

from miliacheck.engine.case import Case, parse_case
from miliacheck.engine.evidence import bin_index, log_prior, posterior
from miliacheck.kb.load import KnowledgeBase
from miliacheck.kb.schema import COLOURS, COUNTS


def test_tiny_kb_posterior_matches_the_hand_computation(tiny_kb: KnowledgeBase) -> None:
    # Priors: alpha 0.1*0.5, beta 0.3*0.5, scaled to 0.9 -> 0.225, 0.675; not_listed 0.1.
    # firm=yes, itchy=no: alpha 0.225*0.9*0.9, beta 0.675*0.2*0.4, not_listed 0.1*0.3*0.8.
    case = parse_case(tiny_kb, {"age_years": 30, "findings": {"firm": True, "itchy": False}})
    a, b, n = 0.225 * 0.9 * 0.9, 0.675 * 0.2 * 0.4, 0.1 * 0.3 * 0.8
    expected = np.array([a, b, n]) / (a + b + n)
    assert tiny_kb.model.ids == ("alpha", "beta", "not_listed")
    np.testing.assert_allclose(
        posterior(tiny_kb, parse_case(tiny_kb, case.to_json())), expected, atol=1e-12
    )


def test_tiny_kb_prior_alone_is_the_normalised_prevalence(tiny_kb: KnowledgeBase) -> None:
    post = posterior(tiny_kb, parse_case(tiny_kb, {"age_years": 30}))
    np.testing.assert_allclose(post, [0.225, 0.675, 0.1], atol=1e-12)


def test_dont_know_changes_no_probability(tiny_kb: KnowledgeBase) -> None:
    plain = posterior(tiny_kb, parse_case(tiny_kb, {"age_years": 30, "findings": {"firm": True}}))
    unsure = posterior(
        tiny_kb,
        parse_case(
            tiny_kb, {"age_years": 30, "findings": {"firm": True}, "dont_know": ["findings.itchy"]}
        ),
    )
    np.testing.assert_array_equal(plain, unsure)


def _random_case(kb: KnowledgeBase, rng: random.Random) -> dict[str, object]:
    m = kb.model
    case: dict[str, object] = {"age_years": rng.choice([0.02, 0.5, 5, 15, 30, 50, 70])}
    if rng.random() < 0.7:
        case["sex"] = rng.choice(["female", "male", "other"])
    if rng.random() < 0.7:
        case["locations"] = rng.sample(list(m.location_ids), rng.randint(1, 3))
    if rng.random() < 0.5:
        case["colour"] = rng.choice(
            ["white", "yellow", "skin", "pink", "red", "brown", "translucent"]
        )
    if rng.random() < 0.5:
        case["count"] = rng.choice(["one", "few", "many"])
    if rng.random() < 0.5:
        case["size_mm"] = rng.choice([0.5, 1.5, 3, 6, 12])
    if rng.random() < 0.5:
        case["duration_days"] = (
            rng.choice([0.5, 3, 20, 100, 300, 1000]) if case["age_years"] >= 3 else 3
        )
    chosen = rng.sample(list(m.finding_ids), rng.randint(0, 10))
    case["findings"] = {f: rng.random() < 0.5 for f in chosen}
    return case


def _pgmpy_posterior(kb: KnowledgeBase, case: Case) -> np.ndarray:
    """The same model as a pgmpy Bayesian network, queried by variable elimination."""
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.inference import VariableElimination
    from pgmpy.models import DiscreteBayesianNetwork

    m = kb.model
    t = m.at(case.age_years)
    k = len(m.ids)
    net = DiscreteBayesianNetwork()
    net.add_node("D")
    cpds = [TabularCPD("D", k, np.exp(log_prior(kb, case)).reshape(k, 1))]
    evidence: dict[str, int] = {}

    def child(name: str, table: np.ndarray, value: int) -> None:
        net.add_edge("D", name)
        cpds.append(TabularCPD(name, table.shape[1], table.T, evidence=["D"], evidence_card=[k]))
        evidence[name] = value

    for fid, v in case.findings.items():
        if not kb.findings.findings[fid].advice_only:
            p = t.p_finding[:, m.finding_ids.index(fid)]
            child(f"f_{fid}", np.stack([1 - p, p], axis=1), int(v))
    if case.locations is not None:
        for j, loc in enumerate(m.location_ids):
            if loc in case.locations or "other" not in case.locations:
                p = t.p_location[:, j]
                child(f"l_{loc}", np.stack([1 - p, p], axis=1), int(loc in case.locations))
    if case.colour is not None:
        child("colour", t.p_colour, COLOURS.index(case.colour))
    if case.count is not None:
        child("count", t.p_count, COUNTS.index(case.count))
    if case.size_mm is not None:
        child("size", t.p_size, bin_index(kb.manifest.size_bins, case.size_mm))
    if case.duration_days is not None:
        child("duration", t.p_duration, bin_index(kb.manifest.duration_bins, case.duration_days))
    net.add_cpds(*cpds)
    values: np.ndarray = (
        VariableElimination(net).query(["D"], evidence=evidence, show_progress=False).values
    )
    return values


def test_posterior_equals_pgmpy_exact_inference(kb: KnowledgeBase) -> None:
    pytest.importorskip("pgmpy")
    rng = random.Random(2026)
    for _ in range(25):
        case = parse_case(kb, _random_case(kb, rng))
        np.testing.assert_allclose(
            posterior(kb, case), _pgmpy_posterior(kb, case), atol=1e-9, rtol=0
        )

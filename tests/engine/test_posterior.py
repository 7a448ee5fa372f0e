"""The posterior, checked by hand on a tiny knowledge base and against pgmpy on the real one."""

from __future__ import annotations

import random

import numpy as np
import pytest

from miliacheck.engine.case import Case, parse_case
from miliacheck.engine.evidence import bin_index, evidence, log_prior, onset_days, posterior
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


def test_site_profiles_mix_by_their_shares(tiny_kb: KnowledgeBase) -> None:
    # alpha: its own sites (cheeks 0.8, others 0.1) with share 0.75, and a mouth-only
    # profile (inside_mouth 0.9, others 0.02) with share 0.25; beta and not_listed give
    # every site 0.05. There are 21 sites besides `other`; the case names the mouth only.
    case = parse_case(tiny_kb, {"age_years": 30, "locations": ["inside_mouth"]})
    own = 0.1 * 0.2 * 0.9**19
    mouth = 0.9 * 0.98**20
    a = 0.225 * (0.75 * own + 0.25 * mouth)
    b = 0.675 * 0.05 * 0.95**20
    n = 0.1 * 0.05 * 0.95**20
    expected = np.array([a, b, n]) / (a + b + n)
    np.testing.assert_allclose(posterior(tiny_kb, case), expected, atol=1e-12)
    # With `other` in the list the unnamed sites say nothing: only the mouth term counts.
    open_case = parse_case(tiny_kb, {"age_years": 30, "locations": ["inside_mouth", "other"]})
    a, b, n = 0.225 * (0.75 * 0.1 + 0.25 * 0.9), 0.675 * 0.05, 0.1 * 0.05
    np.testing.assert_allclose(
        posterior(tiny_kb, open_case), np.array([a, b, n]) / (a + b + n), atol=1e-12
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

    # The site profile is a hidden variable S between the condition and the sites, and the
    # findings whose chance differs by profile (weak immunity in adults' facial molluscum).
    n_prof = t.p_profile.shape[1]
    coupled = [m.finding_ids[c] for c in t.coupled]
    long_coupled = case.duration_days is not None and t.duration_coupled
    if case.locations is not None or set(coupled) & set(case.findings) or long_coupled:
        net.add_edge("D", "S")
        cpds.append(TabularCPD("S", n_prof, t.p_profile.T, evidence=["D"], evidence_card=[k]))
    # A finding the skin makes harder to see (redness on brown or black skin): whether it is
    # there is hidden; what is reported is it, seen with the share the knowledge base gives.
    seen = m.seen_shares(case.findings)

    def reported(fid: str, share: float, value: bool) -> None:
        del evidence[f"f_{fid}"]
        net.add_edge(f"f_{fid}", f"r_{fid}")
        table = np.array([[1.0, 1 - share], [0.0, share]])
        cpds.append(TabularCPD(f"r_{fid}", 2, table, evidence=[f"f_{fid}"], evidence_card=[2]))
        evidence[f"r_{fid}"] = int(value)

    for fid, v in case.findings.items():
        if kb.findings.findings[fid].advice_only:
            continue
        col = m.finding_ids.index(fid)
        if fid in coupled:
            p = t.p_profile_finding[:, :, col].reshape(k * n_prof)  # column d * P + s
            net.add_edges_from([("D", f"f_{fid}"), ("S", f"f_{fid}")])
            cpds.append(
                TabularCPD(
                    f"f_{fid}",
                    2,
                    np.stack([1 - p, p]),
                    evidence=["D", "S"],
                    evidence_card=[k, n_prof],
                )
            )
            evidence[f"f_{fid}"] = int(v)
        else:
            p = t.p_finding[:, col]
            child(f"f_{fid}", np.stack([1 - p, p], axis=1), int(v))
        if col in seen:
            reported(fid, seen[col], v)
    if case.locations is not None:
        for j, loc in enumerate(m.location_ids):
            if loc in case.locations or "other" not in case.locations:
                p = t.p_location[:, :, j].reshape(k * n_prof)  # column d * P + s
                name = f"l_{loc}"
                net.add_edges_from([("D", name), ("S", name)])
                cpds.append(
                    TabularCPD(
                        name,
                        2,
                        np.stack([1 - p, p]),
                        evidence=["D", "S"],
                        evidence_card=[k, n_prof],
                    )
                )
                evidence[name] = int(loc in case.locations)
    if case.colour is not None:
        seen_as = dict(m.colour_seen)
        shifted = [f for f in seen_as if case.findings.get(f) is True]
        if shifted:
            # The bump's true colour is hidden; the colour reported is seen through the
            # skin (on brown or black skin, red often looks purple or brown).
            child("true_colour", t.p_colour, 0)
            del evidence["true_colour"]
            c = len(COLOURS)
            net.add_edge("true_colour", "colour")
            cpds.append(
                TabularCPD(
                    "colour", c, seen_as[shifted[0]].T, evidence=["true_colour"], evidence_card=[c]
                )
            )
            evidence["colour"] = COLOURS.index(case.colour)
        else:
            child("colour", t.p_colour, COLOURS.index(case.colour))
    if case.count is not None:
        child("count", t.p_count, COUNTS.index(case.count))
    if case.size_mm is not None:
        child("size", t.p_size, bin_index(kb.manifest.size_bins, case.size_mm))
    if case.duration_days is not None:
        b = bin_index(kb.manifest.duration_bins, case.duration_days)
        if long_coupled:
            # a pattern that lasts differently (a stye days, a chalazion months): the
            # duration is a child of the hidden profile too
            p = t.p_profile_duration.reshape(k * n_prof, -1)  # row d * P + s
            net.add_edges_from([("D", "duration"), ("S", "duration")])
            cpds.append(
                TabularCPD(
                    "duration", p.shape[1], p.T, evidence=["D", "S"], evidence_card=[k, n_prof]
                )
            )
            evidence["duration"] = b
        else:
            child("duration", t.p_duration, b)
        onset = onset_days(kb, case)
        if onset is not None:
            child("onset", t.p_onset, bin_index(kb.manifest.onset_bins, onset))
    net.add_cpds(*cpds)
    values: np.ndarray = (
        VariableElimination(net).query(["D"], evidence=evidence, show_progress=False).values
    )
    return values


def _assert_matches_pgmpy(kb: KnowledgeBase, case: Case) -> None:
    """The engine's posterior equals pgmpy's exact inference on the same model to 1e-9."""
    np.testing.assert_allclose(posterior(kb, case), _pgmpy_posterior(kb, case), atol=1e-9, rtol=0)


def test_posterior_equals_pgmpy_exact_inference(kb: KnowledgeBase) -> None:
    pytest.importorskip("pgmpy")
    rng = random.Random(2026)
    for _ in range(25):
        case = parse_case(kb, _random_case(kb, rng))
        _assert_matches_pgmpy(kb, case)


def test_posterior_equals_pgmpy_with_a_finding_coupled_to_the_site_pattern(
    kb: KnowledgeBase,
) -> None:
    """Weak immunity is commoner in adults' facial molluscum than in its genital pattern:
    the finding and the sites are mixed over the hidden profile together."""
    pytest.importorskip("pgmpy")
    assert kb.model.at(30).coupled, "no coupled finding left to test"
    rng = random.Random(11)
    for _ in range(15):
        raw = _random_case(kb, rng)
        raw["age_years"] = rng.choice([22, 35, 50, 75])
        raw.setdefault("findings", {})["weakened_immunity"] = rng.random() < 0.5
        if rng.random() < 0.8:
            raw["locations"] = rng.choice([["cheeks", "chin"], ["genitals"], ["neck", "other"]])
        else:
            raw.pop("locations", None)
        case = parse_case(kb, {k: v for k, v in raw.items() if k != "dont_know"})
        _assert_matches_pgmpy(kb, case)


def test_posterior_equals_pgmpy_when_a_pattern_lasts_differently(kb: KnowledgeBase) -> None:
    """A stye lasts days and a chalazion months: the duration, the findings that go with
    each pattern and the sites are mixed over the hidden pattern together."""
    pytest.importorskip("pgmpy")
    assert kb.model.at(30).duration_coupled, "no pattern with its own duration left to test"
    rng = random.Random(23)
    for _ in range(15):
        raw = _random_case(kb, rng)
        raw["age_years"] = rng.choice([6, 30, 55])
        raw["duration_days"] = rng.choice([2, 20, 120, 400])
        raw.setdefault("findings", {})["painful"] = rng.random() < 0.5
        if rng.random() < 0.7:
            raw["locations"] = ["eyelids"]
        case = parse_case(kb, {k: v for k, v in raw.items() if k != "dont_know"})
        _assert_matches_pgmpy(kb, case)


def test_how_long_an_eyelid_lump_has_been_there_weighs_with_how_it_feels(
    kb: KnowledgeBase,
) -> None:
    """Months count for a painless eyelid lump (a chalazion) more than for a painful one (a
    stye, which clears in one or two weeks): the duration is read with the pattern."""
    i = kb.model.ids.index("hordeolum_chalazion")

    def months_lr(painful: bool) -> float:
        case = parse_case(
            kb,
            {
                "age_years": 40,
                "locations": ["eyelids"],
                "duration_days": 120,
                "findings": {"painful": painful},
            },
        )
        item = next(e for e in evidence(kb, case) if e.field == "duration_days")
        return float(np.exp(item.loglik[i]))

    assert months_lr(False) > 2 * months_lr(True)


def test_posterior_equals_pgmpy_for_babies(kb: KnowledgeBase) -> None:
    """Babies exercise the age-at-onset evidence and the site profiles (mouth-only cysts)."""
    pytest.importorskip("pgmpy")
    rng = random.Random(7)
    for _ in range(15):
        raw = _random_case(kb, rng)
        raw["age_years"] = rng.choice([0.005, 0.03, 0.06, 0.15, 0.24])
        raw["duration_days"] = rng.uniform(0, raw["age_years"] * 365.25)
        raw["locations"] = rng.choice([["inside_mouth"], ["nose", "cheeks"], ["chest", "other"]])
        case = parse_case(kb, raw)
        assert onset_days(kb, case) is not None
        _assert_matches_pgmpy(kb, case)


def test_a_babys_duration_also_says_when_the_bumps_began(kb: KnowledgeBase) -> None:
    from miliacheck.engine.evidence import evidence

    rash = {"locations": ["chest", "back"], "findings": {"pus": True, "red_around": True}}
    early = parse_case(kb, {"age_years": 3 / 365.25, "duration_days": 1, **rash})
    late = parse_case(kb, {"age_years": 10 / 365.25, "duration_days": 1, **rash})
    adult = parse_case(kb, {"age_years": 30, "duration_days": 1, **rash})
    assert onset_days(kb, early) == pytest.approx(2)
    assert onset_days(kb, adult) is None
    text = next(e.text for e in evidence(kb, late) if e.field == "duration_days")
    assert text.endswith("so they began at 9 days old")
    # Erythema toxicum begins in the first days of life; a rash beginning at 9 days is
    # less likely to be it (habif_etn), and newborn herpes more likely (medscape).
    etn, hsv = (
        kb.model.ids.index("erythema_toxicum_neonatorum"),
        kb.model.ids.index("herpes_simplex"),
    )
    p_early, p_late = posterior(kb, early), posterior(kb, late)
    assert p_late[etn] < p_early[etn]
    assert p_late[hsv] > p_early[hsv]


def test_posterior_equals_pgmpy_when_the_skin_hides_redness(kb: KnowledgeBase) -> None:
    """On brown or black skin redness around the bumps is seen only part of the times it
    is there: a hidden "is there" node and a "reported" node in the network."""
    pytest.importorskip("pgmpy")
    assert kb.model.finding_seen, "no finding changes how another is seen"
    rng = random.Random(11)
    for i in range(20):
        raw = _random_case(kb, rng)
        findings = dict(raw.get("findings", {}))  # type: ignore[call-overload]
        findings.update({"dark_skin": True, "red_around": i % 2 == 0})
        raw["findings"] = findings
        case = parse_case(kb, raw)
        _assert_matches_pgmpy(kb, case)


def test_no_redness_counts_for_less_on_brown_or_black_skin(kb: KnowledgeBase) -> None:
    """'No redness around them' is weaker evidence against an inflamed condition when
    redness is hard to see; redness that is seen counts the same (the share cancels)."""
    base = {"age_years": 25, "locations": ["chest", "back"], "count": "many"}
    fol = kb.model.ids.index("folliculitis")

    def p(red: bool, dark: bool) -> float:
        findings = {"red_around": red, **({"dark_skin": True} if dark else {})}
        return float(posterior(kb, parse_case(kb, {**base, "findings": findings}))[fol])

    assert p(False, dark=True) > p(False, dark=False)
    assert p(True, dark=True) >= p(True, dark=False) * 0.999


def test_posterior_equals_pgmpy_when_the_skin_changes_how_colour_is_seen(
    kb: KnowledgeBase,
) -> None:
    """On brown or black skin the reported colour is the true colour seen through the skin:
    a hidden true colour in the network, summed out."""
    pytest.importorskip("pgmpy")
    assert dict(kb.model.colour_seen), "no finding changes how colour is seen"
    rng = random.Random(5)
    for _ in range(15):
        raw = _random_case(kb, rng)
        raw["colour"] = rng.choice(["white", "skin", "pink", "red", "brown"])
        raw.setdefault("findings", {})["dark_skin"] = True
        case = parse_case(kb, raw)
        _assert_matches_pgmpy(kb, case)

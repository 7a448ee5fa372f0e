"""Evidence: one item per known field of a case, with its likelihood under every row.

The posterior, the explanations and the pgmpy cross-check all read these items, so the
model is defined in exactly one place.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from miliacheck.engine.case import DAYS_PER_YEAR, Case
from miliacheck.kb.load import Array, KnowledgeBase, Tables
from miliacheck.kb.schema import COLOURS, COUNTS

COLOUR_INDEX = {c: i for i, c in enumerate(COLOURS)}
COUNT_INDEX = {c: i for i, c in enumerate(COUNTS)}


@dataclass(frozen=True)
class Evidence:
    field: str  # case path: findings.firm, locations, colour, ...
    value: object
    text: str
    loglik: Array  # log P(value | row) for every row
    red_flag: bool = False


def bin_index(edges: dict[str, tuple[float, float]], value: float) -> int:
    for i, (lo, hi) in enumerate(edges.values()):
        if lo <= value < hi:
            return i
    return len(edges) - 1


def _days_text(days: float) -> str:
    if days < 14:
        return f"{days:g} days"
    if days < 60:
        return f"about {round(days / 7)} weeks"
    if days < 730:
        return f"about {round(days / 30.4)} months"
    return f"about {round(days / DAYS_PER_YEAR)} years"


def evidence(kb: KnowledgeBase, case: Case) -> list[Evidence]:
    """The evidence items of ``case``; unknown fields and ``dont_know`` give none."""
    m = kb.model
    t = m.at(case.age_years)
    lg = t.logs
    findings = kb.findings.findings
    out: list[Evidence] = []
    index = {f: i for i, f in enumerate(m.finding_ids)}
    coupled = set(t.coupled)
    # A finding whose chance differs by site profile is weighed in a chain, in column
    # order: each item is P(value | condition, the coupled findings before it), then the
    # duration when patterns last differently, and the sites come last, given them all;
    # the items still multiply to the exact joint.
    profile = lg["lw"]  # log P(profile, coupled findings so far | condition)
    hidden = m.seen_shares(case.findings)
    for fid, value in sorted(case.findings.items(), key=lambda kv: index[kv[0]]):
        spec = findings[fid]
        if spec.advice_only:
            continue
        col = index[fid]
        if col in coupled:
            joint = profile + _given_profile(lg, col, value, t, hidden.get(col))
            ll = _lse(joint) - _lse(profile)
            profile = joint
        elif col in hidden:
            ll = _seen_ll(t.p_finding[:, col], value, hidden[col])
        else:
            ll = lg["f1"][:, col] if value else lg["f0"][:, col]
        label = spec.label if value else "No: " + spec.label[0].lower() + spec.label[1:]
        if col in hidden:
            label += f" ({_seen_on(kb, case)})"
        out.append(Evidence(f"findings.{fid}", value, label, ll, spec.red_flag))
    duration: Evidence | None = None
    if case.duration_days is not None:
        # a pattern that lasts differently (a stye days, a chalazion months) joins the chain
        # before the sites: P(duration | condition, the coupled findings)
        duration, profile = _how_long(kb, case, t, profile)
    if case.locations is not None or case.regions:
        out.append(_where(kb, case, lg, profile))
    if case.colour is not None:
        seen, on = colour_seen(kb, case)
        ll = np.log(seen[:, COLOUR_INDEX[case.colour]])
        text = f"Colour: {case.colour}" + (f" ({on})" if on else "")
        out.append(Evidence("colour", case.colour, text, ll))
    if case.count is not None:
        ll = lg["count"][:, COUNT_INDEX[case.count]]
        words = {"one": "Just one bump", "few": "A few bumps", "many": "Many bumps"}
        out.append(Evidence("count", case.count, words[case.count], ll))
    if case.size_mm is not None:
        ll = lg["size"][:, bin_index(kb.manifest.size_bins, case.size_mm)]
        out.append(Evidence("size_mm", case.size_mm, f"About {case.size_mm:g} mm across", ll))
    if duration is not None:
        out.append(duration)
    return out


def _how_long(kb: KnowledgeBase, case: Case, t: Tables, profile: Array) -> tuple[Evidence, Array]:
    """The duration's evidence, and the profile chain with it (unchanged when no condition's
    patterns last differently). In a baby the same number also says at what age the bumps
    began (not coupled to a pattern)."""
    assert case.duration_days is not None
    lg = t.logs
    b = bin_index(kb.manifest.duration_bins, case.duration_days)
    if t.duration_coupled:
        joint = profile + lg["pd"][:, :, b]
        ll = _lse(joint) - _lse(profile)
        profile = joint
    else:
        ll = lg["duration"][:, b]
    text = f"There for {_days_text(case.duration_days)}"
    onset = onset_days(kb, case)
    if onset is not None:
        ll = ll + lg["onset"][:, bin_index(kb.manifest.onset_bins, onset)]
        text += f", so they began at {_days_text(round(onset))} old"
    return Evidence("duration_days", case.duration_days, text, ll), profile


def colour_seen(kb: KnowledgeBase, case: Case) -> tuple[Array, str]:
    """P(the colour a person sees and reports | condition): (K, 7), and why it differs from
    the bump's own colour, if it does. On brown or black skin (a finding with
    ``colour_seen_as``) a red bump is often seen as purple or brown: the reported colour is
    the true colour passed through that finding's table."""
    m = kb.model
    table: Array = m.at(case.age_years).p_colour
    for fid, seen_as in m.colour_seen:
        if case.findings.get(fid) is True:
            table = table @ seen_as
            return table, f"as seen on {kb.findings.findings[fid].label.lower()}"
    return table, ""


def _given_profile(
    lg: dict[str, Array], col: int, value: bool, t: Tables, seen: float | None = None
) -> Array:
    """log P(finding ``col`` reported as ``value`` | condition, site profile): (K, P); a
    finding seen only ``seen`` of the times it is there is reported that much less often."""
    if seen is not None:
        return _seen_ll(t.p_profile_finding[:, :, col], value, seen)
    out: Array = lg["pf1"][:, :, col] if value else lg["pf0"][:, :, col]
    return out


def _seen_ll(p: Array, value: bool, seen: float) -> Array:
    """log P(reported as ``value``) for a finding present with chance ``p`` and, when
    present, seen and reported with chance ``seen``."""
    out: Array = np.log(seen * p) if value else np.log1p(-seen * p)
    return out


def _seen_on(kb: KnowledgeBase, case: Case) -> str:
    """Why a finding counts for less: 'harder to see on brown or black skin'."""
    for fid, _ in kb.model.finding_seen:
        if case.findings.get(fid) is True:
            return f"harder to see on {kb.findings.findings[fid].label.lower()}"
    return ""


def profile_posterior(kb: KnowledgeBase, case: Case) -> Array:
    """P(site profile | condition, the case's coupled findings, duration and sites): (K, P)."""
    m = kb.model
    t = m.at(case.age_years)
    joint = t.logs["lw"]  # log P(profile, the coupled findings | condition)
    seen = m.seen_shares(case.findings)
    for fid, value in case.findings.items():
        col = m.finding_ids.index(fid)
        if col in t.coupled:
            joint = joint + _given_profile(t.logs, col, value, t, seen.get(col))
    if case.duration_days is not None and t.duration_coupled:
        joint = joint + t.logs["pd"][:, :, bin_index(kb.manifest.duration_bins, case.duration_days)]
    if case.locations is not None or case.regions:
        joint = joint + _sites_by_profile(kb, case, t.logs)
    out: Array = np.exp(joint - _lse(joint)[:, None])
    return out


def _sites_by_profile(kb: KnowledgeBase, case: Case, lg: dict[str, Array]) -> Array:
    """log P(the sites as given | condition, site profile): (K, P).

    A list with `other` is open: the person could not name every site, so the sites left
    out say nothing; a list without it is complete and absences count. A region read from
    the words ("on my face") says the bumps are on at least one of its sites:
    1 - P(none of them), its sites otherwise unknown (unless a site of it is named).
    """
    m = kb.model
    sites = case.locations or ()
    involved = [i for i, loc in enumerate(m.location_ids) if loc in sites]
    regions = kb.questions.regions
    in_region = {loc for r in case.regions for loc in regions[r].sites}
    absent = (
        []
        if "other" in sites
        else [
            i for i, loc in enumerate(m.location_ids) if loc not in sites and loc not in in_region
        ]
    )
    out: Array = lg["l1"][:, :, involved].sum(axis=2) + lg["l0"][:, :, absent].sum(axis=2)
    for r in case.regions:
        if any(loc in sites for loc in regions[r].sites):
            continue  # a named site of the region already says the bumps are there
        idx = [i for i, loc in enumerate(m.location_ids) if loc in regions[r].sites]
        none = lg["l0"][:, :, idx].sum(axis=2)
        out = out + np.log(-np.expm1(none))
    return out


def _where(kb: KnowledgeBase, case: Case, lg: dict[str, Array], profile: Array) -> Evidence:
    """The locations' evidence: each site profile's likelihood, mixed by the profiles'
    shares, given the profile-coupled findings (``profile``: their log joint with the share,
    (K, P))."""
    sites = case.locations or ()
    regions = kb.questions.regions
    ll = _lse(_sites_by_profile(kb, case, lg) + profile) - _lse(profile)
    labels = kb.questions.locations["labels"]
    where = [labels[loc].lower() for loc in sites]
    where += [f"somewhere {regions[r].where}" for r in case.regions]
    value: list[str] = [*sites, *(f"region:{r}" for r in case.regions)]
    return Evidence("locations", value, f"Where: {', '.join(where)}", ll)


def onset_days(kb: KnowledgeBase, case: Case) -> float | None:
    """The age in days at which a baby's bumps began (age minus duration), or None.

    Only for babies (under the manifest's ``onset_under_years``) with a known duration.
    """
    man = kb.manifest
    if not man.onset_bins or case.age_years >= man.onset_under_years:
        return None
    return case.began_on_day()


def log_prior(kb: KnowledgeBase, case: Case) -> Array:
    """Log prior over every row (conditions, then not_listed last), normalised."""
    m = kb.model
    band = m.band(case.age_years)
    sex = {"female": 0, "male": 1}.get(case.sex or "", 2)
    weights = m.prevalence[:, band] * m.sex_factor[:, sex]
    p_nl = kb.manifest.not_listed.prior.p
    weights = weights * ((1.0 - p_nl) / weights[:-1].sum())
    weights[-1] = p_nl
    out: Array = np.log(weights)
    return out


def _lse(x: Array) -> Array:
    """log Σ exp over the last axis (numpy's own reduction)."""
    out: Array = np.logaddexp.reduce(x, axis=-1)
    return out


def normalise(logp: Array) -> Array:
    z = np.exp(logp - logp.max())
    out: Array = z / z.sum()
    return out


def posterior_from(prior: Array, items: list[Evidence]) -> Array:
    """Normalised posterior from a log prior and evidence items."""
    total = prior.copy()
    for item in items:
        total += item.loglik
    return normalise(total)


def without_red_flags(kb: KnowledgeBase, case: Case) -> Case:
    """The case as if no red flag had been answered (the differential's own view: a red
    flag sets the level through its floor, not through the conditions it makes likely)."""
    spec = kb.findings.findings
    return replace(case, findings={f: v for f, v in case.findings.items() if not spec[f].red_flag})


def posterior(kb: KnowledgeBase, case: Case, blind: bool = False) -> Array:
    """P(row | case) for every condition row, not_listed last; ``blind`` leaves red flags
    out (also from a site pattern they are coupled to, as fever is to gingivostomatitis)."""
    seen = without_red_flags(kb, case) if blind else case
    return posterior_from(log_prior(kb, case), evidence(kb, seen))

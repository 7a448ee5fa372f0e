"""Care level: the floors, the differential's level and the unsure rule; the highest wins.

Monotone by construction: the floors only test findings that are true, and the
differential's level is computed on the posterior *without* red-flag findings, so
answering a red flag "yes" can only add reasons, never remove one. Every red flag has a
floor of at least ``routine`` on its own (checked by ``kb check``), which covers the
unsure rule's ``routine``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from miliacheck.engine.case import Case
from miliacheck.engine.rules import holds
from miliacheck.kb.load import Array, KnowledgeBase
from miliacheck.kb.schema import CARE_LEVELS, CareEntry, Condition

LEVEL_RANK = {level: i for i, level in enumerate(CARE_LEVELS)}


@dataclass(frozen=True)
class Reason:
    level: str
    service: str
    text: str
    source: str  # rule id or condition id
    points_to: str | None = None  # a condition the warning sign points to


def usual_care(cond: Condition, case: Case) -> CareEntry:
    """The condition's usual care for this case: the first entry whose ``when`` holds."""
    for entry in cond.care:
        if entry.when is None or holds(entry.when, case):
            return entry
    return cond.care[-1]


def is_must_not_miss(cond: Condition, case: Case) -> bool:
    mnm = cond.must_not_miss
    return mnm if isinstance(mnm, bool) else holds(mnm, case)


def act_threshold(kb: KnowledgeBase, cond: Condition, case: Case) -> float:
    if is_must_not_miss(cond, case):
        own = cond.act_threshold
        return own.p if own is not None else kb.manifest.thresholds.must_not_miss_act.p
    return kb.manifest.thresholds.differential.p


def floor_reasons(kb: KnowledgeBase, case: Case) -> list[Reason]:
    return [
        Reason(r.level, r.service, r.reason, r.id or "floor", r.points_to)
        for r in kb.triage.floors
        if holds(r.when, case)
    ]


def possible_floor_reasons(
    kb: KnowledgeBase, case: Case, current: str, unasked: frozenset[str] = frozenset()
) -> list[Reason]:
    """Floors of urgent or higher that one "don't know", or one red-flag screen question
    not yet answered (``unasked``, finding ids), stands between the case and, when the
    person confirmed the rest of the rule and the floor is one level above ``current``.

    Erring toward safety, the level goes up that one step and the reason says what was not
    known (blisters with a fever and feeling unwell, eczema not known: emergency, not
    urgent). A provisional result does not wait for the screen to reach an emergency: when
    the one piece of an emergency floor still unasked is all that stands between an urgent
    case and it (eczema, for a child with blisters, a fever and unwell; the case format has
    no eczema, so a case from elsewhere never says), the level is the emergency's. An
    unasked piece of an urgent floor waits for its question (asked next): crusts on a
    skin cancer are not sent today because eczema was not yet asked. A "don't know"
    with less of the rule confirmed, or a floor further away, only leads the advice with
    the rule's instruction (see assess._unsure), as the case format says: a distant rule
    on one unknown answer would send most people too far.
    """
    flagged = case.dont_know_findings | unasked
    if not flagged:
        return []
    out: list[Reason] = []
    for r in kb.triage.floors:
        rank = LEVEL_RANK[r.level]
        if rank < LEVEL_RANK["urgent"] or rank != LEVEL_RANK[current] + 1:
            continue
        if holds(r.when, case):
            continue
        f = case.findings
        missing = [x for x in r.when.findings_true if f.get(x) is not True]
        any_list = r.when.any_findings_true
        any_missing = bool(any_list) and not any(f.get(x) is True for x in any_list)
        unknown = [x for x in missing if x in flagged]
        if any_missing:
            unknown += [x for x in any_list if x in flagged][:1]
        confirmed = any(f.get(x) is True for x in (*r.when.findings_true, *any_list))
        if not confirmed or len(missing) + any_missing != 1 or len(unknown) != 1:
            continue
        dont_know = unknown[0] in case.dont_know_findings
        if not dont_know and r.level != "emergency":
            continue  # an unasked piece raises only to an emergency (see above)
        as_if = replace(case, findings={**f, unknown[0]: True})
        if holds(r.when, as_if):
            label = kb.findings.findings[unknown[0]].label.lower()
            status = "Not known" if dont_know else "Not asked yet"
            text = f"{status}: {label}. If it may be so: {r.reason}"
            out.append(Reason(r.level, r.service, text, r.id or "floor", r.points_to))
    return out


def differential_reasons(
    kb: KnowledgeBase, case: Case, blind_post: Array, post: Array
) -> list[Reason]:
    """Reasons from conditions likely enough (on the red-flag-blind posterior) to act on.

    Which conditions act is decided on the blind posterior, so a warning sign can only raise
    the level through its own floor (monotone). The words give the probability shown in the
    differential (``post``); a condition that acts only because the warning signs are left
    aside says so, rather than quoting a chance the list beside it contradicts."""
    out: list[Reason] = []
    ids = kb.model.ids
    for i, cid in enumerate(ids[:-1]):
        cond = kb.conditions[cid]
        p = float(blind_post[i])
        threshold = act_threshold(kb, cond, case)
        if p < threshold:
            continue
        care = usual_care(cond, case)
        q = float(post[i])
        if q >= threshold:
            verdict = "likely" if q >= 0.5 else "possible"
            text = f"{cond.name} is {verdict} ({likelihood_words(q)})."
        else:
            verdict = "likely" if p >= 0.5 else "possible"
            text = (
                f"Leaving the warning signs aside, {cond.name[0].lower() + cond.name[1:]} "
                f"would be {verdict} ({likelihood_words(p)})."
            )
        out.append(Reason(care.level, care.service, text, cid))
        for rule in cond.escalate:
            if holds(rule.when, case):
                out.append(Reason(rule.level, rule.service, rule.reason, cid))
    return out


def likelihood_words(p: float) -> str:
    """Plain words for a probability: 'about 8 in 10', 'about 1 in 20'."""
    if p >= 0.95:
        return "more than 9 in 10"
    if p >= 0.095:
        return f"about {round(p * 10)} in 10"
    if p >= 0.01:
        return f"about 1 in {min(100, max(10, round(1 / p / 5) * 5))}"
    return "less than 1 in 100"


def decide(reasons: list[Reason]) -> tuple[str, str]:
    """The highest level among the reasons and the service of the first reason at it."""
    if not reasons:
        return "self_care", "home"
    top = max(LEVEL_RANK[r.level] for r in reasons)
    first = next(r for r in reasons if LEVEL_RANK[r.level] == top)
    return first.level, first.service

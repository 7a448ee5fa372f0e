"""Care level: the floors, the differential's level and the unsure rule; the highest wins.

Monotone by construction: the floors only test findings that are true, and the
differential's level is computed on the posterior *without* red-flag findings, so
answering a red flag "yes" can only add reasons, never remove one. Every red flag has a
floor of at least ``routine`` on its own (checked by ``kb check``), which covers the
unsure rule's ``routine``.
"""

from __future__ import annotations

from dataclasses import dataclass

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
        Reason(r.level, r.service, r.reason, r.id or "floor")
        for r in kb.triage.floors
        if holds(r.when, case)
    ]


def differential_reasons(kb: KnowledgeBase, case: Case, blind_post: Array) -> list[Reason]:
    """Reasons from conditions likely enough (on the red-flag-blind posterior) to act on."""
    out: list[Reason] = []
    ids = kb.model.ids
    for i, cid in enumerate(ids[:-1]):
        cond = kb.conditions[cid]
        p = float(blind_post[i])
        if p < act_threshold(kb, cond, case):
            continue
        care = usual_care(cond, case)
        chance = likelihood_words(p)
        verdict = "likely" if p >= 0.5 else "possible"
        out.append(Reason(care.level, care.service, f"{cond.name} is {verdict} ({chance}).", cid))
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

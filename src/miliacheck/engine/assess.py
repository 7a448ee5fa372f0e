"""assess(kb, case) -> result: the one function every interface calls.

A pure function of the knowledge base and the case: no I/O, no clock, no randomness.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from miliacheck.engine.advice import advise
from miliacheck.engine.case import Case
from miliacheck.engine.evidence import evidence, log_prior, posterior_from, without_red_flags
from miliacheck.engine.explain import explain
from miliacheck.engine.questions import next_question, unscreened
from miliacheck.engine.rules import holds
from miliacheck.engine.triage import (
    LEVEL_RANK,
    Reason,
    decide,
    differential_reasons,
    floor_reasons,
    is_must_not_miss,
    likelihood_words,
    possible_floor_reasons,
    usual_care,
)
from miliacheck.kb.load import Array, KnowledgeBase

LISTED_FROM = 0.01
COULD_BE_RATIO = 0.5  # the second is at least half as likely as the first


def assess(kb: KnowledgeBase, case: Case) -> dict[str, Any]:
    """The result of case/v1 for ``case``."""
    lp = log_prior(kb, case)
    items = evidence(kb, case)
    post = posterior_from(lp, items)
    blind = posterior_from(lp, evidence(kb, without_red_flags(kb, case)))
    ids = kb.model.ids

    unsure, urgent_unknown = _unsure(kb, case, post, items)
    could_be = _could_be(kb, case, post)
    reasons = floor_reasons(kb, case) + differential_reasons(kb, case, blind, post)
    if unsure:
        reasons.append(
            Reason(
                "routine",
                "gp",
                "The checker is not sure what this is, so a doctor should look.",
                "unsure",
            )
        )
    pending = unscreened(kb, case)
    unasked = frozenset(p[len("findings.") :] for p in pending)
    reasons += possible_floor_reasons(kb, case, decide(reasons)[0], unasked)
    level, service = decide(reasons)
    if not reasons:
        reasons.append(
            Reason("self_care", "home", "Nothing points to a need to see a doctor now.", "none")
        )
    reasons.sort(key=lambda r: -LEVEL_RANK[r.level])

    listed = sorted(
        (i for i in range(len(ids) - 1) if post[i] >= LISTED_FROM), key=lambda i: -post[i]
    )
    # A warning sign that points to a condition below the list ("can be newborn herpes"
    # with herpes under 1 %): the differential does not explain it, so say so.
    for cid in dict.fromkeys(r.points_to for r in reasons if r.points_to in ids):
        if cid is not None and ids.index(cid) not in listed:
            unsure.append(
                f"{kb.conditions[cid].name} is not on the list, but a warning sign points to"
                " it, so it cannot be ruled out."
            )
    why = explain(lp, items, listed)
    conditions = []
    for i in listed:
        cond = kb.conditions[ids[i]]
        conditions.append(
            {
                "id": cond.id,
                "name": cond.name,
                "clinical_name": cond.clinical_name,
                "probability": round(float(post[i]), 4),
                "must_not_miss": is_must_not_miss(cond, case),
                "codes": [
                    {"system": c.system, "code": c.code, "display": c.display} for c in cond.codes
                ],
                "evidence_for": why[i][0],
                "evidence_against": why[i][1],
                "article": cond.article,
                "care_level": usual_care(cond, case).level,
                "likelihood_words": likelihood_words(float(post[i])),
            }
        )
    other = float(sum(post[i] for i in range(len(ids) - 1) if post[i] < LISTED_FROM))
    return {
        "conditions": conditions,
        "other_probability": round(other, 4),
        "not_listed_probability": round(float(post[-1]), 4),
        "triage": {
            "level": level,
            "service": service,
            "reasons": list(dict.fromkeys(r.text for r in reasons)),
            "screen_complete": not pending,
            "unscreened": pending,
            "provisional": bool(pending),
        },
        "unsure": {"value": bool(unsure), "reasons": unsure},
        "could_be": could_be,
        "advice": advise(kb, case, post, urgent_unknown),
        "understood": [],
        "conflicts": [],
        "next_question": next_question(kb, case, post),
        "kb_version": kb.version,
    }


def _unsure(
    kb: KnowledgeBase, case: Case, post: Array, items: list[Any]
) -> tuple[list[str], list[str]]:
    """Reasons the checker is unsure, and instructions for unanswered urgent red flags."""
    th = kb.manifest.thresholds
    ids = kb.model.ids
    reasons: list[str] = []
    if float(post[-1]) >= th.not_listed_unsure.p:
        reasons.append("None of the conditions the checker knows fits these answers well.")
    elif len(items) >= 3:
        total = sum(item.loglik for item in items)
        if float(total[:-1].max()) < float(total[-1]):
            reasons.append("The answers do not fit any one condition well.")
    nl = float(post[-1])
    order = sorted(range(len(ids) - 1), key=lambda i: -float(post[i]))
    held, cumulative = [], 0.0
    for i in order:
        held.append(i)
        cumulative += float(post[i])
        if cumulative >= th.mass_for_unsure.p * (1.0 - nl):
            break
    conds = [kb.conditions[ids[i]] for i in held]
    levels = {usual_care(c, case).level for c in conds}
    if len(levels) > 1:
        names = " or ".join(c.name for c in conds[:3])
        reasons.append(f"It could be {names}, which need different care.")
    mnm = [(i, c) for i, c in zip(held, conds, strict=True) if is_must_not_miss(c, case)]
    likely = [c.name for i, c in mnm if float(post[i]) >= 0.5]
    open_ = [c.name for i, c in mnm if float(post[i]) < 0.5]
    if likely:
        reasons.append(
            f"{', '.join(likely)} is likely, and must not be missed: a doctor should confirm it."
        )
    if open_:
        reasons.append(f"{', '.join(open_)} cannot be ruled out from the answers.")
    instructions: list[str] = []
    flagged = case.dont_know_findings
    if flagged:
        as_if = replace(case, findings={**case.findings, **dict.fromkeys(flagged, True)})
        for rule in kb.triage.floors:
            urgent = LEVEL_RANK[rule.level] >= LEVEL_RANK["urgent"]
            if urgent and not holds(rule.when, case) and holds(rule.when, as_if):
                reasons.append(f"An urgent warning sign was not known: {rule.reason}")
                if rule.instruction:
                    instructions.append(rule.instruction)
    return list(dict.fromkeys(reasons)), list(dict.fromkeys(instructions))


def _could_be(kb: KnowledgeBase, case: Case, post: Array) -> list[str]:
    """Two benign conditions of the same care level, nearly tied: shown, not escalated."""
    ids = kb.model.ids
    order = sorted(range(len(ids) - 1), key=lambda i: -float(post[i]))
    a, b = (kb.conditions[ids[i]] for i in order[:2])
    pa, pb = float(post[order[0]]), float(post[order[1]])
    if pb < COULD_BE_RATIO * pa or pb < 0.2:
        return []
    if is_must_not_miss(a, case) or is_must_not_miss(b, case):
        return []
    if usual_care(a, case).level != usual_care(b, case).level:
        return []
    return [a.id, b.id]

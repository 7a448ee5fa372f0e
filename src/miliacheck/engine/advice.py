"""Personalised next steps: the likely conditions' own lists plus the case's rules.

Order: what to do now for an unanswered urgent red flag first, then the case's rules
(eyelids, babies, pregnancy), then each likely condition's items, most likely first;
always with a time-bound safety net.
"""

from __future__ import annotations

from typing import Any

from miliacheck.engine.case import Case
from miliacheck.engine.rules import holds
from miliacheck.kb.load import Array, KnowledgeBase

ADVICE_FROM = 0.1  # a condition at least this likely contributes its own advice
MAX_CONDITIONS = 3


def advise(kb: KnowledgeBase, case: Case, post: Array, urgent_unknown: list[str]) -> dict[str, Any]:
    do: list[str] = list(urgent_unknown)
    avoid: list[str] = [i.text for i in kb.advice.always.avoid]
    see: list[str] = []
    do += [i.text for i in kb.advice.always.do]
    for rule in kb.advice.rules:
        if holds(rule.when, case):
            do += [i.text for i in rule.do]
            avoid += [i.text for i in rule.avoid]
    ids = kb.model.ids
    order = sorted(range(len(ids) - 1), key=lambda i: -float(post[i]))
    for i in order[:MAX_CONDITIONS]:
        if float(post[i]) < ADVICE_FROM:
            break
        adv = kb.conditions[ids[i]].advice
        do += [x.text for x in adv.do]
        avoid += [x.text for x in adv.avoid]
        see += [x.text for x in adv.see_a_doctor_if]
    net = next(n.text for n in kb.advice.safety_net if holds(n.when, case))
    return {
        "do": _unique(do),
        "avoid": _unique(avoid),
        "see_a_doctor_if": _unique(see),
        "safety_net": net,
    }


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))

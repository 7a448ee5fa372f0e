"""Merge what the words say into a case, by the case format's rules.

Structured answers win, except that a red flag the words state as present always
counts (and is listed as a conflict to confirm). The words fill what the structured
part leaves unknown or lists in ``dont_know``. Hedged and past-only mentions change
nothing, so they are still asked; so does a warning sign the words deny (it is shown,
and asked all the same). If the words give a younger age than ``age_years`` (a parent
typing their own age), the younger age is used until it is resolved, even when it is only
"my newborn" or "my baby" without a number.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from miliacheck.engine.case import Case
from miliacheck.kb.load import KnowledgeBase
from miliacheck.text.reader import CERTAIN, Understood, read

AGE_TOLERANCE = 0.1  # years: a parent's "about 5 weeks" vs 0.1 is not a conflict


def with_narrative(
    kb: KnowledgeBase, case: Case, ignore: frozenset[str] = frozenset()
) -> tuple[Case, list[dict[str, Any]], list[dict[str, Any]]]:
    """The case with the narrative merged in, what was understood, and the conflicts.

    ``ignore`` holds what the person said was misread: a path (``findings.itchy``,
    ``colour``) or a location (``locations:cheeks``); those readings are not used.
    """
    if not case.narrative:
        return case, [], []
    items = [u for u in read(kb, case.narrative) if key(u) not in ignore]
    findings = dict(case.findings)
    dont_know = set(case.dont_know)
    values: dict[str, Any] = {}
    conflicts: list[dict[str, Any]] = []
    used: set[int] = set()
    red_flags = {f for f, spec in kb.findings.findings.items() if spec.red_flag}

    def fill(i: int, path: str, value: Any) -> None:
        used.add(i)
        dont_know.discard(path)
        values[path] = value

    locations = [
        (i, u) for i, u in enumerate(items) if u.field == "locations" and u.certainty == CERTAIN
    ]
    open_sites = case.locations is None or "locations" in dont_know
    if locations and open_sites:
        fill(-1, "locations", tuple(dict.fromkeys(u.value for _, u in locations)))
        used.update(i for i, _ in locations)
    # "on my face": a region, when the structured part gives no sites (they win)
    regions = [
        (i, u) for i, u in enumerate(items) if u.field == "region" and u.certainty == CERTAIN
    ]
    if regions and open_sites:
        values["regions"] = tuple(dict.fromkeys(u.value for _, u in regions))
        values["region_sites"] = tuple(kb.questions.regions[r].sites for r in values["regions"])
        used.update(i for i, _ in regions)
    seen: set[str] = set()
    childs = any(u.field == "whose" and u.value == "child" for u in items)
    for i, u in enumerate(items):
        if u.field == "age_years" and u.certainty != CERTAIN and childs:
            # "my newborn", "my baby" with no number: if it is younger than the age given,
            # a parent probably typed their own; the younger age counts until confirmed.
            pass
        elif u.certainty != CERTAIN or u.field in ("locations", "region", "whose"):
            continue
        if u.field.startswith("findings."):
            fid = u.field[9:]
            known = case.findings.get(fid)
            if fid in red_flags and u.value is True and known is not True:
                findings[fid] = True
                used.add(i)
                dont_know.discard(u.field)
                if known is False or u.field in case.dont_know:
                    conflicts.append(
                        {
                            "field": u.field,
                            "structured": known,
                            "words": True,
                            "resolution": "a warning sign in the words counts until confirmed",
                        }
                    )
                seen.add(u.field)
            elif fid in red_flags and u.value is False:
                # A warning sign the words deny is shown but still asked: a misread
                # negation ("not feeding well, fever") must not close the screen.
                continue
            elif known is None and u.field not in seen:
                findings[fid] = u.value
                used.add(i)
                dont_know.discard(u.field)
                seen.add(u.field)
            continue
        if u.field in seen:
            continue
        if u.field == "age_years":
            if u.certainty != CERTAIN and u.value >= case.age_years:
                continue  # an unsure age only ever makes the case younger
            seen.add(u.field)
            if abs(u.value - case.age_years) > max(AGE_TOLERANCE, 0.1 * case.age_years):
                younger = min(u.value, case.age_years)
                conflicts.append(
                    {
                        "field": "age_years",
                        "structured": case.age_years,
                        "words": u.value,
                        "resolution": f"the younger age ({younger:g} years) counts until confirmed",
                    }
                )
                if u.value < case.age_years:
                    fill(i, "age_years", u.value)
            continue
        if u.field == "duration_days" and u.value == "since_birth":
            value: Any = round(case.age_years * 365.25, 1)
        else:
            value = u.value
        seen.add(u.field)
        if getattr(case, u.field) is None or u.field in case.dont_know:
            fill(i, u.field, value)
    if "duration_days" in values and "age_years" in values:
        values["duration_days"] = min(values["duration_days"], values["age_years"] * 366)
    merged = replace(case, findings=findings, dont_know=frozenset(dont_know), **values)
    if merged.duration_days is not None and merged.duration_days > merged.age_years * 366 + 2:
        merged = replace(merged, duration_days=round(merged.age_years * 365.25, 1))
    understood = [{**u.json(), "used": i in used} for i, u in enumerate(items)]
    return merged, understood, conflicts


def key(u: Understood | dict[str, Any]) -> str:
    """How a reading is named when the person corrects it."""
    field, value = (u.field, u.value) if isinstance(u, Understood) else (u["field"], u["value"])
    return f"{field}:{value}" if field in ("locations", "region") else str(field)


__all__ = ["Understood", "key", "with_narrative"]

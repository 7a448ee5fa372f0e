"""Evaluate a knowledge base's ``when`` conditions against a case."""

from __future__ import annotations

from miliacheck.engine.case import DAYS_PER_YEAR, Case
from miliacheck.kb.schema import When


def holds(when: When, case: Case) -> bool:
    """True when every key of ``when`` holds for ``case``. Unknown findings never hold."""
    f = case.findings
    if when.findings_true and not all(f.get(x) is True for x in when.findings_true):
        return False
    if when.any_findings_true and not any(f.get(x) is True for x in when.any_findings_true):
        return False
    if when.locations_any and not _at_any(case, when.locations_any):
        return False
    if when.age_lt is not None and not case.age_years < when.age_lt:
        return False
    if when.age_gte is not None and not case.age_years >= when.age_gte:
        return False
    if when.count_in and case.count not in when.count_in:
        return False
    if when.began_from_day is not None and not may_have_begun_from(case, when.began_from_day):
        return False
    if when.not_only_locations and _only_at(case, when.not_only_locations):
        return False
    if when.duration_gte is not None and not (
        case.duration_days is not None and case.duration_days >= when.duration_gte
    ):
        return False
    return not (when.sex is not None and case.sex != when.sex)


def may_have_begun_from(case: Case, day: float) -> bool:
    """True when the bumps began on ``day`` of life or later, or may have: the person is
    at least that old and the duration is unknown (unknown counts as possibly late)."""
    if case.age_years * DAYS_PER_YEAR < day:
        return False
    began = case.began_on_day()
    return began is None or began >= day


def _at_any(case: Case, sites: tuple[str, ...]) -> bool:
    """True when the bumps are known to be at one of ``sites``: a named site, or a region
    read from the words ("around the mouth") all of whose sites are among them."""
    if case.locations is not None and any(loc in sites for loc in case.locations):
        return True
    return any(all(loc in sites for loc in region) for region in case.region_sites)


def _only_at(case: Case, sites: tuple[str, ...]) -> bool:
    """True when the places are known and every one is among ``sites``."""
    return case.locations is not None and all(loc in sites for loc in case.locations)

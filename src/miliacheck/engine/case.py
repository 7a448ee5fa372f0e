"""The case (case/v1): strict parsing into a frozen :class:`Case`, and back to JSON.

Strict means: an unknown key at any level, an unknown id, a value of the wrong type
(no ``1`` for ``true``, no ``"3"`` for ``3``), a value out of range, an empty
``locations`` list, a ``null``, or a path both set and in ``dont_know`` is refused
with a :class:`~miliacheck.errors.CaseError` naming the field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from miliacheck.errors import CaseError, FieldError
from miliacheck.kb.load import KnowledgeBase
from miliacheck.kb.schema import COLOURS, COUNTS, SEXES

TOP_LEVEL = (
    "age_years",
    "sex",
    "narrative",
    "locations",
    "duration_days",
    "count",
    "size_mm",
    "colour",
    "findings",
    "dont_know",
)
#: Top-level paths that may stand in ``dont_know``.
DONT_KNOW_FIELDS = ("sex", "locations", "duration_days", "count", "size_mm", "colour")
MAX_NARRATIVE = 5000
MAX_AGE = 120.0
DAYS_PER_YEAR = 365.25
MAX_SIZE_MM = 500.0


@dataclass(frozen=True)
class Case:
    """A validated case. ``None`` is unknown; ``findings`` holds only known findings."""

    age_years: float
    sex: str | None = None
    narrative: str | None = None
    locations: tuple[str, ...] | None = None
    duration_days: float | None = None
    count: str | None = None
    size_mm: float | None = None
    colour: str | None = None
    findings: Mapping[str, bool] = field(default_factory=dict)
    dont_know: frozenset[str] = frozenset()
    # Read from the words only (not case/v1): parts of the body named without the site
    # ("on my face"); the bumps are on at least one site of each, which ones is unknown.
    regions: tuple[str, ...] = ()
    # each region's sites, in the order of ``regions``
    region_sites: tuple[tuple[str, ...], ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The case as case/v1 JSON (unknowns left out)."""
        out: dict[str, Any] = {"age_years": self.age_years}
        for key in ("sex", "narrative", "duration_days", "count", "size_mm", "colour"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.locations is not None:
            out["locations"] = list(self.locations)
        if self.findings:
            out["findings"] = dict(self.findings)
        if self.dont_know:
            out["dont_know"] = sorted(self.dont_know)
        return out

    def known(self, path: str) -> bool:
        """Whether ``path`` (``findings.x`` or a top-level field) has a value."""
        if path.startswith("findings."):
            return path[9:] in self.findings
        return getattr(self, path, None) is not None

    @property
    def dont_know_findings(self) -> frozenset[str]:
        """The findings answered "don't know" (ids, without the ``findings.`` prefix)."""
        return frozenset(p[9:] for p in self.dont_know if p.startswith("findings."))

    def began_on_day(self) -> float | None:
        """The day of life the bumps began on (age minus duration), or None when the
        duration is unknown."""
        if self.duration_days is None:
            return None
        return max(0.0, self.age_years * DAYS_PER_YEAR - self.duration_days)

    def answered(self, path: str) -> bool:
        """Known, or declared unknowable in ``dont_know``: either way, never asked again."""
        return path in self.dont_know or self.known(path)


def _is_number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def parse_case(kb: KnowledgeBase, obj: object) -> Case:
    """Validate ``obj`` (decoded JSON) as a case; raise CaseError listing every problem."""
    errors: list[FieldError] = []

    def err(path: str | None, message: str) -> None:
        errors.append({"field": path, "message": message})

    if not isinstance(obj, dict):
        raise CaseError([{"field": None, "message": "the case must be a JSON object"}])
    for key in obj:
        if key not in TOP_LEVEL:
            err(str(key), "unknown field")
    values: dict[str, Any] = {}
    for key, v in obj.items():
        if v is None and key in TOP_LEVEL:
            err(key, "null is not allowed: leave the field out if it is unknown")
    age = obj.get("age_years")
    if "age_years" not in obj:
        err("age_years", "required")
    elif age is not None and (not _is_number(age) or not 0 <= age <= MAX_AGE):
        err("age_years", f"must be a number from 0 to {MAX_AGE:g} (a baby's age is days / 365)")
    else:
        values["age_years"] = float(age) if age is not None else 0.0
    for key, allowed in (("sex", SEXES), ("count", COUNTS), ("colour", COLOURS)):
        choice = obj.get(key)
        if choice is not None:
            if choice not in allowed:
                err(key, f"must be one of {', '.join(allowed)}")
            else:
                values[key] = choice
    narrative = obj.get("narrative")
    if narrative is not None:
        if not isinstance(narrative, str):
            err("narrative", "must be a string")
        elif len(narrative) > MAX_NARRATIVE:
            err("narrative", f"at most {MAX_NARRATIVE} characters")
        else:
            values["narrative"] = narrative
    locations = obj.get("locations")
    location_ids = kb.questions.locations["labels"]
    if locations is not None:
        if not isinstance(locations, list):
            err("locations", "must be a list of location ids")
        elif not locations:
            err("locations", "must not be empty: leave it out if unknown")
        else:
            seen: set[str] = set()
            for i, loc in enumerate(locations):
                if not isinstance(loc, str):  # not echoed: a deep list has no repr
                    err(f"locations[{i}]", "must be a location id (text)")
                elif loc not in location_ids:
                    err(f"locations[{i}]", f"unknown location {loc!r}")
                elif loc in seen:
                    err(f"locations[{i}]", f"{loc!r} is listed twice")
                else:
                    seen.add(loc)
            values["locations"] = tuple(loc for loc in locations if isinstance(loc, str))
    duration = obj.get("duration_days")
    if duration is not None:
        if not _is_number(duration) or duration < 0:
            err("duration_days", "must be a number of days, 0 or more")
        elif "age_years" in values and duration > values["age_years"] * 366 + 2:
            err("duration_days", "is longer than the person has been alive")
        else:
            values["duration_days"] = float(duration)
    size = obj.get("size_mm")
    if size is not None:
        if not _is_number(size) or not 0 < size <= MAX_SIZE_MM:
            err("size_mm", f"must be a number of millimetres above 0, at most {MAX_SIZE_MM:g}")
        else:
            values["size_mm"] = float(size)
    findings_in = obj.get("findings")
    findings: dict[str, bool] = {}
    if findings_in is not None:
        if not isinstance(findings_in, dict):
            err("findings", "must be an object of finding id -> true or false")
        else:
            for fid, v in findings_in.items():
                if fid not in kb.findings.findings:
                    err(f"findings.{fid}", "unknown finding")
                elif not isinstance(v, bool):
                    err(f"findings.{fid}", "must be true or false")
                else:
                    findings[fid] = v
    dont_know_in = obj.get("dont_know")
    dont_know: set[str] = set()
    if dont_know_in is not None:
        if not isinstance(dont_know_in, list):
            err("dont_know", "must be a list of field paths")
        else:
            for i, path in enumerate(dont_know_in):
                if not isinstance(path, str):
                    err(f"dont_know[{i}]", "must be a field path such as findings.itchy")
                elif path in dont_know:
                    err(f"dont_know[{i}]", f"{path!r} is listed twice")
                elif path.startswith("findings."):
                    if path[9:] not in kb.findings.findings:
                        err(f"dont_know[{i}]", f"unknown finding {path[9:]!r}")
                    elif path[9:] in findings:
                        err(path, "is both answered and in dont_know")
                    else:
                        dont_know.add(path)
                elif path in DONT_KNOW_FIELDS:
                    if obj.get(path) is not None:
                        err(path, "is both answered and in dont_know")
                    else:
                        dont_know.add(path)
                else:
                    err(f"dont_know[{i}]", f"unknown field path {path!r}")
    if errors:
        raise CaseError(errors)
    return Case(
        age_years=values["age_years"],
        sex=values.get("sex"),
        narrative=values.get("narrative"),
        locations=values.get("locations"),
        duration_days=values.get("duration_days"),
        count=values.get("count"),
        size_mm=values.get("size_mm"),
        colour=values.get("colour"),
        findings=findings,
        dont_know=frozenset(dont_know),
    )

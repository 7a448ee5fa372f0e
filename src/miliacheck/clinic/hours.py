"""The clinic's opening hours: parsed once from settings, asked "open now?"."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_PART = re.compile(
    r"^\s*(?P<d1>[a-z]{3})(?:\s*-\s*(?P<d2>[a-z]{3}))?\s+"
    r"(?P<h1>\d{1,2}):(?P<m1>\d{2})\s*-\s*(?P<h2>\d{1,2}):(?P<m2>\d{2})\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Hours:
    text: str
    zone: ZoneInfo
    spans: dict[int, list[tuple[time, time]]]  # weekday -> [(open, close)]

    def open_at(self, at: datetime) -> bool:
        local = at.astimezone(self.zone)
        now = local.time()
        return any(a <= now < b for a, b in self.spans.get(local.weekday(), []))


def parse_hours(text: str, timezone: str) -> Hours:
    """``"Mon-Fri 09:00-17:00; Sat 09:00-12:00"`` in ``timezone``; ValueError names the part."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {timezone!r}") from None
    spans: dict[int, list[tuple[time, time]]] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        m = _PART.match(part)
        if m is None:
            raise ValueError(f"cannot read {part!r}: write e.g. 'Mon-Fri 09:00-17:00'")
        d1, d2 = m["d1"].lower(), (m["d2"] or m["d1"]).lower()
        if d1 not in DAYS or d2 not in DAYS:
            raise ValueError(f"unknown day in {part!r}: use Mon, Tue, Wed, Thu, Fri, Sat, Sun")
        try:
            start = time(int(m["h1"]), int(m["m1"]))
            end = time(int(m["h2"]), int(m["m2"]))
        except ValueError:
            raise ValueError(f"impossible time in {part!r}") from None
        if end <= start:
            raise ValueError(f"closing time before opening time in {part!r}")
        i, j = DAYS.index(d1), DAYS.index(d2)
        for day in range(i, j + 1) if i <= j else [*range(i, 7), *range(0, j + 1)]:
            spans.setdefault(day, []).append((start, end))
    return Hours(text=text, zone=zone, spans=spans)

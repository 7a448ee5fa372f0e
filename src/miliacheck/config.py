"""Typed settings, read from the environment (prefix ``MILIACHECK_``), failing closed.

Every setting has its help text here; ``docs/settings.md`` lists them and a test keeps
the two in step.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path

import limits

from miliacheck.clinic.hours import parse_hours

HELP = {
    "host": "Address the server listens on (default 127.0.0.1: this machine only).",
    "port": "Port the server listens on (default 8000).",
    "knowledge_dir": (
        "A knowledge base folder to load instead of the packaged one (to try a changed KB)."
    ),
    "database_url": (
        "Where interviews and feedback are stored: a SQLite file by default, or a PostgreSQL "
        "URL (read from DATABASE_URL)."
    ),
    "retention_days": "Anonymous interviews older than this are erased by `miliacheck purge`.",
    "clinic_name": "The clinic that receives consultation requests.",
    "clinic_address": "The clinic's address, shown to people who ask for a consultation.",
    "clinic_phone": "The clinic's phone number, shown before the form of an urgent result.",
    "clinic_booking_url": "Where people book an appointment online (empty: no link).",
    "clinic_hours": "Opening hours, e.g. 'Mon-Fri 09:00-17:00; Sat 09:00-12:00'.",
    "clinic_timezone": "The time zone of the opening hours (IANA name).",
    "clinic_response_days": "Working days within which the clinic promises to contact people.",
    "clinic_email": "Where a new urgent request is announced (a link only; empty: no email).",
    "public_url": "The app's public address, used in the link emailed to the clinic.",
    "smtp_host": "The mail server for the clinic's email (empty: no email is sent).",
    "smtp_port": "The mail server's port.",
    "smtp_from": "The sender address of the clinic's email.",
    "session_hours": "How long a clinician's login lasts.",
    "rate_limit": "API requests allowed per client address, e.g. '600/minute' (per worker).",
    "rate_limit_exempt": "Client addresses the rate limit skips, comma-separated (benchmarks).",
}


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    knowledge_dir: Path | None = None
    database_url: str = "sqlite:///miliacheck.db"
    retention_days: int = 90
    clinic_name: str = "Example Skin Clinic"
    clinic_address: str = "1 Example Street, Exampletown EX1 1AA"
    clinic_phone: str = "020 7946 0000"
    clinic_booking_url: str = ""
    clinic_hours: str = "Mon-Fri 09:00-17:00"
    clinic_timezone: str = "Europe/London"
    clinic_response_days: int = 2
    clinic_email: str = ""
    public_url: str = "http://127.0.0.1:8000"
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_from: str = "miliacheck@localhost"
    session_hours: int = 8
    rate_limit: str = "600/minute"
    rate_limit_exempt: str = ""

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        values: dict[str, object] = {}
        if env.get("DATABASE_URL"):
            values["database_url"] = env["DATABASE_URL"]
        for f in fields(cls):
            name = f"MILIACHECK_{f.name.upper()}"
            raw = env.get(name)
            if raw is None:
                continue
            if f.name == "knowledge_dir":
                values[f.name] = Path(raw)
            elif f.type in ("int", int):
                values[f.name] = _whole(name, raw, f.name)
            else:
                values[f.name] = raw
        settings = cls(**values)  # type: ignore[arg-type]
        settings.check()
        return settings

    def check(self) -> None:
        """Refuse settings that cannot work, naming the variable."""
        try:
            limits.parse(self.rate_limit)
        except ValueError:
            raise ValueError(
                f"MILIACHECK_RATE_LIMIT must be like '600/minute', not {self.rate_limit!r}"
            ) from None
        try:
            parse_hours(self.clinic_hours, self.clinic_timezone)
        except ValueError as exc:
            raise ValueError(
                f"MILIACHECK_CLINIC_HOURS / MILIACHECK_CLINIC_TIMEZONE: {exc}"
            ) from None


def _whole(name: str, raw: str, field: str) -> int:
    if not raw.isdigit():
        raise ValueError(f"{name} must be a whole number, not {raw!r}")
    value = int(raw)
    if field == "port" and not 0 < value < 65536:
        raise ValueError(f"{name} must be a port number, not {raw!r}")
    if field in ("retention_days", "session_hours", "smtp_port") and value < 1:
        raise ValueError(f"{name} must be 1 or more, not {raw!r}")
    return value

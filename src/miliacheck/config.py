"""Typed settings, read from the environment (prefix ``MILIACHECK_``), failing closed.

Every setting has its help text here; ``docs/settings.md`` lists them and a test keeps
the two in step.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path

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
}


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    knowledge_dir: Path | None = None
    database_url: str = "sqlite:///miliacheck.db"
    retention_days: int = 90

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        values: dict[str, object] = {}
        if env.get("DATABASE_URL"):
            values["database_url"] = env["DATABASE_URL"]
        for f in fields(cls):
            raw = env.get(f"MILIACHECK_{f.name.upper()}")
            if raw is None:
                continue
            if f.name == "port":
                if not raw.isdigit() or not 0 < int(raw) < 65536:
                    raise ValueError(f"MILIACHECK_PORT must be a port number, not {raw!r}")
                values["port"] = int(raw)
            elif f.name == "knowledge_dir":
                values["knowledge_dir"] = Path(raw)
            elif f.name == "retention_days":
                if not raw.isdigit() or int(raw) < 1:
                    raise ValueError(
                        f"MILIACHECK_RETENTION_DAYS must be a whole number of days, not {raw!r}"
                    )
                values["retention_days"] = int(raw)
            else:
                values[f.name] = raw
        return cls(**values)  # type: ignore[arg-type]

"""Structured logs: one JSON object a line, without personal data.

The app never logs request bodies, and logs exceptions by type and code location only
(see miliacheck.web.security). This formatter adds no traceback either: a traceback's
last line repeats the exception's message, which can hold what a person typed.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and record.exc_info[0] is not None:
            entry["exception"] = record.exc_info[0].__name__  # the type only, never the text
        return json.dumps(entry, ensure_ascii=False)


def config(level: str = "info", access_log: bool = False) -> dict[str, Any]:
    """A logging dictConfig for uvicorn and the app: JSON lines on standard error."""
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    loggers = {
        name: {"handlers": ["default"], "level": level.upper(), "propagate": False}
        for name in ("uvicorn", "uvicorn.error", "miliacheck")
    }
    loggers["uvicorn.access"] = {
        "handlers": ["default"] if access_log else [],
        "level": "INFO" if access_log else "CRITICAL",
        "propagate": False,
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"default": handler},
        "loggers": loggers,
    }

"""Shared fixtures: the shipped knowledge base (loaded once) and a tiny one for hand checks."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete

from miliacheck.kb.load import KnowledgeBase, load_kb, read_kb
from miliacheck.store import Store
from miliacheck.store.tables import (
    AuditRow,
    ClinicianRow,
    ConsultationRow,
    FeedbackRow,
    InterviewRow,
    LoginFailureRow,
)

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
DEV_VIGNETTES = ROOT.parent / "shared" / "vignettes" / "dev.jsonl"
PROJECT_VIGNETTES = DATA / "vignettes" / "project.jsonl"
HELDOUT_VIGNETTES = DATA / "vignettes" / "heldout.jsonl"
LITERATURE_VIGNETTES = DATA / "vignettes" / "literature.jsonl"


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return load_kb()


@pytest.fixture(scope="session")
def tiny_kb() -> KnowledgeBase:
    return read_kb(DATA / "tiny_kb")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


# Apps built from the environment in tests let the test client through the API's rate
# limit (a fuzz run sends thousands of requests); tests of the limiter set their own.
os.environ.setdefault("MILIACHECK_RATE_LIMIT_EXEMPT", "testclient")

#: Set to a PostgreSQL URL to run the storage tests on PostgreSQL (`.ci/run` does).
TEST_DATABASE_URL = os.environ.get("MILIACHECK_TEST_DATABASE_URL")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A throwaway database: a new SQLite file, or the test PostgreSQL emptied."""
    db = Store(TEST_DATABASE_URL or f"sqlite:///{tmp_path / 'test.db'}")
    db.migrate()
    if TEST_DATABASE_URL:
        with db.session() as s:
            for table in (
                AuditRow,
                ConsultationRow,  # photos go with them (ON DELETE CASCADE)
                ClinicianRow,  # sessions go with them
                LoginFailureRow,
                FeedbackRow,
                InterviewRow,
            ):
                s.execute(delete(table))
    yield db
    db.dispose()


class FormClient(TestClient):
    """A test client that fills in the CSRF token of the pages' forms, as a browser does.

    ``post(..., csrf=False)`` sends a form without it (to test the protection).
    """

    def csrf(self) -> str:
        if "mc_csrf" not in self.cookies:
            self.get("/about")
        return str(self.cookies["mc_csrf"])

    def post(self, url: Any, *args: Any, csrf: bool = True, **kwargs: Any) -> Any:  # type: ignore[override]
        if csrf and not str(url).startswith("/api/") and "json" not in kwargs:
            kwargs["data"] = {**(kwargs.get("data") or {}), "csrf_token": self.csrf()}
        return super().post(url, *args, **kwargs)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(app: Any, **config: Any) -> Iterator[str]:
    """``app`` on a real uvicorn server in a thread; yields its base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, **config))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)

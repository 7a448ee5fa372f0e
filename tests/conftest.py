"""Shared fixtures: the shipped knowledge base (loaded once) and a tiny one for hand checks."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete

from miliacheck.kb.load import KnowledgeBase, load_kb, read_kb
from miliacheck.store import Store
from miliacheck.store.tables import FeedbackRow, InterviewRow

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
DEV_VIGNETTES = ROOT.parent / "shared" / "vignettes" / "dev.jsonl"
PROJECT_VIGNETTES = DATA / "vignettes" / "project.jsonl"


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


#: Set to a PostgreSQL URL to run the storage tests on PostgreSQL (`.ci/run` does).
TEST_DATABASE_URL = os.environ.get("MILIACHECK_TEST_DATABASE_URL")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A throwaway database: a new SQLite file, or the test PostgreSQL emptied."""
    db = Store(TEST_DATABASE_URL or f"sqlite:///{tmp_path / 'test.db'}")
    db.migrate()
    if TEST_DATABASE_URL:
        with db.session() as s:
            s.execute(delete(FeedbackRow))
            s.execute(delete(InterviewRow))
    yield db
    db.dispose()

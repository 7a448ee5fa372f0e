"""Shared fixtures: the shipped knowledge base (loaded once) and a tiny one for hand checks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from miliacheck.kb.load import KnowledgeBase, load_kb, read_kb

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

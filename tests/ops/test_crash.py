"""kill -9 the server while it writes under load; restart; nothing acknowledged is lost.

A short run of ``tools/crash.py`` (``make crash`` runs 10 kills per database): a fresh
SQLite file, and a fresh schema of ``MILIACHECK_TEST_DATABASE_URL`` when it is set.
The checks themselves are tested first: they find a lost write and a half-written row.
"""

from __future__ import annotations

import base64
import json
import random
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from miliacheck.api import create_app
from miliacheck.kb.load import KnowledgeBase
from miliacheck.store import Store
from tests.conftest import TEST_DATABASE_URL

TOOLS = Path(__file__).resolve().parents[2] / "tools"
sys.path.insert(0, str(TOOLS))

from crash import crash_run  # noqa: E402
from load import Journal, fresh_database, make_jpeg, verify  # noqa: E402


def _acknowledge(client: TestClient, journal: Journal, photos: int) -> tuple[str, str]:
    """One interview with two answers and a request with ``photos`` photos, journaled."""
    body = client.post(
        "/api/v1/interviews",
        json={"case": {"age_years": 34, "sex": "female", "locations": ["cheeks"]}},
    ).json()
    iid, n = body["id"], 0
    for _ in range(2):
        q = body["question"]
        body = client.post(
            f"/api/v1/interviews/{iid}/answers", json={"question_id": q["id"], "answer": None}
        ).json()
        n += 1
    level = body["result"]["triage"]["level"]
    journal.write({"kind": "interview", "id": iid, "answers": n, "level": level, "done": False})
    rng = random.Random(5)
    made = client.post(
        "/api/v1/consultations",
        json={
            "interview_id": iid,
            "email": "a@example.org",
            "consent": True,
            "photos": [base64.b64encode(make_jpeg(rng)).decode() for _ in range(photos)],
        },
    ).json()
    journal.write(
        {
            "kind": "consultation",
            "id": made["id"],
            "key": made["key"],
            "photos": made["photos"],
            "interview_id": iid,
            "level": made["level"],
        }
    )
    return iid, made["id"]


def test_the_checks_find_lost_writes_and_half_written_rows(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    with fresh_database(TEST_DATABASE_URL, tmp_path) as url:
        store = Store(url)
        store.migrate()
        client = TestClient(create_app(kb=kb, store=store))
        journal = Journal(tmp_path / "journal.jsonl")
        iid, cid = _acknowledge(client, journal, photos=2)
        other, _ = _acknowledge(client, journal, photos=1)
        assert verify(kb, url, journal.path)["problems"] == 0

        # A write acknowledged but not stored is lost.
        journal.write({"kind": "interview", "id": "x" * 24, "answers": 0, "level": "routine"})
        journal.write(
            {"kind": "consultation", "id": "y", "key": "z", "photos": 0, "interview_id": iid}
        )
        # Half-written: an answer without the case written from it, a request without
        # one of its photos, a photo cut short.
        with store.engine.begin() as c:
            c.execute(
                text("UPDATE interviews SET answers = :a WHERE id = :id"),
                {"a": json.dumps([]), "id": other},
            )
            c.execute(text("DELETE FROM photos WHERE consultation_id = :id AND n = 1"), {"id": cid})
            data = c.execute(
                text("SELECT data FROM photos WHERE consultation_id = :id"), {"id": cid}
            ).scalar_one()
            c.execute(
                text("UPDATE photos SET data = :d WHERE consultation_id = :id"),
                {"d": bytes(data)[: len(data) // 2], "id": cid},
            )
        journal.close()
        check = verify(kb, url, journal.path)
        store.dispose()
    found = "\n".join(check["problem_list"])
    assert check["lost"] == 3, found
    assert "LOST interview " + "x" * 24 in found
    assert "LOST consultation y" in found
    assert f"LOST answers of {other}: 2 acknowledged, 0 stored" in found
    assert f"interview {other}: the stored case is not its start with its answers" in found
    assert f"consultation {cid}: photos numbered [2]" in found
    assert f"consultation {cid}: 2 photos acknowledged, 1 stored" in found
    assert f"consultation {cid}: photo 2 is not a whole JPEG" in found


@pytest.mark.parametrize(
    "postgres",
    [
        pytest.param(False, id="sqlite"),
        pytest.param(
            True,
            id="postgresql",
            marks=pytest.mark.skipif(
                not TEST_DATABASE_URL, reason="MILIACHECK_TEST_DATABASE_URL is not set"
            ),
        ),
    ],
)
def test_kill_9_under_load_loses_nothing_acknowledged(
    kb: KnowledgeBase, tmp_path: Path, postgres: bool
) -> None:
    summary = crash_run(
        kb, tmp_path, TEST_DATABASE_URL if postgres else None, kills=2, load_seconds=(1.0, 3.0)
    )
    assert summary["kills"] == 2
    assert summary["problems"] == 0, summary["problem_list"]
    assert summary["errors_before_kills"] == 0
    assert all(n > 0 for n in summary["writes_in_flight_at_kills"])
    assert summary["interviews_acknowledged"] > 0 and summary["answers_acknowledged"] > 0

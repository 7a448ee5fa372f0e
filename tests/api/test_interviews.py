"""Stored interviews over the JSON API: start, answer, replace, undo, read, erase."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from miliacheck.api import create_app
from miliacheck.kb.load import KnowledgeBase
from miliacheck.store import Store


@pytest.fixture
def client(kb: KnowledgeBase, store: Store) -> TestClient:
    return TestClient(create_app(kb=kb, store=store), raise_server_exceptions=False)


def start(client: TestClient, case: dict[str, Any] | None = None) -> dict[str, Any]:
    r = client.post("/api/v1/interviews", json={"case": case or {"age_years": 34, "sex": "female"}})
    assert r.status_code == 201, r.text
    return r.json()


def test_starting_an_interview_answers_201_with_the_first_question(client: TestClient) -> None:
    body = start(client)
    assert set(body) == {"id", "done", "question", "result"}
    assert len(body["id"]) >= 22
    assert body["done"] is False
    assert body["question"] == body["result"]["next_question"]
    assert body["result"]["kb_version"]


def test_the_whole_interview_runs_to_a_result_and_reads_back(client: TestClient) -> None:
    body = start(client)
    iid = body["id"]
    for _ in range(40):
        q = body["question"]
        if q is None:
            break
        if q["type"] == "multi":
            answer: Any = [] if q["fields"] != ["locations"] else ["under_eyes"]
        elif q["type"] == "single":
            answer = q["options"][0]["value"]
        elif q["type"] == "number":
            answer = 60 if q["fields"] == ["duration_days"] else 1
        else:
            answer = False
        r = client.post(
            f"/api/v1/interviews/{iid}/answers", json={"question_id": q["id"], "answer": answer}
        )
        assert r.status_code == 200, r.text
        body = r.json()
    assert body["done"] is True and body["question"] is None
    stored = client.get(f"/api/v1/interviews/{iid}").json()
    assert stored["case"]["locations"] == ["under_eyes"]
    assert stored["result"]["triage"]["screen_complete"] is True
    assert stored["answers"][0]["question_id"] == "q_rf_lesion"


def test_dont_know_is_null_and_an_earlier_answer_can_be_replaced(client: TestClient) -> None:
    body = start(client)
    iid, first = body["id"], body["question"]
    client.post(
        f"/api/v1/interviews/{iid}/answers", json={"question_id": first["id"], "answer": None}
    )
    case = client.get(f"/api/v1/interviews/{iid}").json()["case"]
    assert set(first["fields"]) <= set(case["dont_know"])
    r = client.post(
        f"/api/v1/interviews/{iid}/answers",
        json={"question_id": first["id"], "answer": ["findings.bleeding"]},
    )
    assert r.status_code == 200
    case = client.get(f"/api/v1/interviews/{iid}").json()["case"]
    assert case["findings"]["bleeding"] is True
    assert "dont_know" not in case or not set(first["fields"]) & set(case["dont_know"])


def test_undo_takes_one_answer_back(client: TestClient) -> None:
    body = start(client)
    iid, first = body["id"], body["question"]
    client.post(
        f"/api/v1/interviews/{iid}/answers", json={"question_id": first["id"], "answer": []}
    )
    r = client.delete(f"/api/v1/interviews/{iid}/answers/{first['id']}")
    assert r.status_code == 200
    assert r.json()["question"]["id"] == first["id"]
    assert client.delete(f"/api/v1/interviews/{iid}/answers/{first['id']}").status_code == 404


def test_a_question_never_asked_is_a_409(client: TestClient) -> None:
    iid = start(client)["id"]
    r = client.post(
        f"/api/v1/interviews/{iid}/answers", json={"question_id": "q_firm", "answer": True}
    )
    assert r.status_code == 409
    assert r.json()["errors"][0]["field"] == "question_id"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"question_id": "q_rf_lesion"}, "answer"),
        ({"answer": True}, "question_id"),
        ({"question_id": "q_rf_lesion", "answer": "yes"}, "answer"),
        ({"question_id": "q_rf_lesion", "answer": ["findings.nope"]}, "answer"),
        ({"question_id": "q_rf_lesion", "answer": [], "extra": 1}, "extra"),
    ],
)
def test_a_bad_answer_is_a_422_naming_the_field(
    client: TestClient, body: dict[str, Any], field: str
) -> None:
    iid = start(client)["id"]
    r = client.post(f"/api/v1/interviews/{iid}/answers", json=body)
    assert r.status_code == 422
    assert field in [e["field"] for e in r.json()["errors"]]
    assert client.get(f"/api/v1/interviews/{iid}").json()["answers"] == [], (
        "nothing stored is lost or changed"
    )


def test_a_bad_case_is_refused_naming_the_field_under_case(client: TestClient) -> None:
    r = client.post("/api/v1/interviews", json={"case": {"age_years": "old"}})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "case.age_years"
    assert client.post("/api/v1/interviews", json={"age_years": 3}).status_code == 422


def test_erasing_an_interview_makes_it_404(client: TestClient) -> None:
    iid = start(client)["id"]
    assert client.delete(f"/api/v1/interviews/{iid}").status_code == 204
    assert client.get(f"/api/v1/interviews/{iid}").status_code == 404
    r = client.post(f"/api/v1/interviews/{iid}/answers", json={"question_id": "q", "answer": None})
    assert r.status_code == 404


def test_purge_erases_interviews_older_than_the_retention(kb: KnowledgeBase, store: Store) -> None:
    from datetime import timedelta

    from miliacheck import interviews
    from miliacheck.store.tables import now

    old = interviews.start(kb, store, {"case": {"age_years": 30}})["id"]
    assert interviews.purge(store, 90, at=now() + timedelta(days=91)) == 1
    with pytest.raises(Exception, match="no such interview"):
        interviews.read(store, old)
    fresh = interviews.start(kb, store, {"case": {"age_years": 30}})["id"]
    assert interviews.purge(store, 90) == 0
    assert interviews.read(store, fresh)["id"] == fresh

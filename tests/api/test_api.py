"""The JSON API: results in the case format, errors as problem+json naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from miliacheck.api import create_app
from miliacheck.kb.load import KnowledgeBase
from miliacheck.store import Store

GOOD = {
    "age_years": 34,
    "sex": "female",
    "locations": ["under_eyes", "cheeks"],
    "duration_days": 120,
    "count": "many",
    "size_mm": 1.5,
    "colour": "white",
    "findings": {"firm": True, "painful": False, "squeeze_nothing": True},
}


@pytest.fixture
def client(kb: KnowledgeBase, store: Store) -> TestClient:
    return TestClient(create_app(kb=kb, store=store), raise_server_exceptions=False)


def test_assess_returns_a_result_in_the_case_format(client: TestClient) -> None:
    r = client.post("/api/v1/assess", json=GOOD)
    assert r.status_code == 200
    body = r.json()
    for key in (
        "conditions",
        "other_probability",
        "not_listed_probability",
        "triage",
        "unsure",
        "advice",
        "understood",
        "next_question",
        "kb_version",
    ):
        assert key in body
    top = body["conditions"][0]
    assert top["id"] == "milia_primary"
    assert {
        "id",
        "name",
        "clinical_name",
        "probability",
        "must_not_miss",
        "codes",
        "evidence_for",
        "evidence_against",
        "article",
    } <= top.keys()
    assert body["triage"]["level"] in ("self_care", "routine", "soon", "urgent", "emergency")
    assert body["advice"]["safety_net"]


BAD: list[tuple[Any, str | None]] = [
    ({"sex": "female"}, "age_years"),
    ({"age_years": "34"}, "age_years"),
    ({"age_years": 121}, "age_years"),
    ({"age_years": True}, "age_years"),
    ({"age_years": None}, "age_years"),
    ({"age_years": 30, "colour": "green"}, "colour"),
    ({"age_years": 30, "locations": []}, "locations"),
    ({"age_years": 30, "locations": ["elbow"]}, "locations[0]"),
    ({"age_years": 30, "locations": ["nose", "nose"]}, "locations[1]"),
    ({"age_years": 30, "findings": {"itchy": 1}}, "findings.itchy"),
    ({"age_years": 30, "findings": {"sparkly": True}}, "findings.sparkly"),
    (
        {"age_years": 30, "findings": {"itchy": True}, "dont_know": ["findings.itchy"]},
        "findings.itchy",
    ),
    ({"age_years": 30, "dont_know": ["findings.sparkly"]}, "dont_know[0]"),
    ({"age_years": 30, "size_mm": 0}, "size_mm"),
    ({"age_years": 30, "duration_days": -1}, "duration_days"),
    ({"age_years": 0.01, "duration_days": 100}, "duration_days"),
    ({"age_years": 30, "count": "several"}, "count"),
    ({"age_years": 30, "narrative": "x" * 5001}, "narrative"),
    ({"age_years": 30, "mood": "fine"}, "mood"),
    ([1, 2], None),
]


@pytest.mark.parametrize(("body", "field"), BAD)
def test_a_bad_case_is_a_422_problem_naming_the_field(
    client: TestClient, body: Any, field: str | None
) -> None:
    r = client.post("/api/v1/assess", json=body)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    problem = r.json()
    assert problem["status"] == 422 and problem["title"]
    assert field in [e["field"] for e in problem["errors"]]


def test_a_body_that_is_not_json_is_a_422_with_a_null_field(client: TestClient) -> None:
    r = client.post(
        "/api/v1/assess", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] is None


def test_conditions_findings_questions_and_health(client: TestClient, kb: KnowledgeBase) -> None:
    conds = client.get("/api/v1/conditions").json()
    assert {c["id"] for c in conds} == set(kb.conditions)
    one = client.get("/api/v1/conditions/milia_primary").json()
    assert one["id"] == "milia_primary" and one["references"]
    assert len(client.get("/api/v1/findings").json()) == len(kb.findings.findings)
    questions = {q["id"]: q for q in client.get("/api/v1/questions").json()}
    assert "q_locations" in questions
    assert questions["q_site_history"]["type"] == "multi"
    assert "findings.recent_skin_injury" in questions["q_site_history"]["fields"]
    assert client.get("/api/v1/health").json()["status"] == "ok"


def test_an_unknown_condition_is_a_404_problem(client: TestClient) -> None:
    r = client.get("/api/v1/conditions/warts_of_doom")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["field"] == "condition_id"


def test_an_unknown_route_and_method_are_problems_not_html(client: TestClient) -> None:
    assert (
        client.get("/api/v1/nothing").headers["content-type"].startswith("application/problem+json")
    )
    r = client.get("/api/v1/assess")
    assert r.status_code == 405


def test_openapi_documents_the_case_schema(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    body = spec["paths"]["/api/v1/assess"]["post"]["requestBody"]["content"]["application/json"][
        "schema"
    ]
    assert body["required"] == ["age_years"]
    assert "firm" in body["properties"]["findings"]["properties"]


def test_the_library_lists_articles_and_serves_one_with_references(client: TestClient) -> None:
    listing = client.get("/api/v1/articles").json()
    assert any(a["slug"] == "milia" for a in listing)
    one = client.get("/api/v1/articles/milia").json()
    assert one["title"] and "[@" in one["body"] and one["references"][0]["title"]
    assert client.get("/api/v1/articles/nothing-here").status_code == 404


def test_a_path_listed_twice_is_refused_naming_it(client: TestClient) -> None:
    for case, field in (
        ({"age_years": 30, "dont_know": ["findings.itchy", "findings.itchy"]}, "dont_know[1]"),
        ({"age_years": 30, "locations": ["cheeks", "cheeks"]}, "locations[1]"),
    ):
        r = client.post("/api/v1/assess", json=case)
        assert r.status_code == 422
        assert [e["field"] for e in r.json()["errors"]] == [field]

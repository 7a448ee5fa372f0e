"""Operations: health, readiness, Prometheus metrics without personal data, rate limiting."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from miliacheck.api import create_app
from miliacheck.config import Settings
from miliacheck.kb.load import KnowledgeBase
from miliacheck.store import Store

CASE = {"age_years": 34, "locations": ["under_eyes"], "findings": {"firm": True}}


def test_ready_says_whether_the_database_answers(kb: KnowledgeBase, store: Store) -> None:
    client = TestClient(create_app(Settings(), kb=kb, store=store))
    r = client.get("/api/v1/ready")
    assert r.status_code == 200 and r.json()["kb_version"] == kb.version
    broken = Store("postgresql://nobody@127.0.0.1:1/none")  # nothing listens on port 1
    r = TestClient(create_app(Settings(), kb=kb, store=broken)).get("/api/v1/ready")
    assert r.status_code == 503 and r.json()["errors"][0]["field"] == "database"
    assert client.get("/api/v1/health").json()["status"] == "ok"


def counter(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        named = line.startswith(name + "{") or line.startswith(name + " ")
        if named and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_requests_interviews_and_levels_and_hold_no_personal_data(
    kb: KnowledgeBase, store: Store
) -> None:
    client = TestClient(create_app(Settings(), kb=kb, store=store))
    before = client.get("/metrics").text
    words = "canarynarrative white spots under my eyes"
    client.post("/api/v1/assess", json={**CASE, "narrative": words})
    started = client.post("/api/v1/interviews", json={"case": CASE}).json()
    client.get(f"/api/v1/interviews/{started['id']}")
    after = client.get("/metrics").text
    route = "/api/v1/interviews/{interview_id}"
    assert counter(after, "miliacheck_requests_total", route=route, status="200") >= 1
    assert counter(after, "miliacheck_interviews_started_total") == (
        counter(before, "miliacheck_interviews_started_total") + 1
    )
    levels = sum(
        counter(after, "miliacheck_results_total", level=lv) for lv in ("self_care", "routine")
    )
    assert levels >= 1
    assert "canary" not in after and started["id"] not in after
    assert "miliacheck_request_seconds_bucket" in after


def test_the_api_is_rate_limited_by_client(kb: KnowledgeBase, store: Store) -> None:
    app = create_app(Settings(rate_limit="5/minute"), kb=kb, store=store)
    client = TestClient(app)
    answers = [client.get("/api/v1/health") for _ in range(7)]
    assert [r.status_code for r in answers[:5]] == [200] * 5
    refused: Any = answers[5]
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["x-content-type-options"] == "nosniff"
    assert client.get("/about").status_code == 200  # pages are not API calls
    exempt = create_app(
        Settings(rate_limit="5/minute", rate_limit_exempt="testclient"), kb=kb, store=store
    )
    assert all(TestClient(exempt).get("/api/v1/health").status_code == 200 for _ in range(10))


def test_logs_are_json_lines_without_exception_text() -> None:
    import json
    import logging
    import logging.config

    from miliacheck.logs import JsonFormatter, config

    try:
        raise ValueError("canary words a person typed")
    except ValueError:
        import sys

        record = logging.LogRecord(
            "miliacheck.api", logging.ERROR, __file__, 1, "failed: %s", ("x",), sys.exc_info()
        )
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert entry["message"] == "failed: x" and entry["exception"] == "ValueError"
    assert "canary" not in line and entry["level"] == "error"
    names = ["uvicorn", "uvicorn.error", "uvicorn.access", "miliacheck"]
    saved = {n: logging.getLogger(n).__dict__.copy() for n in names}
    try:
        logging.config.dictConfig(config("info"))  # a valid configuration for uvicorn
        assert logging.getLogger("uvicorn.access").level == logging.CRITICAL
        assert isinstance(logging.getLogger("miliacheck").handlers[0].formatter, JsonFormatter)
    finally:
        for name, state in saved.items():
            logging.getLogger(name).__dict__.update(state)

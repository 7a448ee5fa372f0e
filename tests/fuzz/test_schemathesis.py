"""Schemathesis against the API's own OpenAPI schema.

Every operation gets generated requests, valid and invalid by its schema; every answer
must be no server error, have a documented status and media type, fit the documented
response schema, and refuse data the schema calls invalid (4xx). The test drives the
cases itself (schemathesis's strategies under hypothesis) so that it can count them.
Random ids only ever meet 404s, so the operations on a stored interview and a
consultation request are fuzzed a second time against real ones, with answers to the
interview's real current question mixed in.

Not checked: ``positive_data_acceptance``. The case format has rules JSON Schema cannot
say (``duration_days`` no longer than the person has been alive, a path both set and in
``dont_know``, an ``interview_id`` that exists, an emergency is no clinic request), so a
schema-valid body may rightly be 422.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from miliacheck import interviews
from miliacheck.api.app import create_app
from miliacheck.config import Settings
from miliacheck.kb.load import KnowledgeBase
from miliacheck.store import Store

MIN_REQUESTS = 1000
#: Generated requests per operation and mode: more where there is a body to vary.
WITH_BODY = 60
WITHOUT_BODY = 30
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
POSITIVE, NEGATIVE = GenerationMode.POSITIVE, GenerationMode.NEGATIVE


class Fuzz:
    """Runs and counts generated requests; collects failures for one report."""

    def __init__(self) -> None:
        self.sent: Counter[str] = Counter()
        self.failures: dict[str, str] = {}

    def run(
        self,
        operation: Any,
        mode: GenerationMode,
        examples: int,
        label: str = "",
        path_parameters: dict[str, str] | None = None,
        question_id: Any = None,
    ) -> None:
        """``question_id()``, when given, gives the real question that half the bodies answer."""
        label = f"{operation.label} ({mode.value}{label})"
        strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)

        @settings(
            max_examples=examples,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate],
            report_multiple_bugs=False,
        )
        @given(case=strategy, real_question=st.booleans())
        def test(case: Any, real_question: bool) -> None:
            if question_id is not None and real_question and isinstance(case.body, dict):
                case.body["question_id"] = question_id()
            self.sent[label] += 1
            case.validate_response(case.call(), checks=CHECKS)

        try:
            test()
        except (Exception, BaseExceptionGroup) as exc:  # one report for every operation
            self.failures[label] = f"{type(exc).__name__}: {exc}"


def test_api_against_its_schema(kb: KnowledgeBase, tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'fuzz.db'}")
    store.migrate()
    fuzz = Fuzz()
    try:
        app = create_app(kb=kb, store=store)
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        for result in schema.get_all_operations():
            operation = result.ok()
            body = bool(len(operation.body))
            examples = WITH_BODY if body else WITHOUT_BODY
            fuzz.run(operation, POSITIVE, examples)
            # Invalid data needs something to make invalid: a body or a typed query.
            if body or len(operation.query):
                fuzz.run(operation, NEGATIVE, examples)

        client = TestClient(app)
        iid = client.post("/api/v1/interviews", json={"case": {"age_years": 30}}).json()["id"]
        made = client.post(
            "/api/v1/consultations",
            json={"case": {"age_years": 30}, "email": "a@b.org", "consent": True},
        )
        key = made.json()["key"]

        def current_question() -> str:
            question = interviews.read(store, iid)["question"]
            return str(question["id"]) if question else "q_none"

        real = {"interview_id": iid}
        answers = schema["/api/v1/interviews/{interview_id}/answers"]["POST"]
        # Only valid bodies get the real question: an invalid one must stay invalid.
        fuzz.run(answers, POSITIVE, WITH_BODY, ", real", real, current_question)
        fuzz.run(answers, NEGATIVE, WITH_BODY, ", real", real)
        fuzz.run(schema["/api/v1/interviews/{interview_id}"]["GET"], POSITIVE, 10, ", real", real)
        undo = schema["/api/v1/interviews/{interview_id}/answers/{question_id}"]["DELETE"]
        fuzz.run(undo, POSITIVE, WITHOUT_BODY, ", real", real)
        for path, method in (
            ("/api/v1/requests/{key}", "GET"),
            ("/api/v1/requests/{key}/withdraw", "POST"),
        ):
            fuzz.run(schema[path][method], POSITIVE, 10, ", real", {"key": key})
    finally:
        store.dispose()
    assert not fuzz.failures, "\n\n".join(f"== {k}\n{v}" for k, v in fuzz.failures.items())
    total = sum(fuzz.sent.values())
    print(f"{total} generated requests:", dict(fuzz.sent))
    assert total >= MIN_REQUESTS, dict(fuzz.sent)


def test_an_undocumented_method_is_405_with_allow(kb: KnowledgeBase, tmp_path: Path) -> None:
    """Every path refuses a method it does not document: 405 problem JSON naming the allowed."""
    store = Store(f"sqlite:///{tmp_path / 'methods.db'}")
    store.migrate()
    try:
        client = TestClient(create_app(kb=kb, store=store))
        spec = client.get("/openapi.json").json()
        for path, operations in spec["paths"].items():
            url = path.replace("{", "").replace("}", "")  # any id will do
            r = client.request("PATCH", url)
            assert r.status_code == 405, path
            assert r.headers["content-type"] == "application/problem+json", path
            allowed = {m.strip() for m in r.headers["allow"].split(",")}
            assert {m.upper() for m in operations} <= allowed, path
    finally:
        store.dispose()


def test_a_rate_limited_answer_fits_the_schema(kb: KnowledgeBase, tmp_path: Path) -> None:
    """The 429 every API route can give is documented, and answers as documented."""
    store = Store(f"sqlite:///{tmp_path / 'limited.db'}")
    store.migrate()
    try:
        app = create_app(Settings(rate_limit="1/minute"), kb=kb, store=store)
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)  # not an API route
        operation = schema["/api/v1/assess"]["POST"]
        case = operation.Case(body={"age_years": 30}, media_type="application/json")
        assert case.call().status_code == 200
        response = case.call()
        assert response.status_code == 429
        assert int(response.headers["retry-after"][0]) >= 1
        case.validate_response(response, checks=CHECKS)
    finally:
        store.dispose()

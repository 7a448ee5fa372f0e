"""JSON Schemas of the case and the result, built from the knowledge base's ids."""

from __future__ import annotations

from typing import Any

from miliacheck.engine.case import DONT_KNOW_FIELDS, MAX_AGE, MAX_NARRATIVE, MAX_SIZE_MM
from miliacheck.kb.load import KnowledgeBase
from miliacheck.kb.schema import CARE_LEVELS, COLOURS, COUNTS, SERVICES, SEXES


def case_schema(kb: KnowledgeBase) -> dict[str, Any]:
    findings = list(kb.findings.findings)
    paths = [*DONT_KNOW_FIELDS, *(f"findings.{f}" for f in findings)]
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["age_years"],
        "properties": {
            "age_years": {"type": "number", "minimum": 0, "maximum": MAX_AGE},
            "sex": {"enum": list(SEXES)},
            "narrative": {"type": "string", "maxLength": MAX_NARRATIVE},
            "locations": {
                "type": "array",
                "minItems": 1,
                "uniqueItems": True,
                "items": {"enum": list(kb.questions.locations["labels"])},
            },
            "duration_days": {"type": "number", "minimum": 0},
            "count": {"enum": list(COUNTS)},
            "size_mm": {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_SIZE_MM},
            "colour": {"enum": list(COLOURS)},
            "findings": {
                "type": "object",
                "additionalProperties": False,
                "properties": {f: {"type": "boolean"} for f in findings},
            },
            "dont_know": {"type": "array", "uniqueItems": True, "items": {"enum": paths}},
        },
    }


def result_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "required": [
            "conditions",
            "other_probability",
            "not_listed_probability",
            "triage",
            "unsure",
            "advice",
            "understood",
            "next_question",
            "kb_version",
        ],
        "properties": {
            "conditions": {"type": "array", "items": {"type": "object"}},
            "other_probability": {"type": "number"},
            "not_listed_probability": {"type": "number"},
            "triage": {
                "type": "object",
                "properties": {
                    "level": {"enum": list(CARE_LEVELS)},
                    "service": {"enum": list(SERVICES)},
                },
            },
            "unsure": {"type": "object"},
            "advice": {"type": "object"},
            "understood": {"type": "array"},
            "next_question": {"type": ["object", "null"]},
            "kb_version": {"type": "string"},
        },
    }


PROBLEM = "application/problem+json"
_WHY = {
    401: "A clinician login is needed (session cookie from /clinic/login)",
    404: "No such resource (unknown or erased)",
    409: "Conflicts with the resource's state",
    413: "The body is too large",
    422: "The body does not fit the format; each error names its field",
    429: "Too many requests from this client: wait for Retry-After seconds",
    503: "Not ready: the database does not answer",
}


def problem_schema() -> dict[str, Any]:
    """An error of case/v1: ``{"title", "status", "errors": [{"field", "message"}]}``."""
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["title", "status", "errors"],
        "properties": {
            "title": {"type": "string"},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["field", "message"],
                    "properties": {
                        "field": {"type": ["string", "null"]},
                        "message": {"type": "string"},
                    },
                },
            },
        },
    }


def responses(
    *errors: int, ok: dict[str, Any] | None = None, status: int = 200
) -> dict[int | str, dict[str, Any]]:
    """A route's documented answers: its success body (``ok``) and its problem statuses."""
    out: dict[int | str, dict[str, Any]] = {
        code: {"description": _WHY[code], "content": {PROBLEM: {"schema": problem_schema()}}}
        for code in errors
    }
    if ok is not None:
        out[status] = {"content": {"application/json": {"schema": ok}}}
    return out


def json_body(schema: dict[str, Any]) -> dict[str, Any]:
    """A route's required JSON request body, for ``openapi_extra`` (the routes read the
    raw body themselves, so FastAPI cannot infer it)."""
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def without_validation_errors(spec: dict[str, Any]) -> dict[str, Any]:
    """Drop FastAPI's own 422 (``HTTPValidationError``, application/json) from ``spec``.

    FastAPI adds it to every route with a parameter; here it would be untrue twice over:
    a string in the path is never refused, and every refusal is problem JSON.
    """
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            answer = operation.get("responses", {}).get("422", {})
            if "application/json" in answer.get("content", {}):
                del operation["responses"]["422"]
    schemas = spec.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    if "components" in spec and not schemas:
        spec["components"].pop("schemas", None)
        if not spec["components"]:
            del spec["components"]
    return spec


def with_rate_limit(spec: dict[str, Any]) -> dict[str, Any]:
    """Every API operation can answer 429 (the per-client rate limit), with Retry-After."""
    answer = {
        "description": _WHY[429],
        "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}},
        "content": {PROBLEM: {"schema": problem_schema()}},
    }
    for path, operations in spec.get("paths", {}).items():
        if path.startswith("/api/"):
            for operation in operations.values():
                operation.setdefault("responses", {}).setdefault("429", answer)
    return spec


def _object(*required: str, **properties: Any) -> dict[str, Any]:
    return {"type": "object", "required": list(required), "properties": properties}


STRING: dict[str, Any] = {"type": "string"}
OBJECTS: dict[str, Any] = {"type": "array", "items": {"type": "object"}}


def interview_schema(full: bool = False) -> dict[str, Any]:
    """A stored interview: ``{id, done, question, result}``, and in full its case and answers."""
    base: dict[str, Any] = {
        "id": STRING,
        "done": {"type": "boolean"},
        "question": {"type": ["object", "null"]},
        "result": result_schema(),
    }
    if not full:
        return _object(*base, **base)
    more: dict[str, Any] = {
        "case": {"type": "object"},
        "answers": {
            "type": "array",
            "items": _object("question_id", "answer", question_id=STRING, answer={}),
        },
        "kb_version": STRING,
        "created_at": STRING,
        "updated_at": STRING,
    }
    return _object(*base, *more, **base, **more)


def ask_schema() -> dict[str, Any]:
    passage = _object(
        "text",
        "article",
        "title",
        "references",
        text=STRING,
        article=STRING,
        title=STRING,
        heading={"type": ["string", "null"]},
        references=OBJECTS,
    )
    return _object(
        "passages",
        "emergency",
        "emergency_advice",
        "out_of_scope",
        "offer_checker",
        "checker_case",
        passages={"type": "array", "items": passage},
        emergency={"type": "boolean"},
        emergency_advice={},
        out_of_scope={"type": "boolean"},
        offer_checker={"type": "boolean"},
        checker_case={"type": ["object", "null"]},
    )


def consultation_made_schema() -> dict[str, Any]:
    return _object(
        "id",
        "key",
        "link",
        "status",
        "level",
        id=STRING,
        key=STRING,
        link=STRING,
        status={"const": "new"},
        level={"enum": list(CARE_LEVELS)},
        photos={"type": "integer", "minimum": 0},
    )


def request_schema() -> dict[str, Any]:
    """The person's own request through their private key."""
    return _object(
        "id",
        "status",
        "level",
        "contact",
        "history",
        "can_withdraw",
        id=STRING,
        status=STRING,
        level={"enum": list(CARE_LEVELS)},
        contact={"type": "object"},
        history=OBJECTS,
        photos=OBJECTS,
        can_withdraw={"type": "boolean"},
    )


def answer_schema() -> dict[str, Any]:
    """An answer to a stored interview's question; ``null`` is don't know."""
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["question_id", "answer"],
        "properties": {
            "question_id": STRING,
            "answer": {
                "type": ["boolean", "string", "number", "array", "null"],
                "items": STRING,
            },
        },
    }

"""FastAPI application: thin routes over :mod:`miliacheck.service`.

Errors are ``application/problem+json`` exactly as case/v1 defines them; any unexpected
exception is still answered as a problem (and logged without the request body), never
as a bare 500 page.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from miliacheck import service
from miliacheck.api.openapi import case_schema, result_schema
from miliacheck.config import Settings
from miliacheck.errors import CaseError, FieldError, MiliacheckError
from miliacheck.kb.load import KnowledgeBase, load_kb

log = logging.getLogger("miliacheck.api")
PROBLEM = "application/problem+json"


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def problem(status: int, title: str, errors: list[FieldError]) -> Response:
    body = {"title": title, "status": status, "errors": errors}
    return Response(orjson.dumps(body), status_code=status, media_type=PROBLEM)


def create_app(settings: Settings | None = None, kb: KnowledgeBase | None = None) -> FastAPI:
    """Build the app; refuses to start (KnowledgeError) on an invalid knowledge base."""
    settings = settings or Settings()
    kb = kb or load_kb(settings.knowledge_dir)
    app = FastAPI(
        title="miliacheck",
        version=kb.version,
        summary="Information about white skin bumps (milia and look-alikes). Not a diagnosis.",
        docs_url="/docs",
        default_response_class=JSON,
    )
    app.state.kb = kb
    app.state.settings = settings

    @app.exception_handler(MiliacheckError)
    async def _known(_: Request, exc: MiliacheckError) -> Response:
        return problem(exc.status, exc.title, exc.errors)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> Response:
        errors: list[FieldError] = [
            {"field": ".".join(str(x) for x in e["loc"][1:]) or None, "message": e["msg"]}
            for e in exc.errors()
        ]
        return problem(422, CaseError.title, errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> Response:
        return problem(
            exc.status_code, str(exc.detail), [{"field": None, "message": str(exc.detail)}]
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.error(
            "unexpected error on %s %s: %s", request.method, request.url.path, type(exc).__name__
        )
        return problem(
            500,
            "Internal error",
            [{"field": None, "message": "unexpected error; nothing was stored"}],
        )

    @app.post(
        "/api/v1/assess",
        summary="Assess a case (case/v1) and get the result with the next question",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": case_schema(kb)}},
            },
            "responses": {
                "200": {
                    "description": "The result",
                    "content": {"application/json": {"schema": result_schema()}},
                },
                "422": {
                    "description": "The case does not fit the format",
                    "content": {PROBLEM: {}},
                },
            },
        },
    )
    async def assess(request: Request) -> Response:
        body = await request.body()
        try:
            obj = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise CaseError([{"field": None, "message": "the body is not valid JSON"}]) from None
        return JSON(service.assess_json(kb, obj))

    @app.get("/api/v1/conditions", summary="Every condition the checker knows")
    async def conditions() -> Response:
        return JSON(service.list_conditions(kb))

    @app.get("/api/v1/conditions/{condition_id}", summary="One condition with its sourced numbers")
    async def condition(condition_id: str) -> Response:
        return JSON(service.get_condition(kb, condition_id))

    @app.get("/api/v1/findings", summary="Every finding of the case format")
    async def findings() -> Response:
        return JSON(service.list_findings(kb))

    @app.get("/api/v1/questions", summary="Every question the interview can ask")
    async def questions() -> Response:
        return JSON(service.list_questions(kb))

    @app.get("/api/v1/articles", summary="The library: every article's title and summary")
    async def articles() -> Response:
        return JSON(service.list_articles(kb))

    @app.get("/api/v1/articles/{slug}", summary="One library article with its references")
    async def article(slug: str) -> Response:
        return JSON(service.get_article(kb, slug))

    @app.get("/api/v1/health", summary="Alive, with the knowledge base version")
    async def health() -> Response:
        return JSON({"status": "ok", "kb_version": kb.version, "conditions": len(kb.conditions)})

    return app

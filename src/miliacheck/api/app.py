"""FastAPI application: thin routes over :mod:`miliacheck.service`.

Errors are ``application/problem+json`` exactly as case/v1 defines them; any unexpected
exception is still answered as a problem (and logged without the request body), never
as a bare 500 page.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

import orjson
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from miliacheck import interviews, service
from miliacheck.api.clinic import mount_clinic_api
from miliacheck.api.openapi import case_schema, result_schema
from miliacheck.config import Settings
from miliacheck.errors import CaseError, FieldError, MiliacheckError
from miliacheck.kb.load import KnowledgeBase, load_kb
from miliacheck.store import Store
from miliacheck.web import mount_clinic_pages, mount_pages
from miliacheck.web.security import SecurityMiddleware, csrf_protect

log = logging.getLogger("miliacheck.api")
PROBLEM = "application/problem+json"


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def problem(status: int, title: str, errors: list[FieldError]) -> Response:
    body = {"title": title, "status": status, "errors": errors}
    return Response(orjson.dumps(body), status_code=status, media_type=PROBLEM)


def create_app(
    settings: Settings | None = None, kb: KnowledgeBase | None = None, store: Store | None = None
) -> FastAPI:
    """Build the app; refuses to start (KnowledgeError) on an invalid knowledge base."""
    settings = settings or Settings.from_env()
    kb = kb or load_kb(settings.knowledge_dir)
    if store is None:
        store = Store(settings.database_url)
        store.migrate()
    app = FastAPI(
        title="miliacheck",
        version=kb.version,
        summary="Information about white skin bumps (milia and look-alikes). Not a diagnosis.",
        docs_url=None,
        redoc_url=None,
        default_response_class=JSON,
        dependencies=[Depends(csrf_protect)],
    )
    app.add_middleware(SecurityMiddleware)
    app.state.kb = kb
    app.state.settings = settings
    app.state.store = store

    def answer_error(
        request: Request, status: int, title: str, errors: list[FieldError]
    ) -> Response:
        """Problem JSON for the API; an HTML page for the pages, when they are mounted."""
        html_error = getattr(app.state, "html_error", None)
        if html_error is not None and not request.url.path.startswith("/api/"):
            message = errors[0]["message"] if errors else title
            return html_error(request, status, message)  # type: ignore[no-any-return]
        return problem(status, title, errors)

    @app.exception_handler(MiliacheckError)
    async def _known(request: Request, exc: MiliacheckError) -> Response:
        return answer_error(request, exc.status, exc.title, exc.errors)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> Response:
        errors: list[FieldError] = [
            {"field": ".".join(str(x) for x in e["loc"][1:]) or None, "message": e["msg"]}
            for e in exc.errors()
        ]
        return problem(422, CaseError.title, errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        detail = str(exc.detail)
        return answer_error(request, exc.status_code, detail, [{"field": None, "message": detail}])

    async def body_json(request: Request) -> object:
        try:
            return orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            raise CaseError([{"field": None, "message": "the body is not valid JSON"}]) from None

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
        return JSON(service.assess_json(kb, await body_json(request)))

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

    @app.post(
        "/api/v1/ask",
        summary="Answer a question from the library: passages, articles and references only",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["question"],
                            "properties": {
                                "question": {"type": "string", "minLength": 1, "maxLength": 1000}
                            },
                        }
                    }
                },
            }
        },
    )
    async def ask(request: Request) -> Response:
        return JSON(await run_in_threadpool(service.ask_json, kb, await body_json(request)))

    @app.get("/api/v1/articles", summary="The library: every article's title and summary")
    async def articles() -> Response:
        return JSON(service.list_articles(kb))

    @app.get("/api/v1/articles/{slug}", summary="One library article with its references")
    async def article(slug: str) -> Response:
        return JSON(service.get_article(kb, slug))

    @app.post("/api/v1/interviews", status_code=201, summary="Start a stored interview from a case")
    async def start_interview(request: Request) -> Response:
        body = await body_json(request)
        return JSON(await run_in_threadpool(interviews.start, kb, store, body), status_code=201)

    @app.get("/api/v1/interviews/{interview_id}", summary="Read a stored interview")
    def read_interview(interview_id: str) -> Response:
        return JSON(interviews.read(store, interview_id))

    @app.delete("/api/v1/interviews/{interview_id}", status_code=204, summary="Erase an interview")
    def erase_interview(interview_id: str) -> Response:
        interviews.erase(store, interview_id)
        return Response(status_code=204)

    @app.post(
        "/api/v1/interviews/{interview_id}/answers",
        summary="Answer the current question, or replace an earlier answer",
    )
    async def answer_interview(interview_id: str, request: Request) -> Response:
        body = await body_json(request)
        return JSON(await run_in_threadpool(interviews.answer, kb, store, interview_id, body))

    @app.delete(
        "/api/v1/interviews/{interview_id}/answers/{question_id}", summary="Undo one answer"
    )
    def undo_answer(interview_id: str, question_id: str) -> Response:
        return JSON(interviews.undo(kb, store, interview_id, question_id))

    mount_clinic_api(app, kb, store, settings, body_json)

    @app.get("/docs", include_in_schema=False)
    def docs() -> Response:
        """Swagger UI; its one inline script runs under a per-response CSP nonce."""
        nonce = secrets.token_urlsafe(16)
        page = get_swagger_ui_html(openapi_url="/openapi.json", title="miliacheck API")
        html = page.body.decode().replace("<script>", f'<script nonce="{nonce}">')
        cdn = "https://cdn.jsdelivr.net"
        csp = (
            f"default-src 'self'; script-src 'self' 'nonce-{nonce}' {cdn}; "
            f"style-src 'self' {cdn}; img-src 'self' data: https://fastapi.tiangolo.com; "
            "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
        )
        return Response(html, media_type="text/html", headers={"Content-Security-Policy": csp})

    @app.get("/api/v1/health", summary="Alive, with the knowledge base version")
    async def health() -> Response:
        return JSON({"status": "ok", "kb_version": kb.version, "conditions": len(kb.conditions)})

    mount_pages(app, kb, store)
    mount_clinic_pages(app, kb, store, settings)
    return app

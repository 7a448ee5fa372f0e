"""FastAPI application: thin routes over :mod:`miliacheck.service`.

Errors are ``application/problem+json`` exactly as case/v1 defines them; any unexpected
exception is still answered as a problem (and logged without the request body), never
as a bare 500 page.
"""

from __future__ import annotations

import json
import logging
import secrets
from typing import Any

import orjson
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from miliacheck import interviews, metrics, service
from miliacheck.api.clinic import mount_clinic_api
from miliacheck.api.openapi import (
    OBJECTS,
    PROBLEM,
    answer_schema,
    ask_schema,
    case_schema,
    interview_schema,
    json_body,
    responses,
    result_schema,
    with_rate_limit,
    without_validation_errors,
)
from miliacheck.api.ops import MetricsMiddleware, RateLimitMiddleware
from miliacheck.config import Settings
from miliacheck.errors import CaseError, FieldError, MiliacheckError
from miliacheck.kb.load import KnowledgeBase, load_kb
from miliacheck.store import Store
from miliacheck.web import mount_clinic_pages, mount_pages
from miliacheck.web.security import SecurityMiddleware, csrf_protect

log = logging.getLogger("miliacheck.api")


class JSON(JSONResponse):
    """JSON by orjson (a JSONResponse, so that OpenAPI says JSON, not a string)."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def problem(
    status: int, title: str, errors: list[FieldError], headers: dict[str, str] | None = None
) -> Response:
    body = {"title": title, "status": status, "errors": errors}
    return Response(orjson.dumps(body), status_code=status, media_type=PROBLEM, headers=headers)


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def _number(text: str) -> int | float:
    return int(text) if len(text) < 19 else float(text)


def wide_numbers(body: bytes) -> object:
    """JSON that orjson refuses only for a number beyond a double (``1e309``, 400 digits).

    JSON allows such numbers; read as infinity they reach the checks of their field, which
    name it. Anything else orjson refuses (bad UTF-8, a lone surrogate, NaN, nesting deeper
    than orjson reads) is still not JSON.
    """
    try:
        obj = json.loads(body.decode(), parse_constant=_no_constant, parse_int=_number)
        orjson.dumps(obj)  # refuses a lone surrogate, as orjson.loads does
    except (ValueError, TypeError, RecursionError):
        raise CaseError([{"field": None, "message": "the body is not valid JSON"}]) from None
    return obj


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
    exempt = frozenset(a.strip() for a in settings.rate_limit_exempt.split(",") if a.strip())
    app.add_middleware(RateLimitMiddleware, limit=settings.rate_limit, exempt=exempt)
    app.add_middleware(SecurityMiddleware)
    app.add_middleware(MetricsMiddleware)
    app.state.kb = kb
    app.state.settings = settings
    app.state.store = store

    default_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        """FastAPI's schema without its own 422, which this app never answers, and with
        the rate limit's 429, which every API route can."""
        if app.openapi_schema is None:
            with_rate_limit(without_validation_errors(default_openapi()))
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]

    def answer_error(
        request: Request,
        status: int,
        title: str,
        errors: list[FieldError],
        headers: dict[str, str] | None = None,
    ) -> Response:
        """Problem JSON for the API; an HTML page for the pages, when they are mounted."""
        html_error = getattr(app.state, "html_error", None)
        if html_error is not None and not request.url.path.startswith("/api/"):
            message = errors[0]["message"] if errors else title
            return html_error(request, status, message)  # type: ignore[no-any-return]
        return problem(status, title, errors, headers)

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
        errors: list[FieldError] = [{"field": None, "message": detail}]
        # exc.headers carries what the status requires, e.g. Allow on a 405.
        headers = exc.headers
        if exc.status_code == 405:
            # Starlette names the methods of the first route on the path only.
            headers = {**(headers or {}), "Allow": ", ".join(allowed_methods(request))}
        return answer_error(request, exc.status_code, detail, errors, headers)

    def allowed_methods(request: Request) -> list[str]:
        """Every method some route answers on the request's path (for a 405's Allow)."""
        methods: set[str] = set()
        for route in app.router.routes:
            match, _ = route.matches(request.scope)
            if match != Match.NONE:
                methods |= getattr(route, "methods", None) or set()
        return sorted(methods)

    async def body_json(request: Request) -> object:
        body = await request.body()
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            return wide_numbers(body)

    @app.post(
        "/api/v1/assess",
        summary="Assess a case (case/v1) and get the result with the next question",
        responses=responses(413, 422, ok=result_schema()),
        openapi_extra=json_body(case_schema(kb)),
    )
    async def assess(request: Request) -> Response:
        result = service.assess_json(kb, await body_json(request))
        metrics.RESULTS.labels(result["triage"]["level"]).inc()
        return JSON(result)

    @app.get(
        "/api/v1/conditions",
        summary="Every condition the checker knows",
        responses=responses(ok=OBJECTS),
    )
    async def conditions() -> Response:
        return JSON(service.list_conditions(kb))

    @app.get(
        "/api/v1/conditions/{condition_id}",
        summary="One condition with its sourced numbers",
        responses=responses(404, ok={"type": "object"}),
    )
    async def condition(condition_id: str) -> Response:
        return JSON(service.get_condition(kb, condition_id))

    @app.get(
        "/api/v1/findings",
        summary="Every finding of the case format",
        responses=responses(ok=OBJECTS),
    )
    async def findings() -> Response:
        return JSON(service.list_findings(kb))

    @app.get(
        "/api/v1/questions",
        summary="Every question the interview can ask",
        responses=responses(ok=OBJECTS),
    )
    async def questions() -> Response:
        return JSON(service.list_questions(kb))

    @app.post(
        "/api/v1/ask",
        summary="Answer a question from the library: passages, articles and references only",
        responses=responses(413, 422, ok=ask_schema()),
        openapi_extra=json_body(
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["question"],
                "properties": {"question": {"type": "string", "minLength": 1, "maxLength": 1000}},
            }
        ),
    )
    async def ask(request: Request) -> Response:
        return JSON(await run_in_threadpool(service.ask_json, kb, await body_json(request)))

    @app.get(
        "/api/v1/articles",
        summary="The library: every article's title and summary",
        responses=responses(ok=OBJECTS),
    )
    async def articles() -> Response:
        return JSON(service.list_articles(kb))

    @app.get(
        "/api/v1/articles/{slug}",
        summary="One library article with its references",
        responses=responses(404, ok={"type": "object"}),
    )
    async def article(slug: str) -> Response:
        return JSON(service.get_article(kb, slug))

    @app.post(
        "/api/v1/interviews",
        status_code=201,
        summary="Start a stored interview from a case",
        responses=responses(413, 422, ok=interview_schema(), status=201),
        openapi_extra=json_body(
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["case"],
                "properties": {"case": case_schema(kb)},
            }
        ),
    )
    async def start_interview(request: Request) -> Response:
        body = await body_json(request)
        return JSON(await run_in_threadpool(interviews.start, kb, store, body), status_code=201)

    @app.get(
        "/api/v1/interviews/{interview_id}",
        summary="Read a stored interview",
        responses=responses(404, ok=interview_schema(full=True)),
    )
    def read_interview(interview_id: str) -> Response:
        return JSON(interviews.read(store, interview_id))

    @app.delete(
        "/api/v1/interviews/{interview_id}",
        status_code=204,
        summary="Erase an interview",
        responses=responses(404),
    )
    def erase_interview(interview_id: str) -> Response:
        interviews.erase(store, interview_id)
        return Response(status_code=204)

    @app.post(
        "/api/v1/interviews/{interview_id}/answers",
        summary="Answer the current question, or replace an earlier answer",
        responses=responses(404, 409, 413, 422, ok=interview_schema()),
        openapi_extra=json_body(answer_schema()),
    )
    async def answer_interview(interview_id: str, request: Request) -> Response:
        body = await body_json(request)
        return JSON(await run_in_threadpool(interviews.answer, kb, store, interview_id, body))

    @app.delete(
        "/api/v1/interviews/{interview_id}/answers/{question_id}",
        summary="Undo one answer",
        responses=responses(404, ok=interview_schema()),
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

    @app.get(
        "/api/v1/health",
        summary="Alive, with the knowledge base version",
        responses=responses(ok={"type": "object", "required": ["status", "kb_version"]}),
    )
    async def health() -> Response:
        return JSON({"status": "ok", "kb_version": kb.version, "conditions": len(kb.conditions)})

    @app.get(
        "/api/v1/ready",
        summary="Ready: the database answers and the knowledge base is loaded",
        responses=responses(503, ok={"type": "object", "required": ["status", "kb_version"]}),
    )
    def ready() -> Response:
        try:
            store.ping()
        except Exception as exc:  # any database failure means not ready
            log.warning("not ready: the database failed with %s", type(exc).__name__)
            error: FieldError = {"field": "database", "message": "the database does not answer"}
            return problem(503, "Not ready", [error])
        return JSON({"status": "ready", "kb_version": kb.version, "database": store.dialect})

    @app.get("/metrics", include_in_schema=False)
    def prometheus() -> Response:
        body, kind = metrics.metrics_body()
        return Response(body, media_type=kind)

    mount_pages(app, kb, store)
    mount_clinic_pages(app, kb, store, settings)
    return app

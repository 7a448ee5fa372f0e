"""Pages of the clinic hand-off: the request form, the person's private link, and the
clinicians' login, queue, request page, printable summary (and PDF) and audit log.

Every page here is private (noindex, no-store, no referrer). Clinic pages need a live
clinician session; without one they send the browser to the login page and show nothing.
"""

from __future__ import annotations

import base64
import contextlib
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from miliacheck import interviews
from miliacheck.api.clinic import SESSION_COOKIE, clinician
from miliacheck.clinic import accounts, consultations, mail
from miliacheck.clinic import photos as photo_rules
from miliacheck.clinic.hours import parse_hours
from miliacheck.config import Settings
from miliacheck.errors import CaseError, ConflictError
from miliacheck.kb.load import KnowledgeBase
from miliacheck.kb.schema import CARE_LEVELS
from miliacheck.store import Store
from miliacheck.store.tables import now
from miliacheck.web.pages import HERE, PRIVATE, see
from miliacheck.web.security import CSRF_COOKIE, cookie_header, is_https

STATUS_WORDS = {
    "new": "Received: waiting for the clinic",
    "contacted": "The clinic has contacted you",
    "booked": "An appointment is booked",
    "closed": "Closed",
    "declined": "The clinic could not take this request",
    "withdrawn": "You withdrew this request",
}


def waited(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    if hours < 1:
        return f"{max(1, int(delta.total_seconds() // 60))} min"
    if hours < 48:
        return f"{hours} h"
    return f"{hours // 24} days"


def mount_clinic_pages(app: FastAPI, kb: KnowledgeBase, store: Store, settings: Settings) -> None:
    page = app.state.page
    hours = parse_hours(settings.clinic_hours, settings.clinic_timezone)
    notify = mail.notifier(settings)
    finding_labels = {k: v.label for k, v in kb.findings.findings.items()}

    def private(request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        return page(  # type: ignore[no-any-return]
            request,
            name,
            status=status,
            private=True,
            clinic=settings,
            status_words=STATUS_WORDS,
            **ctx,
        )

    def response_promise() -> dict[str, Any]:
        measured = consultations.response_time(store)
        return {
            "days": settings.clinic_response_days,
            "measured": waited(measured) if measured is not None else None,
        }

    # ---- the person -----------------------------------------------------------------

    def consult_form(
        request: Request, interview_id: str, status: int = 200, form: Any = None, errors: Any = ()
    ) -> HTMLResponse:
        view = interviews.read(store, interview_id)
        r = view["result"]
        return private(
            request,
            "consult.html",
            status=status,
            title="Ask the clinic for a consultation",
            view=view,
            r=r,
            open_now=hours.open_at(now()),
            photos_allowed=consultations.photos_allowed(view["case"], r),
            max_photos=photo_rules.MAX_PHOTOS,
            promise=response_promise(),
            form=form or {},
            errors=list(errors),
        )

    @app.get("/consult/{interview_id}", response_class=HTMLResponse, include_in_schema=False)
    def consult(request: Request, interview_id: str) -> HTMLResponse:
        return consult_form(request, interview_id)

    @app.post("/consult/{interview_id}", include_in_schema=False)
    async def consult_send(request: Request, interview_id: str) -> Response:
        form = await request.form()
        uploads = []
        for item in form.getlist("photos"):
            if isinstance(item, UploadFile) and item.filename:
                data = await item.read(photo_rules.MAX_BYTES + 1)
                if data:
                    uploads.append(data)
        body: dict[str, Any] = {
            "interview_id": interview_id,
            "consent": form.get("consent") == "yes",
        }
        for key in ("name", "email", "phone", "preferred_times"):
            value = str(form.get(key, "")).strip()
            if value:
                body[key] = value
        try:
            made = await run_in_threadpool(consultations.create, kb, store, body, uploads, notify)
        except CaseError as exc:
            shown = {k: str(form.get(k, "")) for k in ("name", "email", "phone", "preferred_times")}
            return consult_form(request, interview_id, 422, shown, exc.errors)
        return see(f"{made['link']}?new=1")

    @app.get("/requests/{key}", response_class=HTMLResponse, include_in_schema=False)
    def my_request(request: Request, key: str) -> HTMLResponse:
        mine = consultations.for_person(store, key)
        return private(
            request,
            "my_request.html",
            title="Your request to the clinic",
            req=mine,
            key=key,
            new=bool(request.query_params.get("new")),
            promise=response_promise(),
        )

    @app.post("/requests/{key}/withdraw", include_in_schema=False)
    def withdraw(key: str) -> Response:
        with contextlib.suppress(ConflictError):  # already final: the page shows its status
            consultations.withdraw(store, key)
        return see(f"/requests/{key}")

    @app.post("/requests/{key}/erase", include_in_schema=False)
    def erase(request: Request, key: str) -> HTMLResponse:
        consultations.erase(store, key)
        return private(request, "erased.html", title="Your request was erased")

    @app.get("/requests/{key}/photos/{n}", include_in_schema=False)
    def my_photo(key: str, n: int, thumb: bool = False) -> Response:
        data, kind = consultations.person_photo(store, key, n, thumb)
        return Response(data, media_type=kind, headers=PRIVATE)

    # ---- clinicians -----------------------------------------------------------------

    def login_page(request: Request, status: int = 200, error: str | None = None) -> HTMLResponse:
        nxt = request.query_params.get("next", "/clinic")
        return private(
            request,
            "clinic_login.html",
            status=status,
            title="Clinician login",
            error=error,
            next=nxt if nxt.startswith("/clinic") else "/clinic",
        )

    def to_login(request: Request) -> RedirectResponse:
        return see(f"/clinic/login?next={quote(request.url.path)}")

    @app.get("/clinic/login", response_class=HTMLResponse, include_in_schema=False)
    def login_form(request: Request) -> HTMLResponse:
        return login_page(request)

    @app.post("/clinic/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        form = await request.form()
        address = request.client.host if request.client else "unknown"
        try:
            done = await run_in_threadpool(
                accounts.login,
                store,
                str(form.get("email", "")),
                str(form.get("password", ""))[:1000],
                address,
                settings.session_hours,
            )
        except accounts.LoginThrottled as exc:
            response = login_page(
                request,
                429,
                f"Too many failed logins. Please wait {exc.wait_seconds} seconds and try again.",
            )
            response.headers["Retry-After"] = str(exc.wait_seconds)
            return response
        if done is None:
            return login_page(request, 401, "That email and password do not match an account.")
        _, token = done
        accounts.logout(store, request.cookies.get(SESSION_COOKIE))  # never reuse a session
        nxt = str(form.get("next", "/clinic"))
        response = see(nxt if nxt.startswith("/clinic") and not nxt.startswith("//") else "/clinic")
        https = is_https(request.scope)
        response.headers.append(
            "set-cookie",
            cookie_header(SESSION_COOKIE, token, https, settings.session_hours * 3600),
        )
        response.headers.append(
            "set-cookie", cookie_header(CSRF_COOKIE, accounts.new_token(), https)
        )
        return response

    @app.post("/clinic/logout", include_in_schema=False)
    def logout(request: Request) -> Response:
        accounts.logout(store, request.cookies.get(SESSION_COOKIE))
        response = see("/clinic/login")
        response.headers.append(
            "set-cookie", cookie_header(SESSION_COOKIE, "", is_https(request.scope), 0)
        )
        return response

    @app.get("/clinic", response_class=HTMLResponse, include_in_schema=False)
    def queue(request: Request, everything: bool = False) -> Response:
        who = clinician(request, store)
        if who is None:
            return to_login(request)
        rows = consultations.queue(store, who, everything)
        for row in rows:
            row["waited"] = waited(row["waiting"])
        return private(
            request,
            "clinic_queue.html",
            title="Requests",
            who=who,
            rows=rows,
            everything=everything,
        )

    @app.get("/clinic/requests/{cid}", response_class=HTMLResponse, include_in_schema=False)
    def request_page(request: Request, cid: str) -> Response:
        who = clinician(request, store)
        if who is None:
            return to_login(request)
        return detail(request, who, consultations.for_clinician(store, who, cid))

    def detail(
        request: Request,
        who: accounts.Clinician,
        req: dict[str, Any],
        status: int = 200,
        errors: Any = (),
    ) -> HTMLResponse:
        return private(
            request,
            "clinic_request.html",
            status=status,
            title="Request",
            who=who,
            req=req,
            r=req["result"],
            conditions=sorted(kb.conditions.values(), key=lambda c: c.name),
            care_levels=CARE_LEVELS,
            finding_labels=finding_labels,
            errors=list(errors),
        )

    @app.post("/clinic/requests/{cid}", include_in_schema=False)
    async def update(request: Request, cid: str) -> Response:
        who = clinician(request, store)
        if who is None:
            return to_login(request)
        form = await request.form()
        body = {
            k: str(form.get(k, "")).strip()
            for k in ("status", "note", "confirmed_condition", "confirmed_level")
        }
        try:
            await run_in_threadpool(consultations.update, kb, store, who, cid, body)
        except CaseError as exc:
            return detail(
                request, who, consultations.for_clinician(store, who, cid), 422, exc.errors
            )
        return see(f"/clinic/requests/{cid}")

    @app.get("/clinic/requests/{cid}/photos/{n}", include_in_schema=False)
    def photo(request: Request, cid: str, n: int, thumb: bool = False) -> Response:
        who = clinician(request, store)
        if who is None:
            return to_login(request)
        data, kind = consultations.clinician_photo(store, who, cid, n, thumb)
        return Response(data, media_type=kind, headers=PRIVATE)

    def summary_html(request: Request, who: accounts.Clinician, cid: str) -> HTMLResponse:
        rec = consultations.record(store, cid)
        thumbs = [
            "data:image/jpeg;base64," + base64.b64encode(p["thumbnail"]).decode()
            for p in rec["photos"]
        ]
        consultations.audit_export(store, who, cid, "summary")
        return private(
            request,
            "clinic_summary.html",
            title="Summary for the doctor",
            req=rec,
            r=rec["result"],
            thumbs=thumbs,
            finding_labels=finding_labels,
        )

    @app.get("/clinic/requests/{cid}/summary", response_class=HTMLResponse, include_in_schema=False)
    def summary(request: Request, cid: str) -> Response:
        who = clinician(request, store)
        if who is None:
            return to_login(request)
        return summary_html(request, who, cid)

    @app.get("/clinic/requests/{cid}/summary.pdf", include_in_schema=False)
    async def summary_pdf(request: Request, cid: str) -> Response:
        who = clinician(request, store)
        if who is None:
            return to_login(request)
        html = bytes(summary_html(request, who, cid).body).decode()
        html = html.replace('<link rel="stylesheet" href="/static/summary.css">', "")
        pdf = await run_in_threadpool(render_pdf, html)
        return Response(
            pdf,
            media_type="application/pdf",
            headers={**PRIVATE, "Content-Disposition": f'inline; filename="request-{cid[:8]}.pdf"'},
        )

    @app.get("/clinic/audit", response_class=HTMLResponse, include_in_schema=False)
    def audit(request: Request) -> Response:
        who = clinician(request, store)
        if who is None:
            return to_login(request)
        return private(
            request,
            "clinic_audit.html",
            title="Audit log",
            who=who,
            rows=consultations.audit_log(store),
        )


def render_pdf(html: str) -> bytes:
    """The printable summary as PDF with WeasyPrint.

    Nothing is fetched from anywhere (only the data: URIs of the thumbnails are read): the
    print stylesheet comes from the package.
    """
    from PIL import ImageFile
    from weasyprint import CSS, HTML
    from weasyprint.urls import URLFetcher

    ImageFile.LOAD_TRUNCATED_IMAGES = False  # WeasyPrint's import turns it on; uploads need it off

    fetcher = URLFetcher(allowed_protocols=["data"])
    sheet = CSS(filename=str(HERE / "static" / "summary.css"))
    return bytes(HTML(string=html, url_fetcher=fetcher).write_pdf(stylesheets=[sheet]))

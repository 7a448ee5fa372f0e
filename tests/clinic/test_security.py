"""Security: an authorisation matrix built from the app's routes, CSRF, upload abuse,
session fixation, login throttling, security headers, and personal data kept out of logs."""

from __future__ import annotations

import base64
import io
import logging
import re
import struct
import time
import zlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from PIL import Image
from starlette.routing import Route

from miliacheck.api import create_app
from miliacheck.clinic import accounts
from miliacheck.config import Settings
from miliacheck.kb.load import KnowledgeBase
from miliacheck.store import Store
from tests.conftest import FormClient, serving

PASSWORD = "correct horse battery staple"
CASE = {"age_years": 40, "locations": ["cheeks"], "findings": {"firm": True}}

#: Who may use each route. A route missing here fails the matrix test.
#:   public     anyone
#:   interview  anyone holding the interview's id (an unguessable link)
#:   person     only the holder of the request's private key
#:   clinician  only a logged-in clinician
RULES: dict[tuple[str, str], str] = {
    ("GET", "/openapi.json"): "public",
    ("GET", "/docs"): "public",
    ("POST", "/api/v1/assess"): "public",
    ("GET", "/api/v1/conditions"): "public",
    ("GET", "/api/v1/conditions/{condition_id}"): "public",
    ("GET", "/api/v1/findings"): "public",
    ("GET", "/api/v1/questions"): "public",
    ("POST", "/api/v1/ask"): "public",
    ("GET", "/api/v1/articles"): "public",
    ("GET", "/api/v1/articles/{slug}"): "public",
    ("POST", "/api/v1/interviews"): "public",
    ("GET", "/api/v1/interviews/{interview_id}"): "interview",
    ("DELETE", "/api/v1/interviews/{interview_id}"): "interview",
    ("POST", "/api/v1/interviews/{interview_id}/answers"): "interview",
    ("DELETE", "/api/v1/interviews/{interview_id}/answers/{question_id}"): "interview",
    ("POST", "/api/v1/consultations"): "public",
    ("GET", "/api/v1/consultations"): "clinician",
    ("GET", "/api/v1/consultations/{consultation_id}"): "clinician",
    ("GET", "/api/v1/consultations/{consultation_id}/fhir"): "clinician",
    ("GET", "/api/v1/requests/{key}"): "person",
    ("POST", "/api/v1/requests/{key}/withdraw"): "person",
    ("DELETE", "/api/v1/requests/{key}"): "person",
    ("GET", "/api/v1/fhir/Questionnaire/miliacheck"): "public",
    ("GET", "/api/v1/fhir/CodeSystem"): "public",
    ("GET", "/api/v1/health"): "public",
    ("GET", "/api/v1/ready"): "public",
    ("GET", "/metrics"): "public",  # counts by route and care level only: no personal data
    ("GET", "/"): "public",
    ("GET", "/check"): "public",
    ("POST", "/check"): "public",
    ("GET", "/check/{interview_id}"): "interview",
    ("POST", "/check/{interview_id}/answer"): "interview",
    ("POST", "/check/{interview_id}/correct"): "interview",
    ("POST", "/check/{interview_id}/back"): "interview",
    ("GET", "/check/{interview_id}/result"): "interview",
    ("POST", "/check/{interview_id}/erase"): "interview",
    ("POST", "/feedback"): "public",
    ("GET", "/ask"): "public",
    ("POST", "/ask"): "public",
    ("GET", "/library"): "public",
    ("GET", "/library/{slug}"): "public",
    ("GET", "/about"): "public",
    ("GET", "/privacy"): "public",
    ("GET", "/safety"): "public",
    ("GET", "/consult/{interview_id}"): "interview",
    ("POST", "/consult/{interview_id}"): "interview",
    ("GET", "/requests/{key}"): "person",
    ("POST", "/requests/{key}/withdraw"): "person",
    ("POST", "/requests/{key}/erase"): "person",
    ("GET", "/requests/{key}/photos/{n}"): "person",
    ("GET", "/clinic/login"): "public",
    ("POST", "/clinic/login"): "public",
    ("POST", "/clinic/logout"): "public",  # harmless: it only ends the caller's own session
    ("GET", "/clinic"): "clinician",
    ("GET", "/clinic/requests/{cid}"): "clinician",
    ("POST", "/clinic/requests/{cid}"): "clinician",
    ("GET", "/clinic/requests/{cid}/photos/{n}"): "clinician",
    ("GET", "/clinic/requests/{cid}/summary"): "clinician",
    ("GET", "/clinic/requests/{cid}/summary.pdf"): "clinician",
    ("GET", "/clinic/audit"): "clinician",
}


def routes(app: Any) -> list[tuple[str, str]]:
    out = []
    for r in app.routes:
        if isinstance(r, APIRoute | Route):
            out += [(m, r.path) for m in sorted(r.methods or []) if m != "HEAD"]
    return out


def jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), "white").save(buf, "JPEG")
    return buf.getvalue()


@pytest.fixture
def app(kb: KnowledgeBase, store: Store) -> Any:
    return create_app(Settings(), kb=kb, store=store)


@pytest.fixture
def world(app: Any, store: Store) -> dict[str, Any]:
    """Two people with a request each (one with a photo), and a clinician."""
    accounts.add_clinician(store, "doc@clinic.example", "Dr Doc", PASSWORD)
    c = FormClient(app)
    made = []
    for _ in range(2):
        iid = c.post("/api/v1/interviews", json={"case": CASE}).json()["id"]
        body = {"interview_id": iid, "email": "p@example.org", "consent": True}
        body["photos"] = [base64.b64encode(jpeg()).decode()]
        r = c.post("/api/v1/consultations", json=body)
        assert r.status_code == 201, r.text
        made.append({"interview": iid, **r.json()})
    return {"mine": made[0], "theirs": made[1]}


def fill(path: str, req: dict[str, Any]) -> str:
    return (
        path.replace("{interview_id}", req["interview"])
        .replace("{key}", req["key"])
        .replace("{cid}", req["id"])
        .replace("{consultation_id}", req["id"])
        .replace("{question_id}", "q_any")
        .replace("{condition_id}", "milia_primary")
        .replace("{slug}", "milia")
        .replace("{n}", "1")
    )


def call(client: FormClient, method: str, path: str) -> Any:
    if method == "GET":
        return client.get(path, follow_redirects=False)
    if method == "DELETE":
        return client.delete(path)
    if path.startswith("/api/"):
        return client.post(path, json={})
    return client.post(path, data={}, follow_redirects=False)


def test_every_route_has_an_authorisation_rule(app: Any) -> None:
    missing = [r for r in routes(app) if r not in RULES]
    assert not missing, f"routes without an authorisation rule: {missing}"
    stale = [r for r in RULES if r not in routes(app)]
    assert not stale, f"rules for routes that no longer exist: {stale}"


def test_clinic_routes_refuse_anyone_not_logged_in(app: Any, world: dict[str, Any]) -> None:
    anonymous = FormClient(app)
    person = FormClient(app)  # holds a private link, is not a clinician
    person.get(f"/requests/{world['mine']['key']}")
    forged = FormClient(app)
    forged.cookies.set("mc_session", "forged-session-token-" + "x" * 20, domain="testserver.local")
    for method, path in routes(app):
        if RULES[(method, path)] != "clinician":
            continue
        url = fill(path, world["mine"])
        for who in (anonymous, person, forged):
            r = call(who, method, url)
            if path.startswith("/api/"):
                assert r.status_code == 401, (method, path, r.status_code)
            else:
                assert r.status_code == 303, (method, path, r.status_code)
                assert r.headers["location"].startswith("/clinic/login")
            assert b"p@example.org" not in r.content


def test_a_clinician_reaches_every_clinic_route(app: Any, world: dict[str, Any]) -> None:
    doc = FormClient(app)
    doc.post("/clinic/login", data={"email": "doc@clinic.example", "password": PASSWORD})
    for method, path in routes(app):
        if RULES[(method, path)] != "clinician":
            continue
        r = call(doc, method, fill(path, world["mine"]))
        assert r.status_code in (200, 303, 422), (method, path, r.status_code)


def test_a_private_link_opens_only_its_own_request(app: Any, world: dict[str, Any]) -> None:
    stranger = FormClient(app)
    for method, path in routes(app):
        if RULES[(method, path)] != "person":
            continue
        wrong = fill(path, {**world["mine"], "key": "not-" + world["theirs"]["key"]})
        r = call(stranger, method, wrong)
        assert r.status_code == 404, (method, path, r.status_code)
        # The clinic's id is not a key: it opens nothing for the person.
        by_id = fill(path, {**world["mine"], "key": world["mine"]["id"]})
        assert call(stranger, method, by_id).status_code == 404, (method, path)
    # A key opens its own request and not another's photos.
    mine = stranger.get(f"/api/v1/requests/{world['mine']['key']}").json()
    assert mine["id"] == world["mine"]["id"]
    assert "notes" not in mine and "result" not in mine


def test_every_page_form_needs_the_csrf_token(app: Any, world: dict[str, Any]) -> None:
    client = FormClient(app)
    client.get("/")
    other = FormClient(app)
    stolen_elsewhere = other.csrf()
    for method, path in routes(app):
        if method != "POST" or path.startswith("/api/"):
            continue
        url = fill(path, world["mine"])
        without = client.post(url, data={"email": "x"}, csrf=False, follow_redirects=False)
        assert without.status_code == 403, (path, without.status_code)
        wrong = client.post(
            url, data={"csrf_token": stolen_elsewhere}, csrf=False, follow_redirects=False
        )
        assert wrong.status_code == 403, path
    # Nothing changed: the request is still there and still new.
    assert client.get(f"/api/v1/requests/{world['mine']['key']}").json()["status"] == "new"


def test_the_csrf_and_session_cookies_are_safe(app: Any, world: dict[str, Any]) -> None:
    client = FormClient(app)
    first = client.get("/")
    assert (
        "HttpOnly" in first.headers["set-cookie"] and "SameSite=Lax" in first.headers["set-cookie"]
    )
    r = client.post(
        "/clinic/login",
        data={"email": "doc@clinic.example", "password": PASSWORD},
        follow_redirects=False,
    )
    cookies = r.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("mc_session="))
    assert "HttpOnly" in session and "SameSite=Lax" in session and "Max-Age=" in session
    secure = FormClient(app, base_url="https://testserver")
    r = secure.post(
        "/clinic/login",
        data={"email": "doc@clinic.example", "password": PASSWORD},
        follow_redirects=False,
    )
    assert all("Secure" in c for c in r.headers.get_list("set-cookie"))
    assert "max-age" in r.headers["strict-transport-security"]


def test_login_issues_a_new_session_and_rotates_the_csrf_token(
    app: Any, world: dict[str, Any], store: Store
) -> None:
    # An attacker plants a session id and a CSRF token, then the victim logs in.
    victim = FormClient(app)
    victim.cookies.set("mc_session", "planted-by-attacker-" + "a" * 24, domain="testserver.local")
    planted_csrf = victim.csrf()
    victim.post("/clinic/login", data={"email": "doc@clinic.example", "password": PASSWORD})
    assert victim.cookies["mc_session"] != "planted-by-attacker-" + "a" * 24
    assert victim.cookies["mc_csrf"] != planted_csrf
    assert accounts.current(store, "planted-by-attacker-" + "a" * 24) is None
    # An old session is dropped when the same browser logs in again.
    old = victim.cookies["mc_session"]
    victim.post("/clinic/login", data={"email": "doc@clinic.example", "password": PASSWORD})
    assert accounts.current(store, old) is None
    assert victim.get("/clinic").status_code == 200
    # Logging out ends the session on the server.
    token = victim.cookies["mc_session"]
    victim.post("/clinic/logout")
    assert accounts.current(store, token) is None


def test_failed_logins_are_throttled_by_account_and_by_address(
    app: Any, world: dict[str, Any], store: Store
) -> None:
    client = FormClient(app)
    for _ in range(accounts.FREE_FAILURES):
        r = client.post("/clinic/login", data={"email": "doc@clinic.example", "password": "wrong"})
        assert r.status_code == 401
    # Even the right password waits now, and says how long.
    r = client.post("/clinic/login", data={"email": "doc@clinic.example", "password": PASSWORD})
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    # The same address trying another account also waits (address key).
    r = client.post("/clinic/login", data={"email": "other@clinic.example", "password": "x"})
    assert r.status_code == 429


def test_the_back_off_doubles_and_is_capped() -> None:
    from datetime import UTC, datetime, timedelta

    at = datetime(2026, 1, 1, tzinfo=UTC)
    waits = [accounts._wait(n, at, at) for n in range(3, 20)]
    assert waits[0] == timedelta(0)  # below the free failures
    growing = [w for w in waits if w > timedelta(0)]
    assert growing == sorted(growing) and growing[1] == 2 * growing[0]
    assert max(growing) == accounts.MAX_WAIT


def _png_bomb(width: int, height: int) -> bytes:
    """A tiny valid-looking PNG that declares a huge image."""
    raw = zlib.compress(b"\x00" * 64)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def test_upload_abuse_is_refused_with_a_named_field(app: Any) -> None:
    client = FormClient(app)
    iid = client.post("/api/v1/interviews", json={"case": CASE}).json()["id"]
    base = {"email": "a@b.org", "consent": "yes"}
    abuse = {
        "wrong type": b"%PDF-1.7\n" + b"x" * 100,
        "html as a picture": b"<html><script>alert(1)</script></html>",
        "a decompression bomb": _png_bomb(100_000, 100_000),
        "truncated": jpeg()[:200],
    }
    for what, data in abuse.items():
        r = client.post(
            f"/consult/{iid}", data=base, files=[("photos", ("p.jpg", data, "image/jpeg"))]
        )
        assert r.status_code == 422, what
        assert "Photo 1" in r.text, what
    polyglot = jpeg() + b"<script>alert(1)</script>PK\x03\x04"
    r = client.post(
        f"/consult/{iid}",
        data=base,
        files=[("photos", ("p.jpg", polyglot, "image/jpeg"))],
        follow_redirects=False,
    )
    assert r.status_code == 303
    key = r.headers["location"].split("/")[2].split("?")[0]
    stored = client.get(f"/requests/{key}/photos/1").content
    assert b"<script>" not in stored and b"PK\x03\x04" not in stored
    assert client.get(f"/requests/{key}/photos/1").headers["x-content-type-options"] == "nosniff"


def test_oversize_bodies_are_refused_before_they_are_read(app: Any) -> None:
    client = FormClient(app)
    iid = client.post("/api/v1/interviews", json={"case": CASE}).json()["id"]
    big = b"\xff\xd8" + b"0" * (46 * 1024 * 1024)
    r = client.post(
        f"/consult/{iid}",
        data={"email": "a@b.org", "consent": "yes"},
        files=[("photos", ("p.jpg", big, "image/jpeg"))],
    )
    assert r.status_code == 413
    r = client.post("/api/v1/assess", content=b"{" + b" " * (2 * 1024 * 1024) + b"}")
    assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"
    one_photo_too_big = b"\xff\xd8" + b"0" * (11 * 1024 * 1024)
    r = client.post(
        f"/consult/{iid}",
        data={"email": "a@b.org", "consent": "yes"},
        files=[("photos", ("p.jpg", one_photo_too_big, "image/jpeg"))],
    )
    assert r.status_code == 422 and "larger than 10 MB" in r.text


def test_every_route_sends_the_security_headers(app: Any, world: dict[str, Any]) -> None:
    doc = FormClient(app)
    doc.post("/clinic/login", data={"email": "doc@clinic.example", "password": PASSWORD})
    for method, path in routes(app):
        if method != "GET":
            continue
        r = doc.get(fill(path, world["mine"]), follow_redirects=False)
        csp = r.headers.get("content-security-policy", "")
        assert csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp, path
        assert "frame-ancestors 'none'" in csp, path
        assert r.headers["x-content-type-options"] == "nosniff", path
        assert r.headers["referrer-policy"] == "no-referrer", path
    # Errors too.
    r = doc.get("/no/such/page")
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]


def test_the_pages_have_no_inline_script_or_style() -> None:
    from miliacheck.web.pages import HERE

    for template in (HERE / "templates").glob("*.html"):
        html = template.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), template.name
        assert not re.search(r"\sstyle=|<style", html), template.name
        assert not re.search(r"\son[a-z]+=", html), template.name


# ---- personal data never reaches the logs ----------------------------------------------

CANARIES = {
    "name": "Zebediah Canaryname",
    "email": "canary.mail@example.org",
    "phone": "+44 7700 900777",
    "narrative": "canarynarrative tiny white bumps under my eyes",
    "comment": "canarycomment this was odd",
    "question": "canaryquestion can I pop milia",
    "note": "canarynote called the patient",
    "password": "canarypassword-wrong",
}


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        self.lines.append(text)


@pytest.fixture
def captured() -> Iterator[Capture]:
    """Every logger at debug level into one handler. uvicorn's loggers are reset too: a
    server started earlier in the session may have configured them not to propagate."""
    handler = Capture()
    root = logging.getLogger()
    names = ["uvicorn", "uvicorn.error", "uvicorn.access", "miliacheck", "miliacheck.api"]
    saved = [(n, logging.getLogger(n)) for n in names]
    state = [(lg.level, lg.propagate, lg.disabled, list(lg.handlers)) for _, lg in saved]
    before = root.level
    for _, lg in saved:
        lg.setLevel(logging.DEBUG)
        lg.propagate = True
        lg.disabled = False
        lg.handlers = []
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(before)
        for (_, lg), (level, propagate, disabled, handlers) in zip(saved, state, strict=True):
            lg.setLevel(level)
            lg.propagate = propagate
            lg.disabled = disabled
            lg.handlers = handlers


class Live:
    """A browser-like client of the live server: cookies, and the form's CSRF token."""

    def __init__(self, base: str) -> None:
        self.http = httpx.Client(base_url=base, timeout=60)
        self.http.get("/about")

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        if "data" in kwargs or "files" in kwargs:
            kwargs["data"] = {**kwargs.get("data", {}), "csrf_token": self.http.cookies["mc_csrf"]}
        return self.http.post(path, **kwargs)

    def get(self, path: str) -> httpx.Response:
        return self.http.get(path)

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def live(app: Any) -> Iterator[str]:
    """The app on a real uvicorn server with access logs, logging left to the root logger."""
    with serving(app, log_config=None, log_level="debug", access_log=True) as url:
        yield url


def test_personal_data_never_reaches_the_logs(
    live: str, world: dict[str, Any], captured: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, doc = Live(live), Live(live)
    try:
        check_logs(client, doc, captured, monkeypatch)
    finally:
        client.close()
        doc.close()


def check_logs(client: Live, doc: Live, captured: Capture, monkeypatch: pytest.MonkeyPatch) -> None:
    c = CANARIES
    # Every route, happy and error paths, with the canaries in every field it could take.
    iid = client.post(
        "/api/v1/interviews", json={"case": {**CASE, "narrative": c["narrative"]}}
    ).json()["id"]
    client.post("/api/v1/assess", json={**CASE, "narrative": c["narrative"]})
    client.post("/api/v1/assess", json={**CASE, "narrative": c["narrative"], "bad": c["name"]})
    client.post("/api/v1/assess", content=("{" + c["narrative"]).encode())
    client.post("/api/v1/ask", json={"question": c["question"]})
    client.post("/api/v1/ask", json={"question": c["question"], "x": c["email"]})
    contact = {"name": c["name"], "email": c["email"], "phone": c["phone"]}
    made = client.post(
        "/api/v1/consultations",
        json={"interview_id": iid, "consent": True, "preferred_times": c["comment"], **contact},
    ).json()
    client.post("/api/v1/consultations", json={"interview_id": iid, **contact})  # no consent
    client.post(
        "/api/v1/consultations",
        json={"interview_id": iid, "consent": True, "photos": [c["name"]], **contact},
    )
    client.post("/check", data={"whose": "me", "age": "30", "narrative": c["narrative"]})
    client.post("/check", data={"whose": "me", "age": c["name"], "narrative": c["narrative"]})
    client.post("/ask", data={"question": c["question"]})
    client.post("/feedback", data={"helpful": "no", "comment": c["comment"], "next": "/"})
    client.post(f"/consult/{iid}", data={**contact, "consent": "yes"})
    client.post(f"/consult/{iid}", data={**contact, "email": c["name"]})  # invalid email
    client.post(f"/consult/{iid}", data=contact, files={"photos": ("a.jpg", c["name"].encode())})
    client.http.post("/check", data={"narrative": c["narrative"]})  # no CSRF token: 403
    client.post("/clinic/login", data={"email": c["email"], "password": c["password"]})
    doc.post("/clinic/login", data={"email": "doc@clinic.example", "password": PASSWORD})
    doc.post(f"/clinic/requests/{made['id']}", data={"note": c["note"], "status": "contacted"})
    doc.post(f"/clinic/requests/{made['id']}", data={"note": c["note"], "status": "nonsense"})
    for path in (
        "/clinic",
        f"/clinic/requests/{made['id']}",
        f"/api/v1/consultations/{made['id']}/fhir",
        f"/clinic/requests/{made['id']}/summary.pdf",
    ):
        assert doc.get(path).status_code == 200, path
    # An unexpected failure whose message holds personal data is logged by type only.
    from miliacheck import service

    def explode(*_: Any, **__: Any) -> Any:
        raise RuntimeError(c["narrative"])

    monkeypatch.setattr(service, "assess_json", explode)
    r = client.post("/api/v1/assess", json={**CASE, "narrative": c["narrative"]})
    assert r.status_code == 500 and c["narrative"].encode() not in r.content
    time.sleep(0.3)
    logged = "\n".join(captured.lines)
    assert '"POST /api/v1/assess HTTP/1.1" 500' in logged  # access logs are captured
    assert "RuntimeError" in logged  # and the failure, by type
    for field, value in c.items():
        assert value not in logged, f"{field} reached the logs"
        for piece in value.split():
            if "canary" in piece.lower():
                assert piece not in logged, f"{field} reached the logs"

"""Security headers on every response, and CSRF protection on every form.

CSRF uses a double-submit token: a random ``mc_csrf`` cookie (HttpOnly, SameSite=Lax,
Secure under HTTPS) and the same value in a hidden ``csrf_token`` field of every form.
A cross-site page can make a browser send the cookie but cannot read it to fill in the
field. Every state-changing request to a page (not ``/api/``, which takes JSON and no
cookies except a clinician's read-only GETs) must carry it. The token is rotated at
login, so a token planted before login is useless after it.

The pages use no inline script or style, so the Content-Security-Policy needs no
``unsafe-inline``; the API's interactive docs get a per-response nonce instead.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import traceback
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import HTTPException, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("miliacheck.api")
CSRF_COOKIE = "mc_csrf"
CSRF_FIELD = "csrf_token"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "cross-origin-opener-policy": "same-origin",
}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
#: Bodies larger than this are refused before they are read (413): photos go to two
#: paths only (3 x 10 MB, base64 in the API); everything else is small JSON or a form.
MAX_BODY = 1024 * 1024
MAX_UPLOAD_BODY = 45 * 1024 * 1024
UPLOAD_PATHS = re.compile(r"^/(api/v1/consultations|consult/[^/]+)$")


class BodyTooLarge(Exception):
    pass


def is_https(scope: Scope) -> bool:
    return scope.get("scheme") == "https"


def cookie_header(name: str, value: str, https: bool, max_age: int | None = None) -> str:
    parts = [f"{name}={value}", "Path=/", "HttpOnly", "SameSite=Lax"]
    if https:
        parts.append("Secure")
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    return "; ".join(parts)


def _cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                k, _, v = part.strip().partition("=")
                if k == name:
                    return v
    return None


class SecurityMiddleware:
    """Adds the headers, and gives every browser a CSRF token (``request.state.csrf``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = _cookie(scope, CSRF_COOKIE)
        fresh = token is None or not _TOKEN.match(token)
        if fresh:
            token = secrets.token_urlsafe(32)
        scope.setdefault("state", {})["csrf"] = token
        api = scope["path"].startswith("/api/")
        limit = MAX_UPLOAD_BODY if UPLOAD_PATHS.match(scope["path"]) else MAX_BODY
        declared = next((v for k, v in scope.get("headers", []) if k == b"content-length"), None)
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _too_large(scope, send, limit)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        async def with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers: list[tuple[bytes, bytes]] = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                for key, value in HEADERS.items():
                    if key.encode() not in present:
                        headers.append((key.encode(), value.encode()))
                if is_https(scope):
                    headers.append((b"strict-transport-security", b"max-age=31536000"))
                if fresh and not api and b"set-cookie" not in present:
                    header = cookie_header(CSRF_COOKIE, str(token), is_https(scope))
                    headers.append((b"set-cookie", header.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, counted, with_headers)
        except BodyTooLarge:
            if started:
                raise
            await _too_large(scope, send, limit)
        except Exception as exc:
            # Logged by type and place only: an exception's message or traceback can hold
            # what the person typed. Not re-raised, so the server does not log it either.
            where = traceback.extract_tb(exc.__traceback__)[-1]
            log.error(
                "unexpected error on %s %s: %s at %s:%s in %s",
                scope.get("method"),
                scope["path"],
                type(exc).__name__,
                Path(where.filename).name,
                where.lineno,
                where.name,
            )
            if not started:
                await _problem(send, 500, "Internal error", "unexpected error; nothing was stored")


async def _too_large(scope: Scope, send: Send, limit: int) -> None:
    await _problem(send, 413, "The request is too large", f"at most {limit // (1024 * 1024)} MB")


async def _problem(send: Send, status: int, title: str, message: str) -> None:
    problem = {"title": title, "status": status, "errors": [{"field": None, "message": message}]}
    body = json.dumps(problem).encode()
    headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
    ]
    headers += [(k.encode(), v.encode()) for k, v in HEADERS.items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def csrf_protect(request: Request) -> AsyncIterator[None]:
    """App-wide dependency: every unsafe request to a page must carry the form's token.

    The form it reads is closed after the response (uploaded files are temporary files).
    """
    if request.method not in UNSAFE or request.url.path.startswith("/api/"):
        yield
        return
    cookie = request.cookies.get(CSRF_COOKIE, "")
    form = None
    try:
        form = await request.form()
    except BodyTooLarge:
        raise
    except Exception:  # an unreadable body cannot carry a token
        form = None
    try:
        sent = str(form.get(CSRF_FIELD, "")) if form is not None else ""
        if not cookie or not sent or not secrets.compare_digest(cookie.encode(), sent.encode()):
            raise HTTPException(
                403,
                "This form has expired or did not come from this site. "
                "Please go back, reload the page and try again.",
            )
        yield
    finally:
        if form is not None:
            await form.close()


def csrf_token(request: Request) -> str:
    state: Any = request.scope.get("state", {})
    return str(state.get("csrf", ""))

"""Operations: Prometheus metrics and per-client rate limiting of the API.

Routes are counted by their template (``/api/v1/interviews/{interview_id}``), never by
the path a request used (see :mod:`miliacheck.metrics`).

The rate limiter (``limits``, a moving window in memory) counts API requests per client
address; each worker counts its own, so the effective limit behind N workers is up to N
times the setting: docs/deploy.md says how to limit at the reverse proxy as well.
"""

from __future__ import annotations

import json
import time

from limits import parse, storage, strategies
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from miliacheck.metrics import LATENCY, RATE_LIMITED, REQUESTS


class MetricsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            REQUESTS.labels(scope["method"], route, str(status)).inc()
            LATENCY.labels(route).observe(time.perf_counter() - start)


class RateLimitMiddleware:
    """At most ``limit`` (e.g. ``"600/minute"``) API requests per client address."""

    def __init__(self, app: ASGIApp, limit: str, exempt: frozenset[str]) -> None:
        self.app = app
        self.item = parse(limit)
        self.window = strategies.MovingWindowRateLimiter(storage.MemoryStorage())
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("unknown", 0))[0]
        if client in self.exempt or self.window.hit(self.item, client):
            await self.app(scope, receive, send)
            return
        RATE_LIMITED.inc()
        reset = self.window.get_window_stats(self.item, client).reset_time
        wait = max(1, int(reset - time.time() + 0.999))
        body = json.dumps(
            {
                "title": "Too many requests",
                "status": 429,
                "errors": [{"field": None, "message": f"too many requests: try again in {wait} s"}],
            }
        ).encode()
        headers = [
            (b"content-type", b"application/problem+json"),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(wait).encode()),
        ]
        await send({"type": "http.response.start", "status": 429, "headers": headers})
        await send({"type": "http.response.body", "body": body})

"""Prometheus metrics. No personal data: routes by template, results by care level only.

With several worker processes, set ``PROMETHEUS_MULTIPROC_DIR`` (see docs/deploy.md) so
that ``/metrics`` adds up every worker.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUESTS = Counter("miliacheck_requests", "HTTP requests answered", ["method", "route", "status"])
LATENCY = Histogram(
    "miliacheck_request_seconds",
    "Time to answer a request",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
INTERVIEWS_STARTED = Counter("miliacheck_interviews_started", "Stored interviews started")
INTERVIEWS_FINISHED = Counter(
    "miliacheck_interviews_finished", "Stored interviews that reached their result"
)
RESULTS = Counter("miliacheck_results", "Results given, by care level", ["level"])
CONSULTATIONS = Counter(
    "miliacheck_consultations", "Consultation requests made, by care level", ["level"]
)
RATE_LIMITED = Counter("miliacheck_rate_limited", "API requests refused by the rate limiter")


def metrics_body() -> tuple[bytes, str]:
    """The exposition text: every worker's, when running with several processes."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST

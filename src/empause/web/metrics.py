"""Prometheus metrics: requests, pauses, operation durations (served at /metrics)."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

REQUESTS = Counter(
    "empause_http_requests_total", "HTTP requests served.", ["method", "route", "status"]
)
REQUEST_SECONDS = Histogram(
    "empause_http_request_duration_seconds", "Time to answer an HTTP request.", ["route"]
)
OPERATIONS = Counter(
    "empause_operations_total", "Pause / resume operations started.", ["kind", "source"]
)
OPERATION_SECONDS = Histogram(
    "empause_operation_duration_seconds",
    "Wall time of pause / resume operations, start to finish.",
    ["kind", "outcome"],
    buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800),
)


def render() -> tuple[bytes, str]:
    return generate_latest(), CONTENT_TYPE_LATEST

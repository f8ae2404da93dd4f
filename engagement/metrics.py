"""GET /metrics: Prometheus text for the operators' scraper — requests by endpoint and status,
their latency, the rate-limit refusals, and the confirmation emails a mail domain's
throttle delays.

Counters live in the process, or, with PROMETHEUS_MULTIPROC_DIR set, in files there that
prometheus_client adds up across processes: gunicorn.conf.py sets it for gunicorn's workers."""

from __future__ import annotations

import functools
import hmac
import os
import time

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

from engagement.clients import client_address
from engagement.errors import Forbidden

bp = Blueprint("metrics", __name__)

# Labels come from a closed set, so that no request can add a series: any other method is
# "other", any path that matches no route is "unmatched", and statuses are the service's own.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

# One registry per process, made once: Prometheus metrics cannot be registered twice.
REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter(
    "engagement_http_requests_total", "HTTP requests answered",
    ["method", "endpoint", "status"], registry=REGISTRY,
)
LATENCY = Histogram(
    "engagement_http_request_duration_seconds", "Time to answer an HTTP request",
    ["method", "endpoint"], registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
# No domain label: the domains readers type are not a closed set (the log names the domain).
CONFIRMATIONS_DELAYED = Counter(
    "engagement_newsletter_confirmations_delayed_total",
    "Newsletter confirmation emails queued for later by ENGAGEMENT_LIMIT_MAIL_DOMAIN",
    registry=REGISTRY,
)


@bp.get("/metrics")
def metrics():
    """Prometheus text exposition, for the addresses of `ENGAGEMENT_METRICS_ALLOW` or the
    bearer of `ENGAGEMENT_METRICS_TOKEN`."""
    if not _may_scrape():
        raise Forbidden("Metrics are for the operators' scraper.")
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    response = Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
    response.cache_control.no_store = True
    return response


def _may_scrape() -> bool:
    config = current_app.config
    token = config["METRICS_TOKEN"]
    scheme, _, offered = request.headers.get("Authorization", "").partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(
        offered.strip().encode(), token.encode()
    ):
        return True
    address = client_address()
    return address is not None and any(
        address.version == network.version and address in network
        for network in config["METRICS_ALLOW"]
    )


def _method_label() -> str:
    return request.method if request.method in KNOWN_METHODS else "other"


def _started():
    g.request_started = time.perf_counter()


def _observed(response):
    endpoint = request.url_rule.endpoint if request.url_rule else "unmatched"
    if endpoint != "metrics.metrics":
        observe(_method_label(), endpoint, response.status_code, g.get("request_started"))
    return response


def observe(method: str, endpoint: str, status: int, started: float | None) -> None:
    """Count an answer, and its time from `started` (time.perf_counter) when known."""
    requests, latency = _series(method, endpoint, status)
    requests.inc()
    if started is not None:
        latency.observe(time.perf_counter() - started)


# The labels are a closed set (KNOWN_METHODS, the routes, the statuses), so every series of the
# process is kept: looking one up by its labels costs more than counting in it.
@functools.cache
def _series(method: str, endpoint: str, status: int) -> tuple[Counter, Histogram]:
    return REQUESTS.labels(method, endpoint, str(status)), LATENCY.labels(method, endpoint)


def register_metrics(app: Flask) -> None:
    app.register_blueprint(bp)
    app.before_request(_started)
    app.after_request(_observed)

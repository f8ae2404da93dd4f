"""Rate limits per client address, one named limit per kind of request, each read from its
`ENGAGEMENT_LIMIT_*` setting when the request comes (flask-limiter strings like "5/minute").

Counts live in `ENGAGEMENT_RATELIMIT_STORAGE_URI`, shared by every worker and host. When that
store stops answering, public reads go unlimited (as the contract says: readers must not meet
the outage), and every other limit falls back to per-process counts of its share of the limit:
the limit divided by the number of worker processes (`WEB_CONCURRENCY`, which gunicorn.conf.py
sets to gunicorn's own count), rounded up, so that a client spread over all the workers gets
about the limit, not the limit once per worker. The store is checked again with a growing
back-off and takes over when it answers.

A write spends its quota only when it was not refused for its form (400, 413, 415, 422), by
the limit itself (429) or by the service's trouble (5xx), and was not an Idempotency-Key
replay: a client whose writes fail during an outage still has its quota when it retries."""

from __future__ import annotations

import logging
import math
import os
import time

from flask import Flask, current_app
from limits import parse_many

from engagement.extensions import limiter

log = logging.getLogger("engagement.limits")


def _setting(name: str):
    def limit() -> str:
        value = current_app.config[f"LIMIT_{name}"]
        return per_process_share(value, worker_count()) if limit_store_down() else value

    return limit


def worker_count() -> int:
    try:
        return max(int(os.environ.get("WEB_CONCURRENCY", "1") or 1), 1)
    except ValueError:
        return 1


def per_process_share(limits: str, workers: int) -> str:
    """Each limit of a flask-limiter string divided among `workers` processes, rounded up."""
    return ";".join(
        f"{max(math.ceil(item.amount / workers), 1)}/{item.multiples} {item.GRANULARITY.name}"
        for item in parse_many(limits))


# Answers that do not spend a write's quota (the Idempotency-Key replay header aside).
REFUSED_WITHOUT_COST = frozenset({400, 413, 415, 422, 429})


def spends_quota(response) -> bool:
    if response.status_code >= 500 or response.status_code in REFUSED_WITHOUT_COST:
        return False
    return response.headers.get("Idempotent-Replayed") != "true"


def limit_store_down() -> bool:
    """Whether the shared store was found unreachable and limits run on per-process counts."""
    # flask-limiter keeps this state privately; its fallback is what decides it.
    return bool(getattr(limiter, "_storage_dead", False))


def _write_limit(name: str, scope: str):
    return limiter.shared_limit(_setting(name), scope=scope, deduct_when=spends_quota)


comments = _write_limit("COMMENTS", "comments")
edits = _write_limit("EDITS", "edits")
flags = _write_limit("FLAGS", "flags")
shares = _write_limit("SHARES", "shares")
votes = _write_limit("VOTES", "votes")
subscriptions = _write_limit("SUBSCRIPTIONS", "subscriptions")
reads = limiter.shared_limit(_setting("READS"), scope="reads", exempt_when=limit_store_down)
admin = limiter.shared_limit(_setting("ADMIN"), scope="admin")


def spend(limit: str, scope: str, key: str) -> int | None:
    """Count one event against a limit outside a view's decorator (a failed sign-in, a mail
    to one mailbox): None while allowed, else the seconds until it is allowed again. Limits
    off, or a store that does not answer, allow it, as the decorators do."""
    if not current_app.config["RATELIMIT_ENABLED"]:
        return None
    strategy = limiter.limiter
    try:
        for item in parse_many(limit):
            if not strategy.hit(item, scope, key):
                reset_at, _ = strategy.get_window_stats(item, scope, key)
                return max(1, int(reset_at - time.time()) + 1)
    except Exception:  # the store is down: fail open, like the decorators
        log.warning("rate-limit store unreachable while counting %s", scope)
    return None


def register_limits(app: Flask) -> None:
    config = app.config
    # The OpenAPI document and its page are public reads like any other.
    if "api-docs" in app.blueprints:
        reads(app.blueprints["api-docs"])
    config.setdefault("RATELIMIT_STRATEGY", "moving-window")
    config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    config.setdefault("RATELIMIT_KEY_PREFIX", "engagement")
    if config["RATELIMIT_STORAGE_URI"].startswith(("redis://", "rediss://", "unix://")):
        # A store that hangs must not hold the request: past this, limits run per process.
        timeout = config["RATELIMIT_STORAGE_TIMEOUT"]
        config.setdefault("RATELIMIT_STORAGE_OPTIONS",
                          {"socket_timeout": timeout, "socket_connect_timeout": timeout})
    # Registered before the limiter's own: after_request functions run last-registered first,
    # so this one runs after flask-limiter has written its headers.
    app.after_request(_retry_after_where_it_means_something)
    limiter.init_app(app)


def _retry_after_where_it_means_something(response):
    """flask-limiter sets Retry-After to its window's reset on every answer it counted. A 429
    keeps it (when the limit lets the client in again); a 503 says when to try again itself
    (ENGAGEMENT_RETRY_AFTER_SECONDS); on any other answer it would ask a client to wait for
    nothing (X-RateLimit-Reset tells when the window starts again)."""
    if response.status_code == 503:
        response.headers["Retry-After"] = str(current_app.config["RETRY_AFTER_SECONDS"])
    elif response.status_code != 429:
        response.headers.pop("Retry-After", None)
    return response


def limit_store_status() -> str:
    """For /readyz: "ok", or "degraded" while limits run on per-process counts."""
    if not current_app.config["RATELIMIT_ENABLED"]:
        return "disabled"
    try:
        healthy = limiter.storage.check()
    except Exception:  # any failure to reach the store means the same to a probe
        healthy = False
    return "ok" if healthy else "degraded"

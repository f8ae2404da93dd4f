"""Rate limits per client address, one named limit per kind of request, each read from its
`ENGAGEMENT_LIMIT_*` setting when the request comes (flask-limiter strings like "5/minute").

Counts live in `ENGAGEMENT_RATELIMIT_STORAGE_URI`, shared by every worker and host. When that
store stops answering, writes fall back to per-process counts and reads go unlimited, until the
store answers again (flask-limiter checks it again with a growing back-off)."""

from __future__ import annotations

import logging
import time

from flask import Flask, current_app
from limits import parse_many

from engagement.extensions import limiter

log = logging.getLogger("engagement.limits")


def _setting(name: str):
    return lambda: current_app.config[f"LIMIT_{name}"]


def limit_store_down() -> bool:
    """Whether the shared store was found unreachable and limits run on per-process counts."""
    # flask-limiter keeps this state privately; its fallback is what decides it.
    return bool(getattr(limiter, "_storage_dead", False))


comments = limiter.shared_limit(_setting("COMMENTS"), scope="comments")
edits = limiter.shared_limit(_setting("EDITS"), scope="edits")
flags = limiter.shared_limit(_setting("FLAGS"), scope="flags")
shares = limiter.shared_limit(_setting("SHARES"), scope="shares")
votes = limiter.shared_limit(_setting("VOTES"), scope="votes")
subscriptions = limiter.shared_limit(_setting("SUBSCRIPTIONS"), scope="subscriptions")
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
    app.after_request(_unavailable_keeps_its_retry_after)
    limiter.init_app(app)


def _unavailable_keeps_its_retry_after(response):
    """flask-limiter sets Retry-After to its window's reset on every answer it counted; a 503
    says when to try again itself (ENGAGEMENT_RETRY_AFTER_SECONDS)."""
    if response.status_code == 503:
        response.headers["Retry-After"] = str(current_app.config["RETRY_AFTER_SECONDS"])
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

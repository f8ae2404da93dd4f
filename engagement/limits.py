"""Rate limits per client address, one named limit per kind of request, each read from its
`ENGAGEMENT_LIMIT_*` setting when the request comes (flask-limiter strings like "5/minute").

Counts live in `ENGAGEMENT_RATELIMIT_STORAGE_URI`, shared by every worker and host. When that
store stops answering, writes fall back to per-process counts and reads go unlimited, until the
store answers again (flask-limiter checks it again with a growing back-off)."""

from __future__ import annotations

from flask import Flask, current_app

from engagement.extensions import limiter


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
subscriptions = limiter.shared_limit(_setting("SUBSCRIPTIONS"), scope="subscriptions")
reads = limiter.shared_limit(_setting("READS"), scope="reads", exempt_when=limit_store_down)
admin = limiter.shared_limit(_setting("ADMIN"), scope="admin")


def register_limits(app: Flask) -> None:
    config = app.config
    config.setdefault("RATELIMIT_STRATEGY", "moving-window")
    config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    config.setdefault("RATELIMIT_KEY_PREFIX", "engagement")
    limiter.init_app(app)


def limit_store_status() -> str:
    """For /readyz: "ok", or "degraded" while limits run on per-process counts."""
    if not current_app.config["RATELIMIT_ENABLED"]:
        return "disabled"
    try:
        healthy = limiter.storage.check()
    except Exception:  # any failure to reach the store means the same to a probe
        healthy = False
    return "ok" if healthy else "degraded"

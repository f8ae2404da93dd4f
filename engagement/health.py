"""Liveness and readiness probes for the process manager and the load balancer."""

import sqlalchemy as sa
from flask import Blueprint
from sqlalchemy.exc import SQLAlchemyError

from engagement.errors import Unavailable
from engagement.extensions import db
from engagement.limits import limit_store_status
from engagement.mail.delivery import mail_status

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """The process is up."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    """Ready to serve: 503 when the database does not answer; "degraded" (still 200) while the
    rate-limit store is down and limits run per process, or while the mail server does not
    accept connections (mail waits in the outbox meanwhile)."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        raise Unavailable("The database does not answer.") from None
    checks = {"database": "ok", "rate_limits": limit_store_status(), "mail": mail_status()}
    status = "degraded" if "degraded" in checks.values() else "ok"
    return {"status": status, "checks": checks}


@bp.after_request
def never_cached(response):
    response.cache_control.no_store = True
    return response

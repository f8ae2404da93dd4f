"""Liveness and readiness probes for the process manager and the load balancer."""

import sqlalchemy as sa
from flask import Blueprint, current_app
from sqlalchemy.exc import SQLAlchemyError

from engagement import limits
from engagement.database import answer_budget
from engagement.errors import Unavailable
from engagement.extensions import db
from engagement.limits import limit_store_status
from engagement.mail.delivery import mail_status

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """The process is up (it asks no dependency, so a hung one cannot hold it)."""
    return {"status": "ok"}


@bp.get("/readyz")
@limits.reads
def readyz():
    """Ready to serve: 503 when the database does not answer; "degraded" (still 200) while the
    rate-limit store is down and limits run per process, or while the mail server does not
    accept connections (mail waits in the outbox meanwhile). It waits for the database at most
    ENGAGEMENT_READYZ_TIMEOUT (plus the connect timeout when it must connect anew)."""
    try:
        with answer_budget(current_app.config["READYZ_TIMEOUT"]):
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

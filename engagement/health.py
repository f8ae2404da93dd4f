"""Liveness and readiness probes for the process manager and the load balancer."""

import sqlalchemy as sa
from flask import Blueprint
from sqlalchemy.exc import SQLAlchemyError

from engagement.errors import Unavailable
from engagement.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """The process is up."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    """Ready to serve: 503 when the database does not answer."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        raise Unavailable("The database does not answer.") from None
    return {"status": "ok", "checks": {"database": "ok"}}


@bp.after_request
def never_cached(response):
    response.cache_control.no_store = True
    return response

"""Who is calling the admin API: the holder of the bearer token, and whether their role may.

Every admin blueprint runs `authenticate` before its views. Both roles may use what is built
so far; the admin-only parts of the contract (newsletter subscribers) will check the role."""

from __future__ import annotations

from flask import current_app, g, request

from engagement.admin import services
from engagement.admin.models import AdminToken
from engagement.clock import now
from engagement.errors import Unauthorized
from engagement.extensions import db, limiter


def authenticate() -> None:
    """Before every admin view: a valid `Authorization: Bearer <token>` or 401."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    holder = None
    if scheme.lower() == "bearer" and token.strip():
        holder = services.authenticate(token.strip(), now=now())
    if holder is None:
        raise Unauthorized("A valid admin token is required.")
    g.admin = holder
    db.session.commit()  # last_used_at, whatever the view does next


def current_admin() -> AdminToken:
    return g.admin


def protect(blueprint) -> None:
    """Token check, failed-authentication limit and admin-call limit for a blueprint."""
    limiter.limit(
        lambda: current_app.config["LIMIT_AUTH_FAILURES"],
        deduct_when=lambda response: response.status_code == 401,
        scope="admin-auth-failures",
    )(blueprint)
    limiter.limit(lambda: current_app.config["LIMIT_ADMIN"], scope="admin")(blueprint)
    blueprint.before_request(authenticate)

    @blueprint.after_request
    def _never_stored(response):
        response.cache_control.no_store = True
        return response

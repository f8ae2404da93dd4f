"""Who is calling the admin API: the holder of the bearer token, and whether their role may.

Every admin blueprint is protected: `authenticate` runs before its views, and a blueprint for
the admin role alone (newsletter subscribers) refuses moderators with 403."""

from __future__ import annotations

from flask import current_app, g, request

from engagement.admin import services
from engagement.admin.models import AdminToken, Role
from engagement.clock import now
from engagement.errors import Forbidden, Unauthorized
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


def protect(blueprint, role: Role = Role.MODERATOR) -> None:
    """Token check, role check, failed-authentication limit and admin-call limit."""
    limiter.limit(
        lambda: current_app.config["LIMIT_AUTH_FAILURES"],
        deduct_when=lambda response: response.status_code == 401,
        scope="admin-auth-failures",
    )(blueprint)
    limiter.limit(lambda: current_app.config["LIMIT_ADMIN"], scope="admin")(blueprint)
    blueprint.before_request(authenticate)
    if role is Role.ADMIN:

        @blueprint.before_request
        def _admins_only():
            if current_admin().role is not Role.ADMIN:
                raise Forbidden("This needs an admin token.")

    @blueprint.after_request
    def _never_stored(response):
        response.cache_control.no_store = True
        return response

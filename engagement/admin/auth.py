"""Who is calling the admin API: the holder of the bearer token, and whether their role may.

Every admin blueprint is protected: `authenticate` runs before its views, a blueprint for the
admin role alone (newsletter subscribers) refuses moderators with 403, and the request commits
once, after its view: the view's changes and the holder's last use in one transaction."""

from __future__ import annotations

from flask import Response, current_app, g, request
from sqlalchemy.exc import SQLAlchemyError

from engagement import limits
from engagement.admin import services
from engagement.admin.models import AdminToken, Role
from engagement.clients import client_address, current_limit_key
from engagement.clock import now
from engagement.errors import Forbidden, RateLimited, Unauthorized
from engagement.extensions import db, limiter


def authenticate() -> None:
    """Before every admin view: a valid `Authorization: Bearer <token>` or 401. A CORS
    preflight carries no token by design: it is answered (with no grant: the admin API answers
    no other origin) and is no failed sign-in, or any page a moderator opened could lock their
    address out of the admin API with preflights."""
    if request.method == "OPTIONS":
        return
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    holder = None
    if scheme.lower() == "bearer" and token.strip():
        holder = services.authenticate(token.strip(), now=now())
    if holder is None:
        # Only failures count, and only failures are refused: a flood of bad tokens from an
        # address (or from everyone, when the proxy setup hides who is who) never locks a
        # valid token out.
        wait = limits.spend(current_app.config["LIMIT_AUTH_FAILURES"], "admin-auth-failures",
                            current_limit_key())
        if wait is not None:
            raise RateLimited(wait, "Too many failed sign-ins: try again later.")
        raise Unauthorized("A valid admin token is required.")
    g.admin = holder


def current_admin() -> AdminToken:
    return g.admin


def protect(blueprint, role: Role = Role.MODERATOR) -> None:
    """Token check (with its failed-authentication limit), role check and admin-call limit."""
    limiter.limit(lambda: current_app.config["LIMIT_ADMIN"], scope="admin")(blueprint)
    blueprint.before_request(authenticate)
    if role is Role.ADMIN:

        @blueprint.before_request
        def _admins_only():
            holder = g.get("admin")  # none for a preflight
            if holder is not None and holder.role is not Role.ADMIN:
                raise Forbidden("This needs an admin token.")

    @blueprint.after_request
    def _never_stored(response):
        response.cache_control.no_store = True
        return response

    blueprint.after_request(commit)


def commit(response: Response) -> Response:
    """The request's one commit: what the view changed and when the holder last called. A
    refused request writes nothing of the view's, only the holder's last use; a failed
    sign-in (401: not one refused by its limit, so a flood adds a bounded number) its audit
    entry."""
    holder = g.get("admin")
    if response.status_code >= 400:
        db.session.rollback()
        if holder is not None:
            services.record_use(holder, now=now())
        elif response.status_code == 401:
            services.audit_failed_sign_in(str(client_address()), now=now())
        else:
            return response
    try:
        db.session.commit()
    except SQLAlchemyError as error:  # the commit itself failed: the answer must say so
        db.session.rollback()
        return current_app.make_response(current_app.handle_user_exception(error))
    return response

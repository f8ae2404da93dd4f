"""What the service's conventions add to every operation of the OpenAPI document, said once
here rather than on each route: the admin API's bearer token (so that a client generator or an
"Authorize" button sends it) and its 401, the 429 of the rate limits every route has
(limits.py), and the 304 of every public GET (answers.py, http.add_cache_headers)."""

from apispec import BasePlugin

SCHEME = "bearerAuth"
ADMIN_PATHS = "/api/v1/admin/"
ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}


class ConventionResponses(BasePlugin):
    def init_spec(self, spec):
        spec.components.security_scheme(SCHEME, {
            "type": "http", "scheme": "bearer",
            "description": "A token from `flask --app engagement tokens create`",
        })

    def operation_helper(self, path=None, operations=None, **kwargs):
        admin = bool(path and path.startswith(ADMIN_PATHS))
        for method, operation in (operations or {}).items():
            responses = operation.setdefault("responses", {})
            responses.setdefault("429", {
                "description": "rate_limited: past this client's limit; `Retry-After` says "
                               "when to try again", "content": ERROR})
            if admin:
                operation.setdefault("security", [{SCHEME: []}])
                responses.setdefault("401", {
                    "description": "unauthorized: a missing, unknown or revoked token",
                    "content": ERROR})
            elif method == "get":
                responses.setdefault("304", {
                    "description": "The `ETag` sent in `If-None-Match` is still current"})

"""The admin API's authentication in the OpenAPI document: a bearer security scheme, declared
on every operation under the admin prefix, so that a client generator or an "Authorize" button
sends the token."""

from apispec import BasePlugin

SCHEME = "bearerAuth"
ADMIN_PATHS = "/api/v1/admin/"


class BearerSecurity(BasePlugin):
    def init_spec(self, spec):
        spec.components.security_scheme(SCHEME, {
            "type": "http", "scheme": "bearer",
            "description": "A token from `flask --app engagement tokens create`",
        })

    def operation_helper(self, path=None, operations=None, **kwargs):
        if path and path.startswith(ADMIN_PATHS):
            for operation in operations.values():
                operation.setdefault("security", [{SCHEME: []}])

"""`GET` and `DELETE /api/v1/admin/people?email=`: the command line's people export and erase
over HTTP, for the admin role only."""

from flask.views import MethodView
from flask_smorest import Blueprint

from engagement.admin.auth import current_admin, protect
from engagement.admin.models import Role
from engagement.clock import now
from engagement.errors import ErrorSchema
from engagement.people.schemas import EraseArgs, ErasedOut, PersonArgs
from engagement.people.services import erase_person, export_person

blp = Blueprint("people", __name__, url_prefix="/api/v1/admin/people",
                description="A person's data, exported or erased (admin role only).")
protect(blp, role=Role.ADMIN)


@blp.route("")
class Person(MethodView):
    @blp.arguments(PersonArgs, location="query")
    @blp.response(200)
    @blp.alt_response(403, schema=ErrorSchema, description="Not the admin role")
    def get(self, args):
        """Every record of an email address: comments, flags, subscription, queued mail (audited
        with counts, without the address)"""
        return export_person(args["email"], actor=current_admin().name, now=now())

    @blp.arguments(EraseArgs, location="query")
    @blp.response(200, ErasedOut)
    @blp.alt_response(403, schema=ErrorSchema, description="Not the admin role")
    def delete(self, args):
        """Erase an email address everywhere (audited without the address)"""
        erased = erase_person(args["email"], with_comments=args["with_comments"],
                              actor=current_admin().name, now=now())
        return erased

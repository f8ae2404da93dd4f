"""The moderators' bans: by author email or by client address or network, for good or until
they expire. Posting a comment checks them (comments.routes). Every route needs a bearer token
(admin.auth); every change is audited."""

from flask.views import MethodView
from flask_smorest import Blueprint

from engagement.admin.auth import current_admin, protect
from engagement.clock import now
from engagement.errors import ErrorSchema
from engagement.moderation import services
from engagement.moderation.ban_schemas import BanCreatedOut, BanIn, BanPageOut
from engagement.pagination import PageArgs

blp = Blueprint(
    "bans", __name__, url_prefix="/api/v1/admin",
    description="Moderators' bans on emails and addresses (Authorization: Bearer <token>).",
)
protect(blp)


@blp.route("/bans")
class Bans(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, BanPageOut)
    def get(self, args):
        """Every ban, newest first, expired ones too (`active` false)"""
        return services.ban_page(args["limit"], args["cursor"], now=now())

    @blp.arguments(BanIn)
    @blp.response(201, BanCreatedOut)
    def post(self, fields):
        """Ban an author email, or a client address or CIDR network (IPv4 or IPv6)

        A banned author's or client's new comments are refused with 403 `banned` until the
        ban expires or is deleted. An email is matched case-insensitively; an address or
        network is stored in CIDR form.
        """
        answer = services.create_ban(
            fields["kind"], fields["value"], fields["reason"], fields["expires_at"],
            actor=current_admin().name, now=now(),
        )
        return answer


@blp.route("/bans/<id:ban_id>")
class BanById(MethodView):
    @blp.response(204)
    @blp.alt_response(404, schema=ErrorSchema, description="No such ban")
    def delete(self, ban_id):
        """Lift a ban at once"""
        services.lift_ban(ban_id, actor=current_admin().name, now=now())

"""Readers' flags: POST /api/v1/comments/{cid}/flags."""

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from engagement import limits
from engagement.alerts import services as alerts
from engagement.clients import client_address
from engagement.clock import now
from engagement.errors import ErrorSchema
from engagement.extensions import db
from engagement.moderation import services
from engagement.moderation.schemas import FlaggedOut, FlagIn

blp = Blueprint("flags", __name__, url_prefix="/api/v1", description="Readers' flags.")


@blp.route("/comments/<id:comment_id>/flags")
class CommentFlags(MethodView):
    @limits.flags
    @blp.arguments(FlagIn)
    @blp.response(202, FlaggedOut)
    @blp.alt_response(403, schema=ErrorSchema, description="banned")
    @blp.alt_response(404, schema=ErrorSchema, description="No published comment")
    def post(self, fields, comment_id):
        """Flag a comment for the moderators

        One flag per client and comment counts (an IPv6 client by its /64); a repeat answers
        the same and counts nothing. At `ENGAGEMENT_FLAG_THRESHOLD` flags the comment leaves
        the public list until a moderator decides. A comment a moderator approved (which clears
        its flags) leaves it again only at `ENGAGEMENT_FLAG_THRESHOLD_APPROVED` flags (default
        9, never fewer than the other), until its author edits it.
        """
        moment = now()
        services.refuse_banned(None, client_address(), now=moment)
        hidden = services.flag_comment(
            comment_id, fields["reason"], fields["note"],
            client_hash=services.flagger_hash(str(client_address())), now=moment,
            rules=services.moderation_rules(current_app.config),
        )
        if hidden is not None:
            alerts.moderation_event(alerts.FLAGGED, hidden, now=moment,
                                    policy=alerts.AlertPolicy.from_config(current_app.config))
        db.session.commit()
        return {"flagged": True, "hidden": hidden is not None}

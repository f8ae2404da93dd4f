"""The moderators' API: the comment queue and decisions, live settings, the audit log.
Every route needs a bearer token (admin.auth); every change is audited."""

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from engagement.admin.auth import current_admin, protect
from engagement.admin.services import audit_page
from engagement.clock import now
from engagement.errors import ErrorSchema
from engagement.moderation import services
from engagement.moderation.admin_schemas import (
    AdminCommentOut,
    AdminCommentPageOut,
    AuditArgs,
    AuditPageOut,
    BulkIn,
    BulkOut,
    DecisionIn,
    QueueArgs,
    SettingsIn,
    SettingsOut,
)
from engagement.notifications.services import NotifyPolicy

blp = Blueprint(
    "moderation", __name__, url_prefix="/api/v1/admin",
    description="Moderators' tools (Authorization: Bearer <token>).",
)
protect(blp)


def _retention() -> int:
    return current_app.config["IP_RETENTION_DAYS"]


@blp.route("/comments")
class ModerationQueue(MethodView):
    @blp.arguments(QueueArgs, location="query")
    @blp.response(200, AdminCommentPageOut)
    def get(self, args):
        """The moderation queue: comments by status (pending by default), newest first

        Each comment comes with what a moderator decides with: why it is held, its flags,
        the article's title and link, the comment it replies to, how many of the author's
        other comments were approved, rejected or marked as spam, and whether a ban matches
        the author.
        """
        return services.moderation_queue(
            statuses=args["status"], reason=args["reason"], article=args["article"],
            q=args["q"], comment_id=args["id"], order=args["order"], limit=args["limit"],
            cursor=args["cursor"], now=now(), ip_retention_days=_retention(),
        )


@blp.route("/comments/<id:comment_id>")
class ModeratedComment(MethodView):
    @blp.arguments(DecisionIn)
    @blp.response(200, AdminCommentOut)
    @blp.alt_response(404, schema=ErrorSchema, description="No such comment")
    def patch(self, fields, comment_id):
        """Approve, reject or mark as spam, and pin or unpin (approving clears the flags)"""
        answer = services.decide(
            comment_id, status=fields.get("status"), pinned=fields.get("pinned"),
            actor=current_admin().name, now=now(), ip_retention_days=_retention(),
            notify=NotifyPolicy.from_config(current_app.config),
        )
        return answer

    @blp.response(204)
    @blp.alt_response(404, schema=ErrorSchema, description="No such comment")
    def delete(self, comment_id):
        """Delete a comment (a placeholder stays while it has visible replies)"""
        services.remove(comment_id, actor=current_admin().name, now=now())


@blp.route("/comments/bulk")
class BulkDecision(MethodView):
    @blp.arguments(BulkIn)
    @blp.response(200, BulkOut)
    def post(self, fields):
        """One decision on many comments; `updated` counts the comments found"""
        updated = services.bulk(fields["ids"], fields["action"], actor=current_admin().name,
                                now=now(), notify=NotifyPolicy.from_config(current_app.config))
        return {"updated": updated}


@blp.route("/settings")
class Settings(MethodView):
    @blp.response(200, SettingsOut)
    def get(self):
        """The moderation settings in force"""
        return services.moderation_rules(current_app.config)

    @blp.arguments(SettingsIn)
    @blp.response(200, SettingsOut)
    def patch(self, changes):
        """Change moderation settings at run time (they outlive restarts)"""
        answer = services.update_settings(changes, current_app.config,
                                          actor=current_admin().name, now=now())
        return answer


@blp.route("/audit")
class AuditLog(MethodView):
    @blp.arguments(AuditArgs, location="query")
    @blp.response(200, AuditPageOut)
    def get(self, args):
        """Every change made through the admin API, newest first, filtered by actor, action
        or target"""
        return audit_page(args["limit"], args["cursor"], actor=args["actor"],
                          action=args["action"], target=args["target"])

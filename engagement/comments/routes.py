"""Public comment endpoints: the threaded list, posting, and the author's edit and delete."""

from datetime import datetime

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from engagement import limits
from engagement.alerts import services as alerts
from engagement.answers import versioned
from engagement.articles.schemas import UNKNOWN_ARTICLE
from engagement.articles.services import ArticlePolicy, thread_version
from engagement.clients import client_address
from engagement.clock import now
from engagement.comments import services
from engagement.comments.schemas import (
    CommentCreatedOut,
    CommentEditedOut,
    CommentEditIn,
    CommentIn,
    CommentListArgs,
    CommentPageOut,
    EditTokenHeader,
)
from engagement.errors import ErrorSchema
from engagement.extensions import db
from engagement.idempotency.views import idempotent
from engagement.moderation.services import moderation_rules, refuse_banned
from engagement.notifications import services as notifications
from engagement.notifications.services import NotifyPolicy

blp = Blueprint("comments", __name__, url_prefix="/api/v1", description="Reader comments.")

def _policy() -> services.CommentPolicy:
    return services.CommentPolicy.from_config(
        current_app.config, moderation_rules(current_app.config)
    )


def thread_validator(_query: dict, article_id: str) -> str:
    """A thread page depends on the thread's version alone."""
    return str(thread_version(article_id, ArticlePolicy.from_config(current_app.config), now()))


@blp.route("/articles/<slug:article_id>/comments")
class Comments(MethodView):
    @limits.reads
    @versioned(CommentPageOut, thread_validator, query=CommentListArgs)
    @blp.arguments(CommentListArgs, location="query")
    @blp.response(200, CommentPageOut)
    @blp.alt_response(404, schema=ErrorSchema, description=UNKNOWN_ARTICLE)
    def get(self, args, article_id):
        """List an article's approved comments, threaded

        Paginated over top-level comments, pinned first; replies nest oldest first down to
        `ENGAGEMENT_MAX_REPLY_DEPTH` levels. A deleted comment with visible replies stays as a
        placeholder (`deleted: true`, empty `body_html`, null author). Reading the comments of
        an article never seen does not record it.
        """
        return services.list_comments(article_id, order=args["order"], limit=args["limit"],
                                      cursor=args["cursor"])

    @limits.comments
    @idempotent
    @blp.arguments(CommentIn)
    @blp.response(201, CommentCreatedOut)
    @blp.alt_response(403, schema=ErrorSchema, description="comments_closed or banned")
    @blp.alt_response(404, schema=ErrorSchema, description=UNKNOWN_ARTICLE)
    def post(self, fields, article_id):
        """Post a comment, or a reply with `parent_id`

        `status` is `pending` when moderation holds the comment. Keep `edit_token`: it edits
        or deletes the comment until `edit_expires_at`.
        """
        moment, address = now(), client_address()
        refuse_banned(fields["author_email"], address, now=moment)
        posted = services.post_comment(
            article_id, fields, client_ip=address and str(address), now=moment, policy=_policy(),
            verified_here=notifications.verified_from(fields["author_email"], address),
        )
        notify = NotifyPolicy.from_config(current_app.config)
        if fields["notify_replies"]:
            notifications.request_notifications(posted.comment, fields["lang"], now=moment,
                                                policy=notify)
        notifications.comment_published(posted.comment, now=moment, policy=notify)
        alerts.comment_posted(posted.comment, now=moment,
                              policy=alerts.AlertPolicy.from_config(current_app.config))
        answer = {
            "comment": services.public_comment(posted.comment),
            "status": services.public_status(posted.comment),
            "edit_token": posted.edit_token,
            "edit_expires_at": posted.edit_expires_at,
        }
        db.session.commit()
        return answer


@blp.route("/comments/<id:comment_id>")
class CommentById(MethodView):
    @limits.edits
    @blp.arguments(CommentEditIn)
    @blp.arguments(EditTokenHeader, location="headers")
    @blp.response(200, CommentEditedOut)
    @blp.alt_response(403, schema=ErrorSchema,
                      description="invalid_token, edit_window_expired, forbidden or banned")
    @blp.alt_response(404, schema=ErrorSchema, description="No such comment")
    def patch(self, fields, headers, comment_id):
        """Edit your comment's body (header `X-Edit-Token`, within the edit window)

        The edit is checked by moderation again: `status` is `pending` when it is held, and
        the comment leaves the public list until a moderator approves it.
        """
        moment, policy = now(), _policy()
        comment = _authored(comment_id, headers["edit_token"], moment, policy)
        services.edit_comment(comment, fields["body"], now=moment, policy=policy)
        if services.public_status(comment) == "pending" and "edited" in comment.held_for:
            alerts.moderation_event(alerts.HELD, comment, now=moment,
                                    policy=alerts.AlertPolicy.from_config(current_app.config))
        answer = {
            "comment": services.thread_below(comment),
            "status": services.public_status(comment),
        }
        db.session.commit()
        return answer

    @limits.edits
    @blp.arguments(EditTokenHeader, location="headers")
    @blp.response(204)
    @blp.alt_response(403, schema=ErrorSchema,
                      description="invalid_token, edit_window_expired, forbidden or banned")
    @blp.alt_response(404, schema=ErrorSchema, description="No such comment")
    def delete(self, headers, comment_id):
        """Delete your comment (header `X-Edit-Token`, within the edit window)"""
        moment = now()
        services.delete_comment(_authored(comment_id, headers["edit_token"], moment, _policy()),
                                now=moment)
        db.session.commit()


def _authored(comment_id: int, edit_token: str | None, moment: datetime,
              policy: services.CommentPolicy):
    """The comment the token's holder may change, unless its author's email or the client's
    address is banned (checked once the token has matched: a guess learns nothing of bans)."""
    comment = services.authored_comment(comment_id, edit_token, now=moment, policy=policy)
    refuse_banned(comment.author_email, client_address(), now=moment)
    return comment

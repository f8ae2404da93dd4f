"""Public share endpoints: record a share, read an article's counts."""

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from engagement import limits
from engagement.articles.schemas import UNKNOWN_ARTICLE
from engagement.articles.services import ArticlePolicy, article_known
from engagement.clients import client_address, client_fingerprint
from engagement.clock import now
from engagement.errors import ErrorSchema, NotFound
from engagement.extensions import db
from engagement.fast_shares import raise_what_failed_before_flask
from engagement.idempotency.views import idempotent
from engagement.shares import services
from engagement.shares.schemas import SHARE_COUNTS_DESCRIPTION, ShareIn, ShareRecordedOut

blp = Blueprint("shares", __name__, url_prefix="/api/v1", description="Share counts.")

SHARE_COUNTS_SCHEMA = {
    "type": "object",
    "additionalProperties": {"type": "integer"},
    "example": {"facebook": 3, "x": 1, "email": 0, "total": 4},
}


@blp.route("/articles/<slug:article_id>/shares")
class Shares(MethodView):
    @limits.reads
    @blp.response(200, description=SHARE_COUNTS_DESCRIPTION)
    @blp.doc(responses={"200": {"content": {"application/json": {"schema": SHARE_COUNTS_SCHEMA}}}})
    @blp.alt_response(404, schema=ErrorSchema, description=UNKNOWN_ARTICLE)
    def get(self, article_id):
        """An article's share counts per network"""
        if not article_known(article_id, ArticlePolicy.from_config(current_app.config)):
            raise NotFound("No such article.")
        return services.share_counts(article_id, current_app.config["SHARE_NETWORKS"])

    @limits.shares
    @raise_what_failed_before_flask
    @idempotent
    @blp.arguments(ShareIn)
    @blp.response(200, ShareRecordedOut)
    @blp.alt_response(404, schema=ErrorSchema, description=UNKNOWN_ARTICLE)
    def post(self, fields, article_id):
        """Record a share (once per reader, article and network in the de-duplication window)"""
        answer = services.record_share(
            db.session.connection(), article_id, fields["network"], address=client_address(),
            client_hash=client_fingerprint(), now=now(),
            policy=services.SharePolicy.from_config(current_app.config),
        )
        db.session.commit()
        return answer

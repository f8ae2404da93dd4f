"""Public vote endpoints: cast a vote on a comment, read your own votes on an article."""

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from engagement import limits
from engagement.clients import client_address, client_fingerprint
from engagement.clock import now
from engagement.errors import ErrorSchema
from engagement.extensions import db
from engagement.idempotency.views import idempotent
from engagement.moderation.services import refuse_banned
from engagement.votes import services
from engagement.votes.schemas import ReaderVotesOut, VoteIn, VoteOut

blp = Blueprint("votes", __name__, url_prefix="/api/v1", description="Readers' votes.")


def _policy() -> services.VotePolicy:
    return services.VotePolicy.from_config(current_app.config)


@blp.route("/comments/<id:comment_id>/vote")
class CommentVote(MethodView):
    @limits.votes
    @idempotent
    @blp.arguments(VoteIn)
    @blp.response(200, VoteOut)
    @blp.alt_response(403, schema=ErrorSchema, description="comments_closed or banned")
    @blp.alt_response(404, schema=ErrorSchema,
                      description="No published comment, or votes are off")
    def put(self, fields, comment_id):
        """Vote on a comment (one vote per reader; a new value replaces yours, 0 withdraws it)

        Answers the comment's tallies after your vote. One address votes as at most three
        readers (user agents) on a comment: a further reader's vote counts nothing and is
        answered with the tallies and `value` 0. `ENGAGEMENT_VOTES` is `updown`, `up` (a -1
        is 422) or `off` (404).
        """
        moment = now()
        refuse_banned(None, client_address(), now=moment)
        tally = services.cast_vote(comment_id, fields["value"], client_hash=client_fingerprint(),
                                   now=moment, policy=_policy())
        db.session.commit()
        return tally


@blp.route("/articles/<slug:article_id>/votes")
class ReaderVotes(MethodView):
    @limits.reads
    @blp.response(200, ReaderVotesOut)
    @blp.alt_response(404, schema=ErrorSchema, description="Unknown article, or votes are off")
    def get(self, article_id):
        """Your own votes on an article's comments (private: never stored by a cache)"""
        votes = services.reader_votes(article_id, client_hash=client_fingerprint(),
                                      policy=_policy())
        response = current_app.make_response(ReaderVotesOut().dump({"votes": votes}))
        response.cache_control.private = True
        response.cache_control.no_store = True
        return response

"""`engagement jobs run`: the scheduled housekeeping as an operator's cron or the compose
stack's scheduler runs it. Each job removes exactly what its setting says has expired, keeps
everything else, says what it did, and does nothing more when run again."""

from __future__ import annotations

import sqlalchemy as sa

from engagement.admin.models import AuditEntry
from engagement.articles.models import Article
from engagement.comments.models import Comment
from engagement.extensions import db
from engagement.idempotency.models import IdempotentAnswer
from engagement.mail.models import OutboxBatch, OutboxMessage, OutboxStatus
from engagement.newsletter.models import Subscriber, SubscriberToken
from engagement.notifications.models import NotifyToken
from engagement.shares.models import Share, ShareClaim, ShareTally
from tests.conftest import comment_fields, make_token


def run_jobs(app, *names: str) -> list[str]:
    result = app.test_cli_runner().invoke(args=["jobs", "run", *names])
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def signup(client, email: str) -> None:
    response = client.post("/api/v1/newsletter/subscriptions",
                           json={"email": email, "consent": True})
    assert response.status_code == 202


def test_every_job_is_listed_with_what_it_does(app):
    result = app.test_cli_runner().invoke(args=["jobs", "list"])
    assert result.exit_code == 0
    names = [line.split("\t")[0] for line in result.output.splitlines()]
    assert names == ["forget-addresses", "purge-share-claims", "purge-share-log",
                     "purge-tokens", "purge-unconfirmed", "purge-idempotency-keys",
                     "purge-mail-batches", "purge-failed-mail", "purge-audit", "verify-counts"]


def test_nothing_expired_nothing_removed(app, client):
    client.post("/api/v1/articles/fresh/comments", json=comment_fields(),
                headers={"Idempotency-Key": "fresh"})
    client.post("/api/v1/articles/fresh/shares", json={"network": "x"})
    signup(client, "new@example.com")
    client.get("/api/v1/admin/comments", headers={"Authorization": "Bearer wrong"})
    assert run_jobs(app) == [
        "forget-addresses: erased the client address of 0 comments and failed sign-ins",
        "purge-share-claims: removed 0 expired share claims",
        "purge-share-log: removed 0 shares older than the trending windows",
        "purge-tokens: removed 0 expired tokens",
        "purge-unconfirmed: erased 0 never-confirmed signups",
        "purge-idempotency-keys: removed 0 answers kept for retries",
        "purge-mail-batches: removed 0 batch keys",
        "purge-failed-mail: removed 0 failed messages",
        "purge-audit: removed 0 audit entries",
        "verify-counts: repaired the counters of 0 articles",
    ]


def test_drifted_counters_are_repaired(app, client):
    client.post("/api/v1/articles/drift/comments", json=comment_fields())
    with app.app_context():
        db.session.execute(sa.update(Article).values(comment_count=7))
        db.session.commit()
    assert run_jobs(app, "verify-counts") == ["verify-counts: repaired the counters of 1 articles"]
    assert client.get("/api/v1/articles/drift").json["comment_count"] == 1
    assert run_jobs(app, "verify-counts") == ["verify-counts: repaired the counters of 0 articles"]


def test_addresses_are_forgotten_after_the_retention_period(make_app, clock):
    app = make_app(IP_RETENTION_DAYS=30)
    client = app.test_client()
    client.post("/api/v1/articles/old/comments", json=comment_fields())
    clock.advance(days=29)
    client.post("/api/v1/articles/old/comments", json=comment_fields(body="Later."))
    clock.advance(days=1, seconds=1)
    assert run_jobs(app, "forget-addresses") == [
        "forget-addresses: erased the client address of 1 comments and failed sign-ins"]
    with app.app_context():
        kept = db.session.scalars(sa.select(Comment.client_ip).order_by(Comment.id)).all()
    assert kept == [None, "127.0.0.1"]
    assert run_jobs(app, "forget-addresses") == [
        "forget-addresses: erased the client address of 0 comments and failed sign-ins"]


def test_failed_sign_ins_keep_their_address_no_longer_than_comments(make_app, clock):
    app = make_app(IP_RETENTION_DAYS=30, AUDIT_RETENTION_DAYS=365)
    client = app.test_client()
    for address in ("203.0.113.5", "203.0.113.6"):
        assert client.get("/api/v1/admin/comments", headers={"Authorization": "Bearer guess"},
                          environ_base={"REMOTE_ADDR": address}).status_code == 401
        clock.advance(days=20)
    # The first is 40 days old now, the second 20.

    assert run_jobs(app, "forget-addresses") == [
        "forget-addresses: erased the client address of 1 comments and failed sign-ins"]
    with app.app_context():
        entries = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)).all()
        assert [(entry.action, entry.details) for entry in entries] == [
            ("auth.failure", {}), ("auth.failure", {"client": "203.0.113.6"})]
    assert run_jobs(app, "forget-addresses") == [
        "forget-addresses: erased the client address of 0 comments and failed sign-ins"]


def test_answers_kept_for_retries_and_mail_batch_keys_go_after_a_day(make_app, clock):
    app = make_app()
    client = app.test_client()
    first = client.post("/api/v1/articles/keyed/comments", json=comment_fields(),
                        headers={"Idempotency-Key": "once"})
    assert first.status_code == 201
    with app.app_context():
        db.session.add(OutboxBatch(batch_key="replies:1:someone", touched_at=clock()))
        db.session.commit()
    clock.advance(hours=23)
    assert run_jobs(app, "purge-idempotency-keys", "purge-mail-batches") == [
        "purge-idempotency-keys: removed 0 answers kept for retries",
        "purge-mail-batches: removed 0 batch keys",
    ]
    retry = client.post("/api/v1/articles/keyed/comments", json=comment_fields(),
                        headers={"Idempotency-Key": "once"})
    assert retry.headers["Idempotent-Replayed"] == "true"

    clock.advance(hours=1, seconds=1)
    assert run_jobs(app, "purge-idempotency-keys", "purge-mail-batches") == [
        "purge-idempotency-keys: removed 1 answers kept for retries",
        "purge-mail-batches: removed 1 batch keys",
    ]
    assert count(app, IdempotentAnswer) == count(app, OutboxBatch) == 0


def test_share_claims_go_after_the_window_and_the_log_after_trending(make_app, clock):
    app = make_app(SHARE_DEDUPE_SECONDS=3600)
    client = app.test_client()
    client.post("/api/v1/articles/shared/shares", json={"network": "x"})
    clock.advance(seconds=3601)
    assert run_jobs(app, "purge-share-claims", "purge-share-log") == [
        "purge-share-claims: removed 1 expired share claims",
        "purge-share-log: removed 0 shares older than the trending windows",
    ]
    assert count(app, ShareClaim) == 0 and count(app, Share) == 1
    # The same reader counts again once the claim is gone, as the window says.
    assert client.post("/api/v1/articles/shared/shares",
                       json={"network": "x"}).json["counted"] is True
    clock.advance(days=31)
    assert run_jobs(app, "purge-share-log") == [
        "purge-share-log: removed 2 shares older than the trending windows"]
    # The counts readers see are the tallies, which stay.
    with app.app_context():
        assert db.session.scalar(sa.select(ShareTally.count)) == 2
    assert client.get("/api/v1/articles/shared").json["share_counts"]["x"] == 2


def test_signups_never_confirmed_are_erased_with_their_tokens(make_app, clock):
    app = make_app(UNCONFIRMED_SIGNUP_DAYS=30, CONFIRM_TOKEN_TTL_SECONDS=3600)
    client = app.test_client()
    signup(client, "forgot@example.com")
    clock.advance(seconds=3601)
    assert run_jobs(app, "purge-tokens", "purge-unconfirmed") == [
        "purge-tokens: removed 1 expired tokens",
        "purge-unconfirmed: erased 0 never-confirmed signups",
    ]
    signup(client, "later@example.com")
    clock.advance(days=30)
    assert run_jobs(app, "purge-unconfirmed") == [
        "purge-unconfirmed: erased 1 never-confirmed signups"]
    with app.app_context():
        assert db.session.scalars(sa.select(Subscriber.email)).all() == ["later@example.com"]
        assert db.session.scalar(
            sa.select(sa.func.count()).select_from(OutboxMessage)
            .where(OutboxMessage.recipient == "forgot@example.com")) == 0
    assert count(app, SubscriberToken) >= 1  # later's link still works


def test_unsubscribe_links_are_dropped_once_expired(make_app, clock):
    app = make_app(CONFIRM_TOKEN_TTL_SECONDS=3600, UNSUBSCRIBE_TOKEN_TTL_DAYS=365)
    client = app.test_client()
    signup(client, "reader@example.com")  # a confirmation and an unsubscribe link
    client.post("/api/v1/articles/a/comments",
                json=comment_fields(author_email="writer@example.com", notify_replies=True))
    clock.advance(seconds=3601)
    assert run_jobs(app, "purge-tokens") == ["purge-tokens: removed 2 expired tokens"]
    clock.advance(days=365)
    assert run_jobs(app, "purge-tokens") == ["purge-tokens: removed 2 expired tokens"]
    assert count(app, SubscriberToken) == count(app, NotifyToken) == 0


def test_failed_mail_and_old_audit_entries_are_dropped(make_app, clock):
    app = make_app(FAILED_MAIL_RETENTION_DAYS=30, AUDIT_RETENTION_DAYS=365)
    with app.app_context():
        db.session.add(OutboxMessage(sender="a@localhost", recipient="b@example.com",
                                     message="x", status=OutboxStatus.FAILED,
                                     created_at=clock(), next_attempt_at=clock()))
        db.session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {make_token(app)}"}
    assert client.patch("/api/v1/admin/settings", json={"max_links": 4},
                        headers=headers).status_code == 200
    clock.advance(days=31)
    assert run_jobs(app, "purge-failed-mail", "purge-audit") == [
        "purge-failed-mail: removed 1 failed messages",
        "purge-audit: removed 0 audit entries",
    ]
    clock.advance(days=365)
    # The token's creation and the settings change, both a year old now.
    assert run_jobs(app, "purge-audit") == ["purge-audit: removed 2 audit entries"]
    assert count(app, AuditEntry) == 0


def test_audit_entries_are_kept_for_ever_at_zero(make_app, clock):
    app = make_app(AUDIT_RETENTION_DAYS=0)
    headers = {"Authorization": f"Bearer {make_token(app)}"}
    app.test_client().patch("/api/v1/admin/settings", json={"max_links": 4}, headers=headers)
    clock.advance(days=5000)
    assert run_jobs(app, "purge-audit") == ["purge-audit: removed 0 audit entries"]
    assert count(app, AuditEntry) == 2  # the token's creation and the settings change


def test_an_unknown_job_is_refused_by_name(app):
    result = app.test_cli_runner().invoke(args=["jobs", "run", "purge-everything"])
    assert result.exit_code == 2
    assert "purge-everything" in result.output

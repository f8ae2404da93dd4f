"""PostgreSQL: concurrency with real threads (first sightings and posts racing each other), and
pooled connections cut while idle."""

import time

import pytest
import sqlalchemy as sa

from engagement.articles.models import Article
from engagement.comments.models import Comment
from engagement.database import run_many, run_on_driver
from engagement.extensions import db
from engagement.idempotency.models import IdempotentAnswer
from tests.conftest import comment_fields, make_token, race

pytestmark = pytest.mark.postgres
WORKERS = 16  # the threads of each race (its default)


def test_postgres_is_really_in_use(app):
    with app.app_context():
        assert db.engine.dialect.name == "postgresql"


def test_first_sightings_of_an_article_race_without_errors(app):
    # Reads record nothing; the first writes (here shares by distinct readers, each from an
    # address of their own: one address counts as a few readers at most) race to record.
    responses = race(app, lambda client, n: client.post(
        "/api/v1/articles/breaking-news/shares", json={"network": "x"},
        headers={"User-Agent": f"reader {n}"}, environ_base={"REMOTE_ADDR": f"10.0.{n}.1"}))

    assert [response.status_code for response in responses] == [200] * WORKERS
    assert all(response.json["counted"] for response in responses)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Article)) == 1
        assert db.session.get(Article, "breaking-news").share_count == WORKERS


def test_first_comments_on_a_new_article_race_without_losing_any(app):
    def post(client, n):
        return client.post("/api/v1/articles/breaking-news/comments",
                           json=comment_fields(body=f"comment {n}"))

    responses = race(app, post)

    assert [response.status_code for response in responses] == [201] * WORKERS
    listed = app.test_client().get("/api/v1/articles/breaking-news/comments?limit=100").json
    assert listed["total"] == WORKERS
    assert len({item["id"] for item in listed["items"]}) == WORKERS
    counts = app.test_client().get("/api/v1/counts?ids=breaking-news").json
    assert counts["counts"]["breaking-news"]["comments"] == WORKERS


def test_replies_racing_to_one_parent_all_nest_under_it(app):
    client = app.test_client()
    parent = client.post("/api/v1/articles/thread/comments", json=comment_fields()).json

    def reply(client, n):
        fields = comment_fields(body=f"reply {n}", parent_id=parent["comment"]["id"])
        return client.post("/api/v1/articles/thread/comments", json=fields)

    responses = race(app, reply)

    assert {response.status_code for response in responses} == {201}
    (thread,) = client.get("/api/v1/articles/thread/comments").json["items"]
    assert len(thread["replies"]) == WORKERS
    with app.app_context():
        replies = sa.select(Comment.thread_id).where(Comment.parent_id.is_not(None))
        assert set(db.session.scalars(replies)) == {parent["comment"]["id"]}


def share_as(client, reader, network="facebook"):
    return client.post("/api/v1/articles/hot/shares", json={"network": network},
                       environ_base={"REMOTE_ADDR": reader})


def test_concurrent_shares_from_different_readers_are_all_counted(app):
    responses = race(app, lambda client, n: share_as(client, f"198.51.100.{n + 1}"))

    assert all(response.json["counted"] for response in responses)
    assert app.test_client().get("/api/v1/articles/hot/shares").json["facebook"] == WORKERS


def test_concurrent_repeats_from_one_reader_count_once(app):
    responses = race(app, lambda client, n: share_as(client, "198.51.100.1"))

    assert [response.status_code for response in responses] == [200] * WORKERS
    assert sum(response.json["counted"] for response in responses) == 1
    assert app.test_client().get("/api/v1/articles/hot/shares").json["facebook"] == 1


def test_concurrent_shares_across_networks_keep_every_tally(app):
    networks = ["facebook", "x", "email", "reddit"]

    def share_round_robin(client, n):
        return share_as(client, f"198.51.100.{n + 1}", networks[n % len(networks)])

    race(app, share_round_robin)

    counts = app.test_client().get("/api/v1/articles/hot/shares").json
    assert [counts[network] for network in networks] == [WORKERS // len(networks)] * 4
    assert counts["total"] == WORKERS


def test_concurrent_flags_reach_the_threshold_exactly(make_app):
    app = make_app(FLAG_THRESHOLD=WORKERS)
    comment = app.test_client().post("/api/v1/articles/thread/comments",
                                     json=comment_fields()).json["comment"]

    def flag(client, n):
        return client.post(f"/api/v1/comments/{comment['id']}/flags", json={"reason": "spam"},
                           environ_base={"REMOTE_ADDR": f"198.51.100.{n + 1}"})

    responses = race(app, flag)

    assert {response.status_code for response in responses} == {202}
    listed = app.test_client().get("/api/v1/articles/thread/comments").json
    assert listed["items"] == []  # the last of the sixteen flags hid it
    with app.app_context():
        assert db.session.get(Comment, comment["id"]).flag_count == WORKERS


def test_moderators_changing_different_settings_at_once_both_keep_their_change(app):
    headers = {"Authorization": f"Bearer {make_token(app)}"}
    for round_ in range(10):
        mode = ("all", "none")[round_ % 2]
        changes = [{"max_links": round_}, {"blocked_words": [f"word{round_}"]},
                   {"flag_threshold": 5 + round_}, {"moderation_mode": mode}]

        responses = race(app, lambda client, n, changes=changes: client.patch(
            "/api/v1/admin/settings", json=changes[n], headers=headers), count=len(changes))

        assert [response.status_code for response in responses] == [200] * len(changes)
        settings = app.test_client().get("/api/v1/admin/settings", headers=headers).json
        assert settings == {"max_links": round_, "blocked_words": [f"word{round_}"],
                            "flag_threshold": 5 + round_, "moderation_mode": mode}


def test_a_pooled_connection_cut_while_idle_is_replaced_unseen(app, monkeypatch):
    """A restart or a failover cuts the connections in the pool: the next request after a
    pause gets a new one instead of a 503 (busy connections are not tested when taken)."""
    monkeypatch.setattr("engagement.database.PING_AFTER_IDLE_SECONDS", 0.2)
    client = app.test_client()
    assert client.get("/api/v1/articles/quiet/comments").status_code == 200
    with app.app_context():
        with db.engine.connect() as connection:  # the one pooled connection
            backend = connection.connection.dbapi_connection.info.backend_pid
        with sa.create_engine(db.engine.url, isolation_level="AUTOCOMMIT").connect() as other:
            assert other.scalar(sa.select(sa.func.pg_terminate_backend(backend)))
    time.sleep(0.3)

    answers = [client.get("/api/v1/articles/quiet/comments").status_code,
               client.post("/api/v1/articles/quiet/shares", json={"network": "x"}).status_code]

    assert answers == [200, 200]


def test_a_statement_committed_with_its_transaction_that_fails_commits_nothing(app):
    """database.run_on_driver's commit goes in the statement's round trip: when the statement
    fails, the COMMIT behind it is not run, and the transaction's earlier writes are lost."""
    answers = IdempotentAnswer.__table__
    failing = sa.select(sa.literal(1) / sa.bindparam("zero"))
    with app.app_context(), db.engine.connect() as connection:
        run_on_driver(connection, sa.insert(answers).values(
            client="c", key="never-kept", request_hash="h", created_at=sa.func.now()), {})
        with pytest.raises(sa.exc.DBAPIError, match="division by zero"):
            run_on_driver(connection, failing, {"zero": 0}, commit=True)
        connection.rollback()  # as after any error: SQLAlchemy asks for it
        kept = run_on_driver(connection, sa.select(answers.c.key), {}, commit=True)
        assert kept.rows == []
        counted = run_on_driver(connection, sa.select(sa.literal(6) / sa.bindparam("two")),
                                {"two": 2}, commit=True)
        assert counted.rows == [(3,)] and not connection.in_transaction()


def test_a_statement_run_many_times_in_one_round_trip_that_fails_once_commits_nothing(app):
    """database.run_many (a batch of shares committed together): each set of parameters'
    result in order; when one fails, those after it and the COMMIT are not run, and nothing of
    the transaction is kept."""
    answers = IdempotentAnswer.__table__
    kept = sa.insert(answers).values(client="c", key=sa.bindparam("key"), request_hash="h",
                                     created_at=sa.func.now()).returning(answers.c.key)
    with app.app_context(), db.engine.connect() as connection:
        with pytest.raises(sa.exc.DBAPIError, match="value too long"):
            run_many(connection, kept, [{"key": "first"}, {"key": "k" * 500},
                                        {"key": "third"}], commit=True)
        connection.rollback()
        assert run_on_driver(connection, sa.select(answers.c.key), {}, commit=True).rows == []

        results = run_many(connection, kept, [{"key": "one"}, {"key": "two"}], commit=True)

        assert [result.rows for result in results] == [[("one",)], [("two",)]]
        assert not connection.in_transaction()
        assert sorted(run_on_driver(connection, sa.select(answers.c.key), {},
                                    commit=True).rows) == [("one",), ("two",)]

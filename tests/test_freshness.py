"""The read path's validators and cache: every kind of write changes the public answers at once
(on SQLite and PostgreSQL), a 304 is answered from the article's version alone, cached answers
are shared through Redis and a Redis outage changes nothing but speed, the counters on the
article row survive concurrent writers, and `counts verify` finds and repairs a drift."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from engagement.articles.models import Article
from engagement.comments.models import Comment
from engagement.database import kept_while_unchanged
from engagement.extensions import db
from tests.conftest import comment_fields, make_token, suite_on_postgres
from tests.test_limits import own_redis  # noqa: F401  (a fixture)

STORY = "/api/v1/articles/story"
ANSWERS = {
    "article": STORY,
    "thread": f"{STORY}/comments",
    "counts": "/api/v1/counts?ids=story,elsewhere",
}
DATA_VERSION = "PRAGMA data_version"
DATABASES = [pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)]
THREE_LINKS = "[a](http://a.example) [b](http://b.example) [c](http://c.example)"


def post(client, article="story", **fields):
    response = client.post(f"/api/v1/articles/{article}/comments", json=comment_fields(**fields))
    assert response.status_code == 201, response.json
    return response.json


@pytest.fixture
def story(make_app, clock):
    """An app with an article: a comment with a reply, another comment, and one held for its
    links; `story.fresh()` is a process of its own that has cached nothing."""

    class Story:
        app = make_app()
        client = app.test_client()
        moderator = {"Authorization": f"Bearer {make_token(app)}"}
        first = post(client, body="First")
        reply = post(client, body="A reply", parent_id=first["comment"]["id"])
        second = post(client, body="Second")
        held = post(client, body=THREE_LINKS)
        assert held["status"] == "pending"

        def fresh(self):
            return make_app().test_client()

        def fresh_app(self):
            return make_app()

        def admin(self, method, path, json=None):
            response = self.client.open(f"/api/v1/admin{path}", method=method, json=json,
                                        headers=self.moderator)
            assert response.status_code in (200, 201, 204), response.json
            return response

    return Story()


def _edit(story, clock):
    response = story.client.patch(
        f"/api/v1/comments/{story.second['comment']['id']}", json={"body": "Second, edited"},
        headers={"X-Edit-Token": story.second["edit_token"]})
    assert response.status_code == 200


def _author_delete(story, clock):
    response = story.client.delete(f"/api/v1/comments/{story.second['comment']['id']}",
                                   headers={"X-Edit-Token": story.second["edit_token"]})
    assert response.status_code == 204


def _decide(status=None, pinned=None, which="second"):
    def write(story, clock):
        fields = {"status": status} if status else {"pinned": pinned}
        story.admin("PATCH", f"/comments/{getattr(story, which)['comment']['id']}", fields)
    return write


def _flag_hidden(story, clock):
    comment_id = story.second["comment"]["id"]
    for reader in range(3):  # ENGAGEMENT_FLAG_THRESHOLD
        response = story.client.post(f"/api/v1/comments/{comment_id}/flags",
                                     json={"reason": "spam"},
                                     environ_base={"REMOTE_ADDR": f"10.0.0.{reader + 1}"})
        assert response.status_code == 202


def _share(story, clock):
    response = story.client.post(f"{STORY}/shares", json={"network": "facebook"})
    assert response.json["counted"] is True


def _close_date_passes(story, clock):
    story.admin("PATCH", "/articles/story", {"comments_close_at": "2026-11-27T09:00:00Z"})
    # That PATCH changed the answers too; this test is about the moment passing afterwards.
    for path in ANSWERS.values():
        story.client.get(path)
    story.before = {name: story.client.get(path) for name, path in ANSWERS.items()}
    clock.advance(hours=2)


# Each kind of write, and the answers whose content it changes.
WRITES = {
    "comment posted": (lambda story, clock: post(story.client, body="Third"),
                       {"article", "thread", "counts"}),
    "reply posted": (lambda story, clock: post(story.client, body="Reply 2",
                                               parent_id=story.second["comment"]["id"]),
                     {"article", "thread", "counts"}),
    "comment edited": (_edit, {"thread"}),
    "comment deleted by its author": (_author_delete, {"article", "thread", "counts"}),
    "held comment approved": (_decide("approved", which="held"),
                              {"article", "thread", "counts"}),
    "comment rejected": (_decide("rejected"), {"article", "thread", "counts"}),
    "comment marked spam": (_decide("spam"), {"article", "thread", "counts"}),
    "comment pinned": (_decide(pinned=True), {"thread"}),
    "comment hidden by flags": (_flag_hidden, {"article", "thread", "counts"}),
    "comment deleted by a moderator": (
        lambda story, clock: story.admin("DELETE", f"/comments/{story.second['comment']['id']}"),
        {"article", "thread", "counts"}),
    "bulk rejection": (
        lambda story, clock: story.admin("POST", "/comments/bulk", {
            "ids": [story.second["comment"]["id"]], "action": "reject"}),
        {"article", "thread", "counts"}),
    "vote": (lambda story, clock: story.client.put(
        f"/api/v1/comments/{story.second['comment']['id']}/vote", json={"value": 1}),
             {"thread"}),
    "share counted": (_share, {"article", "counts"}),
    "comments closed by a moderator": (
        lambda story, clock: story.admin("PATCH", "/articles/story", {"comments_open": False}),
        {"article", "counts"}),
    "article retitled": (
        lambda story, clock: story.admin("PATCH", "/articles/story", {"title": "New title"}),
        {"article"}),
    "close date passing": (_close_date_passes, {"article", "counts"}),
}


@pytest.mark.parametrize("database", DATABASES)
@pytest.mark.parametrize("kind", WRITES)
def test_every_kind_of_write_changes_the_answers_at_once(story, clock, database, kind):
    write, changed = WRITES[kind]
    story.before = {name: story.client.get(path) for name, path in ANSWERS.items()}
    for name, path in ANSWERS.items():  # cached now: the next ask is answered 304
        etag = story.before[name].headers["ETag"]
        again = story.client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304

    write(story, clock)

    for name, path in ANSWERS.items():
        old = story.before[name]
        after = story.client.get(path, headers={"If-None-Match": old.headers["ETag"]})
        cold = story.fresh().get(path)  # built from the database by a process with no cache
        if name in changed:
            assert after.status_code == 200, name
            assert after.json != old.json, name
            assert after.headers["ETag"] != old.headers["ETag"]
        current = after.json if after.status_code == 200 else old.json
        assert current == cold.json, name


# Shares come by the thousand on a big night: they must not keep the thread's cache cold.
@pytest.mark.parametrize("database", DATABASES)
def test_a_share_leaves_the_thread_pages_cached(story, clock, database):
    before = story.client.get(ANSWERS["thread"])

    _share(story, clock)

    again = story.client.get(ANSWERS["thread"],
                             headers={"If-None-Match": before.headers["ETag"]})
    assert again.status_code == 304
    assert story.fresh().get(ANSWERS["thread"]).json == before.json


def test_a_write_of_the_release_before_is_seen_by_every_answer(story):
    """During a rolling upgrade, workers of the previous release still write: they bump
    `version` alone, for shares too. Here one of them counts a share and approves the held
    comment."""
    before = {name: story.client.get(path) for name, path in ANSWERS.items()}
    with story.app.app_context():
        db.session.execute(sa.update(Comment).where(Comment.id == story.held["comment"]["id"])
                           .values(status="approved"))
        db.session.execute(sa.update(Article).where(Article.id == "story").values(
            version=Article.version + 1, comment_count=Article.comment_count + 1,
            top_level_count=Article.top_level_count + 1, share_count=Article.share_count + 1))
        db.session.commit()

    for name, path in ANSWERS.items():
        after = story.client.get(path, headers={"If-None-Match": before[name].headers["ETag"]})
        assert after.status_code == 200, name
        assert after.json == story.fresh().get(path).json != before[name].json, name


def statements_during(app, call) -> list[str]:
    """The SQL a call ran in this thread (the mail outbox's own thread runs beside it). On
    SQLite, as the driver ran it: a validator's read goes to the driver's connection without
    SQLAlchemy's execution (database.read_value), and its events."""
    statements, caller = [], threading.get_ident()

    def record(*args):
        statement = args[0] if len(args) == 1 else args[2]  # the driver's trace; the event's
        if threading.get_ident() == caller:
            statements.append(statement)

    def trace(dbapi_connection, _record, _proxy):
        dbapi_connection.set_trace_callback(record)

    def untrace(dbapi_connection, _record):
        dbapi_connection.set_trace_callback(None)

    with app.app_context():
        engine = db.engine
    listeners = ([("checkout", trace), ("checkin", untrace)]
                 if engine.dialect.name == "sqlite" else [("before_cursor_execute", record)])
    for name, listener in listeners:
        sa.event.listen(engine, name, listener)
    try:
        call()
    finally:
        for name, listener in listeners:
            sa.event.remove(engine, name, listener)
    return statements


@pytest.mark.parametrize("path", ANSWERS.values())
def test_a_304_reads_the_version_alone(story, path):
    etag = story.client.get(path).headers["ETag"]
    fresh = story.fresh_app()  # a process that never built the answer

    statements = statements_during(
        fresh, lambda: fresh.test_client().get(path, headers={"If-None-Match": etag}))

    assert fresh.test_client().get(path, headers={"If-None-Match": etag}).status_code == 304
    # On SQLite, /counts asks first whether anything was written since it last read (nothing
    # kept yet here): a pragma that reads no table.
    statements = [text for text in statements if text != DATA_VERSION]
    assert len(statements) == 1
    assert "FROM articles" in statements[0]
    assert "FROM comments" not in statements[0] and "FROM share" not in statements[0]


def test_a_cached_answer_is_served_without_building_it(story):
    first = story.client.get(ANSWERS["thread"])

    statements = statements_during(story.app, lambda: story.client.get(ANSWERS["thread"]))

    assert len(statements) == 1  # the article's version; the comments come from the cache
    assert story.client.get(ANSWERS["thread"]).data == first.data


def test_pages_and_orders_of_one_version_are_cached_apart(story):
    oldest = story.client.get(f"{ANSWERS['thread']}?order=oldest").json
    newest = story.client.get(f"{ANSWERS['thread']}?order=newest").json
    page = story.client.get(f"{ANSWERS['thread']}?limit=1").json
    following = story.client.get(f"{ANSWERS['thread']}?limit=1&cursor={page['next_cursor']}")

    assert [item["body_html"] for item in oldest["items"]] == ["<p>First</p>",
                                                               "<p>Second</p>"]
    assert [item["body_html"] for item in newest["items"]] == ["<p>Second</p>",
                                                               "<p>First</p>"]
    assert [item["body_html"] for item in following.json["items"]] == ["<p>Second</p>"]


@pytest.mark.parametrize("query", ["limit=abc", "limit=0", "order=sideways", "cursor=%25"])
def test_a_query_the_thread_refuses_is_refused_even_with_a_current_etag(story, query):
    etag = story.client.get(ANSWERS["thread"]).headers["ETag"]

    response = story.client.get(f"{ANSWERS['thread']}?{query}", headers={"If-None-Match": etag})

    assert response.status_code == 422, response.status_code
    assert response.json["reason"] == "validation"


def test_counts_refused_for_their_ids_even_with_a_current_etag(story):
    etag = story.client.get(ANSWERS["counts"]).headers["ETag"]

    response = story.client.get(f"/api/v1/counts?ids={',' * 3}", headers={"If-None-Match": etag})

    assert response.status_code == 422


def test_spellings_of_one_query_are_one_cached_answer(story):
    story.client.get(f"{ANSWERS['thread']}?limit=20&order=oldest")

    for spelling in ("", "?limit=020", "?order=oldest", "?limit=20&ignored=1"):
        statements = statements_during(story.app, lambda spelling=spelling: story.client.get(
            f"{ANSWERS['thread']}{spelling}"))
        assert len(statements) == 1, spelling  # the version; the page came from the cache


@pytest.mark.live
def test_answers_are_shared_through_redis_and_an_outage_costs_only_speed(
    make_app, own_redis,  # noqa: F811 (the fixture imported above)
):
    one = make_app(CACHE_URL=own_redis.url)
    two = make_app(CACHE_URL=own_redis.url)
    post(one.test_client(), body="Before the outage")
    built = one.test_client().get(ANSWERS["thread"])

    # Another worker (or host) is served the answer the first one built.
    statements = statements_during(two, lambda: two.test_client().get(ANSWERS["thread"]))
    assert len(statements) == 1
    assert two.test_client().get(ANSWERS["thread"]).data == built.data

    own_redis.stop()
    post(one.test_client(), body="During the outage")
    for app in (one, two):
        during = app.test_client().get(ANSWERS["thread"])
        assert during.status_code == 200
        assert [item["body_html"] for item in during.json["items"]] == [
            "<p>Before the outage</p>", "<p>During the outage</p>"]
        assert app.test_client().get("/api/v1/articles/story").json["comment_count"] == 2

    own_redis.start()
    post(one.test_client(), body="After the outage")
    after = two.test_client().get(ANSWERS["thread"])
    assert len(after.json["items"]) == 3


def test_reading_an_unseen_article_answers_304_too(client):
    first = client.get("/api/v1/articles/never-written")

    again = client.get("/api/v1/articles/never-written",
                       headers={"If-None-Match": first.headers["ETag"]})

    assert again.status_code == 304


def test_the_first_write_changes_an_unseen_articles_etag(client, post_comment):
    unseen = client.get("/api/v1/articles/an-article")
    post_comment()

    after = client.get("/api/v1/articles/an-article",
                       headers={"If-None-Match": unseen.headers["ETag"]})

    assert after.status_code == 200
    assert after.json["comment_count"] == 1


def test_a_304_carries_the_cache_headers_of_a_200(client):
    first = client.get(STORY)

    again = client.get(STORY, headers={"If-None-Match": first.headers["ETag"]})

    assert again.status_code == 304
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["Cache-Control"] == first.headers["Cache-Control"]
    assert again.data == b""


# --- Counters kept at write time --------------------------------------------------------------

def stored_counters(app, article_id="story") -> tuple[int, int]:
    with app.app_context():
        article = db.session.get(Article, article_id)
        return article.comment_count, article.share_count


@pytest.mark.postgres
def test_concurrent_writers_lose_no_count(make_app):
    app = make_app()
    post(app.test_client())  # the article exists before the race
    writers, each = 8, 6
    errors = []

    def comment_and_share(writer):
        client = app.test_client()
        try:
            for turn in range(each):
                post(client, body=f"writer {writer}, turn {turn}")
                # Each share from a reader of its own address: one address counts only a
                # few readers (tests/test_hardening.py).
                shared = client.post(f"{STORY}/shares", json={"network": "x"},
                                     environ_base={"REMOTE_ADDR": f"10.{writer}.{turn}.1"})
                assert shared.json["counted"] is True
        except Exception as exc:  # noqa: BLE001 (reported below, in the test's thread)
            errors.append(exc)

    threads = [threading.Thread(target=comment_and_share, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert stored_counters(app) == (1 + writers * each, writers * each)
    answer = app.test_client().get(STORY).json
    assert answer["comment_count"] == 1 + writers * each
    assert answer["share_counts"]["total"] == writers * each
    assert app.test_cli_runner().invoke(args=["counts", "verify"]).exit_code == 0


def test_counts_verify_finds_a_drift_and_fix_repairs_it(story):
    runner = story.app.test_cli_runner()
    story.client.post(f"{STORY}/shares", json={"network": "x"})
    assert runner.invoke(args=["counts", "verify"]).output == (
        "Every article's counters agree with a recount.\n")
    cached = story.client.get(STORY)
    with story.app.app_context():
        db.session.execute(
            sa.update(Article).values(comment_count=7, top_level_count=9, share_count=0))
        db.session.commit()

    found = runner.invoke(args=["counts", "verify"])
    assert found.exit_code == 1
    assert ("story: comment_count 7 stored, 3 counted; top_level_count 9 stored, 2 counted; "
            "share_count 0 stored, 1 counted") in found.output

    fixed = runner.invoke(args=["counts", "verify", "--fix"])
    assert fixed.exit_code == 0, fixed.output
    assert "Repaired the counters of 1 articles." in fixed.output
    assert stored_counters(story.app) == (3, 1)
    assert runner.invoke(args=["counts", "verify"]).exit_code == 0
    # The repair is a change of the answers: a client holding the old one gets the new.
    after = story.client.get(STORY, headers={"If-None-Match": cached.headers["ETag"]})
    assert after.status_code == 200
    assert after.json["comment_count"] == 3


def test_a_held_comment_is_counted_only_once_approved(story):
    assert stored_counters(story.app) == (3, 0)
    story.admin("PATCH", f"/comments/{story.held['comment']['id']}", {"status": "approved"})
    story.admin("PATCH", f"/comments/{story.held['comment']['id']}", {"status": "approved"})
    assert stored_counters(story.app) == (4, 0)
    story.admin("PATCH", f"/comments/{story.held['comment']['id']}", {"status": "spam"})
    story.admin("DELETE", f"/comments/{story.held['comment']['id']}")
    assert stored_counters(story.app) == (3, 0)


def test_the_thread_total_follows_moderation_and_deletion_without_a_recount(story):
    """The total comes from the article's counter of top-level comments (and the few deleted
    ones kept as placeholders), kept by each write: it must match what the pages list."""

    def listed_and_total():
        page = story.client.get(f"{STORY}/comments?limit=100").json
        return len(page["items"]), page["total"]

    assert listed_and_total() == (2, 2)
    story.admin("PATCH", f"/comments/{story.held['comment']['id']}", {"status": "approved"})
    assert listed_and_total() == (3, 3)
    story.admin("PATCH", f"/comments/{story.second['comment']['id']}", {"status": "rejected"})
    story.admin("PATCH", f"/comments/{story.reply['comment']['id']}", {"status": "spam"})
    assert listed_and_total() == (2, 2)
    # A deleted comment with a visible reply stays as a placeholder, and in the total.
    story.admin("PATCH", f"/comments/{story.reply['comment']['id']}", {"status": "approved"})
    deleted = story.client.delete(f"/api/v1/comments/{story.first['comment']['id']}",
                                  headers={"X-Edit-Token": story.first["edit_token"]})
    assert deleted.status_code == 204
    assert listed_and_total() == (2, 2)
    story.admin("DELETE", f"/comments/{story.reply['comment']['id']}")
    assert listed_and_total() == (1, 1)
    assert story.app.test_cli_runner().invoke(args=["counts", "verify"]).exit_code == 0


@pytest.mark.parametrize("database", DATABASES)
def test_a_placeholder_with_several_visible_replies_is_one_in_the_total(story, database):
    post(story.client, body="Another reply", parent_id=story.first["comment"]["id"])
    deleted = story.client.delete(f"/api/v1/comments/{story.first['comment']['id']}",
                                  headers={"X-Edit-Token": story.first["edit_token"]})
    assert deleted.status_code == 204

    page = story.client.get(f"{STORY}/comments?limit=100").json

    assert [item["deleted"] for item in page["items"]] == [True, False]
    assert page["total"] == len(page["items"]) == 2
    assert story.client.get(f"{STORY}/comments?limit=2").json["next_cursor"] is None


def shown_in_thread(client) -> int:
    """Comments a reader sees in the thread (placeholders of deleted ones are not comments)."""

    def shown(items):
        return sum((not item["deleted"]) + shown(item["replies"]) for item in items)

    return shown(client.get(f"{STORY}/comments?limit=100").json["items"])


@pytest.mark.parametrize("database", DATABASES)
def test_the_count_is_what_the_thread_shows_when_a_comment_above_replies_is_hidden(
        story, clock, database):
    """Hiding a comment hides the replies below it; the count (the byline's "N comments")
    follows, and comes back when the comment does."""
    first = story.first["comment"]["id"]
    below = post(story.client, body="Below the reply", parent_id=story.reply["comment"]["id"])
    edited = post(story.client, body="Edited later", parent_id=below["comment"]["id"])
    assert shown_in_thread(story.client) == story.client.get(STORY).json["comment_count"] == 5

    steps = [
        lambda: story.admin("PATCH", f"/comments/{first}", {"status": "rejected"}),
        lambda: story.admin("PATCH", f"/comments/{first}", {"status": "approved"}),
        lambda: story.admin("POST", "/comments/bulk",
                            {"ids": [first, story.reply["comment"]["id"]], "action": "spam"}),
        lambda: story.admin("POST", "/comments/bulk",
                            {"ids": [first, story.reply["comment"]["id"]],
                             "action": "approve"}),
        # The author's edit is held for its links: the reply below it goes with it.
        lambda: story.client.patch(f"/api/v1/comments/{below['comment']['id']}",
                                   json={"body": THREE_LINKS},
                                   headers={"X-Edit-Token": below["edit_token"]}),
        lambda: story.admin("PATCH", f"/comments/{below['comment']['id']}",
                            {"status": "approved"}),
        lambda: story.client.delete(f"/api/v1/comments/{story.reply['comment']['id']}",
                                    headers={"X-Edit-Token": story.reply["edit_token"]}),
    ]
    counts = []
    for step in steps:
        step()
        counts.append((shown_in_thread(story.client),
                       story.client.get(STORY).json["comment_count"]))

    assert counts == [(1, 1), (5, 5), (1, 1), (5, 5), (3, 3), (5, 5), (4, 4)], edited
    assert story.app.test_cli_runner().invoke(args=["counts", "verify"]).exit_code == 0


def test_readers_hiding_a_comment_by_flags_hide_the_replies_from_the_count(make_app):
    app = make_app(FLAG_THRESHOLD=2)
    client = app.test_client()
    top = post(client, body="Contested")["comment"]["id"]
    post(client, body="A reply", parent_id=top)
    for reader in ("10.0.0.1", "10.0.0.2"):
        client.post(f"/api/v1/comments/{top}/flags", json={"reason": "abuse"},
                    environ_base={"REMOTE_ADDR": reader})

    assert shown_in_thread(client) == client.get(STORY).json["comment_count"] == 0


def test_a_reply_placed_below_a_hidden_comment_is_counted_when_it_shows(story):
    # The contract takes a reply to any approved comment; the API can reach one below a
    # comment a moderator hid, where it does not show.
    story.admin("PATCH", f"/comments/{story.first['comment']['id']}", {"status": "rejected"})
    late = story.client.post(f"{STORY}/comments", json=comment_fields(
        body="Late", parent_id=story.reply["comment"]["id"]))
    assert late.status_code == 201 and late.json["status"] == "approved"
    assert shown_in_thread(story.client) == story.client.get(STORY).json["comment_count"] == 1

    story.admin("PATCH", f"/comments/{story.first['comment']['id']}", {"status": "approved"})

    assert shown_in_thread(story.client) == story.client.get(STORY).json["comment_count"] == 4


def test_counts_verify_recounts_what_the_threads_show(story):
    with story.app.app_context():  # a reply below a hidden comment, counted by an older release
        db.session.execute(sa.update(Comment).where(Comment.id == story.first["comment"]["id"])
                           .values(status="rejected"))
        db.session.execute(sa.update(Article).values(comment_count=2, top_level_count=1))
        db.session.commit()

    found = story.app.test_cli_runner().invoke(args=["counts", "verify"])

    assert found.exit_code == 1
    assert "story: comment_count 2 stored, 1 counted" in found.output


@pytest.mark.postgres
def test_replies_placed_while_a_comment_above_is_hidden_are_counted_as_shown(make_app):
    app = make_app()
    client = app.test_client()
    top = post(client, body="Top")["comment"]["id"]
    reply = post(client, body="Reply", parent_id=top)["comment"]["id"]
    errors = []

    def reply_below(writer):
        try:
            for turn in range(6):
                response = app.test_client().post(f"{STORY}/comments", json=comment_fields(
                    body=f"writer {writer}, turn {turn}", parent_id=reply))
                assert response.status_code in (201, 422), response.json
        except Exception as exc:  # noqa: BLE001 (reported below, in the test's thread)
            errors.append(exc)

    def moderate():
        headers = {"Authorization": f"Bearer {make_token(app)}"}
        try:
            for status in ("rejected", "approved") * 5:
                response = app.test_client().patch(f"/api/v1/admin/comments/{top}",
                                                   json={"status": status}, headers=headers)
                assert response.status_code == 200, response.json
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=reply_below, args=(n,)) for n in range(4)]
    threads.append(threading.Thread(target=moderate))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert shown_in_thread(client) == client.get(STORY).json["comment_count"]
    assert app.test_cli_runner().invoke(args=["counts", "verify"]).exit_code == 0


def test_after_a_restore_from_a_backup_no_cached_answer_comes_back(make_app):
    """A backup taken at version V, restored after the answers of V+1 were cached: the next
    write must not land on V+1 again, or readers get the lost comment back from the cache."""
    app = make_app()
    client = app.test_client()
    post(client, body="Kept")
    with app.app_context():
        backup = db.session.execute(
            sa.select(Article.version, Article.share_version, Article.comment_count,
                      Article.top_level_count)
            .where(Article.id == "story")).one()._asdict()
    lost = post(client, body="Lost in the restore")
    assert len(client.get(f"{STORY}/comments").json["items"]) == 2  # cached
    with app.app_context():  # the restore, as far as this article goes
        db.session.execute(sa.delete(Comment).where(Comment.id == lost["comment"]["id"]))
        db.session.execute(sa.update(Article).where(Article.id == "story").values(**backup))
        db.session.commit()

    post(client, body="Written after the restore")

    page = client.get(f"{STORY}/comments").json
    assert [item["body_html"] for item in page["items"]] == [
        "<p>Kept</p>", "<p>Written after the restore</p>"]


def test_the_close_after_days_rule_closes_without_a_write(make_app, clock):
    client = make_app(COMMENTS_CLOSE_AFTER_DAYS=1).test_client()
    post(client)
    first = client.get(STORY)
    assert client.get("/api/v1/counts?ids=story").json["counts"]["story"]["comments_open"]

    clock.advance(days=1, seconds=1)
    after = client.get(STORY, headers={"If-None-Match": first.headers["ETag"]})

    assert after.status_code == 200
    assert after.json["comments_open"] is False
    assert client.get("/api/v1/counts?ids=story").json["counts"]["story"]["comments_open"] is False


# --- /counts kept while nothing is written (SQLite) -------------------------------------------

sqlite_only = pytest.mark.skipif(suite_on_postgres(), reason="PRAGMA data_version is SQLite's")
COUNTS = ANSWERS["counts"]


def counts_open(client) -> bool:
    return client.get(COUNTS).json["counts"]["story"]["comments_open"]


@sqlite_only
def test_counts_asked_again_read_nothing_while_nothing_is_written(story):
    first = story.client.get(COUNTS)
    for _ in range(8):  # every pooled connection (the pool keeps 5) has read them once
        story.client.get(COUNTS, headers={"If-None-Match": first.headers["ETag"]})

    statements = statements_during(story.app, lambda: story.client.get(
        COUNTS, headers={"If-None-Match": first.headers["ETag"]}))

    assert statements == [DATA_VERSION]


@sqlite_only
def test_counts_kept_are_read_again_after_another_process_writes(story):
    first = story.client.get(COUNTS)
    for _ in range(8):
        story.client.get(COUNTS, headers={"If-None-Match": first.headers["ETag"]})
    with story.app.app_context():
        path = db.engine.url.database
    other = sqlite3.connect(path)  # another process: a CLI command, the other worker
    with other:
        other.execute("UPDATE articles SET share_count = share_count + 1, "
                      "share_version = share_version + 1 WHERE id = 'story'")
    other.close()

    after = story.client.get(COUNTS, headers={"If-None-Match": first.headers["ETag"]})

    assert after.status_code == 200
    assert after.json["counts"]["story"]["shares"] == first.json["counts"]["story"]["shares"] + 1


@pytest.mark.parametrize("database", DATABASES)
def test_counts_close_at_the_close_date_itself(story, clock, database):
    closing = clock() + timedelta(hours=1)
    story.admin("PATCH", "/articles/story",
                {"comments_close_at": closing.isoformat().replace("+00:00", "Z")})
    clock.current = closing - timedelta(microseconds=1)
    assert all(counts_open(story.client) for _ in range(4))  # kept, on SQLite

    clock.current = closing

    assert counts_open(story.client) is False


@pytest.mark.parametrize("database", DATABASES)
def test_counts_close_when_the_article_is_close_after_days_old(make_app, clock, database):
    client = make_app(COMMENTS_CLOSE_AFTER_DAYS=2).test_client()
    born = clock()
    post(client)
    clock.current = born + timedelta(days=2, microseconds=-1)
    assert all(counts_open(client) for _ in range(4))

    clock.current = born + timedelta(days=2)

    assert counts_open(client) is False


def test_kept_values_go_with_any_write_and_the_time_they_hold_for(tmp_path):
    """database.kept_while_unchanged on one connection (StaticPool): its own writes, another
    connection's commits and the moment the value changes each make it read again."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'kept.sqlite3'}",
                              poolclass=sa.pool.StaticPool)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE numbers (n INTEGER)")
    reads = []

    def kept(now, until=None):
        def read():
            reads.append(now)
            return len(reads), until
        return kept_while_unchanged(engine, "numbers", now, read)

    start = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    assert kept(start) == kept(start) == 1
    with engine.begin() as connection:  # this very connection writes
        connection.exec_driver_sql("INSERT INTO numbers VALUES (1)")
    assert kept(start) == kept(start) == 2
    other = sqlite3.connect(tmp_path / "kept.sqlite3")
    with other:
        other.execute("INSERT INTO numbers VALUES (2)")
    other.close()
    assert kept(start, until=start + timedelta(seconds=1)) == 3
    assert kept(start + timedelta(microseconds=999_999)) == 3
    assert kept(start + timedelta(seconds=1)) == 4
    engine.dispose()

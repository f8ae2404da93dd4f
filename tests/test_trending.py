"""What's Hot: articles ranked by the approved comments and counted shares they drew inside a
window, as a reader of GET /api/v1/trending sees them."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from engagement.articles.models import Article
from engagement.comments.models import Comment, CommentStatus
from engagement.extensions import db
from tests.conftest import comment_fields, database_log

TRENDING = "/api/v1/trending"


@pytest.fixture
def app(make_app):
    """Articles of these tests are ids of the site's own form, so they may trend unregistered
    (tests/test_hardening.py shows that made-up ids do not)."""
    return make_app(ARTICLE_ID_PATTERN=r"[a-z][a-z0-9-]*")


def trending(client, query=""):
    response = client.get(f"{TRENDING}{query}")
    assert response.status_code == 200, response.json
    return response.json


def ranking(client, query=""):
    """(id, score) of each listed article, in the order listed."""
    return [(item["id"], item["score"]) for item in trending(client, query)["items"]]


def listed(client, query=""):
    return [item["id"] for item in trending(client, query)["items"]]


def share(client, article, network="facebook", reader="198.51.100.1", agent="Firefox"):
    """Share as one reader (address and user agent); True when the share was counted."""
    response = client.post(f"/api/v1/articles/{article}/shares", json={"network": network},
                           headers={"User-Agent": agent}, environ_base={"REMOTE_ADDR": reader})
    assert response.status_code == 200, response.json
    return response.json["counted"]


def shares(client, article, count):
    """`count` counted shares, each by a different reader."""
    for reader in range(count):
        assert share(client, article, reader=f"198.51.100.{reader + 1}") is True


def comments(post_comment, article, count):
    return [post_comment(article) for _ in range(count)]


def comment_from(client, article, reader):
    """A comment posted from a reader's own address (comment limits count per address)."""
    response = client.post(f"/api/v1/articles/{article}/comments", json=comment_fields(),
                           environ_base={"REMOTE_ADDR": reader})
    assert response.status_code == 201, response.json


def set_comment(app, comment_id, **fields):
    """What a moderator's tool would change (moderation has no endpoint yet)."""
    with app.app_context():
        db.session.execute(sa.update(Comment).where(Comment.id == comment_id).values(**fields))
        db.session.commit()


# --- Ranking --------------------------------------------------------------------------------

def test_defaults_are_echoed_and_nothing_is_hot_yet(client):
    assert trending(client) == {"window": "24h", "by": "engagement", "items": []}


@pytest.fixture
def activity(client, post_comment):
    """alpha: 2 comments and 1 share; bravo: 1 comment and 5 shares; charlie: 3 shares."""
    comments(post_comment, "alpha", 2)
    shares(client, "alpha", 1)
    comments(post_comment, "bravo", 1)
    shares(client, "bravo", 5)
    shares(client, "charlie", 3)


def test_items_carry_the_article_its_counts_and_its_score(client, activity):
    items = trending(client)["items"]

    assert items == [
        {"id": "bravo", "title": None, "url": None, "comments": 1, "shares": 5, "score": 8},
        {"id": "alpha", "title": None, "url": None, "comments": 2, "shares": 1, "score": 7},
        {"id": "charlie", "title": None, "url": None, "comments": 0, "shares": 3, "score": 3},
    ]
    assert all(type(item["score"]) in (int, float) for item in items)


@pytest.mark.parametrize(("by", "expected"), [
    ("engagement", [("bravo", 8), ("alpha", 7), ("charlie", 3)]),
    ("comments", [("alpha", 2), ("bravo", 1)]),
    ("shares", [("bravo", 5), ("charlie", 3), ("alpha", 1)]),
])
def test_ranked_by_the_chosen_score(client, activity, by, expected):
    answer = trending(client, f"?by={by}")

    assert answer["by"] == by and answer["window"] == "24h"
    assert [(item["id"], item["score"]) for item in answer["items"]] == expected


def test_title_and_url_of_a_known_article_come_through(client, app, post_comment):
    post_comment("alpha")
    with app.app_context():
        db.session.execute(sa.update(Article).where(Article.id == "alpha").values(
            title="Alpha, explained", url="https://news.example/alpha"))
        db.session.commit()

    (item,) = trending(client)["items"]
    assert item["title"] == "Alpha, explained"
    assert item["url"] == "https://news.example/alpha"


def test_articles_with_nothing_of_the_kind_are_left_out(client, post_comment):
    comments(post_comment, "talked-about", 1)
    shares(client, "shared", 1)
    client.get("/api/v1/articles/only-read/comments")  # known, but nobody did anything

    assert listed(client) == ["talked-about", "shared"]
    assert listed(client, "?by=comments") == ["talked-about"]
    assert listed(client, "?by=shares") == ["shared"]


def test_limit_caps_the_list(client):
    for rank in range(12):
        shares(client, f"article{rank:02}", 12 - rank)

    assert len(listed(client)) == 10
    assert ranking(client, "?limit=3") == [("article00", 12), ("article01", 11), ("article02", 10)]
    assert len(listed(client, "?limit=50")) == 12


def test_equal_comments_go_to_more_shares_then_to_the_id(client, post_comment):
    for article in ("delta", "charlie", "bravo", "alpha"):
        comments(post_comment, article, 1)
    shares(client, "charlie", 2)
    shares(client, "delta", 1)

    assert listed(client, "?by=comments") == ["charlie", "delta", "alpha", "bravo"]


def test_equal_shares_go_to_more_comments_then_to_the_id(client, post_comment):
    for article in ("delta", "charlie", "bravo", "alpha"):
        shares(client, article, 1)
    comments(post_comment, "charlie", 2)
    comments(post_comment, "delta", 1)

    assert listed(client, "?by=shares") == ["charlie", "delta", "alpha", "bravo"]


def test_equal_engagement_goes_to_the_id(client, post_comment):
    for article in ("charlie", "alpha", "bravo"):
        comments(post_comment, article, 1)
        shares(client, article, 1)

    assert ranking(client) == [("alpha", 4), ("bravo", 4), ("charlie", 4)]


# --- The window -----------------------------------------------------------------------------

@pytest.mark.parametrize(("window", "length"), [
    ("1h", timedelta(hours=1)),
    ("24h", timedelta(hours=24)),
    ("7d", timedelta(days=7)),
    ("30d", timedelta(days=30)),
])
def test_activity_older_than_the_window_is_not_counted(client, post_comment, clock, window,
                                                       length):
    post_comment("earlier")
    share(client, "earlier")
    clock.advance(seconds=(length - timedelta(minutes=1)).total_seconds())
    post_comment("later")
    share(client, "later", reader="198.51.100.9")

    assert ranking(client, f"?window={window}") == [("earlier", 4), ("later", 4)]

    clock.advance(minutes=2)
    answer = trending(client, f"?window={window}")
    assert answer["window"] == window
    assert [(item["id"], item["score"]) for item in answer["items"]] == [("later", 4)]


def test_each_window_sees_its_own_stretch_of_time(client, post_comment, clock):
    """Articles commented on 40 days, 10 days, 2 days, 2 hours and 30 minutes ago."""
    for article, then_wait in [("forty-days", {"days": 30}), ("ten-days", {"days": 8}),
                               ("two-days", {"days": 1, "hours": 22}),
                               ("two-hours", {"minutes": 90}), ("half-hour", {"minutes": 30})]:
        post_comment(article)
        clock.advance(**then_wait)

    assert listed(client, "?window=1h") == ["half-hour"]
    assert listed(client, "?window=24h") == ["half-hour", "two-hours"]
    assert listed(client, "?window=7d") == ["half-hour", "two-days", "two-hours"]
    assert listed(client, "?window=30d") == ["half-hour", "ten-days", "two-days", "two-hours"]


def test_counts_inside_the_window_leave_older_activity_of_the_same_article_out(
        client, post_comment, clock):
    comments(post_comment, "alpha", 2)
    shares(client, "alpha", 2)
    clock.advance(hours=2)
    post_comment("alpha")
    share(client, "alpha", reader="203.0.113.1")

    assert trending(client, "?window=1h")["items"] == [{
        "id": "alpha", "title": None, "url": None, "comments": 1, "shares": 1, "score": 4}]
    assert ranking(client, "?window=24h") == [("alpha", 12)]


# --- Which comments count -------------------------------------------------------------------

def test_a_comment_deleted_by_its_author_no_longer_counts(client, post_comment):
    kept, deleted = comments(post_comment, "alpha", 2)
    assert ranking(client) == [("alpha", 6)]

    response = client.delete(f"/api/v1/comments/{deleted['comment']['id']}",
                             headers={"X-Edit-Token": deleted["edit_token"]})

    assert response.status_code == 204
    assert ranking(client) == [("alpha", 3)]
    assert trending(client)["items"][0]["comments"] == 1


def test_a_honeypot_comment_is_stored_as_spam_and_never_counts(client, app, post_comment):
    posted = post_comment("alpha", website_url="https://spam.example/")

    assert posted["status"] == "pending"
    with app.app_context():
        assert db.session.get(Comment, posted["comment"]["id"]).status is CommentStatus.SPAM
    assert trending(client) == {"window": "24h", "by": "engagement", "items": []}
    assert listed(client, "?by=comments&window=30d") == []


@pytest.mark.parametrize("status", [
    CommentStatus.PENDING, CommentStatus.REJECTED, CommentStatus.SPAM, CommentStatus.FLAGGED,
])
def test_only_approved_comments_count(client, app, post_comment, status):
    post_comment("alpha")
    held = post_comment("alpha")
    post_comment("bravo")
    set_comment(app, held["comment"]["id"], status=status)

    assert ranking(client, "?by=comments") == [("alpha", 1), ("bravo", 1)]

    set_comment(app, held["comment"]["id"], status=CommentStatus.APPROVED)
    assert ranking(client, "?by=comments") == [("alpha", 2), ("bravo", 1)]


def test_an_article_whose_only_comment_is_held_is_left_out(client, app, post_comment):
    held = post_comment("alpha")
    set_comment(app, held["comment"]["id"], status=CommentStatus.PENDING)

    assert listed(client) == []


# --- Which shares count ---------------------------------------------------------------------

def test_a_repeat_share_by_the_same_reader_counts_once(client):
    assert share(client, "alpha") is True
    assert share(client, "alpha") is False

    assert ranking(client, "?by=shares") == [("alpha", 1)]


def test_another_address_or_user_agent_is_another_reader(client):
    share(client, "alpha")
    share(client, "alpha", reader="198.51.100.2")
    share(client, "alpha", agent="Safari")

    assert ranking(client, "?by=shares") == [("alpha", 3)]
    assert trending(client)["items"][0]["shares"] == 3


def test_the_same_reader_counts_again_after_the_dedupe_window(client, clock):
    share(client, "alpha")
    clock.advance(hours=23)
    assert share(client, "alpha") is False
    clock.advance(hours=1)
    assert share(client, "alpha") is True

    assert ranking(client, "?by=shares&window=7d") == [("alpha", 2)]
    assert ranking(client, "?by=shares&window=1h") == [("alpha", 1)]


# --- Bad input ------------------------------------------------------------------------------

@pytest.mark.parametrize("query", [
    "?window=2h",
    "?window=",
    "?by=likes",
    "?limit=0",
    "?limit=51",
    "?limit=abc",
    "?limit=%D9%A5",  # Arabic-Indic five, which int() reads as 5
    "?limit=1_0",
])
def test_bad_queries_are_refused(client, query):
    response = client.get(f"{TRENDING}{query}")

    assert response.status_code == 422, response.json
    assert response.json["reason"] == "validation"
    assert "query" in response.json["errors"]


# --- Cost -----------------------------------------------------------------------------------

def test_trending_uses_a_bounded_number_of_queries(client, app):
    def statements_of(query):
        with database_log(app) as sent:
            response = client.get(f"{TRENDING}{query}")
        assert response.status_code == 200, response.json
        return response.json["items"], sent

    comment_from(client, "article00", "203.0.113.1")
    share(client, "article00")
    one, few = statements_of("?limit=50")
    for index in range(1, 30):
        comment_from(client, f"article{index:02}", f"203.0.113.{index + 1}")
        share(client, f"article{index:02}")
    thirty, many = statements_of("?limit=50")

    assert len(one) == 1 and len(thirty) == 30
    assert len(many) == len(few) <= 2

"""Votes: one per reader and comment, at most three readers of one address, tallies on every
comment, best-first order, the reader's own votes, the refusals (bad values, closed articles,
hidden comments, bans, limits, settings), and concurrent votes with real threads."""


import pytest
import sqlalchemy as sa

from engagement.extensions import db
from engagement.votes.models import Vote
from engagement.votes.services import wilson_lower_bound
from tests.conftest import comment_fields, race

COMMENTS = "/api/v1/articles/an-article/comments"
VOTES = "/api/v1/articles/an-article/votes"


def vote(client, comment_id, value, reader="198.51.100.1", agent="Firefox"):
    return client.put(f"/api/v1/comments/{comment_id}/vote", json={"value": value},
                      headers={"User-Agent": agent}, environ_base={"REMOTE_ADDR": reader})


def my_votes(client, reader="198.51.100.1", agent="Firefox", article="an-article"):
    return client.get(f"/api/v1/articles/{article}/votes", headers={"User-Agent": agent},
                      environ_base={"REMOTE_ADDR": reader})


def listed(client, **query):
    return client.get(COMMENTS, query_string=query).json["items"]


def test_a_vote_counts_and_answers_the_tallies(client, post_comment):
    cid = post_comment()["comment"]["id"]

    response = vote(client, cid, 1)

    assert response.status_code == 200
    assert response.json == {"upvotes": 1, "downvotes": 0, "value": 1}
    (item,) = listed(client)
    assert (item["upvotes"], item["downvotes"]) == (1, 0)


def test_a_new_comment_has_no_votes_in_every_answer(client, post_comment):
    posted = post_comment()
    reply = post_comment(parent_id=posted["comment"]["id"])

    assert (posted["comment"]["upvotes"], posted["comment"]["downvotes"]) == (0, 0)
    assert (reply["comment"]["upvotes"], reply["comment"]["downvotes"]) == (0, 0)
    (item,) = listed(client)
    assert item["replies"][0]["upvotes"] == 0


def test_a_new_value_replaces_the_readers_vote_and_zero_withdraws_it(client, post_comment):
    cid = post_comment()["comment"]["id"]

    assert vote(client, cid, 1).json == {"upvotes": 1, "downvotes": 0, "value": 1}
    assert vote(client, cid, 1).json == {"upvotes": 1, "downvotes": 0, "value": 1}
    assert vote(client, cid, -1).json == {"upvotes": 0, "downvotes": 1, "value": -1}
    assert vote(client, cid, 0).json == {"upvotes": 0, "downvotes": 0, "value": 0}
    assert vote(client, cid, 0).json == {"upvotes": 0, "downvotes": 0, "value": 0}
    assert my_votes(client).json == {"votes": {}}


def test_each_reader_has_one_vote(client, post_comment):
    cid = post_comment()["comment"]["id"]

    vote(client, cid, 1, reader="198.51.100.1")
    vote(client, cid, 1, reader="198.51.100.2")
    vote(client, cid, -1, reader="198.51.100.3")
    answer = vote(client, cid, 1, reader="198.51.100.2").json

    assert answer == {"upvotes": 2, "downvotes": 1, "value": 1}


def test_one_address_votes_as_at_most_three_readers(client, post_comment):
    """However many user agents one address sends, three readers of it vote on a comment (a
    household); a further one is answered with the tallies and `value: 0`, counted nothing."""
    cid = post_comment()["comment"]["id"]

    answers = [vote(client, cid, 1, agent=f"V{n}").json for n in range(8)]

    assert answers[:3] == [{"upvotes": n, "downvotes": 0, "value": 1} for n in (1, 2, 3)]
    assert answers[3:] == [{"upvotes": 3, "downvotes": 0, "value": 0}] * 5
    assert my_votes(client, agent="V5").json == {"votes": {}}
    # The three change and withdraw their votes as before; a withdrawn vote makes room.
    assert vote(client, cid, -1, agent="V0").json == {"upvotes": 2, "downvotes": 1, "value": -1}
    assert vote(client, cid, 0, agent="V1").json == {"upvotes": 1, "downvotes": 1, "value": 0}
    assert vote(client, cid, 1, agent="V5").json == {"upvotes": 2, "downvotes": 1, "value": 1}
    assert vote(client, cid, 1, agent="V6").json == {"upvotes": 2, "downvotes": 1, "value": 0}
    # Other addresses, and the same address on another comment, are not held back by it.
    assert vote(client, cid, 1, reader="198.51.100.2", agent="V6").json["value"] == 1
    other = post_comment(body="Another")["comment"]["id"]
    assert vote(client, other, 1, agent="V7").json["value"] == 1


def test_readers_see_their_own_votes_only_and_no_cache_keeps_them(client, post_comment):
    first = post_comment()["comment"]["id"]
    second = post_comment(body="Second")["comment"]["id"]
    elsewhere = post_comment(article="other-article")["comment"]["id"]
    vote(client, first, 1)
    vote(client, second, -1)
    vote(client, elsewhere, 1)
    vote(client, first, -1, reader="198.51.100.9")

    mine = my_votes(client)

    assert mine.status_code == 200
    assert mine.json == {"votes": {str(first): 1, str(second): -1}}
    assert "no-store" in mine.headers["Cache-Control"]
    assert "private" in mine.headers["Cache-Control"]
    assert "public" not in mine.headers["Cache-Control"]
    assert my_votes(client, reader="198.51.100.9").json == {"votes": {str(first): -1}}
    assert my_votes(client, reader="198.51.100.10").json == {"votes": {}}


@pytest.mark.parametrize("body", [
    {"value": 2}, {"value": -2}, {"value": "1"}, {"value": 1.0}, {"value": True},
    {"value": None}, {}, {"value": 1, "extra": 1}, {"value": 10**30},
])
def test_bad_values_are_422_and_count_nothing(client, post_comment, body):
    cid = post_comment()["comment"]["id"]

    response = client.put(f"/api/v1/comments/{cid}/vote", json=body)

    assert response.status_code == 422
    assert response.json["reason"] == "validation"
    (item,) = listed(client)
    assert (item["upvotes"], item["downvotes"]) == (0, 0)


def test_a_vote_needs_json(client, post_comment):
    cid = post_comment()["comment"]["id"]

    response = client.put(f"/api/v1/comments/{cid}/vote", data="value=1",
                          content_type="application/x-www-form-urlencoded")

    assert response.status_code == 415


def test_a_closed_article_takes_no_votes(client, post_comment, moderator):
    cid = post_comment()["comment"]["id"]
    vote(client, cid, 1)
    client.patch("/api/v1/admin/articles/an-article", json={"comments_open": False},
                 headers=moderator)

    response = vote(client, cid, -1)

    assert response.status_code == 403
    assert response.json["reason"] == "comments_closed"
    (item,) = listed(client)
    assert (item["upvotes"], item["downvotes"]) == (1, 0)


def test_held_hidden_deleted_and_unknown_comments_take_no_votes(make_app):
    app = make_app(BLOCKED_WORDS=["casino"], FLAG_THRESHOLD=1)
    client = app.test_client()
    held = client.post(COMMENTS, json=comment_fields(body="casino")).json
    assert held["status"] == "pending"
    published = client.post(COMMENTS, json=comment_fields()).json["comment"]["id"]
    flagged = client.post(COMMENTS, json=comment_fields(body="flag me")).json["comment"]["id"]
    client.post(f"/api/v1/comments/{flagged}/flags", json={"reason": "spam"})
    deleted = client.post(COMMENTS, json=comment_fields(body="delete me")).json
    client.delete(f"/api/v1/comments/{deleted['comment']['id']}",
                  headers={"X-Edit-Token": deleted["edit_token"]})

    for cid in (held["comment"]["id"], flagged, deleted["comment"]["id"], 999999):
        response = vote(client, cid, 1)
        assert response.status_code == 404, cid
        assert response.json["reason"] == "not_found"
    assert vote(client, published, 1).status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Vote)) == 1


def test_a_banned_address_cannot_vote(client, post_comment, moderator):
    cid = post_comment()["comment"]["id"]
    client.post("/api/v1/admin/bans", json={"kind": "ip", "value": "203.0.113.0/24",
                                            "reason": "vote ring"}, headers=moderator)

    refused = vote(client, cid, 1, reader="203.0.113.7")

    assert refused.status_code == 403
    assert refused.json["reason"] == "banned"
    assert vote(client, cid, 1, reader="198.51.100.1").json["upvotes"] == 1


def test_votes_have_their_own_rate_limit(make_app, post_comment):
    app = make_app(LIMIT_VOTES="2/hour")
    client = app.test_client()
    cid = client.post(COMMENTS, json=comment_fields()).json["comment"]["id"]

    assert vote(client, cid, 1).status_code == 200
    assert vote(client, cid, 0).status_code == 200
    limited = vote(client, cid, 1)

    assert limited.status_code == 429
    assert limited.json["reason"] == "rate_limited"
    assert "Retry-After" in limited.headers
    assert vote(client, cid, 1, reader="198.51.100.2").status_code == 200


def test_upvotes_only_refuses_downvotes(make_app):
    client = make_app(VOTES="up").test_client()
    cid = client.post(COMMENTS, json=comment_fields()).json["comment"]["id"]

    down = vote(client, cid, -1)

    assert down.status_code == 422
    assert down.json["errors"]["json"]["value"]
    assert vote(client, cid, 1).json == {"upvotes": 1, "downvotes": 0, "value": 1}


def test_votes_off_answers_404(make_app):
    client = make_app(VOTES="off").test_client()
    cid = client.post(COMMENTS, json=comment_fields()).json["comment"]["id"]

    assert vote(client, cid, 1).status_code == 404
    assert my_votes(client).status_code == 404


def test_an_unknown_article_is_404_when_articles_are_not_auto_created(make_app):
    client = make_app(ARTICLES_AUTO_CREATE=False).test_client()

    assert my_votes(client, article="never-seen").status_code == 404


# --- Best first -------------------------------------------------------------------------------

def test_the_wilson_lower_bound_ranks_many_votes_above_few():
    assert wilson_lower_bound(0, 0) == 0
    assert wilson_lower_bound(1, 0) < wilson_lower_bound(10, 2) < wilson_lower_bound(5, 0)
    assert 0 < wilson_lower_bound(1, 3) < wilson_lower_bound(1, 0)
    assert wilson_lower_bound(0, 5) == pytest.approx(0, abs=1e-12)
    assert round(wilson_lower_bound(10, 2), 3) == 0.552


def test_best_order_on_a_constructed_case(client, post_comment, moderator):
    """Pinned first; then by the Wilson lower bound, so 5 of 5 beats 10 of 12 and 1 of 1 falls
    behind both; a mixed 1 of 4 is above no votes at all; ties newest first."""
    tallies = {"no votes, older": (0, 0), "ten of twelve": (10, 2), "one of one": (1, 0),
               "five of five": (5, 0), "one of four": (1, 3), "no votes, newer": (0, 0),
               "pinned, no votes": (0, 0)}
    ids = {}
    for body, (ups, downs) in tallies.items():
        ids[body] = cid = post_comment(body=body)["comment"]["id"]
        for n in range(ups + downs):
            vote(client, cid, 1 if n < ups else -1, reader=f"198.51.100.{n + 1}")
    client.patch(f"/api/v1/admin/comments/{ids['pinned, no votes']}", json={"pinned": True},
                 headers=moderator)
    expected = ["pinned, no votes", "five of five", "ten of twelve", "one of one",
                "one of four", "no votes, newer", "no votes, older"]

    best = listed(client, order="best", limit=100)

    assert [item["id"] for item in best] == [ids[body] for body in expected]
    assert (best[2]["upvotes"], best[2]["downvotes"]) == (10, 2)
    paged, cursor = [], None
    while True:
        page = client.get(COMMENTS, query_string={"order": "best", "limit": 2,
                                                  **({"cursor": cursor} if cursor else {})}).json
        paged += [item["id"] for item in page["items"]]
        assert page["total"] == len(expected)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert paged == [ids[body] for body in expected]


def test_a_changed_vote_moves_a_comment_in_best_order(client, post_comment):
    first = post_comment(body="first")["comment"]["id"]
    second = post_comment(body="second")["comment"]["id"]
    vote(client, first, 1)
    assert [item["id"] for item in listed(client, order="best")] == [first, second]

    vote(client, first, -1)

    assert [item["id"] for item in listed(client, order="best")] == [second, first]


@pytest.mark.parametrize("cursor", ["WzEsMl0", "W3RydWUsIngiLDFd", "W2ZhbHNlLDIsMV0"])
def test_a_foreign_cursor_is_422_in_best_order(client, post_comment, cursor):
    post_comment()

    response = client.get(COMMENTS, query_string={"order": "best", "cursor": cursor})

    assert response.status_code == 422


def test_the_openapi_document_describes_votes(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]

    assert "put" in paths["/api/v1/comments/{comment_id}/vote"]
    assert "get" in paths["/api/v1/articles/{article_id}/votes"]


def test_the_widget_origin_may_put_votes(make_app):
    client = make_app(CORS_ORIGINS=["https://news.example"]).test_client()

    preflight = client.options("/api/v1/comments/1/vote", headers={
        "Origin": "https://news.example", "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "Content-Type"})

    assert "PUT" in preflight.headers["Access-Control-Allow-Methods"]


# --- Concurrency -----------------------------------------------------------------------------

READERS = 50


@pytest.mark.postgres
def test_concurrent_votes_from_50_readers_are_all_counted(make_app):
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": READERS, "max_overflow": 0})
    client = app.test_client()
    cid = client.post(COMMENTS, json=comment_fields()).json["comment"]["id"]
    with app.app_context():
        assert db.engine.dialect.name == "postgresql"

    ups = race(app, lambda c, n: vote(c, cid, 1 if n % 5 else -1, reader=f"10.0.0.{n + 1}"),
               READERS)
    assert {response.status_code for response in ups} == {200}
    (item,) = listed(client)
    assert (item["upvotes"], item["downvotes"]) == (40, 10)

    # Everyone changes their mind at once: the up-voters withdraw, the down-voters go up.
    changes = race(app, lambda c, n: vote(c, cid, 0 if n % 5 else 1, reader=f"10.0.0.{n + 1}"),
                   READERS)
    assert {response.status_code for response in changes} == {200}
    (item,) = listed(client)
    assert (item["upvotes"], item["downvotes"]) == (10, 0)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Vote)) == 10


@pytest.mark.postgres
def test_one_reader_voting_many_times_at_once_has_one_vote(make_app):
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 20, "max_overflow": 0})
    client = app.test_client()
    cid = client.post(COMMENTS, json=comment_fields()).json["comment"]["id"]

    answers = race(app, lambda c, n: vote(c, cid, (1, -1, 0)[n % 3]), 20)

    assert {response.status_code for response in answers} == {200}
    (item,) = listed(client)
    with app.app_context():
        stored = db.session.scalars(sa.select(Vote.value)).all()
    assert len(stored) <= 1
    assert (item["upvotes"], item["downvotes"]) == (stored.count(1), stored.count(-1))


# The database the suite runs on, and PostgreSQL always: each settles concurrent writers its
# own way.
ON_BOTH_DATABASES = pytest.mark.parametrize(
    "database", ["suite", pytest.param("postgresql", marks=pytest.mark.postgres)])


@ON_BOTH_DATABASES
def test_one_address_voting_as_many_readers_at_once_counts_three(make_app, database):
    """Twenty readers (user agents) of one address vote at once: three count, as when they
    come one after another."""
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 20, "max_overflow": 0})
    client = app.test_client()
    cid = client.post(COMMENTS, json=comment_fields()).json["comment"]["id"]

    answers = race(app, lambda c, n: vote(c, cid, 1, agent=f"V{n}"), 20)

    assert {response.status_code for response in answers} == {200}
    assert sorted(response.json["value"] for response in answers) == [0] * 17 + [1] * 3
    (item,) = listed(client)
    assert item["upvotes"] == 3
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Vote)) == 3

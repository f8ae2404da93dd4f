"""The comments part of the contract: post, list (threaded, paginated), edit and delete."""

import json

import pytest
import sqlalchemy as sa

from engagement.articles.counters import recount
from engagement.articles.models import Article
from engagement.comments.models import Comment, CommentStatus
from engagement.extensions import db
from engagement.pagination import Cursor
from tests.conftest import comment_fields

COMMENTS = "/api/v1/articles/an-article/comments"


def stored(app) -> list[Comment]:
    with app.app_context():
        comments = db.session.scalars(sa.select(Comment).order_by(Comment.id)).all()
        db.session.expunge_all()
        return comments


def set_comment(app, comment_id, **fields):
    """A state a moderator's tool makes, written straight to the row; the article's counters
    are then recounted, as the tools keep them."""
    with app.app_context():
        db.session.execute(sa.update(Comment).where(Comment.id == comment_id).values(**fields))
        recount(db.session.get(Comment, comment_id).article_id)
        db.session.commit()


def listing(client, query="", article="an-article"):
    response = client.get(f"/api/v1/articles/{article}/comments{query}")
    assert response.status_code == 200, response.json
    return response.json


# --- Posting --------------------------------------------------------------------------------

def test_post_answers_the_comment_and_an_edit_token(client, clock):
    response = client.post(COMMENTS, json=comment_fields(
        author_website="https://ada.example/", body="Hello *world*"))

    assert response.status_code == 201
    body = response.json
    assert body["status"] == "approved"
    assert len(body["edit_token"]) >= 32
    assert body["edit_expires_at"] == "2026-11-27T08:15:00Z"
    comment = body["comment"]
    assert comment["author_name"] == "Ada"
    assert comment["author_website"] == "https://ada.example/"
    assert comment["body_html"] == "<p>Hello <em>world</em></p>"
    assert comment["created_at"] == "2026-11-27T08:00:00Z"
    assert comment["parent_id"] is None and comment["edited_at"] is None
    assert comment["deleted"] is False and comment["pinned"] is False
    assert "ada@example.com" not in response.get_data(as_text=True)


def test_avatar_is_a_keyed_hash_not_a_plain_hash_of_the_email(client, post_comment):
    import hashlib

    first = post_comment()["comment"]["avatar"]
    again = post_comment(author_email="ADA@example.com")["comment"]["avatar"]
    other = post_comment(author_email="bob@example.com")["comment"]["avatar"]

    assert first == again != other
    plain = {hashlib.md5(b"ada@example.com").hexdigest(),
             hashlib.sha256(b"ada@example.com").hexdigest()}
    assert not any(digest.startswith(first) for digest in plain)


def test_edit_token_is_stored_hashed(app, post_comment):
    token = post_comment()["edit_token"]

    (comment,) = stored(app)
    assert token not in (comment.edit_token_hash, comment.body, comment.body_html)


def test_closed_article_refuses_and_stores_nothing(client, app, clock):
    with app.app_context():
        db.session.add(Article(id="an-article", first_seen_at=clock(),
                               comments_open_by_moderator=False))
        db.session.commit()

    response = client.post(COMMENTS, json=comment_fields())

    assert response.status_code == 403
    assert response.json["reason"] == "comments_closed"
    assert stored(app) == []


def test_honeypot_is_answered_like_a_held_comment_and_stored_as_spam(client, app):
    response = client.post(COMMENTS, json=comment_fields(website_url="http://buy.example"))

    assert response.status_code == 201
    assert response.json["status"] == "pending"
    assert "edit_token" in response.json
    assert listing(client)["items"] == []
    (comment,) = stored(app)
    assert comment.status is CommentStatus.SPAM
    assert comment.held_for == ["honeypot"]


def test_a_honeypot_comment_is_edited_and_deleted_like_a_held_one(client, app):
    caught = client.post(COMMENTS, json=comment_fields(website_url="http://buy.example")).json
    held = client.post(COMMENTS, json=comment_fields(body="held", author_email="a@b.example"))
    with app.app_context():  # a comment moderation holds, for what its author is told
        db.session.get(Comment, held.json["comment"]["id"]).status = CommentStatus.PENDING
        db.session.commit()
    answers = {}
    for name, posted in (("caught", caught), ("held", held.json)):
        path, token = f"/api/v1/comments/{posted['comment']['id']}", posted["edit_token"]
        edited = client.patch(path, json={"body": "Cheap pills"}, headers={"X-Edit-Token": token})
        answers[name] = (edited.status_code, edited.json["status"],
                         client.delete(path, headers={"X-Edit-Token": token}).status_code)

    assert answers["caught"] == answers["held"] == (200, "pending", 204)
    assert listing(client)["items"] == []
    with app.app_context():
        assert db.session.get(Comment, caught["comment"]["id"]).status is CommentStatus.SPAM


@pytest.mark.parametrize("honeypot", ["", None])
def test_empty_honeypot_is_a_reader(client, honeypot):
    response = client.post(COMMENTS, json=comment_fields(website_url=honeypot))

    assert response.json["status"] == "approved"


BAD_FIELDS = [
    ("author_name", None), ("author_name", ""), ("author_name", "   "), ("author_name", 7),
    ("author_name", "x" * 81), ("author_name", "nul\u0000byte"), ("author_name", "bell\u0007"),
    ("author_name", "two\nlines"), ("author_name", "tab\there"),
    ("author_name", ["Ada"]), ("author_name", {"first": "Ada"}),
    ("author_email", None), ("author_email", "not-an-email"), ("author_email", "a@"),
    ("author_email", 12), ("author_email", "a" * 310 + "@example.com"),
    ("author_email", "ada\u0000@example.com"),
    ("author_website", "javascript:alert(1)"), ("author_website", "data:text/html,hi"),
    ("author_website", "ftp://ada.example"), ("author_website", "ada.example"),
    ("author_website", 5), ("author_website", "https://" + "a" * 2000 + ".example"),
    ("author_website", "https://ada.example/\u0000"), ("author_website", "https://ada.example/\ud800"),
    ("author_website", "https://ada.example/\nx"), ("author_website", " https://ada.example"),
    ("author_website", "http://[ada.example"), ("author_website", "http://ada.example]/"),
    ("author_website", "https://news.example@evil.example/"),
    ("author_website", "https://user:secret@ada.example/"),
    ("body", None), ("body", ""), ("body", " \n\t "), ("body", 42), ("body", True),
    ("body", "x" * 10001), ("body", "nul \u0000 in body"), ("body", ["list"]),
    ("parent_id", "1"), ("parent_id", 1.5), ("parent_id", True), ("parent_id", 0),
    ("parent_id", -3), ("parent_id", 2**31), ("parent_id", 10**30), ("parent_id", [1]),
    ("surprise", "unknown fields are refused"),
]


@pytest.mark.parametrize(("field", "value"), BAD_FIELDS)
def test_bad_fields_are_refused_and_nothing_is_written(client, app, field, value):
    response = client.post(COMMENTS, json=comment_fields(**{field: value}))

    assert response.status_code == 422, response.json
    assert response.json["reason"] == "validation"
    assert field in response.json["errors"]["json"]
    assert stored(app) == []


@pytest.mark.parametrize("missing", ["author_name", "author_email", "body"])
def test_missing_fields_are_refused(client, app, missing):
    fields = comment_fields()
    del fields[missing]

    response = client.post(COMMENTS, json=fields)

    assert response.status_code == 422
    assert missing in response.json["errors"]["json"]
    assert stored(app) == []


@pytest.mark.parametrize("escaped", ["\\ud800", "\\udfff", "a\\ud83dz"])
def test_lone_surrogates_are_refused(client, app, escaped):
    raw = f'{{"author_name": "Ada", "author_email": "ada@example.com", "body": "{escaped}"}}'

    response = client.post(COMMENTS, data=raw, content_type="application/json")

    assert response.status_code == 422
    assert "body" in response.json["errors"]["json"]
    assert stored(app) == []


def test_longest_body_is_accepted_and_the_limit_is_configurable(make_app):
    client = make_app(COMMENT_MAX_LENGTH=50).test_client()

    assert client.post(COMMENTS, json=comment_fields(body="x" * 50)).status_code == 201
    assert client.post(COMMENTS, json=comment_fields(body="x" * 51)).status_code == 422


def test_unicode_text_is_kept(client, post_comment):
    posted = post_comment(author_name="Zoë 李", body="naïve café 🎉\n\ttabbed")

    assert posted["comment"]["author_name"] == "Zoë 李"
    assert "naïve café 🎉" in listing(client)["items"][0]["body_html"]


# --- Replies --------------------------------------------------------------------------------

def test_replies_nest_oldest_first(client, post_comment):
    top = post_comment(body="top")["comment"]["id"]
    first = post_comment(body="first reply", parent_id=top)["comment"]["id"]
    second = post_comment(body="second reply", parent_id=top)["comment"]["id"]
    nested = post_comment(body="reply to first", parent_id=first)["comment"]

    (thread,) = listing(client)["items"]
    assert [reply["id"] for reply in thread["replies"]] == [first, second]
    assert thread["replies"][0]["replies"][0]["id"] == nested["id"]
    assert nested["parent_id"] == first


def test_reply_below_the_depth_cap_joins_the_deepest_level(make_app):
    client = make_app(MAX_REPLY_DEPTH=2).test_client()

    def post(parent_id=None):
        body = comment_fields(parent_id=parent_id)
        return client.post(COMMENTS, json=body).json["comment"]

    top = post()
    level_1 = post(top["id"])
    level_2 = post(level_1["id"])
    too_deep = post(level_2["id"])

    assert too_deep["parent_id"] == level_1["id"]
    (thread,) = client.get(COMMENTS).json["items"]
    assert [c["id"] for c in thread["replies"][0]["replies"]] == [level_2["id"], too_deep["id"]]
    assert thread["replies"][0]["replies"][0]["replies"] == []


def test_parent_from_another_article_is_refused(client, app, post_comment):
    elsewhere = post_comment("other-article")["comment"]["id"]

    response = client.post(COMMENTS, json=comment_fields(parent_id=elsewhere))

    assert response.status_code == 422
    assert "parent_id" in response.json["errors"]["json"]
    assert len(stored(app)) == 1


@pytest.mark.parametrize("state", [
    {"status": CommentStatus.PENDING}, {"status": CommentStatus.SPAM},
    {"status": CommentStatus.REJECTED}, {"status": CommentStatus.FLAGGED},
])
def test_parent_that_is_not_published_is_refused(client, app, post_comment, state):
    parent = post_comment()["comment"]["id"]
    set_comment(app, parent, **state)

    response = client.post(COMMENTS, json=comment_fields(parent_id=parent))

    assert response.status_code == 422
    assert "parent_id" in response.json["errors"]["json"]
    assert len(stored(app)) == 1


def test_parent_deleted_or_missing_is_refused(client, app, post_comment):
    parent = post_comment()
    client.delete(f"/api/v1/comments/{parent['comment']['id']}",
                  headers={"X-Edit-Token": parent["edit_token"]})

    for parent_id in (parent["comment"]["id"], 999):
        response = client.post(COMMENTS, json=comment_fields(parent_id=parent_id))
        assert response.status_code == 422
    assert len(stored(app)) == 1


# --- The list -------------------------------------------------------------------------------

def test_list_shows_only_approved_comments(client, app, post_comment):
    shown = post_comment(body="shown")["comment"]["id"]
    held = post_comment(body="held")["comment"]["id"]
    set_comment(app, held, status=CommentStatus.PENDING)

    page = listing(client)
    assert [item["id"] for item in page["items"]] == [shown]
    assert page["total"] == 1


def test_replies_of_a_hidden_comment_are_hidden_with_it(client, app, post_comment):
    top = post_comment()["comment"]["id"]
    middle = post_comment(parent_id=top)["comment"]["id"]
    post_comment(parent_id=middle)
    set_comment(app, middle, status=CommentStatus.REJECTED)

    (thread,) = listing(client)["items"]
    assert thread["replies"] == []


def test_pinned_comments_come_first(client, app, post_comment):
    ids = [post_comment(body=f"c{n}")["comment"]["id"] for n in range(4)]
    set_comment(app, ids[2], pinned=True)

    assert [c["id"] for c in listing(client)["items"]] == [ids[2], ids[0], ids[1], ids[3]]
    newest = listing(client, "?order=newest")["items"]
    assert [c["id"] for c in newest] == [ids[2], ids[3], ids[1], ids[0]]
    assert newest[0]["pinned"] is True


def test_list_of_an_unseen_article_is_empty(client):
    assert listing(client, article="nobody-commented") == {
        "items": [], "next_cursor": None, "total": 0}


def walk_pages(client, query, add_between=None):
    seen, cursor, pages = [], None, 0
    while True:
        suffix = f"&cursor={cursor}" if cursor else ""
        page = listing(client, f"{query}{suffix}")
        seen += [item["id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if add_between:
            add_between()
        if cursor is None:
            return seen, pages


def test_pages_cover_every_comment_once(client, app, post_comment):
    ids = [post_comment(body=f"c{n}")["comment"]["id"] for n in range(7)]
    set_comment(app, ids[5], pinned=True)

    seen, pages = walk_pages(client, "?limit=3")

    assert seen == [ids[5], *ids[:5], ids[6]]
    assert pages == 3
    assert listing(client, "?limit=3")["total"] == 7


def test_pages_stay_correct_while_comments_arrive_oldest_first(client, post_comment):
    before = [post_comment(body=f"c{n}")["comment"]["id"] for n in range(5)]
    arrived = []

    seen, _ = walk_pages(client, "?limit=2",
                         add_between=lambda: arrived.append(post_comment()["comment"]["id"]))

    # Nothing seen twice or skipped; comments that arrive while paging show up at the end.
    assert seen[:5] == before
    assert len(seen) == len(set(seen))
    assert set(seen) <= set(before) | set(arrived)


def test_pages_stay_correct_while_comments_arrive_newest_first(client, post_comment):
    before = [post_comment(body=f"c{n}")["comment"]["id"] for n in range(5)]

    seen, _ = walk_pages(client, "?order=newest&limit=2", add_between=lambda: post_comment())

    assert seen == before[::-1]


def test_replies_do_not_count_as_page_items(client, post_comment):
    top = post_comment()["comment"]["id"]
    for _ in range(3):
        post_comment(parent_id=top)
    post_comment()

    page = listing(client, "?limit=1")
    assert page["total"] == 2
    assert len(page["items"][0]["replies"]) == 3
    assert page["next_cursor"] is not None


@pytest.mark.parametrize("query", [
    "?limit=0", "?limit=101", "?limit=-1", "?limit=ten", "?order=random",
    # int() reads these as 5, 10 and 5; a query's number is ASCII digits only
    "?limit=%D9%A5", "?limit=1_0", "?limit=%2B5", "?limit=%205",
    "?cursor=not-a-cursor", "?cursor=W10", "?cursor=WyJ4IiwgMV0", "?cursor=" + "W" * 3000,
    "?cursor=" + Cursor.encode([False, 10**30]), "?cursor=" + Cursor.encode([True, -1]),
    "?cursor=" + Cursor.encode([True, 1.5]), "?cursor=" + Cursor.encode([None, 1]),
    "?cursor=" + Cursor.encode([[[[[]]]]]), "?cursor=%ED%A0%80",
])
def test_bad_list_arguments_are_refused(client, post_comment, query):
    post_comment()

    response = client.get(f"{COMMENTS}{query}")

    assert response.status_code == 422
    assert response.json["reason"] == "validation"
    assert "query" in response.json["errors"]


def test_list_uses_a_bounded_number_of_queries(client, app, post_comment):
    tops = [post_comment()["comment"]["id"] for _ in range(6)]
    parent = tops[0]
    for _ in range(5):  # a deep thread
        parent = post_comment(parent_id=parent)["comment"]["id"]
    for top in tops[1:]:
        post_comment(parent_id=top)
    statements = []

    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute",
                        lambda *args: statements.append(args[2]))
        page = listing(client)

    assert len(page["items"]) == 6
    assert len(statements) <= 4


# --- Edit and delete ------------------------------------------------------------------------

def edit(client, posted, body="changed", token=None):
    return client.patch(
        f"/api/v1/comments/{posted['comment']['id']}", json={"body": body},
        headers={"X-Edit-Token": token or posted["edit_token"]})


def delete(client, posted, token=None):
    return client.delete(f"/api/v1/comments/{posted['comment']['id']}",
                         headers={"X-Edit-Token": token or posted["edit_token"]})


def test_author_edits_within_the_window(client, clock, post_comment):
    posted = post_comment(body="typo")
    clock.advance(minutes=14, seconds=59)

    response = edit(client, posted, "fixed **now**")

    assert response.status_code == 200
    assert response.json["status"] == "approved"
    assert response.json["comment"]["body_html"] == "<p>fixed <strong>now</strong></p>"
    assert response.json["comment"]["edited_at"] == "2026-11-27T08:14:59Z"
    assert listing(client)["items"][0]["body_html"] == "<p>fixed <strong>now</strong></p>"


def test_an_edit_answers_the_comment_as_the_thread_shows_it_replies_included(client,
                                                                           post_comment):
    top = post_comment(body="first")
    middle = post_comment(body="a reply", parent_id=top["comment"]["id"])
    post_comment(body="a reply to the reply", parent_id=middle["comment"]["id"])

    for posted in (top, middle):
        answer = edit(client, posted, "edited").json["comment"]

        listed = listing(client)["items"][0]
        shown = listed if posted is top else listed["replies"][0]
        assert answer == shown  # replies and all: a client may put it in the thread as it is
    assert [reply["body_html"] for reply in answer["replies"]] == ["<p>a reply to the reply</p>"]


def test_edit_after_the_window_is_refused(client, clock, post_comment):
    posted = post_comment(body="typo")
    clock.advance(minutes=15)

    response = edit(client, posted)

    assert response.status_code == 403
    assert response.json["reason"] == "edit_window_expired"
    assert listing(client)["items"][0]["body_html"] == "<p>typo</p>"
    assert delete(client, posted).json["reason"] == "edit_window_expired"


def test_edit_window_is_configurable(make_app, clock):
    client = make_app(EDIT_WINDOW_SECONDS=60).test_client()
    posted = client.post(COMMENTS, json=comment_fields()).json
    assert posted["edit_expires_at"] == "2026-11-27T08:01:00Z"

    clock.advance(seconds=61)
    assert edit(client, posted).status_code == 403


@pytest.mark.parametrize("token", ["wrong", "x" * 43, "\u00e9"])
def test_wrong_token_is_refused(client, post_comment, token):
    posted = post_comment(body="mine")
    other = post_comment(body="theirs")

    for attempt in (token, other["edit_token"]):
        assert edit(client, posted, token=attempt).json["reason"] == "invalid_token"
        assert delete(client, posted, token=attempt).status_code == 403
    assert listing(client)["items"][0]["body_html"] == "<p>mine</p>"


def test_missing_token_is_refused(client, post_comment):
    posted = post_comment()
    url = f"/api/v1/comments/{posted['comment']['id']}"

    response = client.patch(url, json={"body": "changed"})

    assert response.status_code == 403
    assert response.json["reason"] == "invalid_token"
    assert client.delete(url).status_code == 403


@pytest.mark.parametrize("body", [{}, {"body": ""}, {"body": None}, {"body": "x" * 10001},
                                  {"body": "ok", "author_name": "someone else"}])
def test_bad_edits_are_refused(client, post_comment, body):
    posted = post_comment(body="original")

    response = client.patch(f"/api/v1/comments/{posted['comment']['id']}", json=body,
                            headers={"X-Edit-Token": posted["edit_token"]})

    assert response.status_code == 422
    assert listing(client)["items"][0]["body_html"] == "<p>original</p>"


def test_edit_after_comments_closed_is_refused(client, app, post_comment):
    posted = post_comment()
    with app.app_context():
        db.session.get(Article, "an-article").comments_open_by_moderator = False
        db.session.commit()

    assert edit(client, posted).json["reason"] == "comments_closed"


@pytest.mark.parametrize("path", ["/api/v1/comments/999", "/api/v1/comments/4294967296",
                                  "/api/v1/comments/99999999999999999999"])
def test_unknown_comment_is_404(client, path):
    response = client.patch(path, json={"body": "x"}, headers={"X-Edit-Token": "t"})

    assert response.status_code == 404
    assert response.json["reason"] == "not_found"


def test_delete_removes_a_comment_without_replies(client, app, post_comment):
    posted = post_comment(body="regret")

    response = delete(client, posted)

    assert response.status_code == 204
    assert listing(client) == {"items": [], "next_cursor": None, "total": 0}
    (comment,) = stored(app)
    assert comment.body == comment.body_html == ""
    assert delete(client, posted).status_code == 404
    assert edit(client, posted).status_code == 404


def test_deleted_comment_with_replies_stays_as_a_placeholder(client, post_comment):
    top = post_comment(author_name="Top", body="top")
    reply = post_comment(parent_id=top["comment"]["id"], body="reply")

    delete(client, top)

    (placeholder,) = listing(client)["items"]
    assert placeholder["deleted"] is True
    assert placeholder["body_html"] == ""
    assert placeholder["author_name"] is None and placeholder["author_website"] is None
    assert placeholder["replies"][0]["id"] == reply["comment"]["id"]
    assert listing(client)["total"] == 1

    delete(client, reply)
    assert listing(client)["items"] == []


def test_deleted_reply_with_replies_stays_as_a_placeholder(client, post_comment):
    top = post_comment()
    middle = post_comment(parent_id=top["comment"]["id"])
    leaf = post_comment(parent_id=middle["comment"]["id"])

    delete(client, middle)

    (thread,) = listing(client)["items"]
    assert thread["replies"][0]["deleted"] is True
    assert thread["replies"][0]["replies"][0]["id"] == leaf["comment"]["id"]


def test_a_deleted_comment_whose_replies_are_all_hidden_is_not_counted(
        client, post_comment, moderator):
    # The deleted top's only approved reply sits under a rejected one: nothing of it shows.
    top = post_comment(body="top")
    rejected = post_comment(parent_id=top["comment"]["id"], body="rejected")
    post_comment(parent_id=rejected["comment"]["id"], body="approved, under a rejected one")
    other = post_comment(body="another thread")["comment"]["id"]
    decision = client.patch(f"/api/v1/admin/comments/{rejected['comment']['id']}",
                            json={"status": "rejected"}, headers=moderator)
    assert decision.status_code == 200
    delete(client, top)

    page = listing(client)
    assert [item["id"] for item in page["items"]] == [other]
    assert page["total"] == 1
    first = listing(client, "?limit=1")
    assert [item["id"] for item in first["items"]] == [other]
    assert first["next_cursor"] is None


def test_json_of_a_comment_never_carries_private_fields(client, post_comment):
    post_comment(author_email="secret@example.com")

    text = json.dumps(listing(client))
    for private in ("secret@example.com", "client_ip", "edit_token", "author_email", "127.0.0.1"):
        assert private not in text


def test_list_answers_conditional_requests(client, post_comment):
    post_comment()
    first = client.get(COMMENTS)

    assert client.get(COMMENTS, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    post_comment(body="news")
    changed = client.get(COMMENTS, headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200
    assert len(changed.json["items"]) == 2



def test_an_empty_cursor_is_the_first_page(client, post_comment):
    first = post_comment()["comment"]["id"]

    assert [item["id"] for item in listing(client, "?cursor=")["items"]] == [first]


@pytest.mark.parametrize(("order", "keys"), [
    ("oldest", [True]),  # too short
    ("oldest", [False, "7"]),  # an id that is no number
    ("oldest", [1, 7]),  # a pinned flag that is no flag
    ("newest", [False, 2**40]),  # past what an id column holds
    ("best", [False, 7]),  # an oldest cursor asked for the best order
    ("best", [False, 3, 7]),  # a score outside 0..1
])
def test_a_cursor_we_never_gave_is_a_422(client, post_comment, order, keys):
    post_comment()

    response = client.get(f"{COMMENTS}?order={order}&cursor={Cursor.encode(keys)}")

    assert response.status_code == 422
    assert response.json["reason"] == "validation"
    assert "cursor" in response.json["errors"]["query"]


def test_openapi_declares_the_edit_token_header(client):
    operations = client.get("/api/v1/openapi.json").json["paths"]["/api/v1/comments/{comment_id}"]

    for method in ("patch", "delete"):
        headers = [p["name"] for p in operations[method]["parameters"] if p["in"] == "header"]
        assert headers == ["X-Edit-Token"]


def test_the_retention_purge_erases_old_client_addresses(app, client, clock, post_comment):
    old = post_comment()["comment"]["id"]
    clock.advance(days=29)
    recent = post_comment()["comment"]["id"]
    clock.advance(days=1)

    result = app.test_cli_runner().invoke(args=["comments", "forget-addresses"])

    assert result.exit_code == 0
    assert "1 comments older than 30 days" in result.output
    addresses = {comment.id: comment.client_ip for comment in stored(app)}
    assert addresses == {old: None, recent: "127.0.0.1"}

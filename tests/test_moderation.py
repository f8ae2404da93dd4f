"""Moderation at post and edit time (mode, links, blocked words) and readers' flags."""

import pytest
import sqlalchemy as sa

from engagement.comments.models import Comment, CommentStatus
from engagement.extensions import db
from engagement.moderation.rules import contains_blocked_word, normalise
from tests.conftest import comment_fields

COMMENTS = "/api/v1/articles/an-article/comments"


def stored(app, comment_id) -> Comment:
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        db.session.expunge(comment)
        return comment


def approve(app, comment_id):
    with app.app_context():
        db.session.execute(sa.update(Comment).where(Comment.id == comment_id)
                           .values(status=CommentStatus.APPROVED))
        db.session.commit()


def post(client, **fields):
    response = client.post(COMMENTS, json=comment_fields(**fields))
    assert response.status_code == 201, response.json
    return response.json


def listed_ids(client):
    return [item["id"] for item in client.get(COMMENTS).json["items"]]


# --- Holding at post time -------------------------------------------------------------------

def test_mode_none_publishes_at_once(client):
    posted = post(client)

    assert posted["status"] == "approved"
    assert listed_ids(client) == [posted["comment"]["id"]]


def test_mode_all_holds_everything(make_app):
    app = make_app(MODERATION_MODE="all")
    client = app.test_client()

    posted = post(client)

    assert posted["status"] == "pending"
    assert listed_ids(client) == []
    assert client.get("/api/v1/articles/an-article").json["comment_count"] == 0
    assert stored(app, posted["comment"]["id"]).held_for == ["mode"]


def test_first_time_holds_an_author_until_one_comment_is_approved(make_app):
    app = make_app(MODERATION_MODE="first_time")
    client = app.test_client()

    first = post(client, author_email="new@example.com")
    second = post(client, author_email="new@example.com")
    assert (first["status"], second["status"]) == ("pending", "pending")
    assert stored(app, first["comment"]["id"]).held_for == ["first_time"]

    approve(app, first["comment"]["id"])
    assert post(client, author_email="NEW@example.com")["status"] == "approved"
    assert post(client, author_email="stranger@example.com")["status"] == "pending"


@pytest.mark.parametrize(("body", "held"), [
    ("[a](https://a.example) and [b](https://b.example)", False),
    ("[a](https://a.example) [b](https://b.example) [c](https://c.example)", True),
    ("https://a.example https://b.example https://c.example", True),
    ("www.a.example, www.b.example and mailto:x@c.example", False),
])
def test_more_links_than_allowed_are_held(make_app, body, held):
    app = make_app(MAX_LINKS=2)
    posted = post(app.test_client(), body=body)

    assert posted["status"] == ("pending" if held else "approved")
    if held:
        assert stored(app, posted["comment"]["id"]).held_for == ["links"]


def test_max_links_zero_holds_any_link(make_app):
    client = make_app(MAX_LINKS=0).test_client()

    assert post(client, body="see https://a.example")["status"] == "pending"
    assert post(client, body="no links here")["status"] == "approved"


@pytest.mark.parametrize("body", [
    "buy viagra now", "VIAGRA!", "Viagra.", "ｖｉａｇｒａ", "vi\u200bagra", "v\u0301iagra",
    "vi\u00adagra", "(viagra)", "new\nviagra\n",
])
def test_blocked_words_are_held_however_they_are_dressed(make_app, body):
    app = make_app(BLOCKED_WORDS=["viagra", "casino"])
    posted = post(app.test_client(), body=body)

    assert posted["status"] == "pending"
    assert stored(app, posted["comment"]["id"]).held_for == ["blocked_word"]


@pytest.mark.parametrize("body", ["viagrafalls", "theviagra", "casinos", "a classic casin0"])
def test_blocked_words_match_whole_words_only(make_app, body):
    client = make_app(BLOCKED_WORDS=["viagra", "casino"]).test_client()

    assert post(client, body=body)["status"] == "approved"


def test_every_reason_is_recorded(make_app):
    app = make_app(MODERATION_MODE="all", MAX_LINKS=0, BLOCKED_WORDS=["casino"])

    posted = post(app.test_client(), body="casino at https://casino.example")

    assert stored(app, posted["comment"]["id"]).held_for == ["mode", "links", "blocked_word"]


def test_an_edit_is_checked_again(make_app):
    app = make_app(BLOCKED_WORDS=["casino"])
    client = app.test_client()
    posted = post(client, body="harmless")

    response = client.patch(f"/api/v1/comments/{posted['comment']['id']}",
                            json={"body": "visit my casino"},
                            headers={"X-Edit-Token": posted["edit_token"]})

    assert response.status_code == 200
    assert response.json["status"] == "pending"  # the author learns it awaits review
    assert listed_ids(client) == []
    comment = stored(app, posted["comment"]["id"])
    assert comment.status is CommentStatus.PENDING
    assert comment.held_for == ["edited", "blocked_word"]


def test_an_edit_does_not_publish_a_held_comment(make_app):
    client = make_app(BLOCKED_WORDS=["casino"], MODERATION_MODE="first_time").test_client()
    posted = post(client, body="typo")

    # Held as first-time, the comment stays held; nothing about the edit publishes it.
    edited = client.patch(f"/api/v1/comments/{posted['comment']['id']}", json={"body": "fixed"},
                          headers={"X-Edit-Token": posted["edit_token"]})
    assert edited.json["status"] == "pending"
    assert listed_ids(client) == []


@pytest.mark.parametrize(("text", "expected"), [
    ("ＦＵＬＬ", "full"), ("ﬁne", "fine"), ("zero\u200bwidth", "zerowidth"),
    ("café", "cafe"), ("ÅNGSTRÖM", "angstrom"), ("straße", "strasse"),
])
def test_normalise(text, expected):
    assert normalise(text) == expected


@pytest.mark.parametrize(("text", "words", "found"), [
    ("a Casino night", ("casino",), True),
    ("a casinonight", ("casino",), False),
    ("two words here", ("two words",), True),
    ("", ("x",), False),
    ("anything", (), False),
    ("anything", ("", "  "), False),
    ("c++ rocks", ("c++",), True),
])
def test_contains_blocked_word(text, words, found):
    assert contains_blocked_word(text, words) is found


# --- Flags ----------------------------------------------------------------------------------

def flag(client, comment_id, reader="198.51.100.1", reason="spam", **fields):
    return client.post(f"/api/v1/comments/{comment_id}/flags",
                       json={"reason": reason, **fields}, environ_base={"REMOTE_ADDR": reader})


def test_a_flag_is_accepted(client):
    comment_id = post(client)["comment"]["id"]

    response = flag(client, comment_id, note="selling things")

    assert response.status_code == 202
    assert response.json == {"flagged": True, "hidden": False}
    assert listed_ids(client) == [comment_id]


def test_flags_from_distinct_clients_hide_the_comment_at_the_threshold(app, client):
    comment_id = post(client)["comment"]["id"]

    for reader in ("198.51.100.1", "198.51.100.2"):
        assert flag(client, comment_id, reader).json == {"flagged": True, "hidden": False}
    assert listed_ids(client) == [comment_id]
    last = flag(client, comment_id, "198.51.100.3", reason="abuse")

    # The flag that hid it says so, and the widget takes the comment out of its reader's thread.
    assert last.json == {"flagged": True, "hidden": True}
    assert listed_ids(client) == []
    comment = stored(app, comment_id)
    assert comment.status is CommentStatus.FLAGGED
    assert comment.held_for == ["flags"]
    assert comment.flag_count == 3


def test_a_repeat_flag_is_answered_the_same_and_not_counted(app, client):
    comment_id = post(client)["comment"]["id"]

    answers = [flag(client, comment_id, reason=reason) for reason in ("spam", "abuse", "other")]

    assert [(a.status_code, a.json) for a in answers] == [
        (202, {"flagged": True, "hidden": False})] * 3
    assert listed_ids(client) == [comment_id]
    assert stored(app, comment_id).flag_count == 1


def test_the_threshold_is_a_setting(make_app):
    client = make_app(FLAG_THRESHOLD=1).test_client()
    comment_id = post(client)["comment"]["id"]

    flag(client, comment_id)

    assert listed_ids(client) == []


def test_readers_behind_a_proxy_flag_as_themselves(make_app):
    client = make_app(FLAG_THRESHOLD=2, TRUSTED_PROXIES=["10.0.0.0/8"]).test_client()
    comment_id = post(client)["comment"]["id"]

    for reader in ("203.0.113.1", "203.0.113.2"):
        client.post(f"/api/v1/comments/{comment_id}/flags", json={"reason": "spam"},
                    headers={"X-Forwarded-For": reader}, environ_base={"REMOTE_ADDR": "10.0.0.9"})

    assert listed_ids(client) == []


def test_unpublished_or_missing_comments_cannot_be_flagged(make_app):
    app = make_app(MODERATION_MODE="all")
    client = app.test_client()
    held = post(client)["comment"]["id"]

    for comment_id in (held, 999):
        response = flag(client, comment_id)
        assert response.status_code == 404
        assert response.json["reason"] == "not_found"


def test_deleted_comments_cannot_be_flagged(client):
    posted = post(client)
    client.delete(f"/api/v1/comments/{posted['comment']['id']}",
                  headers={"X-Edit-Token": posted["edit_token"]})

    assert flag(client, posted["comment"]["id"]).status_code == 404


@pytest.mark.parametrize("body", [
    {}, {"reason": "boring"}, {"reason": None}, {"reason": 1}, {"reason": "SPAM"},
    {"reason": "spam", "note": "x" * 501}, {"reason": "spam", "note": "nul\u0000"},
    {"reason": "spam", "note": 5}, {"reason": "spam", "who": "me"},
])
def test_bad_flags_are_refused_and_not_counted(app, client, body):
    comment_id = post(client)["comment"]["id"]

    response = client.post(f"/api/v1/comments/{comment_id}/flags", json=body)

    assert response.status_code == 422
    assert response.json["reason"] == "validation"
    assert stored(app, comment_id).flag_count == 0


def test_flags_are_rate_limited(make_app):
    client = make_app(LIMIT_FLAGS="2/hour").test_client()
    ids = [post(client)["comment"]["id"] for _ in range(3)]

    codes = [flag(client, comment_id).status_code for comment_id in ids]

    assert codes == [202, 202, 429]

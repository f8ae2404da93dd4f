"""Bans: made, listed and lifted by moderators, and refused comments by email or address."""

import pytest
import sqlalchemy as sa

from engagement.articles.models import Article
from engagement.comments.models import Comment
from engagement.extensions import db
from tests.conftest import comment_fields, make_token
from tests.test_newsletter import (  # noqa: F401 (fixtures)
    SUBSCRIBE,
    deliver,
    newsletter_app,
)

BANS = "/api/v1/admin/bans"
COMMENTS = "/api/v1/articles/an-article/comments"
AUDIT = "/api/v1/admin/audit"


def ban(client, moderator, kind, value, **fields):
    response = client.post(BANS, json={"kind": kind, "value": value, "reason": "spam", **fields},
                           headers=moderator)
    assert response.status_code == 201, response.json
    return response.json


def comment_from(client, reader="198.51.100.1", forwarded_for=None, **fields):
    """Post a comment as a reader connecting from `reader`; the response."""
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return client.post(COMMENTS, json=comment_fields(**fields), headers=headers,
                       environ_base={"REMOTE_ADDR": reader})


def refused(response) -> bool:
    assert response.status_code in (201, 403), response.json
    if response.status_code == 403:
        assert response.json["reason"] == "banned"
    return response.status_code == 403


def nothing_stored(app) -> bool:
    with app.app_context():
        return (db.session.scalar(sa.select(sa.func.count()).select_from(Comment)) == 0
                and db.session.get(Article, "an-article") is None)


# --- Tokens ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("method", "path"), [
    ("GET", BANS), ("POST", BANS), ("DELETE", f"{BANS}/1"),
])
def test_every_route_needs_a_token(client, moderator, method, path):
    ban(client, moderator, "email", "spammer@example.com")

    response = client.open(path, method=method, json={"kind": "ip", "value": "203.0.113.7",
                                                      "reason": "x"})

    assert response.status_code == 401
    assert response.json["reason"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get(BANS, headers=moderator).json["total"] == 1


# --- Making bans ----------------------------------------------------------------------------

def test_a_ban_is_answered_as_stored(client, moderator, clock):
    response = client.post(BANS, json={"kind": "email", "value": "Spammer@Example.COM",
                                       "reason": "link farm", "expires_at": None},
                           headers=moderator)

    assert response.status_code == 201
    assert response.cache_control.no_store
    assert response.json == {
        "id": response.json["id"],
        "kind": "email",
        "value": "spammer@example.com",
        "reason": "link farm",
        "expires_at": None,
        "created_at": "2026-11-27T08:00:00Z",
        "created_by": "moderator",
        "active": True,
        "replaced": None,
    }


@pytest.mark.parametrize(("kind", "value", "stored"), [
    ("email", "  Spammer@EXAMPLE.com ", "spammer@example.com"),
    ("ip", "203.0.113.7", "203.0.113.7/32"),
    ("ip", "203.0.113.0/24", "203.0.113.0/24"),
    ("ip", "203.0.113.77/24", "203.0.113.0/24"),  # the network the address is in
    ("ip", "203.0.113.0/255.255.255.0", "203.0.113.0/24"),
    ("ip", "2001:DB8::1", "2001:db8::1/128"),
    ("ip", "2001:db8:abcd:0000::/48", "2001:db8:abcd::/48"),
    ("ip", "::ffff:203.0.113.7", "203.0.113.7/32"),  # as clients.py reads such a client
    ("ip", "::ffff:203.0.113.0/120", "203.0.113.0/24"),
])
def test_values_are_stored_in_one_form(client, moderator, kind, value, stored):
    assert ban(client, moderator, kind, value)["value"] == stored


@pytest.mark.parametrize(("fields", "field"), [
    ({"kind": "domain"}, "kind"),
    ({"kind": None}, "kind"),
    ({"kind": "ip", "value": "999.1.1.1"}, "value"),
    ({"kind": "ip", "value": "203.0.113.0/33"}, "value"),
    ({"kind": "ip", "value": "2001:db8::/129"}, "value"),
    ({"kind": "ip", "value": "203.0.113"}, "value"),
    ({"kind": "ip", "value": "fe80::1%eth0"}, "value"),
    ({"kind": "ip", "value": "spammer@example.com"}, "value"),
    ({"kind": "email", "value": "203.0.113.7"}, "value"),
    ({"kind": "email", "value": "not an email"}, "value"),
    ({"value": ""}, "value"),
    ({"value": None}, "value"),
    ({"reason": ""}, "reason"),
    ({"reason": "   "}, "reason"),
    ({"reason": "x" * 501}, "reason"),
    ({"expires_at": "2026-11-27T07:59:59Z"}, "expires_at"),  # already past
    ({"expires_at": "2026-11-27T08:00:00Z"}, "expires_at"),  # now
    ({"expires_at": "2026-12-01T00:00:00"}, "expires_at"),  # no offset
    ({"expires_at": "next week"}, "expires_at"),
    ({"expires_at": "9999-12-31T23:00:00-05:00"}, "expires_at"),
    ({"until": "2026-12-01T00:00:00Z"}, "until"),
])
def test_bad_bans_are_422_and_ban_nobody(client, moderator, fields, field):
    body = {"kind": "email", "value": "spammer@example.com", "reason": "spam", **fields}

    response = client.post(BANS, json=body, headers=moderator)

    assert response.status_code == 422
    assert response.json["reason"] == "validation"
    assert field in response.json["errors"]["json"]
    assert client.get(BANS, headers=moderator).json["total"] == 0


@pytest.mark.parametrize("missing", ["kind", "value", "reason"])
def test_kind_value_and_reason_are_required(client, moderator, missing):
    body = {"kind": "email", "value": "spammer@example.com", "reason": "spam"}
    del body[missing]

    response = client.post(BANS, json=body, headers=moderator)

    assert response.status_code == 422
    assert missing in response.json["errors"]["json"]


# --- Refusing comments ----------------------------------------------------------------------

def test_an_email_ban_refuses_that_author_whatever_the_case(app, client, moderator):
    ban(client, moderator, "email", "Spammer@Example.com")

    for email in ("spammer@example.com", "SPAMMER@EXAMPLE.COM", "Spammer@example.COM"):
        response = comment_from(client, author_email=email)
        assert response.status_code == 403
        assert response.json["reason"] == "banned"
        assert "spam" not in response.json["message"]  # the reason is for moderators
    assert nothing_stored(app)
    assert not refused(comment_from(client, author_email="spammer2@example.com"))


def test_an_address_ban_refuses_that_client_only(app, client, moderator):
    ban(client, moderator, "ip", "203.0.113.7")

    assert refused(comment_from(client, "203.0.113.7", author_email="anyone@example.com"))
    assert nothing_stored(app)
    assert not refused(comment_from(client, "203.0.113.8"))


@pytest.mark.parametrize(("network", "inside", "outside"), [
    ("203.0.113.0/24", ["203.0.113.0", "203.0.113.200", "::ffff:203.0.113.9"],
     ["203.0.114.1", "203.0.112.255", "2001:db8::1"]),
    ("2001:db8:abcd::/48", ["2001:db8:abcd::1", "2001:db8:abcd:ffff:1:2:3:4"],
     ["2001:db8:abce::1", "2001:db8::1", "203.0.113.7"]),
    ("::ffff:203.0.113.7", ["203.0.113.7", "::ffff:203.0.113.7"], ["203.0.113.8"]),
])
def test_a_network_ban_refuses_every_client_in_it(client, moderator, network, inside, outside):
    ban(client, moderator, "ip", network)

    assert [refused(comment_from(client, reader)) for reader in inside] == [True] * len(inside)
    assert [refused(comment_from(client, reader)) for reader in outside] == [False] * len(outside)


def test_behind_a_trusted_proxy_the_forwarded_client_is_banned(make_app, moderator):
    client = make_app(TRUSTED_PROXIES=["10.0.0.0/8"]).test_client()
    ban(client, moderator, "ip", "203.0.113.0/24")
    ban(client, moderator, "ip", "10.0.0.2")  # the proxy itself: it is nobody's address here

    assert refused(comment_from(client, "10.0.0.2", forwarded_for="203.0.113.7"))
    assert refused(comment_from(client, "10.0.0.2",
                                forwarded_for="198.51.100.1, 203.0.113.7, 10.0.0.9"))
    assert not refused(comment_from(client, "10.0.0.2", forwarded_for="198.51.100.1"))


def test_a_banned_client_cannot_hide_behind_a_header_it_writes(make_app, moderator):
    client = make_app(TRUSTED_PROXIES=["10.0.0.0/8"]).test_client()
    ban(client, moderator, "ip", "203.0.113.7")

    assert refused(comment_from(client, "203.0.113.7", forwarded_for="198.51.100.1"))


def test_a_ban_ends_when_it_expires(client, moderator, clock):
    made = ban(client, moderator, "email", "spammer@example.com",
               expires_at="2026-11-28T08:00:00+00:00")
    assert made["expires_at"] == "2026-11-28T08:00:00Z"
    assert refused(comment_from(client, author_email="spammer@example.com"))

    clock.advance(days=1, seconds=-1)
    assert refused(comment_from(client, author_email="spammer@example.com"))
    clock.advance(seconds=1)
    assert not refused(comment_from(client, author_email="spammer@example.com"))

    (listed,) = client.get(BANS, headers=moderator).json["items"]
    assert (listed["id"], listed["active"]) == (made["id"], False)


def test_an_expired_address_ban_no_longer_applies(client, moderator, clock):
    ban(client, moderator, "ip", "203.0.113.0/24", expires_at="2026-11-27T09:00:00Z")
    assert refused(comment_from(client, "203.0.113.7"))

    clock.advance(hours=1)

    assert not refused(comment_from(client, "203.0.113.7"))


def test_deleting_a_ban_lifts_it(client, moderator):
    made = ban(client, moderator, "ip", "203.0.113.7")
    assert refused(comment_from(client, "203.0.113.7"))

    response = client.delete(f"{BANS}/{made['id']}", headers=moderator)

    assert response.status_code == 204
    assert not refused(comment_from(client, "203.0.113.7"))
    assert client.get(BANS, headers=moderator).json["total"] == 0
    again = client.delete(f"{BANS}/{made['id']}", headers=moderator)
    assert again.status_code == 404
    assert again.json["reason"] == "not_found"


def test_a_lifted_bans_id_is_never_given_to_another(client, moderator):
    lifted = ban(client, moderator, "ip", "203.0.113.7")
    client.delete(f"{BANS}/{lifted['id']}", headers=moderator)

    newer = ban(client, moderator, "email", "troll@example.com")

    # A moderator's screen still showing the lifted ban must not lift the newer one with it.
    assert newer["id"] != lifted["id"]
    assert client.delete(f"{BANS}/{lifted['id']}", headers=moderator).status_code == 404
    assert refused(comment_from(client, author_email="troll@example.com"))


def test_banning_again_replaces_the_ban_in_force_so_one_lift_lifts_it(client, moderator, clock):
    ban(client, moderator, "email", "ada@example.com", expires_at="2026-11-28T08:00:00Z")
    clock.advance(days=2)  # that one has expired: it stays in the list, as history
    ban(client, moderator, "email", "ada@example.com")
    again = ban(client, moderator, "email", "Ada@Example.com", reason="still at it")

    listed = client.get(BANS, headers=moderator).json["items"]
    assert [(item["id"], item["active"]) for item in listed] == [(again["id"], True),
                                                                (1, False)]
    assert refused(comment_from(client, author_email="ada@example.com"))
    assert client.delete(f"{BANS}/{again['id']}", headers=moderator).status_code == 204
    assert not refused(comment_from(client, author_email="ada@example.com"))


def test_a_ban_that_replaces_one_in_force_says_which(client, moderator, clock):
    ban(client, moderator, "ip", "203.0.113.7", reason="spam run")  # for good
    clock.advance(hours=1)

    again = ban(client, moderator, "ip", "203.0.113.7/32", reason="one more day",
                expires_at="2026-11-28T09:00:00Z")

    # The moderator learns that a ban for good just became a day's.
    assert again["replaced"] == {"reason": "spam run", "expires_at": None,
                                 "created_at": "2026-11-27T08:00:00Z",
                                 "created_by": "moderator"}
    clock.advance(days=2)  # the ended one replaces nothing
    assert ban(client, moderator, "ip", "203.0.113.7")["replaced"] is None


@pytest.mark.parametrize("ban_id", ["999", "0", "x", "99999999999"])
def test_deleting_an_unknown_ban_is_404(client, moderator, ban_id):
    response = client.delete(f"{BANS}/{ban_id}", headers=moderator)

    assert response.status_code == 404
    assert response.json["reason"] == "not_found"


def test_bans_do_not_stop_reading_or_other_authors(client, moderator, post_comment):
    post_comment()
    ban(client, moderator, "ip", "127.0.0.1")  # the test client's own address

    assert client.get(COMMENTS).status_code == 200
    assert client.get("/api/v1/articles/an-article").status_code == 200
    assert refused(comment_from(client, "127.0.0.1"))


# --- Everything else a ban stops ------------------------------------------------------------

TROLL = "198.51.100.66"
GMAIL_TROLL = "Ada.Lovelace+blog@gmail.com"
SAME_MAILBOX = ["adalovelace@gmail.com", "ada.lovelace@googlemail.com",
                "A.D.A.lovelace+x@gmail.com", "ADALOVELACE+spam@GMAIL.COM"]


def posted_by_troll(client, email=GMAIL_TROLL) -> dict:
    response = comment_from(client, TROLL, author_email=email)
    assert response.status_code == 201, response.json
    return response.json


@pytest.mark.parametrize(("kind", "value", "editor"), [
    ("ip", TROLL, TROLL),
    ("ip", "198.51.100.0/24", TROLL),
    ("email", "adalovelace@gmail.com", "203.0.113.200"),  # a mailbox ban, from anywhere
    ("email", GMAIL_TROLL, "203.0.113.200"),
])
def test_a_banned_author_can_neither_edit_nor_delete(client, moderator, kind, value, editor):
    posted = posted_by_troll(client)
    ban(client, moderator, kind, value)
    path = f"/api/v1/comments/{posted['comment']['id']}"
    own = {"X-Edit-Token": posted["edit_token"]}

    edited = client.patch(path, json={"body": "Now with links"}, headers=own,
                          environ_base={"REMOTE_ADDR": editor})
    deleted = client.delete(path, headers=own, environ_base={"REMOTE_ADDR": editor})

    assert [edited.status_code, deleted.status_code] == [403, 403]
    assert {edited.json["reason"], deleted.json["reason"]} == {"banned"}
    (listed,) = client.get(COMMENTS).json["items"]
    assert listed["body_html"] == "<p>First!</p>" and not listed["deleted"]


def test_a_wrong_token_learns_nothing_of_a_ban(client, moderator):
    posted = posted_by_troll(client)
    ban(client, moderator, "email", GMAIL_TROLL)

    guessed = client.patch(f"/api/v1/comments/{posted['comment']['id']}",
                           json={"body": "x"}, headers={"X-Edit-Token": "guess"})

    assert guessed.status_code == 403
    assert guessed.json["reason"] == "invalid_token"


@pytest.mark.parametrize("variant", SAME_MAILBOX)
def test_an_email_ban_covers_the_mailbox_in_every_spelling(client, moderator, variant):
    ban(client, moderator, "email", GMAIL_TROLL)

    assert refused(comment_from(client, author_email=variant))
    assert not refused(comment_from(client, author_email="ada.lovelace@example.com"))


@pytest.mark.parametrize("variant", SAME_MAILBOX)
def test_the_queue_shows_a_mailbox_ban_on_every_spelling(client, moderator, variant):
    posted = posted_by_troll(client, email=variant)
    ban(client, moderator, "email", "adalovelace@gmail.com")

    (item,) = client.get("/api/v1/admin/comments?status=all", headers=moderator).json["items"]

    assert (item["id"], item["author_banned"]) == (posted["comment"]["id"], True)


def test_an_address_ban_stops_flags_votes_and_shares(client, moderator):
    cid = posted_by_troll(client, email="someone@example.com")["comment"]["id"]
    ban(client, moderator, "ip", "203.0.113.0/24")
    banned = {"REMOTE_ADDR": "203.0.113.5"}

    flagged = client.post(f"/api/v1/comments/{cid}/flags", json={"reason": "spam"},
                          environ_base=banned)
    voted = client.put(f"/api/v1/comments/{cid}/vote", json={"value": 1}, environ_base=banned)
    shared = client.post("/api/v1/articles/an-article/shares", json={"network": "x"},
                         environ_base=banned)

    assert [flagged.status_code, voted.status_code] == [403, 403]
    assert {flagged.json["reason"], voted.json["reason"]} == {"banned"}
    assert (shared.status_code, shared.json["counted"]) == (200, False)
    (listed,) = client.get(COMMENTS).json["items"]
    assert listed["upvotes"] == 0
    assert client.get("/api/v1/articles/an-article/shares").json["total"] == 0
    (queued,) = client.get("/api/v1/admin/comments?status=all", headers=moderator).json["items"]
    assert queued["flag_count"] == 0


@pytest.mark.parametrize(("kind", "value", "email", "reader"), [
    ("ip", "203.0.113.0/24", "someone@example.com", "203.0.113.5"),
    ("email", "adalovelace@gmail.com", "Ada.Lovelace+news@googlemail.com", "198.51.100.9"),
])
def test_a_ban_stops_newsletter_signups_without_saying_so(
        newsletter_app, smtp_server, kind, value, email, reader):  # noqa: F811 (fixtures)
    app = newsletter_app()
    client = app.test_client()
    moderator = {"Authorization": f"Bearer {make_token(app)}"}
    ban(client, moderator, kind, value)

    answer = client.post(SUBSCRIBE, json={"email": email, "consent": True},
                         environ_base={"REMOTE_ADDR": reader})
    deliver(app)

    assert (answer.status_code, answer.json) == (202, {"status": "pending_confirmation"})
    assert smtp_server.received == []
    admin = {"Authorization": f"Bearer {make_token(app, 'root', 'admin')}"}
    listed = client.get("/api/v1/admin/newsletter/subscribers", headers=admin).json
    assert listed["total"] == 0


# --- The list and the audit log -------------------------------------------------------------

def test_bans_are_listed_newest_first_in_pages(client, moderator, clock):
    made = []
    for n in range(5):
        made.append(ban(client, moderator, "ip", f"203.0.113.{n}")["id"])
        clock.advance(minutes=1)

    first = client.get(f"{BANS}?limit=3", headers=moderator).json
    second = client.get(f"{BANS}?limit=3&cursor={first['next_cursor']}", headers=moderator).json

    assert [item["id"] for item in first["items"] + second["items"]] == made[::-1]
    assert (first["total"], second["next_cursor"]) == (5, None)


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "cursor=garbage"])
def test_bad_list_arguments_are_422(client, moderator, query):
    response = client.get(f"{BANS}?{query}", headers=moderator)

    assert response.status_code == 422
    assert response.json["reason"] == "validation"


def test_bans_made_and_lifted_are_audited(client, moderator):
    made = ban(client, moderator, "email", "Spammer@Example.com", reason="link farm",
               expires_at="2026-12-01T00:00:00+01:00")
    client.delete(f"{BANS}/{made['id']}", headers=moderator)

    lifted, created = client.get(f"{AUDIT}?action=ban", headers=moderator).json["items"]

    assert (created["action"], created["target"], created["actor"]) == (
        "ban.create", f"ban:{made['id']}", "moderator")
    assert created["details"] == {"kind": "email", "value": "spammer@example.com",
                                  "reason": "link farm", "expires_at": "2026-11-30T23:00:00Z"}
    assert (lifted["action"], lifted["target"]) == ("ban.delete", f"ban:{made['id']}")
    assert lifted["details"] == {"kind": "email", "value": "spammer@example.com"}


def test_openapi_documents_the_ban_routes(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]

    assert {"get", "post"} <= set(paths[BANS])
    assert "delete" in paths["/api/v1/admin/bans/{ban_id}"]
    assert "403" in paths["/api/v1/articles/{article_id}/comments"]["post"]["responses"]

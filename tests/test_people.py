"""People's data: `people export` shows a person everything stored about their address, and
`people erase` leaves nothing of it in any table (nor a keyed hash of it), from the command
line and from the admin API. Readers still see the thread, under "Deleted"."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from engagement.articles.models import Article
from engagement.clients import keyed_hash
from engagement.comments.models import Comment, CommentStatus
from engagement.extensions import db
from engagement.moderation.services import flagger_hash
from tests.conftest import comment_fields, deliver, make_token

ADA = {"REMOTE_ADDR": "203.0.113.7"}
GRACE = {"REMOTE_ADDR": "198.51.100.9"}
EMAIL = "ada.lovelace@example.com"


@pytest.fixture
def app(make_app):
    # Mail stays in the outbox, where erasure must find it.
    return make_app(MAIL_BACKGROUND=False)


@pytest.fixture
def story(app, client):
    """Ada comments twice (Grace answers the first), asks for reply emails and signs up for the
    newsletter (two confirmation mails wait in the outbox), flags Grace's reply, and a
    moderator bans her address."""
    def post(environ, **fields):
        answer = client.post("/api/v1/articles/story/comments", json=comment_fields(**fields),
                             environ_base=environ)
        assert answer.status_code == 201, answer.json
        return answer.json["comment"]["id"]

    first = post(ADA, author_name="Ada Lovelace", author_email=EMAIL, body="Numbers first.",
                 author_website="https://ada.example", notify_replies=True, lang="fr")
    post(ADA, author_name="Ada Lovelace", author_email=EMAIL, body="And poetry.")
    reply = post(GRACE, author_name="Grace", author_email="grace@example.com",
                 body="Agreed.", parent_id=first)
    assert client.post(f"/api/v1/comments/{reply}/flags", json={"reason": "off_topic"},
                       environ_base=ADA).status_code == 202
    assert client.post("/api/v1/newsletter/subscriptions",
                       json={"email": EMAIL, "name": "Ada Lovelace", "consent": True},
                       environ_base=ADA).status_code == 202
    moderator = {"Authorization": f"Bearer {make_token(app)}"}
    assert client.post("/api/v1/admin/bans", headers=moderator, json={
        "kind": "email", "value": EMAIL, "reason": "testing erasure"}).status_code == 201
    return {"first": first, "reply": reply}


# Moderators' bans stay, and so does the audit entry that made the ban: erasure must not be a
# way around a ban.
BAN_RECORDS = ["audit_log.details", "bans.value"]


def traces(app) -> list[str]:
    """Every place (table.column) where the address, Ada's client address, her name or a keyed
    hash of any of them is still stored."""
    found = []
    with app.app_context():
        needles = [EMAIL, "203.0.113.7", "Ada Lovelace", keyed_hash("avatar", EMAIL)[:32],
                   keyed_hash("avatar", "Ada Lovelace")[:32], flagger_hash("203.0.113.7"),
                   keyed_hash("newsletter-consent", "203.0.113.7"), "ada.example"]
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(sa.select(table)).mappings():
                for column, value in row.items():
                    text = json.dumps(value, default=str) if value is not None else ""
                    if any(needle.lower() in text.lower() for needle in needles):
                        found.append(f"{table.name}.{column}")
    return sorted(set(found))


def cli(app, *args: str):
    result = app.test_cli_runner().invoke(args=["people", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_export_shows_everything_stored_about_the_address(app, story):
    person = json.loads(cli(app, "export", EMAIL.upper()))
    assert [c["body"] for c in person["comments"]] == ["Numbers first.", "And poetry."]
    assert {c["client_ip"] for c in person["comments"]} == {"203.0.113.7"}
    assert [(f["comment_id"], f["reason"]) for f in person["flags"]] == [
        (story["reply"], "off_topic")]
    assert person["newsletter"]["status"] == "pending"
    assert person["newsletter"]["name"] == "Ada Lovelace"
    with app.app_context():  # the consent record's keyed hash of the address, never the address
        assert person["newsletter"]["client_hash"] == keyed_hash("newsletter-consent",
                                                                 "203.0.113.7")
    assert person["reply_notifications"]["lang"] == "fr"
    assert person["reply_notifications"]["confirmed_at"] is None
    assert person["reply_notifications"]["subscriptions"] == [
        {"comment_id": story["first"], "created_at": "2026-11-27T08:00:00Z", "stopped_at": None}]
    assert len(person["queued_mail"]) == 2


def test_erase_leaves_nothing_of_the_address_in_any_table(app, client, story):
    assert traces(app) != []
    assert cli(app, "erase", EMAIL) == (
        "comments: 2, flags: 1, newsletter: 1, queued_mail: 2, reply_notifications: 1\n")
    assert traces(app) == BAN_RECORDS

    thread = client.get("/api/v1/articles/story/comments?order=oldest").json["items"]
    assert [(c["author_name"], c["avatar"], c["author_website"], c["body_html"])
            for c in thread] == [("Deleted", "", None, "<p>Numbers first.</p>"),
                                 ("Deleted", "", None, "<p>And poetry.</p>")]
    assert thread[0]["replies"][0]["author_name"] == "Grace"  # others are untouched
    assert json.loads(cli(app, "export", EMAIL)) == {
        "email": EMAIL, "comments": [], "flags": [], "newsletter": None,
        "reply_notifications": None, "queued_mail": []}


def test_erase_with_comments_removes_their_text_and_keeps_the_thread_readable(
        app, client, story):
    cli(app, "erase", EMAIL, "--with-comments")
    thread = client.get("/api/v1/articles/story/comments?order=oldest").json["items"]
    # The answered comment stays as a placeholder above Grace's reply; the other is gone.
    assert [(c["id"], c["deleted"], c["body_html"]) for c in thread] == [
        (story["first"], True, "")]
    assert thread[0]["replies"][0]["body_html"] == "<p>Agreed.</p>"
    assert traces(app) == BAN_RECORDS


def test_the_admin_api_exports_and_erases_for_the_admin_role_only(app, client, story):
    moderator = {"Authorization": f"Bearer {make_token(app, 'mod-2')}"}
    admin = {"Authorization": f"Bearer {make_token(app, 'root', 'admin')}"}
    assert client.get(f"/api/v1/admin/people?email={EMAIL}",
                      headers=moderator).status_code == 403
    exported = client.get(f"/api/v1/admin/people?email={EMAIL}", headers=admin)
    assert exported.status_code == 200
    assert exported.headers["Cache-Control"] == "no-store"
    assert len(exported.json["comments"]) == 2

    erased = client.delete(f"/api/v1/admin/people?email={EMAIL}&with_comments=true",
                           headers=admin)
    assert erased.status_code == 200
    assert erased.json == {"comments": 2, "flags": 1, "newsletter": 1, "queued_mail": 2,
                           "reply_notifications": 1}
    assert traces(app) == BAN_RECORDS
    audit = client.get("/api/v1/admin/audit", headers=admin).json["items"]
    erasure = next(entry for entry in audit if entry["action"] == "people.erase")
    assert erasure["actor"] == "root"
    assert [entry["action"] for entry in audit if EMAIL in json.dumps(entry)] == ["ban.create"]


def test_exports_are_audited_with_counts_never_the_data(app, client, story):
    admin = {"Authorization": f"Bearer {make_token(app, 'root', 'admin')}"}
    assert client.get(f"/api/v1/admin/people?email={EMAIL}", headers=admin).status_code == 200
    cli(app, "export", EMAIL)

    audit = client.get("/api/v1/admin/audit?action=people", headers=admin).json["items"]
    counts = {"comments": 2, "flags": 1, "newsletter": 1, "queued_mail": 2,
              "reply_notifications": 1}
    assert [(entry["actor"], entry["action"], entry["target"], entry["details"])
            for entry in audit] == [("command line", "people.export", "person", counts),
                                    ("root", "people.export", "person", counts)]
    assert EMAIL not in json.dumps(audit) and "Numbers first" not in json.dumps(audit)


@pytest.mark.parametrize("email", ["", "not-an-address", "a@b@c"])
def test_a_bad_address_is_a_validation_error(app, client, email):
    admin = {"Authorization": f"Bearer {make_token(app, 'root', 'admin')}"}
    answer = client.delete(f"/api/v1/admin/people?email={email}", headers=admin)
    assert answer.status_code == 422
    assert answer.json["reason"] == "validation"


@pytest.mark.parametrize("command", ["erase", "export"])
@pytest.mark.parametrize("email", ["", "  "])
def test_a_blank_address_is_refused_on_the_command_line(app, client, command, email):
    # An imported comment may have no email: a blank address would be that author's.
    with app.app_context():
        db.session.add(Comment(article_id="story", author_name="No Email", author_email="",
                               status=CommentStatus.APPROVED, avatar="-", body="Hi",
                               body_html="<p>Hi</p>",
                               edit_token_hash="-" * 64, created_at=datetime.now(UTC)))
        db.session.add(Article(id="story", first_seen_at=datetime.now(UTC)))
        db.session.commit()

    result = app.test_cli_runner().invoke(args=["people", command, email])

    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "Error: EMAIL is blank: give the address whose data to " + command + "."]
    with app.app_context():
        assert db.session.scalar(sa.select(Comment.author_name)) == "No Email"


@pytest.mark.parametrize("command", ["erase", "export"])
@pytest.mark.parametrize("email", ["not-an-address", "a@b@c"])
def test_what_is_not_an_address_is_refused_on_the_command_line(app, story, command, email):
    # The admin API answers these 422; an empty export or a count of zeros said "no data".
    result = app.test_cli_runner().invoke(args=["people", command, email])

    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"Error: EMAIL {email!r} is not an email address: give the address whose data to "
        f"{command}."]


def test_an_imported_address_that_would_not_be_taken_today_is_still_found(app, client):
    # Archives keep what their site took: an intranet's WordPress had no dotted domains.
    with app.app_context():
        db.session.add(Article(id="story", first_seen_at=datetime.now(UTC)))
        db.session.add(Comment(article_id="story", author_name="Jo", author_email="jo@intranet",
                               status=CommentStatus.APPROVED, avatar="-", body="Hi",
                               body_html="<p>Hi</p>", edit_token_hash="-" * 64,
                               created_at=datetime.now(UTC)))
        db.session.commit()
    admin = {"Authorization": f"Bearer {make_token(app, 'root', 'admin')}"}

    exported = client.get("/api/v1/admin/people?email=Jo@Intranet", headers=admin)
    erased = cli(app, "erase", "jo@intranet")

    assert exported.status_code == 200 and len(exported.json["comments"]) == 1
    assert erased.startswith("comments: 1,")
    with app.app_context():
        assert db.session.scalar(sa.select(Comment.author_email)) == ""


def test_the_command_line_reads_the_address_as_the_api_does(app, story):
    assert len(json.loads(cli(app, "export", f"  {EMAIL.upper()} "))["comments"]) == 2


def test_an_author_deleting_their_comment_takes_their_address_with_it(app, client):
    posted = client.post("/api/v1/articles/story/comments", environ_base=ADA,
                         json=comment_fields(author_name="Ada Lovelace", author_email=EMAIL))
    deleted = client.delete(f"/api/v1/comments/{posted.json['comment']['id']}",
                            headers={"X-Edit-Token": posted.json["edit_token"]})
    assert deleted.status_code == 204
    assert traces(app) == []


def test_erase_takes_the_webhook_events_that_show_the_comments(make_app):
    """A webhook event carries the comment as moderators see it (email, name, address, text),
    and a reply's event its parent's author and text: erasure leaves none of them to be sent."""
    app = make_app(MAIL_BACKGROUND=False, BLOCKED_WORDS=["casino"], FLAG_THRESHOLD=1,
                   MODERATION_WEBHOOK_URL="http://127.0.0.1:9/hooks", WEBHOOK_SECRET="s")
    client = app.test_client()

    def post(environ, **fields):
        answer = client.post("/api/v1/articles/story/comments", json=comment_fields(**fields),
                             environ_base=environ)
        assert answer.status_code == 201, answer.json
        return answer.json["comment"]["id"]

    post(ADA, author_name="Ada Lovelace", author_email=EMAIL, body="A casino of numbers.")
    first = post(ADA, author_name="Ada Lovelace", author_email=EMAIL, body="Numbers first.")
    reply = post(GRACE, author_name="Grace", author_email="grace@example.com",
                 body="Agreed.", parent_id=first)
    assert client.post(f"/api/v1/comments/{reply}/flags", json={"reason": "off_topic"},
                       environ_base={"REMOTE_ADDR": "192.0.2.1"}).status_code == 202
    post(GRACE, author_name="Grace", author_email="grace@example.com", body="casino too")

    person = json.loads(cli(app, "export", EMAIL))
    assert [message["kind"] for message in person["queued_mail"]] == ["webhook", "webhook"]
    assert cli(app, "erase", EMAIL, "--with-comments") == (
        "comments: 2, flags: 0, newsletter: 0, queued_mail: 2, reply_notifications: 0\n")
    assert traces(app) == []
    # Grace's own held comment is still news for the webhook, and only it.
    assert deliver(app) == "sent 0, retrying 1, failed 0"


def test_erase_takes_the_flags_it_removes_off_the_comments_counts(make_app):
    """A flag from the erased person's address goes, and so does its place in the comment's
    count: fewer real flags than the threshold never hide a comment."""
    app = make_app(MAIL_BACKGROUND=False, FLAG_THRESHOLD=3)
    client = app.test_client()
    admin = {"Authorization": f"Bearer {make_token(app, 'root', 'admin')}"}
    posted = [client.post("/api/v1/articles/story/comments", environ_base=environ,
                          json=comment_fields(author_email=email)).json["comment"]["id"]
              for environ, email in ((ADA, EMAIL), (GRACE, "grace@example.com"))]

    def flag(comment_id, address):
        return client.post(f"/api/v1/comments/{comment_id}/flags", json={"reason": "spam"},
                           environ_base={"REMOTE_ADDR": address}).status_code

    def seen_by_moderators(comment_id):
        item, = client.get(f"/api/v1/admin/comments?status=all&id={comment_id}",
                           headers=admin).json["items"]
        return item["status"], item["flag_count"], len(item["flags"])

    assert flag(posted[1], ADA["REMOTE_ADDR"]) == 202
    erased = client.delete(f"/api/v1/admin/people?email={EMAIL}", headers=admin)
    assert erased.json["flags"] == 1
    assert seen_by_moderators(posted[1]) == ("approved", 0, 0)

    assert [flag(posted[1], address) for address in ("192.0.2.1", "192.0.2.2")] == [202, 202]
    assert seen_by_moderators(posted[1]) == ("approved", 2, 2)

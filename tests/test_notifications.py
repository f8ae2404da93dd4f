"""Reply notifications against a real SMTP server (aiosmtpd): double opt-in once per address,
one batched email per thread and window, held replies only once approved, nothing for one's own
replies, one-click unsubscribe per thread, stop-all and its new confirmation, pages a link
scanner cannot act on, languages, and answers that reveal nothing."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from engagement.extensions import db
from engagement.notifications.models import NotifyToken
from engagement.notifications.texts import LANGUAGES, PAGE_TEXTS
from tests.conftest import comment_fields, database_log, deliver, make_token, race
from tests.test_newsletter import page_of, press, with_language, without_language

BASE = "https://news.example.com/engagement"
ARTICLE = "/api/v1/articles/an-article"
COMMENTS = f"{ARTICLE}/comments"
WINDOW = 900
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def notify_app(make_app, smtp_server):
    def make(**settings):
        return make_app(MAIL_URL=smtp_server.url, MAIL_BACKGROUND=False, PUBLIC_BASE_URL=BASE,
                        SITE_NAME="The Daily Example", **settings)

    return make


@pytest.fixture
def app(notify_app):
    return notify_app()


@pytest.fixture
def moderator(app, client):
    headers = {"Authorization": f"Bearer {make_token(app)}"}
    client.put("/api/v1/admin/articles/an-article", headers=headers, json={
        "title": "Rain in Spain", "url": "https://news.example.com/rain-in-spain"})
    return headers


def post(client, **fields):
    response = client.post(COMMENTS, json=comment_fields(**fields))
    assert response.status_code == 201, response.json
    return response.json


def reply(client, parent, author="bob@example.com", body="I disagree.", **fields):
    return post(client, parent_id=parent, author_email=author, author_name="Bob", body=body,
                **fields)


def mail_to(smtp_server, address="ada@example.com") -> list:
    return [message for message in smtp_server.received if message["To"] == address]


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def html_of(message) -> str:
    return message.get_body(("html",)).get_content()


def path_of(url: str) -> str:
    parts = urlsplit(url)
    assert url.startswith(BASE)
    return parts.path.removeprefix(urlsplit(BASE).path) + "?" + parts.query


def link(message, kind: str, everything=False) -> str:
    """The path of an emailed link (confirm or unsubscribe) on the service."""
    scope = r"&scope=all" if everything else ""
    found = re.search(re.escape(BASE) + rf"/notifications/{kind}\?token=[\w-]+{scope}&lang=\w+"
                      r"(?=\s|$)",
                      text_of(message))
    assert found, text_of(message)
    return path_of(found.group(0))


def one_click_path(message) -> str:
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    return path_of(message["List-Unsubscribe"].strip("<>"))


def confirmed(client, app, smtp_server, address="ada@example.com", **fields):
    """Post a comment asking for reply emails and confirm the address; the comment's id."""
    comment = post(client, author_email=address, notify_replies=True, **fields)
    deliver(app)
    confirmation = mail_to(smtp_server, address)[-1]
    page = client.post(link(confirmation, "confirm"), data={}, content_type=FORM)
    assert page.status_code == 200
    return comment["comment"]["id"]


def after_the_window(app, clock, seconds=WINDOW):
    clock.advance(seconds=seconds)
    return deliver(app)


# --- Double opt-in --------------------------------------------------------------------------

def test_the_first_ask_sends_a_confirmation_whose_page_confirms_with_a_button(
        client, app, smtp_server, moderator, clock):
    comment = post(client, notify_replies=True)["comment"]["id"]
    deliver(app)

    (confirmation,) = mail_to(smtp_server)
    assert "The Daily Example" in confirmation["Subject"]
    assert "confirm" in confirmation["Subject"].lower()
    assert BASE in html_of(confirmation)
    page = client.get(link(confirmation, "confirm"))
    assert page.status_code == 200
    assert b"<button" in page.data and b'method="post"' in page.data
    assert "no-store" in page.headers["Cache-Control"]

    # Opening the link (a mail scanner) confirmed nothing: a reply sends no email.
    reply(client, comment)
    after_the_window(app, clock)
    assert len(mail_to(smtp_server)) == 1

    token = re.search(rb'name="token" value="([\w-]+)"', page.data).group(1).decode()
    pressed = client.post("/notifications/confirm", data={"token": token}, content_type=FORM)
    assert pressed.status_code == 200
    assert b"confirmed" in pressed.data
    reply(client, comment, body="Now you hear of it.")
    after_the_window(app, clock)
    (notice,) = mail_to(smtp_server)[1:]
    assert "Now you hear of it." in text_of(notice)


def test_a_used_confirmation_link_says_confirmed_until_stop_all(
        client, app, smtp_server, moderator, clock):
    post(client, notify_replies=True)
    deliver(app)
    path = link(mail_to(smtp_server)[0], "confirm")
    assert client.post(path, data={}, content_type=FORM).status_code == 200
    clock.advance(hours=1)

    for method in ("GET", "POST"):  # opened again, pressed again
        page = client.open(path, method=method, data={}, content_type=FORM)
        assert page.status_code == 200, method
        assert b"Reply emails confirmed" in page.data and b"<button" not in page.data

    first = post(client, notify_replies=True, body="Another")["comment"]["id"]
    reply(client, first)
    after_the_window(app, clock)
    stop_all = link(mail_to(smtp_server)[-1], "unsubscribe", everything=True)
    client.post(stop_all, data={}, content_type=FORM)
    # Stopped: the old link cannot start the reply emails again.
    assert client.post(path, data={}, content_type=FORM).status_code == 404


def test_a_confirmed_address_is_never_asked_again(client, app, smtp_server, moderator, clock):
    confirmed(client, app, smtp_server)
    second = post(client, notify_replies=True, body="Another thought")["comment"]["id"]
    deliver(app)
    assert len(mail_to(smtp_server)) == 1  # the first confirmation only

    reply(client, second)
    after_the_window(app, clock)

    assert "I disagree." in text_of(mail_to(smtp_server)[-1])


def test_one_confirmation_per_address_per_resend_period(client, app, smtp_server, clock):
    for n in range(3):
        post(client, notify_replies=True, body=f"comment {n}")
    deliver(app)
    assert len(mail_to(smtp_server)) == 1

    clock.advance(seconds=600)
    post(client, notify_replies=True, body="later")
    deliver(app)
    assert len(mail_to(smtp_server)) == 2


def test_a_comment_without_the_box_asks_for_nothing(client, app, smtp_server, clock):
    comment = post(client)["comment"]["id"]
    reply(client, comment)
    after_the_window(app, clock)

    assert smtp_server.received == []


# --- Replies, batched ------------------------------------------------------------------------

def test_three_replies_in_the_window_make_one_email_listing_them(
        client, app, smtp_server, moderator, clock):
    comment = confirmed(client, app, smtp_server)
    ids = []
    for n, body in enumerate(["First **reply** & more", "Second reply", "Third reply"]):
        ids.append(reply(client, comment, author=f"r{n}@example.com", body=body)["comment"]["id"])
        clock.advance(seconds=60)
    assert deliver(app) == "sent 0, retrying 0, failed 0"  # the window is still open

    after_the_window(app, clock)

    (notice,) = mail_to(smtp_server)[1:]
    text, page = text_of(notice), html_of(notice)
    assert notice["Subject"] == "The Daily Example: new replies to your comment on “Rain in Spain”"
    assert "Rain in Spain" in text
    assert "First reply & more" in text  # the plain text of the sanitised HTML
    assert "<strong>reply</strong>" in page and "Rain in Spain" in page
    for reply_id in ids:
        anchor = f"https://news.example.com/rain-in-spain#engagement-comment-{reply_id}"
        assert anchor in text and anchor in page
    assert text.index("First") < text.index("Second") < text.index("Third")
    assert one_click_path(notice).startswith("/notifications/unsubscribe?token=")

    # The next reply starts a new batch listing only itself.
    reply(client, comment, body="A fourth, later")
    after_the_window(app, clock)
    (later,) = mail_to(smtp_server)[2:]
    assert "A fourth, later" in text_of(later) and "Second reply" not in text_of(later)
    # One reply is "a new reply", in every language the emails speak.
    assert later["Subject"] == "The Daily Example: a new reply to your comment on “Rain in Spain”"
    assert text_of(later).startswith("A new reply to your comment on “Rain in Spain”:")


def test_a_batch_email_tells_the_replies_as_they_are_when_it_is_sent(
        client, app, smtp_server, moderator, clock):
    """The email is written when it goes: a reply its author deleted, a moderator rejected or
    that was erased with its author is not in it, and an edited one is quoted as edited."""
    comment = confirmed(client, app, smtp_server)
    deleted = reply(client, comment, author="r1@example.com", body="Deleted by its author")
    edited = reply(client, comment, author="r2@example.com", body="Call me on 555-0100")
    rejected = reply(client, comment, author="r3@example.com", body="Rejected by a moderator")
    reply(client, comment, author="r4@example.com", body="Erased with its author")
    kept = reply(client, comment, author="r5@example.com", body="Kept as it was")
    clock.advance(seconds=60)

    def by_author(posted):
        return {"X-Edit-Token": posted["edit_token"]}

    deleting = client.delete(f"/api/v1/comments/{deleted['comment']['id']}",
                             headers=by_author(deleted))
    assert deleting.status_code == 204
    editing = client.patch(f"/api/v1/comments/{edited['comment']['id']}",
                           headers=by_author(edited), json={"body": "Call me any time"})
    assert editing.status_code == 200
    rejecting = client.patch(f"/api/v1/admin/comments/{rejected['comment']['id']}",
                             headers=moderator, json={"status": "rejected"})
    assert rejecting.status_code == 200
    erasing = app.test_cli_runner().invoke(
        args=["people", "erase", "r4@example.com", "--with-comments"])
    assert erasing.exit_code == 0, erasing.output

    after_the_window(app, clock)

    (notice,) = mail_to(smtp_server)[1:]
    said = text_of(notice) + html_of(notice)
    assert "Call me any time" in said and "Kept as it was" in said
    for gone in ("555-0100", "Deleted by its author", "Rejected by a moderator",
                 "Erased with its author"):
        assert gone not in said
    assert f"engagement-comment-{kept['comment']['id']}" in said
    assert f"engagement-comment-{deleted['comment']['id']}" not in said


def test_a_batch_whose_replies_are_all_gone_is_not_sent(
        client, app, smtp_server, moderator, clock):
    comment = confirmed(client, app, smtp_server)
    posted = reply(client, comment, body="Sent in haste")
    client.delete(f"/api/v1/comments/{posted['comment']['id']}",
                  headers={"X-Edit-Token": posted["edit_token"]})

    assert after_the_window(app, clock) == "sent 0, retrying 0, failed 0"

    assert len(mail_to(smtp_server)) == 1  # the confirmation only
    status = app.test_cli_runner().invoke(args=["outbox", "status"]).output
    assert status.split() == ["queued", "0", "failed", "0"]


@pytest.mark.parametrize("hidden", ["the comment replied to", "the comment above it"])
def test_a_reply_the_thread_no_longer_shows_is_not_mailed(
        client, app, smtp_server, moderator, clock, hidden):
    """A reply shows while every comment above it is approved: one below a comment a
    moderator rejected meanwhile is not in the email, at any depth."""
    top = post(client, author_email="tom@example.com", body="Opening words")["comment"]["id"]
    comment = confirmed(client, app, smtp_server, parent_id=top)
    reply(client, comment, author="walt@example.com", body="Walt was here")
    clock.advance(seconds=60)
    rejected = comment if hidden == "the comment replied to" else top
    rejecting = client.patch(f"/api/v1/admin/comments/{rejected}", headers=moderator,
                             json={"status": "rejected"})
    assert rejecting.status_code == 200
    assert "Walt was here" not in client.get(COMMENTS).get_data(as_text=True)

    assert after_the_window(app, clock) == "sent 0, retrying 0, failed 0"

    assert len(mail_to(smtp_server)) == 1  # the confirmation only


def test_a_held_reply_sends_nothing_until_approved(notify_app, smtp_server, clock):
    app = notify_app(BLOCKED_WORDS=["casino"])
    client = app.test_client()
    moderator = {"Authorization": f"Bearer {make_token(app)}"}
    comment = confirmed(client, app, smtp_server)
    held = reply(client, comment, body="Visit my casino")
    assert held["status"] == "pending"

    after_the_window(app, clock)
    assert len(mail_to(smtp_server)) == 1

    approved = client.patch(f"/api/v1/admin/comments/{held['comment']['id']}", headers=moderator,
                            json={"status": "approved"})
    assert approved.status_code == 200
    assert deliver(app) == "sent 0, retrying 0, failed 0"
    after_the_window(app, clock)
    (notice,) = mail_to(smtp_server)[1:]
    assert "Visit my casino" in text_of(notice)

    # Approved again after a rejection: it was announced already.
    for status in ("rejected", "approved"):
        client.patch(f"/api/v1/admin/comments/{held['comment']['id']}", headers=moderator,
                     json={"status": status})
    after_the_window(app, clock)
    assert len(mail_to(smtp_server)) == 2


def test_bulk_approval_sends_the_held_replies(notify_app, smtp_server, clock):
    app = notify_app(MODERATION_MODE="first_time")
    client = app.test_client()
    moderator = {"Authorization": f"Bearer {make_token(app)}"}
    first = post(client, notify_replies=True)
    client.patch(f"/api/v1/admin/comments/{first['comment']['id']}", headers=moderator,
                 json={"status": "approved"})
    deliver(app)
    client.post(link(mail_to(smtp_server)[0], "confirm"), data={}, content_type=FORM)
    held = [reply(client, first["comment"]["id"], author=f"new{n}@example.com")["comment"]["id"]
            for n in range(2)]

    client.post("/api/v1/admin/comments/bulk", headers=moderator,
                json={"ids": held, "action": "approve"})
    after_the_window(app, clock)

    (notice,) = mail_to(smtp_server)[1:]
    assert text_of(notice).count("I disagree.") == 2


def test_approving_many_held_replies_at_once_writes_the_email_once(
        notify_app, smtp_server, clock):
    """The subscriber's email is written once with every reply a bulk approval publishes:
    its cost does not grow with the replies (it grew with their square)."""
    app = notify_app(MODERATION_MODE="first_time")
    client = app.test_client()
    moderator = {"Authorization": f"Bearer {make_token(app)}"}
    first = post(client, notify_replies=True)
    client.patch(f"/api/v1/admin/comments/{first['comment']['id']}", headers=moderator,
                 json={"status": "approved"})
    deliver(app)
    client.post(link(mail_to(smtp_server)[0], "confirm"), data={}, content_type=FORM)
    held = [reply(client, first["comment"]["id"], author=f"new{n}@example.com",
                  body=f"Reply number {n}.")["comment"]["id"] for n in range(23)]
    costs = {}

    # The first approval opens the email; the next two add to it.
    for batch in (held[:1], held[1:3], held[3:]):
        clock.advance(seconds=1)
        with database_log(app) as sent:
            client.post("/api/v1/admin/comments/bulk", headers=moderator,
                        json={"ids": batch, "action": "approve"})
        costs[len(batch)] = len(sent)
    after_the_window(app, clock)

    assert costs[20] == costs[2], costs
    (notice,) = mail_to(smtp_server)[1:]
    assert all(f"Reply number {n}." in text_of(notice) for n in range(23))


def test_ones_own_reply_sends_nothing(client, app, smtp_server, moderator, clock):
    comment = confirmed(client, app, smtp_server)

    reply(client, comment, author="ADA@example.com", body="Replying to myself")
    after_the_window(app, clock)

    assert len(mail_to(smtp_server)) == 1


def test_other_replies_in_the_thread_do_not_count_as_replies_to_the_comment(
        client, app, smtp_server, moderator, clock):
    confirmed(client, app, smtp_server)
    other = post(client, author_email="carol@example.com", body="Top level")["comment"]["id"]

    reply(client, other)
    after_the_window(app, clock)

    assert len(mail_to(smtp_server)) == 1


# --- Stopping ---------------------------------------------------------------------------------

def test_one_click_unsubscribe_stops_that_thread_only(client, app, smtp_server, moderator, clock):
    first = confirmed(client, app, smtp_server)
    second = post(client, notify_replies=True, body="My second comment")["comment"]["id"]
    reply(client, first, body="to the first")
    after_the_window(app, clock)
    notice = mail_to(smtp_server)[-1]

    # A mail program's one-click POST (RFC 8058), while a reply to the first waits in a batch.
    reply(client, first, body="waiting in a batch")
    stopped = client.post(one_click_path(notice), data={"List-Unsubscribe": "One-Click"},
                          content_type=FORM)
    assert stopped.status_code == 200
    reply(client, first, body="after the stop")
    reply(client, second, body="to the second")
    after_the_window(app, clock)

    later = mail_to(smtp_server)[2:]
    assert len(later) == 1
    assert "to the second" in text_of(later[0])
    assert "waiting in a batch" not in text_of(later[0])
    # The link keeps working (a second press says the same).
    assert client.post(one_click_path(notice), data={}, content_type=FORM).status_code == 200


def test_each_email_carries_an_unsubscribe_link_of_its_own_that_expires(
        client, app, smtp_server, moderator, clock):
    first = confirmed(client, app, smtp_server)
    reply(client, first, body="a year ago")
    after_the_window(app, clock)
    old_notice = mail_to(smtp_server)[-1]
    clock.advance(days=366)
    reply(client, first, body="today")
    after_the_window(app, clock)
    new_notice = mail_to(smtp_server)[-1]

    old = client.post(one_click_path(old_notice), data={"List-Unsubscribe": "One-Click"},
                      content_type=FORM)
    assert old.status_code == 410 and "too old" in old.get_data(as_text=True)
    assert client.get(one_click_path(old_notice)).status_code == 410
    new = client.post(one_click_path(new_notice), data={"List-Unsubscribe": "One-Click"},
                      content_type=FORM)
    assert new.status_code == 200
    assert one_click_path(new_notice) != one_click_path(old_notice)


def test_stop_all_stops_everything_and_asking_again_needs_a_new_confirmation(
        client, app, smtp_server, moderator, clock):
    first = confirmed(client, app, smtp_server)
    second = post(client, notify_replies=True, body="My second comment")["comment"]["id"]
    reply(client, first)
    after_the_window(app, clock)
    stop_all = link(mail_to(smtp_server)[-1], "unsubscribe", everything=True)

    page = client.get(stop_all)
    assert b"<button" in page.data and b'name="scope" value="all"' in page.data
    assert client.post(stop_all, data={}, content_type=FORM).status_code == 200
    reply(client, first, body="after stop-all")
    reply(client, second, body="after stop-all too")
    after_the_window(app, clock)
    assert len(mail_to(smtp_server)) == 2  # confirmation and the one notice before

    third = post(client, notify_replies=True, body="I am back")["comment"]["id"]
    deliver(app)
    confirmation = mail_to(smtp_server)[-1]
    assert "/notifications/confirm?token=" in text_of(confirmation)
    reply(client, third, body="before confirming")
    after_the_window(app, clock)
    assert len(mail_to(smtp_server)) == 3

    client.post(link(confirmation, "confirm"), data={}, content_type=FORM)
    reply(client, third, body="after confirming")
    reply(client, first, body="to a stopped thread")
    after_the_window(app, clock)
    (notice,) = mail_to(smtp_server)[3:]
    assert "after confirming" in text_of(notice)
    assert "to a stopped thread" not in text_of(notice)


def test_the_confirmation_email_carries_a_stop_all_link(client, app, smtp_server):
    post(client, notify_replies=True)
    deliver(app)
    (confirmation,) = mail_to(smtp_server)

    assert one_click_path(confirmation) == link(confirmation, "unsubscribe", everything=True)


def test_the_pages_name_the_publication(client, app, smtp_server, moderator, clock):
    comment = confirmed(client, app, smtp_server)
    reply(client, comment)
    after_the_window(app, clock)
    notice = mail_to(smtp_server)[-1]
    pages = [link(notice, "unsubscribe"), link(notice, "unsubscribe", everything=True),
             "/notifications/confirm?token=unknown"]

    for path in pages:
        for answer in (client.get(path), client.post(path, content_type=FORM)):
            html = answer.get_data(as_text=True)
            assert re.search(r"<title>[^<]* · The Daily Example</title>", html), html
            assert "<h1>The Daily Example</h1>" in html, html


def test_opening_an_unsubscribe_link_stops_nothing(client, app, smtp_server, moderator, clock):
    comment = confirmed(client, app, smtp_server)
    reply(client, comment)
    after_the_window(app, clock)
    notice = mail_to(smtp_server)[-1]

    for path in (one_click_path(notice), link(notice, "unsubscribe", everything=True)):
        page = client.get(path)
        assert page.status_code == 200 and b"<button" in page.data
    reply(client, comment, body="still coming")
    after_the_window(app, clock)

    assert "still coming" in text_of(mail_to(smtp_server)[-1])


@pytest.mark.parametrize("path", ["/notifications/confirm", "/notifications/unsubscribe"])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_an_unknown_token_is_a_page_that_says_so(client, path, method):
    response = client.open(f"{path}?token=nonsense", method=method, data={}, content_type=FORM)

    assert response.status_code == 404
    assert b"does not work" in response.data
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_a_confirmation_link_expires(client, app, smtp_server, clock):
    post(client, notify_replies=True)
    deliver(app)
    path = link(mail_to(smtp_server)[0], "confirm")

    clock.advance(days=2)

    assert client.get(path).status_code == 410
    assert client.post(path, data={}, content_type=FORM).status_code == 410


def test_tokens_are_stored_only_as_hashes(client, app, smtp_server):
    post(client, notify_replies=True)
    deliver(app)
    token = re.search(r"token=([\w-]+)", text_of(mail_to(smtp_server)[0])).group(1)

    with app.app_context():
        stored = db.session.scalars(sa.select(NotifyToken.token_hash)).all()
    assert token not in stored
    assert all(len(value) == 64 for value in stored)


# --- What answers reveal, what is checked ------------------------------------------------------

def test_the_post_answers_alike_whoever_asks(client, app, smtp_server, moderator):
    confirmed(client, app, smtp_server, address="known@example.com")

    def answer(address):
        body = post(client, author_email=address, notify_replies=True)
        return body["status"], sorted(body), sorted(body["comment"])

    assert answer("known@example.com") == answer("stranger@example.com")


@pytest.mark.parametrize("fields", [
    {"notify_replies": "yes"}, {"notify_replies": 1}, {"notify_replies": None},
    {"lang": "<script>"}, {"lang": "x" * 40}, {"lang": 7},
])
def test_bad_fields_are_422(client, fields):
    response = client.post(COMMENTS, json=comment_fields(**fields))

    assert response.status_code == 422
    assert list(response.json["errors"]["json"]) == list(fields)


def test_a_spam_comment_asks_for_nothing(client, app, smtp_server):
    post(client, notify_replies=True, website_url="http://bot.example")
    deliver(app)

    assert smtp_server.received == []


@pytest.mark.parametrize(("lang", "word", "direction"), [
    ("fr", "réponse", "ltr"), ("de-AT", "antwort", "ltr"), ("es", "respuesta", "ltr"),
    ("ar", "الردود", "rtl"), ("so", "jawaabaha", "ltr"), ("xx", "reply", "ltr"), (None, "reply",
                                                                               "ltr"),
])
def test_emails_speak_the_language_the_widget_passed(
        client, app, smtp_server, moderator, clock, lang, word, direction):
    comment = confirmed(client, app, smtp_server, lang=lang)
    reply(client, comment)
    after_the_window(app, clock)

    confirmation, notice = mail_to(smtp_server)
    assert word in confirmation["Subject"].lower() or word in text_of(confirmation).lower()
    assert f'dir="{direction}"' in html_of(notice)
    assert "The Daily Example" in notice["Subject"]


def test_french_emails_put_a_space_before_their_colons(client, app, smtp_server, moderator,
                                                       clock):
    comment = confirmed(client, app, smtp_server, lang="fr")
    reply(client, comment)
    after_the_window(app, clock)

    confirmation, notice = mail_to(smtp_server)
    for text in (text_of(confirmation), text_of(notice)):
        links = [line for line in text.splitlines() if "http" in line and not
                 line.startswith("http")]
        assert links and all(" : http" in line for line in links), text


@pytest.mark.parametrize(("lang", "page_lang", "direction", "words"), [
    ("fr", "fr", "ltr", {
        "confirm": ("Confirmez les notifications de réponse", "Confirmer"),
        "confirmed": "Merci : vous recevrez un message quand on vous répondra.",
        "unsubscribe": ("Ne plus recevoir de messages sur cette conversation",
                        "Arrêter ces messages"),
        "unsubscribe_all": ("Arrêter toutes les notifications de réponse",
                            "Arrêter toutes les notifications"),
        "unsubscribed": "Vous ne recevrez plus de messages sur cette conversation.",
        "unsubscribed_all": "Vous ne recevrez plus de notifications de réponse."}),
    ("ar", "ar", "rtl", {
        "confirm": ("تأكيد إشعارات الردود", "تأكيد"),
        "confirmed": "شكرًا لك: ستصلك رسالة عندما يرد أحد.",
        "unsubscribe": ("إيقاف الرسائل عن هذه المحادثة", "إيقاف هذه الرسائل"),
        "unsubscribe_all": ("اضغط الزر لإيقاف كل رسائل الردود إلى هذا العنوان.",
                            "إيقاف كل رسائل الردود"),
        "unsubscribed": "لن تصلك رسائل عن هذه المحادثة بعد الآن.",
        "unsubscribed_all": "لن تصلك رسائل الردود بعد الآن."}),
])
def test_the_emails_links_open_pages_in_the_emails_language(
        client, app, smtp_server, moderator, clock, lang, page_lang, direction, words):
    comment = post(client, notify_replies=True, lang=lang)["comment"]["id"]
    deliver(app)
    (confirmation,) = mail_to(smtp_server)
    assert one_click_path(confirmation).endswith(f"&scope=all&lang={page_lang}")

    title, button = words["confirm"]
    shown = page_of(client.get(link(confirmation, "confirm")))
    assert shown[:2] == (page_lang, direction) and title in shown[2] and button in shown[2]
    assert "Confirm reply emails" not in shown[2]
    done = press(client, link(confirmation, "confirm"))
    assert done.status_code == 200
    assert page_of(done)[:2] == (page_lang, direction) and words["confirmed"] in page_of(done)[2]
    reply(client, comment)
    after_the_window(app, clock)
    notice = mail_to(smtp_server)[-1]  # a confirmed address hears of replies
    assert one_click_path(notice) == link(notice, "unsubscribe")

    for kind, everything in (("unsubscribe", False), ("unsubscribe_all", True)):
        path = link(notice, "unsubscribe", everything=everything)
        title, button = words[kind]
        shown = page_of(client.get(path))
        assert shown[:2] == (page_lang, direction) and title in shown[2] and button in shown[2]
        done = press(client, path)
        assert done.status_code == 200
        assert page_of(done)[:2] == (page_lang, direction)
        assert words[kind.replace("unsubscribe", "unsubscribed")] in page_of(done)[2]


def test_the_pages_ship_in_every_language_of_the_emails(client):
    for lang, pages in PAGE_TEXTS.items():
        assert set(pages) == set(PAGE_TEXTS["en"]), lang
        assert {kind for kind, words in pages.items() if words[2]} == {
            kind for kind, words in PAGE_TEXTS["en"].items() if words[2]}, lang
        shown = page_of(client.get(f"/notifications/unsubscribe?token=unknown&lang={lang}"))
        assert shown[0] == lang and pages["unknown"][0] in shown[2]
        assert shown[1] == ("rtl" if lang == "ar" else "ltr")
    assert set(PAGE_TEXTS) == set(LANGUAGES)


@pytest.mark.parametrize(("lang", "page_lang"), [
    ("xx", "en"), ("", "en"), ("<script>alert(1)</script>", "en"),
    ('ar" dir="ltr', "en"), ("so-<b>", "so"),
])
def test_a_link_with_another_language_gets_a_shipped_one_and_nothing_else(
        client, app, smtp_server, lang, page_lang):
    post(client, notify_replies=True, lang="ar")
    deliver(app)
    path = with_language(link(mail_to(smtp_server)[0], "confirm"), lang)

    for answer in (client.get(path), press(client, path)):
        assert answer.status_code == 200
        assert page_of(answer)[:2] == (page_lang, "ltr")
        html = answer.get_data(as_text=True)
        assert "<script>" not in html and "<b>" not in html and 'dir="ltr"' in html
        assert html.count("dir=") == 1
    assert page_of(client.get(path))[2].count(PAGE_TEXTS[page_lang]["confirmed"][0]) == 1


def test_a_link_written_before_links_carried_a_language_works_in_english(
        client, app, smtp_server, moderator, clock):
    comment = post(client, notify_replies=True, lang="fr")["comment"]["id"]
    deliver(app)
    confirm = without_language(link(mail_to(smtp_server)[0], "confirm"))

    shown = page_of(client.get(confirm))
    assert shown[:2] == ("en", "ltr") and "Confirm reply emails" in shown[2]
    assert "Thank you: you will get an email" in page_of(press(client, confirm))[2]
    reply(client, comment)
    after_the_window(app, clock)
    stop_all = without_language(link(mail_to(smtp_server)[-1], "unsubscribe", everything=True))
    assert "Stop all reply emails" in page_of(client.get(stop_all))[2]
    one_click = client.post(stop_all, data={"List-Unsubscribe": "One-Click"}, content_type=FORM)
    assert one_click.status_code == 200
    assert page_of(one_click)[:2] == ("en", "ltr")
    assert "You will not get reply emails any more." in page_of(one_click)[2]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_expired_and_unknown_links_say_so_in_the_links_language(
        client, app, smtp_server, moderator, clock, method):
    comment = confirmed(client, app, smtp_server, lang="fr")
    post(client, notify_replies=True, lang="fr", author_email="cy@example.com")
    reply(client, comment)
    after_the_window(app, clock)
    stop = link(mail_to(smtp_server)[-1], "unsubscribe")
    confirm = link(mail_to(smtp_server, "cy@example.com")[0], "confirm")

    clock.advance(days=2)
    expired = client.open(confirm, method=method, data={}, content_type=FORM)
    assert expired.status_code == 410
    assert page_of(expired)[:2] == ("fr", "ltr") and "Ce lien a expiré" in page_of(expired)[2]
    clock.advance(days=366)
    old = client.open(stop, method=method, data={}, content_type=FORM)
    assert old.status_code == 410 and "trop ancien" in page_of(old)[2]
    for path in ("/notifications/confirm", "/notifications/unsubscribe"):
        unknown = client.open(f"{path}?token=nonsense&lang=ar", method=method, data={},
                              content_type=FORM)
        assert unknown.status_code == 404
        assert page_of(unknown)[:2] == ("ar", "rtl") and "هذا الرابط لا يعمل" in page_of(unknown)[2]


@pytest.mark.postgres
def test_replies_racing_on_postgres_make_one_email_listing_them_all(
        client, app, smtp_server, moderator, clock):
    with app.app_context():
        assert db.engine.dialect.name == "postgresql"
    comment = confirmed(client, app, smtp_server)
    count = 12
    answers = race(app, lambda own, n: own.post(COMMENTS, json=comment_fields(
        parent_id=comment, author_email=f"r{n}@example.com", body=f"racing reply {n}")), count)

    assert {answer.status_code for answer in answers} == {201}
    after_the_window(app, clock)
    (notice,) = mail_to(smtp_server)[1:]
    listed = re.findall(r"racing reply (\d+)\s", text_of(notice))
    assert sorted(map(int, listed)) == list(range(count))

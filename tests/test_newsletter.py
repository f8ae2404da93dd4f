"""The newsletter: double opt-in through the emailed link (sent to a real SMTP server), answers
that reveal nothing about an address, the resend throttle, tokens that expire and are stored
hashed, pages that a link scanner cannot act on, one-click unsubscription, and the admins'
list, export and erasure."""

from __future__ import annotations

import csv
import hashlib
import html as markup
import io
import re
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import sqlalchemy as sa

from engagement.admin.models import AuditEntry
from engagement.extensions import db
from engagement.mail.models import OutboxMessage
from engagement.metrics import REGISTRY
from engagement.newsletter import texts as newsletter_texts
from engagement.newsletter.admin_schemas import csv_cell
from engagement.newsletter.models import Subscriber, SubscriberToken
from engagement.notifications.texts import LANGUAGES
from tests.conftest import deliver, make_token, race

BASE = "https://news.example.com/engagement"
SUBSCRIBE = "/api/v1/newsletter/subscriptions"
CONFIRM = "/api/v1/newsletter/confirm"
UNSUBSCRIBE = "/api/v1/newsletter/unsubscribe"
SUBSCRIBERS = "/api/v1/admin/newsletter/subscribers"
READER = {"REMOTE_ADDR": "198.51.100.7"}
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def newsletter_app(make_app, smtp_server):
    def make(**settings):
        return make_app(MAIL_URL=smtp_server.url, MAIL_BACKGROUND=False, PUBLIC_BASE_URL=BASE,
                        **settings)

    return make


@pytest.fixture
def app(newsletter_app):
    """Mail goes to the test's SMTP server when the test delivers it."""
    return newsletter_app()


@pytest.fixture
def admin(app):
    return {"Authorization": f"Bearer {make_token(app, 'root', 'admin')}"}


def subscribe(client, address="ada@example.com", **fields):
    return client.post(SUBSCRIBE, json={"email": address, "consent": True, **fields},
                       headers={"User-Agent": "Firefox/140"}, environ_base=READER)


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def confirm_path(message) -> str:
    """The confirmation link of an email, as a path on the service."""
    found = re.search(re.escape(BASE) + r"(/newsletter/confirm\?token=[\w-]+&lang=\w+)\s",
                      text_of(message))
    assert found, text_of(message)
    return found.group(1)


def unsubscribe_path(message) -> str:
    """The List-Unsubscribe link of an email, as a path on the service."""
    found = re.fullmatch(
        "<" + re.escape(BASE) + r"(/newsletter/unsubscribe\?token=[\w-]+&lang=\w+)>",
        message["List-Unsubscribe"])
    assert found, message["List-Unsubscribe"]
    return found.group(1)


def token_of(path: str) -> str:
    return parse_qs(urlsplit(path).query)["token"][0]


def mail_to(smtp_server, address: str) -> list:
    return [message for message in smtp_server.received if message["To"] == address]


def subscriber(client, admin, address="ada@example.com") -> dict | None:
    items = client.get(f"{SUBSCRIBERS}?limit=100", headers=admin).json["items"]
    return next((item for item in items if item["email"] == address), None)


def signed_up(client, app, smtp_server, address="ada@example.com", **fields):
    """Sign an address up and deliver the confirmation; returns the email."""
    assert subscribe(client, address, **fields).status_code == 202
    deliver(app)
    return mail_to(smtp_server, address)[-1]


# --- Double opt-in --------------------------------------------------------------------------

def test_double_opt_in_through_the_emailed_link(client, app, smtp_server, admin, clock):
    response = subscribe(client, "Ada@Example.com", name="Ada", source="sidebar")

    assert response.status_code == 202
    assert response.json == {"status": "pending_confirmation"}
    assert smtp_server.received == []  # nothing leaves before delivery
    assert deliver(app) == "sent 1, retrying 0, failed 0"
    (message,) = smtp_server.received
    assert message["To"] == "ada@example.com"
    assert message["Subject"] == "news.example.com: please confirm your subscription"
    assert subscriber(client, admin)["status"] == "pending"

    clock.advance(hours=1)
    link = confirm_path(message)
    page = client.get(link)
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert '<form method="post">' in html and f'value="{token_of(link)}"' in html
    assert subscriber(client, admin)["status"] == "pending"

    done = client.post(link, data={"token": token_of(link)}, content_type=FORM)
    assert done.status_code == 200
    assert "You are subscribed" in done.get_data(as_text=True)

    record = subscriber(client, admin)
    assert record["status"] == "confirmed"
    assert record["name"] == "Ada" and record["source"] == "sidebar"
    assert record["signed_up_at"] == "2026-11-27T08:00:00Z"
    assert record["confirmed_at"] == "2026-11-27T09:00:00Z"
    assert record["consent_version"] == "2026-11"
    assert record["user_agent"] == "Firefox/140"
    assert len(record["client_hash"]) == 64 and "198.51.100.7" not in record["client_hash"]
    # Opened or pressed again, the link says so and changes nothing.
    clock.advance(hours=1)
    for again in (client.get(link), client.post(link, data={"token": token_of(link)},
                                                content_type=FORM)):
        assert again.status_code == 200
        assert "You are subscribed" in again.get_data(as_text=True)
        assert '<form method="post">' not in again.get_data(as_text=True)
    assert subscriber(client, admin)["confirmed_at"] == "2026-11-27T09:00:00Z"


def test_confirming_through_the_api(client, app, smtp_server, admin):
    token = token_of(confirm_path(signed_up(client, app, smtp_server)))

    response = client.post(CONFIRM, json={"token": token})

    assert response.status_code == 200
    assert response.json == {"status": "confirmed"}
    assert subscriber(client, admin)["status"] == "confirmed"
    again = client.post(CONFIRM, json={"token": token})  # a second press changes nothing
    assert again.status_code == 200 and again.json == {"status": "confirmed"}


def test_a_confirmed_url_gets_the_reader_there(newsletter_app, smtp_server):
    app = newsletter_app(NEWSLETTER_CONFIRMED_URL="https://news.example.com/thanks")
    client = app.test_client()
    link = confirm_path(signed_up(client, app, smtp_server))

    response = client.post(f"{link}&next=https://evil.example/",
                           data={"next": "https://evil.example/"}, content_type=FORM,
                           headers={"Referer": "https://evil.example/"})

    assert response.status_code == 303
    assert response.headers["Location"] == "https://news.example.com/thanks"


# --- Nothing to learn about an address ------------------------------------------------------

def answer(response) -> tuple:
    ignored = {"Date", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After"}
    headers = sorted((k, v) for k, v in response.headers.items() if k not in ignored)
    return response.status_code, response.get_data(), headers


def test_every_kind_of_address_gets_the_same_answer_and_the_same_work(
        client, app, smtp_server, clock):
    signed_up(client, app, smtp_server, "pending@example.com")
    confirmed = signed_up(client, app, smtp_server, "confirmed@example.com")
    client.post(confirm_path(confirmed), content_type=FORM)
    unsubscribed = signed_up(client, app, smtp_server, "unsubscribed@example.com")
    client.post(unsubscribe_path(unsubscribed), data="List-Unsubscribe=One-Click",
                content_type=FORM)
    clock.advance(seconds=600)  # past the resend throttle
    smtp_server.received.clear()

    answers, statements = {}, {}
    with app.app_context():
        for kind in ("new", "pending", "confirmed", "unsubscribed"):
            seen = []

            def record(*args, seen=seen):
                seen.append(args[2])

            sa.event.listen(db.engine, "before_cursor_execute", record)
            answers[kind] = answer(subscribe(client, f"{kind}@example.com"))
            sa.event.remove(db.engine, "before_cursor_execute", record)
            statements[kind] = seen

    assert answers["new"][0] == 202
    assert answers["new"] == answers["pending"] == answers["confirmed"] == answers["unsubscribed"]
    # The same statements, in the same order, whether a confirmation goes out or not.
    assert statements["new"] == statements["pending"] == statements["confirmed"] == \
        statements["unsubscribed"]
    deliver(app)
    assert sorted(message["To"] for message in smtp_server.received) == [
        "new@example.com", "pending@example.com", "unsubscribed@example.com"]


def test_a_confirmed_subscriber_is_left_as_they_are(client, app, smtp_server, admin, clock):
    message = signed_up(client, app, smtp_server, name="Ada", source="footer")
    client.post(confirm_path(message), content_type=FORM)
    before = subscriber(client, admin)
    clock.advance(days=1)

    assert subscribe(client, name="Mallory", source="elsewhere").status_code == 202
    assert subscribe(client, "ADA@example.com").status_code == 202

    deliver(app)
    assert len(smtp_server.received) == 1
    assert subscriber(client, admin) == before


def test_an_unsubscribed_address_that_signs_up_again_starts_over(
        client, app, smtp_server, admin, clock):
    first = signed_up(client, app, smtp_server, name="Ada", source="sidebar")
    client.post(confirm_path(first), content_type=FORM)
    client.post(unsubscribe_path(first), content_type=FORM)
    assert subscriber(client, admin)["status"] == "unsubscribed"
    clock.advance(days=3)

    second = signed_up(client, app, smtp_server, source="footer")
    # Until the new link is used, the record stays as it was (issue 10: a signup in someone
    # else's name changes nothing of theirs).
    assert subscriber(client, admin)["status"] == "unsubscribed"
    assert subscriber(client, admin)["source"] == "sidebar"
    client.post(confirm_path(second), content_type=FORM)

    record = subscriber(client, admin)
    assert record["status"] == "confirmed"
    assert record["source"] == "footer" and record["name"] is None
    assert record["signed_up_at"] == "2026-11-30T08:00:00Z"
    assert record["confirmed_at"] == "2026-11-30T08:00:00Z"
    assert record["unsubscribed_at"] is None
    assert record["created_at"] == "2026-11-27T08:00:00Z"


@pytest.mark.parametrize("resend_seconds", [600, 60])
def test_one_confirmation_email_per_address_per_resend_period(
        newsletter_app, smtp_server, clock, resend_seconds):
    app = newsletter_app(CONFIRM_RESEND_SECONDS=resend_seconds)
    client = app.test_client()
    for address in ("ada@example.com", "ADA@example.com", "ada@EXAMPLE.com"):
        assert subscribe(client, address).status_code == 202
    clock.advance(seconds=resend_seconds - 1)
    assert subscribe(client).status_code == 202
    deliver(app)
    assert len(smtp_server.received) == 1

    clock.advance(seconds=1)
    assert subscribe(client).status_code == 202
    deliver(app)

    first, second = smtp_server.received
    assert confirm_path(first) != confirm_path(second)
    # Either link confirms: the first one has not expired.
    assert client.post(confirm_path(first), content_type=FORM).status_code == 200


@pytest.mark.postgres
def test_signups_of_one_address_racing_each_other_send_one_email(app, smtp_server):
    statuses = race(app, lambda client, _: subscribe(client, "ada@example.com").status_code, 8)

    assert statuses == [202] * 8
    deliver(app)
    assert len(smtp_server.received) == 1
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Subscriber)) == 1


# --- A big night: one mail domain's throttle ------------------------------------------------

def delayed_confirmations() -> float:
    return REGISTRY.get_sample_value("engagement_newsletter_confirmations_delayed_total") or 0


def test_a_burst_past_a_domains_limit_gets_every_confirmation_later(
        newsletter_app, smtp_server, clock, caplog):
    app = newsletter_app(LIMIT_MAIL_DOMAIN="3/hour", CONFIRM_TOKEN_TTL_SECONDS=3600)
    client = app.test_client()
    readers = [f"reader{n}@mail.example" for n in range(8)]
    delayed_before = delayed_confirmations()

    with caplog.at_level("INFO", logger="engagement"):
        for n, address in enumerate(readers):
            answer = client.post(SUBSCRIBE, json={"email": address, "consent": True},
                                 environ_base={"REMOTE_ADDR": f"198.51.100.{n + 1}"})
            assert answer.status_code == 202
    assert deliver(app) == "sent 3, retrying 0, failed 0"
    clock.advance(minutes=59)
    assert deliver(app) == "sent 0, retrying 0, failed 0"
    clock.advance(minutes=1)
    assert deliver(app) == "sent 3, retrying 0, failed 0"
    clock.advance(hours=1)
    assert deliver(app) == "sent 2, retrying 0, failed 0"

    assert sorted(message["To"] for message in smtp_server.received) == sorted(readers)
    warned = [record for record in caplog.records
              if record.levelname == "WARNING" and "mail.example" in record.getMessage()]
    assert len(warned) == 1 and "ENGAGEMENT_LIMIT_MAIL_DOMAIN" in warned[0].getMessage()
    assert delayed_confirmations() - delayed_before == 5
    # The last one left two hours after its signup: its link works for its whole hour.
    last = smtp_server.received[-1]
    clock.advance(minutes=59)
    assert client.post(CONFIRM, json={"token": token_of(confirm_path(last))}).json == {
        "status": "confirmed"}


def test_one_mailbox_signed_up_again_and_again_is_told_at_info(newsletter_app, smtp_server,
                                                                caplog):
    app = newsletter_app(LIMIT_MAILBOX="2/hour")
    client = app.test_client()

    with caplog.at_level("INFO", logger="engagement"):
        for n in range(3):
            client.post(SUBSCRIBE, json={"email": f"victim+{n}@mail.example", "consent": True},
                        environ_base={"REMOTE_ADDR": f"198.51.100.{n + 1}"})
    deliver(app)

    assert len(smtp_server.received) == 2
    (told,) = [record for record in caplog.records if "ENGAGEMENT_LIMIT_MAILBOX" in
               record.getMessage()]
    assert told.levelname == "INFO" and "victim" not in told.getMessage()


# --- Bad input ------------------------------------------------------------------------------

@pytest.mark.parametrize("body, field", [
    ({"email": "ada@example.com"}, "consent"),
    ({"email": "ada@example.com", "consent": False}, "consent"),
    ({"email": "ada@example.com", "consent": None}, "consent"),
    ({"email": "ada@example.com", "consent": "true"}, "consent"),
    ({"email": "ada@example.com", "consent": 1}, "consent"),
    ({"email": "ada@example.com", "consent": [True]}, "consent"),
    ({"consent": True}, "email"),
    ({"email": "", "consent": True}, "email"),
    ({"email": None, "consent": True}, "email"),
    ({"email": "not-an-email", "consent": True}, "email"),
    ({"email": "ada@", "consent": True}, "email"),
    ({"email": "a" * 310 + "@example.com", "consent": True}, "email"),
    ({"email": "ada\u0000@example.com", "consent": True}, "email"),
    ({"email": ["ada@example.com"], "consent": True}, "email"),
    ({"email": "ada@example.com", "consent": True, "name": "A" * 81}, "name"),
    ({"email": "ada@example.com", "consent": True, "name": "Ada\nLovelace"}, "name"),
    ({"email": "ada@example.com", "consent": True, "name": 7}, "name"),
    ({"email": "ada@example.com", "consent": True, "source": "s" * 65}, "source"),
    ({"email": "ada@example.com", "consent": True, "source": "a\u0000"}, "source"),
    ({"email": "ada@example.com", "consent": True, "admin": True}, "admin"),
])
def test_bad_signups_are_refused_and_change_nothing(client, app, smtp_server, body, field):
    response = client.post(SUBSCRIBE, json=body)

    assert response.status_code == 422
    assert response.json["reason"] == "validation"
    assert field in response.json["errors"]["json"]
    deliver(app)
    assert smtp_server.received == []
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Subscriber)) == 0


def test_a_blank_name_or_source_is_none(client, admin):
    assert subscribe(client, name="  ", source="").status_code == 202

    record = subscriber(client, admin)
    assert record["name"] is None and record["source"] is None


@pytest.mark.parametrize("path", [SUBSCRIBE, CONFIRM, UNSUBSCRIBE])
def test_the_api_takes_json_only(client, path):
    response = client.post(path, data="email=ada%40example.com&consent=true", content_type=FORM)

    assert response.status_code == 415
    assert response.json["reason"] == "unsupported_media_type"


@pytest.mark.parametrize("path", [CONFIRM, UNSUBSCRIBE])
@pytest.mark.parametrize("body", [{}, {"token": ""}, {"token": None}, {"token": 5},
                                  {"token": "t" * 201}, {"token": "x", "extra": 1}])
def test_bad_token_bodies_are_refused(client, path, body):
    response = client.post(path, json=body)

    assert response.status_code == 422
    assert response.json["reason"] == "validation"


def test_signups_are_rate_limited_per_client(newsletter_app):
    client = newsletter_app(LIMIT_SUBSCRIPTIONS="2/hour").test_client()

    statuses = [subscribe(client, f"reader{n}@example.com").status_code for n in range(3)]

    assert statuses == [202, 202, 429]
    limited = subscribe(client, "reader9@example.com")
    assert limited.json["reason"] == "rate_limited" and "Retry-After" in limited.headers


# --- Tokens ---------------------------------------------------------------------------------

@pytest.mark.parametrize("path", [CONFIRM, UNSUBSCRIBE])
def test_an_unknown_token_is_not_found(client, path):
    response = client.post(path, json={"token": "no-such-token"})

    assert response.status_code == 404
    assert response.json["reason"] == "invalid_token"


@pytest.mark.parametrize("path", ["/newsletter/confirm", "/newsletter/unsubscribe"])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_page_with_an_unknown_token_says_the_link_does_not_work(client, path, method):
    response = client.open(f"{path}?token=no-such-token", method=method)

    assert response.status_code == 404
    assert "This link does not work" in response.get_data(as_text=True)
    assert client.get(path).status_code == 404  # no token at all


def test_a_confirmation_link_expires(client, app, smtp_server, admin, clock):
    link = confirm_path(signed_up(client, app, smtp_server))

    clock.advance(seconds=172800 - 1)
    assert client.get(link).status_code == 200
    clock.advance(seconds=1)

    expired = client.post(CONFIRM, json={"token": token_of(link)})
    assert expired.status_code == 410
    assert expired.json["reason"] == "token_expired"
    assert client.get(link).status_code == 410
    page = client.post(link, content_type=FORM)
    assert page.status_code == 410 and "expired" in page.get_data(as_text=True)
    assert subscriber(client, admin)["status"] == "pending"


def test_the_time_to_confirm_is_configurable(newsletter_app, smtp_server, clock):
    app = newsletter_app(CONFIRM_TOKEN_TTL_SECONDS=3600)
    client = app.test_client()
    message = signed_up(client, app, smtp_server)
    assert "The link works for 1 hours" in text_of(message)

    clock.advance(hours=1)
    assert client.post(CONFIRM, json={"token": token_of(confirm_path(message))}).status_code == 410


def test_tokens_are_random_and_stored_only_as_hashes(client, app, smtp_server):
    message = signed_up(client, app, smtp_server)
    tokens = [token_of(confirm_path(message)), token_of(unsubscribe_path(message))]

    with app.app_context():
        stored = db.session.scalars(sa.select(SubscriberToken)).all()
        (subscriber_id,) = db.session.scalars(sa.select(Subscriber.id)).all()
        everything = dump_database()
    assert sorted(row.token_hash for row in stored) == sorted(
        hashlib.sha256(token.encode()).hexdigest() for token in tokens)
    assert {row.purpose.value for row in stored} == {"confirm", "unsubscribe"}
    for token in tokens:
        assert len(token) >= 40 and token not in everything
        assert str(subscriber_id) != token


def test_a_token_is_good_for_its_own_purpose_only(client, app, smtp_server, admin):
    message = signed_up(client, app, smtp_server)

    assert client.post(CONFIRM, json={"token": token_of(unsubscribe_path(message))}
                       ).status_code == 404
    assert client.post(UNSUBSCRIBE, json={"token": token_of(confirm_path(message))}
                       ).status_code == 404
    assert subscriber(client, admin)["status"] == "pending"


# --- Links that scanners open ---------------------------------------------------------------

def test_opening_the_links_confirms_and_unsubscribes_nobody(client, app, smtp_server, admin):
    message = signed_up(client, app, smtp_server)
    for path in (confirm_path(message), unsubscribe_path(message)):
        for _ in range(3):
            assert client.get(path).status_code == 200
        assert client.head(path).status_code == 200
    assert subscriber(client, admin)["status"] == "pending"

    client.post(confirm_path(message), content_type=FORM)
    client.get(unsubscribe_path(message))
    assert subscriber(client, admin)["status"] == "confirmed"


def test_the_pages_keep_their_token_to_themselves(client, app, smtp_server):
    message = signed_up(client, app, smtp_server)

    for path in (confirm_path(message), unsubscribe_path(message)):
        page = client.get(path, headers={"Host": "evil.example"})
        assert page.cache_control.no_store and not page.cache_control.public
        assert "ETag" not in page.headers
        assert page.headers["Referrer-Policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
        assert "<script" not in page.get_data(as_text=True)
        assert "evil.example" not in page.get_data(as_text=True)


@pytest.mark.parametrize(("settings", "name"), [
    ({"SITE_NAME": "The Daily Example"}, "The Daily Example"),
    ({}, "news.example.com"),  # unnamed: the host of the public base URL
])
def test_the_pages_name_the_publication(newsletter_app, smtp_server, settings, name):
    app = newsletter_app(**settings)
    client = app.test_client()
    message = signed_up(client, app, smtp_server)

    for path in (confirm_path(message), unsubscribe_path(message)):
        for answer in (client.get(path), client.post(path, content_type=FORM)):
            html = answer.get_data(as_text=True)
            assert re.search(rf"<title>[^<]* · {re.escape(name)}</title>", html), html
            assert f"<h1>{name}</h1>" in html, html


@pytest.mark.parametrize(("lang", "subject", "words", "direction"), [
    (None, "The Daily Example: please confirm your subscription",
     "asked to receive the newsletter of The Daily Example", "ltr"),
    ("fr-CA", "The Daily Example : confirmez votre abonnement",
     "la lettre d’information de The Daily Example", "ltr"),
    ("de", "The Daily Example: Bitte bestätigen Sie Ihr Abonnement",
     "den Newsletter von The Daily Example", "ltr"),
    ("es", "The Daily Example: confirma tu suscripción",
     "el boletín de The Daily Example", "ltr"),
    ("ar", "The Daily Example: يرجى تأكيد اشتراكك", "النشرة الإخبارية من The Daily Example",
     "rtl"),
    ("so", "The Daily Example: fadlan xaqiiji isdiiwaangelintaada",
     "wargeyska The Daily Example", "ltr"),
    ("xx", "The Daily Example: please confirm your subscription",
     "asked to receive the newsletter of The Daily Example", "ltr"),
])
def test_the_confirmation_names_the_publication_in_the_readers_language(
        newsletter_app, smtp_server, lang, subject, words, direction):
    app = newsletter_app(SITE_NAME="The Daily Example")
    client = app.test_client()
    message = signed_up(client, app, smtp_server, **({"lang": lang} if lang else {}))

    assert message["Subject"] == subject
    text, page = text_of(message), message.get_body(("html",)).get_content()
    assert words in text
    assert f'dir="{direction}"' in page and words in page
    # Both parts carry both links; the confirmation link is the one the page's button uses.
    for part in (text, page):
        assert f"{BASE}{confirm_path(message)}" in part.replace("&amp;", "&")
        assert f"{BASE}{unsubscribe_path(message)}" in part.replace("&amp;", "&")


def test_the_confirmation_ships_in_every_language_of_reply_emails():
    for lang, words in newsletter_texts.TEXTS.items():
        assert set(words) == set(newsletter_texts.TEXTS["en"]), lang
        for key, text in words.items():
            assert set(re.findall(r"\{\w+\}", text)) == set(
                re.findall(r"\{\w+\}", newsletter_texts.TEXTS["en"][key])), (lang, key)
    assert set(newsletter_texts.TEXTS) == set(LANGUAGES)


@pytest.mark.parametrize("lang", ["<script>", "x" * 40, 7, "fr\nBcc: x"])
def test_a_bad_language_is_refused(client, app, smtp_server, lang):
    assert subscribe(client, lang=lang).status_code == 422
    deliver(app)
    assert smtp_server.received == []


def test_a_token_in_a_page_is_escaped(client):
    response = client.get('/newsletter/confirm?token="><script>alert(1)</script>')

    assert response.status_code == 404
    assert "<script>" not in response.get_data(as_text=True)


# --- The pages speak the email's language ---------------------------------------------------

def page_of(response) -> tuple[str, str, str]:
    """A link page's language, direction and text (markup and the publication's name aside)."""
    html = response.get_data(as_text=True)
    found = re.search(r'<html lang="([^"]*)" dir="([^"]*)">', html)
    assert found, html
    body = html[html.index("</h1>"):]
    return found.group(1), found.group(2), markup.unescape(re.sub(r"<[^>]*>", " ", body))


def press(client, path: str):
    """Open an emailed link and press its page's button, as a browser would: the form posts
    its hidden fields to the page's own address."""
    page = client.get(path).get_data(as_text=True)
    assert '<form method="post">' in page, page
    fields = {markup.unescape(name): markup.unescape(value) for name, value in
              re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)">', page)}
    return client.post(path, data=fields, content_type=FORM)


def without_language(path: str) -> str:
    """An emailed link as those written before links carried their language."""
    assert re.search(r"&lang=\w+$", path), path
    return re.sub(r"&lang=\w+$", "", path)


def with_language(path: str, lang: str) -> str:
    return f"{without_language(path)}&{urlencode({'lang': lang})}"


@pytest.mark.parametrize(("lang", "page_lang", "direction", "words"), [
    ("fr", "fr", "ltr", {
        "confirm": ("Confirmez votre abonnement", "Confirmer"),
        "confirmed": "Merci : votre abonnement est confirmé.",
        "unsubscribe": ("Appuyez sur le bouton pour ne plus recevoir", "Me désabonner"),
        "unsubscribed": "Vous ne recevrez plus notre lettre d’information."}),
    ("ar-EG", "ar", "rtl", {
        "confirm": ("أكّد اشتراكك", "تأكيد"),
        "confirmed": "شكرًا لك: تم تأكيد اشتراكك.",
        "unsubscribe": ("اضغط الزر لإيقاف تلقي نشرتنا الإخبارية.", "إلغاء الاشتراك"),
        "unsubscribed": "لن تصلك نشرتنا الإخبارية بعد الآن."}),
])
def test_the_emailed_links_open_pages_in_the_emails_language(
        client, app, smtp_server, admin, lang, page_lang, direction, words):
    message = signed_up(client, app, smtp_server, lang=lang)
    assert f"&lang={page_lang}" in confirm_path(message)
    assert f"&lang={page_lang}" in unsubscribe_path(message)  # List-Unsubscribe too

    title, button = words["confirm"]
    shown = page_of(client.get(confirm_path(message)))
    assert shown[:2] == (page_lang, direction) and title in shown[2] and button in shown[2]
    assert "Confirm your subscription" not in shown[2]
    done = press(client, confirm_path(message))
    assert done.status_code == 200
    assert page_of(done)[:2] == (page_lang, direction) and words["confirmed"] in page_of(done)[2]
    assert subscriber(client, admin)["status"] == "confirmed"
    again = page_of(client.get(confirm_path(message)))  # opened again: subscribed, still
    assert again[:2] == (page_lang, direction) and words["confirmed"] in again[2]

    text, button = words["unsubscribe"]
    shown = page_of(client.get(unsubscribe_path(message)))
    assert shown[:2] == (page_lang, direction) and text in shown[2] and button in shown[2]
    done = press(client, unsubscribe_path(message))
    assert page_of(done)[:2] == (page_lang, direction) and words["unsubscribed"] in page_of(done)[2]
    assert subscriber(client, admin)["status"] == "unsubscribed"


def test_the_pages_ship_in_every_language_of_the_emails(client):
    english = newsletter_texts.PAGE_TEXTS["en"]
    for lang, pages in newsletter_texts.PAGE_TEXTS.items():
        assert set(pages) == set(english), lang
        assert {kind for kind, words in pages.items() if words[2]} == {
            kind for kind, words in english.items() if words[2]}, lang  # the same buttons
        shown = page_of(client.get(f"/newsletter/confirm?token=unknown&lang={lang}"))
        assert shown[0] == lang and pages["unknown"][0] in shown[2]
        assert shown[1] == ("rtl" if lang == "ar" else "ltr")
    assert set(newsletter_texts.PAGE_TEXTS) == set(LANGUAGES)


@pytest.mark.parametrize(("lang", "page_lang"), [
    ("xx", "en"), ("", "en"), ("EN", "en"), ("<script>alert(1)</script>", "en"),
    ('fr" onmouseover="alert(1)', "en"), ("ar-<script>", "ar"), ("de_AT", "de"),
    ("fr" * 200, "en"),
])
def test_a_link_with_another_language_gets_a_shipped_one_and_nothing_else(
        client, app, smtp_server, admin, lang, page_lang):
    message = signed_up(client, app, smtp_server, lang="fr")
    link = with_language(confirm_path(message), lang)

    for answer in (client.get(link), press(client, link)):
        assert answer.status_code == 200
        assert page_of(answer)[0] == page_lang
        html = answer.get_data(as_text=True)
        assert "<script>" not in html and "onmouseover" not in html
        assert 'name="lang" value' not in html or f'name="lang" value="{page_lang}"' in html
    assert subscriber(client, admin)["status"] == "confirmed"


def test_a_link_written_before_links_carried_a_language_works_in_english(
        client, app, smtp_server, admin):
    message = signed_up(client, app, smtp_server, lang="fr")
    confirm, unsubscribe = without_language(confirm_path(message)), without_language(
        unsubscribe_path(message))

    shown = page_of(client.get(confirm))
    assert shown[:2] == ("en", "ltr") and "Confirm your subscription" in shown[2]
    assert "your subscription is confirmed" in page_of(press(client, confirm))[2]
    assert subscriber(client, admin)["status"] == "confirmed"
    assert "Press the button to stop" in page_of(client.get(unsubscribe))[2]
    one_click = client.post(unsubscribe, data={"List-Unsubscribe": "One-Click"},
                            content_type=FORM)
    assert one_click.status_code == 200
    assert page_of(one_click)[:2] == ("en", "ltr")
    assert "You will not receive our newsletter" in page_of(one_click)[2]
    assert subscriber(client, admin)["status"] == "unsubscribed"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_expired_and_unknown_links_say_so_in_the_links_language(
        client, app, smtp_server, clock, method):
    message = signed_up(client, app, smtp_server, lang="fr")

    clock.advance(seconds=172800)
    expired = client.open(confirm_path(message), method=method, content_type=FORM)
    assert expired.status_code == 410
    assert page_of(expired)[:2] == ("fr", "ltr") and "Ce lien a expiré" in page_of(expired)[2]
    clock.advance(days=366)
    old = client.open(unsubscribe_path(message), method=method, content_type=FORM)
    assert old.status_code == 410
    assert "Ce lien de désabonnement est trop ancien" in page_of(old)[2]
    for path in ("/newsletter/confirm", "/newsletter/unsubscribe"):
        unknown = client.open(f"{path}?token=nonsense&lang=ar", method=method,
                              content_type=FORM)
        assert unknown.status_code == 404
        assert page_of(unknown)[:2] == ("ar", "rtl")
        assert "هذا الرابط لا يعمل" in page_of(unknown)[2]


def test_a_confirmed_url_is_left_as_it_is_set_whatever_the_language(
        newsletter_app, smtp_server, clock):
    app = newsletter_app(NEWSLETTER_CONFIRMED_URL="https://news.example.com/thanks")
    client = app.test_client()
    link = confirm_path(signed_up(client, app, smtp_server, lang="ar"))

    response = press(client, link)
    assert response.status_code == 303
    assert response.headers["Location"] == "https://news.example.com/thanks"
    clock.advance(seconds=172800)  # a page, not the site's, still speaks the link's language
    assert page_of(client.post(link, content_type=FORM))[:2] == ("ar", "rtl")


# --- Unsubscribing --------------------------------------------------------------------------

def test_every_email_carries_a_one_click_unsubscribe(client, app, smtp_server):
    client.post(SUBSCRIBE, json={"email": "ada@example.com", "consent": True},
                headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"})
    deliver(app)

    (message,) = smtp_server.received
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Unsubscribe"].startswith(f"<{BASE}/newsletter/unsubscribe?token=")
    assert f"{BASE}/newsletter/unsubscribe?token=" in text_of(message)
    assert "evil.example" not in message.as_string()


def test_one_click_unsubscribe_from_the_header(client, app, smtp_server, admin, clock):
    message = signed_up(client, app, smtp_server)
    client.post(confirm_path(message), content_type=FORM)
    clock.advance(days=30)

    # What a mail program sends (RFC 8058): a form POST to the header's URL.
    response = client.post(unsubscribe_path(message), data="List-Unsubscribe=One-Click",
                           content_type=FORM)

    assert response.status_code == 200
    assert "You are unsubscribed" in response.get_data(as_text=True)
    record = subscriber(client, admin)
    assert record["status"] == "unsubscribed"
    assert record["unsubscribed_at"] == "2026-12-27T08:00:00Z"
    # Again is fine (a mail program may retry), and changes nothing.
    clock.advance(days=1)
    assert client.post(unsubscribe_path(message), data="List-Unsubscribe=One-Click",
                       content_type=FORM).status_code == 200
    assert subscriber(client, admin)["unsubscribed_at"] == "2026-12-27T08:00:00Z"


def test_the_unsubscribe_page_shows_a_button_that_posts_one_click(client, app, smtp_server):
    path = unsubscribe_path(signed_up(client, app, smtp_server))

    html = client.get(path).get_data(as_text=True)

    assert '<form method="post">' in html
    assert 'name="List-Unsubscribe" value="One-Click"' in html
    assert "<button" in html


def test_unsubscribing_through_the_api_voids_the_confirmation_link(
        client, app, smtp_server, admin):
    message = signed_up(client, app, smtp_server)

    response = client.post(UNSUBSCRIBE, json={"token": token_of(unsubscribe_path(message))})

    assert response.status_code == 200
    assert response.json == {"status": "unsubscribed"}
    assert client.post(confirm_path(message), content_type=FORM).status_code == 404
    assert subscriber(client, admin)["status"] == "unsubscribed"


def test_a_used_confirmation_link_cannot_subscribe_again_after_unsubscribing(
        client, app, smtp_server, admin):
    message = signed_up(client, app, smtp_server)
    client.post(confirm_path(message), data={"token": token_of(confirm_path(message))},
                content_type=FORM)
    client.post(unsubscribe_path(message), content_type=FORM)

    again = client.post(confirm_path(message), data={"token": token_of(confirm_path(message))},
                        content_type=FORM)

    assert again.status_code == 404
    assert subscriber(client, admin)["status"] == "unsubscribed"


def test_unsubscribing_cancels_mail_not_sent_yet(client, app, smtp_server):
    first = signed_up(client, app, smtp_server)
    client.post(UNSUBSCRIBE, json={"token": token_of(unsubscribe_path(first))})

    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


# --- The admins' side -----------------------------------------------------------------------

@pytest.mark.parametrize("method, path", [
    ("GET", SUBSCRIBERS), ("GET", f"{SUBSCRIBERS}.csv"), ("DELETE", f"{SUBSCRIBERS}/1"),
])
def test_subscribers_are_for_the_admin_role_only(client, app, method, path):
    moderator = {"Authorization": f"Bearer {make_token(app, 'mod', 'moderator')}"}
    subscribe(client)

    refused = client.open(path, method=method, headers=moderator)
    assert refused.status_code == 403
    assert refused.json["reason"] == "forbidden"
    anonymous = client.open(path, method=method)
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Subscriber)) == 1


def test_subscribers_are_listed_by_status_newest_first(client, app, smtp_server, admin):
    for index in range(3):
        signed_up(client, app, smtp_server, f"reader{index}@example.com")
    client.post(confirm_path(mail_to(smtp_server, "reader1@example.com")[0]), content_type=FORM)

    everyone = client.get(f"{SUBSCRIBERS}?limit=2", headers=admin)
    assert everyone.status_code == 200
    assert everyone.cache_control.no_store
    assert [item["email"] for item in everyone.json["items"]] == [
        "reader2@example.com", "reader1@example.com"]
    assert everyone.json["total"] == 3
    rest = client.get(f"{SUBSCRIBERS}?limit=2&cursor={everyone.json['next_cursor']}",
                      headers=admin).json
    assert [item["email"] for item in rest["items"]] == ["reader0@example.com"]
    assert rest["next_cursor"] is None

    confirmed = client.get(f"{SUBSCRIBERS}?status=confirmed", headers=admin).json
    assert [item["email"] for item in confirmed["items"]] == ["reader1@example.com"]
    pending = client.get(f"{SUBSCRIBERS}?status=pending", headers=admin).json
    assert pending["total"] == 2


@pytest.mark.parametrize("query", ["status=active", "limit=0", "limit=101", "cursor=%%%"])
def test_bad_listing_queries_are_refused(client, admin, query):
    response = client.get(f"{SUBSCRIBERS}?{query}", headers=admin)

    assert response.status_code == 422


@pytest.mark.parametrize("text, safe", [
    ("=HYPERLINK(\"https://evil.example\")", "'=HYPERLINK(\"https://evil.example\")"),
    ("+1", "'+1"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("Ada", "Ada"), ("a=b", "a=b"), ("", ""), (None, ""),
])
def test_csv_cells_a_spreadsheet_would_run_are_neutralised(text, safe):
    assert csv_cell(text) == safe


def test_the_csv_export_lists_everyone_with_formulas_neutralised(client, admin, app):
    subscribe(client, "=cmd@example.com", name="=1+1", source="@sidebar")
    subscribe(client, "+sum@example.com", name="-Ada")
    subscribe(client, "plain@example.com", name="Grace, \"the\" Admiral")

    response = client.get(f"{SUBSCRIBERS}.csv", headers=admin)

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.cache_control.no_store
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [row["email"] for row in rows] == [
        "'=cmd@example.com", "'+sum@example.com", "plain@example.com"]
    assert [row["name"] for row in rows] == ["'=1+1", "'-Ada", "Grace, \"the\" Admiral"]
    assert rows[0]["source"] == "'@sidebar"
    assert rows[0]["status"] == "pending"
    assert rows[0]["consent_version"] == "2026-11"
    assert rows[0]["signed_up_at"] == "2026-11-27T08:00:00Z"
    only_confirmed = client.get(f"{SUBSCRIBERS}.csv?status=confirmed", headers=admin)
    assert only_confirmed.get_data(as_text=True).count("\n") == 1  # the header row
    audit = client.get("/api/v1/admin/audit", headers=admin).json["items"]
    assert [entry["action"] for entry in audit[:2]] == ["newsletter.export"] * 2


def dump_database() -> str:
    """Every value of every row of every table, as text."""
    values = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(sa.select(table)):
            values.extend(str(value) for value in row)
    return "\n".join(values)


def test_erasure_leaves_nothing_of_the_address(client, app, smtp_server, admin, clock):
    first = signed_up(client, app, smtp_server, "ada@example.com", name="Ada Lovelace",
                      source="sidebar")
    client.post(confirm_path(first), content_type=FORM)
    client.post(unsubscribe_path(first), content_type=FORM)
    signed_up(client, app, smtp_server, "grace@example.com")
    clock.advance(days=1)
    subscribe(client, "ada@example.com", name="Ada Lovelace")  # a message waits in the outbox
    sid = subscriber(client, admin)["id"]
    with app.app_context():
        queued = db.session.scalars(sa.select(OutboxMessage.subscriber_id)).all()
        assert queued == [sid]

    response = client.delete(f"{SUBSCRIBERS}/{sid}", headers=admin)

    assert response.status_code == 204
    with app.app_context():
        everything = dump_database()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SubscriberToken).where(
            SubscriberToken.subscriber_id == sid)) == 0
        entry = db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action == "newsletter.erase")).one()
    for trace in ("ada@example.com", "Ada Lovelace", "sidebar"):
        assert trace not in everything
    assert "grace@example.com" in everything
    assert entry.target == f"subscriber:{sid}" and entry.actor == "root"
    assert subscriber(client, admin) is None
    assert client.post(unsubscribe_path(first), content_type=FORM).status_code == 404
    assert client.delete(f"{SUBSCRIBERS}/{sid}", headers=admin).status_code == 404
    deliver(app)
    assert mail_to(smtp_server, "ada@example.com") == [first]  # the queued one never left


def test_an_erased_address_may_sign_up_again_as_new(client, app, smtp_server, admin, clock):
    signed_up(client, app, smtp_server)
    client.delete(f"{SUBSCRIBERS}/{subscriber(client, admin)['id']}", headers=admin)

    # The resend throttle went with the address: the new signup is mailed at once.
    signed_up(client, app, smtp_server)

    assert len(mail_to(smtp_server, "ada@example.com")) == 2
    assert subscriber(client, admin)["status"] == "pending"


# --- The contract in the OpenAPI document ---------------------------------------------------

def test_openapi_documents_the_newsletter(client):
    spec = client.get("/api/v1/openapi.json").json
    paths = spec["paths"]

    assert "202" in paths[SUBSCRIBE]["post"]["responses"]
    assert {"404", "410"} <= set(paths[CONFIRM]["post"]["responses"])
    assert "post" in paths[UNSUBSCRIBE]
    assert {"get"} <= set(paths[SUBSCRIBERS])
    assert "text/csv" in paths[f"{SUBSCRIBERS}.csv"]["get"]["responses"]["200"]["content"]
    assert "delete" in paths[SUBSCRIBERS + "/{subscriber_id}"]
    subscription_in = spec["components"]["schemas"]["SubscriptionIn"]
    assert set(subscription_in["required"]) == {"email", "consent"}
    assert "email" not in spec["components"]["schemas"]["SubscriptionOut"]["properties"]

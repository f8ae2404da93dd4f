"""Moderator alerts against a real SMTP server (aiosmtpd) and a real HTTP receiver (a threaded
http.server in the test): digests per moderator and window, the signed webhook per chosen
event, retries while the receiver is down with nothing lost or sent twice, and two deliverer
processes sending each message once."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa

from engagement import create_app
from engagement.config import ConfigError
from engagement.extensions import db
from engagement.mail import delivery
from engagement.mail.models import OutboxMessage, OutboxStatus
from tests.conftest import TEST_SECRET, comment_fields, deliver, make_token
from tests.live import free_port

BASE = "https://news.example.com/engagement"
COMMENTS = "/api/v1/articles/an-article/comments"
SECRET = "webhook-secret"
DIGEST = 300
DATABASES = [pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)]


class Receiver:
    """A webhook receiver: a real HTTP server in a thread of the test, keeping every POST. It
    may start late (or stop and start again) on the same port, and answer with any status."""

    def __init__(self):
        self.port = free_port()
        self.posts: list[tuple[dict, bytes]] = []  # answered 200
        self.bodies: list[bytes] = []  # every POST, whatever the answer
        self.gets: list[str] = []
        self.arrived = 0  # POSTs that came in, answered or not yet
        self.status = 200
        self.location: str | None = None  # sent with the status
        self.delay = 0.0
        self.garbled = False  # answers with a line that is no HTTP
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/moderation"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.arrived += 1
                receiver.bodies.append(body)
                time.sleep(receiver.delay)
                if receiver.garbled:
                    self.wfile.write(b"GARBAGE\r\n\r\n")
                    return
                if receiver.status == 200:
                    receiver.posts.append((dict(self.headers), body))
                self.send_response(receiver.status)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def do_GET(self):
                receiver.gets.append(self.path)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def events(self) -> list[dict]:
        return [json.loads(body) for _, body in self.posts]


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def stopped_receiver():
    server = Receiver()
    yield server
    server.stop()


@pytest.fixture
def alert_app(make_app, smtp_server):
    def make(**settings):
        return make_app(MAIL_URL=smtp_server.url, MAIL_BACKGROUND=False, PUBLIC_BASE_URL=BASE,
                        SITE_NAME="The Daily Example", BLOCKED_WORDS=["casino"],
                        FLAG_THRESHOLD=1, WEBHOOK_SECRET=SECRET, **settings)

    return make


def post(client, **fields):
    response = client.post(COMMENTS, json=comment_fields(**fields))
    assert response.status_code == 201, response.json
    return response.json


def titled(app):
    moderator = {"Authorization": f"Bearer {make_token(app)}"}
    app.test_client().put("/api/v1/admin/articles/an-article", headers=moderator, json={
        "title": "Rain in Spain", "url": "https://news.example.com/rain-in-spain"})


# --- Digests ------------------------------------------------------------------------------------

def test_moderators_get_one_digest_per_window_listing_held_and_flagged_comments(
        alert_app, smtp_server, clock):
    app = alert_app(MODERATOR_EMAILS=["mod1@example.com", "Mod2@example.com"],
                    MODERATOR_DIGEST_SECONDS=DIGEST)
    titled(app)
    client = app.test_client()
    held = [post(client, body=f"Best casino number {n}")["comment"]["id"] for n in range(2)]
    published = post(client, body="A fine comment")["comment"]["id"]
    clock.advance(seconds=60)
    client.post(f"/api/v1/comments/{published}/flags", json={"reason": "abuse"})
    assert deliver(app) == "sent 0, retrying 0, failed 0"

    clock.advance(seconds=DIGEST)
    assert deliver(app) == "sent 2, retrying 0, failed 0"

    assert sorted(message["To"] for message in smtp_server.received) == [
        "Mod2@example.com", "mod1@example.com"]
    for digest in smtp_server.received:
        assert digest["Subject"] == "The Daily Example: 3 comments need a moderator"
        text = digest.get_body(("plain",)).get_content()
        for comment_id in (*held, published):
            assert f"{BASE}/admin/?comment={comment_id}" in text
        assert text.count("Held for review: Ada on “Rain in Spain”") == 2
        assert "Hidden by readers' flags: Ada on “Rain in Spain”" in text
        assert "Best casino number 1" in text
        assert "Review in the console" in digest.get_body(("html",)).get_content()

    # The next held comment opens a new digest.
    post(client, body="casino again")
    clock.advance(seconds=DIGEST)
    deliver(app)
    assert len(smtp_server.received) == 4
    assert smtp_server.received[-1]["Subject"] == "The Daily Example: 1 comment needs a moderator"


def test_a_digest_lists_only_the_comments_still_waiting_when_it_is_sent(
        alert_app, smtp_server, clock):
    app = alert_app(MODERATOR_EMAILS=["mod@example.com"], MODERATOR_DIGEST_SECONDS=DIGEST)
    titled(app)
    client = app.test_client()
    moderator = {"Authorization": f"Bearer {make_token(app, name='decides')}"}
    approved = post(client, body="Best casino, approved meanwhile")["comment"]["id"]
    edited = post(client, body="casino, call 555-0100")
    waiting = post(client, body="Best casino still waiting")["comment"]["id"]
    clock.advance(seconds=60)
    client.patch(f"/api/v1/admin/comments/{approved}", headers=moderator,
                 json={"status": "approved"})
    client.patch(f"/api/v1/comments/{edited['comment']['id']}",
                 headers={"X-Edit-Token": edited["edit_token"]}, json={"body": "casino, later"})

    clock.advance(seconds=DIGEST)
    assert deliver(app) == "sent 1, retrying 0, failed 0"

    (digest,) = smtp_server.received
    assert digest["Subject"] == "The Daily Example: 2 comments need a moderator"
    text = digest.get_body(("plain",)).get_content()
    assert f"comment={waiting}" in text and "casino, later" in text
    assert f"comment={approved}" not in text and "555-0100" not in text

    # A digest whose every comment was decided before it was due is not sent.
    decided = post(client, body="casino once more")["comment"]["id"]
    client.patch(f"/api/v1/admin/comments/{decided}", headers=moderator,
                 json={"status": "rejected"})
    clock.advance(seconds=DIGEST)
    assert deliver(app) == "sent 0, retrying 0, failed 0"
    assert len(smtp_server.received) == 1


def test_a_moderator_removed_from_the_list_gets_no_digest_queued_before(
        alert_app, smtp_server, clock):
    before = alert_app(MODERATOR_EMAILS=["stays@example.com", "Leaves@example.com"],
                       MODERATOR_DIGEST_SECONDS=DIGEST)
    post(before.test_client(), body="Best casino")

    after = alert_app(MODERATOR_EMAILS=["STAYS@example.com"], MODERATOR_DIGEST_SECONDS=DIGEST)
    clock.advance(seconds=DIGEST)
    assert deliver(after) == "sent 1, retrying 0, failed 0"

    assert [message["To"] for message in smtp_server.received] == ["stays@example.com"]
    status = after.test_cli_runner().invoke(args=["outbox", "status"]).output
    assert status.split() == ["queued", "0", "failed", "0"]


@pytest.mark.parametrize("database", DATABASES)
def test_a_moderator_with_a_long_address_gets_the_digest(
        alert_app, smtp_server, clock, database):
    moderator = f"{'m' * 60}@moderators-of-the-daily-example.news.example"
    app = alert_app(MODERATOR_EMAILS=[moderator], MODERATOR_DIGEST_SECONDS=DIGEST)
    client = app.test_client()

    held = post(client, body="Best casino")["comment"]["id"]
    clock.advance(seconds=DIGEST)

    assert deliver(app) == "sent 1, retrying 0, failed 0"
    (digest,) = smtp_server.received
    assert digest["To"] == moderator
    assert f"{BASE}/admin/?comment={held}" in digest.get_body(("plain",)).get_content()


def test_without_moderator_emails_nobody_is_mailed(alert_app, smtp_server, clock):
    app = alert_app()
    post(app.test_client(), body="casino")
    clock.advance(seconds=DIGEST)

    assert deliver(app) == "sent 0, retrying 0, failed 0"


# --- The webhook --------------------------------------------------------------------------------

def test_a_held_comment_is_posted_signed_to_the_webhook(alert_app, receiver, clock):
    app = alert_app(MODERATION_WEBHOOK_URL=receiver.url)
    titled(app)
    client = app.test_client()
    held = post(client, author_name="Eve <b>&", body="My casino is **great**")

    assert deliver(app) == "sent 1, retrying 0, failed 0"

    ((headers, body),) = receiver.posts
    expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Engagement-Signature"] == f"sha256={expected}"
    assert headers["Content-Type"] == "application/json"
    event = json.loads(body)
    assert event["event"] == "comment.held"
    assert event["comment"]["id"] == held["comment"]["id"]
    assert event["comment"]["status"] == "pending"
    assert event["comment"]["author_email"] == "ada@example.com"
    assert event["comment"]["held_for"] == ["blocked_word"]
    assert event["comment"]["created_at"] == "2026-11-27T08:00:00Z"
    assert event["article"] == {"id": "an-article", "title": "Rain in Spain",
                                "url": "https://news.example.com/rain-in-spain"}
    # One line that Slack and Mattermost render: escaped text, <url|label> links.
    assert event["text"] == (
        "Held for review: Eve &lt;b&gt;&amp; on "
        "<https://news.example.com/rain-in-spain|Rain in Spain>: “My casino is great” "
        f"<{BASE}/admin/?comment={held['comment']['id']}|Review>")


def test_each_event_has_an_id_its_retries_keep_and_the_moment_it_happened(
        alert_app, receiver, clock):
    app = alert_app(MODERATION_WEBHOOK_URL=receiver.url)
    client = app.test_client()
    post(client, body="casino")
    receiver.status = 503
    deliver(app)
    receiver.status = 200
    clock.advance(seconds=30)
    deliver(app)
    post(client, body="casino two")
    deliver(app)

    first, retried, second = [json.loads(body) for body in receiver.bodies]
    assert retried["id"] == first["id"] != second["id"]
    assert len(first["id"]) == 32
    assert first["occurred_at"] == retried["occurred_at"] == "2026-11-27T08:00:00Z"
    assert second["occurred_at"] == "2026-11-27T08:00:30Z"


def test_a_signature_made_with_another_secret_does_not_verify(alert_app, receiver):
    app = alert_app(MODERATION_WEBHOOK_URL=receiver.url)
    post(app.test_client(), body="casino")
    deliver(app)

    ((headers, body),) = receiver.posts
    forged = hmac.new(b"another secret", body, hashlib.sha256).hexdigest()
    assert headers["X-Engagement-Signature"] != f"sha256={forged}"
    tampered = hmac.new(SECRET.encode(), body + b" ", hashlib.sha256).hexdigest()
    assert headers["X-Engagement-Signature"] != f"sha256={tampered}"


def test_the_webhook_takes_the_events_chosen(alert_app, receiver):
    default = alert_app(MODERATION_WEBHOOK_URL=receiver.url)
    client = default.test_client()
    flagged = post(client, body="Fine words")["comment"]["id"]
    client.post(f"/api/v1/comments/{flagged}/flags", json={"reason": "spam"})
    post(client, body="casino")
    deliver(default)
    assert [event["event"] for event in receiver.events()] == ["comment.flagged", "comment.held"]

    everything = alert_app(MODERATION_WEBHOOK_URL=receiver.url,
                           WEBHOOK_EVENTS=["comment.posted"])
    posted = post(everything.test_client(), body="Hello")["comment"]["id"]
    post(everything.test_client(), body="casino")
    deliver(everything)
    assert [(event["event"], event["comment"]["id"]) for event in receiver.events()[2:]] == [
        ("comment.posted", posted)]


def test_a_flagged_event_says_what_the_readers_flagged(alert_app, receiver):
    app = alert_app(MODERATION_WEBHOOK_URL=receiver.url)
    client = app.test_client()
    flagged = post(client, body="Fine words")["comment"]["id"]
    client.post(f"/api/v1/comments/{flagged}/flags", json={"reason": "spam", "note": "a farm"})
    deliver(app)

    (event,) = receiver.events()

    assert event["event"] == "comment.flagged"
    assert event["comment"]["flag_count"] == 1
    assert [(flag["reason"], flag["note"]) for flag in event["comment"]["flags"]] == [
        ("spam", "a farm")]


def test_an_edit_that_is_held_again_is_an_event(alert_app, receiver):
    app = alert_app(MODERATION_WEBHOOK_URL=receiver.url)
    client = app.test_client()
    posted = post(client, body="Innocent")

    client.patch(f"/api/v1/comments/{posted['comment']['id']}", json={"body": "casino now"},
                 headers={"X-Edit-Token": posted["edit_token"]})
    deliver(app)

    (event,) = receiver.events()
    assert event["event"] == "comment.held"
    assert event["comment"]["held_for"][0] == "edited"


def test_a_receiver_down_then_up_gets_the_event_once(alert_app, stopped_receiver, clock):
    app = alert_app(MODERATION_WEBHOOK_URL=stopped_receiver.url)
    started = time.monotonic()
    post(app.test_client(), body="casino")
    assert time.monotonic() - started < 5  # the post did not wait for the receiver

    assert deliver(app) == "sent 0, retrying 1, failed 0"
    clock.advance(seconds=29)
    assert deliver(app) == "sent 0, retrying 0, failed 0"  # backing off
    stopped_receiver.start()
    clock.advance(seconds=1)
    assert deliver(app) == "sent 1, retrying 0, failed 0"
    clock.advance(hours=2)
    assert deliver(app) == "sent 0, retrying 0, failed 0"

    assert [event["event"] for event in stopped_receiver.events()] == ["comment.held"]


def test_retries_go_to_the_webhook_url_set_now(alert_app, stopped_receiver, receiver, clock):
    """An operator who fixes a dead webhook URL fixes the events already waiting too."""
    dead = alert_app(MODERATION_WEBHOOK_URL=stopped_receiver.url)
    post(dead.test_client(), body="casino")
    assert deliver(dead) == "sent 0, retrying 1, failed 0"

    fixed = alert_app(MODERATION_WEBHOOK_URL=receiver.url)
    clock.advance(seconds=30)
    assert deliver(fixed) == "sent 1, retrying 0, failed 0"

    assert [event["event"] for event in receiver.events()] == ["comment.held"]


def test_retries_are_not_sent_once_the_operator_switched_the_webhook_off(
        alert_app, make_app, smtp_server, stopped_receiver, clock, caplog):
    """Events queued while the webhook was set are kept as failed, saying why, when it is unset:
    never sent to the old URL, nor signed with an empty key."""
    before = alert_app(MODERATION_WEBHOOK_URL=stopped_receiver.url)
    post(before.test_client(), body="casino")
    post(before.test_client(), body="casino two")
    assert deliver(before) == "sent 0, retrying 2, failed 0"

    switched_off = make_app(MAIL_URL=smtp_server.url, MAIL_BACKGROUND=False,
                            MODERATION_WEBHOOK_URL="", WEBHOOK_SECRET="")
    stopped_receiver.start()
    clock.advance(seconds=30)
    caplog.clear()
    assert deliver(switched_off) == "sent 0, retrying 0, failed 2"

    assert stopped_receiver.bodies == []
    (line,) = [record.getMessage() for record in caplog.records
               if "webhook" in record.getMessage()]
    assert line.startswith("2 webhook events not sent: the webhook is switched off")
    with switched_off.app_context():
        kept = db.session.execute(sa.select(OutboxMessage.status, OutboxMessage.last_error)).all()
    assert kept == [(OutboxStatus.FAILED, delivery.WEBHOOK_OFF)] * 2


def test_a_receiver_error_is_retried_and_a_refusal_is_kept_as_failed(
        alert_app, receiver, clock):
    app = alert_app(MODERATION_WEBHOOK_URL=receiver.url)
    client = app.test_client()
    post(client, body="casino")
    receiver.status = 503
    assert deliver(app) == "sent 0, retrying 1, failed 0"
    receiver.status = 200
    clock.advance(seconds=30)
    assert deliver(app) == "sent 1, retrying 0, failed 0"

    post(client, body="casino two")
    receiver.status = 404
    assert deliver(app) == "sent 0, retrying 0, failed 1"
    clock.advance(hours=2)
    assert deliver(app) == "sent 0, retrying 0, failed 0"


def test_a_receiver_whose_answer_is_no_http_is_retried(alert_app, receiver, clock):
    app = alert_app(MODERATION_WEBHOOK_URL=receiver.url)
    post(app.test_client(), body="casino")
    receiver.garbled = True

    assert deliver(app) == "sent 0, retrying 1, failed 0"

    receiver.garbled = False
    clock.advance(seconds=30)
    assert deliver(app) == "sent 1, retrying 0, failed 0"
    assert [event["event"] for event in receiver.events()] == ["comment.held"]


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_is_not_followed_but_retried_and_logged_with_its_location(
        alert_app, receiver, clock, caplog, status):
    """A POST redirected would be lost (a 301 or 302 is followed by a GET): it is a failure,
    retried, and the log names the address to set."""
    app = alert_app(MODERATION_WEBHOOK_URL=receiver.url)
    post(app.test_client(), body="casino")
    receiver.status, receiver.location = status, "/new"

    assert deliver(app) == "sent 0, retrying 1, failed 0"

    assert receiver.gets == [] and receiver.posts == []
    (line,) = [record.getMessage() for record in caplog.records
               if "will retry" in record.getMessage()]
    assert f"answered {status}" in line and "Location: /new" in line
    assert f"ENGAGEMENT_MODERATION_WEBHOOK_URL to http://127.0.0.1:{receiver.port}/new" in line
    receiver.status, receiver.location = 200, None
    clock.advance(seconds=30)
    assert deliver(app) == "sent 1, retrying 0, failed 0"
    assert [event["event"] for event in receiver.events()] == ["comment.held"]


@pytest.mark.live
def test_two_deliverer_processes_send_each_message_once(
        alert_app, receiver, smtp_server, database_url):
    app = alert_app(MODERATION_WEBHOOK_URL=receiver.url, MODERATOR_EMAILS=["mod@example.com"],
                    MODERATOR_DIGEST_SECONDS=0)
    client = app.test_client()
    held = [post(client, body=f"casino {n}", author_email=f"r{n}@example.com")["comment"]["id"]
            for n in range(30)]
    receiver.delay = 0.01  # deliveries overlap with the other process's claims
    smtp_server.data_delay = 0.01
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith("ENGAGEMENT_")}
    environment.update(DATABASE_URL=database_url, ENGAGEMENT_SECRET_KEY=TEST_SECRET,
                       ENGAGEMENT_MAIL_URL=smtp_server.url, ENGAGEMENT_WEBHOOK_SECRET=SECRET,
                       ENGAGEMENT_MODERATION_WEBHOOK_URL=receiver.url,
                       ENGAGEMENT_MODERATOR_EMAILS='["mod@example.com"]')
    command = [sys.executable, "-m", "flask", "--app", "engagement", "outbox", "deliver"]

    processes = [subprocess.Popen(command, env=environment, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [process.communicate(timeout=120) for process in processes]

    assert [process.returncode for process in processes] == [0, 0], outputs
    sent = sum(int(out.split()[1].rstrip(",")) for out, _ in outputs)
    posted = [event["comment"]["id"] for event in receiver.events()]
    assert sorted(posted) == held  # every event once
    digests = smtp_server.received
    listed = [line for digest in digests
              for line in digest.get_body(("plain",)).get_content().splitlines()
              if "/admin/?comment=" in line]
    assert len(listed) == len(set(listed)) == 30  # every held comment in one digest only
    assert sent == len(posted) + len(digests)


# --- Settings -----------------------------------------------------------------------------------

@pytest.mark.parametrize("settings", [
    {"MODERATION_WEBHOOK_URL": "https://hooks.example/x"},
    {"WEBHOOK_EVENTS": ["comment.deleted"]},
    {"MODERATOR_DIGEST_SECONDS": -1},
])
def test_bad_alert_settings_stop_the_start(settings):
    with pytest.raises(ConfigError):
        create_app({"TESTING": True, "SECRET_KEY": TEST_SECRET, "AUTO_MIGRATE": False,
                    **settings})

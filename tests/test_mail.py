"""Mail: the outbox written with the change, delivered after the commit to a real SMTP server
(aiosmtpd on a free port), retried with back-off while the server is down, never sent twice by
concurrent deliverers, by the service's own thread or by `flask outbox deliver`."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from aiosmtpd.smtp import AuthResult

from engagement import create_app
from engagement.config import ConfigError
from engagement.extensions import db
from engagement.mail import delivery, outbox
from engagement.mail.models import OutboxMessage, OutboxStatus
from engagement.mail.transport import parse_mail_url
from engagement.newsletter import services as newsletter
from tests.conftest import TEST_SECRET, deliver
from tests.live import gunicorn, request
from tests.services import SmtpServer

SUBSCRIBE = "/api/v1/newsletter/subscriptions"


def subscribe(client, address="ada@example.com"):
    response = client.post(SUBSCRIBE, json={"email": address, "consent": True})
    assert response.status_code == 202, response.json
    return response


def outbox_rows(app) -> list[OutboxMessage]:
    with app.app_context():
        rows = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
        db.session.expunge_all()
        return rows


def stop_background(app) -> None:
    app.extensions[delivery.EXTENSION].deliverer.stop()


@pytest.fixture
def on_demand(make_app):
    """An app that delivers only when the test says so (no background thread)."""

    def make(**settings):
        return make_app(MAIL_BACKGROUND=False, **settings)

    return make


# --- Where mail goes ------------------------------------------------------------------------

def test_console_writes_the_message_to_the_log(on_demand, caplog):
    app = on_demand()
    subscribe(app.test_client())

    with caplog.at_level("INFO", logger="engagement.mail"):
        assert deliver(app) == "sent 1, retrying 0, failed 0"

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "To: ada@example.com" in logged
    assert "List-Unsubscribe: <http://127.0.0.1:8000/newsletter/unsubscribe?token=" in logged
    assert outbox_rows(app) == []


def test_smtp_delivers_with_the_credentials_of_the_url(on_demand):
    server = SmtpServer()

    def authenticator(smtp, session, envelope, mechanism, credentials):
        server.logins.append((credentials.login.decode(), credentials.password.decode()))
        return AuthResult(success=True)

    server.start(authenticator=authenticator, auth_require_tls=False)
    try:
        app = on_demand(MAIL_URL=f"smtp://mailer:s3cr%3At%40x@127.0.0.1:{server.port}",
                        MAIL_FROM="Newsroom <news@example.com>")
        subscribe(app.test_client())

        assert deliver(app) == "sent 1, retrying 0, failed 0"
    finally:
        server.stop()
    assert server.logins == [("mailer", "s3cr:t@x")]
    assert server.envelopes == [("news@example.com", ["ada@example.com"])]
    (message,) = server.received
    assert message["From"] == "Newsroom <news@example.com>"
    assert message["Message-ID"].endswith("@example.com>")


def test_an_international_address_is_sent_with_smtputf8(on_demand, smtp_server):
    app = on_demand(MAIL_URL=smtp_server.url)
    subscribe(app.test_client(), "jürgen@bücher.example")

    assert deliver(app) == "sent 1, retrying 0, failed 0"
    assert smtp_server.envelopes[0][1] == ["jürgen@bücher.example"]


@pytest.fixture
def certificate(tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("needs openssl to make a certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
         "-out", str(cert), "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost"],
        check=True, capture_output=True)
    return key, cert


@pytest.mark.live
def test_starttls_upgrades_the_connection_and_checks_the_certificate(
        on_demand, certificate, monkeypatch):
    import ssl

    key, cert = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = SmtpServer().start(tls_context=context, require_starttls=True)
    try:
        app = on_demand(MAIL_URL=f"smtp://localhost:{server.port}?starttls=1")
        subscribe(app.test_client())
        # Our certificate is not trusted yet: the message waits rather than go in clear.
        assert deliver(app) == "sent 0, retrying 1, failed 0"
        assert "certificate" in outbox_rows(app)[0].last_error.lower()

        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        app.config["CLOCK"].advance(seconds=30)
        assert deliver(app) == "sent 1, retrying 0, failed 0"
    finally:
        server.stop()
    assert len(server.received) == 1


@pytest.mark.parametrize("url, expected", [
    ("console://", ("console", None, None, None, None, False)),
    ("smtp://mail.example.com", ("smtp", "mail.example.com", 25, None, None, False)),
    ("smtp://u:p%40ss@mail.example.com:587?starttls=1",
     ("smtp", "mail.example.com", 587, "u", "p@ss", True)),
    ("smtps://mail.example.com", ("smtps", "mail.example.com", 465, None, None, False)),
    ("SMTP://Mail.Example.com:2525?starttls=true",
     ("smtp", "mail.example.com", 2525, None, None, True)),
])
def test_mail_urls_are_read(url, expected):
    server = parse_mail_url(url)

    assert (server.scheme, server.host, server.port, server.username, server.password,
            server.starttls) == expected
    assert "p@ss" not in repr(server)


@pytest.mark.parametrize("url", [
    "", "smtp://", "http://mail.example.com", "smtp://mail.example.com:99999",
    "smtp://mail.example.com:port", "mailto:desk@example.com",
])
def test_a_mail_url_that_names_no_server_stops_the_start(url):
    with pytest.raises(ConfigError, match="ENGAGEMENT_MAIL_URL"):
        create_app({"MAIL_URL": url, "SECRET_KEY": TEST_SECRET, "AUTO_MIGRATE": False,
                    "DATABASE_URL": "sqlite://"})


# --- The outbox -----------------------------------------------------------------------------

def test_mail_is_written_in_the_transaction_of_the_change(on_demand):
    app = on_demand()
    signup = newsletter.Signup("ada@example.com", None, None, None, None)
    with app.app_context():
        newsletter.subscribe(signup, now=app.config["CLOCK"](),
                             policy=newsletter.NewsletterPolicy.from_config(app.config))
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 1
        db.session.rollback()

    assert outbox_rows(app) == []
    assert deliver(app) == "sent 0, retrying 0, failed 0"


def test_an_outage_keeps_the_message_and_retries_it_when_the_server_is_back(
        on_demand, stopped_smtp_server, clock):
    server = stopped_smtp_server
    app = on_demand(MAIL_URL=server.url)
    subscribe(app.test_client())

    assert deliver(app) == "sent 0, retrying 1, failed 0"
    (waiting,) = outbox_rows(app)
    assert waiting.status is OutboxStatus.QUEUED
    assert waiting.attempts == 1
    assert waiting.next_attempt_at == clock() + timedelta(seconds=30)
    assert waiting.claimed_at is None
    assert "cannot reach 127.0.0.1" in waiting.last_error

    server.start()
    assert deliver(app) == "sent 0, retrying 0, failed 0"  # not due yet
    clock.advance(seconds=30)
    assert deliver(app) == "sent 1, retrying 0, failed 0"

    (message,) = server.received
    assert message["To"] == "ada@example.com"
    assert outbox_rows(app) == []


def test_retries_back_off_exponentially_up_to_an_hour(on_demand, stopped_smtp_server, clock):
    app = on_demand(MAIL_URL=stopped_smtp_server.url)
    subscribe(app.test_client())

    waits = []
    for _ in range(10):
        deliver(app)
        (waiting,) = outbox_rows(app)
        waits.append((waiting.next_attempt_at - clock()).total_seconds())
        clock.current = waiting.next_attempt_at

    assert waits == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]
    assert outbox_rows(app)[0].attempts == 10


def test_a_recipient_refused_for_good_is_kept_as_failed_and_not_tried_again(
        on_demand, smtp_server, clock):
    smtp_server.refuse["nobody@example.com"] = "550 5.1.1 No such mailbox"
    app = on_demand(MAIL_URL=smtp_server.url)
    client = app.test_client()
    subscribe(client, "nobody@example.com")
    subscribe(client, "ada@example.com")

    assert deliver(app) == "sent 1, retrying 0, failed 1"
    (failed,) = outbox_rows(app)
    assert failed.status is OutboxStatus.FAILED
    assert failed.last_error.startswith("550")

    clock.advance(days=1)
    assert deliver(app) == "sent 0, retrying 0, failed 0"
    assert [message["To"] for message in smtp_server.received] == ["ada@example.com"]
    status = app.test_cli_runner().invoke(args=["outbox", "status"]).output
    assert status.split() == ["queued", "0", "failed", "1"]


class RelayDenied(SmtpServer):
    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        return "550 5.7.1 Relaying denied"


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
@pytest.mark.parametrize("refusing", ["login required", "relay denied"])
def test_a_server_refusing_every_sender_keeps_the_mail_queued_and_says_so(
        on_demand, clock, caplog, refusing):
    """A setting of ours is wrong (MAIL_URL without the login the server wants, a sender it
    does not relay for): every message is refused at MAIL FROM, and none is lost for it."""
    if refusing == "login required":
        server = SmtpServer().start(
            authenticator=lambda *args: AuthResult(success=True), auth_required=True,
            auth_require_tls=False)
    else:
        server = RelayDenied().start()
    try:
        app = on_demand(MAIL_URL=server.url)
        client = app.test_client()
        subscribe(client, "ada@example.com")
        subscribe(client, "bob@example.com")

        with caplog.at_level("INFO", logger="engagement.mail"):
            assert deliver(app) == "sent 0, retrying 2, failed 0"
    finally:
        server.stop()
    assert [row.status for row in outbox_rows(app)] == [OutboxStatus.QUEUED] * 2
    (loud,) = [record for record in caplog.records if record.levelname == "ERROR"]
    assert "ENGAGEMENT_MAIL_URL" in loud.getMessage()
    assert ("530 5.7.0" if refusing == "login required" else "550 5.7.1") in loud.getMessage()


def test_retry_failed_queues_the_failed_messages_again(on_demand, smtp_server, clock):
    smtp_server.refuse["ada@example.com"] = "550 5.1.1 No such mailbox"
    smtp_server.refuse["bob@example.com"] = "550 5.1.1 No such mailbox"
    app = on_demand(MAIL_URL=smtp_server.url)
    client = app.test_client()
    subscribe(client, "ada@example.com")
    clock.advance(hours=2)
    subscribe(client, "bob@example.com")
    assert deliver(app) == "sent 0, retrying 0, failed 2"
    smtp_server.refuse.clear()
    runner = app.test_cli_runner()

    since = (clock() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
    assert runner.invoke(args=["outbox", "retry-failed", "--since", since]).output == (
        "queued again 1\n")
    assert deliver(app) == "sent 1, retrying 0, failed 0"
    assert runner.invoke(args=["outbox", "retry-failed"]).output == "queued again 1\n"
    assert deliver(app) == "sent 1, retrying 0, failed 0"

    assert [message["To"] for message in smtp_server.received] == [
        "bob@example.com", "ada@example.com"]
    assert runner.invoke(args=["outbox", "retry-failed"]).output == "queued again 0\n"


# Each before 08:00 UTC, when the message was queued (08:30+01:00 read without its offset
# would be after it).
@pytest.mark.parametrize("since", ["2026-11-27T07:00:00Z", "2026-11-27T08:30:00+01:00",
                                   "2026-11-27T07:59:59", "2026-11-27"])
def test_retry_failed_reads_a_moment_as_the_service_prints_them(on_demand, smtp_server, clock,
                                                                 since):
    smtp_server.refuse["ada@example.com"] = "550 5.1.1 No such mailbox"
    app = on_demand(MAIL_URL=smtp_server.url)
    subscribe(app.test_client(), "ada@example.com")  # 2026-11-27T08:00:00Z
    deliver(app)
    later = "2026-11-27T08:00:01Z"
    runner = app.test_cli_runner()

    assert runner.invoke(args=["outbox", "retry-failed", "--since", later]).output == (
        "queued again 0\n")
    queued = runner.invoke(args=["outbox", "retry-failed", "--since", since])
    assert queued.output == "queued again 1\n", queued.output
    refused = runner.invoke(args=["outbox", "retry-failed", "--since", "yesterday"])
    assert refused.exit_code == 2 and "2024-05-01T12:00:00Z" in refused.output


def test_a_queued_message_is_sent_from_the_sender_set_when_it_goes(
        on_demand, stopped_smtp_server, clock):
    """An operator who fixes ENGAGEMENT_MAIL_FROM fixes the messages already waiting too."""
    before = on_demand(MAIL_URL=stopped_smtp_server.url, MAIL_FROM="Wrong <noreply@wrong.test>")
    subscribe(before.test_client())
    assert deliver(before) == "sent 0, retrying 1, failed 0"

    stopped_smtp_server.start()
    fixed = on_demand(MAIL_URL=stopped_smtp_server.url, MAIL_FROM="Newsroom <news@example.com>")
    clock.advance(seconds=30)
    assert deliver(fixed) == "sent 1, retrying 0, failed 0"

    assert stopped_smtp_server.envelopes == [("news@example.com", ["ada@example.com"])]
    (message,) = stopped_smtp_server.received
    assert message["From"] == "Newsroom <news@example.com>"
    assert "/newsletter/confirm?token=" in message.get_body(("plain",)).get_content()


def test_a_temporary_refusal_is_tried_again(on_demand, smtp_server, clock):
    smtp_server.refuse["ada@example.com"] = "451 4.3.0 Try again later"
    app = on_demand(MAIL_URL=smtp_server.url)
    subscribe(app.test_client())

    assert deliver(app) == "sent 0, retrying 1, failed 0"
    del smtp_server.refuse["ada@example.com"]
    clock.advance(seconds=30)
    assert deliver(app) == "sent 1, retrying 0, failed 0"


def test_a_claim_left_by_a_deliverer_that_died_is_taken_over_after_the_lease(
        on_demand, smtp_server, clock):
    app = on_demand(MAIL_URL=smtp_server.url)
    subscribe(app.test_client())
    with app.app_context():  # a deliverer claims the message, then dies before sending
        assert len(outbox.claim_due(now=clock())) == 1
        db.session.commit()

    assert deliver(app) == "sent 0, retrying 0, failed 0"
    clock.advance(seconds=59)
    assert deliver(app) == "sent 0, retrying 0, failed 0"
    clock.advance(seconds=1)
    assert deliver(app) == "sent 1, retrying 0, failed 0"
    assert len(smtp_server.received) == 1


@pytest.mark.live
def test_outbox_deliver_works_from_a_process_of_its_own(on_demand, smtp_server, database_url):
    app = on_demand(MAIL_URL=smtp_server.url)
    subscribe(app.test_client())
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith("ENGAGEMENT_")}
    environment.update(DATABASE_URL=database_url, ENGAGEMENT_SECRET_KEY=TEST_SECRET,
                       ENGAGEMENT_MAIL_URL=smtp_server.url)

    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "engagement", "outbox", "deliver"],
        env=environment, capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "sent 1, retrying 0, failed 0"
    assert smtp_server.wait_for(1)[0]["To"] == "ada@example.com"
    assert outbox_rows(app) == []


# --- Concurrent deliverers ------------------------------------------------------------------

def race_deliverers(app, smtp_server, messages=40, deliverers=4):
    client = app.test_client()
    for index in range(messages):
        subscribe(client, f"reader{index}@example.com")
    smtp_server.data_delay = 0.005  # sends overlap with the other deliverers' claims
    barrier = threading.Barrier(deliverers)

    def run(_):
        with app.app_context():
            barrier.wait(timeout=30)
            return delivery.deliver_outbox(app.extensions[delivery.EXTENSION].server).sent

    results = []
    threads = [threading.Thread(target=lambda n=n: results.append(run(n)))
               for n in range(deliverers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    recipients = [message["To"] for message in smtp_server.received]
    assert sorted(recipients) == sorted(f"reader{index}@example.com" for index in range(messages))
    assert len(set(recipients)) == messages  # nobody got a message twice
    assert sum(results) == messages
    assert outbox_rows(app) == []


@pytest.mark.postgres
def test_concurrent_deliverers_on_postgres_never_send_a_message_twice(on_demand, smtp_server):
    app = on_demand(MAIL_URL=smtp_server.url)
    with app.app_context():
        assert db.engine.dialect.name == "postgresql"
    race_deliverers(app, smtp_server)


def test_concurrent_deliverers_never_send_a_message_twice(on_demand, smtp_server):
    race_deliverers(on_demand(MAIL_URL=smtp_server.url), smtp_server, messages=20)


# --- Delivery in the background of the service ----------------------------------------------

def test_the_service_delivers_in_the_background_after_the_commit(make_app, smtp_server):
    app = make_app(MAIL_URL=smtp_server.url, MAIL_BACKGROUND=True)
    try:
        started = time.monotonic()
        subscribe(app.test_client())
        answered = time.monotonic() - started

        (message,) = smtp_server.wait_for(1)
        assert message["To"] == "ada@example.com"
        deadline = time.monotonic() + 10
        while outbox_rows(app) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert outbox_rows(app) == []
        assert answered < 5  # the request did not wait on SMTP
    finally:
        stop_background(app)


def test_the_background_deliverer_retries_while_the_server_is_down(
        make_app, stopped_smtp_server, clock, monkeypatch):
    monkeypatch.setattr(outbox, "FIRST_RETRY", timedelta(0))  # retry at once, in real time
    app = make_app(MAIL_URL=stopped_smtp_server.url, MAIL_BACKGROUND=True)
    try:
        subscribe(app.test_client())
        deadline = time.monotonic() + 10
        while not (outbox_rows(app) and outbox_rows(app)[0].attempts >= 2):
            assert time.monotonic() < deadline, "the deliverer did not retry"
            time.sleep(0.05)

        stopped_smtp_server.start()
        assert stopped_smtp_server.wait_for(1)[0]["To"] == "ada@example.com"
    finally:
        stop_background(app)


def test_mail_queued_before_a_restart_is_delivered_when_the_service_serves(
        on_demand, make_app, smtp_server):
    subscribe(on_demand(MAIL_URL=smtp_server.url).test_client())  # the process before
    assert smtp_server.received == []

    app = make_app(MAIL_URL=smtp_server.url, MAIL_BACKGROUND=True)  # after the restart
    try:
        assert app.test_client().get("/healthz").status_code == 200
        assert smtp_server.wait_for(1)[0]["To"] == "ada@example.com"
    finally:
        stop_background(app)


def test_mail_queued_before_a_restart_is_delivered_when_the_service_answers_a_read_before_flask(
        on_demand, make_app, smtp_server):
    before = on_demand(MAIL_URL=smtp_server.url).test_client()  # the process before
    subscribe(before)
    counts = "/api/v1/counts?ids=an-article"
    known = {"If-None-Match": before.get(counts).headers["ETag"]}

    app = make_app(MAIL_URL=smtp_server.url, MAIL_BACKGROUND=True)  # after the restart
    try:
        assert app.test_client().get(counts, headers=known).status_code == 304
        assert smtp_server.wait_for(1)[0]["To"] == "ada@example.com"
    finally:
        stop_background(app)


@pytest.mark.live
def test_gunicorn_workers_deliver_in_the_background(smtp_server, tmp_path):
    settings = {"ENGAGEMENT_MAIL_URL": smtp_server.url, "ENGAGEMENT_MAIL_BACKGROUND": "true",
                "ENGAGEMENT_PUBLIC_BASE_URL": "http://example.invalid"}
    with gunicorn(tmp_path, settings, workers=2) as server:
        base = server.base
        body = json.dumps({"email": "ada@example.com", "consent": True}).encode()
        status, _ = request(f"{base}{SUBSCRIBE}", body, {"Content-Type": "application/json"})
        assert status == 202

        (message,) = smtp_server.wait_for(1)
        link = re.search(r"http://example\.invalid(/newsletter/confirm\?token=\S+)",
                         message.get_body(("plain",)).get_content())
        status, page = request(f"{base}{link.group(1)}")
        assert status == 200 and b"<form" in page
        status, page = request(f"{base}{link.group(1)}", b"",
                               {"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 200 and b"You are subscribed" in page

        status, _ = request(f"{base}{SUBSCRIBE}", body, {"Content-Type": "application/json"})
        assert status == 202
        time.sleep(1)
        assert len(smtp_server.received) == 1, server.output()  # confirmed: no new mail


# --- /readyz --------------------------------------------------------------------------------

def test_readyz_is_degraded_while_the_mail_server_is_down(
        make_app, stopped_smtp_server, monkeypatch):
    monkeypatch.setattr(delivery, "PROBE_CACHE_SECONDS", 0)
    client = make_app(MAIL_URL=stopped_smtp_server.url, MAIL_BACKGROUND=False).test_client()

    down = client.get("/readyz")
    assert down.status_code == 200
    assert down.json["status"] == "degraded"
    assert down.json["checks"]["mail"] == "degraded"
    assert down.json["checks"]["database"] == "ok"

    stopped_smtp_server.start()
    up = client.get("/readyz")
    assert up.json["status"] == "ok"
    assert up.json["checks"]["mail"] == "ok"


def test_readyz_with_console_mail_is_ok(client):
    assert client.get("/readyz").json["checks"]["mail"] == "ok"


def test_readyz_asks_the_mail_server_at_most_every_few_seconds(
        make_app, smtp_server, monkeypatch):
    calls = []
    real = delivery.reachable
    monkeypatch.setattr(delivery, "reachable", lambda *args: calls.append(1) or real(*args))
    client = make_app(MAIL_URL=smtp_server.url, MAIL_BACKGROUND=False).test_client()

    for _ in range(5):
        assert client.get("/readyz").json["checks"]["mail"] == "ok"
    assert len(calls) == 1


def test_readyz_answers_quickly_when_the_mail_server_does_not(make_app, monkeypatch):
    # 192.0.2.1 (TEST-NET-1) is never routed: a connect would hang without its timeout.
    client = make_app(MAIL_URL="smtp://192.0.2.1:25", MAIL_BACKGROUND=False).test_client()

    started = time.monotonic()
    assert client.get("/readyz").json["checks"]["mail"] == "degraded"
    assert time.monotonic() - started < 3

"""The serving setup (gunicorn.conf.py and its worker) against slow clients, over real sockets
to a live gunicorn: clients that send their headers slowly cost a socket each, not a thread,
so everyone else is still answered at once."""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import time

import pytest

from engagement.serving import REDACTED, TOKEN_PARAMETER, TOKEN_SHAPED, redact
from tests.conftest import comment_fields
from tests.live import ROOT, free_port, get, gunicorn, gunicorn_command, request, stop

pytestmark = pytest.mark.live  # gunicorn

SLOW_CLIENTS = 50


def open_slow_client(port: int) -> socket.socket:
    """A client that has sent its request line and one header, and then nothing."""
    client = socket.create_connection(("127.0.0.1", port), timeout=5)
    client.sendall(b"GET /api/v1/articles/slow HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    return client


def port_of(base: str) -> int:
    return int(base.rsplit(":", 1)[1])


def test_fifty_slow_header_clients_leave_the_service_answering_within_a_second(tmp_path):
    # As ./scripts/serve runs it: one process of four threads.
    with gunicorn(tmp_path, {}, workers=1, threads=4) as server, contextlib.ExitStack() as stack:
        slow = [stack.enter_context(open_slow_client(port_of(server.base)))
                for _ in range(SLOW_CLIENTS)]
        for index in range(3):  # trickle: each slow client sends another header now and then
            time.sleep(0.5)
            for client in slow:
                client.sendall(f"X-Slow-{index}: yes\r\n".encode())
            started = time.monotonic()
            status, body = request(f"{server.base}/api/v1/articles/an-article")
            elapsed = time.monotonic() - started
            assert status == 200, body
            assert elapsed < 1.0, f"a normal request took {elapsed:.2f} s"

        # A slow client that finally finishes its head is answered like anyone.
        slow[0].sendall(b"\r\n")
        answer = slow[0].recv(65536)
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]


def test_a_head_sent_in_pieces_and_a_kept_alive_connection_are_served(tmp_path):
    with gunicorn(tmp_path, {}, workers=1, threads=4) as server:
        body = json.dumps(comment_fields()).encode()
        with socket.create_connection(("127.0.0.1", port_of(server.base)), timeout=5) as client:
            head = (b"POST /api/v1/articles/pieces/comments HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b"Content-Type: application/json\r\n"
                    b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n")
            for piece in (head[:10], head[10:40], head[40:]):
                client.sendall(piece)
                time.sleep(0.2)
            client.sendall(body)
            first = read_answer(client)
            # The same connection, kept alive, carries the next request.
            client.sendall(b"GET /api/v1/articles/pieces HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            second = read_answer(client)

        assert first.startswith(b"HTTP/1.1 201"), first[:200]
        assert second.startswith(b"HTTP/1.1 200"), second[:200]
        assert b'"comment_count":1' in second.replace(b" ", b"")


def test_the_worker_serves_any_wsgi_app_as_the_bench_serves_its_hello_world(tmp_path):
    # bench/sidebyside.py serves its ceiling, a Flask app with no settings of ours, the same
    # way as the service: gunicorn.conf.py and its worker, which then keeps its default deadline.
    port = free_port()
    with (tmp_path / "gunicorn.log").open("wb") as log:
        process = subprocess.Popen(gunicorn_command(port, app="bench.hello:app"), cwd=ROOT,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, (tmp_path / "gunicorn.log").read_text()
            try:
                assert get(f"http://127.0.0.1:{port}/") == (200, b"Hello, World!")
                break
            except OSError:
                assert time.monotonic() < deadline, (tmp_path / "gunicorn.log").read_text()
                time.sleep(0.1)
    finally:
        stop(process)


def read_answer(client: socket.socket) -> bytes:
    """One whole HTTP answer with a Content-Length."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += client.recv(65536)
    head, _, rest = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    while len(rest) < length:
        rest += client.recv(65536)
    return head + b"\r\n\r\n" + rest


def send_cut_body(port: int, path: str, body: bytes, announced: int) -> socket.socket:
    """A client that announces `announced` bytes of body, sends `body` and stops."""
    client = socket.create_connection(("127.0.0.1", port), timeout=10)
    client.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   "Content-Type: application/json\r\n"
                   f"Content-Length: {announced}\r\n\r\n".encode() + body)
    return client


def answer_reason(answer: bytes) -> tuple[int, str]:
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), json.loads(body)["reason"]


@pytest.mark.parametrize(("path", "fields"), [
    ("/api/v1/articles/gone-art/comments",
     comment_fields(author_name="gone", author_email="g@example.com", body="client went away")),
    ("/api/v1/articles/gone-art/shares", {"network": "x"}),
])
def test_a_body_shorter_than_its_content_length_is_malformed_and_not_written(tmp_path, path,
                                                                            fields):
    body = json.dumps(fields).encode()
    with gunicorn(tmp_path, {}, workers=1, threads=4) as server:
        port = port_of(server.base)
        # The client half-closes: it hears the answer.
        with send_cut_body(port, path, body, announced=500) as client:
            client.shutdown(socket.SHUT_WR)
            half_closed = read_answer(client)
        # The client closes for good, once whole and once mid-JSON.
        for sent in (body, body[:len(body) // 2]):
            send_cut_body(port, path, sent, announced=len(body) + 100).close()
        status, article = request(f"{server.base}/api/v1/articles/gone-art")
        log = server.output()

    assert answer_reason(half_closed) == (400, "malformed_request"), half_closed
    assert status == 200, article
    counts = json.loads(article)
    assert counts["comment_count"] == 0 and counts["share_counts"]["total"] == 0, counts
    assert '" 201 ' not in log and '" 400 ' in log, log


def open_stalled_upload(port: int) -> socket.socket:
    """A client that has sent its head and the start of a body, and then nothing."""
    return send_cut_body(port, "/api/v1/articles/slow/shares", b'{"net', announced=50)


def test_stalled_uploads_are_answered_at_their_deadline_and_free_their_threads(tmp_path):
    settings = {"ENGAGEMENT_REQUEST_BODY_TIMEOUT": "1"}
    with gunicorn(tmp_path, settings, workers=1, threads=4) as server, \
            contextlib.ExitStack() as stack:
        stalled = [stack.enter_context(open_stalled_upload(port_of(server.base)))
                   for _ in range(4)]
        started = time.monotonic()
        status, body = request(f"{server.base}/healthz", timeout=5)
        elapsed = time.monotonic() - started
        answers = [read_answer(client) for client in stalled]
        # Answered, the stalled clients keep their sockets open: closing those must not
        # hold the worker's main loop either.
        started = time.monotonic()
        after_status, _ = request(f"{server.base}/healthz", timeout=5)
        after = time.monotonic() - started

    assert status == 200, body
    assert elapsed < 3.0, f"/healthz took {elapsed:.2f} s behind four stalled uploads"
    assert after_status == 200 and after < 1.0, f"/healthz then took {after:.2f} s"
    for answer in answers:
        assert answer_reason(answer) == (400, "malformed_request"), answer


def test_gunicorn_opens_no_control_socket(tmp_path):
    """gunicorn 27's control socket is one path for every gunicorn of the user: during a USR2
    restart both masters bind it, and the old one deletes it on its way out."""
    port = free_port()
    command = [part for part in gunicorn_command(port, app="bench.hello:app")
               if part != "--no-control-socket"]
    (tmp_path / "run").mkdir()
    environment = {**os.environ, "HOME": str(tmp_path), "XDG_RUNTIME_DIR": str(tmp_path / "run")}
    with (tmp_path / "gunicorn.log").open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, (tmp_path / "gunicorn.log").read_text()
            with contextlib.suppress(OSError):
                if get(f"http://127.0.0.1:{port}/")[0] == 200:
                    break
            assert time.monotonic() < deadline, (tmp_path / "gunicorn.log").read_text()
            time.sleep(0.1)
        time.sleep(0.5)  # gunicorn opens it once its workers are up
        assert not list(tmp_path.rglob("gunicorn.ctl"))
    finally:
        stop(process)


def test_the_service_s_log_lines_say_when_and_which_worker(tmp_path):
    # Two workers write one log: each of the service's lines (here, the settings' warnings
    # each worker gives) says its time and process, as gunicorn's own lines do.
    with gunicorn(tmp_path, {"ENGAGEMENT_MAIL_URL": "console://"}, workers=2) as server:
        assert get(f"{server.base}/healthz")[0] == 200
        lines = [line for line in server.output().splitlines()
                 if re.search(r"(INFO|WARNING|ERROR) engagement\.", line)]

    assert lines, server.output()
    stamped = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} \[(\d+)\] WARNING engagement\.")
    assert all(stamped.match(line) for line in lines), lines
    assert len({stamped.match(line).group(1) for line in lines}) == 2  # one set per worker


TOKEN = "Abcdefghijklmnopqrstuvwxyz0123456789_-"


@pytest.mark.parametrize("text", [
    f"GET /newsletter/confirm?token={TOKEN} HTTP/1.1",
    "GET /x?TOKEN=abc&to\u212aen=def HTTP/1.1",  # the Kelvin sign is a k to (?i)
    f"/newsletter/unsubscribe/{TOKEN}",
    "a" * 40 + " " + "B" * 40,  # long, but not mixed case
    "GET /api/v1/counts?ids=" + ",".join(f"story-{index}" for index in range(50)),
    "127.0.0.1", "", "Mozilla/5.0 (X11; Linux x86_64)",
])
def test_the_access_log_redacts_what_the_patterns_match(text):
    """redact skips a pattern where what it needs is missing: the same text as both patterns
    applied in full."""
    assert redact(text) == TOKEN_SHAPED.sub(REDACTED, TOKEN_PARAMETER.sub(r"\1" + REDACTED, text))

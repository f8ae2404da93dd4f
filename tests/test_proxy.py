"""A real nginx in front of a real gunicorn (docs/api.md, Rate limits: ENGAGEMENT_TRUSTED_PROXIES).

Behind the proxy, readers are told apart by the address nginx saw them connect from, whatever
X-Forwarded-For they send themselves, and only because the setting names nginx as a trusted
proxy; a reader who skips the proxy is its own peer address, header or not.

Each reader connects from an address of its own on the loopback network (Linux routes all of
127.0.0.0/8 to lo), so nginx, listening on 127.0.0.2, sees a distinct `$remote_addr` per
reader, and gunicorn, listening on 127.0.0.1, sees nginx connect from 127.0.0.1."""

from __future__ import annotations

import contextlib
import http.client
import itertools
import json
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import comment_fields
from tests.live import Server, gunicorn, stop

pytestmark = pytest.mark.live  # nginx in front of gunicorn

PROXY_HOST = "127.0.0.2"  # where nginx listens; readers connect here
NGINX_PEER = "127.0.0.1"  # where nginx connects from (and where gunicorn listens)
START_TIMEOUT = 10  # seconds for nginx to answer /healthz through to gunicorn
TIGHT_LIMITS = {"ENGAGEMENT_LIMIT_COMMENTS": "2/minute", "ENGAGEMENT_LIMIT_SHARES": "5/minute"}
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) engagement-proxy-test"

# Reader addresses, fresh for every reader of the module, so that tests sharing a server do
# not share a rate limit: 127.0.0.11, 127.0.0.12, ...
_reader_addresses = (f"127.0.0.{n}" for n in itertools.count(11))


def required(reason: str) -> None:
    """Skip for want of something on this machine; under CI, fail instead."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"under CI, {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def nginx_binary() -> str:
    """The nginx to run, once this machine is known to have one and to give readers
    addresses of their own."""
    # Debian puts nginx in /usr/sbin, which is not on every user's PATH.
    path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])
    binary = shutil.which("nginx", path=path)
    if binary is None:
        required("nginx is required (apt-get install nginx; .ci/run installs it)")
    try:
        with socket.socket() as sock:
            sock.bind(("127.0.0.10", 0))
    except OSError as exc:
        required(f"readers need all of 127.0.0.0/8 on the loopback interface (Linux): {exc}")
    return binary


def free_port_on(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def nginx_conf(directory: Path, port: int, upstream: str) -> str:
    # Everything nginx writes goes under `directory`: the compiled-in paths (/run, /var/log,
    # /var/lib/nginx) belong to the system's nginx, or to nobody when not running as root.
    user = ""
    if os.geteuid() == 0:
        # Else the workers run as `nobody`, who cannot enter pytest's 0700 tmp directory:
        # a request body over client_body_buffer_size (16k) would be a 500 from nginx.
        user = "user root;"
    return f"""
daemon off;
{user}
worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/error.log notice;
events {{ worker_connections 64; }}
http {{
    access_log {directory}/access.log;
    client_body_temp_path {directory}/client_body;
    proxy_temp_path {directory}/proxy;
    fastcgi_temp_path {directory}/fastcgi;
    uwsgi_temp_path {directory}/uwsgi;
    scgi_temp_path {directory}/scgi;
    server {{
        listen {PROXY_HOST}:{port};
        location / {{
            proxy_pass {upstream};
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header Host $host;
        }}
    }}
}}
"""


@contextlib.contextmanager
def nginx(binary: str, directory: Path, upstream: str) -> Iterator[tuple[str, int]]:
    """nginx in the foreground with a config of its own, proxying to `upstream`, until the
    block ends; yields where readers connect."""
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port_on(PROXY_HOST)
    conf = directory / "nginx.conf"
    conf.write_text(nginx_conf(directory, port, upstream))
    log = directory / "nginx.out"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [binary, "-c", str(conf), "-p", str(directory)],
            stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output() -> str:
        error_log = directory / "error.log"
        return log.read_text(errors="replace") + (
            error_log.read_text(errors="replace") if error_log.exists() else "")

    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"nginx exited with {process.returncode}:\n{output()}")
            try:
                if call(NGINX_PEER, (PROXY_HOST, port), "GET", "/healthz").status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"no answer through nginx in {START_TIMEOUT}s:\n{output()}")
            time.sleep(0.05)
        yield PROXY_HOST, port
    finally:
        stop(process)


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    json: dict


def call(source: str, target: tuple[str, int], method: str, path: str,
         body: dict | None = None, headers: dict | None = None) -> Answer:
    """One request over a connection from the address `source`."""
    connection = http.client.HTTPConnection(*target, timeout=10, source_address=(source, 0))
    try:
        data = None if body is None else json.dumps(body).encode()
        headers = {"User-Agent": USER_AGENT, **(headers or {})}
        if data is not None:
            headers["Content-Type"] = "application/json"
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        raw = response.read()
        content_type = response.headers.get("Content-Type", "")
        return Answer(response.status, response.headers,
                      json.loads(raw) if raw and "json" in content_type else {})
    finally:
        connection.close()


@dataclass
class Stack:
    """gunicorn, and nginx in front of it."""

    app: Server
    proxy: tuple[str, int]

    @property
    def direct(self) -> tuple[str, int]:
        host, port = self.app.base.removeprefix("http://").rsplit(":", 1)
        return host, int(port)


@dataclass
class Reader:
    """Someone reading the site from `address`; `via` is where they connect (the proxy, or
    gunicorn directly); `forwarded_for` is an X-Forwarded-For header they send themselves."""

    address: str

    def comment(self, via: tuple[str, int], article: str = "an-article",
                forwarded_for: str | None = None) -> Answer:
        return call(self.address, via, "POST", f"/api/v1/articles/{article}/comments",
                    comment_fields(), _forwarded(forwarded_for))

    def share(self, via: tuple[str, int], article: str, network: str = "x",
              forwarded_for: str | None = None) -> Answer:
        return call(self.address, via, "POST", f"/api/v1/articles/{article}/shares",
                    {"network": network}, _forwarded(forwarded_for))


def _forwarded(value: str | None) -> dict:
    return {} if value is None else {"X-Forwarded-For": value}


@contextlib.contextmanager
def proxied(binary: str, directory: Path, settings: dict[str, str]) -> Iterator[Stack]:
    with gunicorn(directory, settings) as app, \
            nginx(binary, directory / "nginx", app.base) as proxy:
        yield Stack(app, proxy)


@pytest.fixture(scope="module")
def trusting(nginx_binary, tmp_path_factory) -> Iterator[Stack]:
    """nginx named in ENGAGEMENT_TRUSTED_PROXIES, as the README tells operators to."""
    settings = {"ENGAGEMENT_TRUSTED_PROXIES": NGINX_PEER, **TIGHT_LIMITS}
    with proxied(nginx_binary, tmp_path_factory.mktemp("trusting"), settings) as stack:
        yield stack


@pytest.fixture(scope="module")
def not_trusting(nginx_binary, tmp_path_factory) -> Iterator[Stack]:
    """The same, but ENGAGEMENT_TRUSTED_PROXIES left at its default (empty)."""
    with proxied(nginx_binary, tmp_path_factory.mktemp("not-trusting"), TIGHT_LIMITS) as stack:
        yield stack


@pytest.fixture
def reader():
    """A new reader, at an address no other reader in this module has."""
    return lambda: Reader(next(_reader_addresses))


@pytest.fixture
def article() -> str:
    return f"article-{uuid.uuid4().hex[:12]}"


def statuses(answers: list[Answer]) -> list[int]:
    return [answer.status for answer in answers]


def assert_rate_limited(answer: Answer) -> None:
    assert answer.status == 429
    assert answer.json["reason"] == "rate_limited"
    assert int(answer.headers["Retry-After"]) > 0


def test_readers_behind_the_proxy_are_limited_each_on_their_own(trusting, reader):
    a, b = reader(), reader()

    answers = [a.comment(trusting.proxy) for _ in range(3)]

    assert statuses(answers) == [201, 201, 429]
    assert_rate_limited(answers[-1])
    assert [answer.headers["X-RateLimit-Remaining"] for answer in answers[:2]] == ["1", "0"]
    first_of_b = b.comment(trusting.proxy)
    assert first_of_b.status == 201
    assert first_of_b.headers["X-RateLimit-Remaining"] == "1"  # A's posts are not B's


def test_a_forged_forwarded_for_does_not_dodge_the_limit(trusting, reader):
    a, b = reader(), reader()

    # nginx appends the address it saw; the service takes the rightmost one it does not
    # trust, so whatever A writes to the left of it is never read.
    answers = [
        a.comment(trusting.proxy, forwarded_for="203.0.113.9"),
        a.comment(trusting.proxy, forwarded_for="203.0.113.10, 198.51.100.4"),
        a.comment(trusting.proxy, forwarded_for=b.address),  # posing as B
        a.comment(trusting.proxy, forwarded_for=NGINX_PEER),  # posing as the proxy
        a.comment(trusting.proxy, forwarded_for="garbage"),
    ]

    assert statuses(answers) == [201, 201, 429, 429, 429]
    assert b.comment(trusting.proxy).status == 201  # A posing as B cost B nothing


def test_a_forged_forwarded_for_does_not_count_a_share_twice(trusting, reader, article):
    a = reader()

    answers = [a.share(trusting.proxy, article, forwarded_for=forged)
               for forged in (None, "203.0.113.9", "203.0.113.10", f"{NGINX_PEER}, 10.1.2.3")]

    assert statuses(answers) == [200] * 4
    assert [answer.json["counted"] for answer in answers] == [True, False, False, False]
    assert answers[-1].json["share_counts"]["x"] == 1


def test_shares_are_counted_once_per_reader_behind_the_proxy(trusting, reader, article):
    a, b = reader(), reader()

    first, repeat = a.share(trusting.proxy, article), a.share(trusting.proxy, article)
    of_b = b.share(trusting.proxy, article)

    assert (first.json["counted"], repeat.json["counted"], of_b.json["counted"]) == (
        True, False, True)
    assert of_b.json["share_counts"]["x"] == 2
    assert of_b.json["share_counts"]["total"] == 2


def test_without_trusted_proxies_every_reader_is_the_proxy(not_trusting, reader, article):
    a, b = reader(), reader()

    assert statuses([a.comment(not_trusting.proxy) for _ in range(2)]) == [201, 201]
    # B has posted nothing, but to the service B is nginx, like A and everyone else.
    assert_rate_limited(b.comment(not_trusting.proxy))
    assert_rate_limited(Reader(NGINX_PEER).comment(not_trusting.direct))
    # And every reader's share is the proxy's share.
    assert a.share(not_trusting.proxy, article).json["counted"] is True
    assert b.share(not_trusting.proxy, article).json["counted"] is False


def test_a_reader_skipping_the_proxy_is_its_own_address(trusting, reader):
    c, d = reader(), reader()

    # Straight to gunicorn: C is not a trusted proxy, so its X-Forwarded-For is ignored,
    # whoever it names; both posts count against C's own address.
    direct = [c.comment(trusting.direct, forwarded_for="203.0.113.50"),
              c.comment(trusting.direct, forwarded_for=f"{d.address}, {NGINX_PEER}")]

    assert statuses(direct) == [201, 201]
    assert_rate_limited(c.comment(trusting.direct, forwarded_for="203.0.113.51"))
    assert_rate_limited(c.comment(trusting.proxy))  # the same C, now through nginx
    assert d.comment(trusting.proxy).status == 201  # named in C's header, charged nothing

"""deploy/ as an operator uses it: Debian's nginx running deploy/nginx.conf (filled in only
with ports, the upstream and paths, as the nginx image's entrypoint fills it) in front of a live
gunicorn, and deploy/compose.yaml checked against the Compose specification's JSON schema
(no Docker engine runs here).

Readers and staff connect from addresses of their own on the loopback network, so nginx's
allow list tells them apart: staff from 127.0.0.5 (and ::1, nginx's IPv6 staff network),
readers from 127.0.0.11 and up."""

from __future__ import annotations

import ast
import contextlib
import gzip
import http.client
import json
import re
import secrets
import shutil
import socket
import ssl
import string
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import brotli
import pytest
import yaml

from engagement.config import DEFAULTS
from engagement.errors import envelope
from tests import live
from tests.conftest import comment_fields, make_token
from tests.live import gunicorn, stop
from tests.test_proxy import free_port_on, required

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
LISTEN = "127.0.0.2"
LISTEN_IPV6 = "::1"
STAFF = "127.0.0.5"
READER = "127.0.0.11"
START_TIMEOUT = 10


def fill(template: str, values: dict[str, str]) -> str:
    """What the nginx image's entrypoint does: ${NAME} from the environment, nginx's own
    $variables untouched."""
    names = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)\}", template))
    assert names == set(values), f"the template names {sorted(names)}"
    return string.Template(template).safe_substitute(values)


def on_loopback(site_conf: str, ipv6: bool) -> str:
    """The site's `listen PORT` lines bound to LISTEN and its `listen [::]:PORT` lines to ::1,
    not to every interface of the machine the tests run on; on a machine without IPv6 on its
    loopback interface, the IPv6 lines dropped, as the file's header tells such hosts to."""
    site_conf = re.sub(r"(?m)^(\s*listen )(\d+)\b", rf"\g<1>{LISTEN}:\2", site_conf)
    if ipv6:
        return re.sub(r"(?m)^(\s*listen )\[::\]:", rf"\1[{LISTEN_IPV6}]:", site_conf)
    return re.sub(r"(?m)^\s*listen \[::\]:.*\n", "", site_conf)


def has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind((LISTEN_IPV6, 0))
    except OSError:
        return False
    return True


def free_port_for_nginx(ipv6: bool) -> int:
    """A port free on LISTEN, and on ::1 too where nginx listens there."""
    while True:
        port = free_port_on(LISTEN)
        if not ipv6:
            return port
        with socket.socket(socket.AF_INET6) as sock, contextlib.suppress(OSError):
            sock.bind((LISTEN_IPV6, port))
            return port


def main_conf(directory: Path, included: Path) -> str:
    # What the image's own nginx.conf does around conf.d, with every path under `directory`.
    return f"""
daemon off;
user root;
worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/error.log notice;
events {{ worker_connections 64; }}
http {{
    access_log {directory}/access.log;
    default_type application/octet-stream;
    client_body_temp_path {directory}/client_body;
    proxy_temp_path {directory}/proxy;
    fastcgi_temp_path {directory}/fastcgi;
    uwsgi_temp_path {directory}/uwsgi;
    scgi_temp_path {directory}/scgi;
    include {included};
}}
"""


def self_signed(directory: Path) -> tuple[Path, Path]:
    certificate, key = directory / "fullchain.pem", directory / "privkey.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(certificate)],
                   check=True, capture_output=True)
    return certificate, key


def _no_verification() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    return context


class Site:
    def __init__(self, https_port: int, http_port: int, log: Path, ipv6: bool):
        self.https_port, self.http_port, self.log = https_port, http_port, log
        self.ipv6 = ipv6  # whether nginx listens on ::1 too

    def call(self, source: str, method: str, path: str, body: dict | None = None,
             headers: dict | None = None, tls: bool = True, host: str = LISTEN):
        connection = (
            http.client.HTTPSConnection(host, self.https_port, context=_no_verification(),
                                        timeout=10, source_address=(source, 0))
            if tls else
            http.client.HTTPConnection(host, self.http_port, timeout=10,
                                       source_address=(source, 0)))
        headers = dict(headers or {})
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            return response.status, response.headers, response.read()
        finally:
            connection.close()

    def raw(self, request: bytes, tls: bool = True, port: int | None = None):
        """Bytes sent as they are, from a reader; nginx's status, headers and body."""
        port = port or (self.https_port if tls else self.http_port)
        with socket.create_connection((LISTEN, port), timeout=10,
                                      source_address=(READER, 0)) as plain:
            sock = (_no_verification().wrap_socket(plain, server_hostname="localhost")
                    if tls else plain)
            return live.raw_answer(sock, request)


@contextlib.contextmanager
def nginx_in_front(directory: Path, upstream: str, ready_status: int = 200,
                   https_port_named: int | None = None) -> Iterator[Site]:
    """nginx running deploy/nginx.conf in front of `upstream`, once /healthz answers through
    it with `ready_status`. With `https_port_named`, the file is filled in with that HTTPS port
    (443, say) and nginx listens on a free one instead."""
    binary = shutil.which("nginx", path="/usr/sbin:/usr/local/sbin:/usr/bin")
    if binary is None:
        required("nginx is required (apt-get install nginx; .ci/run installs it)")
    directory.mkdir(parents=True, exist_ok=True)
    certificate, key = self_signed(directory)
    ipv6 = has_ipv6_loopback()
    https_port, http_port = free_port_for_nginx(ipv6), free_port_for_nginx(ipv6)
    site_conf = directory / "engagement.conf"
    filled = on_loopback(fill((DEPLOY / "nginx.conf").read_text(), {
        "UPSTREAM": upstream, "SERVER_NAME": "localhost",
        "HTTP_PORT": str(http_port), "HTTPS_PORT": str(https_port_named or https_port),
        "TLS_CERTIFICATE": str(certificate), "TLS_CERTIFICATE_KEY": str(key),
        "STAFF_NETWORK": f"{STAFF}/32",
        "STAFF_NETWORK_V6": f"{LISTEN_IPV6}/128", "CACHE_DIR": str(directory / "cache"),
        "ACCESS_LOG": "/dev/stdout",  # as in the image
    }), ipv6)
    if https_port_named:
        filled = re.sub(rf"(?m)^(\s*listen \S+:){https_port_named}( ssl)", rf"\g<1>{https_port}\2",
                        filled)
    site_conf.write_text(filled)
    conf = directory / "nginx.conf"
    conf.write_text(main_conf(directory, site_conf))
    log = directory / "nginx.out"
    with log.open("wb") as out:
        process = subprocess.Popen([binary, "-c", str(conf), "-p", str(directory)],
                                   stdin=subprocess.DEVNULL, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    site = Site(https_port, http_port, log, ipv6)  # log: nginx's stdout (the access log)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                error_log = directory / "error.log"
                pytest.fail(f"nginx exited: {log.read_text()}"
                            f"{error_log.read_text() if error_log.exists() else ''}")
            with contextlib.suppress(OSError):
                if site.call(READER, "GET", "/healthz")[0] == ready_status:
                    break
            if time.monotonic() > deadline:
                pytest.fail(f"no answer through nginx in {START_TIMEOUT}s")
            time.sleep(0.05)
        yield site
    finally:
        stop(process)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    directory = tmp_path_factory.mktemp("deploy")
    settings = {"ENGAGEMENT_TRUSTED_PROXIES": "127.0.0.1",
                "ENGAGEMENT_LIMIT_COMMENTS": "100/minute"}
    (directory / "app").mkdir()
    with gunicorn(directory / "app", settings) as app:
        upstream = app.base.removeprefix("http://")
        with nginx_in_front(directory / "nginx", upstream) as site:
            yield app, site


@pytest.mark.live
def test_readers_use_the_public_api_over_https(stack):
    _, site = stack
    status, _, body = site.call(READER, "POST", "/api/v1/articles/deployed/comments",
                                comment_fields(body="Through the proxy."))
    assert status == 201, body
    status, headers, body = site.call(READER, "GET", "/api/v1/articles/deployed/comments",
                                      headers={"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["Strict-Transport-Security"] == "max-age=31536000"
    assert headers.get_all("X-Content-Type-Options") == ["nosniff"]  # nginx's, not twice
    text = gzip.decompress(body) if headers.get("Content-Encoding") == "gzip" else body
    assert json.loads(text)["items"][0]["body_html"] == "<p>Through the proxy.</p>"


@pytest.mark.live
def test_plain_http_redirects_to_https(stack):
    _, site = stack
    status, headers, _ = site.call(READER, "GET", "/api/v1/articles/x", tls=False)
    assert status == 301
    assert headers["Location"] == f"https://localhost:{site.https_port}/api/v1/articles/x"
    assert headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.live
def test_plain_http_redirects_to_https_on_443_without_a_port(tmp_path):
    down = f"127.0.0.1:{live.free_port()}"
    with nginx_in_front(tmp_path, down, ready_status=503, https_port_named=443) as site:
        status, headers, _ = site.call(READER, "GET", "/api/v1/articles/x?page=2", tls=False)
    assert (status, headers["Location"]) == (301, "https://localhost/api/v1/articles/x?page=2")


@pytest.mark.live
def test_readers_reach_the_site_over_ipv6(stack):
    _, site = stack
    if not site.ipv6:
        pytest.skip("this machine has no IPv6 address on its loopback interface")
    status, _, body = site.call(LISTEN_IPV6, "GET", "/healthz", host=LISTEN_IPV6)
    assert status == 200, body
    status, headers, _ = site.call(LISTEN_IPV6, "GET", "/healthz", host=LISTEN_IPV6, tls=False)
    assert (status, headers["Location"]) == (301, f"https://localhost:{site.https_port}/healthz")


@pytest.mark.live
def test_staff_on_ipv6_reach_the_staff_paths(stack):
    _, site = stack
    if not site.ipv6:
        pytest.skip("this machine has no IPv6 address on its loopback interface")
    status, _, body = site.call(LISTEN_IPV6, "GET", "/metrics", host=LISTEN_IPV6)
    assert status == 200, body
    assert site.call(READER, "GET", "/metrics")[0] == 403  # IPv4 readers are still refused


def assert_envelope(status: int, headers, body: bytes, code: int, reason: str) -> None:
    assert status == code, body
    assert headers["content-type"] == "application/json"
    assert headers["x-content-type-options"] == "nosniff"
    answer = json.loads(body)
    assert answer == envelope(code, answer["message"], reason)


# What nginx refuses before the service sees it, as gunicorn does the same requests
# (tests/test_hardening.py): nginx's 494 is a 431 here, its 501 and 505 a 400.
NGINX_REFUSES = [
    pytest.param(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"a" * 9000
                 + b"\r\n\r\n", 431, "malformed_request", id="a-header-too-large"),
    pytest.param(b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n", 414,
                 "uri_too_long", id="a-path-too-long"),
    pytest.param(b"NONSENSE\r\n\r\n", 400, "malformed_request", id="no-request-line"),
    pytest.param(b"GET / HTTP/2.0\r\nHost: localhost\r\n\r\n", 400, "malformed_request",
                 id="an-http-version-nginx-does-not-speak"),
    pytest.param(b"POST /api/v1/articles/a/comments HTTP/1.1\r\nHost: localhost\r\n"
                 b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400,
                 "malformed_request", id="a-length-and-chunks"),
    pytest.param(b"POST /api/v1/articles/a/comments HTTP/1.1\r\nHost: localhost\r\n"
                 b"Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}", 400, "malformed_request",
                 id="two-lengths"),
    pytest.param(b"POST /api/v1/articles/a/comments HTTP/1.1\r\nHost: localhost\r\n"
                 b"Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n", 400,
                 "malformed_request", id="a-transfer-coding-nginx-does-not-implement"),
    pytest.param(b"TRACE /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n", 405,
                 "method_not_allowed", id="trace"),
]


@pytest.mark.live
@pytest.mark.parametrize("tls", [True, False], ids=["https", "http"])
@pytest.mark.parametrize(("request_bytes", "code", "reason"), NGINX_REFUSES)
def test_nginxs_own_refusals_are_the_envelope_on_both_ports(stack, request_bytes, code, reason,
                                                            tls):
    _, site = stack

    status, headers, body = site.raw(request_bytes, tls=tls)

    assert_envelope(status, headers, body, code, reason)
    if tls:
        assert headers["strict-transport-security"] == "max-age=31536000"


@pytest.mark.live
def test_plain_http_sent_to_the_https_port_is_the_envelope(stack):
    _, site = stack
    status, headers, body = site.raw(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n",
                                     tls=False, port=site.https_port)
    assert_envelope(status, headers, body, 400, "malformed_request")


@pytest.mark.live
def test_nginxs_other_answers_of_its_own_are_the_envelope(stack):
    _, site = stack
    site.call(READER, "GET", "/widget/engagement.js")  # now in nginx's cache

    changed = site.call(READER, "GET", "/widget/engagement.js", headers={"If-Match": '"other"'})
    refusals_page = site.call(READER, "GET", "/.engagement-errors/forbidden")

    for (status, headers, body), code, reason in [(changed, 412, "validation"),
                                                  (refusals_page, 404, "not_found")]:
        lowered = {name.lower(): value for name, value in headers.items()}
        assert_envelope(status, lowered, body, code, reason)


@pytest.mark.live
def test_a_service_that_is_down_is_a_503_envelope(tmp_path):
    down = f"127.0.0.1:{live.free_port()}"  # nothing listens there
    with nginx_in_front(tmp_path, down, ready_status=503) as site:
        status, headers, body = site.call(READER, "GET", "/api/v1/articles/x",
                                          headers={"Origin": "https://news.example"})

    lowered = {name.lower(): value for name, value in headers.items()}
    assert_envelope(status, lowered, body, 503, "unavailable")
    assert headers["Retry-After"] == "5"
    assert headers["Strict-Transport-Security"] == "max-age=31536000"
    # The widget on the site's pages may read it, and when to try again, as the service's own.
    assert headers["Access-Control-Allow-Origin"] == "https://news.example"
    assert "Retry-After" in headers["Access-Control-Expose-Headers"]


@pytest.mark.parametrize("path", ["/metrics", "/api/v1/admin/comments", "/admin/",
                                  "/readyz", "/api/v1/openapi.json", "/api/v1/docs"])
@pytest.mark.live
def test_staff_paths_are_refused_to_readers_in_json(stack, path):
    _, site = stack
    status, headers, body = site.call(READER, "GET", path)
    assert status == 403
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body)["reason"] == "forbidden"


@pytest.mark.live
def test_staff_reach_the_admin_api_and_see_the_readers_real_address(stack):
    app, site = stack
    site.call("127.0.0.12", "POST", "/api/v1/articles/addresses/comments",
              comment_fields(body="Where am I from?"))
    token = make_token(app_for(app))
    status, _, body = site.call(STAFF, "GET", "/api/v1/admin/comments?status=all&article=addresses",
                                headers={"Authorization": f"Bearer {token}"})
    assert status == 200, body
    assert [item["client_ip"] for item in json.loads(body)["items"]] == ["127.0.0.12"]
    assert site.call(STAFF, "GET", "/metrics")[0] == 200


@pytest.mark.live
def test_links_tokens_never_reach_nginxs_access_log(stack):
    _, site = stack
    in_query, in_path = secrets.token_urlsafe(32), secrets.token_urlsafe(32)

    site.call(READER, "GET", f"/newsletter/confirm?token={in_query}",
              headers={"Referer": f"https://news.example/newsletter/confirm?token={in_query}"})
    site.call(READER, "GET", f"/newsletter/unsubscribe/{in_path}")
    time.sleep(0.2)  # nginx writes the line after the answer
    log = site.log.read_text()

    assert in_query not in log and in_path not in log, log
    assert '"GET /newsletter/confirm HTTP/1.1" 404' in log  # an unknown token's page
    assert '"GET /newsletter/unsubscribe/[redacted] HTTP/1.1" 404' in log


@pytest.mark.live
def test_nginxs_refusals_are_logged_with_the_clients_request_line(stack):
    """An error page is an internal redirect to a GET of the page's path; the log still says
    what the client asked for, its token still redacted."""
    _, site = stack
    token = secrets.token_urlsafe(32)

    site.call(READER, "POST", "/api/v1/articles/logged/comments", b"x" * 70_000)
    site.call(READER, "GET", "/admin/?from=log")
    site.call(READER, "POST", f"/newsletter/unsubscribe/{token}?token={token}", b"x" * 70_000)
    site.raw(b"NONSENSE\r\n\r\n")
    time.sleep(0.2)  # nginx writes the line after the answer
    log = site.log.read_text()

    assert '"POST /api/v1/articles/logged/comments HTTP/1.1" 413' in log, log
    assert '"GET /admin/ HTTP/1.1" 403' in log, log
    assert '"POST /newsletter/unsubscribe/[redacted] HTTP/1.1" 413' in log, log
    assert '"NONSENSE [unreadable]" 400' in log, log
    assert token not in log, log
    assert "payload-too-large" not in log and "bad-request" not in log, log  # the pages' paths


@pytest.mark.live
def test_the_widget_is_compressed_and_cached_by_nginx(stack):
    _, site = stack
    answers = [site.call(READER, "GET", "/widget/engagement.js",
                         headers={"Accept-Encoding": "gzip"}) for _ in range(2)]
    (first_status, first, body), (_, second, _) = answers
    assert first_status == 200
    assert first["Content-Encoding"] == "gzip"
    assert b"engagement" in gzip.decompress(body)
    assert second["X-Cache-Status"] == "HIT"
    plain_status, plain, plain_body = site.call(READER, "GET", "/widget/engagement.js")
    assert plain_status == 200 and "Content-Encoding" not in plain  # never gzip unasked
    assert b"engagement" in plain_body
    # Brotli, for a browser that takes it, is cached beside gzip: neither is sent for the other.
    for _ in range(2):
        _, br, br_body = site.call(READER, "GET", "/widget/engagement.js",
                                   headers={"Accept-Encoding": "gzip, deflate, br"})
        assert br["Content-Encoding"] == "br"
        assert b"engagement" in brotli.decompress(br_body)
    assert br["X-Cache-Status"] == "HIT"
    _, again, again_body = site.call(READER, "GET", "/widget/engagement.js",
                                     headers={"Accept-Encoding": "gzip"})
    assert again["Content-Encoding"] == "gzip" and again["X-Cache-Status"] == "HIT"
    assert b"engagement" in gzip.decompress(again_body)


@pytest.mark.live
def test_oversized_bodies_stop_at_nginx_in_json(stack):
    _, site = stack
    status, _, body = site.call(READER, "POST", "/api/v1/articles/big/comments",
                                b'{"body": "' + b"x" * 70_000 + b'"}')
    assert status == 413
    assert json.loads(body)["reason"] == "payload_too_large"


@pytest.mark.live
def test_nginx_starts_under_systemd_with_the_documented_access_log(tmp_path):
    """Under systemd nginx's stdout is the journal's socket, which /dev/stdout cannot open; the
    file docs/deployment.md gives for ACCESS_LOG can be."""
    binary = shutil.which("nginx", path="/usr/sbin:/usr/local/sbin:/usr/bin")
    if binary is None:
        required("nginx is required (apt-get install nginx; .ci/run installs it)")
    documented = re.search(r"`ACCESS_LOG` is a file, e\.g\. `(/[^`]+)`",
                           (ROOT / "docs" / "deployment.md").read_text()).group(1)
    certificate, key = self_signed(tmp_path)
    ipv6 = has_ipv6_loopback()
    site_conf = tmp_path / "engagement.conf"
    site_conf.write_text(on_loopback(fill((DEPLOY / "nginx.conf").read_text(), {
        "UPSTREAM": "127.0.0.1:9", "SERVER_NAME": "localhost",
        "HTTP_PORT": str(free_port_for_nginx(ipv6)), "HTTPS_PORT": str(free_port_for_nginx(ipv6)),
        "TLS_CERTIFICATE": str(certificate), "TLS_CERTIFICATE_KEY": str(key),
        "STAFF_NETWORK": f"{STAFF}/32", "STAFF_NETWORK_V6": "::1/128",
        "CACHE_DIR": str(tmp_path / "cache"),
        "ACCESS_LOG": str(tmp_path / Path(documented).name),  # the same name, kept in tmp_path
    }), ipv6))
    conf = tmp_path / "nginx.conf"
    conf.write_text(main_conf(tmp_path, site_conf))
    journal, stdout = socket.socketpair()
    with journal, stdout:
        checked = subprocess.run([binary, "-t", "-c", str(conf), "-p", str(tmp_path)],
                                 stdin=subprocess.DEVNULL, stdout=stdout, stderr=subprocess.PIPE,
                                 text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr


def test_compose_logs_nginx_to_the_containers_stdout():
    nginx = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]["nginx"]
    assert nginx["environment"]["ACCESS_LOG"] == "/dev/stdout"


def seconds(nginx_time: str) -> float:
    """An nginx time ("4s", "500ms", "1m", "60") in seconds."""
    number, unit = re.fullmatch(r"(\d+)(ms|s|m|h)?", nginx_time).groups()
    return int(number) * {"ms": 0.001, "s": 1, None: 1, "m": 60, "h": 3600}[unit]


def gunicorn_setting(name: str):
    """A setting of gunicorn.conf.py, read without running it (it sets the environment)."""
    tree = ast.parse((ROOT / "gunicorn.conf.py").read_text())
    for node in tree.body:
        targets = [getattr(target, "id", None) for target in getattr(node, "targets", [])]
        if targets == [name]:
            return ast.literal_eval(node.value)
    raise AssertionError(f"gunicorn.conf.py sets no {name}")


def test_nginx_closes_idle_upstream_connections_before_gunicorn_does():
    """nginx reused a connection gunicorn was closing (its default idle time is 60 s,
    gunicorn's keepalive 5 s) and does not resend a POST: a comment now and then was a 503."""
    upstream = re.search(r"(?ms)^upstream engagement \{(.*?)^\}",
                         (DEPLOY / "nginx.conf").read_text())[1]
    idle = re.search(r"(?m)^\s*keepalive_timeout\s+(\S+);", upstream)

    assert re.search(r"(?m)^\s*keepalive\s+\d+;", upstream), "no kept-alive connections"
    assert idle, "the upstream keeps idle connections 60 s, nginx's default"
    assert seconds(idle[1]) < gunicorn_setting("keepalive")


def app_for(server):
    """An app on the live server's own database, to make a token as operators do."""
    from engagement import create_app

    url = f"sqlite:///{server.log.parent / 'engagement.sqlite3'}"
    return create_app({"DATABASE_URL": url, "SECRET_KEY": "live-test-secret"})


# --- compose.yaml -------------------------------------------------------------------------


@pytest.mark.live
def test_compose_file_follows_the_compose_specification():
    checker = Path(sys.executable).with_name("check-jsonschema")
    result = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.compose-spec", str(DEPLOY / "compose.yaml")],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_names_only_real_settings_and_env_example_gives_each_variable():
    compose_text = (DEPLOY / "compose.yaml").read_text()
    compose = yaml.safe_load(compose_text)
    environment = compose["x-engagement"]["environment"]
    for key in environment:
        if key.startswith("ENGAGEMENT_"):
            assert key.removeprefix("ENGAGEMENT_") in DEFAULTS, f"{key} is not a setting"
    required_variables = set(re.findall(r"\$\{([A-Z_]+):\?", compose_text))
    example = dict(line.split("=", 1) for line in (DEPLOY / ".env.example").read_text().splitlines()
                   if line and not line.startswith("#"))
    assert required_variables <= set(example), required_variables - set(example)
    for service in ("app", "worker", "scheduler", "migrate"):
        assert compose["services"][service]["image"] == "engagement:local"
    for service in ("postgres", "redis", "nginx"):
        image = compose["services"][service]["image"]
        assert re.fullmatch(r"[a-z]+:\d+(\.\d+){1,2}-bookworm", image), f"{image} is not pinned"
        assert "healthcheck" in compose["services"][service]


def test_compose_runs_several_workers_that_deploy_env_can_change():
    """gunicorn alone runs one worker on any host: the stack ran one."""
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    app = compose["services"]["app"]["environment"]
    example = dict(line.split("=", 1) for line in (DEPLOY / ".env.example").read_text().splitlines()
                   if line and not line.startswith("#"))

    assert app["WEB_CONCURRENCY"] == "${WEB_CONCURRENCY:-2}"
    assert int(example["WEB_CONCURRENCY"]) > 1
    assert app["ENGAGEMENT_ENV"] == "production"  # the shared settings are still there
    settings = (ROOT / "docs" / "operations.md").read_text()
    assert "| `WEB_CONCURRENCY` |" in settings
    assert "| `PROMETHEUS_MULTIPROC_DIR` |" in settings


def test_compose_app_listens_on_every_interface_of_its_container(monkeypatch, tmp_path):
    """nginx reaches the app as app:8000 on the compose network; gunicorn's default bind,
    127.0.0.1:8000, would refuse it while the in-container health check still passed. The
    settings are read as gunicorn reads them for the service's command and environment."""
    from gunicorn.app.wsgiapp import WSGIApplication

    app = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]["app"]
    assert app["command"][0] == "gunicorn"
    monkeypatch.chdir(ROOT)  # the image's WORKDIR, where gunicorn.conf.py is
    for name in ("PORT", "GUNICORN_CMD_ARGS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in app["environment"].items():
        monkeypatch.setenv(name, str(value))
    # Reading gunicorn.conf.py names a metrics directory in the environment: this test's own.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    monkeypatch.setattr(sys, "argv", app["command"])

    settings = WSGIApplication("%(prog)s [OPTIONS] [APP_MODULE]").cfg

    assert settings.bind == ["0.0.0.0:8000"]
    assert str(app["expose"][0]) == "8000"
    assert "127.0.0.1:8000" in app["healthcheck"]["test"][-1]


# --- The image and the lock files ----------------------------------------------------------


def locked(name: str) -> dict[str, str]:
    pins = re.findall(r"^([A-Za-z0-9_.-]+)==([^\s]+)$", (ROOT / name).read_text(), re.M)
    return {canonical(package): version for package, version in pins}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_dependency_is_pinned_in_the_lock_files():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirement = re.compile(r"^([A-Za-z0-9_.-]+)")
    serving = {canonical(requirement.match(dep).group(1)) for dep in project["dependencies"]}
    dev = {canonical(requirement.match(dep).group(1))
           for dep in project["optional-dependencies"]["dev"]}
    assert serving - set(locked("requirements.lock")) == set(), "run pip-compile (see its header)"
    assert (serving | dev) - set(locked("requirements-dev.lock")) == set()
    # Serving and testing use the same versions of what they share.
    shared = set(locked("requirements.lock")) & set(locked("requirements-dev.lock"))
    assert {name for name in shared
            if locked("requirements.lock")[name] != locked("requirements-dev.lock")[name]} == set()


def test_the_tests_run_on_the_locked_versions():
    from importlib import metadata

    installed = {canonical(dist.metadata["Name"]): dist.version
                 for dist in metadata.distributions()}
    assert {name: (version, installed.get(name))
            for name, version in locked("requirements-dev.lock").items()
            if installed.get(name) != version} == {}


def floors() -> list[str]:
    """Each dependency of pyproject.toml at the lowest version its range allows."""
    import tomllib

    floor = re.compile(r"^([A-Za-z0-9_.-]+(?:\[[a-z,]+\])?)\s*>=\s*([^,\s]+)")
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    found = [floor.match(dependency) for dependency in dependencies]
    assert all(found), f"every dependency has a floor: {dependencies}"
    return [f"{match.group(1)}=={match.group(2)}" for match in found]


def index_reachable() -> bool:
    try:
        with urllib.request.urlopen("https://pypi.org/simple/pip/", timeout=10):
            return True
    except OSError:
        return False


@pytest.mark.live
def test_the_floors_in_pyproject_install_and_serve(tmp_path):
    """What a user installing the package alongside older libraries may get: every
    dependency at its floor installs together, and the service starts and takes a comment.
    The suite's own pip installs into a virtualenv made without pip (putting pip there took
    6 s), compiling nothing ahead (7 s): the server compiles what it imports, so a module that
    does not compile still fails its start."""
    venv = tmp_path / "floors"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=120)
    python = str(venv / "bin" / "python")
    installed = subprocess.run([sys.executable, "-m", "pip", "--python", python, "install",
                                "--quiet", "--no-compile", *floors()],
                               capture_output=True, text=True, timeout=900)
    if installed.returncode != 0 and not index_reachable():
        pytest.skip("the package index cannot be reached: the floors cannot be installed")
    assert installed.returncode == 0, installed.stderr[-3000:]

    (tmp_path / "app").mkdir()
    with gunicorn(tmp_path / "app", {}, python=python) as server:
        posted = live.request(f"{server.base}/api/v1/articles/floors/comments",
                              data=json.dumps(comment_fields(body="Hello *there*, see "
                                                             "https://example.com")).encode(),
                              headers={"Content-Type": "application/json"}, method="POST")
        listed = live.request(f"{server.base}/api/v1/articles/floors/comments")

    assert posted[0] == 201, posted[1][:2000]
    body_html = json.loads(listed[1])["items"][0]["body_html"]
    assert "<em>there</em>" in body_html and 'href="https://example.com"' in body_html


@pytest.mark.live
def test_the_image_is_pinned_locked_unprivileged_and_health_checked():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:\d+\.\d+\.\d+-slim-bookworm$", dockerfile, re.M)
    assert "pip install -r requirements.lock" in dockerfile
    assert re.search(r"^USER engagement$", dockerfile, re.M)
    assert "/healthz" in dockerfile.split("HEALTHCHECK", 1)[1].split("\n\n")[0]
    # The commands it and compose.yaml run are the engagement command's own.
    for command in (["db", "upgrade"], ["outbox", "deliver", "--watch"],
                    ["jobs", "run", "--watch"]):
        assert " ".join(["engagement", *command]) in dockerfile
        helped = subprocess.run([str(Path(sys.executable).with_name("engagement")), *command[:2],
                                 "--help"], capture_output=True, text=True, timeout=60)
        assert helped.returncode == 0, helped.stderr

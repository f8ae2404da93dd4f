"""Faults injected into a live gunicorn's own dependencies: a frozen PostgreSQL (SIGSTOP of the
server and its backends) answers fast 503s and recovers by itself after SIGCONT; a frozen Redis
keeps the service answering on per-process limits; /healthz never waits on either."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import comment_fields
from tests.live import gunicorn, request
from tests.services import OwnPostgres, OwnRedis

pytestmark = pytest.mark.live  # gunicorn, and a PostgreSQL and a Redis of their own

ARTICLE = "/api/v1/articles/faults"
COMMENTS = f"{ARTICLE}/comments"
JSON = {"Content-Type": "application/json"}


def timed(url: str, data: bytes | None = None, headers: dict | None = None):
    """(status, answer, headers, seconds) of one request."""
    started = time.monotonic()
    status, body, answer_headers = request_with_headers(url, data, headers)
    return status, body, answer_headers, time.monotonic() - started


def request_with_headers(url, data=None, headers=None):
    call = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(call, timeout=30) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


def comment_body() -> bytes:
    return json.dumps(comment_fields()).encode()


def wait_for(check, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return check()


@pytest.fixture(scope="module")
def own_postgres():
    server = OwnPostgres().start()
    yield server
    server.stop()


@pytest.fixture
def own_redis_server(tmp_path):
    server = OwnRedis(tmp_path).start()
    yield server
    server.stop()


# Short timeouts, so that the test is quick; the defaults are a few seconds.
DATABASE_TIMEOUTS = {
    "ENGAGEMENT_DATABASE_STATEMENT_TIMEOUT": "1",
    "ENGAGEMENT_DATABASE_CONNECT_TIMEOUT": "2",
    "ENGAGEMENT_DATABASE_POOL_TIMEOUT": "1",
    "ENGAGEMENT_READYZ_TIMEOUT": "0.5",
    "ENGAGEMENT_RETRY_AFTER_SECONDS": "7",
}
# The longest a request may wait for a frozen database: the pool's ping gives up after the
# statement timeout and its grace (1.5 s), then a new connection after the connect timeout
# (2 s); a second of slack for a loaded machine.
LONGEST_WAIT = 4.5


@pytest.mark.postgres
def test_a_frozen_database_gets_fast_503s_and_the_service_recovers(own_postgres, tmp_path):
    # Three comments a minute: one now, two after the outage, whatever the outage refused.
    # (The two writes refused during it each hold a place while they wait: with one place
    # left, the second would be told 429, as it would have been had the first gone through.)
    settings = {"DATABASE_URL": own_postgres.new_database(), **DATABASE_TIMEOUTS,
                "ENGAGEMENT_LIMIT_COMMENTS": "3/minute"}
    # Threads to spare: /healthz must not wait behind the requests that wait on the database.
    with gunicorn(tmp_path, settings, workers=1, threads=8) as server:
        assert request(f"{server.base}{COMMENTS}", comment_body(), JSON)[0] == 201

        with own_postgres.frozen(), ThreadPoolExecutor(8) as pool:
            reads = [pool.submit(timed, f"{server.base}{COMMENTS}") for _ in range(3)]
            writes = [pool.submit(timed, f"{server.base}{COMMENTS}", comment_body(), JSON)
                      for _ in range(2)]
            ready = pool.submit(timed, f"{server.base}/readyz")
            time.sleep(0.2)  # the others are waiting on the database now
            health = timed(f"{server.base}/healthz")
            answers = [future.result() for future in [*reads, *writes, ready]]

        assert health[0] == 200 and health[3] < 0.5
        for status, body, headers, seconds in answers:
            assert status == 503, body
            assert json.loads(body)["reason"] == "unavailable"
            assert headers["Retry-After"] == "7"
            assert seconds < LONGEST_WAIT

        # Thawed: the same workers serve again, without a restart, and the refused writes
        # left the client's quota as it was.
        assert wait_for(lambda: request(f"{server.base}/readyz")[0] == 200, timeout=10)
        assert [request(f"{server.base}{COMMENTS}", comment_body(), JSON)[0]
                for _ in range(3)] == [201, 201, 429]
        listed = json.loads(request(f"{server.base}{COMMENTS}")[1])
        assert listed["total"] == 3  # the first comment and these two: no 503 wrote anything
        assert server.process.poll() is None


@pytest.mark.postgres
def test_a_database_that_stops_answering_mid_request_is_a_503_within_the_timeout(
        own_postgres, tmp_path):
    settings = {"DATABASE_URL": own_postgres.new_database(), **DATABASE_TIMEOUTS}
    with gunicorn(tmp_path, settings, workers=1, threads=4) as server:
        assert request(f"{server.base}{ARTICLE}")[0] == 200
        with own_postgres.frozen():
            first = timed(f"{server.base}{ARTICLE}")
            second = timed(f"{server.base}{ARTICLE}")
        assert (first[0], second[0]) == (503, 503)
        assert first[3] < LONGEST_WAIT and second[3] < LONGEST_WAIT
        assert wait_for(lambda: request(f"{server.base}{ARTICLE}")[0] == 200, timeout=10)


@pytest.mark.postgres
def test_shares_committed_together_while_the_database_is_frozen_are_503s_and_none_stored(
        own_postgres, tmp_path):
    """Shares that wait to be committed together (engagement/group_commit.py) on a database
    that does not answer: each is a 503 within the timeout, none is answered 200 or stored."""
    settings = {"DATABASE_URL": own_postgres.new_database(), **DATABASE_TIMEOUTS,
                "ENGAGEMENT_TRUSTED_PROXIES": "127.0.0.1"}
    with gunicorn(tmp_path, settings, workers=1, threads=8) as server:
        def share(reader: str):
            return timed(f"{server.base}{ARTICLE}/shares", b'{"network": "facebook"}',
                         {**JSON, "X-Forwarded-For": reader})

        assert share("10.0.0.1")[0] == 200
        with own_postgres.frozen(), ThreadPoolExecutor(6) as pool:
            answers = list(pool.map(share, [f"10.0.1.{n}" for n in range(6)]))

        for status, body, headers, seconds in answers:
            assert status == 503, body
            assert json.loads(body)["reason"] == "unavailable"
            assert headers["Retry-After"] == "7"
            assert seconds < LONGEST_WAIT
        assert wait_for(lambda: request(f"{server.base}{ARTICLE}")[0] == 200, timeout=10)
        assert json.loads(request(f"{server.base}{ARTICLE}/shares")[1])["facebook"] == 1
        status, body, _, _ = share("10.0.1.0")
        assert (status, json.loads(body)["share_counts"]["facebook"]) == (200, 2)


def test_a_frozen_redis_leaves_the_service_answering_on_per_process_limits(
        own_redis_server, tmp_path):
    settings = {"ENGAGEMENT_RATELIMIT_STORAGE_URI": own_redis_server.url,
                "ENGAGEMENT_RATELIMIT_STORAGE_TIMEOUT": "0.3",
                "ENGAGEMENT_LIMIT_COMMENTS": "100/minute"}
    with gunicorn(tmp_path, settings, workers=1, threads=4) as server:
        assert request(f"{server.base}{COMMENTS}", comment_body(), JSON)[0] == 201

        with own_redis_server.frozen():
            started = time.monotonic()
            posted = [timed(f"{server.base}{COMMENTS}", comment_body(), JSON) for _ in range(3)]
            read = timed(f"{server.base}{COMMENTS}")
            ready = timed(f"{server.base}/readyz")
            during = time.monotonic() - started

        assert [answer[0] for answer in posted] == [201, 201, 201]
        assert read[0] == 200
        assert ready[0] == 200 and json.loads(ready[1])["checks"]["rate_limits"] == "degraded"
        assert max(answer[3] for answer in [*posted, read, ready]) < 1.5
        assert during < 5

        def limits_shared_again():
            answer = json.loads(request(f"{server.base}/readyz")[1])
            return answer["checks"]["rate_limits"] == "ok"

        assert wait_for(limits_shared_again, timeout=20)
        assert request(f"{server.base}{COMMENTS}", comment_body(), JSON)[0] == 201

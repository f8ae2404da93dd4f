"""Rate limits per client address: counted in memory or in Redis, shared by workers, taken
when a write is checked (a parallel burst gets exactly the limit) and given back when it is
refused, and surviving a Redis outage (writes per process, reads unlimited, /readyz degraded)."""

import itertools
import json
import os
import shutil
import sqlite3
import subprocess
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from limits import parse
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from engagement.comments import services
from engagement.errors import Unavailable
from engagement.extensions import limiter
from engagement.limits import give_back
from tests.conftest import comment_fields
from tests.live import free_port, gunicorn, request

LOCAL_REDIS = "redis://127.0.0.1:6379/0"
COMMENTS = "/api/v1/articles/an-article/comments"


@pytest.fixture(scope="session")
def redis_url():
    url = os.environ.get("TEST_REDIS_URL", LOCAL_REDIS)
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError as exc:
        reason = f"needs Redis at {url}: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"under CI, Redis is required: {reason}")
        pytest.skip(reason)
    return url


def post(client, reader="198.51.100.1", article="an-article", **headers):
    return client.post(f"/api/v1/articles/{article}/comments", json=comment_fields(),
                       environ_base={"REMOTE_ADDR": reader}, headers=headers)


def assert_rate_limited(response):
    assert response.status_code == 429
    assert response.json["reason"] == "rate_limited"
    assert response.json["code"] == 429
    assert 0 < int(response.headers["Retry-After"]) <= 3600


def test_comments_past_the_limit_get_429_and_are_not_stored(make_app):
    client = make_app(LIMIT_COMMENTS="3/minute").test_client()

    answers = [post(client) for _ in range(4)]

    assert [answer.status_code for answer in answers] == [201, 201, 201, 429]
    assert_rate_limited(answers[3])
    assert client.get(COMMENTS).json["total"] == 3


def test_answers_carry_the_limit_headers(make_app):
    client = make_app(LIMIT_COMMENTS="3/minute").test_client()

    first = post(client)

    assert first.headers["X-RateLimit-Limit"] == "3"
    assert first.headers["X-RateLimit-Remaining"] == "2"
    assert int(first.headers["X-RateLimit-Reset"]) > 0
    # Retry-After only where there is something to wait for: a 429, not an answer that passed.
    assert "Retry-After" not in first.headers
    assert "Retry-After" not in client.get("/api/v1/articles/an-article/comments").headers
    refused = [post(client) for _ in range(3)][-1]  # the fourth of 3/minute
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0


def test_the_comment_limit_spans_articles(make_app):
    client = make_app(LIMIT_COMMENTS="2/minute").test_client()

    codes = [post(client, article=name).status_code for name in ("one", "two", "three")]

    assert codes == [201, 201, 429]


def test_every_limit_of_a_setting_applies(make_app):
    client = make_app(LIMIT_COMMENTS="10/minute;2/hour").test_client()

    assert [post(client).status_code for _ in range(3)] == [201, 201, 429]


def test_clients_are_counted_apart(make_app):
    client = make_app(LIMIT_COMMENTS="1/minute").test_client()

    assert post(client, "198.51.100.1").status_code == 201
    assert post(client, "198.51.100.2").status_code == 201
    assert post(client, "198.51.100.1").status_code == 429


def test_ipv6_clients_are_counted_by_their_64(make_app):
    client = make_app(LIMIT_COMMENTS="2/minute").test_client()

    assert post(client, "2001:db8:1:1::a").status_code == 201
    assert post(client, "2001:db8:1:1:ffff::b").status_code == 201
    assert post(client, "2001:db8:1:1::c").status_code == 429
    assert post(client, "2001:db8:1:2::a").status_code == 201


def test_clients_behind_a_trusted_proxy_are_counted_apart(make_app):
    client = make_app(LIMIT_COMMENTS="1/minute", TRUSTED_PROXIES=["10.0.0.0/8"]).test_client()

    def via_proxy(reader):
        return post(client, "10.0.0.2", **{"X-Forwarded-For": reader}).status_code

    assert [via_proxy("203.0.113.5"), via_proxy("203.0.113.6"), via_proxy("203.0.113.5")] == [
        201, 201, 429]


def test_edits_and_deletes_share_one_limit(make_app):
    client = make_app(LIMIT_EDITS="2/hour").test_client()
    posted = [post(client).json for _ in range(2)]

    def edit(item):
        return client.patch(f"/api/v1/comments/{item['comment']['id']}", json={"body": "x"},
                            headers={"X-Edit-Token": item["edit_token"]},
                            environ_base={"REMOTE_ADDR": "198.51.100.1"})

    def delete(item):
        return client.delete(f"/api/v1/comments/{item['comment']['id']}",
                             headers={"X-Edit-Token": item["edit_token"]},
                             environ_base={"REMOTE_ADDR": "198.51.100.1"})

    assert edit(posted[0]).status_code == 200
    assert delete(posted[1]).status_code == 204
    assert_rate_limited(edit(posted[0]))


def test_shares_are_limited(make_app):
    client = make_app(LIMIT_SHARES="2/minute").test_client()

    codes = [client.post("/api/v1/articles/a/shares", json={"network": network}).status_code
             for network in ("x", "email", "reddit")]

    assert codes == [200, 200, 429]


def test_reads_share_one_limit_that_writes_do_not_use(make_app):
    client = make_app(LIMIT_READS="3/minute").test_client()
    post(client, "127.0.0.1")

    codes = [client.get(path).status_code for path in (
        COMMENTS, "/api/v1/articles/an-article", "/api/v1/counts?ids=a", "/api/v1/trending")]

    assert codes == [200, 200, 200, 429]


def test_the_liveness_probe_is_never_limited(make_app):
    # /readyz and the OpenAPI document are public reads and count as such (tests/test_hardening.py);
    # the process manager's liveness probe must always answer.
    client = make_app(LIMIT_READS="1/minute").test_client()

    assert [client.get("/healthz").status_code for _ in range(5)] == [200] * 5


def test_limits_can_be_switched_off(make_app):
    client = make_app(LIMIT_COMMENTS="1/minute", RATELIMIT_ENABLED=False).test_client()

    assert [post(client).status_code for _ in range(3)] == [201, 201, 201]


# --- Redis ----------------------------------------------------------------------------------

def post_live(base: str) -> int:
    body = json.dumps(comment_fields()).encode()
    return request(f"{base}{COMMENTS}", body, {"Content-Type": "application/json"})[0]


@pytest.mark.live
def test_gunicorn_workers_share_their_counts_through_redis(own_redis, tmp_path):
    # Four worker processes: only a shared store keeps the count at the limit, whichever
    # workers the requests land on.
    settings = {"ENGAGEMENT_LIMIT_COMMENTS": "5/minute",
                "ENGAGEMENT_RATELIMIT_STORAGE_URI": own_redis.url}
    with gunicorn(tmp_path, settings, workers=4) as server:
        codes = [post_live(server.base) for _ in range(12)]

    assert codes == [201] * 5 + [429] * 7


def burst(base: str, bodies: list[bytes]) -> list[int]:
    """POST each body to the comments of one article, all at once: one thread each, released
    together, as a page that fires its writes in parallel does; the answers' statuses."""
    barrier = threading.Barrier(len(bodies))

    def send(body):
        barrier.wait(timeout=60)
        return request(f"{base}{COMMENTS}", body, {"Content-Type": "application/json"})[0]

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(send, bodies))


def stored_comments(directory) -> int:
    """Comments in the live server's database, whatever their state."""
    with sqlite3.connect(directory / "engagement.sqlite3") as database:
        return database.execute("SELECT count(*) FROM comments").fetchone()[0]


VALID = json.dumps(comment_fields()).encode()
INVALID = json.dumps(comment_fields(body="")).encode()


@pytest.mark.live
def test_a_parallel_burst_gets_exactly_the_limit_in_one_process(tmp_path):
    # One worker with threads to spare, counting in its memory: the quota is taken when each
    # request is checked, not once its answer is out, so requests in flight cannot all pass.
    settings = {"ENGAGEMENT_LIMIT_COMMENTS": "5/minute"}
    with gunicorn(tmp_path, settings, workers=1, threads=8) as server:
        codes = burst(server.base, [VALID] * 40)

    assert Counter(codes) == {201: 5, 429: 35}
    assert stored_comments(tmp_path) == 5


@pytest.mark.live
def test_a_parallel_burst_gets_exactly_the_limit_across_workers(own_redis, tmp_path):
    settings = {"ENGAGEMENT_LIMIT_COMMENTS": "3/minute",
                "ENGAGEMENT_RATELIMIT_STORAGE_URI": own_redis.url}
    with gunicorn(tmp_path, settings, workers=2, threads=4) as server:
        codes = burst(server.base, [VALID] * 20)

    assert Counter(codes) == {201: 3, 429: 17}
    assert stored_comments(tmp_path) == 3


@pytest.mark.live
def test_a_burst_of_invalid_writes_leaves_the_whole_quota(own_redis, tmp_path):
    # Each invalid write holds a share of the quota while it is checked, so some of a burst
    # may be told 429 rather than 422; all of it is given back once they are answered.
    settings = {"ENGAGEMENT_LIMIT_COMMENTS": "3/minute",
                "ENGAGEMENT_RATELIMIT_STORAGE_URI": own_redis.url}
    with gunicorn(tmp_path, settings, workers=2, threads=4) as server:
        refused = burst(server.base, [INVALID] * 20)
        codes = burst(server.base, [VALID] * 20)

    assert 422 in refused and set(refused) <= {422, 429}
    assert Counter(codes) == {201: 3, 429: 17}
    assert stored_comments(tmp_path) == 3


@pytest.mark.live
def test_while_redis_is_down_each_worker_counts_its_share_of_the_limit(
        make_app, own_redis, monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "2")  # as gunicorn.conf.py sets it for two workers
    app = make_app(LIMIT_COMMENTS="4/minute", LIMIT_READS="6/minute",
                   RATELIMIT_STORAGE_URI=own_redis.url)
    client = app.test_client()
    own_redis.stop()

    assert [post(client).status_code for _ in range(3)] == [201, 201, 429]
    # Reads are not limited at all meanwhile (not even to their share: 3 a worker).
    assert [client.get(COMMENTS).status_code for _ in range(8)] == [200] * 8


def test_refused_writes_do_not_spend_the_quota(make_app):
    client = make_app(LIMIT_COMMENTS="2/minute").test_client()
    refused = [client.post(COMMENTS, json=comment_fields(body=""),
                           environ_base={"REMOTE_ADDR": "198.51.100.1"}) for _ in range(3)]

    assert [answer.status_code for answer in refused] == [422, 422, 422]
    assert [post(client).status_code for _ in range(3)] == [201, 201, 429]


def test_a_write_refused_by_one_limit_gives_back_what_the_others_took(make_app):
    client = make_app(LIMIT_COMMENTS="5/minute;2/hour").test_client()

    answers = [post(client) for _ in range(8)]

    assert [answer.status_code for answer in answers] == [201, 201] + [429] * 6
    # Each was refused by the hour's limit: the minute's did not fill up with refused writes.
    assert {answer.headers["X-RateLimit-Limit"] for answer in answers[2:]} == {"2"}


def test_an_idempotent_replay_does_not_spend_the_quota(make_app):
    client = make_app(LIMIT_COMMENTS="2/minute").test_client()

    first = post(client, **{"Idempotency-Key": "once"})
    replay = post(client, **{"Idempotency-Key": "once"})

    assert (first.status_code, replay.status_code) == (201, 201)
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert [post(client).status_code for _ in range(2)] == [201, 429]


@pytest.mark.live
def test_a_refused_write_is_given_back_to_the_store_that_took_it(make_app, own_redis,
                                                                monkeypatch):
    client = make_app(LIMIT_COMMENTS="2/minute",
                      RATELIMIT_STORAGE_URI=own_redis.url).test_client()
    assert post(client).status_code == 201

    def failing_while_the_limiter_changes_stores(*args, **kwargs):
        # As another request does when its command to Redis fails: the limiter counts in
        # memory from now on, but this request's quota was taken in Redis.
        limiter._storage_dead = True
        raise Unavailable()

    monkeypatch.setattr(services, "post_comment", failing_while_the_limiter_changes_stores)
    assert post(client).status_code == 503
    monkeypatch.undo()
    limiter._storage_dead = False  # Redis answers again

    assert [post(client).status_code for _ in range(2)] == [201, 429]


@pytest.fixture(params=["memory", "redis"])
def store(request):
    if request.param == "memory":
        return MemoryStorage()
    return storage_from_string(request.getfixturevalue("redis_url"))


def test_a_given_back_entry_frees_one_place_in_the_window(store):
    strategy, item = MovingWindowRateLimiter(store), parse("3/minute")
    client = ("test", str(uuid.uuid4()))
    assert [strategy.hit(item, *client) for _ in range(4)] == [True, True, True, False]

    give_back(strategy, item, item.key_for(*client))

    assert strategy.get_window_stats(item, *client).remaining == 1
    assert [strategy.hit(item, *client) for _ in range(2)] == [True, False]


def test_giving_back_to_a_store_that_does_not_answer_does_nothing():
    store = storage_from_string(f"redis://127.0.0.1:{free_port()}/0",
                                socket_connect_timeout=0.2, socket_timeout=0.2)
    item = parse("3/minute")

    give_back(MovingWindowRateLimiter(store), item, item.key_for("test", "client"))


def test_readyz_says_ok_with_redis_up(make_app, redis_url):
    client = make_app(RATELIMIT_STORAGE_URI=redis_url).test_client()

    assert client.get("/readyz").json == {
        "status": "ok", "checks": {"database": "ok", "rate_limits": "ok", "mail": "ok"}}


@pytest.fixture
def own_redis(tmp_path):
    """A Redis server of the test's own, which the test may stop and start again."""
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("under CI, redis-server is required")
        pytest.skip("needs redis-server on the PATH")
    port = free_port()

    class Server:
        url = f"redis://127.0.0.1:{port}/0"
        process = None

        def start(self):
            self.process = subprocess.Popen(
                [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", str(tmp_path)],
                stdout=subprocess.DEVNULL)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    redis.Redis.from_url(self.url).ping()
                    return
                except redis.exceptions.ConnectionError:
                    time.sleep(0.05)
            raise RuntimeError("redis-server did not start")

        def stop(self):
            self.process.terminate()
            self.process.wait(timeout=10)

    server = Server()
    server.start()
    yield server
    if server.process.poll() is None:
        server.stop()


_probe_addresses = (f"192.0.2.{n}" for n in itertools.count(1))


def probe(client):
    """/readyz as a load balancer asks it: from addresses of its own, whose reads the test's
    tight limit does not reach."""
    return client.get("/readyz", environ_base={"REMOTE_ADDR": next(_probe_addresses)})


@pytest.mark.live
def test_an_outage_falls_back_and_recovery_follows(make_app, own_redis):
    app = make_app(LIMIT_COMMENTS="2/minute", LIMIT_READS="2/minute",
                   RATELIMIT_STORAGE_URI=own_redis.url)
    client = app.test_client()
    assert post(client).status_code == 201

    own_redis.stop()
    # Writes go on, limited per process; reads go unlimited; the probe says degraded.
    assert [post(client).status_code for _ in range(3)] == [201, 201, 429]
    assert [client.get(COMMENTS).status_code for _ in range(5)] == [200] * 5
    ready = probe(client)
    assert ready.status_code == 200
    assert ready.json == {"status": "degraded",
                          "checks": {"database": "ok", "rate_limits": "degraded",
                                     "mail": "ok"}}

    own_redis.start()
    # flask-limiter looks at the store again after a back-off of a second or more.
    deadline = time.monotonic() + 20
    while probe(client).json["status"] != "ok" and time.monotonic() < deadline:
        time.sleep(0.25)
    assert probe(client).json["status"] == "ok"
    statuses = set()
    while time.monotonic() < deadline and 429 not in statuses:
        statuses.add(client.get(COMMENTS).status_code)
        time.sleep(0.25)
    assert 429 in statuses  # reads are limited again once the store is back


def test_the_mail_limits_keep_no_address_in_redis(make_app, redis_url):
    client = make_app(RATELIMIT_STORAGE_URI=redis_url, MAIL_BACKGROUND=False).test_client()
    store = redis.Redis.from_url(redis_url)
    before = set(store.keys("*mail*"))
    local, domain = f"reader-{uuid.uuid4().hex[:8]}", f"{uuid.uuid4().hex[:8]}.example"

    answer = client.post("/api/v1/newsletter/subscriptions",
                         json={"email": f"{local}@{domain}", "consent": True})

    assert answer.status_code == 202
    written = {key.decode() for key in set(store.keys("*mail*")) - before}
    assert {key.split("/")[1] for key in written} == {"mailbox", "mail-domain"}
    assert not [key for key in written if local in key or domain in key or "@" in key]

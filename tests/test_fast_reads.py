"""Public reads answered before Flask (engagement/fast_reads.py): a 304, or an answer already
built, given with the headers, limits and counts that Flask's own answer would carry."""

import time

import pytest
from limits import parse
from werkzeug.test import EnvironBuilder, run_wsgi_app

from engagement.extensions import limiter
from tests.conftest import comment_fields
from tests.services import OwnRedis
from tests.test_metrics import requests_of, samples

SITE, OTHER_SITE = "https://news.example", "https://elsewhere.example"
READS = [
    "/api/v1/articles/an-article/comments?limit=5",
    "/api/v1/articles/an-article",
    "/api/v1/counts?ids=an-article,another",
]


@pytest.fixture
def site(make_app):
    """An app with a comment on an-article, and the requests that reached Flask's hooks."""
    app = make_app(CORS_ORIGINS=[SITE, "https://second.example"], LIMIT_READS="100/minute")
    reached_flask = []
    app.before_request(lambda: reached_flask.append(1))
    client = app.test_client()
    assert client.post("/api/v1/articles/an-article/comments",
                       json=comment_fields()).status_code == 201
    return app, client, reached_flask


def flask_alone(app, path: str, headers: dict):
    """What Flask answers for a request, without the reads that come first."""
    environ = EnvironBuilder(path=path, headers=headers,
                             environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_environ()
    body, status, answer_headers = run_wsgi_app(app.wsgi_app.flask_app, environ)
    return int(status.split()[0]), answer_headers, b"".join(body)


def without_remaining(headers) -> list:
    return sorted((name, value) for name, value in headers.items()
                  if name != "X-RateLimit-Remaining")


@pytest.mark.parametrize("path", READS)
@pytest.mark.parametrize("origin", [None, SITE, OTHER_SITE])
@pytest.mark.parametrize("conditional", [True, False], ids=["304", "built before"])
def test_a_known_answer_comes_before_flask_as_flask_gives_it(site, path, origin, conditional):
    app, client, reached_flask = site
    headers = {"Origin": origin} if origin else {}
    built = client.get(path, headers=headers)
    assert built.status_code == 200
    if conditional:
        headers["If-None-Match"] = built.headers["ETag"]
    status, flask_headers, flask_body = flask_alone(app, path, headers)
    reached_flask.clear()

    answer = client.get(path, headers=headers)

    assert reached_flask == []
    assert answer.status_code == status == (304 if conditional else 200)
    assert answer.get_data() == flask_body
    assert without_remaining(answer.headers) == without_remaining(flask_headers)
    assert int(answer.headers["X-RateLimit-Remaining"]) == int(
        flask_headers["X-RateLimit-Remaining"]) - 1
    if origin == SITE:
        assert answer.headers["Access-Control-Allow-Origin"] == SITE
    elif origin == OTHER_SITE:
        assert "Access-Control-Allow-Origin" not in answer.headers


def test_a_new_answer_still_comes_from_flask_and_is_fresh(site):
    app, client, reached_flask = site
    path = READS[0]
    before = client.get(path)
    assert client.post("/api/v1/articles/an-article/comments",
                       json=comment_fields(body="A second thought.")).status_code == 201
    reached_flask.clear()

    after = client.get(path, headers={"If-None-Match": before.headers["ETag"]})

    assert reached_flask == [1]
    assert after.status_code == 200
    assert [item["body_html"] for item in after.get_json()["items"]][-1] == (
        "<p>A second thought.</p>")


@pytest.mark.parametrize("path, status, reason", [
    ("/api/v1/articles/never-seen", 404, "not_found"),
    ("/api/v1/articles/never-seen/comments", 404, "not_found"),
    ("/api/v1/counts?ids=", 422, "validation"),
    ("/api/v1/articles/an-article/comments?limit=0", 422, "validation"),
])
def test_reads_refused_are_refused_by_flask_as_before(make_app, path, status, reason):
    app = make_app(ARTICLES_AUTO_CREATE=False)
    client = app.test_client()
    headers = {"If-None-Match": '"anything"'}
    flask_status, _, flask_body = flask_alone(app, path, headers)

    answer = client.get(path, headers=headers)

    assert answer.status_code == flask_status == status
    assert answer.get_json()["reason"] == reason
    assert answer.get_data() == flask_body


def test_reads_before_flask_and_by_flask_share_the_reader_s_limit(make_app):
    client = make_app(LIMIT_READS="4/minute").test_client()
    path = READS[0]
    first = client.get(path)  # built by Flask
    etag = {"If-None-Match": first.headers["ETag"]}
    answers = [first, client.get(path, headers=etag), client.get(path),
               client.get(path, headers=etag)]

    refused = client.get(path, headers=etag)

    assert [answer.status_code for answer in answers] == [200, 304, 200, 304]
    assert [answer.headers["X-RateLimit-Remaining"] for answer in answers] == [
        "3", "2", "1", "0"]
    assert refused.status_code == 429
    assert refused.get_json()["reason"] == "rate_limited"
    another_reader = client.get(path, headers=etag,
                                environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert another_reader.status_code == 304
    assert another_reader.headers["X-RateLimit-Remaining"] == "3"


def test_a_read_refused_by_its_longer_limit_is_counted_once(make_app):
    # The minute's limit has room, the hour's is full: the read is refused once, by Flask,
    # and the minute counts it as flask-limiter does, once.
    client = make_app(LIMIT_READS="100/minute;2/hour").test_client()
    path = READS[1]
    etag = {"If-None-Match": client.get(path).headers["ETag"]}
    assert client.get(path, headers=etag).status_code == 304

    assert client.get(path, headers=etag).status_code == 429

    minute = limiter.limiter.get_window_stats(parse("100/minute"), "engagement", "127.0.0.1",
                                              "reads")
    assert minute.remaining == 97


def test_reads_answered_before_flask_are_in_the_metrics(make_app):
    client = make_app(METRICS_ALLOW=["127.0.0.1/32"]).test_client()
    path = READS[1]
    etag = {"If-None-Match": client.get(path).headers["ETag"]}
    before = samples(client)

    for _ in range(3):
        assert client.get(path, headers=etag).status_code == 304
    assert client.get(path).status_code == 200

    after = samples(client)
    endpoint = "articles.ArticleById"
    assert requests_of(after, endpoint, "304") - requests_of(before, endpoint, "304") == 3
    assert requests_of(after, endpoint, "200") - requests_of(before, endpoint, "200") == 1


def test_a_fault_of_the_shortcut_leaves_the_read_to_flask(site, monkeypatch, caplog):
    app, client, reached_flask = site
    path = READS[1]
    etag = {"If-None-Match": client.get(path).headers["ETag"]}
    remaining = int(client.get(path, headers=etag).headers["X-RateLimit-Remaining"])

    def broken(*args):
        raise RuntimeError("a bug")

    monkeypatch.setattr("engagement.fast_reads.get_cors_headers", broken)
    reached_flask.clear()
    answer = client.get(path, headers=etag)

    assert answer.status_code == 304
    assert reached_flask == [1]
    assert int(answer.headers["X-RateLimit-Remaining"]) == remaining - 1  # counted once
    assert "could not be answered before Flask" in caplog.text


def test_reads_share_the_reader_s_limit_without_a_key_prefix(make_app, monkeypatch):
    # ENGAGEMENT_RATELIMIT_KEY_PREFIX= (empty): flask-limiter then keys its counts without a
    # prefix, and the reads answered before Flask must count in those same entries. (The
    # limiter is one object for every app of the tests, and keeps the first prefix it read.)
    client = make_app(LIMIT_READS="3/minute", RATELIMIT_KEY_PREFIX="").test_client()
    monkeypatch.setattr(limiter, "_key_prefix", "")
    path = READS[1]
    etag = {"If-None-Match": client.get(path).headers["ETag"]}  # built by Flask

    answers = [client.get(path, headers=etag) for _ in range(3)]

    assert [answer.status_code for answer in answers] == [304, 304, 429]
    assert [answer.headers["X-RateLimit-Remaining"] for answer in answers] == ["1", "0", "0"]


@pytest.mark.live
def test_a_read_before_flask_waits_on_a_frozen_limit_store_once(make_app, tmp_path):
    # Each wait on the frozen store is its timeout (0.5 s). The read that meets the outage
    # first waits once and tells flask-limiter, which then counts in memory without asking
    # the store again; Flask alone (a HEAD) waits twice.
    server = OwnRedis(tmp_path).start()
    try:
        app = make_app(RATELIMIT_STORAGE_URI=server.url, RATELIMIT_STORAGE_TIMEOUT=0.5)
        client = app.test_client()
        path = READS[1]
        etag = {"If-None-Match": client.get(path).headers["ETag"]}
        with server.frozen():
            started = time.monotonic()
            assert client.head(path, headers=etag).status_code == 304  # HEAD: Flask's
            flask_alone = time.monotonic() - started
            limiter._storage_dead = False  # the outage met anew
            started = time.monotonic()
            assert client.get(path, headers=etag).status_code == 304
            before_flask = time.monotonic() - started
    finally:
        server.stop()

    assert before_flask < 0.75 < flask_alone, (before_flask, flask_alone)

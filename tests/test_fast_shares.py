"""Share POSTs answered before Flask (engagement/fast_shares.py): the answer, headers, limits,
metrics and idempotent replay that Flask's own view gives, and every unusual share left to
Flask, counted and written once."""

import functools
import json
import time

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.test import EnvironBuilder, run_wsgi_app

from engagement.articles.models import Article
from engagement.clock import now
from engagement.extensions import db
from engagement.fast_shares import FastShares
from engagement.moderation.models import BanKind
from engagement.moderation.services import create_ban
from engagement.shares.models import Share
from engagement.shares.services import record_shares_together
from tests.conftest import race
from tests.test_metrics import requests_of, samples

SITE, OTHER_SITE = "https://news.example", "https://elsewhere.example"
BODY = {"network": "facebook"}


@pytest.fixture
def site(make_app):
    """An app with two recorded articles, and the requests that reached Flask's hooks."""
    app = make_app(CORS_ORIGINS=[SITE], LIMIT_SHARES="100/minute")
    client = app.test_client()
    for article in ("one", "two"):
        assert post(client, article, reader="192.0.2.99", body={"network": "x"}).status_code == 200
    return app, client, reached_by(app)


def reached_by(app) -> list:
    """The requests that reach Flask's hooks from now on (the first hook: before the others
    can refuse them)."""
    reached = []
    app.before_request_funcs.setdefault(None, []).insert(0, lambda: reached.append(1))
    return reached


def share_request(article: str, body, headers: dict, reader: str) -> dict:
    return {"method": "POST", "path": f"/api/v1/articles/{article}/shares",
            "data": body if isinstance(body, (str, bytes)) else json.dumps(body),
            "headers": {"Content-Type": "application/json", **headers},
            "environ_base": {"REMOTE_ADDR": reader}}


def share_environ(article: str, body, headers: dict, reader: str) -> dict:
    return EnvironBuilder(**share_request(article, body, headers, reader)).get_environ()


def post(client, article, *, body=BODY, headers=None, reader="198.51.100.1"):
    return client.open(**share_request(article, body, headers or {}, reader))


def flask_alone(app, article, *, body=BODY, headers=None, reader="198.51.100.1"):
    """What Flask's own app answers, without the answers that come before it."""
    flask_app = functools.partial(Flask.wsgi_app, app)
    answer, status, answer_headers = run_wsgi_app(
        flask_app, share_environ(article, body, headers or {}, reader))
    return int(status.split()[0]), answer_headers, b"".join(answer)


def comparable(headers) -> list:
    """Headers but the limit's count and reset, which move with each request counted."""
    return sorted((name, value) for name, value in headers.items()
                  if name not in ("X-RateLimit-Remaining", "X-RateLimit-Reset"))


@pytest.mark.parametrize("origin", [None, SITE, OTHER_SITE])
@pytest.mark.parametrize("key", [None, "a-key-1"], ids=["no key", "Idempotency-Key"])
def test_a_share_before_flask_is_answered_as_flask_answers_it(site, origin, key):
    app, client, reached_flask = site
    headers = {"User-Agent": "Firefox"}
    if origin:
        headers["Origin"] = origin
    if key:
        headers["Idempotency-Key"] = key
    status, flask_headers, flask_body = flask_alone(app, "two", headers=headers,
                                                    reader="198.51.100.2")
    reached_flask.clear()

    answer = post(client, "one", headers=headers, reader="198.51.100.1")

    assert reached_flask == []
    assert answer.status_code == status == 200
    assert answer.get_data() == flask_body
    assert answer.json == {"counted": True, "share_counts": {
        **dict.fromkeys(app.config["SHARE_NETWORKS"], 0), "facebook": 1, "x": 1, "total": 2}}
    assert comparable(answer.headers) == comparable(flask_headers)
    assert answer.headers["X-RateLimit-Remaining"] == flask_headers["X-RateLimit-Remaining"]
    if key:  # the retry is Flask's: it replays what was answered here
        reached_flask.clear()
        replay = post(client, "one", headers=headers, reader="198.51.100.1")
        assert reached_flask == [1]
        assert replay.headers["Idempotent-Replayed"] == "true"
        assert replay.get_data() == answer.get_data()
        flask_replay = flask_alone(app, "two", headers=headers, reader="198.51.100.2")
        assert flask_replay[2] == flask_body


def test_a_repeated_share_is_answered_before_flask_and_counts_nothing(site):
    app, client, reached_flask = site
    first = post(client, "one")

    again = post(client, "one")

    assert reached_flask == []
    assert first.json["counted"] is True
    assert again.status_code == 200
    assert again.json == {**first.json, "counted": False}


def test_shares_before_flask_and_by_flask_share_the_reader_s_limit(make_app):
    client = make_app(LIMIT_SHARES="3/minute").test_client()
    before_flask = post(client, "one", body={"network": "x"})
    by_flask = post(client, "one", body=json.dumps(BODY) + " " * 2000)  # not a share's size
    last = post(client, "one", body={"network": "email"})
    another_reader = post(client, "one", body={"network": "email"}, reader="203.0.113.9")

    refused = post(client, "one", body={"network": "reddit"})

    answers = (before_flask, by_flask, last, another_reader)
    assert [answer.status_code for answer in answers] == [200] * 4
    assert [answer.headers["X-RateLimit-Remaining"] for answer in answers] == [
        "2", "1", "0", "2"]
    assert refused.status_code == 429
    assert refused.get_json()["reason"] == "rate_limited"


@pytest.mark.parametrize("body, headers, status", [
    ({"network": "myspace"}, {}, 422),
    ({"network": "facebook", "extra": 1}, {}, 422),
    ({"network": 7}, {}, 422),
    (["facebook"], {}, 422),
    ('{"network": ', {}, 400),
    ("network=facebook", {"Content-Type": "application/x-www-form-urlencoded"}, 415),
    (BODY, {"Idempotency-Key": "not a key"}, 422),
], ids=["unknown network", "unknown field", "not text", "not an object", "malformed",
        "a form", "bad key"])
def test_unusual_shares_are_flask_s_and_counted_once(site, body, headers, status):
    app, client, reached_flask = site
    expected = flask_alone(app, "two", body=body, headers=headers, reader="198.51.100.2")
    reached_flask.clear()

    answer = post(client, "one", body=body, headers=headers)

    assert reached_flask == [1]
    assert answer.status_code == expected[0] == status
    assert answer.get_data() == expected[2]
    assert comparable(answer.headers) == comparable(expected[1])
    # Refused for its form, a write spends no quota, on either side.
    assert post(client, "one").headers["X-RateLimit-Remaining"] == "99"


def test_a_share_of_an_unknown_article_is_flask_s_404(make_app):
    app = make_app(ARTICLES_AUTO_CREATE=False)
    expected = flask_alone(app, "never-seen")

    answer = post(app.test_client(), "never-seen")

    assert answer.status_code == expected[0] == 404
    assert answer.get_data() == expected[2]


def test_a_first_seen_article_is_recorded_before_flask_as_by_it(site):
    app, client, reached_flask = site

    first = post(client, "three")
    second = post(client, "three", reader="198.51.100.7")

    assert reached_flask == []
    assert first.json["counted"] is second.json["counted"] is True
    assert second.json["share_counts"]["facebook"] == 2
    assert client.get("/api/v1/articles/three").status_code == 200


def test_a_key_used_with_another_share_is_refused_by_flask(site):
    app, client, reached_flask = site
    key = {"Idempotency-Key": "one-key"}
    assert post(client, "one", headers=key).status_code == 200

    other = post(client, "one", body={"network": "email"}, headers=key)

    assert other.status_code == 422
    assert other.get_json()["errors"] == {"headers": {"Idempotency-Key": [
        "This key was used with another request; make a new key per request."]}}
    assert client.get("/api/v1/articles/one/shares").json["email"] == 0


def test_shares_answered_before_flask_are_in_the_metrics(make_app):
    client = make_app(METRICS_ALLOW=["127.0.0.1/32"]).test_client()
    before = samples(client)

    for reader in range(3):
        assert post(client, "one", reader=f"198.51.100.{reader + 10}").status_code == 200

    after = samples(client)
    assert (requests_of(after, "shares.Shares", "200", "POST")
            - requests_of(before, "shares.Shares", "200", "POST")) == 3


def test_a_fault_of_the_shortcut_leaves_the_share_to_flask(site, monkeypatch, caplog):
    app, client, reached_flask = site

    def broken(*args):
        raise RuntimeError("a bug")

    monkeypatch.setattr("engagement.fast_shares.fingerprint", broken)
    answer = post(client, "one", headers={"Idempotency-Key": "k-1"})

    assert reached_flask == [1]
    assert answer.status_code == 200
    assert answer.json["counted"] is True
    assert answer.headers["X-RateLimit-Remaining"] == "99"  # counted once
    assert "could not be answered before Flask" in caplog.text


def stored(app, article: str) -> tuple[int, int]:
    """The article's share count, and its shares logged."""
    with app.app_context():
        count = db.session.scalar(sa.select(Article.share_count).where(Article.id == article))
        logged = db.session.scalar(sa.select(sa.func.count()).select_from(Share)
                                   .where(Share.article_id == article))
        return count, logged


@pytest.mark.postgres
def test_shares_at_once_before_flask_lose_nothing_on_postgresql(make_app):
    """Distinct readers share one article at once, half with an Idempotency-Key, each sent
    twice: every share answered counted is stored, once, and no retry counts again."""
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 40, "max_overflow": 0})
    client = app.test_client()
    assert post(client, "hot", reader="192.0.2.99").status_code == 200
    reached_flask = reached_by(app)

    def share_twice(client, n):
        headers = {"Idempotency-Key": f"key-{n}"} if n % 2 else {}
        return [post(client, "hot", headers=headers, reader=f"10.0.{n // 250}.{n % 250}")
                for _ in range(2)]

    pairs = race(app, share_twice, 32)

    assert {answer.status_code for pair in pairs for answer in pair} == {200}
    assert all(first.json["counted"] for first, _ in pairs)
    assert stored(app, "hot") == (33, 33)
    for n, (first, retry) in enumerate(pairs):
        if n % 2:  # replayed by Flask
            assert (retry.headers["Idempotent-Replayed"], retry.json) == ("true", first.json)
        else:
            assert retry.json["counted"] is False
    assert len(reached_flask) == 16  # the keyed retries


def test_a_database_error_before_flask_is_answered_by_flask_without_a_second_try(
        site, monkeypatch):
    app, client, reached_flask = site
    tries = []

    def unavailable(*args, **kwargs):
        tries.append(1)
        raise sa.exc.OperationalError("SELECT", {}, Exception("server closed the connection"))

    monkeypatch.setattr("engagement.fast_shares.record_share", unavailable)
    monkeypatch.setattr("engagement.fast_shares.record_shares_together", unavailable)
    monkeypatch.setattr("engagement.shares.services.record_share", unavailable)
    answer = post(client, "one")

    assert tries == [1]  # Flask raised what the share met: the database was not asked again
    assert reached_flask == [1]
    assert answer.status_code == 503
    assert answer.get_json()["reason"] == "unavailable"
    assert answer.headers["Retry-After"] == str(app.config["RETRY_AFTER_SECONDS"])
    assert answer.headers["X-RateLimit-Remaining"] == "100"  # a 503 spends no quota, either side


@pytest.mark.postgres
def test_one_keyed_share_sent_many_times_at_once_counts_once_on_postgresql(make_app):
    """A widget that retries at once: the first request counts, the others get its answer
    (replayed by Flask once it is kept, or counted nothing), and one share is stored."""
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 20, "max_overflow": 0})
    assert post(app.test_client(), "hot", reader="192.0.2.99").status_code == 200

    answers = race(app, lambda client, n: post(client, "hot",
                                               headers={"Idempotency-Key": "the-key"}), 12)

    assert {answer.status_code for answer in answers} == {200}
    first = [answer for answer in answers if "Idempotent-Replayed" not in answer.headers]
    assert len(first) == 1
    assert all(answer.json == first[0].json for answer in answers)
    assert first[0].json["counted"] is True
    assert stored(app, "hot") == (2, 2)


def fast_shares_of(app) -> FastShares:
    layer = app.wsgi_app
    while not isinstance(layer, FastShares):
        layer = layer.flask_app
    return layer


@pytest.mark.postgres
def test_shares_at_once_are_committed_together_each_counted_once_on_postgresql(
        make_app, monkeypatch):
    """Readers share at once through one process: distinct readers of one article, one reader
    twice, another network and other articles (one first seen, one that may not be recorded),
    a banned address. The shares that arrive while a batch is committed are committed together
    in the next; each is answered as it would be alone, and every 200 that says it counted is
    counted once in its tally, its article's counter and the share log."""
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 40, "max_overflow": 0},
                   ARTICLE_ID_PATTERN=r"hot|other|story-\d+")
    client = app.test_client()
    for article in ("hot", "other"):
        assert post(client, article, reader="192.0.2.99").status_code == 200
    with app.app_context():
        create_ban(BanKind.IP, "203.0.113.5", "spam", None, actor="test", now=now())
        db.session.commit()
    shares = [("hot", "facebook", f"10.1.0.{n}") for n in range(16)]
    shares += [("hot", "facebook", "10.2.0.1")] * 2  # the same reader twice
    shares += [("hot", "facebook", "203.0.113.5"), ("hot", "x", "10.3.0.1"),
               ("other", "facebook", "10.4.0.1"), ("other", "facebook", "10.4.0.2"),
               ("story-1", "email", "10.5.0.1"), ("unknown_one", "facebook", "10.6.0.1")]
    together, batches = fast_shares_of(app).together, []

    def held_first(connection, batch, policy):
        """The first batch waits until every other share waits for the next."""
        batches.append(batch)
        deadline = time.monotonic() + 10
        while (len(batches) == 1 and len(batch) + len(together._waiting) < len(shares)
               and time.monotonic() < deadline):
            time.sleep(0.001)
        return record_shares_together(connection, batch, policy)

    monkeypatch.setattr("engagement.fast_shares.record_shares_together", held_first)
    answers = race(app, lambda client, n: post(client, shares[n][0],
                                               body={"network": shares[n][1]},
                                               reader=shares[n][2]), len(shares))

    assert max(len(batch) for batch in batches) >= len(shares) // 2
    assert [answer.status_code for answer in answers] == [200] * (len(shares) - 1) + [404]
    assert answers[-1].json["message"] == "No such article."
    counted = [share for share, answer in zip(shares, answers, strict=True)
               if answer.status_code == 200 and answer.json["counted"]]
    assert len(counted) == 16 + 1 + 0 + 1 + 2 + 1  # one of the reader's two; not the ban
    assert answers[18].json["counted"] is False
    hot_counts = sorted(answer.json["share_counts"]["facebook"]
                        for share, answer in zip(shares, answers, strict=True)
                        if share[:2] == ("hot", "facebook") and answer.json["counted"])
    assert hot_counts == list(range(2, 2 + 17))  # each the tally right after its own
    for answer in answers[:-1]:
        counts = answer.json["share_counts"]
        assert counts["total"] == sum(count for name, count in counts.items() if name != "total")
    for article, before in (("hot", 1), ("other", 1), ("story-1", 0)):
        mine = [network for name, network, _ in counted if name == article]
        assert stored(app, article) == (before + len(mine),) * 2
        tallies = client.get(f"/api/v1/articles/{article}/shares").json
        for network in ("facebook", "x", "email"):
            assert tallies[network] == mine.count(network) + (
                before if network == "facebook" else 0)

"""Share counts: recording a share once per reader, reading counts per network and per page."""

import pytest
import sqlalchemy as sa

from engagement.extensions import db
from engagement.shares.models import ShareClaim
from tests.conftest import race

SHARES = "/api/v1/articles/an-article/shares"


def share(client, network="facebook", article="an-article", reader="198.51.100.1",
          agent="Firefox"):
    return client.post(f"/api/v1/articles/{article}/shares", json={"network": network},
                       headers={"User-Agent": agent}, environ_base={"REMOTE_ADDR": reader})


def test_every_configured_network_is_listed_with_zeros(client, app):
    response = client.get(SHARES)

    assert response.status_code == 200
    assert response.json == {**dict.fromkeys(app.config["SHARE_NETWORKS"], 0), "total": 0}


def test_a_share_counts_and_answers_the_new_counts(client):
    response = share(client, "pinterest")

    assert response.status_code == 200
    assert response.json["counted"] is True
    assert response.json["share_counts"]["pinterest"] == 1
    assert response.json["share_counts"]["total"] == 1
    assert client.get(SHARES).json["pinterest"] == 1


def test_twitter_is_counted_as_x(client):
    share(client, "twitter")

    assert client.get(SHARES).json["x"] == 1
    assert "twitter" not in client.get(SHARES).json


@pytest.mark.parametrize("network", ["Facebook", " email ", "TWITTER"])
def test_network_names_are_read_loosely(client, network):
    assert share(client, network).json["counted"] is True


def test_a_reader_counts_once_per_article_and_network_in_the_window(client, clock):
    assert share(client).json["counted"] is True
    repeat = share(client)

    assert repeat.status_code == 200
    assert repeat.json["counted"] is False
    assert repeat.json["share_counts"]["facebook"] == 1
    assert share(client, "email").json["counted"] is True
    assert share(client, article="another-article").json["counted"] is True

    clock.advance(hours=23, minutes=59)
    assert share(client).json["counted"] is False
    clock.advance(minutes=1)
    assert share(client).json["counted"] is True
    assert client.get(SHARES).json["facebook"] == 2


def test_the_window_is_configurable(make_app, clock):
    client = make_app(SHARE_DEDUPE_SECONDS=60).test_client()
    share(client)

    clock.advance(seconds=60)
    assert share(client).json["counted"] is True


def test_readers_are_told_apart_by_address_and_user_agent(client):
    share(client)

    assert share(client, reader="198.51.100.2").json["counted"] is True
    assert share(client, agent="Safari").json["counted"] is True
    assert client.get(SHARES).json["facebook"] == 3


def test_readers_behind_a_trusted_proxy_are_told_apart(make_app):
    client = make_app(TRUSTED_PROXIES=["10.0.0.0/8"]).test_client()

    def via_proxy(reader):
        return client.post(SHARES, json={"network": "x"},
                           headers={"X-Forwarded-For": reader},
                           environ_base={"REMOTE_ADDR": "10.0.0.2"}).json["counted"]

    assert [via_proxy("203.0.113.5"), via_proxy("203.0.113.6"), via_proxy("203.0.113.5")] == [
        True, True, False]


def test_no_raw_address_is_stored(client, app):
    share(client, reader="198.51.100.77")

    with app.app_context():
        (claim,) = db.session.scalars(sa.select(ShareClaim)).all()
        assert "198.51.100.77" not in claim.client_hash
        assert len(claim.client_hash) == 64


@pytest.mark.parametrize("body", [
    {}, {"network": ""}, {"network": "myspace"}, {"network": None}, {"network": 3},
    {"network": ["x"]}, {"network": "x" * 33}, {"network": "x\u0000"},
    {"network": "x", "extra": 1},
])
def test_bad_networks_are_refused_and_nothing_counts(client, body):
    response = client.post(SHARES, json=body)

    assert response.status_code == 422
    assert response.json["reason"] == "validation"
    assert "network" in str(response.json["errors"]["json"]) or "extra" in str(response.json)
    assert client.get(SHARES).json["total"] == 0


def test_only_configured_networks_count(make_app):
    client = make_app(SHARE_NETWORKS=["facebook", "email"]).test_client()

    assert share(client, "x").status_code == 422
    assert client.get(SHARES).json == {"facebook": 0, "email": 0, "total": 0}


def test_article_and_counts_pages_carry_the_share_counts(client):
    share(client, "facebook")
    share(client, "x")
    share(client, "x", article="other", reader="198.51.100.9")

    assert client.get("/api/v1/articles/an-article").json["share_counts"]["total"] == 2
    counts = client.get("/api/v1/counts?ids=an-article,other,unseen").json["counts"]
    assert [counts[key]["shares"] for key in ("an-article", "other", "unseen")] == [2, 1, 0]


def test_shares_of_an_unknown_article_are_404_without_auto_create(make_app):
    client = make_app(ARTICLES_AUTO_CREATE=False).test_client()

    assert client.get(SHARES).json["reason"] == "not_found"
    assert share(client).status_code == 404


def test_share_counts_answer_conditional_requests(client):
    first = client.get(SHARES)
    assert client.get(SHARES, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304

    share(client)
    assert client.get(SHARES, headers={"If-None-Match": first.headers["ETag"]}).status_code == 200


def test_a_repeated_share_changes_no_answer(client):
    share(client)
    article = client.get("/api/v1/articles/an-article")
    assert share(client).json["counted"] is False

    conditional = {"If-None-Match": article.headers["ETag"]}
    assert client.get("/api/v1/articles/an-article", headers=conditional).status_code == 304
    assert client.get("/api/v1/counts?ids=an-article").json["counts"]["an-article"]["shares"] == 1



# --- Concurrency -----------------------------------------------------------------------------

# The database the suite runs on, and PostgreSQL always: each settles concurrent writers its
# own way.
ON_BOTH_DATABASES = pytest.mark.parametrize(
    "database", ["suite", pytest.param("postgresql", marks=pytest.mark.postgres)])


@ON_BOTH_DATABASES
def test_one_address_sharing_as_many_readers_at_once_counts_as_three(make_app, database):
    """Three addresses each share as ten readers (user agents), all thirty at once: three
    readers of each count, as when they come one after another (tests/test_hardening.py)."""
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 30, "max_overflow": 0})

    answers = race(app, lambda c, n: share(c, "linkedin", reader=f"198.51.100.{n % 3 + 1}",
                                           agent=f"R{n}"), 30)

    assert {answer.status_code for answer in answers} == {200}
    counted = [sum(answer.json["counted"] for answer in answers[address::3])
               for address in range(3)]
    assert counted == [3, 3, 3]
    assert app.test_client().get(SHARES).json["linkedin"] == 9
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ShareClaim)) == 9

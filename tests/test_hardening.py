"""Attacks from the security review (issue 10), each sent as an attacker would send it: over HTTP
to the app, or to a live gunicorn where the HTTP server takes part. Each test failed on the code
before the fix."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import comment_fields

OUTSIDER = {"REMOTE_ADDR": "203.0.113.9"}


# --- 1. /metrics: bounded labels, not public ------------------------------------------------

def test_invented_http_methods_do_not_grow_the_metrics(client):
    for number in range(300):
        client.open("/healthz", method=f"XA{number:04d}")

    text = client.get("/metrics").get_data(as_text=True)

    methods = {
        sample.labels["method"]
        for family in text_string_to_metric_families(text)
        for sample in family.samples if "method" in sample.labels
    }
    assert methods <= {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"}
    assert "XA0001" not in text
    assert len(text) < 20_000


def test_metrics_refuse_a_reader_from_outside(client):
    response = client.get("/metrics", environ_base=OUTSIDER)

    assert response.status_code == 403
    assert response.json["reason"] == "forbidden"
    assert "engagement_http_requests_total" not in response.get_data(as_text=True)


def test_metrics_answer_an_allowed_network_or_the_token(make_app):
    client = make_app(METRICS_ALLOW=["203.0.113.0/24"], METRICS_TOKEN="scrape-me").test_client()

    assert client.get("/metrics", environ_base=OUTSIDER).status_code == 200
    assert client.get("/metrics").status_code == 403  # loopback is no longer in the list
    other = {"REMOTE_ADDR": "198.51.100.1"}
    assert client.get("/metrics", environ_base=other).status_code == 403
    wrong = client.get("/metrics", environ_base=other,
                       headers={"Authorization": "Bearer scrape-you"})
    assert wrong.status_code == 403
    right = client.get("/metrics", environ_base=other,
                       headers={"Authorization": "Bearer scrape-me"})
    assert right.status_code == 200


# --- 2. Avatars are no oracle ---------------------------------------------------------------

def _avatar_of_posting(client, **fields):
    response = client.post("/api/v1/articles/a/comments", json=comment_fields(**fields))
    assert response.status_code == 201, response.json
    return response.json["comment"]["avatar"]


def test_a_honeypot_comment_shows_no_avatar(client):
    known = _avatar_of_posting(client, author_email="victim@example.com")

    guessed = _avatar_of_posting(client, author_email="victim@example.com",
                                 website_url="http://bot.example")

    assert known and guessed == ""


def test_a_held_comment_shows_no_avatar(make_app):
    client = make_app(MODERATION_MODE="all").test_client()

    assert _avatar_of_posting(client, author_email="victim@example.com") == ""


@pytest.mark.parametrize("source", ["name", "off"])
def test_avatars_need_not_come_from_the_email(make_app, source):
    client = make_app(AVATARS=source).test_client()

    first = _avatar_of_posting(client, author_name="Ada", author_email="one@example.com")
    second = _avatar_of_posting(client, author_name="Ada", author_email="two@example.com")

    assert first == second
    assert (first == "") is (source == "off")


# --- 3. first_time: a regular's email is no pass --------------------------------------------

def _post_from(client, address, **fields):
    response = client.post("/api/v1/articles/a/comments", json=comment_fields(**fields),
                           environ_base={"REMOTE_ADDR": address})
    assert response.status_code == 201, response.json
    return response.json


@pytest.fixture
def regular(make_app, moderator_of):
    """first_time moderation, and Ada's first comment (from 198.51.100.7) approved."""
    app = make_app(MODERATION_MODE="first_time")
    client = app.test_client()
    first = _post_from(client, "198.51.100.7", author_name="Ada", author_email="ada@example.com")
    assert first["status"] == "pending"
    decided = client.patch(f"/api/v1/admin/comments/{first['comment']['id']}",
                           json={"status": "approved"}, headers=moderator_of(app))
    assert decided.status_code == 200
    return client


@pytest.fixture
def moderator_of():
    from tests.conftest import make_token

    return lambda app: {"Authorization": f"Bearer {make_token(app)}"}


def test_an_impostor_with_a_regulars_email_is_held_like_a_stranger(regular):
    impostor = _post_from(regular, "203.0.113.50", author_name="Ada",
                          author_email="ada@example.com", body="I take it all back.")
    stranger = _post_from(regular, "203.0.113.50", author_name="Ada",
                          author_email="nobody@example.com", body="I take it all back.")

    assert impostor["status"] == stranger["status"] == "pending"
    assert impostor["comment"]["avatar"] == stranger["comment"]["avatar"] == ""
    listed = regular.get("/api/v1/articles/a/comments").json
    assert [item["body_html"] for item in listed["items"]] == ["<p>First!</p>"]


def test_another_name_with_a_regulars_email_is_held(regular):
    answer = _post_from(regular, "198.51.100.7", author_name="Not Ada",
                        author_email="ada@example.com")

    assert answer["status"] == "pending"


def test_the_regular_from_their_own_network_is_published(regular):
    answer = _post_from(regular, "198.51.100.99", author_name="ada",
                        author_email="ADA@example.com", body="Again!")

    assert answer["status"] == "approved"

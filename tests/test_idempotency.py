"""Idempotency-Key on comment, share, subscription and vote writes: a retry with the same key
gets the first answer and writes nothing; keys are per client and kept a day; a refused
request does not spend its key; concurrent retries on PostgreSQL write once."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from engagement.extensions import db
from engagement.mail.models import OutboxMessage
from tests.conftest import comment_fields
from tests.live import gunicorn, request

COMMENTS = "/api/v1/articles/an-article/comments"
SHARES = "/api/v1/articles/an-article/shares"
SUBSCRIBE = "/api/v1/newsletter/subscriptions"
READER = "198.51.100.7"


def post(client, path, body, key=None, reader=READER, method="POST"):
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.open(path, method=method, json=body, headers=headers,
                       environ_base={"REMOTE_ADDR": reader})


def comment_total(client) -> int:
    return client.get(COMMENTS).json["total"]


def test_a_retried_comment_gets_the_first_answer_and_is_stored_once(client):
    first = post(client, COMMENTS, comment_fields(), key="retry-1")
    again = post(client, COMMENTS, comment_fields(), key="retry-1")

    assert first.status_code == again.status_code == 201
    assert again.json == first.json  # the same id and the same edit token
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert comment_total(client) == 1


def test_without_a_key_or_with_a_new_key_each_post_is_a_new_comment(client):
    post(client, COMMENTS, comment_fields())
    post(client, COMMENTS, comment_fields())
    post(client, COMMENTS, comment_fields(), key="a")
    post(client, COMMENTS, comment_fields(), key="b")

    assert comment_total(client) == 4


def test_keys_belong_to_their_client(client):
    post(client, COMMENTS, comment_fields(), key="same", reader="198.51.100.1")
    other = post(client, COMMENTS, comment_fields(), key="same", reader="203.0.113.9")

    assert other.status_code == 201 and "Idempotent-Replayed" not in other.headers
    assert comment_total(client) == 2


def test_a_key_reused_for_another_request_is_refused(client):
    post(client, COMMENTS, comment_fields(), key="k1")

    other = post(client, COMMENTS, comment_fields(body="Something else"), key="k1")

    assert other.status_code == 422
    assert other.json["reason"] == "validation"
    assert "Idempotency-Key" in other.json["errors"]["headers"]
    assert comment_total(client) == 1


def test_a_refused_request_does_not_spend_its_key(client):
    refused = post(client, COMMENTS, comment_fields(body=""), key="k2")
    corrected = post(client, COMMENTS, comment_fields(body="Now with words"), key="k2")

    assert refused.status_code == 422
    assert corrected.status_code == 201 and "Idempotent-Replayed" not in corrected.headers
    assert comment_total(client) == 1


def test_keys_are_kept_for_a_day(client, clock):
    post(client, COMMENTS, comment_fields(), key="daily")
    clock.advance(hours=23, minutes=59)
    assert post(client, COMMENTS, comment_fields(), key="daily").headers.get(
        "Idempotent-Replayed") == "true"

    clock.advance(minutes=2)
    later = post(client, COMMENTS, comment_fields(), key="daily")

    assert later.status_code == 201 and "Idempotent-Replayed" not in later.headers
    assert comment_total(client) == 2


@pytest.mark.parametrize("key", ["", "a" * 256, "spaces are not allowed", "é"])
def test_a_malformed_key_is_refused_and_nothing_is_written(client, key):
    answer = post(client, COMMENTS, comment_fields(), key=key)

    assert answer.status_code == 422
    assert answer.json["reason"] == "validation"
    assert comment_total(client) == 0


def test_a_retried_share_is_answered_the_same(client):
    first = post(client, SHARES, {"network": "facebook"}, key="share-1")
    again = post(client, SHARES, {"network": "facebook"}, key="share-1")

    assert again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert client.get(SHARES).json["facebook"] == 1


def test_a_retried_subscription_queues_one_email(app, client):
    body = {"email": "ada@example.com", "consent": True}
    first = post(client, SUBSCRIBE, body, key="signup-1")
    again = post(client, SUBSCRIBE, body, key="signup-1")

    assert first.status_code == again.status_code == 202
    assert again.headers["Idempotent-Replayed"] == "true"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 1


def test_a_retried_vote_does_not_undo_a_later_change(client, post_comment):
    cid = post_comment()["comment"]["id"]
    vote = f"/api/v1/comments/{cid}/vote"
    first = post(client, vote, {"value": 1}, key="vote-1", method="PUT")
    post(client, vote, {"value": 0}, method="PUT")  # the reader withdraws the vote

    retried = post(client, vote, {"value": 1}, key="vote-1", method="PUT")

    assert retried.json == first.json and retried.headers["Idempotent-Replayed"] == "true"
    (comment,) = client.get(COMMENTS).json["items"]
    assert comment["upvotes"] == 0  # the retry wrote nothing


def test_the_openapi_document_names_the_header_on_each_write(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    operations = [paths["/api/v1/articles/{article_id}/comments"]["post"],
                  paths["/api/v1/articles/{article_id}/shares"]["post"],
                  paths["/api/v1/newsletter/subscriptions"]["post"],
                  paths["/api/v1/comments/{comment_id}/vote"]["put"]]
    for operation in operations:
        names = [parameter["name"] for parameter in operation.get("parameters", [])]
        assert "Idempotency-Key" in names


@pytest.mark.postgres
def test_concurrent_retries_on_postgres_store_one_comment(app):
    def attempt(_):
        return post(app.test_client(), COMMENTS, comment_fields(), key="racing")

    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(attempt, range(6)))

    assert {answer.status_code for answer in answers} == {201}
    assert len({answer.json["comment"]["id"] for answer in answers}) == 1
    assert comment_total(app.test_client()) == 1


@pytest.mark.live
def test_a_retry_against_a_live_server_gets_the_first_answer(tmp_path):
    body = json.dumps(comment_fields()).encode()
    headers = {"Content-Type": "application/json", "Idempotency-Key": "live-retry"}
    with gunicorn(tmp_path, {}, workers=2) as server:
        first = request(f"{server.base}{COMMENTS}", body, headers)
        again = request(f"{server.base}{COMMENTS}", body, headers)
        listed = json.loads(request(f"{server.base}{COMMENTS}")[1])

    assert first[0] == again[0] == 201
    assert json.loads(again[1]) == json.loads(first[1])
    assert listed["total"] == 1

"""What the moderation console asks of the admin API beyond the first edition: the queue's
order, several statuses at once, the hold reason filter and each comment's context (article,
parent, the author's history and bans), the audit log's filters, articles found by text, the
token holder's own description, and the bearer scheme in the OpenAPI document."""

import pytest

from tests.conftest import comment_fields, database_log, make_token

QUEUE = "/api/v1/admin/comments"
AUDIT = "/api/v1/admin/audit"


def post(client, article="an-article", reader="198.51.100.1", **fields):
    response = client.post(f"/api/v1/articles/{article}/comments", json=comment_fields(**fields),
                           environ_base={"REMOTE_ADDR": reader})
    assert response.status_code == 201, response.json
    return response.json["comment"]["id"]


def queue(client, headers, query=""):
    response = client.get(f"{QUEUE}{query}", headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def ids(page):
    return [item["id"] for item in page["items"]]


@pytest.fixture
def moderated(make_app):
    """Every comment waits for a moderator; more than one link or the word 'heldback' too."""
    app = make_app(MODERATION_MODE="first_time", MAX_LINKS=1, BLOCKED_WORDS=["heldback"])
    return app, app.test_client(), {"Authorization": f"Bearer {make_token(app)}"}


# --- The queue ------------------------------------------------------------------------------

def test_the_queue_pages_oldest_first_too(make_app):
    app = make_app(MODERATION_MODE="all")
    client, headers = app.test_client(), {"Authorization": f"Bearer {make_token(app)}"}
    posted = [post(client) for _ in range(5)]
    seen, cursor = [], ""
    while True:
        page = queue(client, headers, f"?order=oldest&limit=2{cursor}")
        seen += ids(page)
        if page["next_cursor"] is None:
            break
        cursor = f"&cursor={page['next_cursor']}"

    assert seen == posted
    assert ids(queue(client, headers, "?order=newest")) == posted[::-1]


def test_the_review_queue_is_pending_and_flagged_together(make_app):
    app = make_app(MODERATION_MODE="none", FLAG_THRESHOLD=1)
    client, headers = app.test_client(), {"Authorization": f"Bearer {make_token(app)}"}
    flagged = post(client)
    client.post(f"/api/v1/comments/{flagged}/flags", json={"reason": "abuse", "note": "rude"})
    client.patch("/api/v1/admin/settings", json={"moderation_mode": "all"}, headers=headers)
    pending = post(client)
    approved = post(client)
    client.patch(f"{QUEUE}/{approved}", json={"status": "approved"}, headers=headers)

    page = queue(client, headers, "?status=pending,flagged")

    assert ids(page) == [pending, flagged] and page["total"] == 2
    assert [item["status"] for item in page["items"]] == ["pending", "flagged"]
    assert page["items"][1]["flags"][0]["note"] == "rude"
    assert ids(queue(client, headers, "?status=approved,pending")) == [approved, pending]


@pytest.mark.parametrize("query", ["?status=pending,lost", "?status=all,pending", "?status=",
                                   "?status=pending,", "?reason=because", "?order=random"])
def test_bad_queue_filters_are_refused(client, moderator, query):
    response = client.get(f"{QUEUE}{query}", headers=moderator)

    assert response.status_code == 422
    assert response.json["reason"] == "validation"


def test_the_queue_filters_by_hold_reason(moderated):
    app, client, headers = moderated
    linked = post(client, body="see https://a.example and https://b.example")
    worded = post(client, body="this is heldback text", author_email="b@example.com")
    newcomer = post(client, body="hello", author_email="c@example.com")

    assert ids(queue(client, headers, "?reason=links")) == [linked]
    assert ids(queue(client, headers, "?reason=blocked_word")) == [worded]
    assert ids(queue(client, headers, "?reason=first_time")) == [newcomer, worded, linked]
    assert ids(queue(client, headers, "?reason=honeypot&status=all")) == []


def test_each_comment_comes_with_its_article_and_parent(moderated):
    app, client, headers = moderated
    client.put("/api/v1/admin/articles/an-article", headers=headers,
               json={"title": "Rain in Spain", "url": "https://news.example/rain"})
    parent = post(client, body="The *first* word", author_name="Ada")
    client.patch(f"{QUEUE}/{parent}", json={"status": "approved"}, headers=headers)
    reply = post(client, body="A reply", parent_id=parent, author_email="b@example.com")
    post(client, article="untitled", author_email="c@example.com")

    untitled, item = queue(client, headers)["items"]

    assert item["id"] == reply
    assert item["article_title"] == "Rain in Spain"
    assert item["article_url"] == "https://news.example/rain"
    assert item["parent"] == {"id": parent, "author_name": "Ada", "status": "approved",
                              "body_html": "<p>The <em>first</em> word</p>", "deleted": False}
    assert untitled["article_title"] is None and untitled["parent"] is None


def test_each_comment_counts_the_authors_other_decided_comments(moderated):
    app, client, headers = moderated
    decided = {}
    for status in ["approved", "approved", "rejected", "spam"]:
        comment_id = post(client, author_email="ada@example.com")
        client.patch(f"{QUEUE}/{comment_id}", json={"status": status}, headers=headers)
        decided[comment_id] = status
    held = post(client, body="heldback", author_email="ADA@example.com")
    stranger = post(client, author_email="new@example.com")

    items = {item["id"]: item for item in queue(client, headers, "?status=all")["items"]}

    assert items[held]["author_history"] == {"approved": 2, "rejected": 1, "spam": 1}
    assert items[stranger]["author_history"] == {"approved": 0, "rejected": 0, "spam": 0}
    # A decided comment counts the author's others, not itself.
    first_approved = next(cid for cid, status in decided.items() if status == "approved")
    assert items[first_approved]["author_history"] == {"approved": 1, "rejected": 1, "spam": 1}


def test_authors_whose_address_was_erased_are_not_one_author(moderated):
    """Erasure (and imports without an address) leave comments with no email: they are no one's
    history, not everyone's."""
    app, client, headers = moderated
    admin = {"Authorization": f"Bearer {make_token(app, 'root', 'admin')}"}
    for email in ("ada@example.com", "bob@example.com", "bob@example.com"):
        comment_id = post(client, author_email=email)
        client.patch(f"{QUEUE}/{comment_id}", json={"status": "approved"}, headers=headers)
    for email in ("ada@example.com", "bob@example.com"):
        assert client.delete(f"/api/v1/admin/people?email={email}",
                             headers=admin).status_code == 200

    items = queue(client, headers, "?status=all")["items"]

    assert [item["author_history"] for item in items] == [
        {"approved": 0, "rejected": 0, "spam": 0}] * 3


def test_each_comment_says_whether_a_ban_matches_its_author(moderated):
    app, client, headers = moderated
    by_email = post(client, author_email="troll@example.com", reader="198.51.100.1")
    by_address = post(client, author_email="x@example.com", reader="2001:db8:1:2::7")
    free = post(client, author_email="fine@example.com", reader="203.0.113.9")
    for ban in [{"kind": "email", "value": "Troll@Example.com"},
                {"kind": "ip", "value": "2001:db8:1:2::/64"},
                {"kind": "email", "value": "fine@example.com",
                 "expires_at": "2026-11-28T08:00:00Z"}]:
        response = client.post("/api/v1/admin/bans", json={"reason": "abuse", **ban},
                               headers=headers)
        assert response.status_code == 201, response.json

    banned = {item["id"]: item["author_banned"] for item in queue(client, headers)["items"]}

    assert banned == {by_email: True, by_address: True, free: True}


def test_an_expired_ban_does_not_mark_the_author(moderated, clock):
    app, client, headers = moderated
    comment_id = post(client, author_email="fine@example.com")
    client.post("/api/v1/admin/bans", headers=headers, json={
        "kind": "email", "value": "fine@example.com", "reason": "a day off",
        "expires_at": "2026-11-28T08:00:00Z"})

    clock.advance(days=1, seconds=1)

    (item,) = queue(client, headers)["items"]
    assert item["id"] == comment_id and item["author_banned"] is False


def test_a_decision_answers_with_the_context_too(moderated):
    app, client, headers = moderated
    comment_id = post(client)

    answer = client.patch(f"{QUEUE}/{comment_id}", json={"status": "rejected"}, headers=headers)

    assert answer.status_code == 200
    assert answer.json["author_history"] == {"approved": 0, "rejected": 0, "spam": 0}
    assert answer.json["article_title"] is None and answer.json["parent"] is None


def test_the_queue_runs_a_fixed_number_of_queries_whatever_the_page_size(moderated):
    app, client, headers = moderated
    parent = post(client)
    client.patch(f"{QUEUE}/{parent}", json={"status": "approved"}, headers=headers)

    def statements(limit):
        with database_log(app) as sent:
            assert len(queue(client, headers, f"?limit={limit}")["items"]) == limit
        return len(sent)

    for number in range(12):
        post(client, parent_id=parent, author_email=f"r{number}@example.com",
             reader=f"198.51.100.{number + 10}")
    assert statements(2) == statements(12)


# --- The audit log's filters ----------------------------------------------------------------

def test_the_audit_log_filters_by_actor_action_and_target(app, client):
    alice = {"Authorization": f"Bearer {make_token(app, 'alice')}"}
    bob = {"Authorization": f"Bearer {make_token(app, 'bob')}"}
    first, second = post(client), post(client)
    client.patch(f"{QUEUE}/{first}", json={"status": "spam"}, headers=alice)
    client.patch(f"{QUEUE}/{second}", json={"pinned": True}, headers=bob)
    client.delete(f"{QUEUE}/{second}", headers=alice)
    client.patch("/api/v1/admin/settings", json={"max_links": 5}, headers=bob)

    def found(query):
        response = client.get(f"{AUDIT}{query}", headers=alice)
        assert response.status_code == 200, response.json
        return [(e["actor"], e["action"], e["target"]) for e in response.json["items"]]

    assert found("?actor=bob") == [("bob", "settings.update", "settings"),
                                   ("bob", "comment.moderate", f"comment:{second}")]
    assert found("?action=comment.delete") == [("alice", "comment.delete", f"comment:{second}")]
    assert found("?action=comment") == [
        ("alice", "comment.delete", f"comment:{second}"),
        ("bob", "comment.moderate", f"comment:{second}"),
        ("alice", "comment.moderate", f"comment:{first}"),
    ]
    assert found(f"?target=comment:{second}&actor=alice") == [
        ("alice", "comment.delete", f"comment:{second}")]
    assert found("?action=comment.") == []  # a family is named without its dot
    assert found("?actor=carol") == []
    assert client.get(f"{AUDIT}?action=comment&limit=2", headers=alice).json["total"] == 3


@pytest.mark.parametrize("query", ["?actor=", "?action=", "?target=", "?actor=a%00b",
                                   "?action=" + "x" * 65])
def test_bad_audit_filters_are_refused(client, moderator, query):
    response = client.get(f"{AUDIT}{query}", headers=moderator)

    assert response.status_code == 422
    assert response.json["reason"] == "validation"


# --- Articles found by text -----------------------------------------------------------------

def test_articles_are_found_by_id_or_title(client, moderator):
    for slug, title in [("rain-spain", "The Rain in Spain"), ("budget", "Budget day"),
                        ("plain", None)]:
        client.put(f"/api/v1/admin/articles/{slug}", json={"title": title}, headers=moderator)

    def found(query):
        response = client.get(f"/api/v1/admin/articles?{query}", headers=moderator)
        assert response.status_code == 200, response.json
        return sorted(item["id"] for item in response.json["items"])

    assert found("q=SPAIN") == ["rain-spain"]
    assert found("q=ain") == ["plain", "rain-spain"]
    assert found("q=budget&comments_open=true") == ["budget"]
    assert found("q=budget&comments_open=false") == []
    assert found("q=%25") == []


# --- The token holder -----------------------------------------------------------------------

@pytest.mark.parametrize("role", ["moderator", "admin"])
def test_a_token_tells_its_holder_and_role(app, client, role):
    headers = {"Authorization": f"Bearer {make_token(app, 'alice', role)}"}

    response = client.get("/api/v1/admin/me", headers=headers)

    assert response.status_code == 200
    assert response.json == {"name": "alice", "role": role}
    assert response.headers["Cache-Control"] == "no-store"


def test_without_a_token_me_is_401(client):
    response = client.get("/api/v1/admin/me", headers={"Authorization": "Bearer eng_nothing"})

    assert response.status_code == 401
    assert response.json["reason"] == "unauthorized"


# --- The OpenAPI document -------------------------------------------------------------------

def test_every_admin_operation_declares_the_bearer_scheme(client):
    document = client.get("/api/v1/openapi.json").json

    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer",
        "description": "A token from `flask --app engagement tokens create`"}
    operations = [(path, method, operation)
                  for path, item in document["paths"].items()
                  for method, operation in item.items() if method != "parameters"]
    admin = [(path, op) for path, _, op in operations if path.startswith("/api/v1/admin/")]
    public = [(path, op) for path, _, op in operations if not path.startswith("/api/v1/admin/")]
    assert len(admin) >= 15 and public
    assert all(op.get("security") == [{"bearerAuth": []}] for _, op in admin)
    assert not any("security" in op for _, op in public)

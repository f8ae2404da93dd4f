"""The admin API's core: tokens from the command line, authentication, the moderation queue,
decisions, live settings and the audit log."""

import pytest
import sqlalchemy as sa

from engagement.admin.models import AdminToken
from engagement.extensions import db
from engagement.moderation.models import Flag
from tests.conftest import comment_fields, database_log, make_token

QUEUE = "/api/v1/admin/comments"


def post(client, article="an-article", reader="198.51.100.1", **fields):
    response = client.post(f"/api/v1/articles/{article}/comments", json=comment_fields(**fields),
                           environ_base={"REMOTE_ADDR": reader})
    assert response.status_code == 201, response.json
    return response.json


def public_ids(client, article="an-article"):
    return [item["id"] for item in client.get(f"/api/v1/articles/{article}/comments").json["items"]]


@pytest.fixture
def held_app(make_app):
    """Every comment waits for a moderator."""
    return make_app(MODERATION_MODE="all")


# --- Tokens on the command line -------------------------------------------------------------

def test_a_token_is_printed_alone_on_the_last_line_and_stored_hashed(app):
    token = make_token(app, "alice")

    assert token.startswith("eng_") and len(token) > 40 and " " not in token
    with app.app_context():
        stored = db.session.scalar(sa.select(AdminToken).where(AdminToken.name == "alice"))
        assert stored.token_hash != token and token not in stored.token_hash


def test_tokens_are_listed_without_the_tokens(app):
    token = make_token(app, "alice", "admin")
    make_token(app, "bob")

    output = app.test_cli_runner().invoke(args=["tokens", "list"]).output

    assert [line.split("\t")[:2] for line in output.splitlines()] == [
        ["alice", "admin"], ["bob", "moderator"]]
    assert token not in output


def test_a_name_is_given_once(app):
    make_token(app, "alice")

    result = app.test_cli_runner().invoke(
        args=["tokens", "create", "--name", "alice", "--role", "admin"])

    assert result.exit_code != 0
    assert "exists" in result.output


# The database the suite runs on, and PostgreSQL always: its column refuses what SQLite stores.
ON_BOTH_DATABASES = pytest.mark.parametrize(
    "database", ["suite", pytest.param("postgresql", marks=pytest.mark.postgres)])


@ON_BOTH_DATABASES
@pytest.mark.parametrize("name", ["n" * 81, "   "])
def test_a_name_the_column_cannot_hold_is_refused_as_invalid(app, database, name):
    result = app.test_cli_runner().invoke(
        args=["tokens", "create", "--name", name, "--role", "moderator"])

    assert result.exit_code == 1, result.output  # click's refusal, not a crash
    assert "Give a name of 1 to 80 characters." in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AdminToken)) == 0


@ON_BOTH_DATABASES
def test_a_name_of_80_characters_is_a_token(app, client, database):
    token = make_token(app, "n" * 80)

    answer = client.get("/api/v1/admin/me", headers={"Authorization": f"Bearer {token}"})

    assert answer.json["name"] == "n" * 80


@pytest.mark.parametrize("args", [["--name", "x", "--role", "root"], ["--role", "admin"],
                                  ["--name", "x"]])
def test_bad_token_requests_are_refused(app, args):
    assert app.test_cli_runner().invoke(args=["tokens", "create", *args]).exit_code != 0


def test_a_revoked_token_stops_working_at_once(app, client):
    token = make_token(app, "alice")
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(QUEUE, headers=headers).status_code == 200

    result = app.test_cli_runner().invoke(args=["tokens", "revoke", "alice"])

    assert result.exit_code == 0
    assert client.get(QUEUE, headers=headers).status_code == 401
    assert app.test_cli_runner().invoke(args=["tokens", "revoke", "alice"]).exit_code != 0


# --- Authentication -------------------------------------------------------------------------

@pytest.mark.parametrize("authorization", [
    None, "", "Bearer", "Bearer ", "Bearer wrong", "Basic dXNlcjpwYXNz", "eng_abc",
    "Bearer eng_\u00e9",
])
def test_missing_or_wrong_tokens_get_401_with_a_bearer_challenge(client, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}

    response = client.get(QUEUE, headers=headers)

    assert response.status_code == 401
    assert response.json["reason"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("method", "path"), [
    ("get", QUEUE), ("patch", f"{QUEUE}/1"), ("delete", f"{QUEUE}/1"),
    ("post", f"{QUEUE}/bulk"), ("get", "/api/v1/admin/settings"),
    ("patch", "/api/v1/admin/settings"), ("get", "/api/v1/admin/audit"),
])
def test_every_admin_endpoint_needs_a_token(client, method, path):
    response = getattr(client, method)(path, json={} if method != "get" else None)

    assert response.status_code == 401


def test_the_scheme_is_case_insensitive(app, client):
    token = make_token(app)

    assert client.get(QUEUE, headers={"Authorization": f"bearer {token}"}).status_code == 200


def test_both_roles_moderate(app, client):
    for name, role in (("mod", "moderator"), ("adm", "admin")):
        headers = {"Authorization": f"Bearer {make_token(app, name, role)}"}
        assert client.get(QUEUE, headers=headers).status_code == 200


def test_admin_answers_are_never_stored(client, moderator):
    response = client.get(QUEUE, headers=moderator)

    assert "no-store" in response.headers["Cache-Control"]
    assert "ETag" not in response.headers


def test_failed_authentications_are_rate_limited(make_app):
    app = make_app(LIMIT_AUTH_FAILURES="2/minute")
    client = app.test_client()
    token = make_token(app)

    codes = [client.get(QUEUE, headers={"Authorization": "Bearer guess"}).status_code
             for _ in range(3)]
    assert codes == [401, 401, 429]
    # Failures never lock a valid token out (issue 10, item 7): the same address still works.
    assert client.get(QUEUE, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert client.get(QUEUE, headers={"Authorization": "Bearer guess"}).status_code == 429


def test_successful_calls_do_not_count_as_failures(make_app):
    app = make_app(LIMIT_AUTH_FAILURES="1/minute")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {make_token(app)}"}

    assert {client.get(QUEUE, headers=headers).status_code for _ in range(4)} == {200}


def last_use(app, name="moderator"):
    listed = app.test_cli_runner().invoke(args=["tokens", "list"]).output
    return {line.split("\t")[0]: line.split("\t")[3] for line in listed.splitlines()}[name]


def test_a_read_commits_once_and_records_the_holders_last_use(app, client, moderator, clock):
    clock.advance(minutes=5)

    with database_log(app) as sent:
        assert client.get(QUEUE, headers=moderator).status_code == 200

    assert sent.count("COMMIT") == 1
    assert last_use(app) == clock().isoformat()


def test_a_change_and_the_holders_last_use_are_one_commit(held_app, moderator, clock):
    client = held_app.test_client()
    comment_id = post(client)["comment"]["id"]
    clock.advance(minutes=5)

    with database_log(held_app) as sent:
        answer = client.patch(f"{QUEUE}/{comment_id}", json={"status": "approved"},
                              headers=moderator)

    assert answer.status_code == 200
    assert sent[-1] == "COMMIT" and sent.count("COMMIT") == 1
    written = [text.split()[1] for text in sent if text.startswith("UPDATE")]
    assert {"admin_tokens", "comments"} <= set(written)
    assert last_use(held_app) == clock().isoformat()
    assert public_ids(client) == [comment_id]


def test_a_refused_change_writes_only_the_holders_last_use(app, client, moderator, clock):
    clock.advance(minutes=5)

    with database_log(app) as sent:
        answer = client.patch(f"{QUEUE}/999", json={"status": "approved"}, headers=moderator)

    assert answer.status_code == 404
    assert sent.count("COMMIT") == 1
    assert last_use(app) == clock().isoformat()
    audited = client.get("/api/v1/admin/audit", headers=moderator).json["items"]
    assert [entry["action"] for entry in audited] == ["token.create"]  # the token, made before


# --- The queue ------------------------------------------------------------------------------

def test_the_queue_shows_held_comments_with_their_private_fields(held_app, moderator):
    client = held_app.test_client()
    posted = post(client, author_email="ada@example.com", reader="198.51.100.7")

    page = client.get(QUEUE, headers=moderator).json

    assert page["total"] == 1 and page["next_cursor"] is None
    (item,) = page["items"]
    assert item["id"] == posted["comment"]["id"]
    assert item["status"] == "pending"
    assert item["held_for"] == ["mode"]
    assert item["author_email"] == "ada@example.com"
    assert item["client_ip"] == "198.51.100.7"
    assert item["article_id"] == "an-article"
    assert item["flag_count"] == 0 and item["flags"] == []


def test_the_queue_filters_by_status_article_and_text(held_app, moderator):
    client = held_app.test_client()
    first = post(client, body="about 100% cotton")["comment"]["id"]
    second = post(client, article="other", body="about rain", author_name="Zed")["comment"]["id"]
    third = post(client, body="plain", author_email="Someone@Example.com")["comment"]["id"]
    client.patch(f"{QUEUE}/{third}", json={"status": "approved"}, headers=moderator)

    def ids(query):
        response = client.get(f"{QUEUE}{query}", headers=moderator)
        assert response.status_code == 200, response.json
        return [item["id"] for item in response.json["items"]]

    assert ids("") == [second, first]
    assert ids("?status=approved") == [third]
    assert ids("?status=all") == [third, second, first]
    assert ids("?status=all&article=other") == [second]
    assert ids("?q=100%25") == [first]
    assert ids("?q=ZED") == [second]
    assert ids("?status=all&q=someone@example") == [third]
    assert ids("?q=_") == []


def test_a_deleted_comment_leaves_the_review_queue(held_app, moderator):
    client = held_app.test_client()
    kept, deleted_one, deleted_in_bulk = (post(client)["comment"]["id"] for _ in range(3))
    client.patch("/api/v1/admin/settings", json={"moderation_mode": "none"}, headers=moderator)
    flagged = post(client)["comment"]["id"]
    for reader in range(3):  # the default threshold: hidden, and queued as flagged
        client.post(f"/api/v1/comments/{flagged}/flags", json={"reason": "spam"},
                    environ_base={"REMOTE_ADDR": f"203.0.113.{reader}"})
    assert [item["id"] for item in client.get(f"{QUEUE}?status=flagged",
                                              headers=moderator).json["items"]] == [flagged]
    assert client.delete(f"{QUEUE}/{deleted_one}", headers=moderator).status_code == 204
    assert client.post(f"{QUEUE}/bulk", json={"ids": [deleted_in_bulk, flagged],
                                              "action": "delete"}, headers=moderator).json == {
        "updated": 2}

    review = client.get(f"{QUEUE}?status=pending,flagged", headers=moderator).json
    everything = client.get(f"{QUEUE}?status=all", headers=moderator).json["items"]

    assert [item["id"] for item in review["items"]] == [kept] and review["total"] == 1
    assert {item["id"] for item in everything if item["deleted"]} == {
        deleted_one, deleted_in_bulk, flagged}


def test_a_comment_deleted_meanwhile_is_not_decided_on(held_app, moderator):
    """A second moderator's tab still shows a comment the first one deleted: approving or
    pinning it there is refused (404, as flags are), not recorded as published and announced."""
    client = held_app.test_client()
    comment_id = post(client)["comment"]["id"]
    assert client.delete(f"{QUEUE}/{comment_id}", headers=moderator).status_code == 204

    for change in ({"status": "approved"}, {"status": "rejected"}, {"pinned": True}):
        response = client.patch(f"{QUEUE}/{comment_id}", json=change, headers=moderator)
        assert response.status_code == 404, change
        assert "deleted" in response.json["message"]
    bulk = client.post(f"{QUEUE}/bulk", json={"ids": [comment_id], "action": "approve"},
                       headers=moderator)

    assert bulk.json == {"updated": 0}
    (stored,) = client.get(f"{QUEUE}?status=all&id={comment_id}", headers=moderator).json["items"]
    assert stored["status"] == "pending" and stored["deleted"] and not stored["pinned"]
    actions = [entry["action"] for entry in
               client.get("/api/v1/admin/audit?action=comment", headers=moderator).json["items"]]
    assert actions == ["comment.delete"]


def test_the_queue_pages(held_app, moderator):
    client = held_app.test_client()
    ids = [post(client)["comment"]["id"] for _ in range(5)]
    seen, cursor = [], ""
    while True:
        page = client.get(f"{QUEUE}?limit=2{cursor}", headers=moderator).json
        seen += [item["id"] for item in page["items"]]
        if page["next_cursor"] is None:
            break
        cursor = f"&cursor={page['next_cursor']}"

    assert seen == ids[::-1]
    assert page["total"] == 5


@pytest.mark.parametrize("query", ["?status=lost", "?limit=0", "?limit=101", "?cursor=x",
                                   "?article=", "?q=", "?id=%D9%A5", "?id=1_0"])
def test_bad_queue_queries_are_refused(client, moderator, query):
    response = client.get(f"{QUEUE}{query}", headers=moderator)

    assert response.status_code == 422
    assert response.json["reason"] == "validation"


def test_client_addresses_are_withheld_after_the_retention_period(make_app, clock):
    app = make_app(MODERATION_MODE="all", IP_RETENTION_DAYS=30)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {make_token(app)}"}
    post(client)

    clock.advance(days=29, hours=23)
    assert client.get(QUEUE, headers=headers).json["items"][0]["client_ip"] == "198.51.100.1"
    clock.advance(hours=1)
    assert client.get(QUEUE, headers=headers).json["items"][0]["client_ip"] is None


# --- Decisions ------------------------------------------------------------------------------

def test_approving_publishes(held_app, moderator):
    client = held_app.test_client()
    comment_id = post(client)["comment"]["id"]

    response = client.patch(f"{QUEUE}/{comment_id}", json={"status": "approved"},
                            headers=moderator)

    assert response.status_code == 200
    assert response.json["status"] == "approved" and response.json["held_for"] == []
    assert public_ids(client) == [comment_id]
    assert client.get("/api/v1/articles/an-article").json["comment_count"] == 1


@pytest.mark.parametrize("status", ["rejected", "spam"])
def test_rejecting_or_marking_spam_hides(client, moderator, status):
    comment_id = post(client)["comment"]["id"]

    response = client.patch(f"{QUEUE}/{comment_id}", json={"status": status}, headers=moderator)

    assert response.json["status"] == status
    assert public_ids(client) == []


def test_approving_a_flagged_comment_clears_its_flags(make_app):
    app = make_app(FLAG_THRESHOLD=2)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {make_token(app)}"}
    comment_id = post(client)["comment"]["id"]
    for reader in ("198.51.100.1", "198.51.100.2"):
        client.post(f"/api/v1/comments/{comment_id}/flags", json={"reason": "abuse",
                    "note": "rude"}, environ_base={"REMOTE_ADDR": reader})

    (flagged,) = client.get(f"{QUEUE}?status=flagged", headers=headers).json["items"]
    assert flagged["flag_count"] == 2
    assert [flag["reason"] for flag in flagged["flags"]] == ["abuse", "abuse"]
    assert flagged["held_for"] == ["flags"]
    assert "198.51.100" not in str(flagged["flags"])

    approved = client.patch(f"{QUEUE}/{comment_id}", json={"status": "approved"},
                            headers=headers).json
    assert (approved["flag_count"], approved["flags"]) == (0, [])
    assert public_ids(client) == [comment_id]
    # The same readers may flag it again, and it takes the threshold again to hide it.
    client.post(f"/api/v1/comments/{comment_id}/flags", json={"reason": "spam"},
                environ_base={"REMOTE_ADDR": "198.51.100.1"})
    assert public_ids(client) == [comment_id]


def test_pinning_puts_a_comment_first(client, moderator):
    first, second = (post(client)["comment"]["id"] for _ in range(2))

    response = client.patch(f"{QUEUE}/{second}", json={"pinned": True}, headers=moderator)

    assert response.json["pinned"] is True
    assert public_ids(client) == [second, first]
    client.patch(f"{QUEUE}/{second}", json={"pinned": False}, headers=moderator)
    assert public_ids(client) == [first, second]


def test_a_pinned_reply_comes_first_among_the_replies_to_its_comment(client, moderator):
    top = post(client)["comment"]["id"]
    older, newer = (post(client, parent_id=top)["comment"]["id"] for _ in range(2))

    client.patch(f"{QUEUE}/{newer}", json={"pinned": True}, headers=moderator)

    (thread,) = client.get("/api/v1/articles/an-article/comments").json["items"]
    assert [reply["id"] for reply in thread["replies"]] == [newer, older]


@pytest.mark.parametrize("body", [{}, {"status": "pending"}, {"status": "flagged"},
                                  {"status": "approve"}, {"pinned": "yes"}, {"pinned": 1},
                                  {"status": "approved", "extra": True}])
def test_bad_decisions_are_refused(client, moderator, body):
    comment_id = post(client)["comment"]["id"]

    response = client.patch(f"{QUEUE}/{comment_id}", json=body, headers=moderator)

    assert response.status_code == 422
    assert public_ids(client) == [comment_id]


def test_deciding_on_a_missing_comment_is_404(client, moderator):
    assert client.patch(f"{QUEUE}/999", json={"status": "spam"},
                        headers=moderator).json["reason"] == "not_found"
    assert client.delete(f"{QUEUE}/999", headers=moderator).status_code == 404


def test_openapi_documents_the_404_of_a_missing_comment(client):
    operations = client.get("/api/v1/openapi.json").json["paths"][f"{QUEUE}/{{comment_id}}"]

    for method in ("patch", "delete"):
        assert operations[method]["responses"]["404"]["description"] == "No such comment"


def test_a_moderator_deletes(client, moderator):
    top = post(client)["comment"]["id"]
    reply = post(client, parent_id=top)["comment"]["id"]

    assert client.delete(f"{QUEUE}/{top}", headers=moderator).status_code == 204

    (placeholder,) = client.get("/api/v1/articles/an-article/comments").json["items"]
    assert placeholder["deleted"] is True and placeholder["replies"][0]["id"] == reply


def test_bulk_decisions(held_app, moderator):
    client = held_app.test_client()
    ids = [post(client)["comment"]["id"] for _ in range(3)]

    response = client.post(f"{QUEUE}/bulk", json={"ids": [*ids[:2], 999], "action": "approve"},
                           headers=moderator)

    assert response.status_code == 200
    assert response.json == {"updated": 2}
    assert public_ids(client) == ids[:2]
    assert client.post(f"{QUEUE}/bulk", json={"ids": ids, "action": "delete"},
                       headers=moderator).json == {"updated": 3}
    assert public_ids(client) == []


def test_the_queue_lists_one_comment_by_its_id(held_app, moderator):
    client = held_app.test_client()
    ids = [post(client)["comment"]["id"] for _ in range(3)]
    client.patch(f"{QUEUE}/{ids[1]}", json={"status": "approved"}, headers=moderator)

    one = client.get(QUEUE, query_string={"id": ids[1], "status": "all"}, headers=moderator)
    held = client.get(QUEUE, query_string={"id": ids[1]}, headers=moderator)  # pending only

    assert [item["id"] for item in one.json["items"]] == [ids[1]]
    assert held.json["items"] == []
    for bad in ("0", "2147483648", "abc"):
        refused = client.get(QUEUE, query_string={"id": bad}, headers=moderator)
        assert refused.status_code == 422 and "id" in refused.json["errors"]["query"], bad


def test_a_bulk_decision_is_in_each_comments_audit_history(held_app, moderator):
    client = held_app.test_client()
    ids = [post(client)["comment"]["id"] for _ in range(3)]
    client.post(f"{QUEUE}/bulk", json={"ids": ids, "action": "approve"}, headers=moderator)
    client.patch(f"{QUEUE}/{ids[1]}", json={"status": "rejected"}, headers=moderator)

    history = client.get("/api/v1/admin/audit", query_string={"target": f"comment:{ids[1]}"},
                         headers=moderator).json["items"]

    assert [(entry["action"], entry["details"].get("in_one_decision")) for entry in history] == [
        ("comment.moderate", None), ("comment.bulk_approve", 3)]


def bulk_costs(app, client, moderator, clock, ids, action) -> dict[int, int]:
    """{batch size: statements sent} of a bulk `action` on the first 5 of `ids`, then the rest."""
    costs = {}
    for batch in (ids[:5], ids[5:]):
        clock.advance(seconds=1)  # each call records the holder's last use
        with database_log(app) as sent:
            answer = client.post(f"{QUEUE}/bulk", json={"ids": batch, "action": action},
                                 headers=moderator)
        assert answer.json == {"updated": len(batch)}
        costs[len(batch)] = len(sent)
    return costs


def test_bulk_approval_costs_the_same_statements_for_5_comments_as_for_45(make_app, moderator,
                                                                           clock):
    # Comments hidden by a reader's flag, on three articles, some of them replies: approving
    # them clears their flags, counts them in their articles and announces them.
    app = make_app(FLAG_THRESHOLD=1)
    client = app.test_client()
    top = post(client, article="article-0")["comment"]["id"]
    ids = [post(client, article=f"article-{n % 3}", **({"parent_id": top} if n % 9 == 0 else {})
                )["comment"]["id"] for n in range(50)]
    for comment_id in ids:
        flag = client.post(f"/api/v1/comments/{comment_id}/flags", json={"reason": "spam"},
                           environ_base={"REMOTE_ADDR": "203.0.113.9"})
        assert flag.json == {"flagged": True, "hidden": True}

    costs = bulk_costs(app, client, moderator, clock, ids, "approve")

    assert costs[45] == costs[5], costs
    counts = [client.get(f"/api/v1/articles/article-{n}").json["comment_count"]
              for n in range(3)]
    assert counts == [18, 17, 16]  # 17 + the first comment, 17, 16
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Flag)) == 0


def test_bulk_deletion_costs_the_same_statements_for_5_comments_as_for_45(app, moderator,
                                                                           clock):
    client = app.test_client()
    ids = [post(client, article=f"article-{n % 3}")["comment"]["id"] for n in range(50)]

    costs = bulk_costs(app, client, moderator, clock, ids, "delete")

    assert costs[45] == costs[5], costs
    for n in range(3):
        assert client.get(f"/api/v1/articles/article-{n}").json["comment_count"] == 0
        assert client.get(f"/api/v1/articles/article-{n}/comments").json["items"] == []


@pytest.mark.parametrize("body", [{}, {"ids": [], "action": "approve"},
                                  {"ids": [1], "action": "burn"}, {"ids": ["1"], "action": "spam"},
                                  {"ids": [0], "action": "spam"}, {"ids": 1, "action": "spam"},
                                  {"ids": list(range(1, 502)), "action": "spam"}])
def test_bad_bulk_requests_are_refused(client, moderator, body):
    assert client.post(f"{QUEUE}/bulk", json=body, headers=moderator).status_code == 422


# --- Settings -------------------------------------------------------------------------------

SETTINGS = "/api/v1/admin/settings"


def test_settings_start_from_the_configuration(make_app):
    app = make_app(MODERATION_MODE="first_time", MAX_LINKS=4, BLOCKED_WORDS=["casino"],
                   FLAG_THRESHOLD=5)
    headers = {"Authorization": f"Bearer {make_token(app)}"}

    assert app.test_client().get(SETTINGS, headers=headers).json == {
        "moderation_mode": "first_time", "max_links": 4, "blocked_words": ["casino"],
        "flag_threshold": 5}


def test_changed_settings_apply_at_once_and_outlive_a_restart(make_app):
    app = make_app()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {make_token(app)}"}

    response = client.patch(SETTINGS, json={"blocked_words": ["casino"], "max_links": 0},
                            headers=headers)

    assert response.status_code == 200
    assert response.json == {"moderation_mode": "none", "max_links": 0,
                             "blocked_words": ["casino"], "flag_threshold": 3}
    assert post(client, body="casino")["status"] == "pending"
    assert post(client, body="https://a.example")["status"] == "pending"
    restarted = make_app().test_client()
    assert restarted.get(SETTINGS, headers=headers).json["blocked_words"] == ["casino"]
    assert post(restarted, body="plain")["status"] == "approved"


def test_blocked_words_a_reader_cannot_tell_apart_are_kept_once(client, moderator):
    # Words are matched as readers see them (case, accents and width folded): the first
    # spelling is the rule, the others would be the same rule again.
    response = client.patch(SETTINGS, json={
        "blocked_words": ["heldback", "HeldBack", "casino", "héldback", "ｃａｓｉｎｏ"]},
        headers=moderator)

    assert response.status_code == 200
    assert response.json["blocked_words"] == ["heldback", "casino"]
    assert client.get(SETTINGS, headers=moderator).json["blocked_words"] == [
        "heldback", "casino"]


@pytest.mark.parametrize("body", [
    {"moderation_mode": "some"}, {"max_links": -1}, {"max_links": "2"}, {"flag_threshold": 0},
    {"blocked_words": "casino"}, {"blocked_words": [""]}, {"blocked_words": ["a\nb"]},
    {"blocked_words": [1]}, {"spam_filter": True},
])
def test_bad_settings_are_refused(client, moderator, body):
    response = client.patch(SETTINGS, json=body, headers=moderator)

    assert response.status_code == 422
    assert client.get(SETTINGS, headers=moderator).json["moderation_mode"] == "none"


# --- Audit ----------------------------------------------------------------------------------

def test_every_change_is_audited_with_its_actor(app, client):
    headers = {"Authorization": f"Bearer {make_token(app, 'alice')}"}
    comment_id = post(client)["comment"]["id"]
    client.patch(f"{QUEUE}/{comment_id}", json={"status": "spam"}, headers=headers)
    client.patch(SETTINGS, json={"max_links": 5}, headers=headers)
    client.delete(f"{QUEUE}/{comment_id}", headers=headers)
    client.get(QUEUE, headers=headers)  # reads are not changes

    entries = client.get("/api/v1/admin/audit", headers=headers).json

    assert entries["total"] == 4
    assert [(e["actor"], e["action"], e["target"]) for e in entries["items"]] == [
        ("alice", "comment.delete", f"comment:{comment_id}"),
        ("alice", "settings.update", "settings"),
        ("alice", "comment.moderate", f"comment:{comment_id}"),
        ("command line", "token.create", "token:alice"),
    ]
    assert entries["items"][2]["details"] == {"status": "spam"}
    assert entries["items"][0]["at"] == "2026-11-27T08:00:00Z"


def test_a_change_that_changes_nothing_is_not_audited(app, client):
    headers = {"Authorization": f"Bearer {make_token(app, 'alice')}"}
    comment_id = post(client)["comment"]["id"]
    assert client.patch(f"{QUEUE}/{comment_id}", json={"status": "spam", "pinned": False},
                        headers=headers).status_code == 200
    again = [
        client.patch(f"{QUEUE}/{comment_id}", json={"status": "spam"}, headers=headers),
        client.patch(f"{QUEUE}/{comment_id}", json={"status": "spam", "pinned": False},
                     headers=headers),
        client.patch(SETTINGS, json={}, headers=headers),
        client.patch(SETTINGS, json={"max_links": 2, "moderation_mode": "none"},
                     headers=headers),  # what they are
        client.patch(SETTINGS, json={"max_links": 5, "moderation_mode": "none"},
                     headers=headers),
        client.delete(f"{QUEUE}/{comment_id}", headers=headers),
        client.delete(f"{QUEUE}/{comment_id}", headers=headers),
    ]

    assert [answer.status_code for answer in again] == [200, 200, 200, 200, 200, 204, 204]
    entries = client.get("/api/v1/admin/audit?actor=alice", headers=headers).json["items"]
    assert [(e["action"], e["details"]) for e in entries] == [
        ("comment.delete", {}),
        ("settings.update", {"max_links": 5}),
        ("comment.moderate", {"status": "spam"}),
    ]


def test_admin_answers_send_exactly_the_fields_the_openapi_document_lists(held_app, moderator):
    client = held_app.test_client()
    top = post(client)["comment"]["id"]
    client.patch(f"{QUEUE}/{top}", json={"status": "approved"}, headers=moderator)
    reply = post(client, parent_id=top)["comment"]["id"]
    client.post(f"/api/v1/comments/{top}/flags", json={"reason": "spam"})
    client.post("/api/v1/admin/bans", headers=moderator,
                json={"kind": "ip", "value": "192.0.2.0/24", "reason": "bots"})
    spec = client.get("/api/v1/openapi.json").json
    schemas = spec["components"]["schemas"]

    def listed(path, method="get"):
        content = spec["paths"][path][method]["responses"]["200"]["content"]
        return schemas[content["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]]

    def page_item(path):
        items = listed(path)["properties"]["items"]["items"]["$ref"].rsplit("/", 1)[-1]
        return set(schemas[items]["properties"])

    answers = {
        "/api/v1/admin/comments": client.get(f"{QUEUE}?status=all", headers=moderator).json,
        "/api/v1/admin/articles": client.get("/api/v1/admin/articles", headers=moderator).json,
        "/api/v1/admin/bans": client.get("/api/v1/admin/bans", headers=moderator).json,
    }
    for path, page in answers.items():
        assert page["items"], path
        assert {frozenset(item) for item in page["items"]} == {frozenset(page_item(path))}, path
    comment = next(item for item in answers["/api/v1/admin/comments"]["items"]
                   if item["id"] == reply)
    assert set(comment["parent"]) == set(schemas["ParentOut"]["properties"])
    assert set(comment["author_history"]) == set(schemas["AuthorHistoryOut"]["properties"])
    flagged = next(item for item in answers["/api/v1/admin/comments"]["items"]
                   if item["id"] == top)
    assert set(flagged["flags"][0]) == set(schemas["FlagOut"]["properties"])
    settings = client.get(SETTINGS, headers=moderator).json
    assert set(settings) == set(listed("/api/v1/admin/settings")["properties"])


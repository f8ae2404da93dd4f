"""The moderators' article tools: the list, PUT and PATCH, and what readers see of them."""

from datetime import timedelta

import pytest

from engagement.pagination import Cursor
from tests.conftest import comment_fields

ARTICLES = "/api/v1/admin/articles"
ARTICLE = "/api/v1/admin/articles/an-article"
PUBLIC = "/api/v1/articles/an-article"
COMMENTS = "/api/v1/articles/an-article/comments"
AUDIT = "/api/v1/admin/audit"

FULL = {
    "title": "An article",
    "url": "https://news.example/an-article",
    "published_at": "2026-11-26T10:00:00+01:00",
    "comments_open": False,
    "comments_close_at": "2026-12-31T23:00:00Z",
}


def iso(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def listed(client, moderator, query=""):
    response = client.get(f"{ARTICLES}?{query}", headers=moderator)
    assert response.status_code == 200, response.json
    return response.json


def audit_entries(client, moderator):
    return client.get(f"{AUDIT}?action=article", headers=moderator).json["items"]


def may_comment(client) -> bool:
    response = client.post(COMMENTS, json=comment_fields())
    assert response.status_code in (201, 403), response.json
    if response.status_code == 403:
        assert response.json["reason"] == "comments_closed"
    return response.status_code == 201


# --- Tokens ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("method", "path"), [
    ("GET", ARTICLES), ("PUT", ARTICLE), ("PATCH", ARTICLE),
])
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer eng_not-a-token"},
                                     {"Authorization": "Basic bW9kOm1vZA=="}])
def test_every_route_needs_a_token(client, moderator, method, path, headers):
    response = client.open(path, method=method, headers=headers, json={"comments_open": False})

    assert response.status_code == 401
    assert response.json["reason"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert listed(client, moderator)["total"] == 0


# --- PUT ------------------------------------------------------------------------------------

def test_put_creates_then_updates(client, moderator, clock):
    created = client.put(ARTICLE, json=FULL, headers=moderator)

    assert created.status_code == 201
    assert created.json == {
        "id": "an-article",
        "title": "An article",
        "url": "https://news.example/an-article",
        "published_at": "2026-11-26T09:00:00Z",
        "comments_open": False,
        "comments_open_by_moderator": False,
        "comments_close_at": "2026-12-31T23:00:00Z",
        "first_seen_at": iso(clock()),
        "comment_count": 0,
    }
    assert created.cache_control.no_store

    updated = client.put(ARTICLE, json={**FULL, "title": "A better title"}, headers=moderator)

    assert updated.status_code == 200
    assert updated.json == {**created.json, "title": "A better title"}
    public = client.get(PUBLIC).json
    assert (public["title"], public["url"]) == ("A better title", FULL["url"])


def test_put_on_an_article_readers_have_seen_updates_it(client, moderator, clock):
    client.post(f"{PUBLIC}/shares", json={"network": "x"})  # first sighting: a reader's share
    seen_at = clock()
    clock.advance(days=2)

    response = client.put(ARTICLE, json=FULL, headers=moderator)

    assert response.status_code == 200
    assert response.json["first_seen_at"] == iso(seen_at)


def test_put_replaces_so_absent_fields_become_null(client, moderator):
    client.put(ARTICLE, json=FULL, headers=moderator)

    response = client.put(ARTICLE, json={"title": "Only a title"}, headers=moderator)

    assert response.status_code == 200
    assert response.json["title"] == "Only a title"
    assert response.json["url"] is None
    assert response.json["published_at"] is None
    assert response.json["comments_close_at"] is None
    # No moderator's choice any more: the automatic rules, which leave it open.
    assert response.json["comments_open_by_moderator"] is None
    assert response.json["comments_open"] is True
    assert may_comment(client)


def test_put_with_an_empty_body_records_a_bare_article(client, moderator):
    response = client.put(ARTICLE, json={}, headers=moderator)

    assert response.status_code == 201
    assert response.json["title"] is None
    assert response.json["comments_open"] is True


# --- PATCH ----------------------------------------------------------------------------------

def test_patch_changes_only_the_fields_given(client, moderator):
    before = client.put(ARTICLE, json=FULL, headers=moderator).json

    response = client.patch(ARTICLE, json={"comments_open": True}, headers=moderator)

    assert response.status_code == 200
    assert response.json == {**before, "comments_open": True, "comments_open_by_moderator": True}


def test_patch_with_null_hands_the_article_back_to_the_automatic_rules(client, moderator):
    client.put(ARTICLE, json={**FULL, "comments_close_at": None}, headers=moderator)
    assert not may_comment(client)

    response = client.patch(ARTICLE, json={"comments_open": None}, headers=moderator)

    assert response.json["comments_open_by_moderator"] is None
    assert response.json["comments_open"] is True
    assert may_comment(client)


def test_patch_of_an_unknown_article_is_404_and_records_nothing(client, moderator):
    response = client.patch("/api/v1/admin/articles/never-seen", json={"title": "x"},
                            headers=moderator)

    assert response.status_code == 404
    assert response.json["reason"] == "not_found"
    assert listed(client, moderator)["total"] == 0


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
@pytest.mark.parametrize("path", [
    "/api/v1/admin/articles/-dash-first", "/api/v1/admin/articles/has%20space",
    "/api/v1/admin/articles/" + "a" * 201,
])
def test_ids_that_are_not_slugs_are_404(client, moderator, method, path):
    response = client.open(path, method=method, json={"title": "x"}, headers=moderator)

    assert response.status_code == 404
    assert response.json["reason"] == "not_found"


# --- Bad input ------------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["PUT", "PATCH"])
@pytest.mark.parametrize(("field", "value"), [
    ("title", ""),
    ("title", "   "),
    ("title", "two\nlines"),
    ("title", "x" * 501),
    ("title", 42),
    ("url", "ftp://news.example/a"),
    ("url", "javascript:alert(1)"),
    ("url", "news.example/a"),
    ("url", "https://news.example/" + "a" * 2000),
    ("published_at", "2026-11-27T08:00:00"),  # no offset
    ("published_at", "yesterday"),
    ("published_at", 1795766400),
    ("comments_open", "false"),
    ("comments_open", 0),
    ("comments_close_at", "2026-13-01T00:00:00Z"),
    ("comments_close_at", "0001-01-01T00:00:00+01:00"),  # before the first UTC moment
    ("comments_close_at", "9999-12-31T23:00:00-05:00"),  # after the last
    ("author", "Ada"),  # not a field
])
def test_bad_fields_are_422_and_change_nothing(client, moderator, method, field, value):
    client.put(ARTICLE, json=FULL, headers=moderator)

    response = client.open(ARTICLE, method=method, json={field: value}, headers=moderator)

    assert response.status_code == 422
    assert response.json["reason"] == "validation"
    assert field in response.json["errors"]["json"]
    assert client.get(PUBLIC).json["title"] == FULL["title"]
    assert [entry["action"] for entry in audit_entries(client, moderator)] == ["article.create"]


def test_an_empty_patch_is_422(client, moderator):
    client.put(ARTICLE, json=FULL, headers=moderator)

    response = client.patch(ARTICLE, json={}, headers=moderator)

    assert response.status_code == 422
    assert response.json["reason"] == "validation"


def test_a_put_refused_creates_nothing(client, moderator):
    response = client.put(ARTICLE, json={"url": "ftp://news.example/a"}, headers=moderator)

    assert response.status_code == 422
    assert listed(client, moderator)["total"] == 0


def test_writes_must_be_json(client, moderator):
    response = client.put(ARTICLE, data="title=x", headers=moderator,
                          content_type="application/x-www-form-urlencoded")

    assert response.status_code == 415
    assert listed(client, moderator)["total"] == 0


# --- What readers see -----------------------------------------------------------------------

def test_closing_by_put_closes_comments_for_readers(client, moderator, post_comment):
    post_comment()
    client.put(ARTICLE, json={**FULL, "comments_close_at": None}, headers=moderator)

    assert client.get(PUBLIC).json["comments_open"] is False
    refused = client.post(COMMENTS, json=comment_fields())
    assert refused.status_code == 403
    assert refused.json["reason"] == "comments_closed"
    assert len(client.get(COMMENTS).json["items"]) == 1  # what was said stays listed

    client.patch(ARTICLE, json={"comments_open": True}, headers=moderator)
    assert client.get(PUBLIC).json["comments_open"] is True
    assert may_comment(client)


def test_comments_close_at_the_close_date(client, moderator, clock):
    close_at = clock() + timedelta(hours=1)
    client.put(ARTICLE, json={"title": "x", "comments_close_at": iso(close_at)},
               headers=moderator)
    assert client.get(PUBLIC).json["comments_open"] is True

    clock.advance(hours=1)

    assert client.get(PUBLIC).json["comments_open"] is False
    assert not may_comment(client)
    assert listed(client, moderator)["items"][0]["comments_open"] is False


def test_explicit_open_keeps_comments_open_past_the_close_date(client, moderator, clock):
    client.put(ARTICLE, json={"comments_open": True,
                              "comments_close_at": iso(clock() - timedelta(days=1))},
               headers=moderator)

    assert client.get(PUBLIC).json["comments_open"] is True
    assert may_comment(client)


def test_explicit_open_outranks_the_articles_age(make_app, moderator, clock):
    client = make_app(COMMENTS_CLOSE_AFTER_DAYS=7).test_client()
    old = iso(clock() - timedelta(days=30))
    client.put(ARTICLE, json={"published_at": old}, headers=moderator)
    assert not may_comment(client)

    response = client.patch(ARTICLE, json={"comments_open": True}, headers=moderator)

    assert response.json["comments_open"] is True
    assert may_comment(client)


# --- The list -------------------------------------------------------------------------------

def test_list_is_newest_first_seen_first_with_counts(client, moderator, clock, post_comment):
    for slug in ("older", "newer"):
        client.put(f"{ARTICLES}/{slug}", json={"title": slug.title()}, headers=moderator)
        clock.advance(minutes=1)
    post_comment(article="older")
    post_comment(article="older", author_email="bea@example.com")

    page = listed(client, moderator)

    assert [item["id"] for item in page["items"]] == ["newer", "older"]
    assert [item["comment_count"] for item in page["items"]] == [0, 2]
    assert page["total"] == 2
    assert page["next_cursor"] is None


def first_sighting(client, slug):
    """Readers' first write about an article records it (reading it records nothing)."""
    response = client.post(f"/api/v1/articles/{slug}/shares", json={"network": "x"})
    assert response.status_code == 200


def test_pages_neither_repeat_nor_skip_nor_shift(client, moderator, clock):
    # Pairs first seen at the same moment, split across pages: the id breaks the tie.
    for slug in ("a", "b", "c", "d", "e"):
        first_sighting(client, slug)
        if slug in ("b", "d"):
            clock.advance(seconds=1)
    seen, cursor = [], ""
    while True:
        page = listed(client, moderator, f"limit=2&cursor={cursor}")
        seen += [item["id"] for item in page["items"]]
        if not page["next_cursor"]:
            break
        cursor = page["next_cursor"]
        first_sighting(client, f"new-{len(seen)}")  # while a moderator pages

    assert seen == ["e", "d", "c", "b", "a"]


# One article per way to be open or closed now, with what readers are told.
STATES = {
    "fresh": ({}, True),
    "moderator-closed": ({"comments_open": False}, False),
    "moderator-opened-past-date": ({"comments_open": True, "comments_close_at": -1}, True),
    "moderator-opened-old": ({"comments_open": True, "published_at": -30}, True),
    "close-date-passed": ({"comments_close_at": -1}, False),
    "close-date-ahead": ({"comments_close_at": 1}, True),
    "published-long-ago": ({"published_at": -30}, False),
    "published-lately": ({"published_at": -2}, True),
}


@pytest.fixture
def articles_in_every_state(make_app, moderator, clock):
    """An app that closes comments after 7 days, and one article per state; one more was
    first seen 30 days ago, with no publication date."""
    client = make_app(COMMENTS_CLOSE_AFTER_DAYS=7).test_client()
    first_sighting(client, "first-seen-long-ago")
    clock.advance(days=30)
    for slug, (fields, _) in STATES.items():
        body = {name: iso(clock() + timedelta(days=value)) if name.endswith("_at") else value
                for name, value in fields.items()}
        assert client.put(f"{ARTICLES}/{slug}", json=body, headers=moderator).status_code == 201
    return client


@pytest.mark.parametrize("wanted", [True, False])
def test_the_open_filter_agrees_with_what_readers_see(articles_in_every_state, moderator,
                                                     wanted):
    client = articles_in_every_state
    expected = {slug for slug, (_, open_now) in STATES.items() if open_now is wanted}
    if not wanted:
        expected.add("first-seen-long-ago")

    page = listed(client, moderator, f"comments_open={str(wanted).lower()}&limit=100")

    assert {item["id"] for item in page["items"]} == expected
    assert page["total"] == len(expected)
    for item in page["items"]:
        assert item["comments_open"] is wanted
        assert client.get(f"/api/v1/articles/{item['id']}").json["comments_open"] is wanted


@pytest.mark.parametrize("query", [
    "comments_open=maybe", "comments_open=", "limit=0", "limit=101", "limit=x",
    "cursor=not-a-cursor", f"cursor={Cursor.encode([5])}",
    f"cursor={Cursor.encode(['yesterday', 'an-article'])}",
    f"cursor={Cursor.encode(['2026-11-27T08:00:00', 'an-article'])}",
    f"cursor={Cursor.encode(['2026-11-27T08:00:00+00:00', '-not-a-slug'])}",
])
def test_bad_list_arguments_are_422(client, moderator, query):
    response = client.get(f"{ARTICLES}?{query}", headers=moderator)

    assert response.status_code == 422
    assert response.json["reason"] == "validation"
    assert response.json["errors"]["query"]


# --- The audit log --------------------------------------------------------------------------

def test_changes_are_audited_with_the_fields_changed(client, moderator):
    client.put(ARTICLE, json=FULL, headers=moderator)
    client.patch(ARTICLE, json={"comments_open": True, "title": FULL["title"]},
                 headers=moderator)
    client.put(ARTICLE, json={**FULL, "comments_open": True}, headers=moderator)  # no change
    client.put(ARTICLE, json={"title": "New"}, headers=moderator)

    entries = audit_entries(client, moderator)

    assert [(entry["action"], entry["target"], entry["actor"]) for entry in entries] == [
        ("article.update", "article:an-article", "moderator"),
        ("article.update", "article:an-article", "moderator"),
        ("article.create", "article:an-article", "moderator"),
    ]
    assert entries[2]["details"] == {**FULL, "published_at": "2026-11-26T09:00:00Z"}
    assert entries[1]["details"] == {"comments_open": True}
    assert entries[0]["details"] == {"title": "New", "url": None, "published_at": None,
                                     "comments_open": None, "comments_close_at": None}


def test_openapi_documents_the_article_tools(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]

    assert {"get"} <= set(paths[ARTICLES])
    put = paths["/api/v1/admin/articles/{article_id}"]["put"]
    assert {"200", "201"} <= set(put["responses"])
    assert "patch" in paths["/api/v1/admin/articles/{article_id}"]


@pytest.mark.parametrize("published_at", ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z"])
@pytest.mark.parametrize("days", [30, 36500])  # the most the setting takes
def test_dates_at_the_ends_of_the_calendar_never_break_reads_or_writes(make_app, moderator,
                                                                        published_at, days):
    # published_at plus COMMENTS_CLOSE_AFTER_DAYS is past year 9999: no datetime holds it.
    client = make_app(COMMENTS_CLOSE_AFTER_DAYS=days).test_client()
    assert client.put(ARTICLE, json={"published_at": published_at},
                      headers=moderator).status_code == 201
    open_now = published_at.startswith("9999")  # published in the future: not yet 30 days old

    assert client.get(PUBLIC).json["comments_open"] is open_now
    counts = client.get("/api/v1/counts?ids=an-article,art-1")
    assert counts.status_code == 200
    assert counts.json["counts"]["an-article"]["comments_open"] is open_now
    assert may_comment(client) is open_now
    assert [item["comments_open"] for item in listed(client, moderator)["items"]] == [open_now]
    assert listed(client, moderator, f"comments_open={str(open_now).lower()}")["total"] == 1

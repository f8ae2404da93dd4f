"""Cross-origin access: the widget on a configured site's pages may call the public API;
other origins and the admin API get no CORS grant."""

import pytest

from tests.conftest import make_token

SITE = "https://news.example"


@pytest.fixture
def client(make_app):
    return make_app(CORS_ORIGINS=[SITE]).test_client()


def preflight(client, path, method="POST", origin=SITE, headers="content-type, x-edit-token"):
    return client.options(path, headers={
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": headers,
    })


def test_preflight_from_a_configured_site_allows_the_widgets_writes(client):
    response = preflight(client, "/api/v1/comments/1", method="PATCH")

    assert response.headers["Access-Control-Allow-Origin"] == SITE
    assert "PATCH" in response.headers["Access-Control-Allow-Methods"]
    allowed = response.headers["Access-Control-Allow-Headers"].lower()
    assert "x-edit-token" in allowed and "content-type" in allowed
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_reads_from_a_configured_site_may_see_the_etag(client):
    response = client.get("/api/v1/counts?ids=a", headers={"Origin": SITE})

    assert response.headers["Access-Control-Allow-Origin"] == SITE
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]
    assert "Origin" in response.headers["Vary"]


def test_errors_reach_the_widget_too(client):
    response = client.post("/api/v1/articles/a/comments", json={}, headers={"Origin": SITE})

    assert response.status_code == 422
    assert response.headers["Access-Control-Allow-Origin"] == SITE


@pytest.mark.parametrize("origin", ["https://evil.example", "https://news.example.evil.example",
                                    "http://news.example", "null"])
def test_other_origins_get_no_grant(client, origin):
    assert "Access-Control-Allow-Origin" not in preflight(client, "/api/v1/articles/a/comments",
                                                          origin=origin).headers
    assert "Access-Control-Allow-Origin" not in client.get(
        "/api/v1/articles/a", headers={"Origin": origin}).headers


def test_no_configured_origins_means_no_cross_origin_access(make_app):
    client = make_app().test_client()

    assert "Access-Control-Allow-Origin" not in client.get(
        "/api/v1/articles/a", headers={"Origin": SITE}).headers


def test_admin_api_is_never_shared_cross_origin(client):
    response = preflight(client, "/api/v1/admin/comments", method="GET", headers="authorization")

    assert "Access-Control-Allow-Origin" not in response.headers


def test_preflights_to_the_admin_api_are_no_failed_sign_ins(make_app):
    # Any page a moderator visits could make their browser send these: were they failures, a
    # page could lock the newsroom's address out of the admin API, and fill the audit log.
    app = make_app(LIMIT_AUTH_FAILURES="2/minute")
    client = app.test_client()

    answers = [preflight(client, "/api/v1/admin/newsletter/subscribers", method="GET",
                         origin="https://elsewhere.example", headers="authorization")
               for _ in range(5)]

    assert {answer.status_code for answer in answers} == {200}
    assert all("Access-Control-Allow-Origin" not in answer.headers for answer in answers)
    refused = client.get("/api/v1/admin/comments", headers={"Authorization": "Bearer guess"})
    assert refused.status_code == 401  # not 429: no failure was counted before it
    token = f"Bearer {make_token(app, 'root', 'admin')}"
    audit = client.get("/api/v1/admin/audit", headers={"Authorization": token}).json["items"]
    assert [entry["action"] for entry in audit].count("auth.failure") == 1

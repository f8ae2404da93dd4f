"""The HTTP conventions every endpoint shares (docs/api.md, Conventions): the one error
envelope, JSON-only writes with sane bodies, the health probes, the OpenAPI document, and the
cache headers of public GETs."""

from __future__ import annotations

import io
import json
import re
import time
from http import HTTPStatus

import pytest
import sqlalchemy as sa
from conftest import TEST_SECRET, comment_fields

from engagement import create_app
from engagement.extensions import db

COMMENTS = "/api/v1/articles/an-article/comments"
ENVELOPE_KEYS = {"code", "status", "message", "reason", "errors"}


def assert_error(response, status: int, reason: str) -> dict:
    """The response is the contract's error envelope for `status` and `reason`."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) <= ENVELOPE_KEYS
    assert body["code"] == status
    assert body["status"] == HTTPStatus(status).phrase
    assert body["reason"] == reason
    assert isinstance(body["message"], str) and body["message"]
    if reason != "validation":
        assert "errors" not in body
    return body


def assert_no_comments(client, article="an-article") -> None:
    listing = client.get(f"/api/v1/articles/{article}/comments").get_json()
    assert listing["items"] == [] and listing["total"] == 0


# --- 404 and 405 ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/nothing-here"),
        ("GET", "/api/v1/articles/an-article/nothing-here"),
        ("GET", "/nothing-here"),
        ("POST", "/nothing-here"),
        ("GET", "/api/v2/articles/an-article"),
        ("GET", "/api/v1/articles/-starts-with-a-dash"),
        ("GET", "/api/v1/articles/" + "a" * 201),
        ("GET", "/api/v1/articles/has%20a%20space"),
        ("PATCH", "/api/v1/comments/0"),
        ("PATCH", "/api/v1/comments/-1"),
        ("PATCH", "/api/v1/comments/2147483648"),  # larger than any row id
        ("DELETE", "/api/v1/comments/99999999999"),
        ("PATCH", "/api/v1/comments/abc"),
    ],
)
def test_unknown_path_is_not_found(client, method, path):
    response = client.open(path, method=method, json={"body": "x"})
    assert_error(response, 404, "not_found")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", COMMENTS, {"GET", "POST"}),
        ("DELETE", COMMENTS, {"GET", "POST"}),
        ("POST", "/api/v1/articles/an-article", {"GET"}),
        ("GET", "/api/v1/comments/1", {"PATCH", "DELETE"}),
        ("POST", "/healthz", {"GET"}),
    ],
)
def test_wrong_method_is_method_not_allowed_with_allow(client, method, path, allowed):
    response = client.open(path, method=method, data="not json", content_type="text/plain")
    assert_error(response, 405, "method_not_allowed")
    assert allowed <= {m.strip() for m in response.headers["Allow"].split(",")}
    assert method not in {m.strip() for m in response.headers["Allow"].split(",")}


# --- Write bodies: size, type, JSON ---------------------------------------------------------


def test_body_over_the_limit_is_payload_too_large(make_app):
    client = make_app(MAX_BODY_BYTES=1024).test_client()
    response = client.post(COMMENTS, json=comment_fields(body="x" * 2000))
    assert_error(response, 413, "payload_too_large")
    assert_no_comments(client)
    # Within the limit the same request is fine: the limit is the setting, not the field.
    assert client.post(COMMENTS, json=comment_fields(body="x" * 800)).status_code == 201


def test_streamed_body_over_the_limit_is_payload_too_large(make_app):
    """A chunked body has no Content-Length; a server that terminates the stream (gunicorn)
    hands it over whole, and it must be refused, not cut at the limit and parsed."""
    client = make_app(MAX_BODY_BYTES=1024).test_client()
    body = json.dumps(comment_fields(body="x" * 2000)).encode()
    response = client.post(
        COMMENTS,
        input_stream=io.BytesIO(body),
        headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert_error(response, 413, "payload_too_large")
    assert_no_comments(client)


def test_streamed_body_within_the_limit_is_read(client):
    body = json.dumps(comment_fields()).encode()
    response = client.post(
        COMMENTS,
        input_stream=io.BytesIO(body),
        headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 201, response.json


@pytest.mark.parametrize(
    "request_kwargs",
    [
        pytest.param({"data": json.dumps(comment_fields())}, id="no-content-type"),
        pytest.param({"data": b""}, id="no-content-type-no-body"),
        pytest.param(
            {"data": json.dumps(comment_fields()), "content_type": "text/plain"}, id="text-plain"
        ),
        pytest.param({"data": comment_fields()}, id="form-urlencoded"),
        pytest.param(
            {"data": {**comment_fields(), "file": (io.BytesIO(b"x"), "x.txt")}}, id="multipart"
        ),
        pytest.param(
            {"data": json.dumps(comment_fields()), "content_type": "application/x-json"},
            id="json-lookalike",
        ),
    ],
)
def test_write_that_is_not_json_is_unsupported_and_changes_nothing(client, request_kwargs):
    response = client.post(COMMENTS, **request_kwargs)
    assert_error(response, 415, "unsupported_media_type")
    assert_no_comments(client)


def test_edit_and_delete_that_are_not_json_change_nothing(client, post_comment):
    posted = post_comment(body="Original")
    path = f"/api/v1/comments/{posted['comment']['id']}"
    token = {"X-Edit-Token": posted["edit_token"]}

    edit = client.patch(path, data='{"body": "Changed"}', content_type="text/plain", headers=token)
    assert_error(edit, 415, "unsupported_media_type")
    delete = client.delete(path, data="body=x", headers=token,
                           content_type="application/x-www-form-urlencoded")
    assert_error(delete, 415, "unsupported_media_type")

    [comment] = client.get(COMMENTS).get_json()["items"]
    assert "Original" in comment["body_html"]
    assert comment["deleted"] is False


def test_json_with_charset_parameter_is_accepted(client):
    response = client.post(
        COMMENTS, data=json.dumps(comment_fields()), content_type="application/json; charset=utf-8"
    )
    assert response.status_code == 201


def _comment_json(**raw_values: str) -> bytes:
    """A comment body with some values written as raw JSON text."""
    fields = {k: json.dumps(v) for k, v in comment_fields().items()}
    fields.update(raw_values)
    return ("{" + ", ".join(f'"{k}": {v}' for k, v in fields.items()) + "}").encode()


BAD_BODIES = [
    pytest.param(b"{", id="truncated"),
    pytest.param(b'{"author_name": "Ada",}', id="trailing-comma"),
    pytest.param(b"{'author_name': 'Ada'}", id="single-quotes"),
    pytest.param(b"[" * 60000, id="deep-arrays"),
    pytest.param(b'{"a":' * 10000, id="deep-objects"),
    pytest.param(b"[" * 500 + b"]" * 500, id="deep-but-closed"),
    pytest.param(_comment_json(body="[" * 40 + "]" * 40), id="nested-field-value"),
    pytest.param(b"1" * 5000, id="huge-raw-number"),
    pytest.param(_comment_json(parent_id="1" * 5000), id="huge-parent-id"),
    pytest.param(_comment_json(parent_id="9" * 4000), id="big-parent-id"),
    pytest.param(_comment_json(parent_id="2147483648"), id="parent-id-past-int32"),
    pytest.param(_comment_json(parent_id="1e400"), id="parent-id-overflowing-float"),
    pytest.param(_comment_json(parent_id="NaN"), id="parent-id-nan"),
    pytest.param(_comment_json(parent_id="-Infinity"), id="parent-id-infinity"),
    pytest.param(_comment_json(parent_id="1.5"), id="parent-id-fraction"),
    pytest.param(_comment_json(parent_id='"1"'), id="parent-id-string"),
    pytest.param(_comment_json(author_name='"Ada\x00"'), id="raw-nul-in-string"),
    pytest.param(_comment_json() + b"\x00", id="raw-nul-after-object"),
    pytest.param(b"\x00" + _comment_json(), id="raw-nul-before-object"),
    pytest.param(_comment_json(author_name='"Ada\\u0000"'), id="escaped-nul"),
    pytest.param(_comment_json(body='"line\\u0007bell"'), id="escaped-control"),
    pytest.param(_comment_json(author_name='"\\ud800"'), id="escaped-lone-surrogate"),
    pytest.param(_comment_json(author_name='"Ad"').replace(b'"Ad"', b'"Ad\xff"'),
                 id="invalid-utf8-byte"),
    pytest.param(_comment_json(author_name='"Ad"').replace(b'"Ad"', b'"Ad\xc0\xaf"'),
                 id="overlong-utf8"),
    pytest.param(_comment_json(author_name='"Ad"').replace(b'"Ad"', b'"Ad\xed\xa0\x80"'),
                 id="utf8-encoded-surrogate"),
    pytest.param(json.dumps(comment_fields()).encode("utf-16"), id="utf-16"),
    pytest.param(b"\xef\xbb\xbf" + _comment_json(), id="utf8-bom"),
    pytest.param(b"[]", id="array"),
    pytest.param(b'"x"', id="string"),
    pytest.param(b"1", id="number"),
    pytest.param(b"null", id="null"),
    pytest.param(b"true", id="boolean"),
    pytest.param(b"{}", id="empty-object"),
    pytest.param(b"", id="empty-body"),
    pytest.param(_comment_json(unexpected='"field"'), id="unknown-field"),
]


@pytest.mark.parametrize("body", BAD_BODIES)
def test_malformed_or_absurd_json_is_refused_without_error_500(client, body):
    response = client.post(COMMENTS, data=body, content_type="application/json")
    assert response.status_code in (400, 422), response.get_data(as_text=True)
    if response.status_code == 400:  # not JSON at all: the contract's pairing of reasons
        envelope = assert_error(response, 400, "malformed_request")
        assert "errors" not in envelope and "JSON" in envelope["message"]
    else:  # JSON, but not the fields a comment has
        assert "json" in assert_error(response, 422, "validation")["errors"]
    assert_no_comments(client)


@pytest.mark.parametrize(
    "body", [b"[]", b'"x"', b"1", b"null"], ids=["array", "string", "number", "null"]
)
def test_json_that_is_not_an_object_is_unprocessable(client, body):
    assert_error(
        client.post(COMMENTS, data=body, content_type="application/json"), 422, "validation"
    )


def test_no_nesting_depth_reaches_the_view_parser(client):
    """Depths just under what the first parse survives used to overflow the second parse (500)."""
    for depth in range(33, 1200, 3):
        body = _comment_json(body="[" * depth + "]" * depth)
        response = client.post(COMMENTS, data=body, content_type="application/json")
        assert response.status_code in (400, 422), (depth, response.status_code)
    assert_no_comments(client)


@pytest.mark.parametrize("depth", [33, 990, 5000])
def test_json_nested_too_deep_is_called_so_however_deep(client, depth):
    response = client.post(COMMENTS, data=b"[" * depth + b"]" * depth,
                           content_type="application/json")

    assert "nests deeper than 32 levels" in assert_error(response, 400,
                                                         "malformed_request")["message"]


def test_refused_edit_body_leaves_the_comment_as_it_was(client, post_comment):
    posted = post_comment(body="Original")
    path = f"/api/v1/comments/{posted['comment']['id']}"
    token = {"X-Edit-Token": posted["edit_token"]}
    for body in (b'{"body": "Changed"', b'{"body": "Chan\x00ged"}', b"[" * 5000):
        response = client.patch(path, data=body, content_type="application/json", headers=token)
        assert_error(response, 400, "malformed_request")
    [comment] = client.get(COMMENTS).get_json()["items"]
    assert "Original" in comment["body_html"]
    assert comment["edited_at"] is None


# --- Errors raised by the service ----------------------------------------------------------


def test_validation_error_names_the_fields(client):
    response = client.post(COMMENTS, json=comment_fields(author_email="not an email", body=""))
    envelope = assert_error(response, 422, "validation")
    assert set(envelope["errors"]["json"]) == {"author_email", "body"}
    assert all(isinstance(m, list) and m for m in envelope["errors"]["json"].values())


def test_domain_errors_use_the_envelope(make_app, client, post_comment):
    posted = post_comment()
    wrong_token = client.patch(
        f"/api/v1/comments/{posted['comment']['id']}",
        json={"body": "Changed"},
        headers={"X-Edit-Token": "not-the-token"},
    )
    assert_error(wrong_token, 403, "invalid_token")

    missing = client.delete("/api/v1/comments/4242", headers={"X-Edit-Token": "x"})
    assert_error(missing, 404, "not_found")

    strict = make_app(ARTICLES_AUTO_CREATE=False).test_client()
    assert_error(strict.get("/api/v1/articles/never-seen"), 404, "not_found")


def test_unexpected_exception_is_internal_without_details(make_app):
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    @app.get("/api/v1/explode")
    def explode():
        raise RuntimeError("secret detail")

    response = app.test_client().get("/api/v1/explode")
    assert_error(response, 500, "internal")
    text = response.get_data(as_text=True)
    assert "secret detail" not in text
    assert "RuntimeError" not in text
    assert "Traceback" not in text
    assert "public" not in response.headers.get("Cache-Control", "")


def test_database_error_is_internal_without_sql(make_app):
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    @app.get("/api/v1/bad-query")
    def bad_query():
        db.session.execute(sa.text("SELECT secret_column FROM no_such_table"))

    response = app.test_client().get("/api/v1/bad-query")
    assert_error(response, 500, "internal")
    text = response.get_data(as_text=True)
    assert "no_such_table" not in text and "SELECT" not in text


# --- Health probes -------------------------------------------------------------------------


def assert_not_cacheable(response) -> None:
    assert response.cache_control.no_store
    assert not response.cache_control.public
    assert response.cache_control.max_age is None
    assert "ETag" not in response.headers


def test_healthz_answers_and_is_never_cached(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert_not_cacheable(response)


def test_readyz_checks_the_database_and_is_never_cached(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok", "checks": {"database": "ok", "rate_limits": "ok", "mail": "ok"}}
    assert_not_cacheable(response)


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_never_answer_not_modified(client, path):
    """A probe must always run: a conditional request gets the full answer."""
    response = client.get(path, headers={"If-None-Match": "*"})
    assert response.status_code == 200


def test_readyz_is_unavailable_when_the_database_does_not_answer():
    # Nothing listens on port 1; the timeout bounds the wait should the connect not fail fast.
    url = "postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=3"
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": TEST_SECRET, "AUTO_MIGRATE": False})
    client = app.test_client()

    started = time.monotonic()
    response = client.get("/readyz")
    assert time.monotonic() - started < 5

    assert_error(response, 503, "unavailable")
    assert_not_cacheable(response)
    text = response.get_data(as_text=True)
    assert "127.0.0.1" not in text and "psycopg" not in text and "postgres" not in text
    # The process itself is up.
    assert client.get("/healthz").status_code == 200
    # Every endpoint that needs the database says it is unavailable, not that it broke.
    for response in (
        client.get("/api/v1/articles/an-article"),
        client.post("/api/v1/articles/an-article/comments",
                    json={"author_name": "A", "author_email": "a@example.com", "body": "x"}),
    ):
        assert_error(response, 503, "unavailable")
        assert "127.0.0.1" not in response.get_data(as_text=True)


# --- The OpenAPI document ------------------------------------------------------------------


def test_openapi_document_describes_the_endpoints(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] == "engagement"
    assert spec["info"]["version"] == "v1"

    operations = {
        (path, method) for path, item in spec["paths"].items() for method in item
        if method in ("get", "post", "put", "patch", "delete")
    }
    assert {
        ("/api/v1/articles/{article_id}", "get"),
        ("/api/v1/articles/{article_id}/comments", "get"),
        ("/api/v1/articles/{article_id}/comments", "post"),
        ("/api/v1/comments/{comment_id}", "patch"),
        ("/api/v1/comments/{comment_id}", "delete"),
        ("/api/v1/counts", "get"),
    } <= operations
    for path, method in operations:  # a view's docstring is its summary
        assert spec["paths"][path][method].get("summary"), (path, method)

    post = spec["paths"]["/api/v1/articles/{article_id}/comments"]["post"]
    body_schema = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    comment_in = spec["components"]["schemas"][body_schema.rsplit("/", 1)[-1]]
    assert {"author_name", "author_email", "body", "parent_id"} <= set(comment_in["properties"])
    assert "201" in post["responses"]

    error = spec["components"]["schemas"]["Error"]
    assert {"code", "status", "message", "reason", "errors"} <= set(error["properties"])


def documented(spec: dict, path: str, method: str) -> set[int]:
    return {int(status) for status in spec["paths"][path][method]["responses"]
            if status != "default"}


def test_openapi_documents_each_status_the_service_answers(make_app):
    client = make_app(ARTICLES_AUTO_CREATE=False, LIMIT_READS="3/minute").test_client()
    spec = client.get("/api/v1/openapi.json").get_json()
    shares, trending = "/api/v1/articles/{article_id}/shares", "/api/v1/trending"
    comments = "/api/v1/articles/{article_id}/comments"
    unknown = client.post("/api/v1/articles/nowhere/comments", json=comment_fields())
    unshared = client.post("/api/v1/articles/nowhere/shares", json={"network": "x"})
    etag = client.get(trending).headers["ETag"]
    unchanged = client.get(trending, headers={"If-None-Match": etag})
    limited = client.get(trending)  # the fourth read (the document was the first)
    seen = [(comments, "post", unknown.status_code), (shares, "post", unshared.status_code),
            (trending, "get", unchanged.status_code), (trending, "get", limited.status_code)]

    assert [status for *_, status in seen] == [404, 404, 304, 429]
    for path, method, status in seen:
        assert status in documented(spec, path, method), (path, method, status)
    # Every operation is rate-limited, every public GET answers If-None-Match, every admin
    # operation needs its token.
    for path, item in spec["paths"].items():
        for method in set(item) & {"get", "post", "put", "patch", "delete"}:
            statuses = documented(spec, path, method)
            assert 429 in statuses, (path, method)
            if path.startswith("/api/v1/admin/"):
                assert 401 in statuses, (path, method)
            elif method == "get":
                assert 304 in statuses, (path, method)
    assert 403 in documented(spec, "/api/v1/comments/{comment_id}/flags", "post")  # banned
    assert 410 in documented(spec, "/api/v1/newsletter/unsubscribe", "post")  # expired link


def test_openapi_never_documents_private_fields_in_answers(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    for name in ("CommentOut", "ArticleOut"):
        private = {"author_email", "client_ip", "edit_token_hash"}
        assert not private & set(schemas[name]["properties"])


def test_docs_page_is_served(client):
    """The docs page points to the OpenAPI document and the console, and loads nothing from
    another origin (it used to load Swagger UI from a CDN: a blank page offline)."""
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert 'href="/api/v1/openapi.json"' in page and 'href="/admin/"' in page
    assert "http://" not in page and "https://" not in page
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


# --- Cache headers of public GETs ----------------------------------------------------------

PUBLIC_GETS = [
    "/api/v1/articles/an-article",
    "/api/v1/articles/an-article/comments",
    "/api/v1/counts?ids=an-article,another",
]


@pytest.mark.parametrize("path", PUBLIC_GETS)
def test_public_get_is_cacheable_and_answers_if_none_match(make_app, path):
    client = make_app(CACHE_MAX_AGE=42).test_client()
    first = client.get(path)
    assert first.status_code == 200
    assert first.cache_control.public
    assert first.cache_control.max_age == 42
    assert not first.cache_control.no_store
    etag = first.headers["ETag"]

    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    assert again.headers["ETag"] == etag

    other = client.get(path, headers={"If-None-Match": '"some-other-etag"'})
    assert other.status_code == 200
    assert other.get_json() == first.get_json()


@pytest.mark.parametrize("path", PUBLIC_GETS)
def test_etag_changes_when_a_comment_changes_the_answer(client, post_comment, path):
    before = client.get(path)
    post_comment()
    after = client.get(path, headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert after.headers["ETag"] != before.headers["ETag"]
    assert after.get_json() != before.get_json()


def test_error_answers_are_not_publicly_cacheable(make_app):
    client = make_app(ARTICLES_AUTO_CREATE=False).test_client()
    response = client.get("/api/v1/articles/never-seen")
    assert response.status_code == 404
    assert not response.cache_control.public
    assert "ETag" not in response.headers


def test_writes_are_not_publicly_cacheable(client):
    response = client.post(COMMENTS, json=comment_fields())
    assert response.status_code == 201
    assert not response.cache_control.public
    assert "ETag" not in response.headers


def test_openapi_documents_path_parameters_as_the_routes_accept_them(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]

    (article_id,) = paths["/api/v1/articles/{article_id}"]["parameters"]
    (comment_id,) = paths["/api/v1/comments/{comment_id}"]["parameters"]
    pattern = re.compile(article_id["schema"]["pattern"])
    assert article_id["schema"]["maxLength"] == 200
    assert pattern.match("%d8%a7%d9%84%d8%b3%d9%84%d8%a7%d9%85")
    assert pattern.match("a-slug_v2.1~draft")
    assert not any(pattern.match(bad) for bad in ("-dash", ".hidden", "a b", "a/b", "100%"))
    assert comment_id["schema"] == {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}

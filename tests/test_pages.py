"""The service's own pages: `/` tells whoever opens the service's address what runs there and
links its parts; `/demo` (development only) is an article page with the widget, which a real
Chromium renders under the pages' strict Content-Security-Policy."""

from __future__ import annotations

import pytest

from tests.browser import chromium
from tests.live import gunicorn


def test_the_front_page_links_the_services_parts(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    for link in ('href="/demo"', 'href="/admin/"', 'href="/api/v1/docs"',
                 'href="/widget/engagement.js"', 'href="/healthz"'):
        assert link in page
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy


def test_the_demo_page_embeds_every_placeholder_in_development(client):
    page = client.get("/demo").get_data(as_text=True)
    for placeholder in ("engagement-count", "engagement-shares", "engagement-comments",
                        "engagement-newsletter"):
        assert f'class="{placeholder}"' in page
    assert '<script src="/widget/engagement.js" async></script>' in page


def test_the_demo_articles_address_is_on_the_public_base_url_not_the_host(make_app):
    client = make_app(PUBLIC_BASE_URL="http://127.0.0.1:8001/").test_client()

    page = client.get("/demo", headers={"Host": "evil.example"}).get_data(as_text=True)

    assert 'data-url="http://127.0.0.1:8001/demo"' in page
    assert "evil.example" not in page


def test_production_has_no_demo(make_app):
    client = make_app(ENV="production", PUBLIC_BASE_URL="https://comments.news.example",
                      SECRET_KEY="a-real-secret-of-forty-three-characters-xyz",
                      MAIL_URL="smtps://mail.news.example",
                      MAIL_FROM="comments@news.example").test_client()
    assert client.get("/demo").status_code == 404
    assert 'href="/demo"' not in client.get("/").get_data(as_text=True)


@pytest.mark.live  # gunicorn and Chromium
def test_the_demo_runs_the_widget_under_the_pages_policy(tmp_path):
    with gunicorn(tmp_path, {}) as server, chromium() as browser:
        page = browser.new_page()
        refused = []
        page.on("console", lambda message: refused.append(message.text)
                if "Content Security Policy" in message.text else None)
        page.goto(f"{server.base}/demo")
        form = page.locator(".engagement-comments form").first
        form.wait_for(timeout=10_000)
        assert page.locator(".engagement-count").inner_text(timeout=10_000).strip()
    assert refused == []

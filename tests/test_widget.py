"""The embeddable widget as a reader meets it: a real headless Chromium (Debian's, driven by
Playwright) opens an article page served by a small web server of another origin, which
embeds the widget with one script tag from a real gunicorn serving the service.

Without Playwright or /usr/bin/chromium these tests are skipped with the reason, except under
CI, where they fail. Chromium reaches nothing but this machine: every other host name resolves
to nothing, so a share button's network page is only ever a failed navigation in a popup.
The live servers use SQLite files of their own, whatever the suite's DATABASE_URL."""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import re
import threading
import urllib.parse
from pathlib import Path

import pytest

from engagement import create_app
from engagement.extensions import db
from tests.conftest import make_token
from tests.live import gunicorn, request

# gunicorn and Chromium (the two tests of the served files alone need neither)
pytestmark = pytest.mark.live

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # reported by the `browser` fixture
    expect = sync_playwright = None

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    # Only this machine is reachable: share pages and anything else fail to resolve.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
]
LIVE_SECRET = "live-test-secret"  # tests/live.py's ENGAGEMENT_SECRET_KEY
GENEROUS = {f"ENGAGEMENT_LIMIT_{kind}": "10000/minute"
            for kind in ("COMMENTS", "EDITS", "FLAGS", "SHARES", "SUBSCRIPTIONS", "READS")}
HELD_WORD = "heldback"  # a blocked word: a comment containing it waits for a moderator
WAIT_MS = 10_000


def unavailable(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"under CI, the widget's browser tests are required: {reason}")
    pytest.skip(reason)


# --- The two origins: a news site's page, and the service ----------------------------------


class Site:
    """A tiny web server of its own origin, serving the article pages the tests write."""

    def __init__(self, root: Path):
        self.root = root
        handler = functools.partial(QuietHandler, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.port = self.httpd.server_address[1]
        self.origin = f"http://127.0.0.1:{self.port}"
        # The same server under another name is another origin, not in CORS_ORIGINS.
        self.foreign_origin = f"http://localhost:{self.port}"

    def page(self, name: str, service: str, body: str) -> str:
        (self.root / name).write_text(PAGE.format(body=body, service=service), encoding="utf-8")
        return f"{self.origin}/{name}"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>A fine story</title>
  <style>
    body {{ font-family: "Liberation Sans", Arial, sans-serif; color: #1b1b1b;
           max-width: 760px; margin: 24px auto; padding: 0 16px; }}
    aside {{ margin-top: 32px; }}
  </style>
</head>
<body>
{body}
<script src="{service}/widget/engagement.js" async></script>
</body>
</html>
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    running = Site(tmp_path_factory.mktemp("site"))
    thread = threading.Thread(target=running.httpd.serve_forever, daemon=True)
    thread.start()
    yield running
    running.httpd.shutdown()
    running.httpd.server_close()


def service_settings(site: Site, **settings: str) -> dict[str, str]:
    return {
        "ENGAGEMENT_CORS_ORIGINS": site.origin,
        "ENGAGEMENT_BLOCKED_WORDS": HELD_WORD,
        **GENEROUS,
        **settings,
    }


@pytest.fixture(scope="module")
def service_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("service")


@pytest.fixture(scope="module")
def service(site, service_dir):
    """The service, answering the site's origin, with limits that no test here reaches."""
    with gunicorn(service_dir, service_settings(site)) as running:
        yield running


# --- The browser ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    if sync_playwright is None:
        unavailable("needs Playwright for Python (pip install playwright; the browser is "
                    "Debian's chromium, never `playwright install`)")
    if not os.access(CHROMIUM, os.X_OK):
        unavailable(f"needs Debian's Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def context(browser):
    """A fresh reader: no storage, no cookies."""
    fresh = browser.new_context(viewport={"width": 900, "height": 1200}, locale="en-GB")
    fresh.set_default_timeout(WAIT_MS)
    yield fresh
    fresh.close()


@pytest.fixture
def page(context):
    opened = context.new_page()
    errors = []
    opened.on("pageerror", lambda error: errors.append(error))
    yield opened
    assert not errors, f"the widget threw: {errors}"


# --- Helpers -------------------------------------------------------------------------------


def api(service, method: str, path: str, body=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    status, answer = request(
        f"{service.base}/api/v1{path}", data=data, method=method,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    return status, (json.loads(answer) if answer else None)


def seed_comment(service, article: str, **fields) -> dict:
    status, answer = api(service, "POST", f"/articles/{article}/comments", {
        "author_name": "Ada", "author_email": "ada@example.com", "body": "First!", **fields,
    })
    assert status == 201, answer
    return answer


def comments_page(site, service, article: str, extra: str = "") -> str:
    return site.page(f"{article}.html", service.base, f"""
<h1>A fine story</h1>
<p><span class="engagement-count" data-article="{article}"></span></p>
{extra}
<div class="engagement-comments" data-article="{article}"></div>
""")


def thread_item(page, comment_id: int):
    return page.locator(f'.engagement-comment[data-comment-id="{comment_id}"]')


def fill_comment_form(form, name="Grace", email="grace@example.com", body="Hello there"):
    form.get_by_label("Name").fill(name)
    form.get_by_label("Email").fill(email)
    form.locator("textarea[name=body]").fill(body)


def stored_token(page, comment_id: int):
    raw = page.evaluate("id => localStorage.getItem('engagement:edit:' + id)", comment_id)
    return json.loads(raw) if raw else None


@contextlib.contextmanager
def app_on(service_dir: Path):
    """The service's app in this process, on the live server's database."""
    app = create_app({
        "DATABASE_URL": f"sqlite:///{service_dir / 'engagement.sqlite3'}",
        "SECRET_KEY": LIVE_SECRET, "AUTO_MIGRATE": False,
    })
    try:
        yield app
    finally:
        with app.app_context():
            db.engine.dispose()


def close_comments(service, service_dir: Path, article: str) -> None:
    """A moderator closes the article's comments through the admin API, with a token made the
    way operators make them (the command line, on the server's database)."""
    with app_on(service_dir) as app:
        token = make_token(app, name=f"closer-{article}")
    status, answer = api(service, "PUT", f"/admin/articles/{article}",
                         {"title": "A fine story", "comments_open": False},
                         headers={"Authorization": f"Bearer {token}"})
    assert status in (200, 201), answer


# --- The files -----------------------------------------------------------------------------


@pytest.mark.parametrize("path, mimetype", [
    ("/widget/engagement.js", "application/javascript"),
    ("/widget/engagement.css", "text/css"),
])
def test_widget_files_are_served_with_their_type_and_cache_headers(client, path, mimetype):
    response = client.get(path, headers={"Origin": "https://news.example"})

    assert response.status_code == 200
    assert response.mimetype == mimetype
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.cache_control.public and response.cache_control.max_age is not None
    # A script or stylesheet tag needs no CORS grant, and no cookie is set.
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Set-Cookie" not in response.headers
    again = client.get(path, headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_the_script_prefixes_every_class_and_never_writes_cookies(client):
    script = client.get("/widget/engagement.js").get_data(as_text=True)
    stylesheet = client.get("/widget/engagement.css").get_data(as_text=True)

    assert "document.cookie" not in script
    assert 'credentials: "omit"' in script
    classes = set(re.findall(r"(?<![\w-])\.([a-z][\w-]*)\s*[,{:>\s]", stylesheet))
    assert classes and all(name.startswith("engagement-") for name in classes), classes
    # Only the service's sanitised body_html is ever set as HTML.
    assert re.findall(r"\.innerHTML\s*=\s*([\w.]+)", script) == ["comment.body_html"]


# --- In the browser ------------------------------------------------------------------------


def test_counts_fill_every_span_with_one_request_per_hundred(site, service, page):
    seed_comment(service, "counted-two")
    seed_comment(service, "counted-two", body="Second")
    seed_comment(service, "counted-one")
    fillers = [f"filler-{n}" for n in range(147)]
    slugs = ["counted-two", "counted-one", "counted-none", "counted-two", *fillers]
    spans = [f'<span class="engagement-count" data-article="{slug}"></span>' for slug in slugs]
    count_requests = []
    page.on("request", lambda r: "/api/v1/counts" in r.url and count_requests.append(r.url))

    page.goto(site.page("listing.html", service.base, "\n".join(spans)))

    counts = page.locator(".engagement-count")
    expect(counts.nth(0)).to_have_text("2 Comments")
    expect(counts.nth(1)).to_have_text("1 Comment")
    expect(counts.nth(2)).to_have_text("No Comments")
    expect(counts.nth(3)).to_have_text("2 Comments")
    expect(counts.nth(150)).to_have_text("No Comments")
    # 150 distinct articles: two requests of at most 100 ids, each id once.
    assert len(count_requests) == 2, count_requests
    asked = [urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["ids"][0].split(",")
             for url in count_requests]
    assert sorted(len(ids) for ids in asked) == [50, 100]
    assert len({slug for ids in asked for slug in ids}) == 150

    count_requests.clear()
    page.goto(site.page("short-listing.html", service.base, "\n".join(spans[:100])))
    expect(page.locator(".engagement-count").first).to_have_text("2 Comments")
    assert len(count_requests) == 1


def test_a_wordpress_slug_in_arabic_gets_its_count_and_thread(site, service, page):
    """WordPress prints a non-Latin slug percent-encoded; a page may also print its letters."""
    slug = "%d8%a7%d9%84%d8%b3%d9%84%d8%a7%d9%85"  # السلام
    seed_comment(service, slug.replace("%", "%25"), body="مرحبا بكم")
    page.goto(site.page("salam.html", service.base, f"""
<span class="engagement-count" data-article="{slug}"></span>
<span class="engagement-count" data-article="السلام"></span>
<div class="engagement-comments" data-article="{slug}"></div>
"""))

    expect(page.locator(".engagement-count").nth(0)).to_have_text("1 Comment")
    expect(page.locator(".engagement-count").nth(1)).to_have_text("1 Comment")
    expect(page.locator(".engagement-thread .engagement-comment")).to_contain_text("مرحبا بكم")


def test_posting_shows_the_comment_and_a_reply_nests_under_it(site, service, page):
    page.goto(comments_page(site, service, "posting"))
    form = page.locator(".engagement-form-slot .engagement-form")
    expect(page.locator(".engagement-comments-title")).to_have_text("No Comments")

    # A name that looks like markup stays text.
    fill_comment_form(form, name="<img src=x onerror=alert(1)> Grace",
                      body="What a *fine* story.")
    form.get_by_role("button", name="Post comment").click()

    comment = page.locator(".engagement-thread > .engagement-comment").first
    expect(comment.locator(".engagement-author")).to_have_text(
        "<img src=x onerror=alert(1)> Grace")
    expect(comment.locator(".engagement-body em")).to_have_text("fine")
    assert comment.locator("img").count() == 0
    expect(form.locator(".engagement-status")).to_contain_text("Your comment is published.")
    expect(page.locator(".engagement-comments-title")).to_have_text("1 Comment")
    expect(page.locator(".engagement-count")).to_have_text("1 Comment")
    comment_id = int(comment.get_attribute("data-comment-id"))

    comment.get_by_role("button", name="Reply").first.click()
    reply_form = comment.locator(".engagement-reply-form")
    # The name and email the reader gave are remembered for the reply (in this page only).
    expect(reply_form.get_by_label("Name")).to_have_value("<img src=x onerror=alert(1)> Grace")
    reply_form.locator("textarea[name=body]").fill("Agreed.")
    reply_form.get_by_role("button", name="Post reply").click()

    reply = thread_item(page, comment_id).locator(
        ":scope > .engagement-replies > .engagement-comment")
    expect(reply.locator(".engagement-body")).to_have_text("Agreed.")
    expect(page.locator(".engagement-comments-title")).to_have_text("2 Comments")

    page.reload()
    reply = thread_item(page, comment_id).locator(
        ":scope > .engagement-replies > .engagement-comment")
    expect(reply.locator(".engagement-body")).to_have_text("Agreed.")
    expect(page.locator(".engagement-count")).to_have_text("2 Comments")


def test_load_more_reads_the_next_page(site, service, page):
    for number in range(21):
        seed_comment(service, "paged", body=f"Comment number {number}")
    page.goto(comments_page(site, service, "paged"))
    comments = page.locator(".engagement-thread > .engagement-comment")
    expect(comments).to_have_count(20)
    expect(page.locator(".engagement-comments-title")).to_have_text("21 Comments")

    page.get_by_role("button", name="Load more comments").click()

    expect(comments).to_have_count(21)
    expect(comments.last.locator(".engagement-body")).to_have_text("Comment number 20")
    expect(page.get_by_role("button", name="Load more comments")).to_be_hidden()


def test_a_held_comment_shows_the_pending_notice(site, service, page):
    page.goto(comments_page(site, service, "held"))
    form = page.locator(".engagement-form-slot .engagement-form")

    fill_comment_form(form, body=f"This is {HELD_WORD} for the moderators.")
    form.get_by_role("button", name="Post comment").click()

    notice = form.locator(".engagement-status .engagement-pending")
    expect(notice).to_contain_text("awaiting moderation")
    assert form.locator(".engagement-status").get_attribute("aria-live") == "polite"
    assert page.locator(".engagement-thread .engagement-comment").count() == 0
    expect(page.locator(".engagement-comments-title")).to_have_text("No Comments")


def test_the_author_edits_and_deletes_after_a_reload(site, service, context, page):
    url = comments_page(site, service, "editing")
    page.goto(url)
    form = page.locator(".engagement-form-slot .engagement-form")
    fill_comment_form(form, body="Frist!")
    form.get_by_role("button", name="Post comment").click()
    comment = page.locator(".engagement-thread > .engagement-comment").first
    expect(comment).to_be_visible()
    comment_id = int(comment.get_attribute("data-comment-id"))
    kept = stored_token(page, comment_id)
    assert kept["token"] and kept["expires_at"]

    page.reload()  # the token lives in localStorage, and the list is read afresh
    comment = thread_item(page, comment_id)
    comment.get_by_role("button", name="Edit").click()
    editor = comment.locator(".engagement-edit-form")
    expect(editor.get_by_label("Edit your comment")).to_have_value("Frist!")
    editor.get_by_label("Edit your comment").fill("First, **really**.")
    editor.get_by_role("button", name="Save").click()
    expect(comment.locator(".engagement-body strong")).to_have_text("really")
    expect(comment.locator(".engagement-edited")).to_have_text("(edited)")

    page.reload()
    comment = thread_item(page, comment_id)
    expect(comment.locator(".engagement-body")).to_have_text("First, really.")
    # Another reader sees no author buttons.
    other = context.browser.new_context()
    try:
        stranger = other.new_page()
        stranger.goto(url)
        expect(thread_item(stranger, comment_id).locator(".engagement-body")).to_be_visible()
        assert thread_item(stranger, comment_id).get_by_role("button", name="Edit").count() == 0
        assert thread_item(stranger, comment_id).get_by_role("button", name="Delete").count() == 0
    finally:
        other.close()

    comment.get_by_role("button", name="Delete").click()
    comment.locator(".engagement-delete-confirm").get_by_role("button", name="Delete").click()
    expect(thread_item(page, comment_id)).to_have_count(0)
    expect(page.locator(".engagement-comments-title")).to_have_text("No Comments")
    expect(page.locator(".engagement-comments .engagement-status").first).to_contain_text(
        "Your comment was deleted.")
    assert stored_token(page, comment_id) is None

    page.reload()
    expect(page.locator(".engagement-form-slot .engagement-form")).to_be_visible()
    assert thread_item(page, comment_id).count() == 0
    expect(page.locator(".engagement-count")).to_have_text("No Comments")


def test_an_expired_token_shows_no_author_buttons(site, service, page):
    posted = seed_comment(service, "expired-token")
    comment_id = posted["comment"]["id"]
    url = comments_page(site, service, "expired-token")
    page.goto(url)
    expect(thread_item(page, comment_id)).to_be_visible()
    page.evaluate("""([id, token]) => localStorage.setItem('engagement:edit:' + id,
        JSON.stringify({token: token, expires_at: '2000-01-01T00:00:00Z'}))""",
                  [comment_id, posted["edit_token"]])

    page.reload()
    expect(thread_item(page, comment_id).locator(".engagement-body")).to_be_visible()
    assert thread_item(page, comment_id).get_by_role("button", name="Edit").count() == 0
    assert stored_token(page, comment_id) is None  # expired entries are cleared


def test_the_flag_button_answers(site, service, page):
    comment_id = seed_comment(service, "flagging", body="Buy cheap watches")["comment"]["id"]
    page.goto(comments_page(site, service, "flagging"))
    comment = thread_item(page, comment_id)

    comment.get_by_role("button", name="Flag").click()
    flag_form = comment.locator(".engagement-flag-form")
    flag_form.get_by_label("Why should a moderator look at this comment?").select_option("spam")
    flag_form.get_by_role("button", name="Report").click()

    expect(comment.locator(".engagement-comment-main > .engagement-status")).to_contain_text(
        "Thank you. A moderator will look at this comment.")
    expect(comment.get_by_role("button", name="Reported")).to_be_disabled()


def test_a_closed_article_says_comments_are_closed(site, service, service_dir, page):
    comment_id = seed_comment(service, "closed", body="Before the close")["comment"]["id"]
    close_comments(service, service_dir, "closed")

    page.goto(comments_page(site, service, "closed"))

    expect(page.locator(".engagement-closed")).to_have_text("Comments are closed.")
    expect(thread_item(page, comment_id).locator(".engagement-body")).to_have_text(
        "Before the close")
    assert page.locator(".engagement-comments form.engagement-form").count() == 0
    assert page.get_by_role("button", name="Reply").count() == 0


def test_a_share_button_opens_the_network_and_counts(site, service, context, page):
    navigations = []
    context.on("request", lambda r: r.is_navigation_request() and navigations.append(r.url))
    page.goto(site.page("sharing.html", service.base, """
<div class="engagement-shares" data-article="sharing" data-url="https://news.example/a?b=1&c=2"
     data-title="A fine story"></div>"""))
    button = page.locator(".engagement-share-button[data-network=facebook]")
    expect(button.locator(".engagement-share-count")).to_have_text("0")
    names = page.locator(".engagement-share-name").all_text_contents()
    assert names[:2] == ["Facebook", "X"] and "Copy link" in names and len(names) == 10

    with page.expect_popup() as popup_info:
        button.click()
    popup = popup_info.value

    expect(button.locator(".engagement-share-count")).to_have_text("1")
    assert button.get_attribute("aria-label") == "Share on Facebook (1 share)"
    shared = [url for url in navigations if url.startswith("https://www.facebook.com/")]
    assert shared == [
        "https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fnews.example%2Fa%3Fb%3D1%26c%3D2"
    ], navigations
    popup.close()
    assert api(service, "GET", "/articles/sharing/shares")[1]["facebook"] == 1


def test_api_errors_are_shown_in_words(site, service, page):
    page.goto(comments_page(site, service, "errors"))
    form = page.locator(".engagement-form-slot .engagement-form")

    form.get_by_role("button", name="Post comment").click()  # everything empty: 422

    alert = form.get_by_role("alert")
    expect(alert.locator(".engagement-error-message")).to_have_text(
        "The request has invalid fields.")
    fields = alert.locator(".engagement-error-fields li").all_text_contents()
    assert any(line.startswith("Name: ") for line in fields), fields
    assert any(line.startswith("Email: ") for line in fields), fields
    assert any(line.startswith("Comment: ") for line in fields), fields
    assert page.locator(".engagement-thread .engagement-comment").count() == 0


def test_a_rate_limit_is_shown_in_words(site, tmp_path, browser):
    with gunicorn(tmp_path, service_settings(site, ENGAGEMENT_LIMIT_COMMENTS="1/hour")) as strict:
        reader = browser.new_context()
        try:
            page = reader.new_page()
            page.goto(comments_page(site, strict, "limited"))
            form = page.locator(".engagement-form-slot .engagement-form")
            fill_comment_form(form)
            form.get_by_role("button", name="Post comment").click()
            expect(form.locator(".engagement-status")).to_contain_text("published")

            form.locator("textarea[name=body]").fill("Once more")
            form.get_by_role("button", name="Post comment").click()

            expect(form.get_by_role("alert")).to_have_text(re.compile(
                r"^Too many requests \(1 per 1 hour\)\. Please try again in \d+ minutes?\.$"))
        finally:
            reader.close()


def test_the_newsletter_form_subscribes_and_shows_refusals(site, service, page):
    page.goto(site.page("newsletter.html", service.base,
                        '<aside class="engagement-newsletter" data-source="sidebar"></aside>'))
    box = page.locator(".engagement-newsletter")
    box.get_by_label("Email", exact=True).fill("reader@example.com")

    box.get_by_role("button", name="Subscribe").click()  # without consent: 422
    alert = box.get_by_role("alert")
    expect(alert.locator(".engagement-error-message")).to_have_text(
        "The request has invalid fields.")
    expect(alert.locator(".engagement-error-fields li")).to_have_text(re.compile("^Consent: "))

    box.get_by_role("checkbox", name=re.compile("send me the newsletter")).check()
    with page.expect_request(lambda r: r.url.endswith("/newsletter/subscriptions")
                             and r.method == "POST") as sent:
        box.get_by_role("button", name="Subscribe").click()
    expect(box.locator(".engagement-status")).to_have_text("Check your inbox to confirm.")
    assert box.locator("form").count() == 0
    assert sent.value.post_data_json == {
        "email": "reader@example.com", "name": None, "source": "sidebar", "consent": True}


def test_a_page_of_another_origin_gets_no_data(site, service, page):
    seed_comment(service, "foreign", body="Secret to other sites")
    url = comments_page(site, service, "foreign").replace(site.origin, site.foreign_origin)

    page.goto(url)

    expect(page.locator(".engagement-count")).to_have_text(re.compile("could not be reached"))
    expect(page.locator(".engagement-comments").get_by_role("alert")).to_contain_text(
        "could not be reached")
    assert "Secret to other sites" not in page.content()


def test_the_whole_page_sets_no_cookies(site, service, context, page):
    """Every part on one page, used once each; also the screenshot to look at."""
    seed_comment(service, "whole", author_name="Ada Lovelace",
                 body="A **fine** story, and [a link](https://example.org).")
    first = seed_comment(service, "whole", author_name="Grace Hopper",
                         body="Agreed, but the second paragraph buries the lede.")
    seed_comment(service, "whole", author_name="Ada Lovelace", body="Fair point.",
                 parent_id=first["comment"]["id"])
    set_cookies = []
    page.on("response", lambda r: r.header_value("set-cookie") and set_cookies.append(r.url))
    page.goto(site.page("whole.html", service.base, """
<h1>A fine story</h1>
<p>By the desk · <span class="engagement-count" data-article="whole"></span></p>
<div class="engagement-shares" data-article="whole" data-url="https://news.example/whole"
     data-title="A fine story"></div>
<p>The story itself, in a few paragraphs.</p>
<div class="engagement-comments" data-article="whole"></div>
<aside class="engagement-newsletter" data-source="article-footer"></aside>
"""))
    expect(page.locator(".engagement-count")).to_have_text("3 Comments")
    form = page.locator(".engagement-form-slot .engagement-form")
    fill_comment_form(form, body="Thanks for the *story*.")
    form.get_by_role("button", name="Post comment").click()
    expect(page.locator(".engagement-count")).to_have_text("4 Comments")
    with page.expect_popup():
        page.locator(".engagement-share-button[data-network=x]").click()
    expect(page.locator(".engagement-share-button[data-network=x] .engagement-share-count")
           ).to_have_text("1")
    page.bring_to_front()

    assert context.cookies() == []
    assert page.evaluate("document.cookie") == ""
    assert set_cookies == []
    stylesheet = page.locator(f'link[rel=stylesheet][href="{service.base}/widget/engagement.css"]')
    expect(stylesheet).to_have_count(1)
    screenshot = os.environ.get("WIDGET_SCREENSHOT")
    if screenshot:
        page.screenshot(path=screenshot, full_page=True)

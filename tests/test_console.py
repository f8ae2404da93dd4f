"""The moderation console as a moderator meets it: a real headless Chromium (Debian's, driven
by Playwright) on /admin/ of a real gunicorn, signed in with tokens made on the command line.

One browser and one server serve the whole module; each test works on articles of its own and
filters the queue to them, so the tests do not see each other's comments. Without Playwright
or /usr/bin/chromium the browser tests are skipped with the reason, except under CI."""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engagement import create_app
from engagement.extensions import db
from tests.axe import axe_violations
from tests.browser import chromium
from tests.conftest import make_token
from tests.live import gunicorn, request

try:
    from playwright.sync_api import expect
except ImportError:  # reported by tests.browser.chromium()
    expect = None

LIVE_SECRET = "live-test-secret"  # tests/live.py's ENGAGEMENT_SECRET_KEY
HELD_WORD = "heldback"
WAIT_MS = 10_000
SCREENS = ["queue", "articles", "bans", "settings", "audit", "subscribers", "people"]
ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "console"
# How long a decision waits before it is sent, as the console says it.
UNDO_MS = 1000 * int(re.search(r"^const UNDO_SECONDS = (\d+);", (
    ROOT / "engagement" / "console" / "static" / "console.js").read_text(), re.M).group(1))

pytestmark = pytest.mark.live  # gunicorn and Chromium


# --- The service and its tokens -------------------------------------------------------------


@pytest.fixture(scope="module")
def service_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("console")


@pytest.fixture(scope="module")
def service(service_dir):
    settings = {
        "ENGAGEMENT_BLOCKED_WORDS": HELD_WORD,
        "ENGAGEMENT_MODERATION_MODE": "first_time",
        # The flagged comment of the busy evening was approved by a moderator first (its author
        # is new); three readers' flags hide it again on this site.
        "ENGAGEMENT_FLAG_THRESHOLD_APPROVED": "3",
        # Readers' addresses come from X-Forwarded-For, so tests post as many readers.
        "ENGAGEMENT_TRUSTED_PROXIES": "127.0.0.1",
        **{f"ENGAGEMENT_LIMIT_{kind}": "100000/minute"
           for kind in ("COMMENTS", "EDITS", "FLAGS", "SHARES", "SUBSCRIPTIONS", "READS",
                        "ADMIN")},
    }
    with gunicorn(service_dir, settings) as running:
        yield running


@contextlib.contextmanager
def app_on(service_dir: Path):
    """The service's app in this process, on the live server's database (for the CLI)."""
    app = create_app({
        "DATABASE_URL": f"sqlite:///{service_dir / 'engagement.sqlite3'}",
        "SECRET_KEY": LIVE_SECRET, "AUTO_MIGRATE": False,
    })
    try:
        yield app
    finally:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="module")
def tokens(service, service_dir):
    """One token per role, made with `flask tokens create` on the server's database."""
    with app_on(service_dir) as app:
        return {"moderator": make_token(app, "maria", "moderator"),
                "admin": make_token(app, "ada", "admin")}


def revoke(service_dir: Path, name: str) -> None:
    """`flask tokens revoke NAME`, as an operator would, while the page is signed in."""
    with app_on(service_dir) as app:
        result = app.test_cli_runner().invoke(args=["tokens", "revoke", name])
        assert result.exit_code == 0, result.output


def signed_in_to_be_revoked(page, service, service_dir, name: str) -> None:
    """Signed in with a moderator token of its own, for a test that revokes it."""
    with app_on(service_dir) as app:
        token = make_token(app, name, "moderator")
    sign_in(page, service, token)


def api(service, method: str, path: str, body=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    status, answer = request(
        f"{service.base}/api/v1{path}", data=data, method=method,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    return status, (json.loads(answer) if answer else None)


def admin_api(service, tokens, method, path, body=None):
    return api(service, method, f"/admin{path}", body,
               {"Authorization": f"Bearer {tokens['admin']}"})


def post(service, article: str, reader: str = "198.51.100.1", **fields) -> dict:
    status, answer = api(service, "POST", f"/articles/{article}/comments", {
        "author_name": "Ada", "author_email": "ada@example.com", "body": "First!", **fields,
    }, headers={"X-Forwarded-For": reader})
    assert status == 201, answer
    return answer


def held(service, article: str, **fields) -> int:
    """A comment held for a moderator: a first-time author's, or with the blocked word."""
    fields.setdefault("body", f"This is {HELD_WORD} text")
    answer = post(service, article, **fields)
    assert answer["status"] == "pending"
    return answer["comment"]["id"]


def public_ids(service, article: str) -> list[int]:
    status, answer = api(service, "GET", f"/articles/{article}/comments?limit=100",
                         headers={"Cache-Control": "no-cache"})
    assert status == 200

    def flat(items):
        for item in items:
            yield item["id"]
            yield from flat(item["replies"])

    return list(flat(answer["items"]))


def eventually(check, timeout: float = WAIT_MS / 1000):
    """Wait for a check of the service's state that the console's request will make true."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.1)


# --- The browser ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


def open_page(browser, width=1280, height=900, scheme="light", bypass_csp=False):
    """A fresh tab; `bypass_csp` lets a test inject axe-core, which the page's policy (rightly)
    refuses as an inline script. The tab's clock runs as the real one until a test moves it on
    (wait_out_undo)."""
    context = browser.new_context(viewport={"width": width, "height": height}, locale="en-GB",
                                  color_scheme=scheme, timezone_id="UTC", bypass_csp=bypass_csp)
    context.set_default_timeout(WAIT_MS)
    context.clock.install()
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(error))
    return page


@pytest.fixture
def page(browser):
    opened = open_page(browser)
    yield opened
    opened.context.close()
    assert not opened.errors, f"the console threw: {opened.errors}"


def sign_in(page, service, token: str) -> None:
    page.goto(f"{service.base}/admin/")
    page.get_by_label("Your moderator token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Comments to review")).to_be_visible()
    # The form is gone: focus is on the heading of the queue, not lost to the page.
    expect(page.get_by_role("heading", name="Comments to review")).to_be_focused()


def show_queue(page, article: str, status: str | None = None) -> None:
    """The queue narrowed to one article (each test has its own)."""
    folded = page.locator("#queue-filter-box:not([open]) summary")
    if folded.count():
        folded.click()
    filters = page.get_by_role("search", name="Filter the queue")
    filters.get_by_label("Article id").fill(article)
    if status:
        filters.get_by_label("Show").select_option(status)
    filters.get_by_role("button", name="Show").click()
    expect(page.locator("#queue-list")).to_have_attribute("aria-busy", "false")


def queue_item(page, comment_id: int):
    return page.locator(f'#queue-list .item[data-id="{comment_id}"]')


def wait_out_undo(page) -> None:
    """The undo window passes in the tab (its clock jumps on): a decision waiting is sent."""
    page.clock.fast_forward(UNDO_MS)


def find_one_article(page, text: str) -> None:
    """The Articles screen, searched for `text`, which one article matches."""
    page.get_by_role("link", name="Articles").click()
    page.get_by_label("Title or id contains").fill(text)
    page.get_by_role("button", name="Find").click()
    expect(page.locator("#articles-list .item")).to_have_count(1)


def moderating_one_held(page, service, tokens, article: str, **fields) -> int:
    """A moderator signed in, with the queue of an article that has one held comment: its id."""
    comment_id = held(service, article, **fields)
    sign_in(page, service, tokens["moderator"])
    show_queue(page, article)
    return comment_id


def loaded(page, screen: str) -> None:
    """The screen shows what its one request answered: its list and summary, or its form."""
    if screen == "settings":
        expect(page.get_by_label("Most links a comment may have")).not_to_have_value("")
    else:
        expect(page.locator(f"#{screen}-summary")).not_to_be_empty()


# --- Signing in and out ---------------------------------------------------------------------


def test_a_wrong_token_is_refused_in_words_and_a_good_one_signs_in(page, service, tokens):
    page.goto(f"{service.base}/admin/")
    page.get_by_label("Your moderator token").fill("eng_not-a-real-token")
    page.get_by_role("button", name="Sign in").click()

    expect(page.locator("#token-error")).to_contain_text("This token is not accepted")
    assert page.evaluate("sessionStorage.length") == 0

    page.get_by_label("Your moderator token").fill(tokens["moderator"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Comments to review")).to_be_visible()
    expect(page.locator("#holder-name")).to_have_text("maria (moderator)")
    # Kept for the tab only: never in a cookie, never in the address.
    assert page.context.cookies() == []
    assert tokens["moderator"] not in page.url
    assert page.evaluate("Object.values(sessionStorage)") == [tokens["moderator"]]

    page.reload()
    expect(page.locator("#holder-name")).to_have_text("maria (moderator)")
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("#signin-message")).to_contain_text("You have signed out")
    assert page.evaluate("sessionStorage.length") == 0


def test_a_revoked_token_signs_the_page_out_with_a_message(page, service, service_dir):
    signed_in_to_be_revoked(page, service, service_dir, "leaving")
    article = "revoked-story"
    comment_id = held(service, article)
    show_queue(page, article)
    expect(queue_item(page, comment_id)).to_be_visible()

    revoke(service_dir, "leaving")
    page.get_by_role("link", name="Articles").click()

    expect(page.locator("#signin-message")).to_contain_text("no longer accepted")
    expect(page.get_by_label("Your moderator token")).to_be_focused()
    assert page.evaluate("sessionStorage.length") == 0
    expect(page.locator("#tabs")).to_be_hidden()


def test_a_change_refused_for_a_revoked_token_says_it_was_not_saved(page, service, service_dir,
                                                                     tokens):
    signed_in_to_be_revoked(page, service, service_dir, "leaving-mid-change")
    article = "revoked-change"
    comment_id = held(service, article)
    show_queue(page, article)
    revoke(service_dir, "leaving-mid-change")

    queue_item(page, comment_id).get_by_role("button", name=re.compile("^Reject")).click()
    wait_out_undo(page)  # the decision is sent, and refused

    expect(page.locator("#signin-message")).to_contain_text(
        "no longer accepted (it may have been revoked). Your last change was not saved.")
    _, still = admin_api(service, tokens, "GET", f"/comments?article={article}")
    assert [item["id"] for item in still["items"]] == [comment_id]  # still held: not rejected


# --- The queue ------------------------------------------------------------------------------


def test_a_held_comment_shows_its_context_and_is_approved_by_keyboard(page, service, tokens):
    article = "kbd-story"
    admin_api(service, tokens, "PUT", f"/articles/{article}",
              {"title": "Storm over the bay", "url": "https://news.example/storm"})
    parent = post(service, article, author_name="Grace", author_email="grace@example.com",
                  body="The *original* remark")["comment"]["id"]
    admin_api(service, tokens, "PATCH", f"/comments/{parent}", {"status": "approved"})
    comment_id = held(service, article, parent_id=parent, author_name="Linus",
                      author_email="linus@example.com", reader="2001:db8:aa::5",
                      body=f"A [link](https://a.example) and a {HELD_WORD} word")
    sign_in(page, service, tokens["moderator"])
    show_queue(page, article)

    item = queue_item(page, comment_id)
    expect(item).to_be_visible()
    expect(item.locator(".why")).to_contain_text("Contains a blocked word")
    expect(item.locator(".why")).to_contain_text("First comment of this author")
    expect(item.get_by_role("link", name="Storm over the bay")).to_have_attribute(
        "href", "https://news.example/storm")
    expect(item.locator(".parent")).to_contain_text("In reply to Grace (Published)")
    expect(item.locator(".parent-body em")).to_have_text("original")
    expect(item.locator(".body a")).to_have_text("link")
    expect(item.locator(".email")).to_have_text("linus@example.com")
    expect(item.locator(".address")).to_have_text("2001:db8:aa::5")
    expect(item.locator(".history")).to_have_text("0 approved, 0 rejected, 0 spam")

    page.keyboard.press("j")
    expect(item).to_be_focused()
    page.keyboard.press("a")

    expect(item).to_have_count(0)
    expect(page.locator("#toast")).to_contain_text("Approved the comment by Linus")
    wait_out_undo(page)
    assert eventually(lambda: comment_id in public_ids(service, article))


def test_a_decision_on_a_comment_another_moderator_decided_meanwhile_does_not_overrule_them(
        page, service, tokens):
    """Two moderators work the same queue: the list one of them reads may be minutes old. A
    comment the other rejected meanwhile is not approved over their decision; the page says
    who decided what."""
    article = "decided-meanwhile"
    comment_id = moderating_one_held(page, service, tokens, article, author_name="Mallory")
    assert admin_api(service, tokens, "PATCH", f"/comments/{comment_id}",
                     {"status": "rejected"})[0] == 200  # ada, in her own console

    queue_item(page, comment_id).get_by_role("button", name=re.compile("^Approve")).click()
    wait_out_undo(page)

    alert = page.locator("#alert")
    expect(alert).to_contain_text("Did not approve the comment by Mallory: ada rejected it")
    expect(queue_item(page, comment_id)).to_have_count(0)
    time.sleep(0.5)
    assert comment_id not in public_ids(service, article)
    _, audit = admin_api(service, tokens, "GET", f"/audit?target=comment:{comment_id}")
    assert [entry["actor"] for entry in audit["items"]] == ["ada"]


def test_rejecting_a_flagged_comment_another_moderator_approved_meanwhile_is_not_sent(
        page, service, tokens):
    """Flags hid it; another moderator approved it back while this one's list still shows
    it flagged."""
    article = "flagged-approved-meanwhile"
    flagged = post(service, article, author_name="Ivy", author_email="ivy@example.com",
                   body="Disputed but fair.")["comment"]["id"]
    admin_api(service, tokens, "PATCH", f"/comments/{flagged}", {"status": "approved"})
    for number in range(3):
        status, _ = api(service, "POST", f"/comments/{flagged}/flags", {"reason": "abuse"},
                        headers={"X-Forwarded-For": f"192.0.2.{number + 41}"})
        assert status == 202
    sign_in(page, service, tokens["moderator"])
    show_queue(page, article, "flagged")
    admin_api(service, tokens, "PATCH", f"/comments/{flagged}", {"status": "approved"})

    queue_item(page, flagged).get_by_role("button", name=re.compile("^Reject")).click()
    wait_out_undo(page)

    expect(page.locator("#alert")).to_contain_text(
        "Did not reject the comment by Ivy: ada approved it meanwhile")
    assert eventually(lambda: flagged in public_ids(service, article))


def test_a_decision_on_a_comment_deleted_meanwhile_says_it_was_not_made_and_leaves_it_out(
        page, service, tokens):
    article = "deleted-meanwhile"
    comment_id = moderating_one_held(page, service, tokens, article)
    assert admin_api(service, tokens, "DELETE", f"/comments/{comment_id}")[0] == 204  # another tab

    queue_item(page, comment_id).get_by_role("button", name=re.compile("^Approve")).click()
    wait_out_undo(page)  # sent, and refused: the comment is gone

    alert = page.locator("#alert")
    expect(alert).to_contain_text("Could not approve the comment by Ada.")
    expect(alert).to_contain_text("This comment was deleted")
    expect(alert).not_to_contain_text("Approved")
    expect(queue_item(page, comment_id)).to_have_count(0)  # not put back to be decided again


def test_a_bulk_decision_says_how_many_it_made_when_some_were_deleted_meanwhile(
        page, service, tokens):
    article = "bulk-deleted-meanwhile"
    ids = [held(service, article, author_email=f"m{n}@example.com") for n in range(3)]
    sign_in(page, service, tokens["moderator"])
    show_queue(page, article)
    assert admin_api(service, tokens, "DELETE", f"/comments/{ids[0]}")[0] == 204  # another tab

    page.get_by_label("Select all shown").check()
    page.get_by_role("button", name="Approve selected").click()
    expect(page.locator("#toast")).to_contain_text("Approved 3 comments")  # before sending
    wait_out_undo(page)

    expect(page.locator("#toast")).to_contain_text(
        "Approved 2 comments. 1 comment had been deleted meanwhile.")
    assert eventually(lambda: set(public_ids(service, article)) == set(ids[1:]))


def test_comments_that_arrive_meanwhile_are_announced_not_pushed_under_the_moderator(
        page, service, tokens):
    """On a big night comments keep coming: the queue says how many wait (it looks every half
    minute, and when its tab is shown again) and shows them when asked, not while the
    moderator is reading."""
    article = "arrivals-story"
    first = moderating_one_held(page, service, tokens, article, author_email="early@example.com")
    queue_item(page, first).get_by_role("button", name=re.compile("^Approve")).click()
    later = [held(service, article, author_email=f"late{n}@example.com") for n in range(2)]

    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")  # back to the tab

    arrivals = page.get_by_role("button", name="2 new comments waiting. Show them")
    expect(arrivals).to_be_visible()  # the approval in its undo window is not one of them
    expect(page.locator("#queue-list .item")).to_have_count(0)  # the list stays as it was
    arrivals.click()
    expect(page.locator("#queue-list .item")).to_have_count(2)
    expect(arrivals).to_be_hidden()
    expect(queue_item(page, later[-1])).to_be_focused()  # the newest, first
    wait_out_undo(page)
    assert eventually(lambda: first in public_ids(service, article))


def test_showing_the_queue_again_right_after_a_decision_does_not_bring_its_comment_back(
        page, service, tokens):
    article = "decided-then-shown"
    decided = moderating_one_held(page, service, tokens, article)
    queue_item(page, decided).get_by_role("button", name=re.compile("^Reject")).click()

    show_queue(page, article)  # within the undo window: the decision is sent first

    expect(page.locator("#queue-summary")).to_contain_text("No comment matches these filters")
    expect(queue_item(page, decided)).to_have_count(0)


def test_flags_of_the_same_reason_and_note_are_counted_not_repeated(page, service, tokens):
    article = "flagged-alike"
    flagged = post(service, article, body="Whoever planned this should resign.")["comment"]["id"]
    admin_api(service, tokens, "PATCH", f"/comments/{flagged}", {"status": "approved"})
    for number, (reason, note) in enumerate([("abuse", "Insulting"), ("spam", None),
                                             ("abuse", "Insulting")]):
        status, _ = api(service, "POST", f"/comments/{flagged}/flags",
                        {"reason": reason, "note": note},
                        headers={"X-Forwarded-For": f"192.0.2.{number + 21}"})
        assert status == 202
    sign_in(page, service, tokens["moderator"])

    show_queue(page, article, "flagged")

    expect(queue_item(page, flagged).locator(".why li").last).to_have_text(
        'Flagged by 3 readers: abuse ("Insulting") ×2, spam')


def test_a_closing_time_already_past_says_comments_are_closed_and_since_when(
        page, service, tokens):
    admin_api(service, tokens, "PUT", "/articles/old-news-story", {"title": "Old news"})
    sign_in(page, service, tokens["moderator"])
    find_one_article(page, "old-news-story")

    page.get_by_label("Close comments at").fill("2020-01-01T12:00")
    page.get_by_role("button", name="Set the closing time of Old news").click()

    expect(page.locator("#toast")).to_contain_text(
        "Comments closed: their closing time, 1 Jan 2020, 12:00, has passed")
    expect(page.locator("#articles-list .item .state")).to_have_text(
        "Comments closed since 1 Jan 2020, 12:00")


def test_the_link_of_an_alert_opens_its_comment(page, service, tokens):
    """Digests and webhooks link to /admin/?comment=<id> (tests/test_alerts.py): the console
    opens on that comment, whatever its status and however long the queue, then the queue."""
    article = "alert-link-story"
    linked = held(service, article, author_name="Ines", author_email="ines@example.com")
    newer = [held(service, f"{article}-{n}") for n in range(3)]  # the queue's top is elsewhere
    sign_in(page, service, tokens["moderator"])

    page.goto(f"{service.base}/admin/?comment={linked}")

    item = queue_item(page, linked)
    expect(item).to_be_visible()
    expect(page.locator("#queue-list .item")).to_have_count(1)
    expect(page.locator("#queue-summary")).to_contain_text("the comment of your link")
    expect(item).to_be_focused()
    page.keyboard.press("a")
    expect(page.locator("#toast")).to_contain_text("Approved the comment by Ines")
    expect(page.locator("#queue-summary")).to_contain_text("Done with the comment of your link")
    wait_out_undo(page)
    assert eventually(lambda: linked in public_ids(service, article))

    # A published comment's link opens it too; the filters then show the queue again.
    page.goto(f"{service.base}/admin/?comment={linked}")
    expect(queue_item(page, linked).locator(".status")).to_have_text("Published")
    page.get_by_role("search", name="Filter the queue").get_by_role(
        "button", name="Show").click()
    expect(queue_item(page, newer[-1])).to_be_visible()
    expect(queue_item(page, linked)).to_have_count(0)
    assert "comment=" not in page.url

    page.goto(f"{service.base}/admin/?comment=999999999")
    expect(page.locator("#queue-summary")).to_contain_text("no longer there")


def test_a_comment_its_author_deleted_is_shown_deleted_with_nothing_to_decide(
        page, service, tokens):
    answer = post(service, "deleted-by-author", body="Second thoughts")
    status, _ = api(service, "DELETE", f"/comments/{answer['comment']['id']}",
                    headers={"X-Edit-Token": answer["edit_token"]})
    assert status == 204
    sign_in(page, service, tokens["moderator"])

    page.goto(f"{service.base}/admin/?comment={answer['comment']['id']}")

    item = queue_item(page, answer["comment"]["id"])
    expect(item.locator(".status")).to_have_text("Deleted")
    expect(item.get_by_role("button", name=re.compile("^Approve"))).to_be_hidden()
    expect(item).to_be_focused()
    page.keyboard.press("r")
    expect(page.locator("#toast")).to_contain_text("nothing to decide")
    expect(item).to_be_visible()
    status, history = admin_api(service, tokens, "GET",
                                f"/audit?target=comment:{answer['comment']['id']}")
    assert history["items"] == []


def test_select_all_leaves_out_deleted_comments(page, service, tokens):
    article = "select-around-deleted"
    answer = post(service, article, body="Gone soon")
    api(service, "DELETE", f"/comments/{answer['comment']['id']}",
        headers={"X-Edit-Token": answer["edit_token"]})
    waiting = held(service, article, author_email="w@example.com")
    sign_in(page, service, tokens["moderator"])
    show_queue(page, article, status="all")
    expect(page.locator("#queue-list .item")).to_have_count(2)

    page.get_by_label("Select all shown").check()

    expect(page.locator("#selected-count")).to_have_text("1 selected")
    expect(queue_item(page, answer["comment"]["id"]).get_by_role("checkbox")).to_be_hidden()
    expect(page.get_by_label("Select all shown")).to_be_checked()
    page.get_by_role("button", name="Approve selected").click()
    expect(page.locator("#toast")).to_contain_text("Approved 1 comment")
    wait_out_undo(page)
    assert eventually(lambda: public_ids(service, article) == [waiting])


def test_the_authors_other_comments_are_one_click_away(page, service, tokens):
    earlier = post(service, "history-old", author_name="Mia", author_email="mia@example.com",
                   body="An earlier remark")["comment"]["id"]
    admin_api(service, tokens, "PATCH", f"/comments/{earlier}", {"status": "approved"})
    comment_id = held(service, "history-new", author_name="Mia",
                      author_email="mia@example.com")
    sign_in(page, service, tokens["moderator"])
    show_queue(page, "history-new")
    item = queue_item(page, comment_id)
    expect(item.locator(".history")).to_have_text("1 approved, 0 rejected, 0 spam")

    item.get_by_role("button", name="Show them: every comment by Mia").click()

    expect(page.locator("#queue-list")).to_have_attribute("aria-busy", "false")
    expect(queue_item(page, earlier)).to_be_visible()
    expect(queue_item(page, comment_id)).to_be_visible()
    assert page.locator("#queue-list .item").count() == 2
    filters = page.get_by_role("search", name="Filter the queue")
    expect(filters.get_by_label("Show")).to_have_value("all")
    expect(page.locator("#queue-summary")).to_be_focused()


def test_filters_that_match_nothing_do_not_say_the_queue_is_clear(page, service, tokens):
    sign_in(page, service, tokens["moderator"])

    show_queue(page, "an-article-id-mistyped")

    expect(page.locator("#queue-summary")).to_have_text(
        "No comment matches these filters. Change them, then press Show.")


def test_reject_spam_pin_and_delete_each_take_one_click(page, service, tokens):
    article = "click-story"
    rejected, spam, deleted = (held(service, article, author_email=f"c{n}@example.com")
                               for n in range(3))
    # Held as its author's first comment: an address of its own, which no other test approves.
    pinned = held(service, article, author_email="pin-me@example.com", body="Plain and published")
    admin_api(service, tokens, "PATCH", f"/comments/{pinned}", {"status": "approved"})
    sign_in(page, service, tokens["moderator"])
    show_queue(page, article)

    def decide(comment_id, button):
        queue_item(page, comment_id).get_by_role("button", name=button, exact=False).first.click()
        expect(queue_item(page, comment_id)).to_have_count(0)

    # Each action is sent when the next is taken, or after the undo window; the toast offering
    # Undo covers none of the next items' buttons meanwhile.
    decide(rejected, "Reject")
    toast = page.locator("#toast").bounding_box()
    for button in page.locator("#queue-list .item button:visible").all():
        box = button.bounding_box()
        assert (box["x"] + box["width"] <= toast["x"] or toast["x"] + toast["width"] <= box["x"]
                or box["y"] + box["height"] <= toast["y"]
                or toast["y"] + toast["height"] <= box["y"]), button.text_content()
    decide(spam, "Spam")
    decide(deleted, "Delete")
    show_queue(page, article, "approved")
    item = queue_item(page, pinned)
    item.get_by_role("button", name=re.compile("^Pin")).click()
    expect(item.locator(".pinned")).to_be_visible()
    expect(item.get_by_role("button", name=re.compile("^Unpin"))).to_be_visible()
    wait_out_undo(page)

    def statuses():
        _, page_ = admin_api(service, tokens, "GET", f"/comments?status=all&article={article}")
        return {item["id"]: (item["status"], item["pinned"], item["deleted"])
                for item in page_["items"]}

    expected = {rejected: ("rejected", False, False), spam: ("spam", False, False),
                pinned: ("approved", True, False)}
    assert eventually(lambda: {k: statuses().get(k) for k in expected} == expected
                      and statuses()[deleted][2])
    assert public_ids(service, article)[0] == pinned


def test_undo_takes_a_decision_back_before_it_is_sent(page, service, tokens):
    article = "undo-story"
    first, second = held(service, article), held(service, article, author_name="Bea")
    sign_in(page, service, tokens["moderator"])
    show_queue(page, article)

    page.keyboard.press("j")  # the newest, Bea's
    expect(queue_item(page, second)).to_be_focused()
    page.keyboard.press("x")  # selected, then deleted
    page.keyboard.press("d")
    expect(queue_item(page, second)).to_have_count(0)
    expect(queue_item(page, first)).to_be_focused()  # the next one
    expect(page.locator("#selected-count")).to_have_text("None selected")
    page.get_by_role("button", name="Undo").click()

    expect(queue_item(page, second)).to_be_focused()
    expect(page.locator("#queue-list .item")).to_have_count(2)
    # Back as it was: ticked, marked and counted as selected; the other one is not marked.
    expect(queue_item(page, second).locator(".select")).to_be_checked()
    expect(queue_item(page, second)).to_have_class(re.compile(r"\bselected\b"))
    expect(page.locator("#selected-count")).to_have_text("1 selected")
    expect(page.locator("#queue-list .item.selected")).to_have_count(1)
    expect(page.locator("#toast")).to_contain_text("Nothing was sent")
    wait_out_undo(page)  # past the undo window: nothing may arrive late,
    time.sleep(1)  # as a request sent at its end would have
    _, answer = admin_api(service, tokens, "GET", f"/comments?article={article}")
    assert {item["id"] for item in answer["items"]} == {first, second}
    _, audit = admin_api(service, tokens, "GET", f"/audit?target=comment:{second}")
    assert audit["items"] == []


def test_bulk_approve_of_thirty_comments(page, service, tokens):
    article = "bulk-story"
    ids = [held(service, article, author_email=f"b{n}@example.com") for n in range(31)]
    sign_in(page, service, tokens["moderator"])
    show_queue(page, article)
    expect(page.locator("#queue-list .item")).to_have_count(20)  # a page, never everything
    expect(page.locator("#queue-summary")).to_contain_text("Showing 20 of 31")
    page.get_by_role("button", name="Load more").click()
    expect(page.locator("#queue-list .item")).to_have_count(31)
    expect(page.get_by_role("button", name="Load more")).to_be_hidden()

    page.get_by_label("Select all shown").check()
    queue_item(page, ids[0]).get_by_role("checkbox").uncheck()  # the oldest stays
    expect(page.locator("#selected-count")).to_have_text("30 selected")
    page.get_by_role("button", name="Approve selected").click()

    expect(page.locator("#queue-list .item")).to_have_count(1)
    expect(page.locator("#toast")).to_contain_text("Approved 30 comments")
    wait_out_undo(page)
    assert eventually(lambda: len(public_ids(service, article)) == 30)
    assert ids[0] not in public_ids(service, article)


def test_ban_the_author_of_a_comment_by_their_ipv6_network(page, service, tokens):
    article = "ban-story"
    comment_id = held(service, article, author_name="Troll", author_email="troll@example.com",
                      reader="2001:db8:5:6:aaaa::7")
    sign_in(page, service, tokens["moderator"])
    show_queue(page, article)
    queue_item(page, comment_id).get_by_role("button", name=re.compile("^Ban author")).click()

    dialog = page.get_by_role("dialog", name="Ban the author")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#ban-dialog-network")).to_have_text("2001:db8:5:6::/64")
    dialog.get_by_role("button", name="Ban").click()  # no reason yet: said, not sent
    expect(dialog.locator("#ban-dialog-error")).to_contain_text("Give a reason")
    dialog.get_by_role("radio", name=re.compile("Network")).check()
    dialog.get_by_label("Reason (for the other moderators)").fill("Abuse from this network")
    dialog.get_by_label("For", exact=True).select_option(label="30 days")
    dialog.get_by_role("button", name="Ban").click()

    expect(dialog).to_be_hidden()
    expect(queue_item(page, comment_id).locator(".banned")).to_be_visible()
    expect(page.locator("#toast")).to_contain_text("Banned 2001:db8:5:6::/64 for 30 days")
    status, answer = api(service, "POST", f"/articles/{article}/comments", {
        "author_name": "Troll", "author_email": "other@example.com", "body": "again",
    }, headers={"X-Forwarded-For": "2001:db8:5:6:ffff::1"})
    assert status == 403 and answer["reason"] == "banned"
    assert post(service, article, reader="2001:db8:5:7::1")["status"]  # the next /64 may
    _, bans = admin_api(service, tokens, "GET", "/bans?limit=100")
    (ban,) = [ban for ban in bans["items"] if ban["value"] == "2001:db8:5:6::/64"]
    assert ban["reason"] == "Abuse from this network" and ban["created_by"] == "maria"
    expires = datetime.fromisoformat(ban["expires_at"].replace("Z", "+00:00"))
    assert abs((expires - datetime.now(UTC)).total_seconds() - 30 * 86400) < 120


# --- Articles, bans, settings, audit --------------------------------------------------------


def test_banning_an_author_already_banned_says_the_ban_in_force_is_replaced(page, service,
                                                                          tokens):
    """A ban of the same address replaces the one in force (its reason and end): the dialog
    says so before a 7-day ban quietly takes the place of another moderator's ban for good."""
    article = "banned-again-story"
    comment_id = held(service, article, author_email="banned-again@example.com")
    admin_api(service, tokens, "POST", "/bans", {"kind": "email", "reason": "for good",
                                                 "value": "banned-again@example.com"})
    sign_in(page, service, tokens["moderator"])
    show_queue(page, article)
    expect(queue_item(page, comment_id)).to_contain_text("Author banned")

    queue_item(page, comment_id).get_by_role("button", name=re.compile("^Ban author")).click()

    expect(page.get_by_role("dialog", name="Ban the author")).to_contain_text(
        "already banned")


def test_close_an_article_and_the_public_api_says_closed(page, service, tokens):
    admin_api(service, tokens, "PUT", "/articles/closing-story", {"title": "Closing time"})
    admin_api(service, tokens, "PUT", "/articles/other-story", {"title": "Another"})
    sign_in(page, service, tokens["moderator"])
    find_one_article(page, "closing")

    page.get_by_role("button", name="Close comments on Closing time").click()

    expect(page.get_by_role("button", name="Open comments on Closing time")).to_be_visible()
    expect(page.locator("#articles-list")).to_contain_text("Comments closed (set by a moderator)")
    _, article = api(service, "GET", "/articles/closing-story",
                     headers={"Cache-Control": "no-cache"})
    assert article["comments_open"] is False
    status, answer = api(service, "POST", "/articles/closing-story/comments", {
        "author_name": "Ada", "author_email": "ada@example.com", "body": "Late"})
    assert status == 403 and answer["reason"] == "comments_closed"

    page.get_by_label("Close comments at").fill("2031-05-01T12:30")
    page.get_by_role("button", name="Set the closing time of Closing time").click()
    expect(page.locator("#toast")).to_contain_text("Comments close 1 May 2031, 12:30")
    expect(page.get_by_role("button", name="Set the closing time of Closing time")).to_be_focused()
    _, listed = admin_api(service, tokens, "GET", "/articles?q=closing-story")
    assert listed["items"][0]["comments_close_at"] == "2031-05-01T12:30:00Z"

    # The audit log says it in words: no null, true, false or ISO times.
    page.get_by_role("button", name="Back to automatic on Closing time").click()
    expect(page.locator("#toast")).to_contain_text("Back to automatic")
    # That button is gone with the moderator's choice: focus is on the toggle beside it.
    expect(page.locator("#articles-list .item .toggle")).to_be_focused()
    page.get_by_role("link", name="Audit log").click()
    page.get_by_role("search", name="Filter the audit log").get_by_label("Target").fill(
        "article:closing-story")
    page.get_by_role("search", name="Filter the audit log").get_by_role(
        "button", name="Show").click()
    entries = page.locator("#audit-list .item .details")
    expect(entries).to_have_count(4)  # and "set up", first of all
    expect(entries.first).to_have_text("comments open: automatic")
    expect(entries.nth(1)).to_have_text("comments close at: 1 May 2031, 12:30")
    expect(entries.nth(2)).to_have_text("comments open: closed")


def test_change_a_setting_and_find_it_in_the_audit_log(page, service, tokens):
    sign_in(page, service, tokens["admin"])
    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_label("Most links a comment may have")).not_to_have_value("")
    page.get_by_label("Blocked words, one per line").fill(f"{HELD_WORD}\nbogus")
    page.get_by_role("button", name="Save settings").click()

    expect(page.locator("#settings-status")).to_have_text(
        "Settings saved. They apply to comments posted from now on.")
    _, settings = admin_api(service, tokens, "GET", "/settings")
    assert settings["blocked_words"] == [HELD_WORD, "bogus"]
    assert post(service, "settings-story", body="a bogus claim")["status"] == "pending"

    page.get_by_role("link", name="Audit log").click()
    filters = page.get_by_role("search", name="Filter the audit log")
    filters.get_by_label("Moderator").fill("ada")
    filters.get_by_label("Action").select_option("settings.update")
    filters.get_by_role("button", name="Show").click()
    entry = page.locator("#audit-list .item").first
    expect(entry).to_contain_text("ada changed the settings")
    expect(entry).to_contain_text("blocked words: heldback, bogus")
    filters.get_by_label("Moderator").fill("nobody-by-this-name")
    filters.get_by_role("button", name="Show").click()
    expect(page.locator("#audit-summary")).to_have_text("Nothing to show.")


def test_the_audit_log_names_people_s_data_and_failed_sign_ins_in_words(page, service,
                                                                        tokens):
    post(service, "people-story", author_email="erase.me@example.com")
    status, _ = admin_api(service, tokens, "DELETE", "/people?email=erase.me@example.com")
    assert status == 200
    assert api(service, "GET", "/admin/me", headers={"Authorization": "Bearer wrong"})[0] == 401

    sign_in(page, service, tokens["admin"])
    page.get_by_role("link", name="Audit log").click()
    filters = page.get_by_role("search", name="Filter the audit log")
    for option, words in (("People's data", "erased a person's data"),
                          ("Failed sign-ins", "(unknown) failed to sign in")):
        filters.get_by_label("Action").select_option(label=option)
        filters.get_by_role("button", name="Show").click()
        expect(page.locator("#audit-list .item").first).to_contain_text(words)


def test_an_api_error_is_shown_in_words_beside_its_field(page, service, tokens):
    sign_in(page, service, tokens["moderator"])
    page.get_by_role("link", name="Settings").click()
    threshold = page.get_by_label("Flags that hide a comment")
    expect(threshold).not_to_have_value("")
    threshold.fill("0")
    page.get_by_role("button", name="Save settings").click()

    error = page.locator("#flag-threshold-error")
    expect(error).to_contain_text("greater than or equal to 1")
    expect(threshold).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#settings-status")).to_contain_text("Not saved")

    page.get_by_role("link", name="Bans").click()
    form = page.locator("#ban-form")
    form.get_by_label("Email, address or network").fill("not an address")
    form.get_by_label("Reason (for the other moderators)").fill("testing")
    form.get_by_role("button", name="Ban", exact=True).click()
    expect(page.locator("#ban-value-error")).to_have_text("Not a valid email address.")


def test_bans_are_listed_and_lifted(page, service, tokens):
    admin_api(service, tokens, "POST", "/bans",
              {"kind": "email", "value": "lift-me@example.com", "reason": "a test"})
    sign_in(page, service, tokens["moderator"])
    page.get_by_role("link", name="Bans").click()
    page.get_by_role("button", name="Lift ban on lift-me@example.com").click()

    expect(page.locator("#toast")).to_contain_text("The ban on lift-me@example.com is lifted")
    expect(page.locator("#bans-list")).not_to_contain_text("lift-me@example.com")
    assert post(service, "lift-story", author_email="lift-me@example.com")


def test_a_ban_from_the_bans_screen_says_which_ban_in_force_it_replaced(page, service, tokens):
    """Another moderator banned this address for good; a 7-day ban takes its place, and the
    moderator who made it is told, with what was replaced."""
    admin_api(service, tokens, "POST", "/bans",
              {"kind": "ip", "value": "198.51.100.9", "reason": "Bot farm"})
    sign_in(page, service, tokens["moderator"])
    page.get_by_role("link", name="Bans").click()
    form = page.locator("#ban-form")
    form.get_by_label("What").select_option(label="An IP address or network")
    form.get_by_label("Email, address or network").fill("198.51.100.9")
    form.get_by_label("Reason (for the other moderators)").fill("Still posting")
    form.get_by_role("button", name="Ban", exact=True).click()

    toast = page.locator("#toast")
    expect(toast).to_contain_text("Banned 198.51.100.9.")
    expect(toast).to_contain_text("It replaces the ban ada made on")
    expect(toast).to_contain_text('for good ("Bot farm").')


def listed_counts(page, screen: str) -> tuple[int, int]:
    """The "Showing N of TOTAL." of a list screen, as numbers."""
    expect(page.locator(f"#{screen}-summary")).to_contain_text("Showing")
    shown, total = re.search(r"Showing (\d+) of (\d+)\.",
                             page.locator(f"#{screen}-summary").inner_text()).groups()
    return int(shown), int(total)


def test_a_lifted_ban_is_counted_out_of_the_list(page, service, tokens):
    admin_api(service, tokens, "POST", "/bans",
              {"kind": "email", "value": "count-me-out@example.com", "reason": "a test"})
    sign_in(page, service, tokens["moderator"])
    page.get_by_role("link", name="Bans").click()
    expect(page.locator("#bans-list")).to_contain_text("count-me-out@example.com")
    shown, total = listed_counts(page, "bans")

    page.get_by_role("button", name="Lift ban on count-me-out@example.com").click()

    expect(page.locator("#toast")).to_contain_text("is lifted")
    expect(page.locator("#bans-summary")).to_have_text(
        f"Showing {shown - 1} of {total - 1}." if total > 1 else "Nothing to show.")


# --- Roles ----------------------------------------------------------------------------------


def test_moderators_have_no_subscribers_tab_and_a_403_is_explained(page, service, tokens):
    sign_in(page, service, tokens["moderator"])
    expect(page.get_by_role("link", name="Queue")).to_be_visible()
    expect(page.get_by_role("link", name="Subscribers")).to_have_count(0)
    expect(page.get_by_role("link", name="People's data")).to_have_count(0)

    page.goto(f"{service.base}/admin/#subscribers")  # typed in by hand
    page.reload()
    expect(page.locator("#subscribers-summary")).to_contain_text("Your role may not do this.")


def test_admins_see_and_erase_subscribers(page, service, tokens):
    status, _ = api(service, "POST", "/newsletter/subscriptions",
                    {"email": "reader@example.com", "consent": True, "source": "footer"})
    assert status == 202
    sign_in(page, service, tokens["admin"])
    page.get_by_role("link", name="Subscribers").click()
    expect(page.locator("#subscribers-list")).to_contain_text("reader@example.com")
    shown, total = listed_counts(page, "subscribers")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Erase reader@example.com").click()

    expect(page.locator("#toast")).to_contain_text("reader@example.com is erased")
    expect(page.locator("#subscribers-summary")).to_have_text(
        f"Showing {shown - 1} of {total - 1}." if total > 1 else "Nothing to show.")
    _, listed = admin_api(service, tokens, "GET", "/newsletter/subscribers")
    assert "reader@example.com" not in [item["email"] for item in listed["items"]]


def test_admins_look_up_download_and_erase_a_persons_data(page, service, tokens):
    """A reader asks for their data, then for it to be erased: the admin does both from the
    console, as `people export` and `people erase` do on the command line."""
    email = "asked-for-it@example.com"
    for body in ("First thought", "Second thought"):
        post(service, "people-story", author_name="Grace", author_email=email, body=body)
    sign_in(page, service, tokens["admin"])
    page.get_by_role("link", name="People's data").click()
    form = page.get_by_role("search", name="Find a person's data")
    form.get_by_label("Email address").fill("not an address")
    form.get_by_role("button", name="Look up").click()
    expect(page.locator("#person-email-error")).to_contain_text("Not a valid email address")

    form.get_by_label("Email address").fill(email)
    form.get_by_role("button", name="Look up").click()

    found = page.locator("#person-found")
    expect(found).to_contain_text(f"What is kept of {email}")
    expect(found).to_contain_text("2 comments")
    expect(found).to_contain_text("No newsletter subscription")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download as JSON").click()
    assert download.value.suggested_filename == "asked-for-it@example.com.json"
    kept = json.loads(Path(download.value.path()).read_text("utf-8"))
    assert sorted(comment["body"] for comment in kept["comments"]) == ["First thought",
                                                                       "Second thought"]

    page.get_by_label("Also delete the text of their comments").check()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name=f"Erase {email}").click()

    expect(page.locator("#toast")).to_contain_text(f"{email} is erased: 2 comments")
    expect(found).to_be_hidden()
    _, left = admin_api(service, tokens, "GET", f"/people?email={email}")
    assert left["comments"] == []
    _, audit = admin_api(service, tokens, "GET", "/audit?action=people.erase")
    assert audit["items"][0]["details"]["comments"] == 2
    assert email not in json.dumps(audit["items"])


# --- Accessibility, phones, and the pictures in docs/ --------------------------------------


@pytest.fixture(scope="module")
def busy_evening(service, tokens):
    """A queue a moderator might find on a busy evening: an article name, and the id of the
    comment readers flagged."""
    article = "harbour-flood"
    admin_api(service, tokens, "PUT", f"/articles/{article}", {
        "title": "Flood warning for the harbour district",
        "url": "https://news.example/harbour-flood"})
    parent = post(service, article, author_name="Grace Hopper",
                  author_email="grace@example.com",
                  body="The council said the barriers would hold. **They did not.**")
    admin_api(service, tokens, "PATCH", f"/comments/{parent['comment']['id']}",
              {"status": "approved"})
    held(service, article, author_name="Linus", author_email="linus@example.com",
         parent_id=parent["comment"]["id"], reader="2001:db8:77::12",
         body=f"Cheap sandbags at https://sandbags.example and https://more.example, "
              f"{HELD_WORD} prices!")
    flagged = post(service, article, author_name="Ada", author_email="ada@example.com",
                   body="Whoever planned this should be *ashamed*.")["comment"]["id"]
    admin_api(service, tokens, "PATCH", f"/comments/{flagged}", {"status": "approved"})
    for number, (reason, note) in enumerate([("abuse", "Insulting"), ("off_topic", None),
                                             ("abuse", None)]):
        status, _ = api(service, "POST", f"/comments/{flagged}/flags",
                        {"reason": reason, "note": note},
                        headers={"X-Forwarded-For": f"192.0.2.{number + 1}"})
        assert status == 202
    return article, flagged


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_screen_passes_axe_in_light_and_dark(browser, service, tokens, busy_evening,
                                                   scheme):
    admin_api(service, tokens, "POST", "/bans",
              {"kind": "ip", "value": "203.0.113.0/24", "reason": "Spam wave"})
    page = open_page(browser, scheme=scheme, bypass_csp=True)
    try:
        page.goto(f"{service.base}/admin/")
        assert axe_violations(page) == [], "sign-in"
        sign_in(page, service, tokens["admin"])
        for screen in SCREENS:
            page.locator(f'#tabs a[data-screen="{screen}"]').click()
            expect(page.locator(f"#screen-{screen}")).to_be_visible()
            loaded(page, screen)
            assert axe_violations(page) == [], screen
        page.get_by_role("link", name="Queue").click()
        page.locator("#queue-list .item").first.focus()
        page.keyboard.press("?")
        expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
        assert axe_violations(page) == [], "help"
        assert not page.errors, page.errors
    finally:
        page.context.close()


def test_the_console_fits_a_390_pixel_phone(browser, service, tokens, busy_evening):
    page = open_page(browser, width=390, height=844)
    try:
        sign_in(page, service, tokens["admin"])
        for screen in SCREENS:
            page.goto(f"{service.base}/admin/#{screen}")
            expect(page.locator(f"#screen-{screen}")).to_be_visible()
            loaded(page, screen)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"{screen} is {width} px wide"
        page.goto(f"{service.base}/admin/#queue")
        expect(page.locator("#queue-list")).to_have_attribute("aria-busy", "false")
        button = page.locator("#queue-list .item").first.get_by_role("button", name=re.compile(
            "^Approve"))
        expect(button).to_be_visible()
        assert button.bounding_box()["height"] >= 44  # a finger's width
        assert not page.errors, page.errors
    finally:
        page.context.close()


def test_on_a_phone_the_next_comment_shows_below_the_bulk_bar_not_under_it(browser, service,
                                                                          tokens):
    """The bar of bulk actions stays at the top of the screen; the comment the moderator is
    moved to after a decision (or by j and k) scrolls into view below it, author and article
    showing, even when a comment is longer than the screen."""
    article = "phone-long-comments"
    long_body = "\n\n".join(f"Paragraph {n} of a long comment." for n in range(40))
    for _ in range(3):
        held(service, article, body=f"{HELD_WORD} {long_body}")
    page = open_page(browser, width=390, height=844)
    try:
        sign_in(page, service, tokens["moderator"])
        show_queue(page, article)
        first = page.locator("#queue-list .item").first
        first.get_by_role("button", name=re.compile("^Reject")).click()
        current = page.locator("#queue-list .item.current")
        expect(current).to_be_focused()
        for step in ("after the decision", "after k", "after j"):
            title = current.locator(".item-title").bounding_box()
            bar = page.locator(".bulk-bar").bounding_box()
            assert title["y"] >= bar["y"] + bar["height"], (step, title, bar)
            page.keyboard.press("k" if step == "after the decision" else "j")
            expect(current).to_be_focused()
        assert not page.errors, page.errors
    finally:
        page.context.close()


def test_screenshots_for_the_readme(browser, service, tokens, busy_evening, tmp_path):
    """The README's pictures, taken as a moderator sees the console; `CONSOLE_SCREENSHOTS=1`
    writes them to docs/console/ (otherwise to a temporary folder)."""
    article, _ = busy_evening
    folder = DOCS if os.environ.get("CONSOLE_SCREENSHOTS") == "1" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    for width, height, name in [(1280, 900, "desktop"), (390, 844, "phone")]:
        page = open_page(browser, width=width, height=height)
        try:
            sign_in(page, service, tokens["moderator"])
            show_queue(page, article)
            expect(page.locator("#queue-list .item")).to_have_count(2)
            if width == 390:  # as a phone shows it: filters folded
                page.locator("#queue-filter-box summary").click()
            page.locator("#queue-list .item").first.focus()
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=str(folder / f"queue-{name}.png"))
            page.get_by_role("link", name="Settings").click()
            expect(page.get_by_label("Flags that hide a comment")).not_to_have_value("")
            page.screenshot(path=str(folder / f"settings-{name}.png"))
        finally:
            page.context.close()
    page = open_page(browser, scheme="dark")
    try:
        sign_in(page, service, tokens["moderator"])
        show_queue(page, article)
        page.locator("#queue-list .item").first.get_by_role(
            "button", name=re.compile("^Ban author")).click()
        expect(page.get_by_role("dialog", name="Ban the author")).to_be_visible()
        page.screenshot(path=str(folder / "ban-dark-desktop.png"))
    finally:
        page.context.close()

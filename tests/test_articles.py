"""GET /api/v1/articles/{id} and the comments part of GET /api/v1/counts."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from engagement.articles.models import Article
from engagement.extensions import db


@pytest.fixture
def article(app, clock):
    """Record an article as a moderator's tool would have set it up."""

    def make(article_id="an-article", **fields):
        with app.app_context():
            db.session.add(Article(id=article_id, first_seen_at=clock(), **fields))
            db.session.commit()
        return article_id

    return make


def test_unseen_article_answers_with_defaults(client, app):
    response = client.get("/api/v1/articles/brand-new")

    assert response.status_code == 200
    body = response.json
    assert body == {
        "id": "brand-new",
        "title": None,
        "url": None,
        "comments_open": True,
        "comments_close_at": None,
        "comment_count": 0,
        "share_counts": body["share_counts"],
    }
    assert body["share_counts"]["total"] == 0
    assert set(body["share_counts"]) == set(app.config["SHARE_NETWORKS"]) | {"total"}


def test_reading_an_unseen_article_records_nothing(client, app):
    for path in ("/api/v1/articles/brand-new", "/api/v1/articles/brand-new/comments",
                 "/api/v1/articles/brand-new/shares", "/api/v1/counts?ids=brand-new"):
        assert client.get(path).status_code == 200

    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Article)) == 0


@pytest.mark.parametrize("first_write", ["comment", "share"])
def test_first_sight_is_recorded_by_the_first_write(client, app, clock, post_comment,
                                                    first_write):
    client.get("/api/v1/articles/brand-new")
    clock.advance(hours=3)

    if first_write == "comment":
        post_comment("brand-new")
    else:
        client.post("/api/v1/articles/brand-new/shares", json={"network": "x"})

    with app.app_context():
        assert db.session.get(Article, "brand-new").first_seen_at == clock()


def test_unseen_article_is_404_without_auto_create(make_app, article):
    client = make_app(ARTICLES_AUTO_CREATE=False).test_client()
    article("known")

    missing = client.get("/api/v1/articles/unknown")
    assert missing.status_code == 404
    assert missing.json["reason"] == "not_found"
    assert client.get("/api/v1/articles/known").status_code == 200
    listing = client.get("/api/v1/articles/unknown/comments")
    assert listing.status_code == 404
    post = client.post("/api/v1/articles/unknown/comments",
                       json={"author_name": "A", "author_email": "a@example.com", "body": "x"})
    assert post.status_code == 404


@pytest.mark.parametrize("path", [
    "/api/v1/articles/-starts-with-dash",
    "/api/v1/articles/has%20space",
    "/api/v1/articles/" + "a" * 201,
    "/api/v1/articles/semi;colon",
    "/api/v1/articles/.hidden/comments",
    "/api/v1/articles/%25zz-not-hex",
    # 67 Arabic letters are 201 characters once percent-encoded.
    "/api/v1/articles/a" + "%D8%A7" * 67,
])
def test_ids_that_are_not_slugs_are_404(client, path):
    response = client.get(path)

    assert response.status_code == 404
    assert response.json["reason"] == "not_found"


def test_longest_slug_is_accepted(client):
    slug = "a" + "b._~-" * 39 + "c" * 4
    assert len(slug) == 200

    assert client.get(f"/api/v1/articles/{slug}").json["id"] == slug


SALAM = "%d8%a7%d9%84%d8%b3%d9%84%d8%a7%d9%85"  # WordPress's slug of "السلام"


@pytest.mark.parametrize("spelling", [
    "%25d8%25a7%25d9%2584%25d8%25b3%25d9%2584%25d8%25a7%25d9%2585",  # the slug, URL-encoded
    "%D8%A7%D9%84%D8%B3%D9%84%D8%A7%D9%85",  # the letters, URL-encoded (as a browser does)
    "%25D8%25A7%25D9%2584%25D8%25B3%25D9%2584%25D8%25A7%25D9%2585",  # upper-case hex
])
def test_a_non_latin_slug_names_one_article_however_it_is_spelled(client, spelling):
    posted = client.post(f"/api/v1/articles/{spelling}/comments",
                         json={"author_name": "سلمى", "author_email": "s@example.com",
                               "body": "مرحبا"})
    assert posted.status_code == 201, posted.json

    assert client.get(f"/api/v1/articles/{spelling}").json["id"] == SALAM
    listed = client.get(f"/api/v1/articles/{SALAM.replace('%', '%25')}/comments").json
    assert [item["body_html"] for item in listed["items"]] == ["<p>مرحبا</p>"]


def test_counts_answer_each_id_as_it_was_spelled(client, post_comment):
    post_comment(article=SALAM.replace("%", "%25"))
    post_comment(article="Sumadii%C3%A9-xaqiiqo")

    answer = client.get("/api/v1/counts", query_string={
        "ids": f"{SALAM},{SALAM.upper()},السلام,sumadii%C3%A9-xaqiiqo,Sumadiié-xaqiiqo"})

    assert answer.status_code == 200, answer.json
    counts = {spelling: row["comments"] for spelling, row in answer.json["counts"].items()}
    assert counts == {SALAM: 1, SALAM.upper(): 1, "السلام": 1,
                      "sumadii%C3%A9-xaqiiqo": 0, "Sumadiié-xaqiiqo": 1}


@pytest.mark.parametrize("ids", ["has space", "-dash", "100%", "a/b", "a" + "%d8" * 67])
def test_counts_refuse_what_is_not_an_article_id(client, ids):
    answer = client.get("/api/v1/counts", query_string={"ids": f"fine,{ids}"})

    assert answer.status_code == 422
    assert answer.json["reason"] == "validation"


def test_moderator_closing_closes(client, article):
    article(comments_open_by_moderator=False)

    assert client.get("/api/v1/articles/an-article").json["comments_open"] is False


def test_close_date_closes_once_passed(client, article, clock):
    close_at = clock() + timedelta(hours=1)
    article(comments_close_at=close_at)

    before = client.get("/api/v1/articles/an-article").json
    assert before["comments_open"] is True
    assert before["comments_close_at"] == "2026-11-27T09:00:00Z"
    clock.advance(hours=1)
    assert client.get("/api/v1/articles/an-article").json["comments_open"] is False


def test_close_after_days_counts_from_publication(make_app, article, clock):
    client = make_app(COMMENTS_CLOSE_AFTER_DAYS=7).test_client()
    article("old", published_at=clock() - timedelta(days=8))
    article("recent", published_at=clock() - timedelta(days=6))

    assert client.get("/api/v1/articles/old").json["comments_open"] is False
    assert client.get("/api/v1/articles/recent").json["comments_open"] is True


def test_close_after_days_counts_from_first_sight_without_publication(make_app, clock):
    client = make_app(COMMENTS_CLOSE_AFTER_DAYS=2).test_client()
    assert client.get("/api/v1/articles/fresh").json["comments_open"] is True
    clock.advance(days=1)
    # The first write is the first sight: reads before it do not start the clock.
    client.post("/api/v1/articles/fresh/shares", json={"network": "x"})

    clock.advance(days=1)
    assert client.get("/api/v1/articles/fresh").json["comments_open"] is True
    clock.advance(days=1)
    assert client.get("/api/v1/articles/fresh").json["comments_open"] is False


def test_an_article_never_written_about_stays_open(make_app, clock):
    client = make_app(COMMENTS_CLOSE_AFTER_DAYS=2).test_client()
    client.get("/api/v1/articles/fresh")

    clock.advance(days=30)
    assert client.get("/api/v1/articles/fresh").json["comments_open"] is True


def test_moderator_open_outranks_automatic_rules(make_app, article, clock):
    client = make_app(COMMENTS_CLOSE_AFTER_DAYS=1).test_client()
    article(published_at=clock() - timedelta(days=30), comments_close_at=clock(),
            comments_open_by_moderator=True)

    assert client.get("/api/v1/articles/an-article").json["comments_open"] is True


def test_comment_count_counts_approved_not_deleted(client, post_comment, app):
    kept = post_comment()
    gone = post_comment(body="regret")
    post_comment(body="bot", website_url="http://spam.example")  # honeypot: stored as spam
    client.delete(f"/api/v1/comments/{gone['comment']['id']}",
                  headers={"X-Edit-Token": gone["edit_token"]})

    assert client.get("/api/v1/articles/an-article").json["comment_count"] == 1
    assert kept["status"] == "approved"


def test_counts_for_a_listing_page(client, post_comment, article):
    post_comment("one")
    post_comment("one", body="again")
    post_comment("two")
    article("closed", comments_open_by_moderator=False)

    response = client.get("/api/v1/counts?ids=one,two,closed,never-seen")

    assert response.status_code == 200
    assert response.json == {"counts": {
        "one": {"comments": 2, "shares": 0, "comments_open": True},
        "two": {"comments": 1, "shares": 0, "comments_open": True},
        "closed": {"comments": 0, "shares": 0, "comments_open": False},
        "never-seen": {"comments": 0, "shares": 0, "comments_open": True},
    }}


def test_counts_do_not_record_unseen_articles(client, app):
    client.get("/api/v1/counts?ids=ghost")

    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Article)) == 0


@pytest.mark.parametrize("settings", [{"ARTICLES_AUTO_CREATE": False},
                                      {"ARTICLE_ID_PATTERN": r"story-[0-9]+"}])
def test_counts_say_closed_for_an_unseen_article_no_comment_could_record(make_app, settings):
    client = make_app(**settings).test_client()

    answer = client.get("/api/v1/counts?ids=not-a-story").json["counts"]["not-a-story"]

    # Its page would answer 404 to a comment: no listing should offer one.
    assert answer == {"comments": 0, "shares": 0, "comments_open": False}
    assert client.post("/api/v1/articles/not-a-story/comments", json={
        "author_name": "Ada", "author_email": "ada@example.com", "body": "Hi"}).status_code == 404


def test_counts_use_a_bounded_number_of_queries(client, app, post_comment):
    for index in range(5):
        post_comment(f"article-{index}")
    statements = []

    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute",
                        lambda *args: statements.append(args[2]))
        few = client.get("/api/v1/counts?ids=article-0")
        few_queries = len(statements)
        statements.clear()
        ids = ",".join(f"article-{index}" for index in range(100))
        many = client.get(f"/api/v1/counts?ids={ids}")

    assert few.status_code == many.status_code == 200
    assert len(statements) == few_queries <= 3
    assert many.json["counts"]["article-4"]["comments"] == 1


@pytest.mark.parametrize("query", [
    "",
    "?ids=",
    "?ids=,,,",
    "?ids=" + ",".join(f"a{index}" for index in range(101)),
    "?ids=good,-bad",
    "?ids=good,has space",
    "?ids=" + "x" * 201,
])
def test_counts_refuse_bad_id_lists(client, query):
    response = client.get(f"/api/v1/counts{query}")

    assert response.status_code == 422
    assert response.json["reason"] == "validation"
    assert "query" in response.json["errors"]


def test_duplicate_ids_are_counted_once(client, post_comment):
    post_comment("one")

    response = client.get("/api/v1/counts?ids=one,one, one")

    assert response.json == {"counts": {"one": {"comments": 1, "shares": 0, "comments_open": True}}}

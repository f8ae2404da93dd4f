"""GET /metrics: what an operator's Prometheus scrapes."""

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.live import get, gunicorn


def samples(client):
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def requests_of(found, endpoint, status, method="GET"):
    key = ("engagement_http_requests_total",
           (("endpoint", endpoint), ("method", method), ("status", status)))
    return found.get(key, 0)


def test_requests_are_counted_by_endpoint_and_status(client):
    before = samples(client)
    client.get("/api/v1/articles/a")
    client.get("/api/v1/articles/a")
    client.post("/api/v1/articles/a/comments", json={})
    client.get("/no/such/path")

    after = samples(client)

    def grew(endpoint, status, method="GET"):
        return (requests_of(after, endpoint, status, method)
                - requests_of(before, endpoint, status, method))

    assert grew("articles.ArticleById", "200") == 2
    assert grew("comments.Comments", "422", "POST") == 1
    assert grew("unmatched", "404") == 1


def test_latency_is_observed(client):
    client.get("/healthz")

    found = samples(client)

    counts = [value for (name, labels), value in found.items()
              if name == "engagement_http_request_duration_seconds_count"
              and ("endpoint", "health.healthz") in labels]
    assert counts and counts[0] >= 1


def test_metrics_are_never_cached_nor_rate_limited(make_app):
    client = make_app(LIMIT_READS="1/minute").test_client()

    responses = [client.get("/metrics") for _ in range(3)]

    assert {response.status_code for response in responses} == {200}
    assert "no-store" in responses[0].headers["Cache-Control"]


def test_the_content_type_names_each_parameter_once(client):
    """Prometheus reads the header with Go's mime parser, which refuses a parameter given
    twice (Flask's mimetype= appended a second charset to prometheus_client's own)."""
    content_type = client.get("/metrics").headers["Content-Type"]

    parameters = [part.split("=")[0].strip() for part in content_type.split(";")[1:]]
    assert content_type.startswith("text/plain;")
    assert sorted(parameters) == sorted(set(parameters)), content_type
    assert "charset" in parameters


def healthz_total(text: str) -> float:
    return sum(sample.value for family in text_string_to_metric_families(text)
               for sample in family.samples
               if sample.name == "engagement_http_requests_total"
               and sample.labels["endpoint"] == "health.healthz")


@pytest.mark.live  # gunicorn
def test_every_scrape_of_two_workers_counts_the_requests_of_both(tmp_path):
    """Each scrape is answered by one worker: without a directory shared by the workers it
    reported that worker's counts alone, and Prometheus read each change of worker as a
    counter reset. The directory is gunicorn's own, and goes when gunicorn stops."""
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    with gunicorn(tmp_path, {"TMPDIR": str(temporary)}, workers=2) as server:
        for _ in range(40):
            assert get(f"{server.base}/healthz")[0] == 200
        scrapes = []
        for _ in range(6):
            status, body = get(f"{server.base}/metrics")
            assert status == 200
            scrapes.append(healthz_total(body.decode()))
        made = list(temporary.glob("engagement-metrics-*"))

    assert len(set(scrapes)) == 1, scrapes
    assert scrapes[0] >= 40
    assert len(made) == 1
    assert not made[0].exists()

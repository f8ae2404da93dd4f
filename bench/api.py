"""Time the public endpoints a page view calls, through the WSGI app (no network), and print
each as milliseconds and as a ratio to GET /healthz measured in the same run.

    .venv/bin/python bench/api.py [--articles 200] [--repeat 300]
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench .venv/bin/python bench/api.py

Without DATABASE_URL it seeds a fresh SQLite file in a temporary folder. With one, the database
must be migrated and empty (`flask --app engagement db upgrade`)."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engagement import create_app  # noqa: E402


def seed(client, articles: int) -> None:
    for index in range(articles):
        slug = f"story-{index}"
        top = client.post(f"/api/v1/articles/{slug}/comments", json={
            "author_name": "Reader", "author_email": f"r{index}@example.com",
            "body": "A **fine** story, see https://example.com"}).json["comment"]["id"]
        for reply in range(3):
            client.post(f"/api/v1/articles/{slug}/comments", json={
                "author_name": "Other", "author_email": f"o{reply}@example.com",
                "body": "Agreed.", "parent_id": top})
        client.post(f"/api/v1/articles/{slug}/shares", json={"network": "facebook"})


def timed(call, repeat: int) -> float:
    """Median milliseconds of `repeat` calls, after a few warm-up calls."""
    for _ in range(5):
        call()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=300)
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    app = create_app({"DATABASE_URL": url, "AUTO_MIGRATE": url.startswith("sqlite"),
                      "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False})
    client = app.test_client()
    seed(client, args.articles)
    ids = ",".join(f"story-{index}" for index in range(min(100, args.articles)))
    counter = iter(range(10**9))

    calls = {
        "GET /healthz (baseline)": lambda: client.get("/healthz"),
        "GET article": lambda: client.get("/api/v1/articles/story-1"),
        "GET comments (thread of 4)": lambda: client.get("/api/v1/articles/story-1/comments"),
        "GET counts (100 ids)": lambda: client.get(f"/api/v1/counts?ids={ids}"),
        "GET trending 7d": lambda: client.get("/api/v1/trending?window=7d"),
        "POST comment": lambda: client.post("/api/v1/articles/bench/comments", json={
            "author_name": "B", "author_email": "b@example.com", "body": "timed"}),
        "POST share": lambda: client.post("/api/v1/articles/bench/shares", json={
            "network": "x"}, headers={"User-Agent": f"bench-{next(counter)}"}),
    }
    results = {name: timed(call, args.repeat) for name, call in calls.items()}
    baseline = results["GET /healthz (baseline)"]
    print(f"{'endpoint':32} {'median ms':>10} {'x baseline':>11}   ({url.split(':')[0]}, "
          f"{args.articles} articles)")
    for name, milliseconds in results.items():
        print(f"{name:32} {milliseconds:10.2f} {milliseconds / baseline:11.1f}")


if __name__ == "__main__":
    main()

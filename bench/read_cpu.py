"""What the reads answered before Flask cost the worker, measured in-process: the WSGI app called
directly (no network, no gunicorn) with the settings bench/sidebyside.py serves it with (rate
limits off, no mail thread, the bench as trusted proxy, the metrics in files as gunicorn.conf.py
sets them), on a SQLite file seeded as that bench seeds it (without the 100,000 comments), next
to bench/hello.py called the same way.

    .venv/bin/python bench/read_cpu.py [--batches 15] [--size 500] [--limits] [--profile DIR]

Prints, for hello-world, a 304 of the thread of 100, /counts for 50 ids and the article (both
answered from the answer cache), the CPU per request of the best batch (`time.process_time`, so
that other work on the machine moves it less than wall time would). `--limits` counts each read
against ENGAGEMENT_LIMIT_READS in memory, as a production setting does (set high enough never to
refuse). `--profile DIR` writes a cProfile of one batch of each to DIR/<case>.prof instead."""

from __future__ import annotations

import argparse
import cProfile
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

# As gunicorn.conf.py does before the app is imported: the metrics count in files.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="bench-metrics-"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from werkzeug.test import EnvironBuilder  # noqa: E402

from bench.hello import app as hello  # noqa: E402
from bench.sidebyside import COUNT_IDS, engagement_env, seed  # noqa: E402
from engagement import create_app  # noqa: E402

THREAD = "/api/v1/articles/thread-100/comments?limit=40"


def served_app(url: str, limits: bool):
    prefix = "ENGAGEMENT_"
    settings = {name[len(prefix):]: value for name, value in engagement_env(url).items()
                if name.startswith(prefix)}
    if limits:
        settings.update(RATELIMIT_ENABLED="true", LIMIT_READS="100000000/minute")
    return create_app({**settings, "DATABASE_URL": url})


def environ(path: str, headers: dict | None = None) -> dict:
    return EnvironBuilder(path=path, headers={"User-Agent": "wrk", **(headers or {})},
                          environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_environ()


def answer(wsgi, environ: dict) -> str:
    statuses = []
    b"".join(wsgi(dict(environ), lambda status, *_: statuses.append(status)))
    return statuses[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=15)
    parser.add_argument("--size", type=int, default=500, help="requests per batch")
    parser.add_argument("--limits", action="store_true", help="count reads (memory store)")
    parser.add_argument("--profile", metavar="DIR")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    folder = tempfile.mkdtemp(prefix="bench-")
    url = f"sqlite:///{folder}/bench.sqlite3"
    seed(url, big=False, listing=True)
    app = served_app(url, args.limits)
    etag = app.test_client().get(THREAD).headers["ETag"]
    cases = {
        "hello": (hello.wsgi_app, environ("/")),
        "304": (app.wsgi_app, environ(THREAD, {"If-None-Match": etag})),
        "counts": (app.wsgi_app, environ(f"/api/v1/counts?ids={COUNT_IDS}")),
        "article": (app.wsgi_app, environ("/api/v1/articles/thread-100")),
    }
    for name, (wsgi, request) in cases.items():
        status = answer(wsgi, request)  # builds and caches the answer
        batch = [dict(request) for _ in range(args.size)]

        def run(batch=batch, wsgi=wsgi) -> float:
            started = time.process_time()
            for each in batch:
                b"".join(wsgi(dict(each), lambda *_: None))
            return time.process_time() - started

        run()
        if args.profile:
            profile = cProfile.Profile()
            profile.runcall(run)
            profile.dump_stats(Path(args.profile) / f"{name}.prof")
            continue
        best = min(run() for _ in range(args.batches))
        print(f"{name:8} {status:18} {best / args.size * 1e6:6.1f} us")


if __name__ == "__main__":
    main()

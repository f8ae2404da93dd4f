"""Inject the faults of issue 12 into a live gunicorn (gunicorn.conf.py, several workers) with
a PostgreSQL, a Redis and an SMTP server of its own, and print what a user would see:

    .venv/bin/python bench/faults.py [--workers 4]

1. PostgreSQL frozen (SIGSTOP of the server and its backends) for a few seconds: the answers
   during the freeze (status, slowest), and how long until the service answers again.
2. Redis frozen: comment posts during the freeze (status, slowest).
3. 50 slow-header clients: a normal request's time while they hang on.
4. SIGHUP and SIGTERM to `outbox deliver --watch` during 50 messages: delivered, duplicates.
5. The idle mail worker: PostgreSQL transactions per second over 10 s.
6. A write retried with the same Idempotency-Key: comments stored.
7. Redis down, shares against 60/minute from one client for 10 s: how many were counted.

Needs the PostgreSQL binaries (/usr/lib/postgresql/15/bin), redis-server and the dev extras
(aiosmtpd). Runs for about two minutes; everything it starts is stopped at the end."""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import socket
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.live import gunicorn, request  # noqa: E402
from tests.services import OwnPostgres, OwnRedis  # noqa: E402
from tests.test_mail import SmtpServer  # noqa: E402
from tests.test_outbox_worker import Worker  # noqa: E402

JSON = {"Content-Type": "application/json"}
COMMENT = json.dumps({"author_name": "Ada", "author_email": "ada@example.com",
                      "body": "A fine story."}).encode()
COMMENTS = "/api/v1/articles/faults/comments"


def timed(url: str, data: bytes | None = None, headers: dict | None = None):
    started = time.monotonic()
    try:
        status = request(url, data, headers)[0]
    except OSError:
        status = 0  # no answer at all
    return status, time.monotonic() - started


def statuses(answers) -> str:
    return " ".join(f"{status}x{count}" for status, count in sorted(Counter(
        status for status, _ in answers).items()))


def frozen_postgres(postgres: OwnPostgres, workers: int, directory: Path) -> list[tuple]:
    settings = {"DATABASE_URL": postgres.new_database()}
    with gunicorn(directory, settings, workers=workers, threads=4) as server:
        request(f"{server.base}{COMMENTS}", COMMENT, JSON)
        with postgres.frozen(), ThreadPoolExecutor(16) as pool:
            reads = [pool.submit(timed, f"{server.base}{COMMENTS}") for _ in range(8)]
            writes = [pool.submit(timed, f"{server.base}{COMMENTS}", COMMENT, JSON)
                      for _ in range(4)]
            ready = pool.submit(timed, f"{server.base}/readyz")
            health = pool.submit(timed, f"{server.base}/healthz")
            answers = [future.result() for future in [*reads, *writes]]
            ready, health = ready.result(), health.result()
        thawed = time.monotonic()
        while request(f"{server.base}{COMMENTS}")[0] != 200:
            time.sleep(0.1)
        recovery = time.monotonic() - thawed
    return [
        ("PostgreSQL frozen: reads and writes", statuses(answers),
         f"slowest {max(s for _, s in answers):.1f} s"),
        ("PostgreSQL frozen: /readyz, /healthz", f"{ready[0]}, {health[0]}",
         f"{ready[1]:.1f} s, {health[1]:.2f} s"),
        ("PostgreSQL thawed: first 200 after", "", f"{recovery:.1f} s, no restart"),
    ]


def frozen_redis(redis: OwnRedis, workers: int, directory: Path) -> list[tuple]:
    settings = {"ENGAGEMENT_RATELIMIT_STORAGE_URI": redis.url,
                "ENGAGEMENT_LIMIT_COMMENTS": "1000/minute"}
    with gunicorn(directory, settings, workers=workers, threads=4) as server:
        request(f"{server.base}{COMMENTS}", COMMENT, JSON)
        with redis.frozen():
            answers = [timed(f"{server.base}{COMMENTS}", COMMENT, JSON) for _ in range(8)]
    return [("Redis frozen: comment posts", statuses(answers),
             f"slowest {max(s for _, s in answers):.2f} s")]


def slow_clients(workers: int, directory: Path) -> list[tuple]:
    with gunicorn(directory, {}, workers=workers, threads=4) as server, \
            contextlib.ExitStack() as stack:
        port = int(server.base.rsplit(":", 1)[1])
        for _ in range(50):
            client = stack.enter_context(socket.create_connection(("127.0.0.1", port)))
            client.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        time.sleep(1)
        answers = [timed(f"{server.base}/api/v1/articles/slow") for _ in range(10)]
    return [("50 slow-header clients: normal GETs", statuses(answers),
             f"slowest {max(s for _, s in answers):.2f} s")]


def outbox_signals(postgres: OwnPostgres, directory: Path) -> list[tuple]:
    from engagement import create_app
    from engagement.extensions import db

    url = postgres.new_database()
    smtp = SmtpServer().start()
    smtp.data_delay = 0.04
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "AUTO_MIGRATE": True,
                      "MAIL_URL": smtp.url, "LIMIT_SUBSCRIPTIONS": "1000/minute"})
    client = app.test_client()
    for index in range(50):
        client.post("/api/v1/newsletter/subscriptions",
                    json={"email": f"reader{index}@example.com", "consent": True})
    with app.app_context():
        db.engine.dispose()
    started = time.monotonic()
    first = Worker(url, smtp.url, directory / "worker.log")
    while len(smtp.received) < 5:
        time.sleep(0.02)
    first.signal(signal.SIGHUP)
    while len(smtp.received) < 20:
        time.sleep(0.02)
    first.signal(signal.SIGTERM)
    first.stop()
    second = Worker(url, smtp.url, directory / "worker.log")
    while len(smtp.received) < 50 and time.monotonic() - started < 60:
        time.sleep(0.02)
    took = time.monotonic() - started
    time.sleep(3)  # room for a duplicate
    idle = idle_transactions_per_second(url, seconds=20)
    second.stop()
    smtp.stop()
    counts = Counter(message["To"] for message in smtp.received)
    duplicates = sum(count - 1 for count in counts.values())
    return [
        ("SIGHUP + SIGTERM during 50 mails", f"{len(counts)} delivered",
         f"{duplicates} twice, all in {took:.1f} s"),
        ("Idle mail worker", f"{idle:.2f} transactions/s", "LISTEN/NOTIFY"),
    ]


def idle_transactions_per_second(url: str, seconds: float) -> float:
    """Transactions per second in the database, as PostgreSQL counts them, over one
    connection kept open (a new one would count its own handshake queries), less this
    function's own three."""
    engine = sa.create_engine(url, poolclass=sa.pool.StaticPool)
    count = sa.text("SELECT xact_commit + xact_rollback FROM pg_stat_database "
                    "WHERE datname = current_database()")
    with engine.connect() as connection:
        connection.execute(sa.text("SELECT pg_stat_clear_snapshot()"))
        before = connection.scalar(count)
        connection.commit()
        time.sleep(seconds)
        connection.execute(sa.text("SELECT pg_stat_clear_snapshot()"))
        after = connection.scalar(count)
        connection.commit()
    engine.dispose()
    return (after - before - 3) / seconds


def idempotent_retry(directory: Path) -> list[tuple]:
    headers = {**JSON, "Idempotency-Key": "bench-retry"}
    with gunicorn(directory, {}, workers=2) as server:
        answers = [request(f"{server.base}{COMMENTS}", COMMENT, headers)[0] for _ in range(5)]
        total = json.loads(request(f"{server.base}{COMMENTS}")[1])["total"]
    return [("5 retries with one Idempotency-Key", statuses((s, 0) for s in answers),
             f"{total} comment stored")]


def limits_without_redis(redis: OwnRedis, workers: int, directory: Path) -> list[tuple]:
    settings = {"ENGAGEMENT_RATELIMIT_STORAGE_URI": redis.url,
                "ENGAGEMENT_LIMIT_SHARES": "60/minute"}
    with gunicorn(directory, settings, workers=workers, threads=4) as server:
        redis.stop()
        counted, deadline = 0, time.monotonic() + 10
        while time.monotonic() < deadline:
            status, body = request(f"{server.base}/api/v1/articles/faults/shares",
                                   b'{"network": "x"}', JSON)
            counted += status == 200
    return [(f"Redis down, {workers} workers: shares in 10 s",
             f"{counted} allowed", "limit 60/minute")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=4)
    workers = parser.parse_args().workers
    rows: list[tuple] = []
    postgres = OwnPostgres().start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            directory = Path(folder)
            for name in ("pg", "redis", "limits", "slow", "retry"):
                (directory / name).mkdir()
            rows += frozen_postgres(postgres, workers, directory / "pg")
            redis = OwnRedis(directory).start()
            try:
                rows += frozen_redis(redis, workers, directory / "redis")
                rows += limits_without_redis(redis, workers, directory / "limits")
            finally:
                with contextlib.suppress(Exception):
                    redis.stop()
            rows += slow_clients(workers, directory / "slow")
            rows += outbox_signals(postgres, directory)
            rows += idempotent_retry(directory / "retry")
    finally:
        postgres.stop()
    width = max(len(row[0]) for row in rows)
    print(f"{'scenario':<{width}}  {'answers':<24}  detail")
    for name, answers, detail in rows:
        print(f"{name:<{width}}  {answers:<24}  {detail}")


if __name__ == "__main__":
    main()

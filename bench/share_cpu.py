"""What a share POST costs the worker and PostgreSQL, measured in-process: the WSGI app called
directly (no network, no gunicorn), each request from another reader, and the CPU time of this
process (`time.process_time`) and of the database backend that served it (from /proc), so
that load from other work on the machine moves the figures less than wall time would.

    .venv/bin/python bench/share_cpu.py [--batches 5] [--size 300] [--key]

Prints, per batch, the worker's and PostgreSQL's CPU per share in microseconds, then the best
batch, the statements per share and the Python calls per share (a count that does not depend
on the machine's load). `--key` sends a new Idempotency-Key with each share, as the widget
does. On a database of its own on BENCH_POSTGRES_URL (default the local server), dropped at
the end; the database server must run on this machine for its CPU to be read."""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import secrets
import sys
import time
from pathlib import Path

import psycopg
import sqlalchemy as sa
from werkzeug.test import EnvironBuilder

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.sidebyside import postgres_database  # noqa: E402
from engagement import create_app  # noqa: E402
from engagement.extensions import db  # noqa: E402

WARM_UP = 50


class Shares:
    """Share POSTs to one article, each from a new address behind the trusted proxy."""

    def __init__(self, app, key: bool):
        self.app, self.key, self.sent = app, key, 0

    def environs(self, count: int) -> list[dict]:
        built = []
        for _ in range(count):
            self.sent += 1
            n = self.sent
            headers = {"X-Forwarded-For": f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}",
                       "User-Agent": "bench"}
            if self.key:
                headers["Idempotency-Key"] = f"share-{n}-{secrets.token_hex(4)}"
            built.append(EnvironBuilder(
                method="POST", path="/api/v1/articles/shared/shares", headers=headers,
                json={"network": "facebook"}, environ_base={"REMOTE_ADDR": "127.0.0.1"},
            ).get_environ())
        return built

    def send(self, environ: dict) -> bytes:
        statuses = []
        body = b"".join(self.app.wsgi_app(environ, lambda status, *_: statuses.append(status)))
        if not statuses[0].startswith("200") or b'"counted":true' not in body:
            raise RuntimeError(f"share not counted: {statuses[0]} {body[:200]!r}")
        return body


def count_statements() -> list[str]:
    """Every statement the driver is asked to run from now on (SQLAlchemy's execution, and
    the share's own statements, which database.run_on_driver runs on the driver's cursor)."""
    statements, execute = [], psycopg.Cursor.execute

    def counted(cursor, query, *args, **kwargs):
        statements.append(query)
        return execute(cursor, query, *args, **kwargs)

    psycopg.Cursor.execute = counted
    return statements


def backend_cpu(pid: int) -> float:
    """Seconds of CPU a PostgreSQL backend used (user and system), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--size", type=int, default=300, help="shares per batch")
    parser.add_argument("--key", action="store_true", help="an Idempotency-Key on each share")
    args = parser.parse_args()
    with postgres_database() as url:
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "AUTO_MIGRATE": False,
                          "RATELIMIT_ENABLED": False, "MAIL_BACKGROUND": False,
                          "TRUSTED_PROXIES": "127.0.0.1"})
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            # One request at a time: the pool hands out one connection, one backend.
            backend = db.session.execute(sa.text("SELECT pg_backend_pid()")).scalar()
            db.session.rollback()
        statements = count_statements()
        shares = Shares(app, args.key)
        for environ in shares.environs(WARM_UP):
            shares.send(environ)
        worker, database = [], []
        for _ in range(args.batches):
            environs = shares.environs(args.size)
            statements.clear()
            backend_before, before = backend_cpu(backend), time.process_time()
            for environ in environs:
                shares.send(environ)
            worker.append((time.process_time() - before) / args.size * 1e6)
            database.append((backend_cpu(backend) - backend_before) / args.size * 1e6)
        per_share = len(statements) / args.size
        profile = cProfile.Profile()
        environs = shares.environs(args.size)
        profile.enable()
        for environ in environs:
            shares.send(environ)
        profile.disable()
        calls = pstats.Stats(profile).total_calls / args.size
        with app.app_context():
            db.engine.dispose()
    print(f"share POST on PostgreSQL{', with an Idempotency-Key' if args.key else ''}")
    print("worker CPU per share, us:     " + "  ".join(f"{value:,.0f}" for value in worker))
    print("PostgreSQL CPU per share, us: " + "  ".join(f"{value:,.0f}" for value in database))
    print(f"best batch: worker {min(worker):,.0f} us, PostgreSQL {min(database):,.0f} us; "
          f"{per_share:.1f} statements and {calls:,.0f} Python calls per share")


if __name__ == "__main__":
    main()

"""Side by side: this service and a hello-world Flask app, each served by gunicorn
(`--workers 2 --preload`) and driven by wrk, printing for each scenario req/s, p50/p99 latency
and its percentage of hello-world measured just before it (the two servers run side by side
throughout, so that a machine whose load changes during the run moves both), then the workers'
RSS.

    .venv/bin/python bench/sidebyside.py [--seconds 5] [--connections 64] [--no-postgres]
                                         [--only TEXT ...] [--rounds N]

Scenarios on SQLite (the embedded default): a thread of 100 comments (40 top-level, 60 replies,
Markdown), the same with If-None-Match, /counts for 50 articles, the article, the first page and
the article of one with 100,000 comments next to one with 10. On PostgreSQL (a database of its
own on BENCH_POSTGRES_URL, default the local server, dropped at the end): the thread, the thread
while readers share its article beside it, and share POSTs from distinct readers, with the
shares answered 2xx against those stored. `--only` runs the scenarios whose names contain one
of the texts given; `--rounds` measures each read scenario (and its hello-world) that many times
and reports the round of the median ratio, with the lowest and highest. Needs wrk."""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engagement import create_app  # noqa: E402
from engagement.articles.counters import recount  # noqa: E402
from engagement.articles.models import Article  # noqa: E402
from engagement.comments.markdown import render_markdown  # noqa: E402
from engagement.comments.models import Comment  # noqa: E402
from engagement.extensions import db  # noqa: E402
from tests.live import free_port  # noqa: E402

POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
COUNT_IDS = ",".join(f"story-{index}" for index in range(50))
BODIES = [
    "What a *fine* story. The second half, on the **council's budget**, deserves a follow-up.",
    "I was there.\n\n- the hall was full\n- nobody asked about parking\n\nSee "
    "[the minutes](https://example.com/minutes) for the rest.",
    "> The plan was approved unanimously\n\nNot quite: two members abstained.",
    "Thanks for writing this. `Short` comments are fine too.",
]
# Each request from another reader (its own address, through a trusted proxy's header). Each
# thread counts the requests it sent and the answers it read: 200 saying `"counted": true`,
# 200 saying false, any other status. The sums are printed at the end, so that the shares
# stored can be held to the answers exactly (wrk abandons the requests in flight when it stops).
# With KEYED true, each share carries an Idempotency-Key of its own, as the widget sends.
SHARE_SCRIPT = """
local threads = {}
sent, counted, uncounted, other = 0, 0, 0, 0  -- globals: thread:get reads them at the end
function setup(thread)
  table.insert(threads, thread)
  thread:set("tag", #threads)
end
request = function()
  sent = sent + 1
  local address = "10." .. tag .. "." .. math.floor(sent / 256) % 256 .. "." .. sent % 256
  local headers = {["Content-Type"] = "application/json", ["X-Forwarded-For"] = address}
  if KEYED then headers["Idempotency-Key"] = "share-" .. tag .. "-" .. sent end
  return wrk.format("POST", "/api/v1/articles/ARTICLE/shares", headers,
    '{"network": "facebook"}')
end
response = function(status, headers, body)
  if status ~= 200 then other = other + 1
  elseif string.find(body, '"counted":%s*true') then counted = counted + 1
  else uncounted = uncounted + 1 end
end
done = function(summary, latency, requests)
  for _, name in ipairs({"sent", "counted", "uncounted", "other"}) do
    local total = 0
    for _, thread in ipairs(threads) do total = total + thread:get(name) end
    io.write("shares " .. name .. " " .. total .. "\\n")
  end
end
"""


# --- Data ---------------------------------------------------------------------------------

def seed(url: str, big: bool, listing: bool | None = None) -> None:
    """The thread of 100; with `listing` (by default as `big`) the 50 articles of /counts; with
    `big` the articles of 10 and 100,000 comments."""
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "RATELIMIT_ENABLED": False,
                      "AUTO_MIGRATE": False, "MAIL_BACKGROUND": False})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    client = app.test_client()
    # 40 top-level comments, a reply to each, and a reply to 20 of those replies.
    tops = [post(client, "thread-100", index) for index in range(40)]
    replies = [post(client, "thread-100", index, parent) for index, parent in enumerate(tops)]
    for index, parent in enumerate(replies[:20]):
        post(client, "thread-100", index, parent)
    if big if listing is None else listing:
        for index in range(50):
            post(client, f"story-{index}", index)
            client.post(f"/api/v1/articles/story-{index}/shares", json={"network": "x"})
    if big:
        for index in range(10):
            post(client, "small", index)
        post(client, "big", 0)
        with app.app_context():
            bulk_comments("big", 100_000)
            recount("big")
            db.session.commit()
    with app.app_context():
        db.engine.dispose()


def post(client, article: str, index: int, parent_id: int | None = None) -> int:
    response = client.post(f"/api/v1/articles/{article}/comments", json={
        "author_name": f"Reader {index}", "author_email": f"reader{index}@example.com",
        "body": BODIES[index % len(BODIES)], "parent_id": parent_id})
    assert response.status_code == 201, response.json
    return response.json["comment"]["id"]


def bulk_comments(article_id: str, count: int) -> None:
    """Many top-level comments at once, as an import would store them."""
    rendered = [render_markdown(body) for body in BODIES]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [{
        "article_id": article_id, "depth": 0, "status": "approved", "held_for": [],
        "author_name": f"Reader {index}", "author_email": f"reader{index}@example.com",
        "avatar": "0" * 32, "body": BODIES[index % 4], "body_html": rendered[index % 4],
        "pinned": False, "flag_count": 0, "created_at": start + timedelta(seconds=index),
        "edit_token_hash": "0" * 64,
    } for index in range(count)]
    for offset in range(0, count, 10_000):
        db.session.execute(sa.insert(Comment), rows[offset:offset + 10_000])
    db.session.flush()


def share_script(article_id: str, *, keyed: bool) -> str:
    return SHARE_SCRIPT.replace("ARTICLE", article_id).replace("KEYED", str(keyed).lower())


def stored_shares(url: str, article_id: str) -> int:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        stored = connection.scalar(sa.select(Article.share_count).where(Article.id == article_id))
        logged = connection.scalar(sa.text("SELECT count(*) FROM shares WHERE article_id = :id"),
                                   {"id": article_id})
    engine.dispose()
    assert stored == logged, (stored, logged)
    return stored or 0


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    server_url = sa.make_url(POSTGRES)
    name = f"bench_{secrets.token_hex(4)}"
    server = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield server_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


# --- Servers and load ---------------------------------------------------------------------

@contextlib.contextmanager
def gunicorn(target: str, env: dict[str, str]) -> Iterator[tuple[str, int]]:
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "--workers", "2", "--preload",
               "--bind", f"127.0.0.1:{port}", target]
    if int(__import__("gunicorn").__version__.split(".")[0]) >= 27:
        command.insert(-1, "--no-control-socket")
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base + ("/healthz" if "wsgi" in target else "/"), timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"gunicorn {target} did not start") from None
                time.sleep(0.2)
        yield base, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def worker_rss_mb(master: int) -> list[float]:
    workers = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True,
                             text=True).stdout.split()
    sizes = []
    for pid in workers:
        status = Path(f"/proc/{pid}/status").read_text()
        sizes.append(int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024)
    return sorted(sizes)


def wrk(url: str, seconds: int, connections: int, headers: dict | None = None,
        script: str | None = None) -> dict:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    if script:
        command += ["-s", script]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    latency = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", output, re.MULTILINE))
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: connect (?P<connect>\d+), read (?P<read>\d+), "
                       r"write (?P<write>\d+), timeout (?P<timeout>\d+)", output)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": _ms(latency["50"]), "p99": _ms(latency["99"]), "requests": requests,
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": {kind: int(number) for kind, number in errors.groupdict().items()}
        if errors else dict.fromkeys(("connect", "read", "write", "timeout"), 0),
        "shares": {name: int(number) for name, number in
                   re.findall(r"^shares (\w+) (\d+)$", output, re.MULTILINE)},
    }


@contextlib.contextmanager
def wrk_beside(url: str, seconds: int, connections: int, script: str) -> Iterator[None]:
    """Another load (a quarter of the connections), a little longer than the measured one,
    running beside it."""
    command = ["wrk", "-t1", f"-c{max(connections // 4, 1)}", f"-d{seconds + 1}s",
               "-s", script, url]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        process.wait(timeout=seconds + 30)


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(\w+)", text).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def etag_of(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200, url
        return response.headers["ETag"]


def engagement_env(url: str) -> dict[str, str]:
    return {"DATABASE_URL": url, "ENGAGEMENT_SECRET_KEY": "bench",
            "ENGAGEMENT_RATELIMIT_ENABLED": "false", "ENGAGEMENT_MAIL_BACKGROUND": "false",
            "ENGAGEMENT_AUTO_MIGRATE": "false", "ENGAGEMENT_TRUSTED_PROXIES": "127.0.0.1"}


# --- The run ------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="length of each scenario")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--only", nargs="+", metavar="TEXT",
                        help="only the scenarios whose names contain one of these texts")
    parser.add_argument("--rounds", type=int, default=1,
                        help="rounds of each read scenario (the median one is reported)")
    args = parser.parse_args()

    def wanted(name: str) -> bool:
        return not args.only or any(text.lower() in name.lower() for text in args.only)

    if shutil.which("wrk") is None:
        sys.exit("needs wrk (apt install wrk)")
    load = {"seconds": args.seconds, "connections": args.connections}
    results: dict[str, dict] = {}
    spread: dict[str, list[float]] = {}  # each round's % of hello-world, when several
    folder = tempfile.mkdtemp(prefix="bench-")
    sqlite_url = f"sqlite:///{folder}/bench.sqlite3"
    print("seeding (a thread of 100, 50 articles, 10 and 100,000 comments)...", flush=True)
    seed(sqlite_url, big=True)

    # hello-world runs beside the service the whole time and is measured again right before
    # each scenario: on a shared machine the ceiling moves, and each ratio is to its own.
    with gunicorn("bench.hello:app", {}) as (hello, _):
        ceiling = {}

        def measure(name: str, url: str, rounds: int = 1, **options) -> None:
            runs = []
            for _ in range(rounds):
                before = wrk(hello + "/", **load)
                runs.append((before, wrk(url, **options, **load)))
            runs.sort(key=lambda run: run[1]["rps"] / run[0]["rps"])
            ceiling[name], results[name] = runs[len(runs) // 2]
            if rounds > 1:
                spread[name] = [100 * result["rps"] / before["rps"] for before, result in runs]

        with gunicorn("wsgi:app", engagement_env(sqlite_url)) as (base, master):
            thread = base + "/api/v1/articles/thread-100/comments?limit=40"
            scenarios = {
                "thread of 100 comments (40 + 60 replies)": (thread, {}),
                "the same with If-None-Match (304)": (thread,
                                                      {"If-None-Match": etag_of(thread)}),
                "/counts for 50 articles": (f"{base}/api/v1/counts?ids={COUNT_IDS}", {}),
                "the article": (base + "/api/v1/articles/thread-100", {}),
                "first page, article with 10 comments": (
                    base + "/api/v1/articles/small/comments", {}),
                "first page, article with 100,000 comments": (
                    base + "/api/v1/articles/big/comments", {}),
                "the article, with 10 comments": (base + "/api/v1/articles/small", {}),
                "the article, with 100,000 comments": (base + "/api/v1/articles/big", {}),
            }
            scenarios = {name: scenario for name, scenario in scenarios.items() if wanted(name)}
            for url in (value[0] for value in scenarios.values()):
                etag_of(url)  # warm: each answer built once
            rss_before = worker_rss_mb(master)
            for name, (url, headers) in scenarios.items():
                measure(name, url, args.rounds, headers=headers)
            served = sum(results[name]["requests"] for name in scenarios)
            rss_after = worker_rss_mb(master)

        share_runs, shares = [], []  # (scenario, article); (scenario, its result, shares stored)
        on_postgres = [name for name in ("thread on PostgreSQL",
                                         "thread on PostgreSQL, while its article is shared",
                                         "share POST on PostgreSQL, distinct readers",
                                         "the same with an Idempotency-Key, as the widget sends")
                       if wanted(name)]
        if on_postgres and not args.no_postgres:
            with postgres_database() as postgres_url:
                seed(postgres_url, big=False)
                with gunicorn("wsgi:app", engagement_env(postgres_url)) as (base, _):
                    thread = base + "/api/v1/articles/thread-100/comments?limit=40"
                    etag_of(thread)
                    if "thread on PostgreSQL" in on_postgres:
                        measure("thread on PostgreSQL", thread, args.rounds)
                    # The same thread while readers share its article: a share changes the
                    # article's counts, not its thread, whose cached pages must stay good.
                    storm = Path(folder) / "storm.lua"
                    storm.write_text(share_script("thread-100", keyed=False))
                    name = "thread on PostgreSQL, while its article is shared"
                    if name in on_postgres:
                        ceiling[name] = wrk(hello + "/", **load)
                        with wrk_beside(base + "/", script=str(storm), **load):
                            results[name] = wrk(thread, **load)
                    for name, article, keyed in (
                        ("share POST on PostgreSQL, distinct readers", "shared", False),
                        ("the same with an Idempotency-Key, as the widget sends",
                         "shared-keyed", True),
                    ):
                        if name not in on_postgres:
                            continue
                        script = Path(folder) / f"{article}.lua"
                        script.write_text(share_script(article, keyed=keyed))
                        measure(name, base + "/", script=str(script))
                        share_runs.append((name, article))
                # Counted once gunicorn has stopped: its workers finish the requests wrk left
                # in flight before they exit, so nothing is stored after this.
                shares = [(name, results[name], stored_shares(postgres_url, article))
                          for name, article in share_runs]
    shutil.rmtree(folder, ignore_errors=True)
    report(results, ceiling, rss_before, rss_after, served, shares)
    for name, ratios in spread.items():
        print(f"{name}: {len(ratios)} rounds, % of hello-world from {ratios[0]:.1f}% to "
              f"{ratios[-1]:.1f}%, median {ratios[len(ratios) // 2]:.1f}%: "
              + ", ".join(f"{ratio:.1f}%" for ratio in ratios))


def report(results, ceiling, rss_before, rss_after, served, shares) -> None:
    print("\n| scenario | req/s | p50 ms | p99 ms | hello-world just before, req/s "
          "| % of hello-world |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, result in results.items():
        hello = ceiling[name]["rps"]
        print(f"| {name} | {result['rps']:,.0f} | {result['p50']:.2f} | {result['p99']:.2f} | "
              f"{hello:,.0f} | {100 * result['rps'] / hello:.1f}% |")
    before, after = (", ".join(f"{mb:.0f} MB" for mb in rss) for rss in (rss_before, rss_after))
    print(f"\nworker RSS (SQLite run) after warm-up: {before}; after {served:,} more requests: "
          f"{after}")
    for name, result, stored in shares:
        report_shares(name, result, stored)
    for name, result in results.items():
        if result["non_2xx"] and "share" not in name:
            print(f"warning: {name}: {result['non_2xx']} answers were not 2xx or 3xx")


def report_shares(name: str, result: dict, stored: int) -> None:
    """Hold the shares stored to the answers. Every answer `counted: true` must be stored
    (lost: those that are not). More may be stored: the requests wrk sent but never read an
    answer to (in flight when it stopped, or dropped by a socket error), which the server may
    have counted all the same; the excess must be at most their number."""
    shares = result["shares"]
    answered = shares["counted"] + shares["uncounted"] + shares["other"]
    unanswered = shares["sent"] - answered
    errors = ", ".join(f"{kind} {number}" for kind, number in result["socket_errors"].items())
    print(f"{name}: {shares['sent']:,} sent, {answered:,} answered (200 counted "
          f"{shares['counted']:,}, 200 not counted {shares['uncounted']:,}, other status "
          f"{shares['other']:,}), {unanswered:,} unanswered (socket errors: {errors}); "
          f"{stored:,} stored: {max(shares['counted'] - stored, 0)} lost, "
          f"{stored - shares['counted']:,} stored beyond the answers that said so")
    if not shares["counted"] <= stored <= shares["counted"] + unanswered:
        print("warning: the shares stored do not match the answers (see above)")


if __name__ == "__main__":
    main()

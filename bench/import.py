"""Import a generated WordPress export and print comments per second and the importing
process's peak memory (RSS), for two sizes of file: memory must not grow with the file.

    .venv/bin/python bench/import.py [--posts 5000] [--comments 100000]
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench .venv/bin/python bench/import.py

The import runs as operators run it (`flask --app engagement import wordpress FILE`), in a
process of its own so that its peak RSS is its own. Without DATABASE_URL each run gets a fresh
SQLite file; with one, the database must be migrated and empty (it is left with the rows)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLASK = [sys.executable, "-m", "flask", "--app", "engagement"]

HEAD = """<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"
 xmlns:content="http://purl.org/rss/1.0/modules/content/"
 xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">
<channel><title>Bench</title><wp:wxr_version>1.2</wp:wxr_version>
"""
COMMENT = """<wp:comment><wp:comment_id>{id}</wp:comment_id>
<wp:comment_author><![CDATA[Reader {n}]]></wp:comment_author>
<wp:comment_author_email><![CDATA[reader{n}@example.com]]></wp:comment_author_email>
<wp:comment_author_url>https://reader{n}.example/</wp:comment_author_url>
<wp:comment_author_IP><![CDATA[192.0.2.{ip}]]></wp:comment_author_IP>
<wp:comment_date><![CDATA[2019-05-{day:02d} 12:{minute:02d}:00]]></wp:comment_date>
<wp:comment_date_gmt><![CDATA[2019-05-{day:02d} 10:{minute:02d}:00]]></wp:comment_date_gmt>
<wp:comment_content><![CDATA[A comment with <a href="https://example.com/{n}">a link</a>.

A second paragraph, and <strong>some</strong> words to make it as long as a real one.]]>\
</wp:comment_content>
<wp:comment_approved><![CDATA[1]]></wp:comment_approved>
<wp:comment_type><![CDATA[comment]]></wp:comment_type>
<wp:comment_parent>{parent}</wp:comment_parent><wp:comment_user_id>0</wp:comment_user_id>
</wp:comment>
"""


def write_wxr(path: Path, posts: int, comments: int) -> None:
    """`comments` spread evenly over `posts`; every third comment replies to the one before."""
    per_post, next_id = comments // posts, 1
    with path.open("w", encoding="utf-8") as out:
        out.write(HEAD)
        for post in range(1, posts + 1):
            out.write(f"<item><title>Story {post}</title>"
                      f"<link>https://news.example/story-{post}/</link>"
                      f"<wp:post_id>{post}</wp:post_id><wp:post_name>story-{post}</wp:post_name>"
                      f"<wp:post_date_gmt>2019-05-01 09:00:00</wp:post_date_gmt>"
                      f"<wp:comment_status>open</wp:comment_status>"
                      f"<wp:status>publish</wp:status><wp:post_type>post</wp:post_type>\n")
            for n in range(per_post):
                parent = next_id - 1 if n % 3 == 2 else 0
                out.write(COMMENT.format(id=next_id, n=n, ip=n % 250 + 1, day=n % 28 + 1,
                                         minute=n % 60, parent=parent))
                next_id += 1
            out.write("</item>\n")
        out.write("</channel></rss>\n")


def run_import(path: Path, env: dict[str, str]) -> tuple[float, int, str]:
    """(seconds, peak RSS in KiB, output) of one import in a process of its own."""
    started = time.perf_counter()
    process = subprocess.Popen([*FLASK, "import", "wordpress", str(path)], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if status != 0:
        sys.exit(f"the import failed:\n{output}")
    return seconds, usage.ru_maxrss, output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=5000)
    parser.add_argument("--comments", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for scale in (5, 1):  # a fifth of the file, then all of it: RSS should not follow
            posts, comments = args.posts // scale, args.comments // scale
            env = {**os.environ, "ENGAGEMENT_SECRET_KEY": "bench"}
            if "DATABASE_URL" not in os.environ:
                env["DATABASE_URL"] = f"sqlite:///{folder}/bench-{scale}.sqlite3"
                subprocess.run([*FLASK, "db", "upgrade"], cwd=ROOT, env=env, check=True,
                               capture_output=True)
            path = Path(folder) / f"export-{scale}.xml"
            write_wxr(path, posts, comments)
            seconds, peak_kib, output = run_import(path, env)
            lines = output.splitlines()
            imported = next(line for line in lines if line.startswith("Comments imported"))
            # The import's own time, without the process's start (Python, Flask, the app).
            took = float(next(line for line in lines if line.startswith("Took")).split()[1])
            print(f"{comments:>7} comments on {posts:>5} posts, "
                  f"{path.stat().st_size / 2**20:6.1f} MiB: {took:6.1f} s "
                  f"({seconds:.1f} s with the start), {comments / took:6.0f} comments/s, "
                  f"peak RSS {peak_kib / 1024:6.1f} MiB  ({imported})")


if __name__ == "__main__":
    main()

"""The README's promises, checked against the real service: gunicorn serving wsgi:app on a
fresh SQLite file that the service migrates itself, the README's curl walk-through run
unchanged with bash, and the served OpenAPI document listing the contract's paths built so far.

Whatever the suite's DATABASE_URL, this file serves its own SQLite database: it tests what a
reader of the README gets, not a database backend."""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 10  # seconds for gunicorn to boot and migrate an empty database

# API.md's public paths that exist now, with their methods (shares, flags, trending and the
# newsletter are not built yet).
BUILT_PATHS = {
    "/api/v1/articles/{article_id}": {"get"},
    "/api/v1/articles/{article_id}/comments": {"get", "post"},
    "/api/v1/comments/{comment_id}": {"patch", "delete"},
    "/api/v1/counts": {"get"},
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gunicorn_command(port: int) -> list[str]:
    command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
               "--workers", "1", "--threads", "2", "--access-logfile", "-"]
    if int(importlib.metadata.version("gunicorn").split(".")[0]) >= 27:
        # 27 added a control socket in ~/.gunicorn; one test server has no use for it.
        command.append("--no-control-socket")
    return [*command, "wsgi:app"]


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


class Server:
    def __init__(self, process: subprocess.Popen, base: str, log: Path):
        self.process, self.base, self.log = process, base, log

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def wait_until_healthy(server: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"gunicorn exited with {server.process.returncode}:\n{server.output()}")
        try:
            if get(f"{server.base}/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    pytest.fail(f"no answer from {server.base}/healthz in {START_TIMEOUT}s:\n{server.output()}")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """gunicorn serving wsgi:app on an empty SQLite file, stopped after the module's tests."""
    directory = tmp_path_factory.mktemp("readme")
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith("ENGAGEMENT_")}
    environment.update({
        "DATABASE_URL": f"sqlite:///{directory / 'engagement.sqlite3'}",
        # An explicit DATABASE_URL turns migration on start off; the README's server has it on.
        "ENGAGEMENT_AUTO_MIGRATE": "true",
        "ENGAGEMENT_SECRET_KEY": "readme-test-secret",
    })
    environment.pop("WEB_CONCURRENCY", None)
    port = free_port()
    log = directory / "gunicorn.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            gunicorn_command(port), cwd=ROOT, env=environment, stdin=subprocess.DEVNULL,
            stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True,
        )
    running = Server(process, f"http://127.0.0.1:{port}", log)
    try:
        wait_until_healthy(running)
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def walkthrough() -> str:
    """The README's walk-through block, as scripts/readme-walkthrough extracts it."""
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "readme-walkthrough"), str(ROOT / "README.md")],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_walkthrough_extracts_the_sh_block(walkthrough):
    assert walkthrough.startswith("BASE=${BASE:-http://127.0.0.1:8000}\n")
    assert "```" not in walkthrough
    for step in ("/api/v1/articles/hello-world", "-X PATCH", "X-Edit-Token", "/api/v1/counts?ids=",
                 "-X DELETE", 'parent_id'):
        assert step in walkthrough


def test_readme_walkthrough_runs_against_the_real_service(server, walkthrough, tmp_path):
    if shutil.which("curl") is None:
        pytest.skip("the README's walk-through needs curl")
    script = tmp_path / "walkthrough.sh"
    script.write_text(walkthrough)
    result = subprocess.run(
        ["bash", "-euo", "pipefail", str(script)],
        env={**os.environ, "BASE": server.base}, capture_output=True, text=True, timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}\n{server.output()}"
    out = result.stdout
    # The pretty-printed list shows the comment with the reply nested under it.
    listed = out[out.index('{\n    "items"'):]
    listing = json.loads(listed[: listed.index("\n}\n") + 2])
    [comment] = listing["items"]
    assert comment["body_html"] == "<p>What a <em>fine</em> story.</p>"
    assert comment["author_name"] == "Ada"
    [reply] = comment["replies"]
    assert (reply["parent_id"], reply["author_name"]) == (comment["id"], "Grace")
    assert reply["body_html"] == "<p>Agreed, a fine story.</p>"
    assert "edit_token" not in json.dumps(listing)

    answers = one_line_json(out)
    [edited] = [a for a in answers if a.get("comment", {}).get("edited_at")]
    assert edited["comment"]["body_html"] == "<p>What a <em>fine</em> story, and well told.</p>"
    [counts] = [a["counts"] for a in answers if "counts" in a]
    assert counts["hello-world"] == {"comments": 2, "shares": 0, "comments_open": True}
    assert counts["another-story"]["comments"] == 0
    assert "DELETE 204" in out.splitlines()
    # After the delete: a placeholder that keeps the reply.
    final = answers[-1]
    assert final["items"][0]["deleted"] is True
    assert final["items"][0]["replies"][0]["author_name"] == "Grace"


def one_line_json(output: str) -> list[dict]:
    """The JSON objects that the walk-through printed one per line, in order."""
    return [json.loads(line) for line in output.splitlines()
            if line.startswith("{") and line.endswith("}")]


def test_served_openapi_lists_the_built_paths_of_the_contract(server):
    status, body = get(f"{server.base}/api/v1/openapi.json")
    assert status == 200
    paths = json.loads(body)["paths"]
    for path, methods in BUILT_PATHS.items():
        assert path in paths, f"{path} missing from the OpenAPI document"
        assert methods <= set(paths[path]), f"{path}: {sorted(paths[path])}"


def test_docs_page_and_probes_answer(server):
    status, body = get(f"{server.base}/api/v1/docs")
    assert status == 200 and b"swagger" in body.lower()
    status, body = get(f"{server.base}/healthz")
    assert status == 200 and json.loads(body) == {"status": "ok"}
    status, body = get(f"{server.base}/readyz")
    assert status == 200 and json.loads(body)["status"] == "ok"

"""The README's promises, checked against the real service: gunicorn serving wsgi:app on a
fresh SQLite file that the service migrates itself, the README's curl walk-through run
unchanged with bash, and the served OpenAPI document listing the contract's paths built so far.

Whatever the suite's DATABASE_URL, this file serves its own SQLite database: it tests what a
reader of the README gets, not a database backend."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from tests.live import ROOT, get, gunicorn

pytestmark = pytest.mark.live  # gunicorn serving wsgi:app

# docs/api.md's public paths that exist now, with their methods (flags and the newsletter are not
# built yet).
BUILT_PATHS = {
    "/api/v1/articles/{article_id}": {"get"},
    "/api/v1/articles/{article_id}/comments": {"get", "post"},
    "/api/v1/comments/{comment_id}": {"patch", "delete"},
    "/api/v1/counts": {"get"},
    "/api/v1/articles/{article_id}/shares": {"get", "post"},
    "/api/v1/trending": {"get"},
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """gunicorn serving wsgi:app on an empty SQLite file, stopped after the module's tests."""
    with gunicorn(tmp_path_factory.mktemp("readme"), {}) as running:
        yield running


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
    assert status == 200 and b'href="/api/v1/openapi.json"' in body
    status, body = get(f"{server.base}/healthz")
    assert status == 200 and json.loads(body) == {"status": "ok"}
    status, body = get(f"{server.base}/readyz")
    assert status == 200 and json.loads(body)["status"] == "ok"

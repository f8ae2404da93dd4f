"""The documentation in docs/ is written for the service's users and kept in step with the code:
every path the OpenAPI document serves and every error reason the service can answer with are
in docs/api.md, every setting is in docs/operations.md, and the README links them all."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import engagement
from engagement.config import DEFAULTS
from engagement.errors import REASON_BY_STATUS, DomainError

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def normalised(path: str) -> str:
    """/api/v1/comments/{comment_id} and /api/v1/comments/{cid} are the same path."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def documented_paths() -> set[str]:
    text = (DOCS / "api.md").read_text()
    return {normalised(path.rstrip(".,;:)`")) for path in re.findall(r"/api/v1/[\w./{}-]+", text)}


def every_reason() -> set[str]:
    for module in pkgutil.walk_packages(engagement.__path__, "engagement."):
        importlib.import_module(module.name)  # each feature's errors subclass DomainError
    reasons, classes = set(REASON_BY_STATUS.values()), [DomainError]
    while classes:
        cls = classes.pop()
        reasons.add(cls.reason)
        classes.extend(cls.__subclasses__())
    return reasons


def test_every_served_path_is_in_the_api_reference(client):
    served = {normalised(path) for path in client.get("/api/v1/openapi.json").json["paths"]}
    assert served - documented_paths() == set()


def test_every_error_reason_is_in_the_api_reference():
    text = (DOCS / "api.md").read_text()
    table = text[text.index("## Error reasons"):]
    assert {reason for reason in every_reason() if f"`{reason}`" not in table} == set()


@pytest.mark.parametrize("key", sorted(DEFAULTS))
def test_every_setting_is_in_the_operations_guide(key):
    assert f"`ENGAGEMENT_{key}`" in (DOCS / "operations.md").read_text()


def test_the_readme_links_every_document_and_none_is_missing():
    readme = (ROOT / "README.md").read_text()
    for page in ("docs/api.md", "docs/operations.md", "docs/deployment.md"):
        assert f"]({page})" in readme
    for link in re.findall(r"\]\(((?:docs/)?[\w./-]+\.(?:md|png))\)", readme):
        assert (ROOT / link).exists(), link


def test_nothing_refers_to_a_contract_file_outside_the_repository():
    sources = [path for pattern in ("engagement/**/*.py", "engagement/**/*.js",
                                    "engagement/**/*.md", "tests/*.py", "docs/*.md", "*.md",
                                    "bench/*")
               for path in ROOT.glob(pattern)]
    mentions = [str(path.relative_to(ROOT)) for path in sources
                if path.is_file() and "API.md" in path.read_text(errors="replace")
                and path.name != "test_docs.py"]
    assert mentions == []

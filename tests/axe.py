"""axe-core, the accessibility checker, injected into a page that a browser test has open.

It comes from npm (`tests/js/package.json`, installed by `.ci/run` with `npm ci --prefix tests/js`),
never from a CDN. Without it the calling test is skipped with the reason, except under CI."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

AXE = Path(__file__).resolve().parent / "js" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def axe_violations(page) -> list[dict]:
    """The WCAG 2.2 AA violations axe-core finds on the page as it is now, each summarised
    as its rule id, impact and the first few offending nodes' selectors."""
    if not AXE.exists():
        reason = "axe-core is not installed: npm ci --prefix tests/js"
        if os.environ.get("CI") == "true":
            pytest.fail(f"under CI, accessibility checks are required: {reason}")
        pytest.skip(reason)
    if not page.evaluate("typeof window.axe === 'object'"):  # once per document (500 kB)
        page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_AA)
    return [{"id": violation["id"], "impact": violation["impact"],
             "nodes": [node["target"] for node in violation["nodes"][:5]]}
            for violation in result["violations"]]

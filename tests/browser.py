"""Debian's Chromium under Playwright, for the browser tests: how it is launched (reaching
nothing but this machine), and the skip (a failure under CI) when it or Playwright is missing."""

from __future__ import annotations

import contextlib
import os

from tests.services import missing

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # reported by chromium()
    sync_playwright = None

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    # Only this machine is reachable: every other host name resolves to nothing.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
]


@contextlib.contextmanager
def chromium():
    """A launched headless Chromium, closed at the end."""
    if sync_playwright is None:
        missing("Playwright for Python (pip install playwright; the browser is Debian's "
                "chromium, never `playwright install`)")
    if not os.access(CHROMIUM, os.X_OK):
        missing(f"Debian's Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()

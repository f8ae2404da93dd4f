"""The moderation console's files as the service serves them: strict headers, no inline
script or style, nothing from another origin, and the token kept out of cookies and storage
that outlives the tab (the browser tests are in test_console.py)."""

import re


def test_the_page_and_its_files_are_served_with_strict_headers(client):
    page = client.get("/admin/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "default-src 'none'" in policy
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    # No inline script or style, and nothing from another origin.
    assert not re.search(r"<script(?![^>]*\bsrc=)", html) and "<style" not in html
    assert " style=" not in html and not re.search(r"\son[a-z]+=", html)
    assert "http://" not in html and "https://" not in html
    for path, mimetype in [("/admin/console.js", "application/javascript"),
                           ("/admin/console.css", "text/css")]:
        asset = client.get(path)
        assert asset.status_code == 200 and asset.mimetype == mimetype
        assert asset.headers["X-Content-Type-Options"] == "nosniff"
        assert b"http://" not in asset.data and b"https://" not in asset.data
    redirect = client.get("/admin")
    assert redirect.status_code == 308 and redirect.headers["Location"] == "/admin/"


def test_the_script_keeps_the_token_in_session_storage_only(client):
    script = client.get("/admin/console.js").get_data(as_text=True)
    assert "sessionStorage" in script
    assert "localStorage" not in script and "document.cookie" not in script

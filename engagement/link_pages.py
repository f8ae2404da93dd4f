"""The small HTML pages that emailed links open (newsletter and reply notifications): the
publication's name, a title, a sentence, and at most one button that POSTs a form back to the
same address. Opening a link only shows the page, so mail scanners and link previews that
fetch it change nothing."""

from __future__ import annotations

from collections.abc import Mapping

from flask import current_app, render_template_string

PAGE = """<!doctype html>
<html lang="{{ lang }}" dir="{{ dir }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{ title }} · {{ site }}</title>
<style>
body { font: 17px/1.5 system-ui, sans-serif; max-width: 32rem; margin: 4rem auto;
       padding: 0 1rem; color: #222; }
h1 { font-size: 1rem; margin: 0 0 2rem; }
h2 { font-size: 1.5rem; margin: 0; }
button { font: inherit; padding: .6rem 1.2rem; border: 0; border-radius: .3rem;
         background: #1a56db; color: #fff; cursor: pointer; }
</style>
</head>
<body>
<h1>{{ site }}</h1>
<h2>{{ title }}</h2>
<p>{{ text }}</p>
{% if button %}
<form method="post">
{% for name, value in fields.items() %}<input type="hidden" name="{{ name }}" value="{{ value }}">
{% endfor %}<button type="submit">{{ button }}</button>
</form>
{% endif %}
</body>
</html>
"""


def link_page(title: str, text: str, button: str | None = None, *, status: int = 200,
              fields: Mapping[str, str] | None = None, lang: str = "en", direction: str = "ltr"):
    """A page for an emailed link, under the publication's name (`ENGAGEMENT_SITE_NAME`), so a
    reader knows whose list it is; `fields` go back with the button's POST."""
    html = render_template_string(PAGE, site=current_app.config["SITE_NAME"], title=title,
                                  text=text, button=button, fields=fields or {}, lang=lang,
                                  dir=direction)
    response = current_app.make_response((html, status))
    # The address holds a token: no cache keeps it, no Referer carries it away, and no other
    # site frames the button.
    response.cache_control.no_store = True
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'")
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response

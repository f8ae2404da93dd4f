"""The small HTML pages that emailed links open (newsletter and reply notifications): the
publication's name, a title, a sentence, and at most one button that POSTs a form back to the
same address. Opening a link only shows the page, so mail scanners and link previews that
fetch it change nothing. A page speaks the language its link carries (`lang`, as the email was
written in it), one of those the emails ship; English for any other, or none."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from flask import Response, current_app, render_template_string, request

from engagement.errors import TokenExpired, UnknownToken
from engagement.notifications.texts import direction, language

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


def link_page(title: str, text: str, button: str | None = None, *, lang: str = "en",
              status: int = 200, fields: Mapping[str, str] | None = None):
    """A page for an emailed link, in `lang`, under the publication's name
    (`ENGAGEMENT_SITE_NAME`), so a reader knows whose list it is; `fields` go back with the
    button's POST."""
    html = render_template_string(PAGE, lang=language(lang), dir=direction(lang),
                                  site=current_app.config["SITE_NAME"], title=title, text=text,
                                  button=button, fields=fields or {})
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


def public_link(base_url: str, path: str, **query: str) -> str:
    """An absolute link for an email or a chat message, on `ENGAGEMENT_PUBLIC_BASE_URL` (never
    on the request's Host, which the client chooses)."""
    link = f"{base_url.rstrip('/')}{path}"
    return f"{link}?{urlencode(query)}" if query else link


def link_token() -> str:
    """The token an emailed link carries in its query, or its button posts back."""
    return (request.form.get("token") or request.args.get("token") or "").strip()[:200]


def link_language() -> str:
    """The language an emailed link carries, or its button posts back: a shipped one, whatever
    was sent; English for a link written before links carried one."""
    return language((request.form.get("lang") or request.args.get("lang") or "")[:35])


class LinkPages:
    """One feature's link pages, from its texts: language -> kind -> (title, sentence, button
    or None), in every shipped language. Every feature has the kinds "unknown" and "expired"."""

    def __init__(self, texts: Mapping[str, Mapping[str, tuple[str, str, str | None]]]):
        self.texts = texts

    def page(self, kind: str, status: int = 200, fields: Mapping[str, str] | None = None):
        """The `kind` page in the link's language; its button posts that language back."""
        lang = link_language()
        title, text, button = self.texts[lang][kind]
        if button:
            fields = {**(fields or {}), "lang": lang}
        return link_page(title, text, button, lang=lang, status=status, fields=fields)

    def refusal(self, use: Callable[[], object], expired: str = "expired"):
        """Run `use` (a look at the link's token, or its use): None when it works, else the
        page of a link that does not: "unknown" (404) or the `expired` kind (410)."""
        return self._attempt(use, expired)[0]

    def _attempt(self, use: Callable[[], Any], expired: str) -> tuple[Response | None, Any]:
        """(the refusal page or None, what `use` gave)."""
        try:
            return None, use()
        except UnknownToken:
            return self.page("unknown", 404), None
        except TokenExpired:
            return self.page(expired, 410), None

    def confirmation(self, pressed_already: Callable[[], bool], token: str):
        """What opening a confirmation link shows: the "confirm" page, whose button posts the
        token back; "confirmed" when `pressed_already` finds it used; else the refusal."""
        refusal, pressed = self._attempt(pressed_already, "expired")
        if refusal:
            return refusal
        return self.page("confirmed") if pressed else self.page("confirm",
                                                                 fields={"token": token})

    def offer(self, check: Callable[[], object], kind: str, fields: Mapping[str, str],
              expired: str = "expired"):
        """What opening a link shows: the `kind` page, whose button posts `fields` back, when
        `check` finds its token good; else the refusal."""
        return self.refusal(check, expired) or self.page(kind, fields=fields)

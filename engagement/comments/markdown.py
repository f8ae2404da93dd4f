"""Markdown to safe HTML, once, when a comment is written.

markdown-it renders CommonMark with raw HTML off (typed tags come out as text) and bare URLs
linked; nh3 then keeps only the allow-list below, whatever the renderer produced."""

from __future__ import annotations

import html
import re
from functools import cache

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = frozenset({
    "p", "br", "strong", "em", "del", "s", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "hr",
})
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
LINK_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener"


@cache
def _renderer() -> MarkdownIt:
    renderer = MarkdownIt("commonmark", {"html": False, "linkify": True}).enable(
        ["linkify", "strikethrough"]
    )
    renderer.add_render_rule("image", _image_as_link)
    return renderer


def _image_as_link(self, tokens, index, options, env) -> str:
    """An image is not shown (it would load from a third party as each reader opens the
    page): it becomes a link to it, named by its alt text, else by its address; inside a
    link, just that name."""
    token = tokens[index]
    source = str(token.attrGet("src") or "")
    name = html.escape(self.renderInlineAsText(token.children or [], options, env) or source)
    opened = sum(1 if earlier.type == "link_open" else -1 for earlier in tokens[:index]
                 if earlier.type in ("link_open", "link_close"))
    return name if opened else f'<a href="{html.escape(source)}">{name}</a>'


@cache
def _cleaner() -> nh3.Cleaner:
    return nh3.Cleaner(
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(LINK_SCHEMES),
        url_relative="deny",  # "/path" or "//host" would point wherever the page is
        link_rel=LINK_REL,
        strip_comments=True,
    )


def render_markdown(source: str) -> str:
    """Sanitised HTML for a comment body."""
    return sanitize_html(_renderer().render(source))


def sanitize_html(html: str) -> str:
    """HTML from elsewhere (an imported comment) kept to the same allow-list as ours."""
    return _cleaner().clean(html).strip()


# Where the rendered HTML ends a block or breaks a line, plain text starts a new line.
_BLOCK_ENDS = re.compile(r"</(?:p|li|blockquote|pre|h[1-6])>|<br\s*/?>|<hr\s*/?>", re.I)


def plain_text(body_html: str) -> str:
    """The text of a comment's sanitised HTML, for plain-text emails: every tag removed, the
    entities read, one line per block."""
    text = html.unescape(nh3.clean(_BLOCK_ENDS.sub("\n", body_html), tags=set()))
    return re.sub(r"\n{2,}", "\n", text).strip()

"""Comment bodies: Markdown rendered to HTML that stays inside the allow-list, whatever is typed."""

from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from engagement.comments.markdown import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_TAGS,
    LINK_REL,
    LINK_SCHEMES,
    render_markdown,
)
from tests.conftest import comment_fields


class Inventory(HTMLParser):
    """Every tag and attribute an HTML fragment holds, as a browser's tokenizer sees them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.declarations: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag

    def handle_comment(self, data):
        self.declarations.append(data)

    def handle_decl(self, decl):
        self.declarations.append(decl)

    def handle_pi(self, data):
        self.declarations.append(data)


def assert_allowed(html: str) -> None:
    inventory = Inventory()
    inventory.feed(html)
    inventory.close()
    assert inventory.declarations == []
    for tag, attrs in inventory.elements:
        assert tag in ALLOWED_TAGS, html
        assert set(attrs) <= ALLOWED_ATTRIBUTES.get(tag, set()) | ({"rel"} if tag == "a" else set())
        if tag == "a":
            assert attrs.get("rel") == LINK_REL, html
            if "href" in attrs:
                scheme = attrs["href"].split(":", 1)[0].strip().lower()
                assert ":" in attrs["href"] and scheme in LINK_SCHEMES, html


ATTACKS = [
    ("<script>alert(1)</script>", "&lt;script&gt;"),
    ('<img src=x onerror="alert(1)">', "&lt;img"),
    ("<svg onload=alert(1)><circle/></svg>", "&lt;svg"),
    ('<iframe src="https://evil.example"></iframe>', "&lt;iframe"),
    ('<p style="position:fixed">cover</p>', "&lt;p style"),
    ('<a href="javascript:alert(1)">x</a>', "&lt;a href"),
    ("[click](javascript:alert(1))", None),
    ("[click](JaVaScRiPt:alert(1))", None),
    ("[click](java\tscript:alert(1))", None),
    ("[click](data:text/html;base64,PHNjcmlwdD4=)", None),
    ("[click](vbscript:msgbox)", None),
    ("[click](/relative/path)", None),
    ("[click](//evil.example/x)", None),
    ("![pixel](https://tracker.example/p.gif)", None),
    ('[x](https://ok.example "title" onclick=alert(1))', None),
    ("<details open ontoggle=alert(1)>", "&lt;details"),
    ("<!-- hidden --> text", "&lt;!--"),
]


@pytest.mark.parametrize(("source", "escaped"), ATTACKS)
def test_raw_html_and_unsafe_links_are_neutralised(client, source, escaped):
    response = client.post("/api/v1/articles/an-article/comments",
                           json=comment_fields(body=source))

    assert response.status_code == 201
    html = response.json["comment"]["body_html"]
    assert_allowed(html)
    for dangerous in ("<script", "<img", "<svg", "<iframe", "<details", "<!--"):
        assert dangerous not in html.lower()
    if escaped:
        assert escaped in html  # typed HTML is shown as text, not dropped


@pytest.mark.parametrize(("source", "expected"), [
    ("**bold** _em_ `code`", "<p><strong>bold</strong> <em>em</em> <code>code</code></p>"),
    ("[site](https://example.com/a?b=1)",
     f'<p><a href="https://example.com/a?b=1" rel="{LINK_REL}">site</a></p>'),
    ("see https://example.com now",
     f'<p>see <a href="https://example.com" rel="{LINK_REL}">https://example.com</a> now</p>'),
    ("[write](mailto:desk@example.com)",
     f'<p><a href="mailto:desk@example.com" rel="{LINK_REL}">write</a></p>'),
    ("> quoted\n\n- one\n- two",
     "<blockquote>\n<p>quoted</p>\n</blockquote>\n<ul>\n<li>one</li>\n<li>two</li>\n</ul>"),
    ("```\n<b>raw</b>\n```", "<pre><code>&lt;b&gt;raw&lt;/b&gt;\n</code></pre>"),
    ("# Shouting", "Shouting"),
    ("~~gone~~", "<p><s>gone</s></p>"),
    # Images load from nowhere: each is a link to it, by its alt text or else its address.
    ("![the chart](https://example.com/c.png)",
     f'<p><a href="https://example.com/c.png" rel="{LINK_REL}">the chart</a></p>'),
    ("![](https://example.com/c.png)", f'<p><a href="https://example.com/c.png" rel="{LINK_REL}">'
                                       "https://example.com/c.png</a></p>"),
    ("[![logo](https://example.com/l.png)](https://example.com)",
     f'<p><a href="https://example.com" rel="{LINK_REL}">logo</a></p>'),
])
def test_markdown_renders_to_the_expected_html(source, expected):
    assert render_markdown(source) == expected


MARKDOWN_PIECES = st.sampled_from([
    "<", ">", "</", "/>", '"', "'", "=", "`", "``", "```\n", "[", "]", "(", ")", "!", "*", "_",
    "~~", "#", "> ", "- ", "1. ", "\n", "\n\n", " ", "&", "&#", ";", ":", "//",
    "javascript:", "data:", "vbscript:", "JaVaScRiPt:", "http://", "https://", "mailto:",
    "www.", ".com", "script", "img", "svg", "iframe", "style", "onerror", "onload", "href",
    "src", "a", "p", "x", "\t", "\u0000", "\u200b", "\ufeff", "%0a", "&#106;",
])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(MARKDOWN_PIECES, st.text(max_size=4)), max_size=40).map("".join))
@example('<a href="javascript:alert(1)">x</a>')
@example("[x](java&#09;script:alert(1))")
@example("<scr<script>ipt>alert(1)</script>")
@example('[a](<javascript:alert(1)>)')
def test_no_markdown_yields_html_outside_the_allow_list(source):
    assert_allowed(render_markdown(source))

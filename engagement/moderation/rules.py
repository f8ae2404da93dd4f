"""The hold rules, as plain functions of a comment's text and its author's history: the
moderation mode, too many links, blocked words. Blocked words are matched on text normalised so
that full-width letters, zero-width characters and combining marks do not hide them."""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

MODES = ("none", "first_time", "all")
LINK = re.compile(r"<a\s", re.IGNORECASE)
TAG = re.compile(r"<[^>]*>")
BLOCK_END = re.compile(r"</(?:p|li|h[1-6]|blockquote|pre|td|th|tr)>|<br\s*/?>", re.IGNORECASE)


@dataclass(frozen=True)
class ModerationRules:
    mode: str
    max_links: int
    blocked_words: tuple[str, ...]
    flag_threshold: int
    # Flags that hide a comment a moderator approved, at least `flag_threshold`.
    approved_flag_threshold: int

    def flags_to_hide(self, approved_by_moderator: bool) -> int:
        return self.approved_flag_threshold if approved_by_moderator else self.flag_threshold


def hold_reasons(rules: ModerationRules, body: str, body_html: str, *, first_time: bool,
                 edited: bool = False, author_name: str = "") -> list[str]:
    """Why a comment is held, in the contract's words; empty when it may be published.

    An edit is judged on its text alone: an author already published is not first-time."""
    reasons = []
    if rules.mode == "all":
        reasons.append("mode")
    elif rules.mode == "first_time" and first_time and not edited:
        reasons.append("first_time")
    if len(LINK.findall(body_html)) > rules.max_links:
        reasons.append("links")
    # The words as readers see them: the rendered text (entities decoded, markup removed, so
    # `&#115;pam`, `s*p*am` and `i`d`iot` read whole), the Markdown as written, and the name.
    seen = (rendered_text(body_html), body, author_name)
    if any(contains_blocked_word(text, rules.blocked_words) for text in seen):
        reasons.append("blocked_word")
    if reasons and edited:
        reasons.insert(0, "edited")
    return reasons


def rendered_text(body_html: str) -> str:
    """What a reader reads of sanitised HTML: tags removed without a gap (markup inside a word
    does not split it), entities decoded. Block ends become spaces so words do not merge."""
    text = BLOCK_END.sub(" ", body_html)
    return html.unescape(TAG.sub("", text))


def normalise(text: str) -> str:
    """Text as a reader sees it: compatibility forms folded (full-width, ligatures), zero-width
    and other format characters dropped, accents and other combining marks removed, case folded."""
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(
        char for char in decomposed
        if unicodedata.category(char) not in ("Mn", "Me", "Cf")
    )
    return unicodedata.normalize("NFKC", kept).casefold()


def contains_blocked_word(text: str, blocked_words: tuple[str, ...]) -> bool:
    pattern = _blocked_pattern(blocked_words)
    return pattern is not None and pattern.search(normalise(text)) is not None


@lru_cache(maxsize=32)
def _blocked_pattern(blocked_words: tuple[str, ...]) -> re.Pattern | None:
    words = sorted({normalise(word).strip() for word in blocked_words} - {""})
    if not words:
        return None
    # Whole words: no letter or digit may touch either end.
    return re.compile(r"(?<![\w])(?:" + "|".join(map(re.escape, words)) + r")(?![\w])")

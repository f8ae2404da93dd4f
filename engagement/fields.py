"""Marshmallow fields that every feature's In/Out schemas share: text that a database can
store (not blank where a person must say something), web URLs, email addresses, UTC timestamps
written with `Z`, strict booleans, a query's whole numbers and the reader's language; and
`RowView`, how a row is answered through its Out schema."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import marshmallow as ma
from email_validator import EmailNotValidError, validate_email

# NUL and lone surrogates cannot be stored (PostgreSQL refuses both); other C0 controls but
# tab and newline have no place in reader text.
_UNSTORABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_LINE_BREAKS = re.compile(r"[\t\n\r\u2028\u2029\x85]")
# In a name, invisible characters reverse or hide what readers see ("Ada" that reads as another
# name, or two names that look alike): every format character (Unicode category Cf: direction
# overrides and isolates, zero-width characters, soft hyphens, the invisible tag letters of
# U+E0000), and these blank or invisible ones of other categories (fillers, variation
# selectors, the grapheme joiner, the blank braille pattern).
_INVISIBLE = re.compile(r"[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u2800\u3164"
                        r"\ufe00-\ufe0f\uffa0\U000e0100-\U000e01ef]")


def _invisible(text: str) -> bool:
    return _INVISIBLE.search(text) is not None or any(
        unicodedata.category(char) == "Cf" for char in text)


def without_invisible(text: str) -> str:
    """`text` without the characters a name may not hold (for names that come from elsewhere,
    an import's, where refusing would lose the comment)."""
    return "".join(char for char in _INVISIBLE.sub("", text)
                   if unicodedata.category(char) != "Cf")


class Text(ma.fields.String):
    """A string without NUL, lone surrogates or control characters; tab and newline too are
    refused in a `single_line` field (a name)."""

    default_error_messages = {
        "unstorable": "Contains characters that are not allowed.",
        "multi_line": "Must be a single line.",
        "invisible": "Contains invisible or direction-changing characters.",
    }

    def __init__(self, *, single_line: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.single_line = single_line

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if _UNSTORABLE.search(text):
            raise self.make_error("unstorable")
        if self.single_line and _LINE_BREAKS.search(text):
            raise self.make_error("multi_line")
        if self.single_line and _invisible(text):
            raise self.make_error("invisible")
        return text


class QueryInteger(ma.fields.Integer):
    """A whole number in a query string: ASCII digits only. int() also reads "٥" (an
    Arabic-Indic five), "1_0", "+5" and " 5", which no client means as a number."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not (isinstance(value, str) and value.isascii() and value.isdigit()):
            raise self.make_error("invalid", input=value)
        return super()._deserialize(value, attr, data, **kwargs)


class Language(Text):
    """The reader's language for the emails the post leads to: a BCP 47 tag such as `fr` or
    `ar-EG`, or null. Only a tag's shape is checked; one that no translation fits gets English."""

    def __init__(self, **kwargs):
        super().__init__(
            load_default=None, allow_none=True, single_line=True,
            validate=ma.validate.Regexp(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$"),
            metadata={"example": "fr", **kwargs.pop("metadata", {})}, **kwargs)


class NotBlank(Text):
    """Text with more than white space in it (a name, a title, a reason), of at most
    `max_length` characters when given; the OpenAPI document shows both bounds."""

    default_error_messages = {"blank": "Must not be blank."}

    def __init__(self, *, max_length: int | None = None, **kwargs):
        more = kwargs.pop("validate", None) or []
        kwargs["validate"] = [ma.validate.Length(min=1, max=max_length),
                              *(more if isinstance(more, list) else [more])]
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if not text.strip():
            raise self.make_error("blank")
        return text


class WebUrl(Text):
    """An http(s) URL of at most 2000 characters, stored percent-encoded: no quote, angle
    bracket, space or backtick survives, so a site that prints it in its own templates without
    escaping is still safe."""

    # RFC 3986's reserved and unreserved characters, and `%` of what is encoded already.
    KEPT = ":/?#[]@!$&()*+,;=%-._~"

    def __init__(self, **kwargs):
        kwargs.setdefault("validate", [
            ma.validate.Length(max=2000),
            ma.validate.URL(schemes={"http", "https"}, error="Must be an http or https URL."),
            _no_user_name,
        ])
        kwargs.setdefault("metadata", {"format": "uri", "pattern": "^https?://"})
        super().__init__(single_line=True, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        return quote(_ascii_host(text), safe=self.KEPT)


def _no_user_name(url: str) -> None:
    """`https://news.example@evil.example/` leads to evil.example while reading as
    news.example: no site a reader links needs a user name in its URL."""
    try:
        netloc = urlsplit(url).netloc
    except ValueError:  # a bracketed host that is none: `http://[x`, `http://x]/`
        raise ma.ValidationError("Must be an http or https URL.") from None
    if "@" in netloc:
        raise ma.ValidationError("Must be a URL without a user name (nothing before an @).")


def _ascii_host(url: str) -> str:
    """The URL with a host in another script in its ASCII form, as a browser sends it:
    `https://bücher.example/` is `https://xn--bcher-kva.example/` (an email at that domain is
    taken too). Unchanged when its host is ASCII already, or is no host (the URL check then
    refuses it)."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
        if not host or host.isascii():
            return url
        ascii_host = host.encode("idna").decode("ascii")
    except (ValueError, UnicodeError):
        return url
    userinfo, at, _ = parts.netloc.rpartition("@")
    netloc = f"{userinfo}{at}{ascii_host}" + (f":{port}" if port is not None else "")
    return urlunsplit(parts._replace(netloc=netloc))


class Email(Text):
    """An email address checked and normalised by email-validator (no DNS look-up)."""

    default_error_messages = {"invalid": "Not a valid email address."}

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {}).setdefault("format", "email")
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if len(text) > 320:
            raise self.make_error("invalid")
        try:
            return validate_email(text, check_deliverability=False).normalized
        except EmailNotValidError:
            raise self.make_error("invalid") from None


def utc_timestamp(moment: datetime) -> str:
    """A moment as every answer writes it: ISO 8601 in UTC, to the second, with `Z`."""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class Timestamp(ma.fields.DateTime):
    """ISO 8601 in UTC with `Z`; input must carry an offset."""

    def __init__(self, **kwargs):
        super().__init__(format="iso", **kwargs)

    def _serialize(self, value: datetime | None, attr, obj, **kwargs):
        return None if value is None else utc_timestamp(value)

    def _deserialize(self, value, attr, data, **kwargs):
        parsed = super()._deserialize(value, attr, data, **kwargs)
        if parsed.tzinfo is None:
            raise ma.ValidationError("Give an offset, such as Z or +01:00.")
        try:
            return parsed.astimezone(UTC)
        except OverflowError:  # year 1 at +01:00, year 9999 at -01:00: no UTC time holds it
            raise ma.ValidationError("Out of range.") from None


class RowView:
    """A row as one answer shows it: the row's attributes, and what the answer adds to them or
    shows otherwise (`active` now, a name hidden). The Out schema reads both as attributes, so
    it alone says which fields are sent, and the OpenAPI document is what is sent."""

    def __init__(self, row: Any, **shown: Any):
        self.__dict__.update(shown, _row=row)

    def __getattr__(self, name: str) -> Any:  # what `shown` does not hold
        return getattr(self.__dict__["_row"], name)


class StrictBoolean(ma.fields.Boolean):
    """JSON true or false, nothing that merely looks like one ("yes", 1)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value

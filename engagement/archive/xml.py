"""Reading an export's XML safely and in constant memory.

defusedxml's parser refuses a DTD and every entity declaration, so neither an external entity
(XXE) nor entity expansion ("billion laughs") is ever resolved. The file is read a line at a
time, which lets each record carry the line it started on, and each record is dropped from the
tree once handled, so reading's memory does not grow with the file."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import BinaryIO
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

# Namespaces by the prefix exports use for them; WXR's changes with its version (1.0-1.2).
NAMESPACE_PREFIXES = {
    "http://wordpress.org/export/": "wp",
    "http://purl.org/rss/1.0/modules/content/": "content",
    "http://wordpress.org/export/1.0/excerpt/": "excerpt",
    "http://wordpress.org/export/1.1/excerpt/": "excerpt",
    "http://wordpress.org/export/1.2/excerpt/": "excerpt",
    "http://purl.org/dc/elements/1.1/": "dc",
    "http://disqus.com/disqus-internals": "dsq",
    "http://disqus.com": "",
}


GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = b"\xef\xbb\xbf"

# The line an element began on, kept as an attribute no export uses.
LINE = "{urn:engagement}line"


def gzipped(start: bytes, extension: str) -> str | None:
    """What to say of a file that begins with `start` if it is gzip-compressed (an export
    downloaded as FILE.xml.gz or FILE.json.gz): which parser reads it, none says."""
    if not start.startswith(GZIP_MAGIC):
        return None
    return (f"the file is gzip-compressed: decompress it first (gunzip FILE.{extension}.gz) "
            f"and import the .{extension} it gives.")


class UnreadableFile(Exception):
    """The file is not well-formed XML, or declares what we refuse to read; nothing is written."""


@dataclass
class Record:
    """One element of interest, its line in the file, and its children by short name."""

    element: Element
    line: int

    def text(self, name: str, default: str = "") -> str:
        child = self.element.find(name)
        return default if child is None or child.text is None else child.text.strip()

    def raw_text(self, name: str) -> str:
        child = self.element.find(name)
        return "" if child is None or child.text is None else child.text

    def children(self, name: str) -> list[Record]:
        return [Record(child, int(child.get(LINE, self.line)))
                for child in self.element.findall(name)]

    def attribute(self, child: str, name: str) -> str:
        element = self.element.find(child)
        return "" if element is None else element.get(name, "").strip()


class _LineReader:
    """A file whose reads stop at a line's end, so that the parser's events after a read
    belong to the line just read."""

    def __init__(self, file: BinaryIO, on_read: Callable[[int], None]):
        self.file, self.on_read = file, on_read
        self.line_ends = 0
        self.line = 1  # the line the last read ended on
        self.skipped_lines = 0  # blank lines before the first `<`, which the parser never sees
        self.started = False

    def read(self, size: int) -> bytes:
        chunk = self._read(size)
        if self.started or not chunk:
            return chunk
        self.started = True
        if hint := gzipped(chunk, "xml"):
            raise UnreadableFile(hint)
        # A declaration must be the first thing the parser sees; editors and uploads leave
        # blank lines (after a byte order mark, even) before it.
        while chunk and not chunk.removeprefix(UTF8_BOM).strip(b" \t\r\n"):
            self.skipped_lines = self.line_ends
            chunk = self._read(size)
        start = chunk.removeprefix(UTF8_BOM)
        return start.lstrip(b" \t\r\n") if start[:1].isspace() else chunk

    def _read(self, size: int) -> bytes:
        chunk = self.file.readline(size)
        self.line_ends += chunk.count(b"\n")
        self.line = self.line_ends + (0 if chunk.endswith(b"\n") else 1)
        self.on_read(len(chunk))
        return chunk


@lru_cache(maxsize=512)  # an export uses a few dozen names, millions of times
def short_name(tag: str) -> str:
    """`{http://wordpress.org/export/1.2/}comment` -> `wp:comment`."""
    if not tag.startswith("{"):
        return tag
    uri, local = tag[1:].split("}", 1)
    for start, prefix in NAMESPACE_PREFIXES.items():
        if uri == start or (start.endswith("/export/") and uri.startswith(start)
                            and uri.count("/") == start.count("/") + 1):
            return f"{prefix}:{local}" if prefix else local
    return local


def records(file: BinaryIO, wanted: frozenset[str], depth: int, *, root: str, export: str,
            lined: frozenset[str],
            on_read: Callable[[int], None] = lambda _: None) -> Iterator[Record]:
    """Each element named in `wanted` (by short name) that has `depth` ancestors, once
    complete, with the line it began on; every tag is renamed to its short name. Elements at
    that depth are dropped once handled; elements named in `lined` keep their line (LINE).
    Raises UnreadableFile naming the line at fault, or the root element of a file whose root
    is not `root` (another kind of export would otherwise read as one holding nothing)."""
    reader = _LineReader(file, on_read)
    parents: list[Element] = []
    starts: list[int] = []
    try:
        for event, element in iterparse(reader, events=("start", "end"), forbid_dtd=True):
            if event == "start":
                element.tag = short_name(element.tag)
                if not parents and element.tag != root:
                    raise UnreadableFile(
                        f"not {export}: its root element is <{element.tag}> (line "
                        f"{reader.line}), where {export} has <{root}>.")
                parents.append(element)
                starts.append(reader.line)
                if element.tag in lined:
                    element.set(LINE, str(reader.line))
                continue
            parents.pop()
            line = starts.pop()
            if len(parents) == depth:
                if element.tag in wanted:
                    yield Record(element, line)
                parents[-1].remove(element)  # forget it: the tree must not grow with the file
    except DefusedXmlException as refused:
        raise UnreadableFile(
            f"refused at line {reader.line}: the file declares a DTD or entities "
            f"({type(refused).__name__}); exports never do, and this parser resolves none."
        ) from None
    except ParseError as error:
        line, column = error.position
        line += reader.skipped_lines
        reason = str(error).split(":")[0]
        raise UnreadableFile(
            f"not well-formed XML at line {line}, column {column + 1} ({reason})."
        ) from None

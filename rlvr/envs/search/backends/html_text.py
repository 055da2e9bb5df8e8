"""Web pages as the plain text an agent reads after ``<open>``.

A page's HTML is mostly chrome (menus, scripts, cookie banners); what the agent needs is the prose,
in reading order, with paragraph breaks intact so the env can cut it into chunks. This module does that
with the standard library's ``html.parser`` only, so opening a page adds no dependency and no compiled
parser to the install.

Rules, in short: the contents of ``script``/``style``/``nav``/``header``/``footer``/``noscript``/``svg``
(and a few other non-prose elements) are dropped; block elements (``p``, ``div``, headings, list items,
table rows, ...) end a line or a paragraph; list items start with ``- `` and table cells are separated
by `` | ``; ``<pre>`` keeps its line breaks and indentation; everything else has its whitespace
collapsed. Entities are decoded by the parser. The first ``<title>`` is returned separately.

Broken HTML is the norm on the web, so nothing here raises: unclosed tags, stray end tags and garbage
bytes degrade the output, never the caller.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

# Elements whose whole subtree is chrome or code, not prose.
SKIPPED_TAGS = frozenset(
    {
        "script",
        "style",
        "noscript",
        "svg",
        "math",
        "nav",
        "header",
        "footer",
        "template",
        "iframe",
        "object",
        "canvas",
        "select",
        "button",
        "head",
    }
)
# Elements that end the current line.
LINE_TAGS = frozenset({"br", "tr", "li", "dt", "dd", "option", "caption", "figcaption", "summary"})
# Elements that start and end a paragraph.
BLOCK_TAGS = frozenset(
    {
        "p",
        "div",
        "section",
        "article",
        "main",
        "aside",
        "blockquote",
        "pre",
        "address",
        "figure",
        "form",
        "fieldset",
        "details",
        "table",
        "thead",
        "tbody",
        "tfoot",
        "ul",
        "ol",
        "dl",
        "hr",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "body",
        "html",
    }
)
CELL_TAGS = frozenset({"td", "th"})
# What may stand inside ``<head>``; any other start tag implies ``</head>``.
HEAD_TAGS = frozenset({"title", "meta", "link", "style", "script", "noscript", "base", "template"})
# Void elements never get an end tag, so they must not be pushed on the skip stack.
VOID_TAGS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
)
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_MAX_TITLE = 300


@dataclass(frozen=True)
class PageText:
    """The readable parts of one page."""

    title: str
    text: str
    """Paragraphs separated by a blank line, lines by a newline."""


class _TextExtractor(HTMLParser):
    """Collects lines of text; the skip stack tolerates unclosed and mis-nested skipped elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._current: list[str] = []
        self._skip: list[str] = []
        self._pre_depth = 0
        self._title_parts: list[str] | None = None
        self._title_done = False
        self._row_has_cell = False
        self.title = ""

    # Line bookkeeping -------------------------------------------------------------------------------

    def _flush(self) -> None:
        """End the current line (a no-op when it holds nothing visible)."""
        if not self._current:
            return
        line = "".join(self._current)
        self._current = []
        line = line.rstrip() if self._pre_depth else " ".join(line.split())
        if line:
            self.lines.append(line)

    def _paragraph(self) -> None:
        """End the current line and leave one blank line (never two in a row)."""
        self._flush()
        if self.lines and self.lines[-1] != "":
            self.lines.append("")

    # Parser callbacks -------------------------------------------------------------------------------

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title" and not self._skip_except_head():
            if self._title_done:  # a second <title> is not page text either
                self._skip.append(tag)
            else:
                self._title_parts = []
            return
        if self._skip and self._skip[-1] == "head" and tag not in HEAD_TAGS:
            # ``</head>`` is optional: the first body element closes the head.
            self._skip.pop()
        if self._skip:
            if tag in SKIPPED_TAGS and tag not in VOID_TAGS:
                self._skip.append(tag)
            return
        if tag in SKIPPED_TAGS:
            self._skip.append(tag)
            return
        if tag in BLOCK_TAGS:
            self._paragraph()
            if tag == "pre":
                self._pre_depth += 1
        elif tag in LINE_TAGS:
            self._flush()
            if tag == "li":
                self._current.append("- ")
            elif tag == "tr":
                self._row_has_cell = False
        elif tag in CELL_TAGS:
            if self._row_has_cell:
                self._current.append(" | ")
            self._row_has_cell = True

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # ``<br/>`` and XHTML-style empty elements: nothing inside, so a skipped one has nothing to skip.
        if tag in SKIPPED_TAGS or tag == "title":
            return
        self.handle_starttag(tag, attrs)
        if tag not in VOID_TAGS:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self._title_parts is not None:
            self._end_title()
            return
        if self._skip:
            if tag in self._skip:
                while self._skip and self._skip.pop() != tag:
                    pass
            elif tag in ("body", "html"):
                # An unclosed <nav> or <header> must not swallow the rest of the document.
                self._skip.clear()
            return
        if tag in BLOCK_TAGS:
            if tag == "pre" and self._pre_depth:
                self._flush()
                self._pre_depth -= 1
            self._paragraph()
        elif tag in LINE_TAGS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if self._title_parts is not None:
            self._title_parts.append(data)
            return
        if self._skip or not data:
            return
        data = _INVISIBLE.sub("", data)
        if self._pre_depth:
            first, *rest = data.split("\n")
            self._current.append(first)
            for part in rest:
                self._flush()
                self._current.append(part)
            return
        self._current.append(_collapse(data))

    def _skip_except_head(self) -> bool:
        """Whether a skipped element other than ``<head>`` is open (an svg's title is not the page's)."""
        return any(tag != "head" for tag in self._skip)

    def _end_title(self) -> None:
        parts, self._title_parts = self._title_parts or [], None
        self.title = " ".join(_INVISIBLE.sub("", "".join(parts)).split())[:_MAX_TITLE]
        self._title_done = bool(self.title)

    def finish(self) -> PageText:
        if self._title_parts is not None:  # an unclosed <title>
            self._end_title()
        self._pre_depth = 0
        self._flush()
        while self.lines and self.lines[-1] == "":
            self.lines.pop()
        return PageText(title=self.title, text="\n".join(self.lines))


def _collapse(data: str) -> str:
    """Whitespace runs become one space, keeping a leading/trailing space so ``a<b>b</b>`` stays ``ab``
    while ``a <b>b</b>`` stays ``a b``."""
    inner = " ".join(data.split())
    if not inner:
        return " "
    lead = " " if data[:1].isspace() else ""
    trail = " " if data[-1:].isspace() else ""
    return f"{lead}{inner}{trail}"


def html_to_text(html: str | bytes) -> PageText:
    """The title and readable text of an HTML document; never raises (garbage in, less text out)."""
    if isinstance(html, bytes):
        html = html.decode("utf-8", errors="replace")
    parser = _TextExtractor()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # html.parser has raised on odd markup in some Python versions; keep what we have
        pass
    try:
        return parser.finish()
    except Exception:
        return PageText(title="", text="")


def strip_tags(fragment: str) -> str:
    """One line of text from an HTML fragment (search snippets with ``<strong>`` highlights, entities)."""
    if "<" not in fragment and "&" not in fragment:
        return " ".join(fragment.split())
    return " ".join(html_to_text(fragment).text.split())


__all__ = ["PageText", "html_to_text", "strip_tags"]

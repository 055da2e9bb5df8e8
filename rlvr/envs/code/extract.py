"""Finding the program in a model's reply: the last fenced Markdown code block wins.

A block opens with a line of three or more backticks (or tildes), optionally followed by an info
string such as ``python`` (which is ignored: the env decides the language), and closes with a line
of at least as many of the same character and nothing else. Fences may be indented (models indent
them inside lists); that indentation is removed from the code lines. A block that is never closed
does not count, so a reply cut off mid-program is reported as such instead of being judged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_OPENING = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_CLOSING = re.compile(r"^[ \t]*(?P<fence>`{3,}|~{3,})[ \t]*$")


@dataclass(frozen=True)
class CodeBlock:
    info: str
    """The text after the opening fence (usually a language name), stripped."""
    code: str


@dataclass(frozen=True)
class Extraction:
    """The outcome of looking for the program: ``code`` or, when there is none, why not."""

    code: str | None
    problem: str | None = None
    blocks: int = 0


def _dedent(line: str, indent: str) -> str:
    return line[len(indent) :] if line.startswith(indent) else line.lstrip(" \t")


def fenced_blocks(text: str) -> tuple[list[CodeBlock], bool]:
    """Every closed fenced block in order, and whether the text ends inside an unclosed block."""
    blocks: list[CodeBlock] = []
    lines = text.replace("\r\n", "\n").split("\n")
    index = 0
    while index < len(lines):
        opening = _OPENING.match(lines[index])
        if opening is None or (opening["fence"][0] == "`" and "`" in opening["info"]):
            index += 1
            continue
        fence, indent = opening["fence"], opening["indent"]
        body: list[str] = []
        index += 1
        while index < len(lines):
            closing = _CLOSING.match(lines[index])
            if (
                closing is not None
                and closing["fence"][0] == fence[0]
                and len(closing["fence"]) >= len(fence)
            ):
                break
            body.append(_dedent(lines[index], indent))
            index += 1
        else:
            return blocks, True
        blocks.append(CodeBlock(opening["info"].strip(), "\n".join(body)))
        index += 1
    return blocks, False


def extract_program(text: str) -> Extraction:
    """The last closed fenced block's code, or ``None`` with the reason it cannot be judged."""
    blocks, unclosed = fenced_blocks(text)
    if not blocks:
        if unclosed:
            return Extraction(None, "Your reply opens a code block (```) but never closes it.")
        return Extraction(None, "Your reply contains no fenced code block (```).")
    code = blocks[-1].code
    if not code.strip():
        return Extraction(None, "The last code block in your reply is empty.", len(blocks))
    return Extraction(code.rstrip() + "\n", None, len(blocks))

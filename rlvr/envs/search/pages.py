"""Cutting a page into parts an agent can read one at a time (ASearcher's chunked page access).

Parts break at paragraph boundaries when they can, then at sentence ends, then at spaces, so a part
rarely starts mid-sentence; a single word longer than a part is cut where it must be.
"""

from __future__ import annotations

import re

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def _pieces(text: str, limit: int) -> list[tuple[str, bool]]:
    """(piece, starts a paragraph): paragraphs, any longer than ``limit`` split into sentences, then words."""
    pieces: list[tuple[str, bool]] = []
    for paragraph in re.split(r"\n\s*\n", text):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        first = True
        for sentence in [paragraph] if len(paragraph) <= limit else _SENTENCE_END.split(paragraph):
            while len(sentence) > limit:
                cut = sentence.rfind(" ", 0, limit)
                cut = cut if cut > 0 else limit
                pieces.append((sentence[:cut], first))
                sentence, first = sentence[cut:].lstrip(), False
            if sentence:
                pieces.append((sentence, first))
                first = False
    return pieces


def chunk_text(text: str, limit: int) -> list[str]:
    """``text`` in parts of at most ``limit`` characters; an empty page is one empty part."""
    if limit < 1:
        raise ValueError("limit must be positive")
    parts: list[str] = []
    current = ""
    for piece, new_paragraph in _pieces(text, limit):
        joined = f"{current}{chr(10) * 2 if new_paragraph else ' '}{piece}" if current else piece
        if len(joined) <= limit:
            current = joined
        else:
            parts.append(current)
            current = piece
    if current or not parts:
        parts.append(current)
    return parts

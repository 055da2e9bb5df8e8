"""Corpus files: JSONL, one document a line, read and written the same way by every indexer.

Two shapes are in the wild and both are read: ours, ``{"id", "title", "contents", "url"?}``, and the
Search-R1 / FlashRAG one, ``{"id", "contents"}`` whose contents open with the title in double quotes
on a line of its own (``"Aaron"\\nAaron is a prophet ...``). Reading both into one ``Document`` shape
means an index built from either serves the same results, with the title in its own field. Files
ending in ``.gz`` are (de)compressed on the fly, since the public corpora ship that way.

Bad input fails loudly with the line number: a corpus with a broken line in the middle of 21 M
passages is better stopped than silently indexed with a hole.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from rlvr.envs.search.backends.base import Document

_KNOWN_FIELDS = frozenset({"id", "title", "contents", "url"})


def split_quoted_title(contents: str) -> tuple[str, str]:
    """``('Title', 'text')`` for FlashRAG-style contents ``"Title"\\ntext``; ``('', contents)`` otherwise.

    Only a *quoted* first line counts as a title: an unquoted one is as likely the first sentence of a
    title-less passage, and chopping it off would lose text.
    """
    head, sep, rest = contents.partition("\n")
    head = head.strip()
    if sep and len(head) >= 2 and head[0] == head[-1] == '"':
        return head[1:-1].strip(), rest
    return "", contents


def document_from_record(record: Mapping[str, Any]) -> Document:
    """A ``Document`` from one corpus record (either shape); ``ValueError`` says what is missing.

    Fields other than id/title/contents/url are kept in ``Document.extra`` so nothing the corpus
    carries (dates, sources) is lost on the way to an index that can store it.
    """
    if not isinstance(record, Mapping):
        raise ValueError(f"expected a JSON object, got {type(record).__name__}")
    missing = [name for name in ("id", "contents") if record.get(name) is None]
    if missing:
        raise ValueError(f"missing {' and '.join(repr(name) for name in missing)}")
    doc_id = record["id"]
    if not isinstance(doc_id, (str, int)) or isinstance(doc_id, bool):
        raise ValueError(f"'id' must be a string or an integer, got {type(doc_id).__name__}")
    contents = record["contents"]
    if not isinstance(contents, str):
        raise ValueError(f"'contents' must be a string, got {type(contents).__name__}")
    title = record.get("title")
    if title is None:
        title, contents = split_quoted_title(contents)
    elif not isinstance(title, str):
        raise ValueError(f"'title' must be a string, got {type(title).__name__}")
    url = record.get("url")
    if url is not None and not isinstance(url, str):
        raise ValueError(f"'url' must be a string, got {type(url).__name__}")
    extra = {key: value for key, value in record.items() if key not in _KNOWN_FIELDS}
    return Document(id=str(doc_id), title=title, contents=contents, url=url, extra=extra)


def document_record(doc: Document) -> dict[str, Any]:
    """The corpus line for ``doc``: our shape, without the score (a ranking is not part of a corpus)."""
    record: dict[str, Any] = {"id": doc.id, "title": doc.title, "contents": doc.contents}
    if doc.url is not None:
        record["url"] = doc.url
    return record


def _open_text(path: Path, mode: str, *, compressed: bool | None = None) -> IO[str]:
    if (path.suffix == ".gz") if compressed is None else compressed:
        return gzip.open(path, mode + "t", encoding="utf-8")  # type: ignore[return-value]
    return open(path, mode, encoding="utf-8")


def read_corpus(path: str | os.PathLike[str]) -> Iterator[Document]:
    """The documents of a JSONL corpus file, lazily, in file order; blank lines are skipped.

    ``ValueError`` names the file and line of the first malformed JSON or incomplete record.
    """
    path = Path(path)
    with _open_text(path, "r") as lines:
        for line_no, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(
                    f"{path}:{line_no}: malformed JSON ({exc.msg} at column {exc.colno})"
                ) from None
            try:
                doc = document_from_record(record)
            except ValueError as exc:
                raise ValueError(f"{path}:{line_no}: {exc}") from None
            yield doc


def write_corpus(docs: Iterable[Document], path: str | os.PathLike[str]) -> int:
    """Write ``docs`` as a JSONL corpus (our shape) and return how many were written.

    The file appears whole or not at all (written beside it, then renamed), so an interrupted export
    never leaves a truncated corpus that a later ``read_corpus`` would accept.
    """
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    count = 0
    try:
        with _open_text(partial, "w", compressed=path.suffix == ".gz") as out:
            for doc in docs:
                out.write(json.dumps(document_record(doc), ensure_ascii=False))
                out.write("\n")
                count += 1
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return count


@contextlib.contextmanager
def corpus_progress(
    description: str, total: int | None, *, enabled: bool = True
) -> Iterator[Callable[[int], None]]:
    """A rich progress bar for indexing, yielding ``advance(n_docs)``; a no-op when not ``enabled``.

    Indexing a real corpus takes minutes to hours, so the bar shows the rate and time left; it goes to
    stderr so that a script printing results on stdout stays pipeable. ``total=None`` (a corpus read
    lazily from a file) gives a count without an end.
    """
    if not enabled:
        yield lambda n: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        Task,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class _DocsPerSecond(ProgressColumn):
        def render(self, task: Task) -> Text:
            return Text(
                "" if task.speed is None else f"{task.speed:,.0f} docs/s", style="progress.data.speed"
            )

    progress = Progress(
        TextColumn(f"[bold]{description}"), BarColumn(), MofNCompleteColumn(), _DocsPerSecond(),
        TimeElapsedColumn(), TimeRemainingColumn(), console=Console(stderr=True),
    )  # fmt: skip
    task = progress.add_task(description, total=total)
    with progress:
        yield lambda n: progress.advance(task, n)


__all__ = [
    "corpus_progress",
    "document_from_record",
    "document_record",
    "read_corpus",
    "split_quoted_title",
    "write_corpus",
]

"""The one interface every search engine speaks: the local index, an HTTP retriever, web APIs, Elasticsearch.

The env needs two things from an engine: the top-k documents for a query (``search``) and the full
text behind a document id or URL (``fetch``), which the env cuts into chunks for ``<open>``. Everything
else (ranking model, storage, transport) is the backend's business, so swapping a BM25 index for a web
API is a config change, not a code change.

Failures of the *engine* (dead endpoint, bad credentials, missing index) raise ``SearchError``; the env
turns them into a message to the agent, never a crash of the rollout.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


class SearchError(RuntimeError):
    """The search engine failed (unreachable, refused, malformed reply); the message says which and why."""


@dataclass(frozen=True)
class Document:
    """One search result or one page."""

    id: str
    """Stable id: the corpus id for local corpora, the URL for web results."""
    title: str
    contents: str
    """The text without the title (for web results: the snippet; for fetched pages: the page text)."""
    url: str | None = None
    score: float | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)
    """Backend-specific fields kept for analysis (engine name, publication date, ...)."""

    def to_json(self) -> dict[str, Any]:
        """The corpus JSONL shape ``{id, title, contents, url}`` (plus score when set)."""
        record: dict[str, Any] = {"id": self.id, "title": self.title, "contents": self.contents}
        if self.url is not None:
            record["url"] = self.url
        if self.score is not None:
            record["score"] = self.score
        return record


class SearchBackend(abc.ABC):
    """A search engine the env can query. Backends are used from one thread at a time unless they say so."""

    name: str = "search"

    @abc.abstractmethod
    def search(self, query: str, k: int = 3) -> list[Document]:
        """The top ``k`` documents for ``query``, best first (fewer when the engine has fewer)."""

    def search_batch(self, queries: Sequence[str], k: int = 3) -> list[list[Document]]:
        """Several queries at once; engines with a batch endpoint override this to save round trips."""
        return [self.search(query, k) for query in queries]

    def fetch(self, ref: str) -> Document | None:
        """The full document behind an id or URL, or ``None`` when the engine does not know it.

        The default knows nothing: engines that only rank snippets cannot open pages.
        """
        return None

    def close(self) -> None:  # noqa: B027 - optional hook; most backends hold nothing to release
        """Release connections, files and threads. Idempotent."""

    def __enter__(self) -> SearchBackend:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

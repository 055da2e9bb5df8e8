"""A client for the Search-R1 retriever HTTP API, so existing dense-retrieval servers plug in.

Search-R1's ``retrieval_server.py`` (e5 + FAISS over Wikipedia), its forks, ASearcher's servers and our
own ``rlvr serve-retriever`` all answer ``POST /retrieve``; ASearcher's also answer ``POST /access``
for full pages. The wire format is documented in ``rlvr.envs.search.retriever_server``. Queries from
many envs can share one connection pool; ``search_batch`` sends them in one request, as Search-R1's
trainer does.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import httpx

from rlvr.envs.search.backends.base import Document, SearchBackend, SearchError
from rlvr.envs.search.corpus import split_quoted_title

_RETRYABLE = {429, 502, 503, 504}


def parse_searchr1_document(record: dict[str, Any], score: float | None = None) -> Document:
    """A ``Document`` from a Search-R1 result record (title on the first line of ``contents``)."""
    contents = str(record.get("contents", record.get("text", "")))
    title = record.get("title")
    quoted_title, text = split_quoted_title(contents)
    if title is None or quoted_title == title:
        # Our server sends both the title and Search-R1's quoted first line; show the title once.
        title, contents = quoted_title, text
    return Document(
        id=str(record.get("id", record.get("doc_id", ""))),
        title=str(title),
        contents=contents,
        url=record.get("url"),
        score=None if score is None else float(score),
    )


def parse_retrieve_reply(payload: Any, expected: int) -> list[list[Document]]:
    """The documents in a ``/retrieve`` reply; ``SearchError`` when it is not that shape."""
    result = payload.get("result") if isinstance(payload, dict) else None
    if not isinstance(result, list) or len(result) != expected:
        raise SearchError(f"the retriever's reply has no 'result' list of {expected} entries")
    batches: list[list[Document]] = []
    for entries in result:
        if not isinstance(entries, list):
            raise SearchError("each entry of the retriever's 'result' must be a list")
        documents: list[Document] = []
        for entry in entries:
            if not isinstance(entry, dict):
                raise SearchError("a retriever result must be a JSON object")
            if isinstance(entry.get("document"), dict):
                documents.append(parse_searchr1_document(entry["document"], entry.get("score")))
            else:
                documents.append(parse_searchr1_document(entry, entry.get("score")))
        batches.append(documents)
    return batches


class RetrieverClient(SearchBackend):
    """``make_backend({"type": "retriever", "url": "http://127.0.0.1:8000"})``.

    Arguments
        url: the server's base URL (``/retrieve`` is appended); a URL ending in ``/retrieve`` works too.
        timeout_s: per request.
        retries: extra attempts after a connection error, timeout or 429/5xx, with exponential backoff.
        backoff_s: the first backoff.
    """

    name = "retriever"

    def __init__(
        self,
        url: str = "http://127.0.0.1:8000",
        *,
        timeout_s: float = 30.0,
        retries: int = 2,
        backoff_s: float = 0.5,
    ) -> None:
        self.url = url.rstrip("/").removesuffix("/retrieve")
        self.retries, self.backoff_s = retries, backoff_s
        self._client = httpx.Client(timeout=timeout_s)
        self._access_supported = True

    def _post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        error: Exception | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff_s * 2 ** (attempt - 1))
            try:
                response = self._client.post(f"{self.url}{path}", json=body)
            except httpx.TransportError as exc:
                error = exc
                continue
            if response.status_code in _RETRYABLE:
                error = SearchError(f"{response.status_code} {response.text[:200]}")
                continue
            return response
        raise SearchError(f"the retriever at {self.url}{path} did not answer: {error}") from error

    def search_batch(self, queries: Sequence[str], k: int = 3) -> list[list[Document]]:
        if not queries:
            return []
        response = self._post("/retrieve", {"queries": list(queries), "topk": k, "return_scores": True})
        if response.status_code != 200:
            raise SearchError(
                f"the retriever at {self.url} answered {response.status_code}: {response.text[:300]}"
            )
        try:
            payload = response.json()
        except ValueError:
            raise SearchError(f"the retriever at {self.url} did not answer JSON") from None
        return parse_retrieve_reply(payload, len(queries))

    def search(self, query: str, k: int = 3) -> list[Document]:
        return self.search_batch([query], k)[0]

    def fetch(self, ref: str) -> Document | None:
        """A page through ASearcher's ``/access``; ``None`` when the server has no such endpoint."""
        if not self._access_supported:
            return None
        response = self._post("/access", {"urls": [ref]})
        if response.status_code in (404, 405):
            self._access_supported = False
            return None
        if response.status_code != 200:
            raise SearchError(
                f"the retriever at {self.url} answered {response.status_code}: {response.text[:300]}"
            )
        try:
            result = response.json()["result"][0]
        except (ValueError, KeyError, IndexError, TypeError):
            raise SearchError(f"the retriever at {self.url} sent a malformed /access reply") from None
        if result is None:
            return None
        if isinstance(result, str):
            return Document(id=ref, title="", contents=result, url=ref)
        if not isinstance(result, dict):
            raise SearchError(f"the retriever at {self.url} sent a malformed /access page")
        page = parse_searchr1_document(result)
        return Document(
            id=page.id or ref, title=page.title, contents=page.contents, url=result.get("url", ref)
        )

    def close(self) -> None:
        self._client.close()

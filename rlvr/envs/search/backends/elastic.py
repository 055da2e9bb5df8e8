"""Elasticsearch and OpenSearch as the search engine, over their REST API with plain httpx.

Why not elasticsearch-py: its major versions are tied to the server's (8.x refuses OpenSearch and
9.x servers answer 7.x clients with compatibility headers), while the handful of endpoints used here
(``_search``, ``_msearch``, ``_bulk``, ``_doc``, ``_count``) have kept one JSON shape since
Elasticsearch 7 and OpenSearch 1. One small client therefore serves every cluster a lab is likely to
have, with no extra dependency.

Ranking is the engine's BM25 over a ``multi_match`` of ``fields`` (title boosted by default). The
index holds ``{title, contents, url}``; :meth:`ElasticsearchBackend.index_corpus` creates it from a
corpus file. An existing index whose documents are FlashRAG-shaped (``contents`` opening with the
quoted title) is read the same way as the corpus files.

The request builders and reply parsers are module functions, so their shapes are tested without a
server; every failure of the cluster (unreachable, 401, missing index, a reply that is not the
expected JSON) surfaces as :class:`SearchError` whose message says what to fix.
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import httpx

from rlvr.envs.search.backends.base import Document, SearchBackend, SearchError
from rlvr.envs.search.corpus import corpus_progress, document_from_record, read_corpus

FLAVORS = ("elasticsearch", "opensearch")

INDEX_BODY: dict[str, Any] = {
    "mappings": {
        "properties": {
            "title": {"type": "text"},
            "contents": {"type": "text"},
            "url": {"type": "keyword"},
        }
    }
}
"""The index ``index_corpus`` creates: both text fields analysed for BM25; URLs kept verbatim."""

_SOURCE_FIELDS = ["title", "contents", "url"]
_NDJSON = {"Content-Type": "application/x-ndjson"}
_BULK_RETRIES = 4
"""How many times documents the cluster rejected as overloaded (HTTP 429) are sent again."""


# ---------------------------------------------------------------- request bodies


def search_body(query: str, k: int, fields: Sequence[str]) -> dict[str, Any]:
    """The ``_search`` body: BM25 over ``fields``, top ``k``, only the fields a Document needs.

    Total hit counting is off: nobody reads it, and exact totals cost the engine its early exit.
    """
    return {
        "size": k,
        "query": {"multi_match": {"query": query, "fields": list(fields), "type": "best_fields"}},
        "_source": _SOURCE_FIELDS,
        "track_total_hits": False,
    }


def msearch_body(index: str, queries: Sequence[str], k: int, fields: Sequence[str]) -> str:
    """The ``_msearch`` NDJSON: a header line naming the index, then the search body, per query."""
    header = json.dumps({"index": index})
    lines: list[str] = []
    for query in queries:
        lines += [header, json.dumps(search_body(query, k, fields), ensure_ascii=False)]
    return "\n".join(lines) + "\n"


def bulk_body(docs: Sequence[Document]) -> str:
    """The ``_bulk`` NDJSON that indexes ``docs`` under their ids (re-indexing an id replaces it)."""
    lines: list[str] = []
    for doc in docs:
        source: dict[str, Any] = {"title": doc.title, "contents": doc.contents}
        if doc.url is not None:
            source["url"] = doc.url
        lines += [json.dumps({"index": {"_id": doc.id}}), json.dumps(source, ensure_ascii=False)]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- reply parsing


def error_reason(body: Any) -> str:
    """``type: reason`` from an Elasticsearch/OpenSearch error body, or the body itself, shortened.

    Both engines answer ``{"error": {"type", "reason", "root_cause": [...]}, "status"}``; the root
    cause is the informative part (the top-level type is often a generic wrapper).
    """
    if isinstance(body, Mapping):
        error = body.get("error", body)
        if isinstance(error, Mapping):
            causes = error.get("root_cause")
            cause = (
                causes[0] if isinstance(causes, list) and causes and isinstance(causes[0], Mapping) else error
            )
            kind, reason = cause.get("type"), cause.get("reason")
            if kind or reason:
                return ": ".join(str(part) for part in (kind, reason) if part)
        elif isinstance(error, str):
            return error[:300]
        return json.dumps(body)[:300]
    return str(body).strip()[:300] or "(empty body)"


def error_type(body: Any) -> str | None:
    """The top-level error type (``index_not_found_exception``, ...) when the body has one."""
    if isinstance(body, Mapping) and isinstance(body.get("error"), Mapping):
        kind = body["error"].get("type")
        return kind if isinstance(kind, str) else None
    return None


def parse_hits(reply: Any, *, engine: str = "elasticsearch") -> list[Document]:
    """The documents of one ``_search`` reply (or one ``_msearch`` response), best first."""
    try:
        hits = reply["hits"]["hits"]
        if not isinstance(hits, list):
            raise TypeError("hits.hits is not a list")
        return [_hit_document(hit, engine) for hit in hits]
    except (KeyError, TypeError, ValueError) as exc:
        raise SearchError(f"malformed {engine} search reply ({exc}): {json.dumps(reply)[:300]}") from None


def _hit_document(hit: Mapping[str, Any], engine: str) -> Document:
    source = dict(hit.get("_source") or {})
    source["id"] = hit["_id"]
    doc = document_from_record(source)
    score = hit.get("_score")
    extra = {"engine": engine, "index": hit.get("_index")}
    return Document(doc.id, doc.title, doc.contents, doc.url, None if score is None else float(score), extra)


def parse_msearch(reply: Any, n_queries: int, *, engine: str = "elasticsearch") -> list[list[Document]]:
    """One result list per query from an ``_msearch`` reply.

    ``_msearch`` answers HTTP 200 even when some searches failed; a failed one carries its own
    ``error``, which is raised here instead of passing for "no results".
    """
    responses = reply.get("responses") if isinstance(reply, Mapping) else None
    if not isinstance(responses, list) or len(responses) != n_queries:
        got = len(responses) if isinstance(responses, list) else "no"
        raise SearchError(
            f"malformed {engine} _msearch reply: {got} responses for {n_queries} queries: "
            f"{json.dumps(reply)[:300]}"
        )
    results = []
    for position, response in enumerate(responses):
        if isinstance(response, Mapping) and "error" in response:
            status = response.get("status", "?")
            raise SearchError(
                f"{engine} failed query {position + 1} of {n_queries} "
                f"(HTTP {status}): {error_reason(response)}"
            )
        results.append(parse_hits(response, engine=engine))
    return results


def bulk_failures(reply: Any) -> list[tuple[str, int, str]]:
    """``(doc id, status, reason)`` for every document a ``_bulk`` reply did not index.

    Like ``_msearch``, ``_bulk`` is HTTP 200 with per-item errors; ``errors: false`` is the fast path.
    """
    if not isinstance(reply, Mapping) or not isinstance(reply.get("items"), list):
        raise SearchError(f"malformed _bulk reply: {json.dumps(reply)[:300]}")
    if reply.get("errors") is False:
        return []
    failures = []
    for item in reply["items"]:
        # Each item is {action: result}, the action being "index" here.
        result = next(iter(item.values()), None) if isinstance(item, Mapping) and len(item) == 1 else None
        if not isinstance(result, Mapping):
            raise SearchError(f"malformed _bulk item: {json.dumps(item)[:300]}")
        if "error" in result:
            failures.append((str(result.get("_id")), int(result.get("status", 0)), error_reason(result)))
    return failures


# ---------------------------------------------------------------- the client


def _redact(url: str) -> str:
    """``url`` without user:password, for messages and reprs."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def _api_key_header(api_key: str | tuple[str, str]) -> str:
    """``ApiKey <base64>``; an ``(id, key)`` pair is encoded the way the engine's API returns it."""
    if isinstance(api_key, tuple):
        api_key = base64.b64encode(f"{api_key[0]}:{api_key[1]}".encode()).decode()
    return f"ApiKey {api_key}"


class ElasticsearchBackend(SearchBackend):
    """BM25 search over an Elasticsearch (7, 8, 9) or OpenSearch (1, 2, 3) index.

    ``url`` is the cluster's HTTP endpoint; credentials in it (``https://user:pw@host:9200``) are used
    as ``username``/``password`` and never shown in messages. ``api_key`` is Elasticsearch's
    (base64 ``id:key`` string or an ``(id, key)`` pair). ``verify`` is passed to httpx: ``False`` for
    a dev cluster's self-signed certificate, or a CA bundle path. ``transport`` replaces the HTTP
    transport (tests use ``httpx.MockTransport``).

    Nothing is sent until the first call, so building the env does not need the cluster up.
    """

    def __init__(
        self,
        url: str,
        index: str,
        *,
        flavor: str = "elasticsearch",
        api_key: str | tuple[str, str] | None = None,
        username: str | None = None,
        password: str | None = None,
        verify: bool | str = True,
        timeout_s: float = 10,
        fields: Sequence[str] = ("title^2", "contents"),
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if flavor not in FLAVORS:
            raise ValueError(f"flavor must be one of {', '.join(FLAVORS)}, got {flavor!r}")
        if not index or index.startswith(("_", "-", "+")) or index != index.lower():
            raise ValueError(f"invalid index name {index!r}: lowercase, not starting with _, - or +")
        if not fields:
            raise ValueError("fields must name at least one field to search")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"url must be http(s)://host[:port], got {_redact(url)!r}")
        if parts.username is not None and username is None:
            username, password = parts.username, parts.password or ""
        self.name = flavor
        self.flavor = flavor
        self.url = _redact(url).rstrip("/")
        self.index = index
        self.fields = tuple(fields)
        self.timeout_s = timeout_s
        headers = {"Accept": "application/json"}
        if api_key is not None:
            headers["Authorization"] = _api_key_header(api_key)
        auth = httpx.BasicAuth(username, password or "") if username is not None else None
        self._client = httpx.Client(
            base_url=self.url,
            headers=headers,
            auth=auth,
            verify=verify,
            timeout=timeout_s,
            transport=transport,
        )
        self._path = "/" + quote(index, safe="")

    def __repr__(self) -> str:
        return f"ElasticsearchBackend({self.url!r}, {self.index!r}, flavor={self.flavor!r})"

    # ------------------------------------------------------------ transport

    def _request(
        self, method: str, path: str, *, ok: tuple[int, ...] = (200,), **kwargs: Any
    ) -> tuple[int, Any]:
        """``(status, parsed JSON)``; any transport failure or status outside ``ok`` is a SearchError."""
        where = f"{self.flavor} at {self.url}"
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.TimeoutException:
            raise SearchError(f"{where} did not answer {method} {path} within {self.timeout_s} s") from None
        except httpx.ConnectError as exc:
            raise SearchError(
                f"cannot connect to {where}: {exc or type(exc).__name__}; is it running?"
            ) from None
        except httpx.HTTPError as exc:
            raise SearchError(f"{method} {path} to {where} failed: {exc or type(exc).__name__}") from None
        except RuntimeError as exc:  # httpx: "Cannot send a request, as the client has been closed."
            raise SearchError(f"{where}: {exc}") from None
        text = response.text
        try:
            body = json.loads(text) if text.strip() else None
        except ValueError:
            body = text
        status = response.status_code
        if status in ok:
            if method != "HEAD" and not isinstance(body, (dict, list)):
                raise SearchError(
                    f"malformed reply from {where} to {method} {path} (HTTP {status}, not JSON): "
                    f"{text.strip()[:200]!r}; is this the engine's HTTP port?"
                )
            return status, body
        raise SearchError(self._describe_failure(method, path, status, body))

    def _describe_failure(self, method: str, path: str, status: int, body: Any) -> str:
        where = f"{self.flavor} at {self.url}"
        reason = error_reason(body)
        if status == 401:
            return (
                f"{where} refused the credentials (HTTP 401: {reason}); pass api_key=... or "
                "username=/password= (or put them in the url)"
            )
        if status == 403:
            return f"{where} denied {method} {path} (HTTP 403: {reason}); the user lacks that privilege"
        if status == 404 and error_type(body) == "index_not_found_exception":
            return (
                f"index {self.index!r} does not exist on {where}; create it with "
                f"ElasticsearchBackend(...).index_corpus(corpus)"
            )
        if status == 413:
            return f"{where} rejected a request as too large (HTTP 413); use a smaller batch_size"
        return f"{method} {path} to {where} failed (HTTP {status}): {reason}"

    # ------------------------------------------------------------ SearchBackend

    def search(self, query: str, k: int = 3) -> list[Document]:
        if k <= 0:
            return []
        _, reply = self._request("POST", f"{self._path}/_search", json=search_body(query, k, self.fields))
        return parse_hits(reply, engine=self.flavor)

    def search_batch(self, queries: Sequence[str], k: int = 3) -> list[list[Document]]:
        """All ``queries`` in one ``_msearch`` round trip."""
        if not queries or k <= 0:
            return [[] for _ in queries]
        body = msearch_body(self.index, queries, k, self.fields)
        _, reply = self._request("POST", "/_msearch", content=body.encode(), headers=_NDJSON)
        return parse_msearch(reply, len(queries), engine=self.flavor)

    def fetch(self, ref: str) -> Document | None:
        """The stored document with id ``ref``; ``None`` when the index has no such id."""
        status, reply = self._request("GET", f"{self._path}/_doc/{quote(ref, safe='')}", ok=(200, 404))
        if status == 404:
            if isinstance(reply, Mapping) and reply.get("found") is False:
                return None
            raise SearchError(self._describe_failure("GET", f"{self._path}/_doc/...", status, reply))
        if not isinstance(reply, Mapping) or not reply.get("found"):
            return None
        try:
            doc = _hit_document(reply, self.flavor)
        except (KeyError, TypeError, ValueError) as exc:
            raise SearchError(
                f"malformed {self.flavor} _doc reply ({exc}): {json.dumps(reply)[:300]}"
            ) from None
        return Document(doc.id, doc.title, doc.contents, doc.url, None, doc.extra)

    def close(self) -> None:
        self._client.close()

    # ------------------------------------------------------------ administration

    def info(self) -> dict[str, Any]:
        """The cluster's ``GET /`` banner (name, version, distribution): a cheap liveness check."""
        _, reply = self._request("GET", "/")
        return reply

    def count(self) -> int:
        """How many documents the index holds (as of its last refresh)."""
        _, reply = self._request("GET", f"{self._path}/_count")
        try:
            return int(reply["count"])
        except (KeyError, TypeError, ValueError):
            raise SearchError(f"malformed _count reply: {json.dumps(reply)[:300]}") from None

    def exists(self) -> bool:
        """Whether the index exists."""
        status, _ = self._request("HEAD", self._path, ok=(200, 404))
        return status == 200

    def create_index(self, body: Mapping[str, Any] | None = None) -> bool:
        """Create the index with :data:`INDEX_BODY` (or ``body``); ``False`` when it already exists."""
        status, reply = self._request("PUT", self._path, json=dict(body or INDEX_BODY), ok=(200, 400))
        if status == 200:
            return True
        if error_type(reply) == "resource_already_exists_exception":
            return False
        raise SearchError(self._describe_failure("PUT", self._path, status, reply))

    def delete_index(self) -> bool:
        """Delete the index and everything in it; ``False`` when there was none."""
        status, _ = self._request("DELETE", self._path, ok=(200, 404))
        return status == 200

    def refresh(self) -> None:
        """Make everything indexed so far visible to search."""
        self._request("POST", f"{self._path}/_refresh")

    def index_corpus(
        self,
        docs: Iterable[Document] | str | os.PathLike[str],
        *,
        batch_size: int = 500,
        progress: bool = True,
    ) -> int:
        """Index ``docs`` (or a JSONL corpus file) into the index, creating it if needed; returns the count.

        Documents go in ``_bulk`` batches of ``batch_size``; ones the cluster rejects as overloaded
        (429) are retried with backoff, any other rejection is a SearchError listing the first few.
        The index is refreshed at the end so the documents are searchable on return.
        """
        if batch_size <= 0:
            raise ValueError("batch_size must be positive")
        if isinstance(docs, (str, os.PathLike)):
            docs = read_corpus(docs)
        total = len(docs) if isinstance(docs, Sequence) else None
        self.create_index()
        indexed = 0
        with corpus_progress(f"indexing into {self.flavor} {self.index}", total, enabled=progress) as advance:
            for batch in _batches(docs, batch_size):
                self._bulk(batch)
                indexed += len(batch)
                advance(len(batch))
        self.refresh()
        return indexed

    def _bulk(self, batch: list[Document]) -> None:
        pending = batch
        for attempt in range(_BULK_RETRIES + 1):
            status, reply = self._request(
                "POST",
                f"{self._path}/_bulk",
                content=bulk_body(pending).encode(),
                headers=_NDJSON,
                ok=(200, 429),
            )
            failures = [] if status == 429 else bulk_failures(reply)
            fatal = [failure for failure in failures if failure[1] != 429]
            if fatal:
                shown = "; ".join(
                    f"id {doc_id!r} (HTTP {code}): {reason}" for doc_id, code, reason in fatal[:3]
                )
                raise SearchError(f"{self.flavor} rejected {len(fatal)} of {len(pending)} documents: {shown}")
            if status == 429:
                retry_ids = {doc.id for doc in pending}
            else:
                retry_ids = {doc_id for doc_id, _, _ in failures}
            if not retry_ids:
                return
            pending = [doc for doc in pending if doc.id in retry_ids]
            if attempt < _BULK_RETRIES:
                time.sleep(0.5 * 2**attempt)
        raise SearchError(
            f"{self.flavor} at {self.url} stayed overloaded (HTTP 429) for {len(pending)} documents "
            f"after {_BULK_RETRIES} retries; use a smaller batch_size or a bigger cluster"
        )


def _batches(docs: Iterable[Document], size: int) -> Iterator[list[Document]]:
    batch: list[Document] = []
    for doc in docs:
        batch.append(doc)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


__all__ = [
    "FLAVORS",
    "INDEX_BODY",
    "ElasticsearchBackend",
    "bulk_body",
    "bulk_failures",
    "error_reason",
    "msearch_body",
    "parse_hits",
    "parse_msearch",
    "search_body",
]

"""``WebSearch``: live web search (SearxNG, Tavily, Brave, Serper) and page fetching over ``httpx``.

The env only needs ``search`` (snippets) and ``fetch`` (a page as text); the providers differ only in
how a query is sent and where the hits sit in the reply. So each provider is a ``Provider`` record: a
request builder ``(query, k, api_key) -> ProviderRequest`` and a reply parser ``(json) -> [Document]``
plus its default base URL and API-key variable. Everything else (retries, rate limits, the disk cache,
error messages) is shared. Adding a provider is one function pair and one ``PROVIDERS`` entry::

    def _acme_request(query: str, k: int, api_key: str | None) -> ProviderRequest:
        return ProviderRequest("GET", "/v1/search", params={"q": query, "n": k},
                               headers={"Authorization": f"Bearer {api_key}"})

    def _acme_results(reply: Any) -> list[Document | None]:
        return [_hit(item.get("link"), item.get("name"), item.get("text")) for item in _items(reply, "hits")]

    PROVIDERS["acme"] = Provider(_acme_request, _acme_results, "https://api.acme.example", "ACME_API_KEY")

Failure policy (the env shows a ``SearchError`` to the agent; it never ends a rollout):

* Connection errors, timeouts, 408, 429 and 5xx are retried with exponential backoff and jitter, waiting
  as long as ``Retry-After`` asks. Every call has a hard ``deadline_s``: when the next wait would pass
  it, or ``max_retries`` are spent, the call raises ``SearchError``. No call hangs.
* Any other 4xx raises ``SearchError`` at once, with the status, a short excerpt of the reply and a hint
  (the API-key variable for 401/403, ``search.formats`` for SearxNG's 403).
* A reply that is not the expected JSON raises ``SearchError``.

``fetch(url)`` returns ``None`` when there is no readable page at the URL: not http(s), a 4xx answer
(408/429 are retried first), or a content type other than HTML/XHTML/plain text (the body is then not
downloaded). It raises ``SearchError`` when the page could not be reached (network errors, timeouts, 5xx
after retries, redirect loops) or points at a private/loopback address: agents choose what to open, so
by default they cannot reach the trainer's own network (literal IPs and ``localhost``-style names, on
every redirect hop; names that merely resolve to private addresses are not checked).
``allow_private_urls=True`` lifts the guard, e.g. for an intranet or tests. Pages larger than
``max_page_bytes`` are cut at that size and marked ``extra["truncated"]``.

Rate limiting is spacing: at least ``min_interval_s`` between the starts of two requests to the same
provider endpoint, shared by every ``WebSearch`` in the process (many envs, one API quota) and safe
across threads. The optional disk cache (``cache_dir``: a folder, or ``True`` for
``cache_root()/"web-search"``) keys searches by provider, endpoint, query and ``k``, pages by URL; a hit
makes no request and costs no quota. ``cache_ttl_s`` bounds how stale an answer may be.

How ``k`` reaches each API: Tavily ``max_results`` and Brave ``count`` (both capped at 20 by the APIs),
Serper ``num`` only above its default page of 10 (rounded up to a page size it offers), SearxNG not at
all (it has no such parameter). Every reply is then de-duplicated by URL and cut to ``k``.
"""

from __future__ import annotations

import codecs
import email.utils
import functools
import hashlib
import ipaddress
import json
import os
import random
import re
import ssl
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from rlvr import __version__
from rlvr.core.paths import cache_root
from rlvr.envs.search.backends.base import Document, SearchBackend, SearchError
from rlvr.envs.search.backends.cassette import document_from_json, document_to_json, normalize_query
from rlvr.envs.search.backends.html_text import html_to_text, strip_tags

USER_AGENT = f"rlvr-gym/{__version__} (web search env)"
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
TEXT_TYPES = frozenset({"text/plain"})
_RETRY_STATUSES = frozenset({408, 425, 429})
_MAX_API_BYTES = 10_000_000
_EXCERPT = 200
_MIN_ATTEMPT_S = 0.1
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


# Providers ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProviderRequest:
    """One HTTP request to a provider; ``path`` is joined to the base URL."""

    method: str
    path: str
    params: dict[str, Any] | None = None
    json: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Provider:
    """How to talk to one search API."""

    build: Callable[[str, int, str | None], ProviderRequest]
    parse: Callable[[Any], Sequence[Document | None]]
    """Hits in rank order; ``None`` for a hit without a URL (``_hit`` returns that)."""
    base_url: str | None
    """``None``: no public endpoint (SearxNG is self-hosted), so ``base_url`` is required."""
    key_env: str | None = None
    """The variable holding the API key; ``None`` for providers without keys."""
    min_interval_s: float = 0.0


def _items(reply: Any, *path: str) -> list[dict[str, Any]]:
    """The hit list at ``reply[path[0]][path[1]]...``; a missing level means no hits (APIs omit empty
    sections), anything else of the wrong shape is a malformed reply."""
    node = reply
    for key in path:
        if not isinstance(node, dict):
            raise SearchError(f"malformed reply: expected an object at {key!r}, got {type(node).__name__}")
        node = node.get(key)
        if node is None:
            return []
    if not isinstance(node, list):
        raise SearchError(f"malformed reply: {'.'.join(path)!r} is a {type(node).__name__}, not a list")
    return [item for item in node if isinstance(item, dict)]


def _hit(url: Any, title: Any, snippet: Any, score: Any = None, **extra: Any) -> Document | None:
    """A result as a ``Document`` keyed by its URL (``None`` when it has no URL to open). Snippets lose
    their highlight markup (Brave's ``<strong>``) and entities."""
    if not isinstance(url, str) or not url.strip():
        return None
    number = score if isinstance(score, (int, float)) and not isinstance(score, bool) else None
    return Document(
        id=url.strip(),
        title=strip_tags(str(title or "")),
        contents=strip_tags(str(snippet or "")),
        url=url.strip(),
        score=float(number) if number is not None else None,
        extra={key: value for key, value in extra.items() if value not in (None, "", [])},
    )


def _searxng_request(query: str, k: int, api_key: str | None) -> ProviderRequest:
    # SearxNG has no result-count parameter (one page of ~10-20 hits comes back and is cut to k) and no
    # API key (an instance behind an auth proxy takes ``headers=``).
    return ProviderRequest("GET", "/search", params={"q": query, "format": "json"})


def _searxng_results(reply: Any) -> list[Document | None]:
    return [
        _hit(
            item.get("url"),
            item.get("title"),
            item.get("content"),
            item.get("score"),
            engine=item.get("engine"),
        )
        for item in _items(reply, "results")
    ]


def _tavily_request(query: str, k: int, api_key: str | None) -> ProviderRequest:
    body = {"query": query, "max_results": max(1, min(k, 20)), "search_depth": "basic"}
    return ProviderRequest("POST", "/search", json=body, headers={"Authorization": f"Bearer {api_key}"})


def _tavily_results(reply: Any) -> list[Document | None]:
    return [
        _hit(item.get("url"), item.get("title"), item.get("content"), item.get("score"))
        for item in _items(reply, "results")
    ]


def _brave_request(query: str, k: int, api_key: str | None) -> ProviderRequest:
    headers = {"X-Subscription-Token": api_key or "", "Accept": "application/json"}
    params = {"q": query, "count": max(1, min(k, 20))}
    return ProviderRequest("GET", "/res/v1/web/search", params=params, headers=headers)


def _brave_results(reply: Any) -> list[Document | None]:
    return [
        _hit(item.get("url"), item.get("title"), item.get("description"), age=item.get("age"))
        for item in _items(reply, "web", "results")
    ]


def _serper_request(query: str, k: int, api_key: str | None) -> ProviderRequest:
    body: dict[str, Any] = {"q": query}
    if k > 10:  # the default page is 10; larger pages come in the sizes Serper's UI offers
        body["num"] = next((size for size in (20, 30, 40, 50, 100) if size >= k), 100)
    return ProviderRequest("POST", "/search", json=body, headers={"X-API-KEY": api_key or ""})


def _serper_results(reply: Any) -> list[Document | None]:
    return [
        _hit(item.get("link"), item.get("title"), item.get("snippet"), position=item.get("position"))
        for item in _items(reply, "organic")
    ]


PROVIDERS: dict[str, Provider] = {
    "searxng": Provider(_searxng_request, _searxng_results, None),
    "tavily": Provider(_tavily_request, _tavily_results, "https://api.tavily.com", "TAVILY_API_KEY"),
    # Brave's free plan allowed one request per second; paid plans allow more (lower min_interval_s).
    "brave": Provider(_brave_request, _brave_results, "https://api.search.brave.com", "BRAVE_API_KEY", 1.0),
    "serper": Provider(_serper_request, _serper_results, "https://google.serper.dev", "SERPER_API_KEY"),
}
"""Provider name -> how to query it; see the module docstring for adding one."""


# Rate limiting ------------------------------------------------------------------------------------------


class _Spacer:
    """Hands out start times at least ``interval`` apart; callers sleep outside the lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next = 0.0

    def reserve(self, interval: float) -> float:
        """Seconds to wait before starting a request."""
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + interval
            return start - now


_SPACERS: dict[str, _Spacer] = {}
_SPACERS_LOCK = threading.Lock()


def _spacer(key: str) -> _Spacer:
    with _SPACERS_LOCK:
        return _SPACERS.setdefault(key, _Spacer())


# Disk cache ---------------------------------------------------------------------------------------------


class _DiskCache:
    """One JSON file per key, written atomically, so concurrent processes can share a directory."""

    def __init__(self, root: Path, ttl_s: float | None) -> None:
        self.root = root
        self.ttl_s = ttl_s

    def _path(self, namespace: str, key: list[Any]) -> tuple[Path, str]:
        text = json.dumps(key, ensure_ascii=False, sort_keys=True)
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        return self.root / namespace / digest[:2] / f"{digest}.json", text

    def get(self, namespace: str, key: list[Any]) -> tuple[bool, Any]:
        """``(True, value)`` on a fresh hit, ``(False, None)`` otherwise (corrupt files are misses)."""
        path, text = self._path(namespace, key)
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False, None
        if not isinstance(record, dict) or record.get("key") != text:
            return False, None
        if self.ttl_s is not None and time.time() - float(record.get("saved_at", 0)) > self.ttl_s:
            return False, None
        return True, record.get("value")

    def put(self, namespace: str, key: list[Any], value: Any) -> None:
        path, text = self._path(namespace, key)
        record = {"key": text, "saved_at": time.time(), "value": value}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(
                "w", encoding="utf-8", dir=path.parent, suffix=".tmp", delete=False
            ) as handle:
                json.dump(record, handle, ensure_ascii=False, default=str)
            os.replace(handle.name, path)
        except OSError:
            pass  # a cache that cannot write is just a slower cache


# HTTP ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Reply:
    status: int
    reason: str
    headers: httpx.Headers
    content: bytes
    url: str
    truncated: bool = False
    charset: str | None = None


class _PrivateAddress(Exception):
    """Raised from the page client's request hook; carries the refused URL."""


def _retry_after(headers: httpx.Headers) -> float | None:
    """``Retry-After`` in seconds (delta or HTTP date), or ``None``."""
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _excerpt(content: bytes) -> str:
    text = " ".join(content[: _EXCERPT * 4].decode("utf-8", errors="replace").split())
    return text if len(text) <= _EXCERPT else text[: _EXCERPT - 1] + "…"


def _is_private_host(host: str) -> bool:
    """Loopback, private, link-local and similar addresses, by literal IP or well-known local name.
    Names that *resolve* to private addresses are not caught (no DNS lookup here)."""
    host = host.strip("[]").rstrip(".").lower()
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return not address.is_global


def _decode(reply: _Reply) -> str:
    """Text of a page: the header's charset, else a ``<meta charset>`` near the top, else UTF-8."""
    for candidate in (reply.charset, _meta_charset(reply.content)):
        if candidate:
            try:
                codecs.lookup(candidate)
            except LookupError:
                continue
            return reply.content.decode(candidate, errors="replace")
    return reply.content.decode("utf-8", errors="replace")


def _meta_charset(content: bytes) -> str | None:
    match = _META_CHARSET.search(content[:4096])
    return match.group(1).decode("ascii", errors="ignore") if match else None


def _plain_text(text: str) -> str:
    """A text/plain page with line endings unified and runs of blank lines shortened."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# The backend --------------------------------------------------------------------------------------------


class WebSearch(SearchBackend):
    """Live web search through one provider, plus page fetching. Thread-safe.

    ``provider`` is a key of ``PROVIDERS``; ``base_url`` overrides its endpoint (required for SearxNG);
    ``api_key`` defaults to the provider's environment variable. The other keywords tune the shared
    machinery described in the module docstring.
    """

    def __init__(
        self,
        provider: str = "searxng",
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        timeout_s: float = 10.0,
        max_retries: int = 3,
        backoff_s: float = 0.5,
        max_backoff_s: float = 8.0,
        deadline_s: float = 60.0,
        min_interval_s: float | None = None,
        fetch_min_interval_s: float = 0.0,
        cache_dir: str | os.PathLike[str] | bool | None = None,
        cache_ttl_s: float | None = None,
        max_page_bytes: int = 2_000_000,
        allow_private_urls: bool = False,
        concurrency: int = 4,
        headers: Mapping[str, str] | None = None,
        user_agent: str = USER_AGENT,
    ) -> None:
        if provider not in PROVIDERS:
            raise ValueError(f"unknown web search provider {provider!r}; known: {', '.join(PROVIDERS)}")
        spec = PROVIDERS[provider]
        base = base_url or spec.base_url
        if not base:
            raise ValueError(
                f"the {provider} provider has no public endpoint: pass base_url=http://your-instance"
            )
        key = api_key or (os.environ.get(spec.key_env) if spec.key_env else None)
        if spec.key_env and not key:
            raise ValueError(
                f"the {provider} web search needs an API key: pass api_key=... or set ${spec.key_env}"
            )
        if timeout_s <= 0 or deadline_s <= 0 or max_retries < 0 or max_page_bytes <= 0 or concurrency < 1:
            raise ValueError(
                "timeout_s, deadline_s, max_page_bytes and concurrency must be positive, max_retries >= 0"
            )
        self.provider = provider
        self.name = f"web:{provider}"
        self.base_url = base.rstrip("/")
        self.timeout_s = float(timeout_s)
        self.max_retries = int(max_retries)
        self.backoff_s = float(backoff_s)
        self.max_backoff_s = float(max_backoff_s)
        self.deadline_s = float(deadline_s)
        self.min_interval_s = spec.min_interval_s if min_interval_s is None else float(min_interval_s)
        self.fetch_min_interval_s = float(fetch_min_interval_s)
        self.max_page_bytes = int(max_page_bytes)
        self.allow_private_urls = allow_private_urls
        self.concurrency = int(concurrency)
        self._spec = spec
        self._api_key = key
        self._closed = False
        if cache_dir is True:
            self._cache: _DiskCache | None = _DiskCache(cache_root() / "web-search", cache_ttl_s)
        elif cache_dir:
            self._cache = _DiskCache(Path(cache_dir), cache_ttl_s)
        else:
            self._cache = None
        self._headers = {"User-Agent": user_agent, **dict(headers or {})}
        self._clients_lock = threading.Lock()
        self._api_client: httpx.Client | None = None
        self._page_client: httpx.Client | None = None

    @property
    def cache_dir(self) -> Path | None:
        return self._cache.root if self._cache else None

    def _client(self, pages: bool) -> httpx.Client:
        """The API or the page client, made on first use: an env that never opens a page never pays
        for a second connection pool. The page client refuses private addresses on every redirect."""
        with self._clients_lock:
            if self._closed:
                raise SearchError("the web search backend is closed")
            if pages and self._page_client is None:
                hooks = {} if self.allow_private_urls else {"request": [self._refuse_private]}
                self._page_client = self._new_client(event_hooks=hooks)
            elif not pages and self._api_client is None:
                self._api_client = self._new_client()
            client = self._page_client if pages else self._api_client
            assert client is not None
            return client

    def _new_client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(
            headers=self._headers, follow_redirects=True, max_redirects=5, verify=_ssl_context(), **kwargs
        )

    # Search -------------------------------------------------------------------------------------------

    def search(self, query: str, k: int = 3) -> list[Document]:
        return self.search_batch([query], k)[0]

    def search_batch(self, queries: Sequence[str], k: int = 3) -> list[list[Document]]:
        """Distinct queries run concurrently (``concurrency`` threads, still spaced by the rate limit)."""
        keys = [normalize_query(query) for query in queries]
        unique = list(dict.fromkeys(keys))
        if len(unique) <= 1 or self.concurrency == 1:
            answers = {query: self._search_one(query, k) for query in unique}
        else:
            with ThreadPoolExecutor(max_workers=min(self.concurrency, len(unique))) as pool:
                found = pool.map(lambda query: self._search_one(query, k), unique)
                answers = dict(zip(unique, found, strict=True))
        return [list(answers[key]) for key in keys]

    def _search_one(self, query: str, k: int) -> list[Document]:
        if not query:
            return []
        cache_key = [self.provider, self.base_url, query, k]
        if self._cache is not None:
            hit, value = self._cache.get("search", cache_key)
            if hit and isinstance(value, list):
                return [document_from_json(record) for record in value]
        request = self._spec.build(query, k, self._api_key)
        what = f"{self.provider} search for {query!r}"
        reply = self._request(
            request.method,
            self.base_url + request.path,
            what=what,
            client=self._client(pages=False),
            spacing_key=f"{self.provider}@{self.base_url}",
            interval=self.min_interval_s,
            limit=_MAX_API_BYTES,
            params=request.params,
            json=request.json,
            headers=request.headers,
        )
        if reply.status >= 400:
            raise SearchError(self._refusal(what, reply))
        try:
            payload = json.loads(reply.content)
        except ValueError:
            raise SearchError(f"{what}: the reply is not JSON: {_excerpt(reply.content)!r}") from None
        try:
            hits = self._spec.parse(payload)
        except SearchError as error:
            raise SearchError(f"{what}: {error}") from None
        results = _dedupe(hit for hit in hits if hit is not None)[: max(k, 0)]
        if self._cache is not None:
            self._cache.put("search", cache_key, [document_to_json(document) for document in results])
        return results

    def _refusal(self, what: str, reply: _Reply) -> str:
        message = f"{what} was refused: HTTP {reply.status} {reply.reason}".rstrip()
        excerpt = _excerpt(reply.content)
        if excerpt:
            message += f": {excerpt}"
        if reply.status in (401, 403) and self._spec.key_env:
            message += f" (check the API key: api_key=... or ${self._spec.key_env})"
        elif reply.status == 403 and self.provider == "searxng":
            message += " (is 'json' listed under search.formats in the instance's settings.yml?)"
        return message

    # Fetch --------------------------------------------------------------------------------------------

    def fetch(self, ref: str) -> Document | None:
        url = ref.strip()
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            return None
        if not self.allow_private_urls and _is_private_host(parts.hostname):
            raise SearchError(self._private_message(url))
        if self._cache is not None:
            hit, value = self._cache.get("pages", [url])
            if hit:
                return document_from_json(value) if isinstance(value, dict) else None
        reply = self._request(
            "GET",
            url,
            what=f"opening {url}",
            client=self._client(pages=True),
            spacing_key=f"fetch@{parts.hostname}",
            interval=self.fetch_min_interval_s,
            limit=self.max_page_bytes,
            accept=_is_readable,
            headers={"Accept": "text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.1"},
        )
        document = self._page_document(url, reply)
        if self._cache is not None and (document is not None or reply.status in (200, 404, 410)):
            self._cache.put("pages", [url], document_to_json(document) if document is not None else None)
        return document

    def _page_document(self, url: str, reply: _Reply) -> Document | None:
        if reply.status >= 400 or not _is_readable(reply.headers):
            return None
        kind = _content_type(reply.headers) or _sniff(reply.content)
        text = _decode(reply)
        if kind in HTML_TYPES:
            page = html_to_text(text)
            title, contents = page.title, page.text
        else:
            title, contents = "", _plain_text(text)
        extra: dict[str, Any] = {"content_type": kind, "status": reply.status}
        if reply.url != url:
            extra["final_url"] = reply.url
        if reply.truncated:
            extra["truncated"] = True
        return Document(id=url, title=title, contents=contents, url=url, extra=extra)

    def _refuse_private(self, request: httpx.Request) -> None:
        """Request hook of the page client: redirects must not reach local addresses either."""
        if _is_private_host(request.url.host):
            raise _PrivateAddress(str(request.url))

    @staticmethod
    def _private_message(url: str) -> str:
        return f"refusing to open {url}: it is a private or local address (allow_private_urls=True allows it)"

    # Transport ----------------------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        url: str,
        *,
        what: str,
        client: httpx.Client,
        spacing_key: str,
        interval: float,
        limit: int,
        accept: Callable[[httpx.Headers], bool] | None = None,
        **kwargs: Any,
    ) -> _Reply:
        """Send with retries until an answer that is not worth retrying; raise ``SearchError`` when the
        retries or the deadline run out. 4xx answers come back for the caller to judge."""
        if self._closed:
            raise SearchError(f"{what}: the web search backend is closed")
        deadline = time.monotonic() + self.deadline_s
        attempts = self.max_retries + 1
        problem = "no attempt made"
        made = 0
        for attempt in range(attempts):
            wait = _spacer(spacing_key).reserve(interval) if interval > 0 else 0.0
            if wait > 0:
                if time.monotonic() + wait >= deadline:
                    raise SearchError(
                        f"{what}: the rate-limit queue outlasts the {self.deadline_s:g} s deadline"
                    )
                time.sleep(wait)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            retry_after: float | None = None
            made += 1
            timeout = min(self.timeout_s, remaining)
            try:
                reply = self._send(client, method, url, timeout, deadline, limit, accept, kwargs)
            except _PrivateAddress as error:
                raise SearchError(self._private_message(str(error))) from None
            except httpx.TimeoutException:
                problem = f"timed out after {timeout:.3g} s"
            except httpx.UnsupportedProtocol as error:
                raise SearchError(f"{what} failed: {error}") from None
            except httpx.TransportError as error:
                problem = f"{type(error).__name__}: {error}".rstrip(": ")
            except (httpx.RequestError, httpx.InvalidURL) as error:  # redirect loops, bad encodings, bad URLs
                raise SearchError(f"{what} failed: {type(error).__name__}: {error}") from None
            else:
                if reply.status < 500 and reply.status not in _RETRY_STATUSES:
                    return reply
                problem = f"HTTP {reply.status} {reply.reason}".rstrip()
                excerpt = _excerpt(reply.content)
                if excerpt:
                    problem += f": {excerpt}"
                retry_after = _retry_after(reply.headers)
            if attempt == attempts - 1:
                break
            pause = retry_after
            if pause is None:
                pause = min(self.max_backoff_s, self.backoff_s * 2**attempt) * random.uniform(0.5, 1.0)
            # An attempt squeezed into the last milliseconds could only time out and hide the real problem.
            if time.monotonic() + pause + min(self.timeout_s, _MIN_ATTEMPT_S) >= deadline:
                hint = f" (the server asked to wait {pause:g} s)" if retry_after is not None else ""
                raise SearchError(
                    f"{what} failed: {problem}; no time left within the {self.deadline_s:g} s deadline{hint}"
                )
            time.sleep(pause)
        raise SearchError(f"{what} failed after {made} attempt(s): {problem}")

    @staticmethod
    def _send(
        client: httpx.Client,
        method: str,
        url: str,
        timeout: float,
        deadline: float,
        limit: int,
        accept: Callable[[httpx.Headers], bool] | None,
        kwargs: dict[str, Any],
    ) -> _Reply:
        """One request, its body read up to ``limit`` bytes and no later than ``deadline``."""
        with client.stream(method, url, timeout=timeout, **kwargs) as response:
            chunks: list[bytes] = []
            size, truncated = 0, False
            if response.status_code < 400 and (accept is None or accept(response.headers)):
                for chunk in response.iter_bytes():
                    chunks.append(chunk)
                    size += len(chunk)
                    if size >= limit:
                        truncated = size > limit
                        break
                    if time.monotonic() > deadline:
                        raise httpx.ReadTimeout("the page kept streaming past the deadline")
            elif response.status_code >= 400:
                # Enough of an error body for the message, never the whole thing.
                for chunk in response.iter_bytes():
                    chunks.append(chunk)
                    size += len(chunk)
                    if size >= 4 * _EXCERPT:
                        break
            return _Reply(
                status=response.status_code,
                reason=response.reason_phrase,
                headers=response.headers,
                content=b"".join(chunks)[:limit],
                url=str(response.url),
                truncated=truncated,
                charset=response.charset_encoding,
            )

    # Lifecycle ----------------------------------------------------------------------------------------

    def close(self) -> None:
        with self._clients_lock:
            self._closed = True
            clients, self._api_client, self._page_client = (self._api_client, self._page_client), None, None
        for client in clients:
            if client is not None:
                client.close()


@functools.lru_cache(maxsize=1)
def _ssl_context() -> ssl.SSLContext:
    """One CA bundle load per process, shared by every client (loading it costs tens of ms)."""
    return httpx.create_ssl_context()


def _content_type(headers: httpx.Headers) -> str:
    return headers.get("content-type", "").split(";")[0].strip().lower()


def _is_readable(headers: httpx.Headers) -> bool:
    """HTML, XHTML or plain text; an unlabelled body is given the benefit of the doubt (and sniffed)."""
    kind = _content_type(headers)
    return not kind or kind in HTML_TYPES or kind in TEXT_TYPES


def _sniff(content: bytes) -> str:
    head = content[:512].lstrip().lower()
    return "text/html" if head.startswith((b"<!doctype html", b"<html", b"<head", b"<body")) else "text/plain"


def _dedupe(documents: Iterable[Document]) -> list[Document]:
    """First hit per URL: metasearch engines and paginated APIs repeat results."""
    seen: set[str] = set()
    unique: list[Document] = []
    for document in documents:
        if document.id not in seen:
            seen.add(document.id)
            unique.append(document)
    return unique


__all__ = ["PROVIDERS", "Provider", "ProviderRequest", "WebSearch"]

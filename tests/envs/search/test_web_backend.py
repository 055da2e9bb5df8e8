"""``WebSearch`` against a real HTTP server on 127.0.0.1 that speaks each provider's wire format.

The server (``FakeWeb``) also plays the failure cases: 429 with ``Retry-After``, endless 500s, a slow
endpoint, pages of every kind. Backoff and timeouts are tiny so the whole module runs in seconds.
"""

from __future__ import annotations

import itertools
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from rlvr.envs.search.backends import make_backend
from rlvr.envs.search.backends.base import SearchError
from rlvr.envs.search.backends.html_text import html_to_text
from rlvr.envs.search.backends.web import WebSearch

TAVILY_KEY, BRAVE_KEY, SERPER_KEY = "tvly-good", "brave-good", "serper-good"
FAST = {"timeout_s": 2.0, "backoff_s": 0.01, "max_backoff_s": 0.05, "deadline_s": 5.0, "min_interval_s": 0.0}
"""Retry settings that keep failure tests quick."""

ARTICLE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Eiffel Tower &ndash; Facts</title>
<style>body { color: red }</style><script>var hidden = "<p>not text</p>";</script></head>
<body><header><nav><a href="/">Home</a> | <a href="/about">About</a></nav></header>
<main><h1>Eiffel Tower</h1>
<p>The tower is <b>330</b>&nbsp;metres tall.</p>
<p>It was completed in 1889.<br>Gustave Eiffel's company built it.</p>
<ul><li>Paris</li><li>France</li></ul>
<noscript>Enable JavaScript</noscript><svg><text>icon</text></svg>
</main><footer>Copyright 2024</footer></body></html>"""


@dataclass(frozen=True)
class Seen:
    """One request as the server saw it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    at: float


class FakeWeb:
    """SearxNG, Tavily, Brave and Serper look-alikes plus a small web site, under path prefixes."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self.counts: dict[str, int] = {}
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05})
        self.thread.daemon = True
        self.thread.start()
        self.running = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def hits(self, prefix: str = "/") -> int:
        with self.lock:
            return sum(1 for request in self.seen if request.path.startswith(prefix))

    def requests(self, prefix: str = "/") -> list[Seen]:
        with self.lock:
            return [request for request in self.seen if request.path.startswith(prefix)]

    def stop(self) -> None:
        if self.running:
            self.running = False
            self.httpd.shutdown()
            self.httpd.server_close()
            self.thread.join(timeout=5)


def searxng_reply(root: str, query: str) -> dict[str, Any]:
    slug = "-".join(query.lower().split()) or "empty"
    results = [
        {
            "url": f"{root}/pages/{slug}-{i}.html",
            "title": f"{query} result {i}",
            "content": f"Snippet {i} about {query}.",
            "engine": "fake",
            "score": 1.0 / (i + 1),
        }
        for i in range(5)
    ]
    results.insert(2, dict(results[0]))  # metasearch duplicates are common
    results.insert(3, {"title": "no url", "content": "dropped"})
    return {"query": query, "number_of_results": len(results), "results": results}


def _handler(web: FakeWeb) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self._handle(None)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode("utf-8", "replace")
            self._handle(body)

        def _send(self, status: int, body: bytes | str | dict | list, kind: str = "", **headers: str) -> None:
            if isinstance(body, (dict, list)):
                body, kind = json.dumps(body).encode(), kind or "application/json"
            elif isinstance(body, str):
                body = body.encode("utf-8")
            self.send_response(status)
            if kind:
                self.send_header("Content-Type", kind)
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _handle(self, body: Any) -> None:
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            request = Seen(
                self.command,
                parts.path,
                query,
                {k.lower(): v for k, v in self.headers.items()},
                body,
                time.monotonic(),
            )
            with web.lock:
                web.seen.append(request)
                web.counts[parts.path] = web.counts.get(parts.path, 0) + 1
                count = web.counts[parts.path]
            scenario, _, rest = parts.path.lstrip("/").partition("/")
            route = getattr(self, f"_route_{scenario.replace('-', '_')}", None)
            if route is None:
                self._send(404, {"error": "no such route"})
                return
            route("/" + rest, request, count)

        # Search APIs --------------------------------------------------------------------------------

        def _route_searxng(self, path: str, request: Seen, count: int) -> None:
            if path != "/search":
                self._send(404, "not found", "text/plain")
            elif request.query.get("format") != ["json"]:
                self._send(403, "Forbidden", "text/html")
            else:
                self._send(200, searxng_reply(web.url, request.query.get("q", [""])[0]))

        def _route_searxng_noformat(self, path: str, request: Seen, count: int) -> None:
            self._send(403, "<h1>403 Forbidden</h1>", "text/html")

        def _route_tavily(self, path: str, request: Seen, count: int) -> None:
            if request.headers.get("authorization") != f"Bearer {TAVILY_KEY}":
                self._send(401, {"detail": {"error": "Unauthorized: missing or invalid API key."}})
                return
            body = request.body or {}
            results = [
                {
                    "title": f"T{i}",
                    "url": f"https://t.example/{i}",
                    "content": f"tavily {body['query']} {i}",
                    "score": 0.9,
                }
                for i in range(int(body.get("max_results", 5)))
            ]
            self._send(200, {"query": body["query"], "results": results, "response_time": 0.1})

        def _route_brave(self, path: str, request: Seen, count: int) -> None:
            if path != "/res/v1/web/search":
                self._send(404, {"error": "not found"})
            elif request.headers.get("x-subscription-token") != BRAVE_KEY:
                self._send(401, {"type": "ErrorResponse", "error": {"code": "SUBSCRIPTION_TOKEN_INVALID"}})
            else:
                q, count_param = request.query["q"][0], int(request.query.get("count", ["20"])[0])
                results = [
                    {
                        "title": f"B{i}",
                        "url": f"https://b.example/{i}",
                        "description": f"<strong>{q}</strong> &amp; {i}",
                    }
                    for i in range(count_param)
                ]
                self._send(200, {"type": "search", "query": {"original": q}, "web": {"results": results}})

        def _route_serper(self, path: str, request: Seen, count: int) -> None:
            if request.headers.get("x-api-key") != SERPER_KEY:
                self._send(403, {"message": "Unauthorized.", "statusCode": 403})
                return
            q = request.body["q"]
            organic = [
                {
                    "title": f"S{i}",
                    "link": f"https://s.example/{i}",
                    "snippet": f"serper {q} {i}",
                    "position": i + 1,
                }
                for i in range(10)
            ]
            self._send(200, {"searchParameters": {"q": q}, "organic": organic})

        def _route_flaky(self, path: str, request: Seen, count: int) -> None:
            if count <= 2:
                self._send(429, {"error": "slow down"}, Retry_After="0.2")
            else:
                self._send(200, searxng_reply(web.url, request.query["q"][0]))

        def _route_broken(self, path: str, request: Seen, count: int) -> None:
            self._send(500, "Internal Server Error: engine crashed", "text/plain")

        def _route_slow(self, path: str, request: Seen, count: int) -> None:
            time.sleep(4.0)
            self._send(200, searxng_reply(web.url, "slow"))

        def _route_notjson(self, path: str, request: Seen, count: int) -> None:
            self._send(200, "<html>a login page</html>", "text/html")

        # A small web site ---------------------------------------------------------------------------

        def _route_pages(self, path: str, request: Seen, count: int) -> None:
            if path == "/article.html":
                self._send(200, ARTICLE, "text/html; charset=utf-8")
            elif path == "/notes.txt":
                self._send(200, "line one\r\nline two\r\n\r\n\r\n\r\nlast", "text/plain")
            elif path == "/latin1.html":
                self._send(
                    200,
                    "<title>Café</title><p>crème brûlée</p>".encode("latin-1"),
                    "text/html; charset=iso-8859-1",
                )
            elif path == "/image.png":
                self._send(200, b"\x89PNG\r\n\x1a\n" + b"\0" * 1000, "image/png")
            elif path == "/big.html":
                self._send(200, "<p>" + "word " * 600_000 + "</p>", "text/html")
            elif path == "/moved":
                self._send(302, b"", Location="/pages/article.html")
            elif path == "/loop":
                self._send(302, b"", Location="/pages/loop")
            elif path == "/unlabelled":
                self._send(200, "<!DOCTYPE html><title>Bare</title><p>no header</p>")
            elif path == "/flaky.html":
                if count <= 1:
                    self._send(503, "busy", "text/plain", Retry_After="0")
                else:
                    self._send(200, "<title>Back</title><p>up again</p>", "text/html")
            elif path.endswith(".html"):
                self._send(200, f"<title>{path}</title><p>page {path}</p>", "text/html")
            else:
                self._send(404, "<h1>Not Found</h1>", "text/html")

    return Handler


@pytest.fixture
def web() -> Iterator[FakeWeb]:
    server = FakeWeb()
    yield server
    server.stop()


def searxng(web: FakeWeb, **kwargs: Any) -> WebSearch:
    return WebSearch("searxng", base_url=f"{web.url}/searxng", **{**FAST, **kwargs})


def dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Providers ----------------------------------------------------------------------------------------------


def test_searxng_json_api(web: FakeWeb):
    with searxng(web) as backend:
        results = backend.search("  Eiffel   tower ", k=4)
    # The duplicate hit and the hit without a URL are gone.
    assert [doc.title for doc in results] == [f"Eiffel tower result {i}" for i in range(4)]
    first = results[0]
    assert first.id == first.url == f"{web.url}/pages/eiffel-tower-0.html"
    assert first.contents == "Snippet 0 about Eiffel tower." and first.score == 1.0
    assert first.extra == {"engine": "fake"}
    (request,) = web.requests("/searxng")
    assert request.method == "GET" and request.path == "/searxng/search"
    assert request.query == {"q": ["Eiffel tower"], "format": ["json"]}
    assert request.headers["user-agent"].startswith("rlvr-gym/")


def test_searxng_needs_a_base_url_and_explains_a_403(web: FakeWeb):
    with pytest.raises(ValueError, match="base_url"):
        WebSearch("searxng")
    with pytest.raises(ValueError, match="unknown web search provider"):
        WebSearch("altavista", base_url=web.url)
    backend = WebSearch("searxng", base_url=f"{web.url}/searxng-noformat", **FAST)
    with pytest.raises(SearchError, match=r"HTTP 403.*search\.formats"):
        backend.search("q")
    assert web.hits("/searxng-noformat") == 1  # a refusal is not retried


def test_tavily_bearer_key_and_body(web: FakeWeb):
    backend = WebSearch("tavily", base_url=f"{web.url}/tavily", api_key=TAVILY_KEY, **FAST)
    results = backend.search("who built it", k=3)
    assert [doc.url for doc in results] == [f"https://t.example/{i}" for i in range(3)]
    assert results[0].contents == "tavily who built it 0" and results[0].score == 0.9
    (request,) = web.requests("/tavily")
    assert request.method == "POST" and request.path == "/tavily/search"
    assert request.headers["authorization"] == f"Bearer {TAVILY_KEY}"
    assert request.body["query"] == "who built it" and request.body["max_results"] == 3
    assert "api_key" not in request.body  # the key travels in the header only


def test_wrong_key_is_a_search_error_at_once(web: FakeWeb):
    backend = WebSearch("tavily", base_url=f"{web.url}/tavily", api_key="tvly-wrong", **FAST)
    with pytest.raises(SearchError) as caught:
        backend.search("x")
    message = str(caught.value)
    assert "401" in message and "invalid API key" in message and "TAVILY_API_KEY" in message
    assert "tvly-wrong" not in message
    assert web.hits("/tavily") == 1
    backend = WebSearch("brave", base_url=f"{web.url}/brave", api_key="nope", **FAST)
    with pytest.raises(SearchError, match=r"HTTP 401.*BRAVE_API_KEY"):
        backend.search("x")
    backend = WebSearch("serper", base_url=f"{web.url}/serper", api_key="nope", **FAST)
    with pytest.raises(SearchError, match=r"HTTP 403.*SERPER_API_KEY"):
        backend.search("x")


def test_brave_token_header_count_and_clean_snippets(web: FakeWeb):
    backend = WebSearch("brave", base_url=f"{web.url}/brave", api_key=BRAVE_KEY, **FAST)
    results = backend.search("tall towers", k=2)
    assert [doc.title for doc in results] == ["B0", "B1"]
    assert results[0].contents == "tall towers & 0"  # <strong> highlights and entities are gone
    (request,) = web.requests("/brave")
    assert request.path == "/brave/res/v1/web/search"
    assert request.query == {"q": ["tall towers"], "count": ["2"]}
    assert request.headers["x-subscription-token"] == BRAVE_KEY
    assert request.headers["accept"] == "application/json"


def test_serper_api_key_header_and_organic_results(web: FakeWeb):
    backend = WebSearch("serper", base_url=f"{web.url}/serper", api_key=SERPER_KEY, **FAST)
    results = backend.search("paris", k=3)
    assert [(doc.url, doc.contents) for doc in results] == [
        (f"https://s.example/{i}", f"serper paris {i}") for i in range(3)
    ]
    assert results[0].extra == {"position": 1}
    (request,) = web.requests("/serper")
    assert request.method == "POST" and request.headers["x-api-key"] == SERPER_KEY
    assert request.body == {"q": "paris"}


def test_keys_come_from_the_environment(web: FakeWeb, monkeypatch: pytest.MonkeyPatch):
    for provider, variable in (
        ("tavily", "TAVILY_API_KEY"),
        ("brave", "BRAVE_API_KEY"),
        ("serper", "SERPER_API_KEY"),
    ):
        monkeypatch.delenv(variable, raising=False)
        with pytest.raises(ValueError, match=variable):
            WebSearch(provider)
    monkeypatch.setenv("TAVILY_API_KEY", TAVILY_KEY)
    backend = make_backend({"type": "web", "provider": "tavily", "base_url": f"{web.url}/tavily", **FAST})
    assert isinstance(backend, WebSearch) and len(backend.search("env key", k=1)) == 1


# Failures -----------------------------------------------------------------------------------------------


def test_429_is_retried_after_the_wait_the_server_asks_for(web: FakeWeb):
    backend = WebSearch("searxng", base_url=f"{web.url}/flaky", **FAST)
    started = time.monotonic()
    results = backend.search("patience", k=2)
    assert len(results) == 2 and web.hits("/flaky") == 3
    assert time.monotonic() - started >= 0.4  # two Retry-After: 0.2 waits


def test_endless_500s_give_up_after_the_retries(web: FakeWeb):
    backend = WebSearch("searxng", base_url=f"{web.url}/broken", **{**FAST, "max_retries": 2})
    started = time.monotonic()
    with pytest.raises(SearchError, match=r"after 3 attempt\(s\): HTTP 500.*engine crashed"):
        backend.search("anything")
    assert web.hits("/broken") == 3 and time.monotonic() - started < 2


def test_the_deadline_bounds_a_call_whatever_the_retry_budget(web: FakeWeb):
    backend = WebSearch(
        "searxng",
        base_url=f"{web.url}/broken",
        **{**FAST, "max_retries": 1000, "backoff_s": 0.05, "deadline_s": 0.5},
    )
    started = time.monotonic()
    with pytest.raises(SearchError, match="HTTP 500"):
        backend.search("anything")
    assert time.monotonic() - started < 1.5


def test_a_slow_endpoint_times_out_quickly(web: FakeWeb):
    backend = WebSearch("searxng", base_url=f"{web.url}/slow", **{**FAST, "timeout_s": 0.2, "max_retries": 1})
    started = time.monotonic()
    with pytest.raises(SearchError, match="timed out"):
        backend.search("tortoise")
    assert time.monotonic() - started < 3.0  # two 0.2 s attempts; waiting for a reply would take 4 s


def test_a_dead_port_is_a_search_error():
    backend = WebSearch("searxng", base_url=f"http://127.0.0.1:{dead_port()}", **{**FAST, "max_retries": 1})
    started = time.monotonic()
    with pytest.raises(SearchError, match="ConnectError"):
        backend.search("hello")
    assert time.monotonic() - started < 2


def test_a_reply_that_is_not_json_is_a_search_error(web: FakeWeb):
    backend = WebSearch("searxng", base_url=f"{web.url}/notjson", **FAST)
    with pytest.raises(SearchError, match=r"not JSON.*login page"):
        backend.search("x")


def test_a_closed_backend_refuses(web: FakeWeb):
    backend = searxng(web)
    backend.close()
    backend.close()
    with pytest.raises(SearchError, match="closed"):
        backend.search("x")


# Rate limit, batches, cache -----------------------------------------------------------------------------


def test_requests_are_spaced_across_threads_and_instances(web: FakeWeb):
    first, second = searxng(web, min_interval_s=0.2), searxng(web, min_interval_s=0.2)
    results = first.search_batch(["a", "b", "c", "b"], k=1)
    second.search("d", k=1)
    assert [docs[0].title for docs in results] == ["a result 0", "b result 0", "c result 0", "b result 0"]
    starts = sorted(request.at for request in web.requests("/searxng"))
    assert len(starts) == 4  # "b" asked once
    assert all(later - earlier >= 0.15 for earlier, later in itertools.pairwise(starts))


def test_the_cache_answers_without_a_request(web: FakeWeb, tmp_path: Path):
    backend = searxng(web, cache_dir=tmp_path)
    fresh = backend.search("cached query", k=3)
    assert web.hits("/searxng") == 1
    assert backend.search("cached  query", k=3) == fresh and web.hits("/searxng") == 1
    backend.search("cached query", k=2)  # another k is another question
    assert web.hits("/searxng") == 2
    again = searxng(web, cache_dir=tmp_path)  # a new process would see the same files
    assert again.search("cached query", k=3) == fresh and web.hits("/searxng") == 2
    assert again.search("cached query", k=3)[0].extra == fresh[0].extra

    pages = searxng(web, cache_dir=tmp_path, allow_private_urls=True)
    page = pages.fetch(f"{web.url}/pages/article.html")
    assert pages.fetch(f"{web.url}/pages/article.html") == page and web.hits("/pages") == 1
    assert pages.fetch(f"{web.url}/pages/missing") is None and pages.fetch(f"{web.url}/pages/missing") is None
    assert web.hits("/pages") == 2


def test_an_expired_cache_entry_is_asked_again(web: FakeWeb, tmp_path: Path):
    backend = searxng(web, cache_dir=tmp_path, cache_ttl_s=0.05)
    backend.search("short lived")
    time.sleep(0.1)
    backend.search("short lived")
    assert web.hits("/searxng") == 2


# Fetch --------------------------------------------------------------------------------------------------


def test_fetch_turns_a_page_into_readable_text(web: FakeWeb):
    backend = searxng(web, allow_private_urls=True)
    url = f"{web.url}/pages/article.html"
    page = backend.fetch(url)
    assert page is not None and page.id == page.url == url
    assert page.title == "Eiffel Tower – Facts"
    assert page.contents == (
        "Eiffel Tower\n\nThe tower is 330 metres tall.\n\n"
        "It was completed in 1889.\nGustave Eiffel's company built it.\n\n- Paris\n- France"
    )
    assert page.extra["content_type"] == "text/html" and "truncated" not in page.extra


def test_fetch_follows_redirects_and_handles_other_kinds(web: FakeWeb):
    backend = searxng(web, allow_private_urls=True)
    moved = backend.fetch(f"{web.url}/pages/moved")
    assert moved is not None and moved.title == "Eiffel Tower – Facts"
    assert (
        moved.id == f"{web.url}/pages/moved" and moved.extra["final_url"] == f"{web.url}/pages/article.html"
    )
    notes = backend.fetch(f"{web.url}/pages/notes.txt")
    assert notes is not None and (notes.title, notes.contents) == ("", "line one\nline two\n\nlast")
    latin = backend.fetch(f"{web.url}/pages/latin1.html")
    assert latin is not None and (latin.title, latin.contents) == ("Café", "crème brûlée")
    bare = backend.fetch(f"{web.url}/pages/unlabelled")
    assert bare is not None and (bare.title, bare.contents) == ("Bare", "no header")
    assert backend.fetch(f"{web.url}/pages/image.png") is None
    assert backend.fetch(f"{web.url}/pages/missing") is None
    assert backend.fetch("ftp://example.com/file") is None and backend.fetch("doc-42") is None
    back = backend.fetch(f"{web.url}/pages/flaky.html")  # a 503 is retried like any server error
    assert back is not None and back.contents == "up again"
    with pytest.raises(SearchError, match="TooManyRedirects"):
        backend.fetch(f"{web.url}/pages/loop")


def test_fetch_caps_the_page_size(web: FakeWeb):
    backend = searxng(web, allow_private_urls=True, max_page_bytes=100_000)
    page = backend.fetch(f"{web.url}/pages/big.html")
    assert page is not None and page.extra["truncated"] is True
    assert 0 < len(page.contents) <= 100_000


def test_fetch_refuses_local_addresses_by_default(web: FakeWeb):
    backend = searxng(web)
    with pytest.raises(SearchError, match="private or local address"):
        backend.fetch(f"{web.url}/pages/article.html")
    with pytest.raises(SearchError, match="private or local address"):
        backend.fetch("http://localhost:1/x")
    assert web.hits("/pages") == 0


def test_fetch_of_a_dead_host_is_a_search_error():
    backend = WebSearch(
        "searxng", base_url="http://unused", allow_private_urls=True, **{**FAST, "max_retries": 0}
    )
    with pytest.raises(SearchError, match="ConnectError"):
        backend.fetch(f"http://127.0.0.1:{dead_port()}/page.html")


# HTML to text -------------------------------------------------------------------------------------------


def test_html_to_text_survives_broken_markup():
    for html in (
        "",
        "<",
        "<p>unclosed <b>bold <div>",
        "</p></div></html>",
        "<!-- never closed",
        "<![CDATA[x",
        "&#xZZZ;",
    ):
        html_to_text(html)  # must not raise
    page = html_to_text("<html><head><title>T</title><body><p>one<nav>menu <p>two</body><p>after")
    assert page.title == "T" and page.text == "one\n\nafter"
    table = html_to_text("<table><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>2</td></tr></table>")
    assert table.text == "a | b\n1 | 2"
    code = html_to_text("<p>code:</p><pre>def f():\n    return  1\n</pre><p>x   y</p>")
    assert code.text == "code:\n\ndef f():\n    return  1\n\nx y"


def test_which_hosts_count_as_private():
    from rlvr.envs.search.backends.web import _is_private_host

    for host in (
        "127.0.0.1",
        "10.1.2.3",
        "192.168.0.1",
        "169.254.169.254",
        "[::1]",
        "localhost",
        "db.internal",
    ):
        assert _is_private_host(host), host
    for host in ("example.com", "8.8.8.8", "[2606:4700::1111]", "en.wikipedia.org"):
        assert not _is_private_host(host), host

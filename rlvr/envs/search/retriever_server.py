"""``rlvr serve-retriever``: any backend behind the Search-R1 retriever HTTP API (plus ASearcher's /access).

Search-R1, ZeroSearch and their forks talk to retrieval through this small API, so serving our index
with it lets their training scripts use our corpora unchanged, and lets one index on one machine serve
many rollout workers. Our own ``RetrieverClient`` is tested against this server, which keeps client and
server honest about the same wire format:

- ``POST /retrieve {"queries": [...], "topk": 3, "return_scores": true}`` ->
  ``{"result": [[{"document": {"id", "contents", "title", "url"}, "score"}, ...], ...]}`` (without
  scores: ``{"result": [[{"id", "contents", ...}, ...]]}``). ``contents`` is Search-R1's
  ``"Title"\\ntext``, so clients that expect the title on the first line keep working.
- ``POST /access {"urls": [...]}`` -> ``{"result": [{"url", "title", "contents"} or null, ...]}``.
- ``GET /health`` -> ``{"status": "ok", "backend": name}``.

Errors are JSON ``{"error": message}`` with status 400 (bad request), 404 (unknown path), 413 (too
large) or 502 (the backend failed). The standard library's threading server is enough: requests are
short and the backend's work is in native code.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from rlvr.envs.search.backends.base import Document, SearchBackend, SearchError

MAX_BODY_BYTES = 8 << 20
MAX_QUERIES = 4096
MAX_TOPK = 1000


def searchr1_contents(document: Document) -> str:
    """Search-R1's corpus convention: the title in quotes on the first line, then the text."""
    return f'"{document.title}"\n{document.contents}' if document.title else document.contents


def _document_json(document: Document) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": document.id,
        "contents": searchr1_contents(document),
        "title": document.title,
    }
    if document.url:
        record["url"] = document.url
    return record


class _BadRequest(ValueError):
    def __init__(self, message: str, status: HTTPStatus = HTTPStatus.BAD_REQUEST) -> None:
        super().__init__(message)
        self.status = status


def _retrieve(backend: SearchBackend, body: dict[str, Any]) -> dict[str, Any]:
    queries = body.get("queries", body.get("query"))
    if isinstance(queries, str):
        queries = [queries]
    if not isinstance(queries, list) or not all(isinstance(q, str) for q in queries):
        raise _BadRequest("'queries' must be a list of strings")
    if len(queries) > MAX_QUERIES:
        raise _BadRequest(f"at most {MAX_QUERIES} queries per request", HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
    topk = body.get("topk", 3)
    if not isinstance(topk, int) or isinstance(topk, bool) or not 1 <= topk <= MAX_TOPK:
        raise _BadRequest(f"'topk' must be an integer from 1 to {MAX_TOPK}")
    with_scores = bool(body.get("return_scores", False))
    results = backend.search_batch(queries, topk)
    if with_scores:
        return {
            "result": [
                [{"document": _document_json(doc), "score": doc.score} for doc in documents]
                for documents in results
            ]
        }
    return {"result": [[_document_json(doc) for doc in documents] for documents in results]}


def _access(backend: SearchBackend, body: dict[str, Any]) -> dict[str, Any]:
    urls = body.get("urls")
    if not isinstance(urls, list) or not all(isinstance(url, str) for url in urls):
        raise _BadRequest("'urls' must be a list of strings")
    if len(urls) > MAX_QUERIES:
        raise _BadRequest(f"at most {MAX_QUERIES} urls per request", HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
    pages = [backend.fetch(url) for url in urls]
    return {
        "result": [
            None
            if page is None
            else {"url": page.url or page.id, "title": page.title, "contents": page.contents}
            for page in pages
        ]
    }


def _handler_for(backend: SearchBackend, lock: threading.Lock | None) -> type[BaseHTTPRequestHandler]:
    routes = {"/retrieve": _retrieve, "/access": _access}

    class RetrieverHandler(BaseHTTPRequestHandler):
        server_version = "rlvr-retriever/1"
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: a busy retriever would drown the terminal (errors still come back as JSON)."""

        def _send(self, status: HTTPStatus, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path.split("?")[0] == "/health":
                self._send(HTTPStatus.OK, {"status": "ok", "backend": backend.name})
            else:
                self._send(HTTPStatus.NOT_FOUND, {"error": f"no route GET {self.path}"})

        def do_POST(self) -> None:
            route = routes.get(self.path.split("?")[0])
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if route is None:
                self._drain(length)
                self._send(HTTPStatus.NOT_FOUND, {"error": f"no route POST {self.path}"})
                return
            if not 0 <= length <= MAX_BODY_BYTES:
                self.close_connection = True
                self._send(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": "missing or oversized body"})
                return
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
                if not isinstance(body, dict):
                    raise _BadRequest("the body must be a JSON object")
                if lock is None:
                    payload = route(backend, body)
                else:
                    with lock:
                        payload = route(backend, body)
            except _BadRequest as error:
                self._send(error.status, {"error": str(error)})
            except json.JSONDecodeError as error:
                self._send(HTTPStatus.BAD_REQUEST, {"error": f"the body is not JSON: {error.msg}"})
            except SearchError as error:
                self._send(HTTPStatus.BAD_GATEWAY, {"error": str(error)})
            else:
                self._send(HTTPStatus.OK, payload)

        def _drain(self, length: int) -> None:
            if 0 < length <= MAX_BODY_BYTES:
                self.rfile.read(length)
            else:
                self.close_connection = True

    return RetrieverHandler


class RetrieverServer:
    """A running retriever: ``start()`` serves in a background thread, ``serve_forever()`` in this one.

    ``thread_safe=False`` serialises calls into the backend for backends that say they are not.
    """

    def __init__(
        self, backend: SearchBackend, host: str = "127.0.0.1", port: int = 8000, *, thread_safe: bool = True
    ) -> None:
        self.backend = backend
        lock = None if thread_safe else threading.Lock()
        self._server = ThreadingHTTPServer((host, port), _handler_for(backend, lock))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> RetrieverServer:
        self._thread = threading.Thread(target=self._server.serve_forever, name="rlvr-retriever", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> RetrieverServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def serve(backend: SearchBackend, host: str, port: int, *, announce: Sequence[str] = ()) -> None:
    """Serve until interrupted (the CLI's entry)."""
    server = RetrieverServer(backend, host, port)
    for line in announce:
        print(line, flush=True)
    print(f"retriever listening on {server.url} (POST /retrieve, POST /access, GET /health)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server._server.server_close()

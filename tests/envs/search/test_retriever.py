"""Our retriever client against our real retriever server on loopback (the Search-R1 wire format)."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest

from rlvr.envs.search.backends import SearchError, make_backend
from rlvr.envs.search.backends.local import LocalIndex
from rlvr.envs.search.backends.retriever import RetrieverClient
from rlvr.envs.search.retriever_server import RetrieverServer
from tests.envs.search.test_local_index import DOCS


@pytest.fixture
def server(tmp_path: Path):
    index = LocalIndex(tmp_path / "index", corpus=DOCS, fingerprint="five-docs")
    with RetrieverServer(index, port=0) as running:
        yield running
    index.close()


def test_client_gets_what_the_index_gets(server: RetrieverServer):
    client = make_backend({"type": "retriever", "url": server.url})
    direct = server.backend.search("town founded by Ada Quell", 3)
    remote = client.search("town founded by Ada Quell", 3)
    assert [(d.id, d.title, d.contents, d.url) for d in remote] == [
        (d.id, d.title, d.contents, d.url) for d in direct
    ]
    assert [d.score for d in remote] == pytest.approx([d.score for d in direct])
    batches = client.search_batch(["river", "capital of Oster"], 2)
    assert [b[0].id for b in batches] == ["velka#0", "lorn#0"]
    client.close()


def test_wire_format_is_search_r1s(server: RetrieverServer):
    reply = httpx.post(
        f"{server.url}/retrieve", json={"queries": ["river"], "topk": 1, "return_scores": True}
    )
    entry = reply.json()["result"][0][0]
    assert entry["document"]["contents"].startswith('"Velka"\nVelka is a river') and entry["score"] > 0
    bare = httpx.post(f"{server.url}/retrieve", json={"queries": ["river"], "topk": 1}).json()
    assert bare["result"][0][0]["id"] == "velka#0"
    assert httpx.get(f"{server.url}/health").json()["status"] == "ok"


def test_access_returns_pages(server: RetrieverServer):
    client = RetrieverClient(server.url + "/retrieve")
    page = client.fetch("https://w/velka")
    assert page is not None and page.title == "Velka" and "Tarn hills" in page.contents
    assert client.fetch("https://w/none") is None


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"not json", 400),
        (b"[1]", 400),
        (b'{"queries": "x", "topk": 0}', 400),
        (b'{"queries": [1]}', 400),
        (b'{"urls": 3}', 400),
    ],
)
def test_bad_requests_get_json_errors(server: RetrieverServer, body: bytes, status: int):
    path = "/access" if b"urls" in body else "/retrieve"
    reply = httpx.post(f"{server.url}{path}", content=body, headers={"Content-Type": "application/json"})
    assert reply.status_code == status and "error" in reply.json()
    assert httpx.post(f"{server.url}/nope", json={}).status_code == 404


def test_a_dead_retriever_is_a_search_error_not_a_hang():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = RetrieverClient(f"http://127.0.0.1:{port}", timeout_s=2, retries=1, backoff_s=0.01)
    with pytest.raises(SearchError, match="did not answer"):
        client.search("anything")

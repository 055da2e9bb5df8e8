"""The Elasticsearch/OpenSearch backend: request shapes, reply parsing, errors, and a live cluster.

No engine can be installed here, so three layers are tested in turn: the pure builders and parsers
against replies copied in the shape Elasticsearch 8 and OpenSearch 2 send them; the whole client
against an in-memory fake cluster behind ``httpx.MockTransport`` (same endpoints, same JSON); and,
when ``RLVR_ELASTICSEARCH_URL`` / ``RLVR_OPENSEARCH_URL`` point at a real cluster, a round trip
through a fresh index that is deleted afterwards. Credentials for the live run: user:password in the
URL, or ``RLVR_ELASTICSEARCH_API_KEY``; ``RLVR_ELASTICSEARCH_VERIFY=0`` (likewise ``RLVR_OPENSEARCH_*``)
accepts a self-signed certificate.
"""

from __future__ import annotations

import json
import os
import re
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest

from rlvr.envs.search.backends import make_backend
from rlvr.envs.search.backends.base import Document, SearchError
from rlvr.envs.search.backends.elastic import (
    INDEX_BODY,
    ElasticsearchBackend,
    bulk_body,
    bulk_failures,
    error_reason,
    msearch_body,
    parse_hits,
    parse_msearch,
    search_body,
)
from rlvr.envs.search.corpus import write_corpus

CORPUS = [
    Document(
        "aaron", "Aaron", "Aaron was a prophet, high priest, and the brother of Moses.", "https://w/aaron"
    ),
    Document("burr", "Aaron Burr", "Aaron Burr was the third vice president of the United States."),
    Document("paris", "Paris", "Paris is the capital and most populous city of France."),
    Document("lyon", "Lyon", "Lyon is a city in France at the confluence of the Rhône and Saône rivers."),
    Document(
        "a/b c?#", "Odd id", "An id with a slash, a space and URL metacharacters must still be fetchable."
    ),
    Document("tea", "Tea", "Tea is an aromatic beverage prepared by pouring hot water over cured leaves."),
]

# ---------------------------------------------------------------- replies as the engines send them

ES8_SEARCH = {
    "took": 3,
    "timed_out": False,
    "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
    "hits": {
        "max_score": 2.4079456,
        "hits": [
            {
                "_index": "wiki",
                "_id": "aaron",
                "_score": 2.4079456,
                "_source": {"contents": "Aaron was a prophet.", "title": "Aaron", "url": "https://w/aaron"},
            },
            {
                # A FlashRAG-shaped index: no title field, the title quoted on the first line.
                "_index": "wiki",
                "_id": "17",
                "_score": 1.1,
                "_source": {"contents": '"Aaron Burr"\nAaron Burr was the third vice president.'},
            },
        ],
    },
}

OS2_SEARCH_EMPTY = {
    "took": 1,
    "timed_out": False,
    "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
    "hits": {"total": {"value": 0, "relation": "eq"}, "max_score": None, "hits": []},
}

ES8_INDEX_NOT_FOUND = {
    "error": {
        "root_cause": [
            {
                "type": "index_not_found_exception",
                "reason": "no such index [nope]",
                "resource.type": "index_or_alias",
                "resource.id": "nope",
                "index_uuid": "_na_",
                "index": "nope",
            }
        ],
        "type": "index_not_found_exception",
        "reason": "no such index [nope]",
        "resource.type": "index_or_alias",
        "resource.id": "nope",
        "index_uuid": "_na_",
        "index": "nope",
    },
    "status": 404,
}

ES8_UNAUTHORIZED = {
    "error": {
        "root_cause": [
            {
                "type": "security_exception",
                "reason": "missing authentication credentials for REST request [/wiki/_search]",
                "header": {"WWW-Authenticate": ['Basic realm="security" charset="UTF-8"', "ApiKey"]},
            }
        ],
        "type": "security_exception",
        "reason": "missing authentication credentials for REST request [/wiki/_search]",
        "header": {"WWW-Authenticate": ['Basic realm="security" charset="UTF-8"', "ApiKey"]},
    },
    "status": 401,
}

ES8_PARSE_ERROR = {
    "error": {
        "root_cause": [
            {
                "type": "parsing_exception",
                "reason": "[multi_match] unknown token [START_ARRAY] after [query]",
                "line": 1,
                "col": 42,
            }
        ],
        "type": "x_content_parse_exception",
        "reason": "[1:42] [bool] failed to parse field [must]",
        "caused_by": {"type": "parsing_exception", "reason": "[multi_match] unknown token [START_ARRAY]"},
    },
    "status": 400,
}

OS2_MSEARCH = {
    "took": 4,
    "responses": [
        {
            "took": 2,
            "timed_out": False,
            "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
            "hits": {
                "max_score": 1.7,
                "hits": [
                    {
                        "_index": "wiki",
                        "_id": "paris",
                        "_score": 1.7,
                        "_source": {"title": "Paris", "contents": "P"},
                    }
                ],
            },
            "status": 200,
        },
        {**OS2_SEARCH_EMPTY, "status": 200},
    ],
}

ES8_MSEARCH_ONE_FAILED = {
    "took": 5,
    "responses": [
        {**ES8_SEARCH, "status": 200},
        {
            "error": {
                "root_cause": [
                    {"type": "query_shard_exception", "reason": "failed to create query: too many clauses"}
                ],
                "type": "search_phase_execution_exception",
                "reason": "all shards failed",
                "phase": "query",
                "grouped": True,
            },
            "status": 400,
        },
    ],
}

ES8_BULK_ERRORS = {
    "errors": True,
    "took": 12,
    "items": [
        {
            "index": {
                "_index": "wiki",
                "_id": "1",
                "_version": 1,
                "result": "created",
                "_shards": {"total": 2, "successful": 1, "failed": 0},
                "_seq_no": 0,
                "_primary_term": 1,
                "status": 201,
            }
        },
        {
            "index": {
                "_index": "wiki",
                "_id": "2",
                "status": 400,
                "error": {
                    "type": "document_parsing_exception",
                    "reason": "[1:40] failed to parse field [url] of type [keyword] in document with id '2'. "
                    "Preview of field's value: '{a=b}'",
                    "caused_by": {
                        "type": "illegal_state_exception",
                        "reason": "Can't get text on a START_OBJECT",
                    },
                },
            }
        },
        {
            "index": {
                "_index": "wiki",
                "_id": "3",
                "status": 429,
                "error": {
                    "type": "es_rejected_execution_exception",
                    "reason": "rejected execution of coordinating operation",
                },
            }
        },
    ],
}

OS2_BULK_MAPPING_ERROR = {
    "took": 8,
    "errors": True,
    "items": [
        {
            "index": {
                "_index": "wiki",
                "_id": "9",
                "status": 400,
                "error": {
                    "type": "mapper_parsing_exception",
                    "reason": "failed to parse field [url] of type [keyword] in document with id '9'.",
                    "caused_by": {
                        "type": "illegal_state_exception",
                        "reason": "Can't get text on a START_OBJECT",
                    },
                },
            }
        }
    ],
}

# ---------------------------------------------------------------- builders and parsers


def test_search_body_is_a_bm25_multi_match() -> None:
    body = search_body("who is aaron", 5, ("title^2", "contents"))
    assert body == {
        "size": 5,
        "query": {
            "multi_match": {"query": "who is aaron", "fields": ["title^2", "contents"], "type": "best_fields"}
        },
        "_source": ["title", "contents", "url"],
        "track_total_hits": False,
    }


def test_msearch_body_is_header_then_body_per_query() -> None:
    text = msearch_body("wiki", ["a", "Rhône"], 3, ["contents"])
    assert text.endswith("\n")  # the engines reject an NDJSON body without the final newline
    lines = [json.loads(line) for line in text.splitlines()]
    assert lines[0] == lines[2] == {"index": "wiki"}
    assert lines[1]["query"]["multi_match"]["query"] == "a"
    assert lines[3]["query"]["multi_match"]["query"] == "Rhône"
    assert all(line.get("size", 3) == 3 for line in lines)


def test_bulk_body_indexes_under_ids_and_omits_missing_urls() -> None:
    text = bulk_body(CORPUS[:2])
    assert text.endswith("\n")
    lines = [json.loads(line) for line in text.splitlines()]
    assert lines == [
        {"index": {"_id": "aaron"}},
        {"title": "Aaron", "contents": CORPUS[0].contents, "url": "https://w/aaron"},
        {"index": {"_id": "burr"}},
        {"title": "Aaron Burr", "contents": CORPUS[1].contents},
    ]


def test_index_body_maps_text_and_keyword() -> None:
    properties = INDEX_BODY["mappings"]["properties"]
    assert properties == {"title": {"type": "text"}, "contents": {"type": "text"}, "url": {"type": "keyword"}}


def test_parse_es8_search_reply_in_both_document_shapes() -> None:
    docs = parse_hits(ES8_SEARCH)
    assert [(doc.id, doc.title, doc.score) for doc in docs] == [
        ("aaron", "Aaron", 2.4079456),
        ("17", "Aaron Burr", 1.1),
    ]
    assert docs[0].url == "https://w/aaron"
    assert docs[1].contents == "Aaron Burr was the third vice president."
    assert docs[0].extra == {"engine": "elasticsearch", "index": "wiki"}
    assert parse_hits(OS2_SEARCH_EMPTY, engine="opensearch") == []


@pytest.mark.parametrize(
    "reply",
    [
        {},
        {"hits": {}},
        {"hits": {"hits": {}}},
        {"hits": {"hits": [{"_source": {"contents": "no id"}}]}},
        ["x"],
    ],
)
def test_malformed_search_replies_are_search_errors(reply: Any) -> None:
    with pytest.raises(SearchError, match="malformed elasticsearch search reply"):
        parse_hits(reply)


def test_parse_opensearch_msearch_reply() -> None:
    results = parse_msearch(OS2_MSEARCH, 2, engine="opensearch")
    assert [[doc.id for doc in docs] for docs in results] == [["paris"], []]


def test_msearch_with_a_failed_query_raises_instead_of_returning_nothing() -> None:
    with pytest.raises(SearchError, match=r"failed query 2 of 2 \(HTTP 400\): query_shard_exception: failed"):
        parse_msearch(ES8_MSEARCH_ONE_FAILED, 2)
    with pytest.raises(SearchError, match="1 responses for 2 queries"):
        parse_msearch({"responses": [OS2_SEARCH_EMPTY]}, 2)


def test_bulk_failures_from_es8_and_opensearch() -> None:
    assert (
        bulk_failures({"took": 3, "errors": False, "items": [{"index": {"_id": "1", "status": 201}}]}) == []
    )
    failures = bulk_failures(ES8_BULK_ERRORS)
    assert [(doc_id, status) for doc_id, status, _ in failures] == [("2", 400), ("3", 429)]
    assert failures[0][2].startswith("document_parsing_exception: [1:40] failed to parse field [url]")
    ((doc_id, status, reason),) = bulk_failures(OS2_BULK_MAPPING_ERROR)
    assert (doc_id, status) == ("9", 400)
    assert reason.startswith("mapper_parsing_exception: failed to parse field [url]")
    with pytest.raises(SearchError, match="malformed _bulk reply"):
        bulk_failures({"error": "nope"})


def test_error_reason_prefers_the_root_cause() -> None:
    assert error_reason(ES8_INDEX_NOT_FOUND) == "index_not_found_exception: no such index [nope]"
    assert (
        error_reason(ES8_PARSE_ERROR)
        == "parsing_exception: [multi_match] unknown token [START_ARRAY] after [query]"
    )
    assert error_reason("Unauthorized") == "Unauthorized"  # OpenSearch's security plugin answers in text
    assert error_reason({"error": "plain message"}) == "plain message"
    assert error_reason(None) == "None"
    assert error_reason("") == "(empty body)"


def test_constructor_validates_and_hides_credentials() -> None:
    with pytest.raises(ValueError, match="flavor"):
        ElasticsearchBackend("http://localhost:9200", "wiki", flavor="solr")
    with pytest.raises(ValueError, match="invalid index name"):
        ElasticsearchBackend("http://localhost:9200", "Wiki")
    with pytest.raises(ValueError, match="url must be"):
        ElasticsearchBackend("localhost:9200", "wiki")
    backend = ElasticsearchBackend("https://elastic:s3cret@localhost:9200/", "wiki")
    assert backend.url == "https://localhost:9200"
    assert "s3cret" not in repr(backend)
    backend.close()
    backend.close()  # idempotent


def test_make_backend_builds_both_flavors() -> None:
    with make_backend("opensearch", url="http://localhost:9200", index="wiki") as backend:
        assert isinstance(backend, ElasticsearchBackend)
        assert backend.name == backend.flavor == "opensearch"
    with make_backend({"type": "elasticsearch", "url": "http://localhost:9200", "index": "wiki"}) as backend:
        assert backend.name == "elasticsearch"


# ---------------------------------------------------------------- a fake cluster behind MockTransport


class FakeCluster:
    """Just enough of the REST API, answering in the engines' JSON, to drive the client end to end."""

    def __init__(self, *, api_key: str | None = None, overload_bulks: int = 0) -> None:
        self.indices: dict[str, dict[str, dict[str, Any]]] = {}
        self.api_key = api_key
        self.overload_bulks = overload_bulks
        self.requests: list[httpx.Request] = []

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.api_key is not None and request.headers.get("authorization") != f"ApiKey {self.api_key}":
            return httpx.Response(401, json=ES8_UNAUTHORIZED)
        # Split the raw path before unquoting: "%2F" inside an id must not split it.
        parts = [unquote(part) for part in request.url.raw_path.decode().split("?")[0].split("/")[1:]]
        method = request.method
        if parts == [""]:
            return httpx.Response(200, json={"name": "fake", "version": {"number": "8.15.0"}})
        if parts == ["_msearch"]:
            lines = [json.loads(line) for line in request.content.decode().splitlines()]
            responses = []
            for header, body in zip(lines[::2], lines[1::2], strict=True):
                if header["index"] not in self.indices:
                    responses.append({**_not_found(header["index"]), "status": 404})
                else:
                    responses.append({**self._search(header["index"], body), "status": 200})
            return httpx.Response(200, json={"took": 1, "responses": responses})
        name, *rest = parts
        docs = self.indices.get(name)
        if method == "PUT" and not rest:
            if docs is not None:
                error = {
                    "type": "resource_already_exists_exception",
                    "reason": f"index [{name}] already exists",
                }
                return httpx.Response(400, json={"error": {"root_cause": [error], **error}, "status": 400})
            self.indices[name] = {}
            return httpx.Response(
                200, json={"acknowledged": True, "shards_acknowledged": True, "index": name}
            )
        if docs is None:
            return httpx.Response(404, text="" if method == "HEAD" else json.dumps(_not_found(name)))
        if method == "HEAD":
            return httpx.Response(200)
        if method == "DELETE":
            del self.indices[name]
            return httpx.Response(200, json={"acknowledged": True})
        if rest == ["_bulk"]:
            assert request.headers["content-type"] == "application/x-ndjson"
            if self.overload_bulks:
                self.overload_bulks -= 1
                error = {"type": "es_rejected_execution_exception", "reason": "rejected execution"}
                return httpx.Response(429, json={"error": {"root_cause": [error], **error}, "status": 429})
            lines = [json.loads(line) for line in request.content.decode().splitlines()]
            items = []
            for action, source in zip(lines[::2], lines[1::2], strict=True):
                doc_id = action["index"]["_id"]
                docs[doc_id] = source
                items.append({"index": {"_index": name, "_id": doc_id, "result": "created", "status": 201}})
            return httpx.Response(200, json={"took": 2, "errors": False, "items": items})
        if rest == ["_refresh"]:
            return httpx.Response(200, json={"_shards": {"total": 1, "successful": 1, "failed": 0}})
        if rest == ["_count"]:
            return httpx.Response(200, json={"count": len(docs), "_shards": {"total": 1}})
        if rest == ["_search"]:
            return httpx.Response(200, json=self._search(name, json.loads(request.content)))
        if len(rest) == 2 and rest[0] == "_doc":
            doc_id = rest[1]
            if doc_id not in docs:
                return httpx.Response(404, json={"_index": name, "_id": doc_id, "found": False})
            return httpx.Response(
                200,
                json={"_index": name, "_id": doc_id, "_version": 1, "found": True, "_source": docs[doc_id]},
            )
        return httpx.Response(
            400, json={"error": f"no handler for [{method} {request.url.path}]", "status": 400}
        )

    def _search(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        """Term overlap with the title counted twice: enough ranking to check the order comes through."""
        terms = set(_tokens(body["query"]["multi_match"]["query"]))
        scored = []
        for doc_id, source in self.indices[name].items():
            score = 2 * len(terms & set(_tokens(source.get("title", "")))) + len(
                terms & set(_tokens(source["contents"]))
            )
            if score:
                scored.append((-score, doc_id, source))
        scored.sort(key=lambda hit: hit[:2])
        hits = [
            {"_index": name, "_id": doc_id, "_score": float(-neg), "_source": source}
            for neg, doc_id, source in scored[: body["size"]]
        ]
        return {
            "took": 1,
            "timed_out": False,
            "hits": {"max_score": hits[0]["_score"] if hits else None, "hits": hits},
        }


def _tokens(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def _not_found(index: str) -> dict[str, Any]:
    return json.loads(json.dumps(ES8_INDEX_NOT_FOUND).replace("nope", index))


def _fake_backend(cluster: FakeCluster, **kwargs: Any) -> ElasticsearchBackend:
    return ElasticsearchBackend("http://fake:9200", "wiki", transport=cluster.transport(), **kwargs)


def test_index_search_fetch_count_delete_against_the_fake(tmp_path: Path) -> None:
    cluster = FakeCluster(api_key="aWQ6c2VjcmV0")  # base64("id:secret")
    corpus = tmp_path / "corpus.jsonl"
    write_corpus(CORPUS, corpus)
    with _fake_backend(cluster, api_key=("id", "secret")) as backend:
        assert backend.info()["version"]["number"] == "8.15.0"
        assert not backend.exists()
        assert backend.index_corpus(corpus, batch_size=4, progress=False) == len(CORPUS)
        bulks = [r for r in cluster.requests if r.url.path.endswith("/_bulk")]
        assert len(bulks) == 2  # 6 documents in batches of 4
        put = next(r for r in cluster.requests if r.method == "PUT")
        assert json.loads(put.content) == INDEX_BODY
        assert backend.exists() and backend.count() == len(CORPUS)
        assert [doc.id for doc in backend.search("aaron burr vice president", k=2)] == ["burr", "aaron"]
        assert backend.search("aaron", k=0) == []
        batch = backend.search_batch(["capital of France", "hot beverage leaves", "zzz"], k=1)
        assert [[doc.id for doc in docs] for docs in batch] == [["paris"], ["tea"], []]
        assert backend.search_batch([]) == []
        odd = backend.fetch("a/b c?#")
        assert odd is not None and odd.title == "Odd id" and odd.score is None
        assert backend.fetch("aaron") == CORPUS[0]
        assert backend.fetch("missing") is None
        # Indexing again replaces documents by id instead of duplicating them.
        assert backend.index_corpus(CORPUS[:2], progress=False) == 2
        assert backend.count() == len(CORPUS)
        assert backend.delete_index() and not backend.delete_index()


def test_overloaded_bulk_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "sleep", lambda seconds: None)
    cluster = FakeCluster(overload_bulks=2)
    with _fake_backend(cluster) as backend:
        assert backend.index_corpus(CORPUS, progress=False) == len(CORPUS)
        assert backend.count() == len(CORPUS)
    cluster = FakeCluster(overload_bulks=99)
    with _fake_backend(cluster) as backend, pytest.raises(SearchError, match="stayed overloaded"):
        backend.index_corpus(CORPUS, progress=False)


def test_rejected_documents_are_named() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            return httpx.Response(200, json={"acknowledged": True})
        return httpx.Response(200, json=OS2_BULK_MAPPING_ERROR)

    backend = ElasticsearchBackend(
        "http://fake:9200", "wiki", flavor="opensearch", transport=httpx.MockTransport(handler)
    )
    with (
        backend,
        pytest.raises(SearchError, match=r"opensearch rejected 1 of 6 documents: id '9' \(HTTP 400\)"),
    ):
        backend.index_corpus(CORPUS, progress=False)


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (401, ES8_UNAUTHORIZED, "refused the credentials .*security_exception: missing authentication"),
        (401, "Unauthorized", r"refused the credentials \(HTTP 401: Unauthorized\)"),
        (403, {"error": {"type": "security_exception", "reason": "action denied"}}, "HTTP 403"),
        (404, ES8_INDEX_NOT_FOUND, "index 'wiki' does not exist on elasticsearch at http://fake:9200"),
        (400, ES8_PARSE_ERROR, r"failed \(HTTP 400\): parsing_exception"),
        (503, "<html>Service Unavailable</html>", r"HTTP 503.*Service Unavailable"),
        (200, "<html>not an engine</html>", "malformed reply .*not JSON"),
        (200, {"unexpected": True}, "malformed elasticsearch search reply"),
    ],
)
def test_engine_errors_become_clear_search_errors(status: int, body: Any, message: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(body, str):
            return httpx.Response(status, text=body)
        return httpx.Response(status, json=body)

    backend = ElasticsearchBackend("http://fake:9200", "wiki", transport=httpx.MockTransport(handler))
    with backend, pytest.raises(SearchError, match=message):
        backend.search("anything")


def test_fetch_from_a_missing_index_is_an_error_not_none() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(404, json=ES8_INDEX_NOT_FOUND))
    with ElasticsearchBackend("http://fake:9200", "wiki", transport=transport) as backend:
        with pytest.raises(SearchError, match="does not exist"):
            backend.fetch("1")
        with pytest.raises(SearchError, match="does not exist"):
            backend.count()


def test_timeouts_become_search_errors() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    backend = ElasticsearchBackend(
        "http://fake:9200", "wiki", timeout_s=0.5, transport=httpx.MockTransport(handler)
    )
    with backend, pytest.raises(SearchError, match=r"did not answer POST /wiki/_search within 0.5 s"):
        backend.search("anything")


def test_dead_endpoint_fails_fast_with_a_search_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # The port is closed now: connecting is refused at once.
    backend = ElasticsearchBackend(f"http://127.0.0.1:{port}", "wiki", timeout_s=5)
    started = time.monotonic()
    with backend:
        with pytest.raises(SearchError, match=rf"cannot connect to elasticsearch at http://127.0.0.1:{port}"):
            backend.search("anything")
        with pytest.raises(SearchError, match="cannot connect"):
            backend.search_batch(["a", "b"])
        with pytest.raises(SearchError, match="cannot connect"):
            backend.fetch("1")
    assert time.monotonic() - started < 3
    with pytest.raises(SearchError, match="closed"):
        backend.search("after close")


# ---------------------------------------------------------------- a real cluster, when there is one


def _live_clusters() -> list[Any]:
    params = []
    for flavor in ("elasticsearch", "opensearch"):
        variable = f"RLVR_{flavor.upper()}_URL"
        marks = []
        if not os.environ.get(variable):
            marks.append(
                pytest.mark.skip(reason=f"no live {flavor}: set {variable}=http(s)://[user:pw@]host:port")
            )
        params.append(pytest.param(flavor, marks=marks, id=flavor))
    return params


@pytest.fixture(params=_live_clusters())
def live_backend(request: pytest.FixtureRequest) -> Iterator[ElasticsearchBackend]:
    flavor: str = request.param
    prefix = f"RLVR_{flavor.upper()}"
    backend = ElasticsearchBackend(
        os.environ[f"{prefix}_URL"],
        f"rlvr-test-{uuid.uuid4().hex[:12]}",
        flavor=flavor,
        api_key=os.environ.get(f"{prefix}_API_KEY") or None,
        verify=os.environ.get(f"{prefix}_VERIFY", "1") not in ("0", "false", "no"),
        timeout_s=30,
    )
    try:
        yield backend
    finally:
        try:
            backend.delete_index()
        finally:
            backend.close()


def test_live_round_trip(live_backend: ElasticsearchBackend) -> None:
    backend = live_backend
    assert "version" in backend.info()
    assert not backend.exists()
    with pytest.raises(SearchError, match="does not exist"):
        backend.search("aaron")
    assert backend.index_corpus(CORPUS, batch_size=4, progress=False) == len(CORPUS)
    assert backend.count() == len(CORPUS)
    top = backend.search("vice president Aaron Burr", k=3)
    assert top[0].id == "burr" and top[0].title == "Aaron Burr"
    assert top[0].score is not None and top[0].score > 0
    assert [doc.score for doc in top] == sorted((doc.score for doc in top), reverse=True)
    batch = backend.search_batch(["capital of France", "aromatic beverage", "qwxzv"], k=1)
    assert [[doc.id for doc in docs] for docs in batch] == [["paris"], ["tea"], []]
    assert backend.fetch("a/b c?#") == CORPUS[4]
    assert backend.fetch("aaron") == CORPUS[0]
    assert backend.fetch("no-such-id") is None
    assert backend.delete_index()
    assert not backend.exists()

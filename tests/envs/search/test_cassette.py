"""``Cassette``: record search traffic through a real local server, replay it with the server gone."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from rlvr.envs.search.backends import make_backend
from rlvr.envs.search.backends.base import Document, SearchBackend, SearchError
from rlvr.envs.search.backends.cassette import Cassette, RecordingBackend
from rlvr.envs.search.backends.web import WebSearch
from tests.envs.search.test_web_backend import FAST, FakeWeb


@pytest.fixture
def web() -> Iterator[FakeWeb]:
    server = FakeWeb()
    yield server
    server.stop()


class Counting(SearchBackend):
    """An in-memory engine that counts its calls and fails on demand."""

    def __init__(self, fail: Sequence[str] = ()) -> None:
        self.calls: list[tuple[str, str]] = []
        self.fail = set(fail)
        self.closed = False

    def search(self, query: str, k: int = 3) -> list[Document]:
        self.calls.append(("search", query))
        if query in self.fail:
            raise SearchError(f"engine down for {query!r}")
        return [
            Document(id=f"{query}-{i}", title=f"{query} {i}", contents="...", score=float(-i))
            for i in range(k)
        ]

    def fetch(self, ref: str) -> Document | None:
        self.calls.append(("fetch", ref))
        return None if ref == "gone" else Document(id=ref, title=ref, contents=f"page {ref}", extra={"n": 1})

    def close(self) -> None:
        self.closed = True


def test_a_recording_replays_identically_with_the_server_gone(web: FakeWeb, tmp_path: Path):
    path = tmp_path / "run.jsonl"
    live = WebSearch("searxng", base_url=f"{web.url}/searxng", allow_private_urls=True, **FAST)
    with Cassette(path, mode="record", inner=live) as recorder:
        searched = recorder.search_batch(["eiffel tower", "louvre"], k=3)
        single = recorder.search("notre dame", k=2)
        page = recorder.fetch(f"{web.url}/pages/article.html")
        missing_page = recorder.fetch(f"{web.url}/pages/missing")
    assert web.hits() == 5
    web.stop()

    with Cassette(path, mode="replay") as replay:
        assert replay.search_batch(["eiffel tower", "louvre"], k=3) == searched
        assert replay.search("notre  dame ", k=2) == single  # whitespace is not part of the key
        replayed = replay.fetch(f"{web.url}/pages/article.html")
        assert replayed == page and replayed is not None and page is not None
        assert replayed.extra == page.extra and replayed.contents.startswith("Eiffel Tower")
        assert replay.fetch(f"{web.url}/pages/missing") is missing_page is None
        assert [doc.extra for doc in replay.search("louvre", k=3)] == [doc.extra for doc in searched[1]]
        assert replay.search("eiffel tower", k=2) == searched[0][:2]  # a larger k answers a smaller one


def test_replay_names_what_was_never_recorded(tmp_path: Path):
    path = tmp_path / "c.jsonl"
    with Cassette(path, mode="record", inner=Counting()) as recorder:
        recorder.search("known", k=2)
    replay = Cassette(path, mode="replay")
    with pytest.raises(SearchError, match=r"no recording of search 'unknown query' \(k=2\)"):
        replay.search("unknown query", k=2)
    with pytest.raises(SearchError, match=r"no recording of search 'known' \(k=5\)"):
        replay.search("known", k=5)
    with pytest.raises(SearchError, match=r"no recording of fetch 'https://nowhere\.example/'"):
        replay.fetch("https://nowhere.example/")
    with pytest.raises(SearchError, match="does not exist"):
        Cassette(tmp_path / "absent.jsonl", mode="replay")


def test_auto_replays_what_it_has_and_records_the_rest(tmp_path: Path):
    path = tmp_path / "auto.jsonl"
    inner = Counting()
    with Cassette(path, mode="auto", inner=inner) as cassette:
        first = cassette.search_batch(["a", "b", "a"], k=2)
        assert cassette.search("b", k=2) == first[1]
        assert cassette.fetch("gone") is None and cassette.fetch("gone") is None
    assert inner.calls == [("search", "a"), ("search", "b"), ("fetch", "gone")]
    assert inner.closed

    # A later run that stays on the recording never builds its inner backend (no key needed offline).
    offline = {"type": "web", "provider": "tavily", "api_key": None, "base_url": "http://127.0.0.1:9"}
    with Cassette(path, mode="auto", inner=offline) as cassette:
        assert cassette.search_batch(["a", "b"], k=2) == [first[0], first[1]]
        assert cassette._inner is None


def test_record_mode_always_asks_and_the_last_answer_wins(tmp_path: Path):
    path = tmp_path / "r.jsonl"
    inner = Counting()
    with Cassette(path, mode="record", inner=inner) as cassette:
        cassette.search("q", k=1)
        cassette.search("q", k=1)
    assert inner.calls == [("search", "q"), ("search", "q")]
    assert len(Cassette(path, mode="replay")) == 1


def test_engine_errors_are_recorded_and_replayed(tmp_path: Path):
    path = tmp_path / "e.jsonl"
    inner = Counting(fail=["bad"])
    with Cassette(path, mode="auto", inner=inner) as cassette:
        with pytest.raises(SearchError, match="engine down"):
            cassette.search_batch(["good", "bad"], k=1)
        assert cassette.search("good", k=1)[0].id == "good-0"
    replay = Cassette(path, mode="replay")
    with pytest.raises(SearchError, match="engine down for 'bad'"):
        replay.search("bad", k=1)
    assert replay.search("good", k=1)[0].id == "good-0"


def test_a_torn_last_line_loses_only_that_call(tmp_path: Path):
    path = tmp_path / "torn.jsonl"
    with Cassette(path, mode="record", inner=Counting()) as cassette:
        one = cassette.search("one", k=1)
        two = cassette.search("two", k=1)
    with path.open("ab") as handle:  # a crash in the middle of writing the third call
        handle.write(b'{"op": "search", "query": "three", "k": 1, "results": [{"id": "thr')
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        replay = Cassette(path, mode="replay")
        assert replay.search("one", k=1) == one and replay.search("two", k=1) == two
        with pytest.raises(SearchError, match="three"):
            replay.search("three", k=1)
        with Cassette(path, mode="auto", inner=Counting()) as cassette:  # carries on after the crash
            three = cassette.search("three", k=1)
        again = Cassette(path, mode="replay")
        assert [again.search(q, k=1) for q in ("one", "two", "three")] == [one, two, three]
    lines = path.read_text().splitlines()
    assert all(json.loads(line) for line in lines) and len(lines) == 4  # header + 3 calls


def test_a_corrupt_middle_line_is_skipped_with_a_warning(tmp_path: Path):
    path = tmp_path / "mid.jsonl"
    good = {"op": "search", "query": "ok", "k": 1, "results": [{"id": "x", "title": "t", "contents": "c"}]}
    path.write_text("not json\n" + json.dumps(good) + "\n")
    with pytest.warns(RuntimeWarning, match="line 1"):
        replay = Cassette(path, mode="replay")
    assert replay.search("ok", k=1) == [Document(id="x", title="t", contents="c")]


def test_configured_by_name_with_a_web_backend_inside(web: FakeWeb, tmp_path: Path):
    path = tmp_path / "cfg.jsonl"
    inner = {"type": "web", "provider": "searxng", "base_url": f"{web.url}/searxng", **FAST}
    with make_backend({"type": "cassette", "path": str(path), "mode": "auto", "inner": inner}) as backend:
        assert isinstance(backend, Cassette)
        recorded = backend.search("config", k=2)
    web.stop()
    with make_backend({"type": "cassette", "path": str(path), "mode": "replay"}) as backend:
        assert backend.search("config", k=2) == recorded
    assert RecordingBackend is Cassette


def test_bad_modes_and_missing_inner_are_config_errors(tmp_path: Path):
    with pytest.raises(ValueError, match="mode must be one of"):
        Cassette(tmp_path / "x.jsonl", mode="rewind")
    for mode in ("record", "auto"):
        with pytest.raises(ValueError, match="needs an inner backend"):
            Cassette(tmp_path / "x.jsonl", mode=mode)

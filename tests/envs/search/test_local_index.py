"""The embedded BM25 index: ranking, pages, hostile queries, and builds that resume and grow."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rlvr.envs.search.backends import SearchError, make_backend
from rlvr.envs.search.backends.base import Document
from rlvr.envs.search.backends.local import LocalIndex, build_index

DOCS = [
    Document(
        "velka#0", "Velka", "Velka is a river in Oster that flows into the Morrin Sea.", "https://w/velka"
    ),
    Document(
        "velka#1", "Velka", "Its source lies in the Tarn hills, near the town of Brisk.", "https://w/velka"
    ),
    Document("brisk#0", "Brisk", "Brisk is a town in Oster founded in 1721 by Ada Quell.", "https://w/brisk"),
    Document("quell#0", "Ada Quell", "Ada Quell (1690-1750) was a merchant born in Lorn.", None),
    Document("lorn#0", "Lorn", "Lorn is the capital of Oster, on the Morrin Sea.", "https://w/lorn"),
]


def _write_jsonl(path: Path, documents: list[Document]) -> None:
    with path.open("a") as handle:
        for document in documents:
            handle.write(json.dumps(document.to_json()) + "\n")


@pytest.fixture
def index(tmp_path: Path) -> LocalIndex:
    return LocalIndex(tmp_path / "index", corpus=DOCS, fingerprint="five-docs")


def test_bm25_ranks_the_matching_passage_first_and_boosts_titles(index: LocalIndex):
    assert index.size == 5
    top = index.search("who founded the town of Brisk", 2)
    assert top[0].id == "brisk#0" and top[0].score is not None and top[0].score > 0
    assert index.search("Ada Quell", 1)[0].id == "quell#0"  # title match beats the mention in brisk#0
    assert [d.id for d in index.search("river", 5)] == ["velka#0"]


def test_stemming_matches_word_forms(index: LocalIndex):
    assert index.search("flowing rivers", 1)[0].id == "velka#0"


@pytest.mark.parametrize(
    "query", ['"unclosed', "title:Brisk AND (", "*", "NOT OR AND", "\x00\ud800", "a" * 10_000, "-brisk"]
)
def test_hostile_queries_never_raise(index: LocalIndex, query: str):
    assert isinstance(index.search(query, 3), list)


def test_empty_query_and_k_zero_give_nothing(index: LocalIndex):
    assert index.search("", 3) == [] and index.search("  ?? ", 3) == [] and index.search("brisk", 0) == []


def test_fetch_joins_the_passages_of_a_page_in_order(index: LocalIndex):
    page = index.fetch("velka#1")
    assert page is not None and page.id == "https://w/velka" and page.title == "Velka"
    assert page.contents.index("Morrin Sea") < page.contents.index("Tarn hills")
    assert index.fetch("https://w/velka") == page
    assert index.fetch("quell#0").contents == DOCS[3].contents  # no URL: the passage is its page
    assert index.fetch("nowhere") is None


def test_reopening_a_built_index_skips_the_build(tmp_path: Path, index: LocalIndex):
    assert build_index(tmp_path / "index", DOCS, fingerprint="five-docs") == 0
    reopened = LocalIndex(tmp_path / "index")
    assert reopened.size == 5
    with pytest.raises(SearchError, match="no search index"):
        LocalIndex(tmp_path / "missing")


def test_a_killed_build_resumes_without_duplicates(tmp_path: Path):
    path = tmp_path / "index"
    build_index(path, DOCS, fingerprint="f", commit_every=2)
    manifest = json.loads((path / "manifest.json").read_text())
    # As if killed after committing 4 documents but before recording the 4th in the manifest.
    manifest.update(committed=3, complete=False)
    (path / "manifest.json").write_text(json.dumps(manifest))
    assert build_index(path, DOCS, fingerprint="f") == 2
    index = LocalIndex(path)
    assert index.size == 5
    assert sorted(d.id for d in index.search("Oster Lorn Brisk Velka Quell", 10)) == sorted(
        d.id for d in DOCS
    )


def test_an_appended_corpus_file_indexes_only_its_new_lines(tmp_path: Path):
    corpus = tmp_path / "corpus.jsonl"
    _write_jsonl(corpus, DOCS[:3])
    assert build_index(tmp_path / "index", corpus) == 3
    _write_jsonl(corpus, DOCS[3:])
    assert build_index(tmp_path / "index", corpus) == 2
    assert build_index(tmp_path / "index", corpus) == 0
    # A rewritten file (different start) is a different corpus: rebuilt from scratch.
    corpus.write_text("")
    _write_jsonl(corpus, DOCS[4:])
    assert build_index(tmp_path / "index", corpus) == 1
    assert LocalIndex(tmp_path / "index").size == 1


def test_flashrag_corpus_shape_and_make_backend(tmp_path: Path):
    corpus = tmp_path / "wiki.jsonl"
    corpus.write_text(json.dumps({"id": "7", "contents": '"Lorn"\nLorn is the capital of Oster.'}) + "\n")
    index = make_backend({"type": "local", "path": str(tmp_path / "ix"), "corpus": str(corpus)})
    hit = index.search("capital", 1)[0]
    assert (hit.id, hit.title, hit.contents) == ("7", "Lorn", "Lorn is the capital of Oster.")
    with pytest.raises(SearchError, match="does not exist"):
        LocalIndex(tmp_path / "ix2", corpus=tmp_path / "absent.jsonl")
    with pytest.raises(ValueError, match="unknown search backend"):
        make_backend("altavista")

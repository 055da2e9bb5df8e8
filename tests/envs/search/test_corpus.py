"""Corpus JSONL: both shapes in the wild read into one Document, bad lines named by number."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from rlvr.envs.search.backends.base import Document
from rlvr.envs.search.corpus import (
    corpus_progress,
    document_from_record,
    read_corpus,
    split_quoted_title,
    write_corpus,
)


def _write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_reads_our_shape_and_the_flashrag_shape(tmp_path: Path) -> None:
    corpus = _write_lines(
        tmp_path / "corpus.jsonl",
        [
            json.dumps({"id": "a", "title": "Aaron", "contents": "A prophet.", "url": "https://x/a"}),
            "",
            "   ",
            json.dumps({"id": 7, "contents": '"Aaron Burr"\nThird vice president.\nSecond line.'}),
            json.dumps({"id": "c", "contents": "No title line here.\nMore text."}),
            json.dumps({"id": "d", "contents": '"Only a quoted line, no newline"'}),
            json.dumps({"id": "e", "title": "", "contents": '"Kept"\nbecause the title key is present'}),
        ],
    )
    docs = list(read_corpus(corpus))
    assert [doc.id for doc in docs] == ["a", "7", "c", "d", "e"]
    assert docs[0] == Document("a", "Aaron", "A prophet.", "https://x/a")
    assert (docs[1].title, docs[1].contents) == ("Aaron Burr", "Third vice president.\nSecond line.")
    assert (docs[2].title, docs[2].contents) == ("", "No title line here.\nMore text.")
    assert (docs[3].title, docs[3].contents) == ("", '"Only a quoted line, no newline"')
    assert (docs[4].title, docs[4].contents) == ("", '"Kept"\nbecause the title key is present')


def test_split_quoted_title() -> None:
    assert split_quoted_title('"T"\nbody') == ("T", "body")
    assert split_quoted_title('  "Spaced title"  \nbody') == ("Spaced title", "body")
    assert split_quoted_title('"Unclosed\nbody') == ("", '"Unclosed\nbody')
    assert split_quoted_title("") == ("", "")


def test_extra_fields_are_kept() -> None:
    doc = document_from_record({"id": "x", "contents": "c", "date": "2024-01-01"})
    assert doc.extra == {"date": "2024-01-01"}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"id": "a", "contents": "ok"', "malformed JSON"),
        ('{"title": "t", "contents": "c"}', "missing 'id'"),
        ('{"id": "a"}', "missing 'contents'"),
        ('{"id": null, "contents": null}', "missing 'id' and 'contents'"),
        ('["id", "contents"]', "expected a JSON object"),
        ('{"id": "a", "contents": 3}', "'contents' must be a string"),
        ('{"id": true, "contents": "c"}', "'id' must be a string or an integer"),
        ('{"id": "a", "contents": "c", "title": 1}', "'title' must be a string"),
        ('{"id": "a", "contents": "c", "url": 1}', "'url' must be a string"),
    ],
)
def test_bad_lines_name_their_line_number(tmp_path: Path, line: str, message: str) -> None:
    good = json.dumps({"id": "ok", "contents": "fine"})
    corpus = _write_lines(tmp_path / "bad.jsonl", [good, "", line, good])
    docs = read_corpus(corpus)
    assert next(docs).id == "ok"  # lazily: the good line before the bad one is served
    with pytest.raises(ValueError, match=f"bad.jsonl:3: {message}"):
        next(docs)


def test_write_then_read_round_trips_including_gzip(tmp_path: Path) -> None:
    docs = [
        Document("1", "Ünïcode", "line one\nline two", "https://example.org/1"),
        Document("2", "", "no title, no url", score=0.5),
    ]
    for name in ("out.jsonl", "out.jsonl.gz"):
        path = tmp_path / name
        assert write_corpus(iter(docs), path) == 2
        back = list(read_corpus(path))
        assert back == [Document("1", "Ünïcode", "line one\nline two", "https://example.org/1"),
                        Document("2", "", "no title, no url")]  # fmt: skip
        assert not path.with_name(name + ".partial").exists()
    with gzip.open(tmp_path / "out.jsonl.gz", "rt", encoding="utf-8") as file:
        first = json.loads(file.readline())
    assert first == {
        "id": "1",
        "title": "Ünïcode",
        "contents": "line one\nline two",
        "url": "https://example.org/1",
    }
    assert "score" not in (tmp_path / "out.jsonl").read_text()


def test_interrupted_write_leaves_no_file(tmp_path: Path) -> None:
    def docs():
        yield Document("1", "t", "c")
        raise KeyboardInterrupt

    path = tmp_path / "out.jsonl"
    with pytest.raises(KeyboardInterrupt):
        write_corpus(docs(), path)
    assert list(tmp_path.iterdir()) == []


def test_progress_can_be_off_or_on() -> None:
    with corpus_progress("quiet", 3, enabled=False) as advance:
        advance(3)
    with corpus_progress("loud", None) as advance:
        advance(2)

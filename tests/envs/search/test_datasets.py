"""Question sets: FlashRAG-shaped files, the generated world's splits, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rlvr.envs.search.datasets import load_flashrag, load_questions, read_questions, world_questions
from rlvr.envs.search.world import generate_world, write_questions


def test_flashrag_jsonl_round_trip_and_shapes(tmp_path: Path):
    path = tmp_path / "nq.jsonl"
    path.write_text(
        json.dumps({"id": "a", "question": "q1?", "golden_answers": ["x", "y"]})
        + "\n\n"
        + json.dumps({"id": 2, "question": "q2?", "answers": "z", "metadata": {"hops": 2}})
        + "\n"
    )
    first, second = read_questions(path)
    assert (first.id, first.golden_answers) == ("a", ("x", "y"))
    assert (second.id, second.golden_answers, second.hops) == ("2", ("z",), 2)
    assert load_questions(str(path)) == [first, second]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"question": "", "golden_answers": ["x"]}', "no 'question'"),
        ('{"question": "q", "golden_answers": []}', "non-empty list"),
    ],
)
def test_malformed_lines_name_their_line_number(tmp_path: Path, line: str, message: str):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"question": "ok", "golden_answers": ["x"]}) + "\n" + line + "\n")
    with pytest.raises(ValueError, match=rf"bad.jsonl:2: .*{message}"):
        read_questions(path)


def test_generated_questions_round_trip_through_files(tmp_path: Path):
    questions = generate_world(0, size="tiny").questions(20)
    write_questions(questions, tmp_path / "q.jsonl")
    assert read_questions(tmp_path / "q.jsonl") == questions


def test_world_splits_are_disjoint_and_cover_everything():
    train = world_questions(0, size="tiny", split="train")
    test = world_questions(0, size="tiny", split="test")
    everything = world_questions(0, size="tiny")
    assert {q.id for q in train}.isdisjoint({q.id for q in test})
    assert len(train) + len(test) == len(everything) and test
    assert {q.hops for q in world_questions(0, size="tiny", hops=2)} == {2}


def test_flashrag_names_and_splits_are_checked_before_any_download():
    with pytest.raises(ValueError, match="unknown FlashRAG set"):
        load_flashrag("squad")
    with pytest.raises(ValueError, match="bamboogle has splits test"):
        load_flashrag("bamboogle", "train")
    with pytest.raises(ValueError, match="split must be one of"):
        world_questions(split="dev")

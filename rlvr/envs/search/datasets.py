"""Question sets for the search env: the generated world offline, FlashRAG's benchmarks with a network.

Every set becomes a list of ``Question`` (the world's type), so the env never cares where questions came
from. FlashRAG's shape is ``{"id", "question", "golden_answers", "metadata"?}`` per JSONL line; the
same shape is what ``write_questions`` writes, so generated sets round-trip through files.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from rlvr.envs.search.world import Question, generate_world

FLASHRAG_SETS: dict[str, tuple[str, ...]] = {
    "nq": ("train", "dev", "test"),
    "triviaqa": ("train", "dev", "test"),
    "hotpotqa": ("train", "dev"),
    "2wikimultihopqa": ("train", "dev"),
    "musique": ("train", "dev"),
    "bamboogle": ("test",),
}
"""FlashRAG's names for the Search-R1 benchmarks and the splits it publishes for each."""
FLASHRAG_REPO = "RUC-NLPIR/FlashRAG_datasets"
SPLITS = ("train", "test", "all")
"""Splits of generated sets; ``test`` holds one question in ten, chosen by a hash of its id."""


def question_from_record(record: Mapping[str, Any], *, source: str = "", line: int | None = None) -> Question:
    """A ``Question`` from a FlashRAG-shaped record; a clear ``ValueError`` when it is not one."""
    where = f"{source}:{line}: " if line is not None else ""
    question, golds = record.get("question"), record.get("golden_answers", record.get("answers"))
    if not isinstance(question, str) or not question.strip():
        raise ValueError(f"{where}record has no 'question' text")
    if isinstance(golds, str):
        golds = [golds]
    if not isinstance(golds, Sequence) or not golds or not all(isinstance(g, str) for g in golds):
        raise ValueError(f"{where}'golden_answers' must be a non-empty list of strings")
    metadata = record.get("metadata") or {}
    return Question(
        id=str(record.get("id", line if line is not None else "")),
        question=question.strip(),
        golden_answers=tuple(golds),
        hops=int(metadata.get("hops", 0)) if isinstance(metadata, Mapping) else 0,
        kind=str(metadata.get("kind", source)) if isinstance(metadata, Mapping) else source,
        supporting_ids=tuple(metadata.get("supporting_ids", ())) if isinstance(metadata, Mapping) else (),
    )


def read_questions(path: str | os.PathLike[str]) -> list[Question]:
    """Questions from a FlashRAG-shaped JSONL file; malformed lines name their line number."""
    path = Path(path)
    questions = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}:{number}: not valid JSON ({error.msg})") from None
            if not isinstance(record, dict):
                raise ValueError(f"{path}:{number}: expected a JSON object")
            questions.append(question_from_record(record, source=path.name, line=number))
    if not questions:
        raise ValueError(f"{path} holds no questions")
    return questions


def load_flashrag(name: str, split: str = "test", *, limit: int | None = None) -> list[Question]:
    """One of ``FLASHRAG_SETS`` from the Hugging Face hub (needs the ``datasets`` extra and a network).

    Pair it with a Wikipedia corpus in a backend, e.g. ``LocalIndex(corpus="wiki18_100w.jsonl")`` or the
    Search-R1 retriever server; the generated world cannot answer these.
    """
    if name not in FLASHRAG_SETS:
        raise ValueError(f"unknown FlashRAG set {name!r}; known: {', '.join(FLASHRAG_SETS)}")
    if split not in FLASHRAG_SETS[name]:
        raise ValueError(f"{name} has splits {', '.join(FLASHRAG_SETS[name])}, not {split!r}")
    try:
        import datasets
    except ImportError as error:
        raise ImportError("loading FlashRAG sets needs `pip install rlvr-gym[datasets]`") from error
    rows = datasets.load_dataset(FLASHRAG_REPO, name, split=split)
    if limit is not None:
        rows = rows.select(range(min(limit, len(rows))))
    return [question_from_record(row, source=name, line=index) for index, row in enumerate(rows)]


def in_split(question_id: str, split: str) -> bool:
    """Whether a generated question belongs to ``split`` (a stable 90/10 cut on its id)."""
    if split == "all":
        return True
    held_out = hashlib.sha256(question_id.encode()).digest()[0] < 26  # 26/256 ~ one in ten
    return held_out if split == "test" else not held_out


def world_questions(
    seed: int = 0, *, size: str | int = "default", split: str = "all", hops: int | Iterable[int] | None = None
) -> list[Question]:
    """The generated world's questions for one split."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}")
    world = generate_world(seed, size=size)
    wanted = tuple(hops) if hops is not None and not isinstance(hops, int) else hops
    return [q for q in world.questions(hops=wanted) if in_split(q.id, split)]


def load_questions(
    source: str | os.PathLike[str] | Sequence[Question | Mapping[str, Any]], **options: Any
) -> list[Question]:
    """Questions from ``"world"``, a FlashRAG set name (``"nq"`` or ``"nq:dev"``), a JSONL path, or a list."""
    if isinstance(source, (str, os.PathLike)):
        text = str(source)
        if text == "world":
            return world_questions(**options)
        name, _, split = text.partition(":")
        if name in FLASHRAG_SETS:
            return load_flashrag(name, split or FLASHRAG_SETS[name][-1], limit=options.get("limit"))
        return read_questions(text)
    return [
        item if isinstance(item, Question) else question_from_record(item, source="list", line=index)
        for index, item in enumerate(source)
    ]

"""Temporal KG questions as one small type, read from MultiTQ, TimeQuestions or our own JSONL.

Public temporal QA sets disagree on field names and answer encodings, while an env only needs the text,
the accepted answers, whether they are entities or times, and a label to break scores down by. Reading
every source into ``KGQuestion`` keeps that mess here:

* **MultiTQ** (``{"quid", "question", "answers", "answer_type", "time_level", "qtype", "qlabel"}``):
  ``granularity`` is ``time_level`` (the time granularity the question is about, also for entity
  answers), ``operator`` is ``qtype`` ("equal", "before_after", "first_last", ...), ``qlabel``
  ("Single"/"Multiple") goes to ``meta``.
* **TimeQuestions** (``{"Id", "Question", "Answer": [{"AnswerType", "AnswerArgument", "WikidataLabel"}],
  "Temporal signal", "Type"}``): entity answers use their Wikidata label (the QID when there is none);
  value answers are Wikidata timestamps (``1998-01-01T00:00:00Z``) that carry no precision, so a
  timestamp on 1 January is read as a year (how the set encodes year answers, its commonest kind) and
  any other as a day. ``operator`` is the question type(s) ("Explicit", "Implicit", "Ordinal",
  "Temp.Ans", joined by "+"), the temporal signal goes to ``meta``. Non-time values (counts) keep
  their text and make the question an ``"entity"`` one, matched as text.
* **Ours**: JSONL, one ``KGQuestion.to_dict()`` a line (``write_questions``), so generated sets
  round-trip.

Files may be a JSON list or JSONL; a malformed record is a ``ValueError`` naming the file and the
record's line (JSONL) or index (JSON list).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from rlvr.envs.temporal_kg.timeutil import GRANULARITIES, Granularity, Period, parse_loose

AnswerType = Literal["entity", "time"]
QUESTION_FORMATS = ("multitq", "timequestions", "rlvr")


@dataclass(frozen=True)
class KGQuestion:
    """One question over a temporal KG, with every accepted answer."""

    id: str
    question: str
    answers: tuple[str, ...]
    answer_type: AnswerType = "entity"
    granularity: Granularity | None = None
    operator: str | None = None
    """The question's kind, to break results down by (MultiTQ ``qtype``, TimeQuestions type, ours)."""
    source: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        answers = (self.answers,) if isinstance(self.answers, str) else tuple(self.answers)
        object.__setattr__(self, "answers", tuple(str(answer) for answer in answers))
        object.__setattr__(self, "id", str(self.id))
        if self.answer_type not in ("entity", "time"):
            raise ValueError(f"answer_type must be 'entity' or 'time', got {self.answer_type!r}")
        if self.granularity is not None and self.granularity not in GRANULARITIES:
            raise ValueError(f"granularity must be one of {GRANULARITIES} or None, got {self.granularity!r}")
        if not isinstance(self.question, str) or not self.question.strip():
            raise ValueError("question must be non-empty text")
        if not self.answers:
            raise ValueError("a question needs at least one answer")

    @property
    def qtype(self) -> str | None:
        """Alias of ``operator`` under MultiTQ's name."""
        return self.operator

    def to_dict(self) -> dict[str, Any]:
        record = asdict(self)
        record["answers"] = list(self.answers)
        record["meta"] = dict(self.meta)
        return record

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> KGQuestion:
        known = {"id", "question", "answers", "answer_type", "granularity", "operator", "source", "meta"}
        unknown = sorted(set(record) - known)
        if unknown:
            raise ValueError(f"unknown field(s) {', '.join(unknown)}")
        missing = [name for name in ("id", "question", "answers") if name not in record]
        if missing:
            raise ValueError(f"missing field(s) {', '.join(missing)}")
        return cls(**{**record, "meta": dict(record.get("meta") or {})})


def from_multitq(record: Mapping[str, Any]) -> KGQuestion:
    """One MultiTQ record; ``ValueError`` names a missing or wrong field."""
    _require(record, ("quid", "question", "answers", "answer_type"))
    answer_type = record["answer_type"]
    if answer_type not in ("entity", "time"):
        raise ValueError(f"'answer_type' must be 'entity' or 'time', got {answer_type!r}")
    level = record.get("time_level")
    if level is not None and level not in GRANULARITIES:
        raise ValueError(f"'time_level' must be one of {GRANULARITIES}, got {level!r}")
    meta = {"qlabel": record["qlabel"]} if "qlabel" in record else {}
    return KGQuestion(
        id=str(record["quid"]),
        question=str(record["question"]),
        answers=_answer_list(record["answers"]),
        answer_type=answer_type,
        granularity=level,
        operator=record.get("qtype"),
        source="multitq",
        meta=meta,
    )


def from_timequestions(record: Mapping[str, Any]) -> KGQuestion:
    """One TimeQuestions record (see the module docstring for how answers are read)."""
    _require(record, ("Id", "Question", "Answer"))
    raw_answers = record["Answer"]
    if not isinstance(raw_answers, list) or not raw_answers:
        raise ValueError("'Answer' must be a non-empty list")
    answers: list[str] = []
    kinds: list[str] = []
    granularity: Granularity | None = None
    for item in raw_answers:
        if not isinstance(item, Mapping):
            raise ValueError(f"each 'Answer' item must be an object, got {item!r}")
        kind = str(item.get("AnswerType", "Entity"))
        argument = item.get("AnswerArgument")
        label = item.get("WikidataLabel")
        if kind.lower() == "value" and argument is not None:
            period = _wikidata_time(str(argument))
            if period is not None:
                granularity = granularity or period.granularity
                answers.append(str(period))
                kinds.append("time")
                continue
            answers.append(str(argument))
        else:
            name = label or argument or item.get("WikidataQid")
            if not name:
                raise ValueError(f"an entity answer without label or id: {dict(item)!r}")
            answers.append(str(name))
        kinds.append("entity")
    types = record.get("Type", record.get("Temporal question type"))
    types = [types] if isinstance(types, str) else list(types or [])
    signal = record.get("Temporal signal")
    is_time = all(kind == "time" for kind in kinds)
    return KGQuestion(
        id=str(record["Id"]),
        question=str(record["Question"]),
        answers=tuple(dict.fromkeys(answers)),
        answer_type="time" if is_time else "entity",
        granularity=granularity if is_time else None,
        operator="+".join(str(t) for t in types) or None,
        source="timequestions",
        meta={"signal": signal} if signal is not None else {},
    )


def _wikidata_time(text: str) -> Period | None:
    """A Wikidata timestamp as a year (on 1 January) or a day; other texts as ``parse_loose`` reads them."""
    period = parse_loose(text)
    if period is None or period.granularity != "day" or "t" not in text.lower():
        return period
    date_part = text.lstrip("+").split("T")[0]
    if date_part.endswith("-01-01"):
        return Period.containing(period.first, "year")
    return period


def _answer_list(value: Any) -> tuple[str, ...]:
    if isinstance(value, str | int):
        return (str(value),)
    if not isinstance(value, list) or not value:
        raise ValueError(f"'answers' must be a non-empty list, got {value!r}")
    return tuple(str(answer) for answer in value)


def _require(record: Any, names: Iterable[str]) -> None:
    if not isinstance(record, Mapping):
        raise ValueError(f"expected a JSON object, got {type(record).__name__}")
    missing = [name for name in names if name not in record]
    if missing:
        raise ValueError(f"missing field(s) {', '.join(repr(name) for name in missing)}")


def detect_question_format(record: Mapping[str, Any]) -> str:
    """``"multitq"``, ``"timequestions"`` or ``"rlvr"`` from one record's keys."""
    if isinstance(record, Mapping):
        if "quid" in record:
            return "multitq"
        if "Id" in record and "Question" in record:
            return "timequestions"
        if "id" in record and "question" in record:
            return "rlvr"
    raise ValueError("not a MultiTQ, TimeQuestions or rlvr question record")


_PARSERS = {"multitq": from_multitq, "timequestions": from_timequestions, "rlvr": KGQuestion.from_dict}


def _records(path: Path) -> Iterator[tuple[str, Any]]:
    """``(where, record)`` pairs from a JSON list or JSONL file; ``where`` reads "line 3" or "item 3"."""
    text = path.read_text(encoding="utf-8-sig")
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}:{error.lineno}: invalid JSON: {error.msg}") from None
        for index, record in enumerate(data):
            yield f"item {index}", record
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}:{number}: invalid JSON: {error.msg}") from None
        yield f"line {number}", record


def read_questions(path: str | os.PathLike[str], format: str = "auto") -> list[KGQuestion]:
    """Every question in a MultiTQ / TimeQuestions / rlvr file (``format`` one of ``QUESTION_FORMATS``).

    ``"auto"`` decides from the first record. A bad record raises ``ValueError`` naming the file and
    where in it (``path:line N`` for JSONL, ``path: item N`` for a JSON list).
    """
    path = Path(path)
    if format != "auto" and format not in _PARSERS:
        raise ValueError(f"format must be 'auto' or one of {QUESTION_FORMATS}, got {format!r}")
    questions: list[KGQuestion] = []
    parser = None if format == "auto" else _PARSERS[format]
    for where, record in _records(path):
        location = f"{path}:{where.split()[1]}" if where.startswith("line") else f"{path}: {where}"
        try:
            if parser is None:
                parser = _PARSERS[detect_question_format(record)]
            questions.append(parser(record))
        except (ValueError, TypeError) as error:
            raise ValueError(f"{location}: {error}") from None
    return questions


def load_questions(path: str | os.PathLike[str], format: str = "auto") -> list[KGQuestion]:
    """Alias of ``read_questions`` (the name the env uses)."""
    return read_questions(path, format)


def read_multitq(path: str | os.PathLike[str]) -> list[KGQuestion]:
    """A MultiTQ question file (``questions/{train,dev,test}.json``)."""
    return read_questions(path, "multitq")


def read_timequestions(path: str | os.PathLike[str]) -> list[KGQuestion]:
    """A TimeQuestions file (``{train,dev,test}.json``)."""
    return read_questions(path, "timequestions")


def write_questions(questions: Iterable[KGQuestion], path: str | os.PathLike[str]) -> int:
    """Write ``questions`` as rlvr JSONL (what ``read_questions`` reads back); returns how many."""
    count = 0
    with open(path, "w", encoding="utf-8") as handle:
        for question in questions:
            handle.write(json.dumps(question.to_dict(), ensure_ascii=False) + "\n")
            count += 1
    return count

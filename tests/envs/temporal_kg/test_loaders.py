"""Loaders on small files of every format, including the malformed lines they must point at."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from rlvr.envs.temporal_kg import loaders
from rlvr.envs.temporal_kg.loaders import (
    detect_format,
    guess_steps_per_day,
    load_tkg,
    parse_fuzzy_time,
    read_id_map,
    read_id_quadruples,
    read_interval_facts,
    read_name_quadruples,
    read_tgb_edges,
)
from rlvr.envs.temporal_kg.questions_io import KGQuestion, read_questions, write_questions
from rlvr.envs.temporal_kg.store import Fact
from rlvr.envs.temporal_kg.timeutil import day_of, format_day
from tests.envs.temporal_kg.handmade import FACTS, handmade_store


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def point(subject: str, relation: str, obj: str, date: str) -> Fact:
    return Fact(subject, relation, obj, day_of(date))


# ------------------------------------------------------------------------------------- names TSV


def test_name_quadruples(tmp_path: Path) -> None:
    path = write(
        tmp_path / "train.txt",
        "Barack Obama\tMake statement\tChina\t2014-03-05\r\n\nChina\tConsult\tJapan\t2014-12-31\n",
    )
    assert list(read_name_quadruples(path)) == [
        point("Barack Obama", "Make statement", "China", "2014-03-05"),
        point("China", "Consult", "Japan", "2014-12-31"),
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("A\tr\tB", "expected 4 tab-separated fields"),
        ("A\tr\tB\t2014-02-30", "bad date '2014-02-30'"),
        ("A\tr\tB\t03/05/2014", "bad date"),
        ("A\t\tB\t2014-01-01", "empty subject, relation or object"),
        ("A r B 2014-01-01", "expected 4 tab-separated fields"),
    ],
)
def test_name_quadruples_point_at_the_bad_line(tmp_path: Path, line: str, message: str) -> None:
    path = write(tmp_path / "kg.txt", f"A\tr\tB\t2014-01-01\n\nA\tr\tC\t2014-01-02\n{line}\n")
    with pytest.raises(ValueError, match=re.escape(f"kg.txt:4: {message}")):
        list(read_name_quadruples(path))


def test_not_strict_skips_bad_lines_with_a_warning(tmp_path: Path) -> None:
    path = write(tmp_path / "kg.txt", "A\tr\tB\t2014-01-01\nbroken\nA\tr\tC\t2014-01-02\n")
    with pytest.warns(UserWarning, match=re.escape("skipped 1 malformed line")):
        found = list(read_name_quadruples(path, strict=False))
    assert [fact.object for fact in found] == ["B", "C"]


def test_handmade_graph_round_trips_through_a_name_tsv(tmp_path: Path) -> None:
    lines = [
        f"{f.subject}\t{f.relation}\t{f.object}\t{format_day(f.start)}\n" for f in FACTS if f.end is None
    ]
    directory = tmp_path / "icews"
    write(directory / "train.txt", "".join(lines[:10]))
    write(directory / "test.txt", "".join(lines))  # overlaps train: duplicates are kept once
    store = load_tkg(directory)
    assert list(store) == [fact for fact in handmade_store() if fact.end is None]


# ------------------------------------------------------------------------------------- id TSV


def test_id_map_forms(tmp_path: Path) -> None:
    plain = write(tmp_path / "a.txt", "China\t0\nBarack Obama\t1\n")
    counted = write(tmp_path / "b.txt", "2\nChina\t0\nBarack Obama\t1\n")
    swapped = write(tmp_path / "c.txt", "0\tChina\n1\tBarack Obama\n")
    spaced = write(tmp_path / "d.txt", "China 0\nBarack Obama 1\n")
    for path in (plain, counted, swapped, spaced):
        assert read_id_map(path) == {0: "China", 1: "Barack Obama"}
    with pytest.raises(ValueError, match=re.escape("count line says 3")):
        read_id_map(write(tmp_path / "e.txt", "3\nChina\t0\n"))
    with pytest.raises(ValueError, match=re.escape("f.txt:2: id 0 appears twice")):
        read_id_map(write(tmp_path / "f.txt", "China\t0\nJapan\t0\n"))
    with pytest.raises(ValueError, match=re.escape("g.txt:2: expected 'name<TAB>id' with an integer id")):
        read_id_map(write(tmp_path / "g.txt", "China\t0\nJapan\tx\n"))


def test_id_quadruples_day_and_hour_steps(tmp_path: Path) -> None:
    entities = {0: "China", 1: "Japan"}
    relations = {0: "Consult"}
    days = write(tmp_path / "days.txt", "0\t0\t1\t0\n1\t0\t0\t31\t0\n")
    assert list(read_id_quadruples(days, entities, relations, start_date="2014-01-01")) == [
        point("China", "Consult", "Japan", "2014-01-01"),
        point("Japan", "Consult", "China", "2014-02-01"),
    ]
    hours = write(tmp_path / "hours.txt", "0 0 1 0 0\n1 0 0 48 0\n0 0 1 71 0\n")
    found = list(read_id_quadruples(hours, entities, relations, start_date="2018-01-01", steps_per_day=24))
    assert [fact.start for fact in found] == [
        day_of("2018-01-01"),
        day_of("2018-01-03"),
        day_of("2018-01-03"),
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("0\t0\t1", "expected at least 4 fields"),
        ("0\t0\tx\t3", "ids and time must be integers"),
        ("0\t0\t7\t3", "id 7 is not in the id map"),
        ("0\t5\t1\t3", "id 5 is not in the id map"),
        ("0\t0\t1\t-1", "negative time step"),
    ],
)
def test_id_quadruples_point_at_the_bad_line(tmp_path: Path, line: str, message: str) -> None:
    path = write(tmp_path / "train.txt", f"0\t0\t1\t0\n{line}\n")
    with pytest.raises(ValueError, match=re.escape(f"train.txt:2: {message}")):
        list(read_id_quadruples(path, {0: "A", 1: "B"}, {0: "r"}, start_date="2014-01-01"))


def test_load_tkg_id_directory_guesses_start_and_steps(tmp_path: Path) -> None:
    directory = tmp_path / "ICEWS18"
    write(directory / "entity2id.txt", "China\t0\nJapan\t1\n")
    write(directory / "relation2id.txt", "Consult\t0\n")
    write(directory / "train.txt", "0\t0\t1\t0\t0\n1\t0\t0\t24\t0\n")
    write(directory / "valid.txt", "0\t0\t1\t48\t0\n")
    write(directory / "stat.txt", "2\t1\t0\n")
    assert detect_format(directory) == "ids"
    store = load_tkg(directory)
    assert [fact.start for fact in store] == [day_of(d) for d in ("2018-01-01", "2018-01-02", "2018-01-03")]
    explicit = load_tkg(directory, start_date="2014-01-01", steps_per_day=1)
    assert [fact.start for fact in explicit] == [
        day_of(d) for d in ("2014-01-01", "2014-01-25", "2014-02-18")
    ]


def test_load_tkg_id_directory_needs_a_start_date(tmp_path: Path) -> None:
    directory = tmp_path / "mystery"
    write(directory / "entity2id.txt", "A\t0\nB\t1\n")
    write(directory / "relation2id.txt", "r\t0\n")
    write(directory / "train.txt", "0\t0\t1\t0\n")
    with pytest.raises(ValueError, match=re.escape("start_date")):
        load_tkg(directory)
    assert len(load_tkg(directory, start_date="2020-01-01")) == 1
    write(directory / "test.txt", "0\t0\t1\t0\n0\t0\t9\t1\n")
    with pytest.raises(ValueError, match=re.escape("test.txt:2")):
        load_tkg(directory, start_date="2020-01-01")


def test_guess_steps_per_day() -> None:
    assert guess_steps_per_day([0, 1, 5]) == 1
    assert guess_steps_per_day([0, 24, 72]) == 24
    assert guess_steps_per_day([0, 15, 30, 1440]) == 1440
    assert guess_steps_per_day([0, 2880]) == 1440
    assert guess_steps_per_day([]) == 1


# ------------------------------------------------------------------------------------- intervals


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1980", ("year", "1980-01-01", "1980-12-31")),
        ("1980-##-##", ("year", "1980-01-01", "1980-12-31")),
        ("1980-05-##", ("month", "1980-05-01", "1980-05-31")),
        ("1980-05-20", ("day", "1980-05-20", "1980-05-20")),
        ("+1980-05-20T00:00:00Z", ("day", "1980-05-20", "1980-05-20")),
        ("0980", ("year", "0980-01-01", "0980-12-31")),
        ("####-##-##", None),
        ("####", None),
        ("-", None),
        ("", None),
        ("-0043-##-##", None),
    ],
)
def test_parse_fuzzy_time(text: str, expected: tuple[str, str, str] | None) -> None:
    found = parse_fuzzy_time(text)
    if expected is None:
        assert found is None
    else:
        assert found is not None
        assert (found.granularity, found.first, found.last) == (
            expected[0],
            day_of(expected[1]),
            day_of(expected[2]),
        )


def test_interval_facts(tmp_path: Path) -> None:
    path = write(
        tmp_path / "yago.txt",
        "<A>\tplaysFor\t<B>\t1980-##-##\t1990-##-##\n"
        "<A>\tisMarriedTo\t<C>\t1985-06-12\t####-##-##\n"
        "<A>\twasBornIn\t<D>\t####-##-##\t1950-##-##\n"
        "<C>\tholds\t<E>\t2001\t-\n"
        "<C>\tholds\t<F>\t2002\n",
    )
    found = list(read_interval_facts(path))
    assert found == [
        Fact("<A>", "playsFor", "<B>", day_of("1980-01-01"), day_of("1990-12-31")),
        Fact("<A>", "isMarriedTo", "<C>", day_of("1985-06-12")),
        Fact("<C>", "holds", "<E>", day_of("2001-01-01")),
        Fact("<C>", "holds", "<F>", day_of("2002-01-01")),
    ]
    with_end = list(read_interval_facts(path, missing_start="end"))
    assert Fact("<A>", "wasBornIn", "<D>", day_of("1950-01-01"), day_of("1950-12-31")) in with_end
    with pytest.raises(ValueError, match=re.escape("yago.txt:3: unknown start time")):
        list(read_interval_facts(path, missing_start="error"))
    store = load_tkg(path)
    assert detect_format(path) == "intervals" and len(store) == 4
    assert store.neighbours("<A>", relation="playsFor")[0].render().startswith("1980-01-01 .. 1990-12-31")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("<A>\tr\t<B>\t1990\t1980", "end '1980' is before start '1990'"),
        ("<A>\tr\t<B>\tlong ago\t1980", "bad time 'long ago'"),
        ("<A>\tr\t<B>", "expected 5 tab-separated fields"),
        ("<A>\tr\t<B>\t1980\t1990\textra", "expected 5 tab-separated fields"),
    ],
)
def test_interval_facts_point_at_the_bad_line(tmp_path: Path, line: str, message: str) -> None:
    path = write(tmp_path / "wiki.txt", f"<A>\tr\t<B>\t1980\t1990\n{line}\n")
    with pytest.raises(ValueError, match=re.escape(f"wiki.txt:2: {message}")):
        list(read_interval_facts(path))


# ------------------------------------------------------------------------------------- TGB CSV


def test_tgb_edges_unix_seconds_and_relations(tmp_path: Path) -> None:
    path = write(
        tmp_path / "tkgl-mini_edgelist.csv",
        "timestamp,head,tail,relation_type\n"
        "1388534400,12,7,3\n"  # 2014-01-01T00:00:00Z
        "1388620799,7,12,3\n"  # 2014-01-01T23:59:59Z
        "1388620800,12,9,4\n",
    )
    assert list(read_tgb_edges(path)) == [
        point("12", "3", "7", "2014-01-01"),
        point("7", "3", "12", "2014-01-01"),
        point("12", "4", "9", "2014-01-02"),
    ]
    assert detect_format(path) == "tgb"
    assert len(load_tkg(path)) == 3


def test_tgb_edges_day_index_and_default_relation(tmp_path: Path) -> None:
    path = write(tmp_path / "edges.csv", "ts,src,dst,weight\n0,a,b,1.0\n31,b,a,0.5\n\n")
    found = list(read_tgb_edges(path, time_unit="days", start_date="2014-01-01"))
    assert found == [point("a", "link", "b", "2014-01-01"), point("b", "link", "a", "2014-02-01")]
    with pytest.raises(ValueError, match=re.escape("start_date")):
        list(read_tgb_edges(path, time_unit="days"))
    jodie = write(
        tmp_path / "wiki.csv", "user_id,item_id,timestamp,state_label,f1,f2\n0,5,86400.0,0,0.1,0.2\n"
    )
    assert list(read_tgb_edges(jodie)) == [point("0", "link", "5", "1970-01-02")]
    years = write(tmp_path / "smallpedia.csv", "ts,head,tail,relation_type\n1999,Q31,Q4916,P38\n")
    assert list(read_tgb_edges(years, time_unit="years")) == [point("Q31", "P38", "Q4916", "1999-01-01")]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("5,a", "expected at least 3 comma-separated fields"),
        ("soon,a,b", "bad timestamp 'soon'"),
        ("5,,b", "empty src, dst or relation"),
        ("1e20,a,b", "bad timestamp"),
    ],
)
def test_tgb_edges_point_at_the_bad_line(tmp_path: Path, row: str, message: str) -> None:
    path = write(tmp_path / "edges.csv", f"ts,src,dst\n0,a,b\n{row}\n")
    with pytest.raises(ValueError, match=re.escape(f"edges.csv:3: {message}")):
        list(read_tgb_edges(path))


def test_tgb_header_must_name_the_columns(tmp_path: Path) -> None:
    path = write(tmp_path / "edges.csv", "when,from,to\n0,a,b\n")
    with pytest.raises(ValueError, match=re.escape("edges.csv:1: the header must name ts, src and dst")):
        list(read_tgb_edges(path))


# ------------------------------------------------------------------------------------- detection


def test_detect_and_load_a_saved_store(tmp_path: Path) -> None:
    handmade_store().save(tmp_path / "saved")
    assert detect_format(tmp_path / "saved") == "store"
    assert list(load_tkg(tmp_path / "saved")) == list(handmade_store())


def test_detect_format_of_files(tmp_path: Path) -> None:
    assert detect_format(write(tmp_path / "a.txt", "A\tr\tB\t2014-01-01\n")) == "names"
    assert detect_format(write(tmp_path / "b.txt", "0\t1\t2\t3\n")) == "ids"
    assert detect_format(write(tmp_path / "c.txt", "A\tr\tB\t1980-##-##\t1990\n")) == "intervals"
    assert detect_format(write(tmp_path / "d.txt", "A\tr\tB\t2014\t\n")) == "intervals"
    with pytest.raises(ValueError, match=re.escape("cannot tell the format")):
        detect_format(write(tmp_path / "e.txt", "just some text\n"))
    (tmp_path / "empty_dir").mkdir()
    with pytest.raises(ValueError, match=re.escape("no train/valid/test")):
        detect_format(tmp_path / "empty_dir")
    with pytest.raises(FileNotFoundError):
        detect_format(tmp_path / "missing.txt")
    with pytest.raises(ValueError, match=re.escape("format must be")):
        load_tkg(tmp_path / "a.txt", format="rdf")


def test_full_txt_wins_over_splits(tmp_path: Path) -> None:
    directory = tmp_path / "MultiTQ" / "kg"
    write(directory / "full.txt", "A\tr\tB\t2005-01-01\nB\tr\tA\t2015-12-31\n")
    write(directory / "train.txt", "A\tr\tB\t2005-01-01\n")
    assert len(load_tkg(directory)) == 2


# ------------------------------------------------------------------------------------- questions


MULTITQ = [
    {
        "quid": 1,
        "question": "Who made a statement to Dalmar first in 2014?",
        "answers": ["Aldovia"],
        "answer_type": "entity",
        "time_level": "year",
        "qtype": "first_last",
        "qlabel": "Single",
    },
    {
        "quid": 2,
        "question": "When did Aldovia sign an agreement with Dalmar?",
        "answers": ["2014-03"],
        "answer_type": "time",
        "time_level": "month",
        "qtype": "equal",
        "qlabel": "Single",
    },
]
TIMEQUESTIONS = [
    {
        "Id": 7,
        "Question": "which team did A play for in 1985",
        "Answer": [
            {"AnswerType": "Entity", "AnswerArgument": "Q1", "WikidataLabel": "Team One"},
            {"AnswerType": "Entity", "WikidataQid": "Q2"},
        ],
        "Temporal signal": ["OVERLAP"],
        "Type": ["Explicit"],
    },
    {
        "Id": 8,
        "Question": "when was B born",
        "Answer": [{"AnswerType": "Value", "AnswerArgument": "1950-01-01T00:00:00Z"}],
        "Temporal signal": ["No signal"],
        "Type": ["Temp.Ans"],
    },
    {
        "Id": 9,
        "Question": "when did C marry",
        "Answer": [{"AnswerType": "Value", "AnswerArgument": "1985-06-12T00:00:00Z"}],
        "Temporal signal": ["No signal"],
        "Temporal question type": ["Temp.Ans", "Implicit"],
    },
    {
        "Id": 10,
        "Question": "how many titles did D win by 1990",
        "Answer": [{"AnswerType": "Value", "AnswerArgument": "12"}],
        "Type": ["Ordinal"],
    },
]


def test_multitq_questions(tmp_path: Path) -> None:
    path = write(tmp_path / "test.json", json.dumps(MULTITQ))
    first, second = loaders.read_multitq(path)
    assert first == KGQuestion(
        id="1",
        question="Who made a statement to Dalmar first in 2014?",
        answers=("Aldovia",),
        answer_type="entity",
        granularity="year",
        operator="first_last",
        source="multitq",
    )
    assert first.meta == {"qlabel": "Single"} and first.qtype == "first_last"
    assert (second.answers, second.answer_type, second.granularity) == (("2014-03",), "time", "month")
    assert read_questions(path) == [first, second]


def test_timequestions(tmp_path: Path) -> None:
    path = write(tmp_path / "dev.json", json.dumps(TIMEQUESTIONS))
    team, born, married, count = loaders.read_timequestions(path)
    assert (team.answers, team.answer_type, team.granularity) == (("Team One", "Q2"), "entity", None)
    assert (
        team.operator == "Explicit"
        and team.meta == {"signal": ["OVERLAP"]}
        and team.source == "timequestions"
    )
    assert (born.answers, born.answer_type, born.granularity) == (("1950",), "time", "year")
    assert (married.answers, married.granularity, married.operator) == (
        ("1985-06-12",),
        "day",
        "Temp.Ans+Implicit",
    )
    assert (count.answers, count.answer_type) == (("12",), "entity")


@pytest.mark.parametrize(
    ("records", "message"),
    [
        ([MULTITQ[0], {**MULTITQ[1], "answer_type": "number"}], "item 1: 'answer_type' must be"),
        ([MULTITQ[0], {k: v for k, v in MULTITQ[1].items() if k != "answers"}], "item 1: missing field"),
        ([MULTITQ[0], {**MULTITQ[1], "answers": []}], "item 1: 'answers' must be a non-empty list"),
        ([MULTITQ[0], {**MULTITQ[1], "time_level": "week"}], "item 1: 'time_level' must be"),
        ([TIMEQUESTIONS[0], {**TIMEQUESTIONS[1], "Answer": []}], "item 1: 'Answer' must be a non-empty list"),
        ([MULTITQ[0], "just text"], "item 1: expected a JSON object"),
    ],
)
def test_bad_question_records_are_named(tmp_path: Path, records: list, message: str) -> None:
    path = write(tmp_path / "q.json", json.dumps(records))
    with pytest.raises(ValueError, match=re.escape(f"q.json: {message}")):
        read_questions(path)


def test_questions_jsonl_round_trip_and_line_numbers(tmp_path: Path) -> None:
    questions = loaders.read_multitq(write(tmp_path / "m.json", json.dumps(MULTITQ)))
    out = tmp_path / "ours.jsonl"
    assert write_questions(questions, out) == 2
    again = read_questions(out)
    assert again == questions and again[0].meta == {"qlabel": "Single"}
    write(tmp_path / "broken.jsonl", out.read_text() + "\n{not json\n")
    with pytest.raises(ValueError, match=re.escape("broken.jsonl:4: invalid JSON")):
        read_questions(tmp_path / "broken.jsonl")
    mixed = write(tmp_path / "mixed.jsonl", json.dumps(MULTITQ[0]) + "\n" + json.dumps({"quid": 3}) + "\n")
    with pytest.raises(ValueError, match=re.escape("mixed.jsonl:2: missing field")):
        read_questions(mixed)


def test_kgquestion_accepts_lists_and_validates() -> None:
    question = KGQuestion(id=3, question="q?", answers=["a", "b"])  # type: ignore[arg-type]
    assert question.id == "3" and question.answers == ("a", "b")
    assert KGQuestion.from_dict(question.to_dict()) == question
    with pytest.raises(ValueError):
        KGQuestion(id="1", question="q?", answers=())
    with pytest.raises(ValueError):
        KGQuestion(id="1", question="q?", answers=("a",), answer_type="number")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=re.escape("unknown field")):
        KGQuestion.from_dict({**question.to_dict(), "extra": 1})

"""``rlvr/TemporalKGQA-v0``: the tool protocol, Hits@k/MRR over ranked answers, time granularity, and
bad input, on the hand-made graph."""

from __future__ import annotations

import json

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from rlvr.core.game import GameOverError
from rlvr.envs.temporal_kg.env import TemporalKGQAEnv, parse_action, parse_answer_list
from rlvr.envs.temporal_kg.questions import OPERATORS, Choice, ask
from rlvr.envs.temporal_kg.questions_io import KGQuestion, write_questions
from rlvr.envs.temporal_kg.store import TKGStore
from tests.envs.temporal_kg.handmade import ALDOVIA, CORVIN, DALMAR, ESKER, LABELLED, handmade_store

WHO = KGQuestion(
    id="who",
    question='Who was the first to "Make statement" Dalmar?',
    answers=(ALDOVIA,),
    operator="first",
)
WHEN = KGQuestion(
    id="when",
    question='In which month did Aldovia last "Make statement" Dalmar?',
    answers=("2014-12",),
    answer_type="time",
    granularity="month",
    operator="last",
)


@pytest.fixture(scope="module")
def store() -> TKGStore:
    return handmade_store()


def make(store: TKGStore, questions=(WHO, WHEN), **kwargs) -> TemporalKGQAEnv:
    return TemporalKGQAEnv(list(questions), store, **kwargs)


def tool(**call: object) -> str:
    return f"<tool>{json.dumps(call)}</tool>"


def test_a_scripted_agent_that_looks_up_the_answer_gets_reward_one(store: TKGStore) -> None:
    env = make(store)
    observation, info = env.reset(seed=0, options={"question_id": "who"})
    assert observation == f"Question: {WHO.question}"
    assert "<tool>" in info["instructions"] and "search_entities" in info["instructions"]
    observation, reward, terminated, truncated, info = env.step(
        tool(name="neighbours", entity="Dalmar", relation="Make statement", direction="in", limit=1)
    )
    first = "2014-01-01: Aldovia | Make statement | Dalmar"
    note = "(2 more not shown; narrow the query with a time filter or limit)"
    assert observation == f"<result>{first}\n{note}</result>\nYou have 9 calls left."
    assert (reward, terminated, truncated, info["tool"], info["tool_error"]) == (
        0.0,
        False,
        False,
        "neighbours",
        False,
    )
    start, end = info["tool_output_spans"][0]
    assert observation[start:end] == f"{first}\n{note}"
    # The agent reads the subject off the first fact and answers.
    answer = observation[start:end].splitlines()[0].split(": ", 1)[1].split(" | ")[0]
    observation, reward, terminated, truncated, info = env.step(
        f"<think>first is e02</think><answer>{answer}</answer>"
    )
    assert (reward, terminated, truncated, info["player"]) == (1.0, True, False, None)
    metrics = info["metrics"]
    assert metrics["hits@1"] == metrics["mrr"] == metrics["answered"] == metrics["well_formed"] == 1.0
    assert (metrics["tool_calls"], metrics["invalid_actions"], metrics["turns"]) == (1.0, 0.0, 2.0)
    assert metrics["operator_first"] == 1.0 and metrics["answer_type_entity"] == 1.0
    assert sum(metrics[f"operator_{op}"] for op in OPERATORS) == 1.0
    assert info["golden_answers"] == [ALDOVIA] and info["answer"] == answer


@pytest.mark.parametrize(
    ("answer", "hits1", "hits3", "hits10", "mrr"),
    [
        ("aldovia", 1.0, 1.0, 1.0, 1.0),
        ("1. Dalmar\n2. Aldovia\n3. Esker Vance", 0.0, 1.0, 1.0, 0.5),
        ("Dalmar; Esker Vance; Corvin League; Aldovia", 0.0, 0.0, 1.0, 0.25),
        ("- Dalmar\n- dalmar\n- DALMAR\n- Aldovia", 0.0, 1.0, 1.0, 0.5),  # repeats are skipped
        ('["Esker Vance", "Corvin League", "Aldovia"]', 0.0, 1.0, 1.0, 1 / 3),
        ("; ".join([*(f"X{i}" for i in range(10)), ALDOVIA]), 0.0, 0.0, 0.0, 1 / 11),
        ("Dalmar; Corvin League", 0.0, 0.0, 0.0, 0.0),
    ],
)
def test_ranked_answers_give_hits_at_k_and_mrr(store, answer, hits1, hits3, hits10, mrr) -> None:
    env = make(store)
    env.reset(options={"question_id": "who"})
    _, reward, *_, info = env.step(f"<answer>{answer}</answer>")
    metrics = info["metrics"]
    assert reward == hits1 == metrics["hits@1"]
    assert (metrics["hits@3"], metrics["hits@10"]) == (hits3, hits10)
    assert metrics["mrr"] == pytest.approx(mrr)


@pytest.mark.parametrize(
    ("answer", "right"),
    [("2014-12", True), ("2014-12-31", True), ("December 2014", True), ("2014", False), ("2014-11", False)],
)
def test_time_answers_are_judged_at_the_golds_granularity(store, answer: str, right: bool) -> None:
    env = make(store)
    env.reset(options={"question_id": "when"})
    _, reward, *_, info = env.step(f"<answer>{answer}</answer>")
    assert reward == float(right) and info["metrics"]["answer_type_time"] == 1.0


def test_a_generated_question_is_answered_through_the_tools(store: TKGStore) -> None:
    question = ask(store, "before_last", LABELLED["e22"], Choice("object"))
    assert question is not None and question.answers == (DALMAR,)
    env = make(store, [question])
    env.reset(seed=0)
    observation = env.step(tool(name="neighbours", entity=ALDOVIA, relation="Consult", direction="out"))[0]
    assert "2014-01-31: Aldovia | Consult | Dalmar" in observation
    assert env.step("<answer>Dalmar</answer>")[1] == 1.0


def test_invalid_replies_explain_the_protocol_and_use_a_turn(store: TKGStore) -> None:
    env = make(store, max_turns=2)
    env.reset(options={"question_id": "who"})
    observation, reward, terminated, truncated, info = env.step("Aldovia")
    assert info["invalid_action"] and "no complete <tool>" in info["invalid_reason"]
    assert "<answer>your answer</answer>" in observation and not (terminated or truncated)
    observation, *_, info = env.step("<answer>  </answer>")
    assert info["invalid_reason"] == "The <answer> tag is empty." and "no calls left" in observation
    # The last turn: only an answer counts; anything else ends the episode unanswered.
    observation, reward, terminated, truncated, info = env.step(tool(name="timeline", entity=ALDOVIA))
    assert (reward, terminated, truncated) == (0.0, False, True)
    assert info["metrics"]["answered"] == 0.0 and info["metrics"]["invalid_actions"] == 3.0
    assert info["metrics"]["hits@10"] == 0.0 and "without an answer" in observation


def test_the_last_turn_still_takes_an_answer(store: TKGStore) -> None:
    env = make(store, max_turns=1)
    env.reset(options={"question_id": "who"})
    env.step(tool(name="timeline", entity=DALMAR))
    assert env.step("<answer>Aldovia</answer>")[1:4] == (1.0, True, False)


def test_a_bad_tool_call_is_a_call_not_an_invalid_action(store: TKGStore) -> None:
    env = make(store)
    env.reset(options={"question_id": "who"})
    observation, *_, info = env.step("<tool>{oops</tool>")
    assert observation.startswith("<result>Error: The <tool> content is not valid JSON")
    assert info["tool"] == "tool" and info["tool_error"] and not info["invalid_action"]
    observation, *_, info = env.step(tool(name="timeline", entity="Dalmr"))
    assert "Closest names: Dalmar" in observation and info["tool"] == "timeline"
    metrics = env.step("<answer>x</answer>")[4]["metrics"]
    assert (metrics["tool_calls"], metrics["tool_errors"], metrics["invalid_actions"]) == (2.0, 2.0, 0.0)


def test_the_first_tag_counts_and_think_is_ignored() -> None:
    assert parse_action("<think><answer>no</answer></think><answer>yes</answer>").content == "yes"
    call = parse_action('Let me look. <tool>{"name": "timeline"}</tool><answer>A</answer>')
    assert call is not None and call.kind == "tool" and not call.well_formed
    assert parse_answer_list("1) A\n2) B\n\n3. C") == ["A", "B", "C"]
    assert parse_answer_list("Police (Kenya), Nairobi") == ["Police (Kenya), Nairobi"]
    assert parse_answer_list(' "A" ; B ;') == ["A", "B"]


def test_non_text_oversized_and_late_actions(store: TKGStore) -> None:
    env = make(store, max_action_length=100)
    with pytest.raises(GameOverError):
        env.step("<answer>A</answer>")
    env.reset(options={"question_id": "who"})
    assert env.step(42)[4]["invalid_reason"] == "The action must be text, got int."  # type: ignore[arg-type]
    assert "longer than 100" in env.step("<answer>x</answer>" + "x" * 200)[4]["invalid_reason"]
    env.step("<answer>Aldovia</answer>")
    with pytest.raises(GameOverError):
        env.step("<answer>Aldovia</answer>")


def test_hostile_replies_never_raise(store: TKGStore) -> None:
    env = make(store, max_turns=50)
    rng = np.random.default_rng(0)
    pieces = ["<tool>", "</tool>", "<answer>", "</answer>", "<think>", "{", "}", '"name"', ":", '"timeline"']
    pieces += [
        '"entity"',
        '"Aldovia"',
        ",",
        "\x00",
        "é",
        "1e999",
        "null",
        "[",
        "]",
        "\n",
        '"within": "2014-99"',
    ]
    env.reset(seed=0)
    assert env.step("<answer>" + "[" * 5000 + "</answer>")[1] == 0.0
    for episode in range(20):
        env.reset(seed=episode)
        over = False
        while not over:
            reply = "".join(pieces[int(i)] for i in rng.integers(0, len(pieces), int(rng.integers(0, 12))))
            *_, terminated, truncated, _ = env.step(reply)
            over = terminated or truncated


def test_seeds_fix_episodes_and_questions_load_from_files(store: TKGStore, tmp_path) -> None:
    questions = [
        ask(store, "first", LABELLED[label], Choice("subject")) for label in ("e02", "e03", "e05", "e08")
    ]
    path = tmp_path / "questions.jsonl"
    write_questions([q for q in questions if q is not None], path)
    env = TemporalKGQAEnv(path, store)
    drawn = [env.reset(seed=seed)[0] for seed in range(6)]
    assert drawn == [env.reset(seed=seed)[0] for seed in range(6)] and len(set(drawn)) > 1
    env.reset(options={"question": {"id": "x", "question": "Who?", "answers": [ESKER]}})
    assert env.step(f"<answer>{ESKER}</answer>")[1] == 1.0
    with pytest.raises(ValueError, match="unknown question_id"):
        env.reset(options={"question_id": "nope"})


def test_generated_questions_from_a_given_store(store: TKGStore) -> None:
    env = TemporalKGQAEnv(store=store, num_questions=20, question_seed=1, operators=["first", "last"])
    assert {q.operator for q in env.questions} == {"first", "last"}
    _, info = env.reset(seed=0)
    assert info["operator"] in ("first", "last") and info["question_id"].startswith("tkg-1-")


def test_the_default_env_uses_the_embedded_synthetic_graph() -> None:
    env = TemporalKGQAEnv(num_questions=50)
    observation, _ = env.reset(seed=0)
    assert observation.startswith("Question: ") and len(env.store) == 20_000
    question = env.question
    assert question is not None
    reply = "<answer>" + "\n".join(question.answers) + "</answer>"
    assert env.step(reply)[1] == 1.0


def test_passes_gymnasium_check_env(store: TKGStore) -> None:
    check_env(make(store), skip_render_check=True)
    env = make(store, render_mode="ansi")
    env.reset(options={"question_id": "who"})
    env.step(tool(name="events", within="2014-01-01"))
    assert "Question:" in env.render() and "2014-01-01: Aldovia | Make statement | Dalmar" in env.render()


def test_unknown_render_mode_and_bad_sizes_are_errors(store: TKGStore) -> None:
    with pytest.raises(ValueError):
        make(store, render_mode="rgb_array")
    with pytest.raises(ValueError):
        make(store, max_turns=0)
    with pytest.raises(ValueError):
        TemporalKGQAEnv(store=store, num_questions=0)


def test_corvin_is_a_wrong_answer(store: TKGStore) -> None:
    env = make(store)
    env.reset(options={"question_id": "who"})
    assert env.step(f"<answer>{CORVIN}</answer>")[1] == 0.0

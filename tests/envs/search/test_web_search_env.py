"""``rlvr/WebSearch-v0``: the protocol, the rewards, the engines behind it, and bad input."""

from __future__ import annotations

import socket
from pathlib import Path

import gymnasium as gym
import pytest

from rlvr.envs.search.backends.local import LocalIndex
from rlvr.envs.search.env import WebSearchEnv
from rlvr.envs.search.retriever_server import RetrieverServer
from tests.envs.search.test_local_index import DOCS

QUESTION = {"id": "q1", "question": "Who founded the town of Brisk?", "golden_answers": ["Ada Quell"]}


@pytest.fixture
def index(tmp_path: Path) -> LocalIndex:
    return LocalIndex(tmp_path / "index", corpus=DOCS, fingerprint="five-docs")


def make(index: LocalIndex, **kwargs) -> WebSearchEnv:
    return WebSearchEnv([QUESTION], index, **kwargs)


def test_search_then_answer_pays_exact_match(index: LocalIndex):
    env = make(index)
    observation, info = env.reset(seed=0)
    assert observation == "Question: Who founded the town of Brisk?" and "<search>" in info["instructions"]
    observation, reward, terminated, truncated, info = env.step("<search>Brisk founded</search>")
    assert observation.startswith("<information>Doc 1(Title: Brisk) Brisk is a town in Oster founded in 1721")
    assert info["retrieved_ids"][0] == "brisk#0" and (reward, terminated, truncated) == (0.0, False, False)
    start, end = info["tool_output_spans"][0]
    assert observation[start:end].startswith("Doc 1(Title: Brisk)") and "calls left" in observation[end:]
    observation, reward, terminated, truncated, info = env.step(
        "<think>Brisk doc says so</think><answer>ada quell</answer>"
    )
    assert (reward, terminated, truncated, info["player"]) == (1.0, True, False, None)
    metrics = info["metrics"]
    assert metrics["em"] == metrics["f1"] == metrics["contains"] == metrics["well_formed"] == 1.0
    assert (metrics["searches"], metrics["turns"], metrics["gold_retrieved"]) == (1.0, 2.0, 1.0)
    assert info["all_retrieved_ids"][0] == "brisk#0"


@pytest.mark.parametrize(
    ("reward", "answer", "expected"),
    [("em", "Quell", 0.0), ("f1", "Quell", pytest.approx(2 / 3)), ("contains", "it was Ada Quell", 1.0)],
)
def test_answer_scores(index: LocalIndex, reward: str, answer: str, expected: float):
    env = make(index, reward=reward)
    env.reset(seed=0)
    assert env.step(f"<answer>{answer}</answer>")[1] == expected


def test_format_reward_follows_search_r1(index: LocalIndex):
    env = make(index, reward="format", retrieval_bonus=0.1)
    env.reset(seed=0)
    env.step("Let me look. <search>Brisk</search>")  # text outside the tag: badly formed from here on
    assert env.step("<answer>Ada Quell</answer>")[1] == 0.8
    env.reset(seed=0)
    env.step("<search>Brisk</search>")
    assert env.step("<answer>Lorn</answer>")[1] == pytest.approx(0.3)  # wrong, well formed, gold retrieved
    env.reset(seed=0)
    assert env.step("<answer>Ada Quell</answer>")[1] == 1.0


def test_open_by_result_number_reads_a_page_in_parts(index: LocalIndex):
    env = make(index, page_chars=100)
    env.reset(seed=0)
    env.step("<search>river Velka</search>")
    observation, *_, info = env.step("<open>1</open>")
    assert "Page (Title: Velka) <https://w/velka>, part 1 of 2: Open it again" in observation
    assert "Morrin Sea" in observation and info["retrieved_ids"] == ["https://w/velka"]
    observation = env.step("<access>https://w/velka</access>")[0]
    assert "part 2 of 2" in observation and "Tarn hills" in observation
    assert "read all 2 part(s)" in env.step("<open>https://w/velka</open>")[0]
    assert "No page found" in env.step("<open>nowhere</open>")[0]
    env.step("<answer>x</answer>")
    assert env.unwrapped._metrics()["opens"] == 4


def test_invalid_replies_explain_the_protocol_and_use_a_turn(index: LocalIndex):
    env = make(index, max_turns=2)
    env.reset(seed=0)
    observation, reward, terminated, truncated, info = env.step("Ada Quell")
    assert info["invalid_action"] and "no complete <search>" in info["invalid_reason"]
    assert "<answer>your answer</answer>" in observation and not (terminated or truncated)
    observation, *_, info = env.step("<search> </search>")
    assert info["invalid_reason"] == "The <search> tag is empty."
    assert "no calls left" in observation
    # The last turn: only an answer counts; anything else ends the episode unanswered.
    observation, reward, terminated, truncated, info = env.step("<search>Brisk</search>")
    assert (reward, terminated, truncated) == (0.0, False, True)
    assert info["metrics"]["answered"] == 0.0 and info["metrics"]["invalid_actions"] == 3.0


def test_the_last_turn_still_takes_an_answer(index: LocalIndex):
    env = make(index, max_turns=1)
    env.reset(seed=0)
    env.step("<search>Brisk</search>")
    assert env.step("<answer>Ada Quell</answer>")[1:4] == (1.0, True, False)


def test_non_text_and_oversized_actions_are_invalid_not_errors(index: LocalIndex):
    env = make(index, max_action_length=100)
    env.reset(seed=0)
    assert env.step(42)[4]["invalid_reason"] == "The action must be text, got int."  # type: ignore[arg-type]
    assert "longer than 100" in env.step("<answer>x</answer>" + "x" * 200)[4]["invalid_reason"]


def test_open_can_be_switched_off(index: LocalIndex):
    env = make(index, allow_open=False)
    _, info = env.reset(seed=0)
    assert "<open>" not in info["instructions"]
    assert "switched off" in env.step("<open>1</open>")[4]["invalid_reason"]


def test_a_dead_engine_is_reported_to_the_agent(tmp_path: Path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    backend = {"type": "retriever", "url": f"http://127.0.0.1:{port}", "retries": 0, "timeout_s": 2}
    env = WebSearchEnv([QUESTION], backend)
    env.reset(seed=0)
    observation, *_, info = env.step("<search>Brisk</search>")
    assert "The search failed" in observation and info["search_error"]
    assert env.step("<answer>Ada Quell</answer>")[4]["metrics"]["search_errors"] == 1.0
    env.close()


def test_through_the_retriever_server(index: LocalIndex):
    with RetrieverServer(index, port=0) as server:
        env = WebSearchEnv([QUESTION], {"type": "retriever", "url": server.url})
        env.reset(seed=0)
        observation = env.step("<search>Brisk founded</search>")[0]
        assert "Doc 1(Title: Brisk) Brisk is a town" in observation
        assert "Tarn hills" in env.step("<open>https://w/velka</open>")[0]
        env.close()


def test_reset_options_pose_a_given_question(index: LocalIndex):
    env = make(index)
    observation, _info = env.reset(
        options={"question": {"question": "Capital of Oster?", "golden_answers": ["Lorn"]}}
    )
    assert observation == "Question: Capital of Oster?"
    assert env.step("<answer>Lorn</answer>")[1] == 1.0
    with pytest.raises(ValueError, match="unknown question_id"):
        env.reset(options={"question_id": "nope"})


def test_default_env_is_the_generated_world_and_deterministic():
    first = gym.make("rlvr/WebSearch-v0", world_size="tiny")
    second = gym.make("rlvr/WebSearch-v0", world_size="tiny")
    for seed in range(3):
        a, b = first.reset(seed=seed), second.reset(seed=seed)
        assert a[0] == b[0] and a[1]["question_id"] == b[1]["question_id"]
        assert first.step(f"<search>{a[0]}</search>")[0] == second.step(f"<search>{b[0]}</search>")[0]
    question = first.unwrapped.question
    _observation, reward, *_ = first.step(f"<answer>{question.golden_answers[0]}</answer>")
    assert reward == 1.0


def test_a_web_episode_replays_offline_from_its_cassette(tmp_path: Path):
    """Record a whole episode against a live (local) SearxNG-style engine, then replay it with the
    engine gone: the agent sees exactly the same observations."""
    from tests.envs.search.test_web_backend import FAST, FakeWeb

    web = FakeWeb()
    live = {
        "type": "web",
        "provider": "searxng",
        "base_url": f"{web.url}/searxng",
        "allow_private_urls": True,
        **FAST,
    }
    cassette = tmp_path / "episode.jsonl"
    actions = ["<search>eiffel tower</search>", "<open>1</open>", "<answer>Paris</answer>"]
    question = {"id": "q", "question": "Where is the Eiffel Tower?", "golden_answers": ["Paris"]}

    def play(backend: dict) -> list[str]:
        env = WebSearchEnv([question], backend, show_urls=True)
        observations = [env.reset(seed=3)[0]]
        observations += [env.step(action)[0] for action in actions]
        env.close()
        return observations

    try:
        recorded = play({"type": "cassette", "path": str(cassette), "mode": "record", "inner": live})
    finally:
        web.stop()
    assert "Doc 1(Title: eiffel tower result 0) <http" in recorded[1]
    assert "Page (Title:" in recorded[2]
    replayed = play({"type": "cassette", "path": str(cassette), "mode": "replay"})
    assert replayed == recorded


def test_the_readme_tour_episode_is_what_the_env_does():
    env = gym.make("rlvr/WebSearch-v0")
    observation, _ = env.reset(seed=0)
    assert observation == "Question: Who directed The Shore at Mynaford?"
    assert (
        "Doc 1(Title: The Shore at Mynaford)"
        in env.step("<search>The Shore at Mynaford director</search>")[0]
    )
    assert "Page (Title: The Shore at Mynaford)" in env.step("<open>1</open>")[0]
    assert env.step("<answer>Syddan Heaths</answer>")[1] == 1.0

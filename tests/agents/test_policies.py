import asyncio

import gymnasium as gym
import pytest

import rlvr  # noqa: F401  (registers the rlvr/ ids)
from rlvr.agents import (
    CallablePolicy,
    Completion,
    Conversation,
    Policy,
    PolicyError,
    RandomLegalPolicy,
    SamplingParams,
    legal_moves_in,
    with_few_shot,
    with_sampling,
    with_system_prompt,
)


class Recorder:
    """A reply function that remembers every prompt it saw."""

    def __init__(self, reply="[4]"):
        self.reply = reply
        self.prompts = []

    def __call__(self, messages):
        self.prompts.append(messages)
        return self.reply


class ParamsRecorder(Policy):
    def __init__(self):
        self.params = []

    def generate(self, batch, params=None):
        self.params.append(params)
        return [Completion(text="ok") for _ in batch]


CHAT = [{"role": "system", "content": "rules"}, {"role": "user", "content": "your move"}]


def test_sampling_params_validate_and_override():
    params = SamplingParams(stop="\n")
    assert params.stop == ("\n",)
    assert params.with_overrides(temperature=0.0, n=4) == SamplingParams(temperature=0.0, stop=("\n",), n=4)
    with pytest.raises(TypeError, match="unknown sampling parameters"):
        params.with_overrides(temprature=0.0)
    for bad in ({"temperature": -1}, {"top_p": 0}, {"max_tokens": 0}, {"n": 0}):
        with pytest.raises(ValueError):
            SamplingParams(**bad)


def test_callable_policy_returns_one_completion_per_conversation_and_n():
    recorder = Recorder()
    policy = CallablePolicy(recorder)
    completions = policy.generate([CHAT, CHAT[1:]])
    assert [c.text for c in completions] == ["[4]", "[4]"]
    assert completions[0].completion_token_ids is None and completions[0].finish_reason == "stop"
    assert recorder.prompts == [CHAT, CHAT[1:]]
    assert len(policy.generate([CHAT], SamplingParams(n=3))) == 3


def test_callable_policy_rejects_non_text_replies():
    with pytest.raises(PolicyError, match="expected str"):
        CallablePolicy(lambda messages: 4).generate([CHAT])


def test_with_system_prompt_prepends_or_replaces():
    recorder = Recorder()
    with_system_prompt(CallablePolicy(recorder), "Be brief.").generate([CHAT, CHAT[1:]])
    assert recorder.prompts[0][0] == {"role": "system", "content": "Be brief.\n\nrules"}
    assert recorder.prompts[1] == [{"role": "system", "content": "Be brief."}, CHAT[1]]
    with_system_prompt(CallablePolicy(recorder), "Mine.", mode="replace").generate([CHAT])
    assert recorder.prompts[2] == [{"role": "system", "content": "Mine."}, CHAT[1]]
    assert CHAT[0]["content"] == "rules"  # the caller's messages are not mutated
    with pytest.raises(ValueError, match="mode"):
        with_system_prompt(CallablePolicy(recorder), "x", mode="append")


def test_with_few_shot_inserts_examples_after_the_system_message():
    examples = [{"role": "user", "content": "Legal moves: [4]"}, {"role": "assistant", "content": "[4]"}]
    recorder = Recorder()
    with_few_shot(CallablePolicy(recorder), examples).generate([CHAT, CHAT[1:]])
    assert recorder.prompts[0] == [CHAT[0], *examples, CHAT[1]]
    assert recorder.prompts[1] == [*examples, CHAT[1]]


def test_with_sampling_forces_its_parameters_and_passes_the_rest():
    inner = ParamsRecorder()
    policy = with_sampling(inner, temperature=0.0, max_tokens=8)
    policy.generate([CHAT])
    policy.generate([CHAT], SamplingParams(temperature=0.7, seed=5))
    assert inner.params == [
        SamplingParams(temperature=0.0, max_tokens=8),
        SamplingParams(temperature=0.0, max_tokens=8, seed=5),
    ]
    with pytest.raises(TypeError, match="unknown sampling parameters"):
        with_sampling(inner, temp=0.0)


def test_wrappers_nest():
    recorder = Recorder()
    policy = with_system_prompt(with_system_prompt(CallablePolicy(recorder), "inner"), "outer")
    policy.generate([CHAT])
    assert recorder.prompts[0][0]["content"] == "inner\n\nouter\n\nrules"


def test_agenerate_runs_generate_off_the_event_loop():
    recorder = Recorder("[0]")
    policy = with_sampling(CallablePolicy(recorder), n=2)

    async def main():
        return await asyncio.gather(policy.agenerate([CHAT]), policy.agenerate([CHAT, CHAT]))

    first, second = asyncio.run(main())
    assert [c.text for c in first] == ["[0]"] * 2
    assert len(second) == 4


def test_legal_moves_in_reads_the_last_list():
    text = "[9] is taken. Legal moves: [0], [1].\nBoard...\nLegal moves: [check], [bet]."
    assert legal_moves_in(text) == ["[check]", "[bet]"]
    assert legal_moves_in("no list here [4]") == []


def _random_episode(seed):
    env = gym.make("rlvr/TicTacToe-v0", opponent="random")
    observation, info = env.reset(seed=seed)
    conversation = Conversation.from_reset(observation, info)
    policy = RandomLegalPolicy(seed=seed)
    moves = []
    while True:
        assert info["legal_actions"]
        action = policy.generate([conversation.to_messages()])[0].text
        assert action in info["legal_actions"]
        moves.append(action)
        conversation.add_action(action)
        observation, _, terminated, truncated, info = env.step(action)
        assert not info["invalid_action"]
        if terminated or truncated:
            return moves, info["metrics"]
        conversation.add_observation(observation)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_random_legal_policy_plays_tictactoe_without_invalid_moves(seed):
    moves, metrics = _random_episode(seed)
    assert moves and "win" in metrics
    assert _random_episode(seed) == (moves, metrics)


def test_random_legal_policy_needs_a_move_list():
    with pytest.raises(PolicyError, match="Legal moves"):
        RandomLegalPolicy(seed=0).generate([[{"role": "user", "content": "say anything"}]])


def test_human_policy_shows_the_rules_once_and_reads_replies():
    import io

    from rlvr.agents import HumanPolicy, PolicyError

    shown = io.StringIO()
    human = HumanPolicy(stdin=io.StringIO("[bet]\n[call]\n"), stdout=shown)
    first = [{"role": "system", "content": "RULES"}, {"role": "user", "content": "Your card: K"}]
    later = [*first, {"role": "assistant", "content": "[bet]"}, {"role": "user", "content": "They bet."}]
    assert [c.text for c in human.generate([first])] == ["[bet]"]
    assert [c.text for c in human.generate([later])] == ["[call]"]
    assert shown.getvalue().count("RULES") == 1 and "They bet." in shown.getvalue()
    with pytest.raises(PolicyError, match="no more input"):
        human.generate([later])


def test_any_policy_can_be_the_opponent_of_the_single_agent_view():
    from rlvr.agents import as_opponent

    seen: list[list[dict]] = []

    def watch(messages):
        seen.append(messages)
        return legal_moves_in(messages[-1]["content"])[0]  # the lowest free square

    env = gym.make("rlvr/TicTacToe-v0", opponent=as_opponent(CallablePolicy(watch)), seat=0)
    for seed in range(2):
        seen.clear()
        _obs, info = env.reset(seed=seed)
        done = False
        while not done:
            move = info["legal_actions"][-1]
            _obs, _reward, terminated, truncated, info = env.step(
                f"[{move}]" if not move.startswith("[") else move
            )
            done = terminated or truncated
        assert not info["invalid_action"]
        # A fresh chat each episode: the rules open it, and the opponent's own replies are in it.
        assert "TicTacToe" in seen[0][0]["content"] and len(seen[0]) == 1
        assert [m["role"] for m in seen[-1]] == ["user", "assistant"] * (len(seen) - 1) + ["user"]


def test_random_legal_moves_do_not_depend_on_batch_company():
    """A seeded move is a function of the conversation alone, so sharding or resuming replays it."""
    board = [
        {"role": "user", "content": f"Turn {i}. Legal moves: [0], [1], [2], [3], [4], [5]"} for i in range(6)
    ]
    alone = [RandomLegalPolicy(seed=5).generate([[message]])[0].text for message in board]
    together = [c.text for c in RandomLegalPolicy(seed=5).generate([[message] for message in board])]
    reversed_batch = [c.text for c in RandomLegalPolicy(seed=5).generate([[m] for m in reversed(board)])]
    assert alone == together == reversed_batch[::-1]
    group = RandomLegalPolicy(seed=5).generate([[board[0]]], SamplingParams(n=12))
    assert len({c.text for c in group}) > 1  # the n draws of a group differ from each other
    assert [c.text for c in RandomLegalPolicy(seed=6).generate([[m] for m in board])] != together

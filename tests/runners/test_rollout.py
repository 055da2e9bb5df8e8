"""The batched runner: batching across episodes and seats, self-play, bots, failures, records."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest

from rlvr.agents import (
    CallablePolicy,
    Completion,
    Policy,
    PolicyUnavailable,
    RandomLegalPolicy,
    SamplingParams,
    legal_moves_in,
)
from rlvr.agents.scripted import BotSeat
from rlvr.core.records import Message, Trajectory, read_jsonl, write_jsonl
from rlvr.runners.episodes import EpisodeSpec
from rlvr.runners.matches import play_match
from rlvr.runners.rollout import Player, Runner, grouped, rollout
from tests.runners import toy_envs

toy_envs.register()
KUHN = "rlvr/KuhnPoker-v0"
TTT = "rlvr/TicTacToe-v0"
SEATS = ("player_0", "player_1")


class Recording(Policy):
    """Wraps a policy and keeps the size of every batch it was asked for."""

    def __init__(self, inner: Policy) -> None:
        self.inner = inner
        self.batches: list[int] = []

    def generate(
        self, batch: Sequence[list[Message]], params: SamplingParams | None = None
    ) -> list[Completion]:
        self.batches.append(len(batch))
        return self.inner.generate(batch, params)


def self_play_specs(env_id: str, seeds: range) -> list[EpisodeSpec]:
    return [EpisodeSpec(env_id, seed, {seat: "me" for seat in SEATS}) for seed in seeds]


def test_self_play_batches_every_waiting_seat_into_one_call():
    policy = Recording(RandomLegalPolicy(seed=0))
    trajectories = rollout(self_play_specs(KUHN, range(10)), {"me": policy}, max_episodes=10)
    assert len(trajectories) == 10
    # Ten episodes start at once, each with one seat to move: the first call carries all ten.
    assert policy.batches[0] == 10
    assert len(policy.batches) < sum(len(t.turns) for t in trajectories)
    for trajectory in trajectories:
        assert trajectory.error is None and trajectory.terminated
        assert {turn.role for turn in trajectory.turns} == set(SEATS)
        assert sum(trajectory.returns.values()) == pytest.approx(0.0)  # zero-sum
        # Each seat's turn rewards add up to its return.
        for role in SEATS:
            assert sum(t.reward for t in trajectory.turns_of(role)) == pytest.approx(trajectory.returns[role])
        assert set(trajectory.metrics) == set(SEATS)
        assert trajectory.metadata["players"] == {"player_0": "me", "player_1": "me"}


def test_max_episodes_bounds_the_batch():
    policy = Recording(RandomLegalPolicy(seed=0))
    rollout(self_play_specs(TTT, range(9)), {"me": policy}, max_episodes=4)
    assert max(policy.batches) <= 4


def test_trajectories_come_back_in_spec_order_and_replay_with_the_same_seeds():
    specs = self_play_specs(TTT, range(6))
    first = rollout(specs, {"me": RandomLegalPolicy(seed=3)}, max_episodes=3)
    second = rollout(specs, {"me": RandomLegalPolicy(seed=3)}, max_episodes=3)
    assert [t.seed for t in first] == list(range(6))
    for trajectory in first + second:
        assert trajectory.metadata.pop("duration_s") >= 0  # wall time: the one field that may differ
    assert [t.to_dict() for t in first] == [t.to_dict() for t in second]


def test_env_bots_play_inside_the_step_and_match_the_bot_driver():
    specs = [EpisodeSpec(TTT, seed, {"player_0": "rnd", "player_1": "opt"}) for seed in range(4)]
    trajectories = rollout(specs, {"rnd": BotSeat("random"), "opt": BotSeat("optimal")})
    for seed, trajectory in enumerate(trajectories):
        reference = play_match(TTT, {"player_0": "random", "player_1": "optimal"}, seed)
        assert [turn.action for turn in trajectory.turns] == [turn.action for turn in reference.turns]
        assert trajectory.returns == reference.returns
        assert trajectory.metadata["players"] == {"player_0": "bot:random", "player_1": "bot:optimal"}


def test_policy_against_an_optimal_bot_never_wins_tictactoe():
    policy = Recording(RandomLegalPolicy(seed=1))
    specs = [EpisodeSpec(TTT, seed, {"player_0": "me", "player_1": "opt"}) for seed in range(12)]
    trajectories = rollout(specs, {"me": policy, "opt": BotSeat("optimal")})
    assert all(t.returns["player_0"] <= 0 for t in trajectories)
    # The bot's turns carry no completion; the policy's do.
    for trajectory in trajectories:
        assert all(turn.completion is None for turn in trajectory.turns_of("player_1"))
        assert all(turn.completion is not None for turn in trajectory.turns_of("player_0"))


def test_think_blocks_stay_in_the_record_but_not_in_the_action():
    def reply(messages: list[Message]) -> str:
        legal = legal_moves_in(messages[-1]["content"])
        return "<think>I bet with a king</think> [bet]" if "[bet]" in legal else "[call]"

    (trajectory,) = rollout([EpisodeSpec(KUHN, 0, {s: "me" for s in SEATS})], {"me": CallablePolicy(reply)})
    turn = trajectory.turns[0]
    assert turn.action == "[bet]"
    assert turn.completion.startswith("<think>")
    assert turn.prompt[0]["role"] == "system" and turn.prompt[-1]["role"] == "user"
    # The next prompt of the same seat shows the raw reply as the assistant turn.
    later = next(t for t in trajectory.turns_of(turn.role)[1:])
    assert {"role": "assistant", "content": turn.completion} in later.prompt


def test_token_ids_and_logprobs_reach_the_turns():
    class WithTokens(Policy):
        def generate(self, batch, params=None):
            return [
                Completion(
                    "42", prompt_token_ids=[1, 2], completion_token_ids=[7], completion_logprobs=[-0.5]
                )
                for _ in batch
            ]

    (trajectory,) = rollout([EpisodeSpec(toy_envs.ECHO_ID, 0, {"agent": "p"})], {"p": WithTokens()})
    assert len(trajectory.turns) == 3
    for turn in trajectory.turns:
        assert turn.prompt_token_ids == [1, 2]
        assert turn.completion_token_ids == [7]
        assert turn.completion_logprobs == [-0.5]


def test_single_agent_rewards_and_metrics():
    def echo(messages: list[Message]) -> str:
        return messages[-1]["content"].split()[-1].rstrip(".")

    trajectories = rollout(
        [EpisodeSpec(toy_envs.ECHO_ID, seed, {"agent": "p"}) for seed in range(3)],
        {"p": CallablePolicy(echo)},
    )
    for trajectory in trajectories:
        assert [turn.reward for turn in trajectory.turns] == [1.0, 1.0, 1.0]
        assert trajectory.returns == {"agent": 3.0}
        assert trajectory.metrics == {"agent": {"correct": 3.0}}
        assert trajectory.turns[0].prompt[0] == {
            "role": "system",
            "content": "Repeat the number you are shown.",
        }


def test_a_crashing_env_fails_only_its_episode():
    specs = [
        EpisodeSpec(toy_envs.ECHO_ID, seed, {"agent": "p"}, env_kwargs={"crash_on_seed": 2})
        for seed in range(5)
    ]
    runner = Runner({"p": CallablePolicy(lambda m: "1")})
    trajectories = runner.run(specs)
    failed = [t for t in trajectories if t.error is not None]
    assert [t.seed for t in failed] == [2]
    assert "sandbox exploded" in failed[0].error
    assert all(len(t.turns) == 3 for t in trajectories if t.error is None)
    assert runner.stats.failed == 1 and runner.stats.episodes == 5


def test_a_failed_completion_fails_only_its_episode():
    class FlakyEndpoint(Policy):
        """The first request of the first batch times out; every other one succeeds."""

        calls = 0

        def generate(self, batch, params=None):
            self.calls += 1
            return [
                Completion("", error="timed out after 30 s") if (self.calls, i) == (1, 0) else Completion("0")
                for i in range(len(batch))
            ]

    specs = [EpisodeSpec(toy_envs.ECHO_ID, seed, {"agent": "p"}) for seed in range(8)]
    trajectories = rollout(specs, {"p": FlakyEndpoint()})
    failed = [t for t in trajectories if t.error is not None]
    assert [t.seed for t in failed] == [0]
    assert failed[0].error == "policy error: timed out after 30 s"
    assert all(len(t.turns) == 3 for t in trajectories[1:])


def test_a_batch_call_that_raises_fails_its_episodes_but_not_the_other_players():
    def broken(messages):
        raise ConnectionError("endpoint unreachable")

    specs = [
        EpisodeSpec(toy_envs.ECHO_ID, 0, {"agent": "bad"}),
        EpisodeSpec(toy_envs.ECHO_ID, 1, {"agent": "ok"}),
    ]
    bad, ok = rollout(specs, {"bad": CallablePolicy(broken), "ok": CallablePolicy(lambda m: "1")})
    assert "endpoint unreachable" in bad.error
    assert ok.error is None and len(ok.turns) == 3


def test_policy_unavailable_stops_the_run():
    class NoModel(Policy):
        def generate(self, batch, params=None):
            raise PolicyUnavailable("no such model: try `pip install ...`")

    with pytest.raises(PolicyUnavailable, match="no such model"):
        rollout([EpisodeSpec(toy_envs.ECHO_ID, 0, {"agent": "p"})], {"p": NoModel()})


def test_blocking_envs_step_in_worker_threads_and_games_inline():
    toy_envs.STEP_THREADS.clear()
    rollout(
        [EpisodeSpec(toy_envs.ECHO_ID, s, {"agent": "p"}) for s in range(3)],
        {"p": CallablePolicy(lambda m: "1")},
    )
    assert toy_envs.STEP_THREADS and all(name.startswith("rlvr-env") for name in toy_envs.STEP_THREADS)
    toy_envs.STEP_THREADS.clear()
    rollout(
        [EpisodeSpec(toy_envs.ECHO_ID, 0, {"agent": "p"})],
        {"p": CallablePolicy(lambda m: "1")},
        inline_steps=True,
    )
    assert set(toy_envs.STEP_THREADS) == {threading.main_thread().name}


def test_groups_share_task_and_seed():
    specs = grouped([EpisodeSpec(TTT, seed, {s: "me" for s in SEATS}) for seed in (5, 6)], 3)
    trajectories = rollout(specs, {"me": RandomLegalPolicy(seed=0)})
    assert [t.group_id for t in trajectories] == [f"{TTT}#seed=5"] * 3 + [f"{TTT}#seed=6"] * 3
    assert len({t.episode_id for t in trajectories}) == 6


def test_output_round_trips_through_jsonl(tmp_path):
    trajectories = rollout(self_play_specs(KUHN, range(3)), {"me": RandomLegalPolicy(seed=0)})
    path = tmp_path / "runs.jsonl"
    write_jsonl(path, trajectories)
    assert [t.to_dict() for t in read_jsonl(path)] == [t.to_dict() for t in trajectories]
    assert isinstance(trajectories[0], Trajectory)


def test_bad_specs_are_refused_before_anything_runs():
    with pytest.raises(KeyError, match="unknown player"):
        rollout([EpisodeSpec(KUHN, 0, {"player_0": "me", "player_1": "ghost"})], {"me": RandomLegalPolicy()})
    with pytest.raises(ValueError, match="bots play only in multi-seat envs"):
        rollout([EpisodeSpec(toy_envs.ECHO_ID, 0, {"agent": "b"})], {"b": BotSeat("random")})
    with pytest.raises(ValueError, match="n must be 1"):
        Player(RandomLegalPolicy(), sampling=SamplingParams(n=2))
    (trajectory,) = rollout(
        [EpisodeSpec(KUHN, 0, {"player_0": "me", "seat_9": "me"})], {"me": RandomLegalPolicy()}
    )
    assert "do not match" in trajectory.error


def test_history_window_reaches_the_prompt():
    player = Player(CallablePolicy(lambda m: "1"), history_window=0)
    (trajectory,) = rollout([EpisodeSpec(toy_envs.ECHO_ID, 0, {"agent": "p"})], {"p": player})
    # With a window of 0 every prompt is the system message plus the current observation.
    assert all(len(turn.prompt) == 2 for turn in trajectory.turns)


def test_against_pool_draws_opponents_and_alternates_seats():
    from rlvr.runners.rollout import against_pool

    specs = against_pool(TTT, range(40), "me", ["old", "bot"], draw_seed=3)
    assert specs == against_pool(TTT, range(40), "me", ["old", "bot"], draw_seed=3)
    assert [spec.seats["player_0"] == "me" for spec in specs] == [seed % 2 == 0 for seed in range(40)]
    opponents = [name for spec in specs for name in spec.seats.values() if name != "me"]
    assert set(opponents) == {"old", "bot"}
    players = {"me": RandomLegalPolicy(seed=0), "old": RandomLegalPolicy(seed=1), "bot": BotSeat("optimal")}
    trajectories = rollout(specs, players)
    against_bot = [t for t, s in zip(trajectories, specs, strict=True) if "bot" in s.seats.values()]
    assert all(
        t.returns[next(r for r, n in s.seats.items() if n == "me")] <= 0
        for t, s in zip(against_bot, [s for s in specs if "bot" in s.seats.values()], strict=True)
    )
    with pytest.raises(ValueError, match="empty"):
        against_pool(TTT, range(2), "me", [])


def test_a_seat_can_drop_or_replace_the_env_rules():
    from rlvr.agents import RandomLegalPolicy

    def first_prompt(**prompting) -> list[Message]:
        player = Player(RandomLegalPolicy(seed=0), **prompting)
        spec = EpisodeSpec("rlvr/KuhnPoker-v0", 3, {"player_0": "p", "player_1": "p"})
        (trajectory,) = rollout([spec], {"p": player})
        return trajectory.turns[0].prompt

    with_rules = first_prompt()
    assert with_rules[0]["role"] == "system" and "Kuhn" in with_rules[0]["content"]
    bare = first_prompt(env_instructions=False)
    assert [m["role"] for m in bare] == ["user"] and bare[0] == with_rules[1]
    custom = first_prompt(env_instructions=False, system_prompt="Play well.")
    assert custom[0] == {"role": "system", "content": "Play well."} and custom[1:] == bare


@pytest.mark.parametrize("blocking", [True, False])
def test_a_policy_raising_stop_iteration_fails_its_episode_instead_of_hanging(blocking):
    # run_in_executor cannot deliver StopIteration to an asyncio future: unguarded, this would hang.
    def stray_next(messages):
        return next(iter([]))

    player = Player(CallablePolicy(stray_next, blocking=blocking))
    (trajectory,) = rollout([EpisodeSpec(toy_envs.ECHO_ID, 0, {"agent": "p"})], {"p": player})
    assert trajectory.error is not None and "StopIteration" in trajectory.error


def test_in_self_play_the_second_mover_gets_its_rules_too():
    from rlvr.agents import RandomLegalPolicy

    spec = EpisodeSpec("rlvr/KuhnPoker-v0", 3, {"player_0": "p", "player_1": "p"})
    (trajectory,) = rollout([spec], {"p": Player(RandomLegalPolicy(seed=0))})
    first_prompts = {}
    for turn in trajectory.turns:
        first_prompts.setdefault(turn.role, turn.prompt)
    assert set(first_prompts) == {"player_0", "player_1"}
    for role, prompt in first_prompts.items():
        assert prompt[0]["role"] == "system" and role in prompt[0]["content"], role

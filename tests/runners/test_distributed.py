"""``rlvr eval --ray``: the same stored episodes as a local run, resumable, and crashes stay local.

One local Ray cluster (2 CPUs) serves the whole module: starting Ray costs seconds, so it is started
once, and the module is one xdist group so two workers never start two clusters side by side.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from rlvr.core.registry import EnvEntry, register_env
from rlvr.envs.games.kuhn_poker import KuhnPokerAECEnv
from rlvr.runners.distributed import RayOptions, RolloutWorker, WorkerConfig
from rlvr.runners.evaluate import EvalOptions, EvalRequest, evaluate
from rlvr.runners.results_db import ResultsDB
from tests.runners.tiny_models import smollm2_tokenizer, tiny_llama

pytestmark = pytest.mark.xdist_group("ray")

KUHN = "rlvr/KuhnPoker-v0"
TTT = "rlvr/TicTacToe-v0"
CRASHY = "rlvr-test/CrashyKuhn-v0"
CRASH_SEED = 2


class CrashyKuhn(KuhnPokerAECEnv):
    """Kuhn Poker whose every step raises on one seed: a sandbox that blows up mid-episode.

    ``hard=True`` kills the whole process instead (a segfault in a native library, an OOM kill).
    """

    def __init__(self, hard: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hard = hard

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> None:
        self.crash = seed == CRASH_SEED
        super().reset(seed=seed, options=options)

    def step(self, action: Any) -> None:
        if self.crash and action is not None:
            if self.hard:
                os._exit(1)
            raise RuntimeError("sandbox exploded")
        super().step(action)


def register_crashy() -> None:
    """Runs in every Ray actor (``RayOptions.worker_setup``) and here: registries are per process."""
    register_env(
        EnvEntry(
            id=CRASHY,
            entry_point="rlvr.envs.games.kuhn_poker:KuhnPokerEnv",
            aec_entry_point="tests.runners.test_distributed:CrashyKuhn",
            description="Kuhn Poker that crashes on one seed (test env)",
            roles=("player_0", "player_1"),
            tags=("game", "test"),
        ),
        with_gymnasium=False,
    )


register_crashy()


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[Any]:
    try:
        import ray
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("ray is required in CI: pip install 'rlvr-gym[ray]'", pytrace=False)
        pytest.skip("ray is not installed: pip install 'rlvr-gym[ray]'")
    ray.init(num_cpus=2, include_dashboard=False, ignore_reinit_error=True, log_to_driver=False)
    yield ray
    ray.shutdown()


def local(**kwargs: Any) -> EvalOptions:
    return EvalOptions(progress=False, backend_options={"seed": 0}, **kwargs)


def on_ray(workers: int = 2, **kwargs: Any) -> EvalOptions:
    ray = RayOptions(num_workers=workers, worker_setup=register_crashy)
    return EvalOptions(progress=False, backend_options={"seed": 0}, ray=ray, **kwargs)


def stored(db_path: Any) -> dict[str, Any]:
    """Everything stored per episode that does not depend on the clock or the run id."""
    with ResultsDB(db_path) as db:
        connection = db.connection
        episodes = {}
        for key, env, seed, seats, status, error, turns, text in connection.execute(
            "SELECT episode_key, env_id, seed, seats, status, error, num_turns, trajectory FROM episodes"
        ):
            trajectory = json.loads(text)
            trajectory["metadata"].pop("duration_s", None)
            episodes[key] = (env, seed, seats, status, error, turns, trajectory)
        seats = sorted(connection.execute("SELECT * FROM seat_results"))
        metrics = sorted(connection.execute("SELECT * FROM seat_metrics"))
    return {"episodes": episodes, "seats": seats, "metrics": metrics}


BOTS = EvalRequest((KUHN, TTT), ("bot:random",), ("bot:optimal",), episodes=4, seed=3)
RANDOM_LEGAL = EvalRequest((KUHN, TTT), ("random-legal",), ("bot:optimal", "bot:random"), episodes=3)


def test_worker_plays_in_process_and_round_trips_trajectories():
    """The actor class without Ray: the same trajectories as the runner, as JSON-safe dicts."""
    from rlvr.agents.base import SamplingParams
    from rlvr.agents.specs import parse_agent_spec
    from rlvr.runners.episodes import EpisodeSpec

    config = WorkerConfig(
        agents=(parse_agent_spec("bot:random"), parse_agent_spec("bot:optimal")),
        sampling=SamplingParams(temperature=0.0),
    )
    specs = [(7, EpisodeSpec(TTT, seed, {"player_0": "random", "player_1": "optimal"})) for seed in (1, 2)]
    out = list(RolloutWorker(config).play(specs))
    assert [index for index, _ in out] == [7, 7]
    for _, data in out:
        assert json.loads(json.dumps(data)) == data
        assert data["error"] is None and data["returns"]["player_1"] >= 0  # minimax never loses


def test_ray_stores_exactly_what_a_local_run_stores(ray_cluster, tmp_path):
    """Bots draw per episode and random-legal per conversation, so any sharding gives the same
    episodes as the local run."""
    for request, workers in ((BOTS, 2), (RANDOM_LEGAL, 2)):
        here, there = tmp_path / f"local{workers}.db", tmp_path / f"ray{workers}.db"
        evaluate(request, here, local())
        summary = evaluate(request, there, on_ray(workers))
        assert summary.played == summary.planned and summary.failed == 0
        assert stored(there) == stored(here)


def test_ray_resumes_a_partial_run(ray_cluster, tmp_path):
    db_path = tmp_path / "results.db"
    first = evaluate(EvalRequest((KUHN,), ("bot:random",), ("bot:optimal",), episodes=2, seed=3), db_path)
    assert first.played == 4
    summary = evaluate(BOTS, db_path, on_ray(2))
    assert (summary.planned, summary.already_done, summary.played) == (16, 4, 12)
    again = evaluate(BOTS, db_path, on_ray(2))
    assert (again.already_done, again.played) == (16, 0)
    reference = tmp_path / "reference.db"
    evaluate(BOTS, reference, local())
    assert stored(db_path) == stored(reference)


def test_an_env_crash_in_a_worker_fails_only_that_episode(ray_cluster, tmp_path):
    request = EvalRequest((CRASHY,), ("bot:random",), ("bot:optimal",), episodes=4)
    summary = evaluate(request, tmp_path / "results.db", on_ray(1))
    assert (summary.planned, summary.played, summary.failed) == (8, 8, 2)  # seed 2, both seat orders
    with ResultsDB(tmp_path / "results.db") as db:
        failures = db.failures()
        assert db.episode_counts() == {"done": 6, "failed": 2}
    assert {(seed, error) for _, seed, error in failures} == {
        (CRASH_SEED, "env error: RuntimeError: sandbox exploded")
    }


def test_a_pool_replaces_a_lost_worker_and_plays_on(ray_cluster):
    """A worker process that dies (``os._exit``: a segfault, an OOM kill) fails the episodes it had,
    not the other worker's; a ``RolloutPool`` (what training would keep across iterations) then
    plays the next batch on a replacement. Weights cannot be pushed to a policy that has none."""
    from rlvr.agents.base import SamplingParams
    from rlvr.agents.specs import parse_agent_spec
    from rlvr.runners.distributed import RolloutPool
    from rlvr.runners.episodes import EpisodeSpec

    config = WorkerConfig(
        agents=(parse_agent_spec("bot:random"), parse_agent_spec("bot:optimal")),
        sampling=SamplingParams(temperature=0.0),
    )
    seats = {"player_0": "random", "player_1": "optimal"}
    with RolloutPool(config, RayOptions(num_workers=2, worker_setup=register_crashy)) as pool:
        dying = [EpisodeSpec(CRASHY, seed, seats, {"hard": True}) for seed in (CRASH_SEED, 5)]
        first = dict(pool.stream(dying))
        assert first[0].error is not None and first[0].error.startswith("ray worker lost: ")
        assert first[1].error is None
        again = dict(pool.stream([EpisodeSpec(TTT, seed, seats) for seed in range(4)]))
        assert sorted(again) == [0, 1, 2, 3] and all(t.error is None for t in again.values())
        with pytest.raises(TypeError, match="no weights"):
            pool.load_weights("random", {})


def test_ready_made_players_are_refused(ray_cluster, tmp_path):
    with pytest.raises(ValueError, match="Ray workers"):
        evaluate(BOTS, tmp_path / "results.db", on_ray(1), players={"random": object()})


def test_cli_eval_with_ray(ray_cluster, tmp_path):
    from rlvr.cli import main

    db_path = tmp_path / "results.db"
    argv = ["eval", "--env", TTT, "--agent", "bot:random", "--opponent", "bot:optimal", "--episodes", "2"]
    argv += ["--db", str(db_path), "--no-progress", "--no-leaderboard"]
    assert main([*argv, "--ray", "--ray-workers", "1"]) == 0
    with ResultsDB(db_path) as db:
        assert db.episode_counts() == {"done": 4}


def test_without_ray_the_error_names_the_extra(monkeypatch, tmp_path, capsys):
    """No cluster needed: ``sys.modules["ray"] = None`` makes ``import ray`` fail as if absent."""
    from rlvr.cli import main

    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(ImportError, match=r"rlvr-gym\[ray\]"):
        evaluate(BOTS, tmp_path / "results.db", on_ray(1))
    with ResultsDB(tmp_path / "results.db") as db:  # nothing recorded as a run
        assert db.connection.execute("SELECT COUNT(*) FROM runs").fetchone() == (0,)
    argv = ["eval", "--env", TTT, "--agent", "bot:random", "--opponent", "bot:optimal", "--ray"]
    assert main([*argv, "--db", str(tmp_path / "cli.db"), "--no-progress"]) == 2
    assert "rlvr-gym[ray]" in capsys.readouterr().out


def test_an_env_the_workers_do_not_know_is_an_error_not_failed_episodes(ray_cluster, tmp_path):
    """Registries are per process: without ``worker_setup`` the actors cannot make the test env, and
    that is raised as the runner raises it locally (an unknown id is an error before anything)."""
    request = EvalRequest((CRASHY,), ("bot:random",), ("bot:optimal",), episodes=1)
    options = EvalOptions(progress=False, ray=RayOptions(num_workers=1))
    with pytest.raises(KeyError, match="CrashyKuhn"):
        evaluate(request, tmp_path / "results.db", options)


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A 1-layer random Llama with SmolLM2's tokenizer, saved where every actor can load it (``hf:DIR``)."""
    pytest.importorskip("torch", reason="training needs torch (pip install 'rlvr-gym[torch]')")
    tokenizer = smollm2_tokenizer()
    out = tmp_path_factory.mktemp("tiny-llama")
    tiny_llama(tokenizer).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return str(out)


def _digests(model: Any) -> dict[str, str]:
    """Per-tensor digests of the exact bytes (a float sum would depend on the thread count)."""
    return {
        name: hashlib.sha1(t.detach().cpu().numpy().tobytes()).hexdigest()
        for name, t in model.state_dict().items()
    }


def _actor_weight_sums(pool: Any) -> list[dict[str, str]]:
    """Each actor's learner weights, as ``_digests``."""

    def digests(worker: RolloutWorker) -> dict[str, str]:
        return _digests(worker.players["learner"].policy.model)

    return pool.ray.get([actor.__ray_call__.remote(digests) for actor in pool.actors])


def test_train_on_ray_ships_every_update_to_the_actors(ray_cluster, tiny_model_dir, tmp_path):
    """``rlvr train --ray``: actors play the batch with the learner built from its spec, the driver
    updates, and after every update (and on resume) the actors hold exactly the learner's weights."""
    from rlvr.agents.specs import build_policy, parse_agent_spec
    from rlvr.runners.learner.trainer import TrainConfig, Trainer

    spec = f"hf:{tiny_model_dir}"
    policy = build_policy(parse_agent_spec(spec), device="cpu")
    start = _digests(policy.model)
    config = TrainConfig(
        env_ids=[KUHN], opponent="bot:random", iterations=1, tasks_per_iteration=2, group_size=2,
        max_tokens=4, learning_rate=1e-2, checkpoint_every=1,
    )  # fmt: skip
    trainer = Trainer(config, policy, tmp_path, ray=RayOptions(num_workers=2), learner_spec=spec)
    try:
        assert _actor_weight_sums(trainer.pool) == [start, start]
        metrics = trainer.step()
        assert metrics["episodes"] == 4 and metrics["failed"] == 0
        assert metrics["samples"] > 0 and metrics["trained_tokens"] > 0 and metrics["generated_tokens"] > 0
        learned = _digests(policy.model)
        assert learned != start
        assert _actor_weight_sums(trainer.pool) == [learned, learned]
        trainer.save_checkpoint()
    finally:
        trainer.close()
    assert trainer.pool is None
    fresh = build_policy(parse_agent_spec(spec), device="cpu")  # starts from the saved random weights
    resumed = Trainer(config, fresh, tmp_path, ray=RayOptions(num_workers=1), learner_spec=spec)
    try:
        assert resumed.iteration == 1 and _actor_weight_sums(resumed.pool) == [learned]
    finally:
        resumed.close()
    with pytest.raises(ValueError, match="learner_spec"):
        Trainer(config, policy, tmp_path, ray=RayOptions(num_workers=1))


def test_the_train_command_runs_on_ray(ray_cluster, tiny_model_dir, tmp_path):
    """``rlvr train --ray`` end to end through the CLI handler (the cluster is the module's)."""
    import io

    from rich.console import Console

    from rlvr.cli import build_parser

    out = tmp_path / "run"
    args = build_parser().parse_args(
        ["train", "--model", f"hf:{tiny_model_dir}", "--env", KUHN, "--opponent", "bot:random",
         "--iterations", "1", "--tasks", "1", "--group-size", "2", "--max-tokens", "4",
         "--device", "cpu", "--ray", "--ray-workers", "1", "--out", str(out)]
    )  # fmt: skip
    assert args.handler(args, Console(file=io.StringIO())) == 0
    (record,) = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert record["iteration"] == 1 and record["episodes"] == 2 and record["failed"] == 0
    assert (out / "checkpoint.pt").exists()


def test_a_missing_model_raises_as_it_would_locally(ray_cluster, tmp_path):
    """An actor that cannot build its players reports the original error (not "worker lost" for
    every episode), so ``--ray`` fails the way a local run does."""
    from rlvr.agents.base import PolicyUnavailable

    request = EvalRequest((KUHN,), ("hf:/nonexistent/model",), ("bot:random",), episodes=1)
    with pytest.raises(PolicyUnavailable, match="/nonexistent/model"):
        evaluate(request, tmp_path / "local.db", local())
    with pytest.raises(PolicyUnavailable, match="/nonexistent/model"):
        evaluate(request, tmp_path / "ray.db", on_ray(1))


def test_more_actors_than_the_cluster_can_place_is_an_error_not_a_hang(ray_cluster):
    from rlvr.agents.base import SamplingParams
    from rlvr.agents.specs import parse_agent_spec
    from rlvr.runners.distributed import RolloutPool
    from rlvr.runners.episodes import EpisodeSpec

    config = WorkerConfig(agents=(parse_agent_spec("bot:random"),), sampling=SamplingParams())
    with pytest.raises(RuntimeError, match=r"not ready after 2 s: the cluster has 2 CPU"):
        RolloutPool(config, RayOptions(num_workers=3, start_timeout_s=2))
    seats = {"player_0": "random", "player_1": "random"}
    with RolloutPool(config, RayOptions(num_workers=2)) as pool:  # the refused actors were released
        assert len(dict(pool.stream([EpisodeSpec(TTT, seed, seats) for seed in range(4)]))) == 4

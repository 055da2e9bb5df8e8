"""The training loop: rollout with the current policy, advantages, a PPO-clip update, weights to the
rollout engine, repeat; with metrics, checkpoints and resume.

It is deliberately one readable loop (CleanRL's style). The rollout engine and the learner may be the
same ``TransformersPolicy`` (CPU or one GPU: nothing to sync), a vLLM engine fed through its
``load_weights`` after every update, or a pool of Ray actors (``ray=RayOptions(...)``), each building
the learner from its spec and receiving the new weights after every update.
"""

from __future__ import annotations

import copy
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from rlvr.agents.base import Policy, SamplingParams
from rlvr.agents.specs import AgentSpec, build_policy, parse_agent_spec
from rlvr.core.records import Trajectory, write_jsonl
from rlvr.core.registry import get_entry
from rlvr.runners.episodes import EpisodeSpec
from rlvr.runners.learner.advantages import RoleBaseline, TurnAdvantages, grpo, mars, rebn, reinforce
from rlvr.runners.learner.losses import PPOConfig
from rlvr.runners.learner.sequences import TrainingSample, build_samples
from rlvr.runners.learner.tracking import TRACKERS, make_trackers
from rlvr.runners.learner.update import PRECISIONS, policy_gradient_step
from rlvr.runners.rollout import Player, RolloutStats, Runner

if TYPE_CHECKING:
    from rlvr.runners.distributed import RayOptions, RolloutPool

ALGORITHMS = ("grpo", "rae", "mars", "rebn", "reinforce")
LEARNER = "learner"
OPPONENT = "opponent"


@dataclass
class TrainConfig:
    """Everything a run depends on; saved with every checkpoint."""

    env_ids: list[str]
    env_weights: list[float] | None = None
    """Sampling weights of the envs (default: equal)."""
    algo: str = "grpo"
    opponent: str | None = None
    """An agent spec for the other seats (``bot:random``); ``None`` is self-play."""
    iterations: int = 10
    tasks_per_iteration: int = 8
    group_size: int = 4
    """Episodes per task (same env and seed), the group GRPO baselines against."""
    learning_rate: float = 1e-6
    max_tokens: int = 64
    temperature: float = 1.0
    minibatch_size: int = 4
    """Samples per backward pass; gradients accumulate over each step's share of the samples."""
    steps_per_iteration: int = 1
    """Optimizer steps per rollout batch: the samples are shuffled and split into this many parts, one
    step each (verl's mini-batches). After the first step the samples are off-policy and the ratio
    clip is what keeps the update near the behaviour policy."""
    max_grad_norm: float = 1.0
    clip_low: float = 0.2
    clip_high: float = 0.2
    dual_clip: float | None = 3.0
    kl_coef: float = 0.0
    """Weight of the k3 KL to the starting weights (a frozen copy is kept: twice the weight memory)."""
    entropy_coef: float = 0.0
    """Weight of an entropy bonus on the learner's tokens (see ``PPOConfig.entropy_coef``)."""
    precision: str = "auto"
    """``auto`` (bf16 autocast on CUDA, float32 on CPU), ``bf16`` or ``fp32``."""
    rae_alpha: float = 0.95
    seed: int = 0
    checkpoint_every: int = 5
    eval_every: int = 0
    """Every this many iterations, play ``eval_episodes`` greedy episodes per env and seat against
    ``eval_opponent`` and log ``eval/...`` metrics; 0 turns it off."""
    eval_episodes: int = 4
    eval_opponent: str = "bot:random"
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    env_instructions: bool = True
    """Give the learner the env's rules as its system message (see ``Player.env_instructions``)."""
    system_prompt: str | None = None
    warm_start_episodes: int = 0
    """Before RL, clone ``warm_start_teacher``'s moves from this many games per env (0: none); see
    ``rlvr.runners.learner.warm_start``. Runs once, at iteration 0."""
    warm_start_teacher: str = "random-legal"
    warm_start_epochs: int = 2
    warm_start_lr: float = 5e-5
    report_to: list[str] = field(default_factory=list)
    """Trackers besides ``metrics.jsonl``: ``tensorboard``, ``wandb``."""
    wandb_project: str = "rlvr"

    def __post_init__(self) -> None:
        if self.algo not in ALGORITHMS:
            raise ValueError(f"algo must be one of {ALGORITHMS}, got {self.algo!r}")
        if not self.env_ids:
            raise ValueError("name at least one env")
        unknown = sorted(set(self.report_to) - set(TRACKERS))
        if unknown:
            raise ValueError(f"unknown trackers {unknown} in report_to; choose from {TRACKERS}")
        if self.steps_per_iteration < 1:
            raise ValueError(f"steps_per_iteration must be >= 1, got {self.steps_per_iteration}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        if self.env_weights is not None and len(self.env_weights) != len(self.env_ids):
            raise ValueError("env_weights needs one weight per env")


class Trainer:
    """Runs ``config`` with ``policy`` (a ``TransformersPolicy``: its ``.model`` is trained in place),
    writing ``metrics.jsonl``, ``rollouts.jsonl`` and ``checkpoint.pt`` under ``out_dir``.

    With ``ray``, training rollouts are played by Ray actors that build the learner from
    ``learner_spec`` (``hf:MODEL``, or ``vllm:MODEL`` on GPU workers) and the opponent from its spec;
    the driver keeps the learner, and after every update its weights go to every actor. Periodic
    evaluation stays in this process.
    """

    def __init__(
        self,
        config: TrainConfig,
        policy: Policy,
        out_dir: str | Path,
        rollout_engine: Policy | None = None,
        *,
        ray: RayOptions | None = None,
        learner_spec: AgentSpec | str | None = None,
    ):
        if ray is not None and learner_spec is None:
            raise ValueError("training on Ray needs learner_spec: the workers build the learner from it")
        if ray is not None and rollout_engine is not None:
            raise ValueError("pass either a local rollout_engine or ray, not both")
        self.config = config
        self.policy = policy
        self.model: torch.nn.Module = policy.model  # type: ignore[attr-defined]
        self.rollout_engine = rollout_engine or policy
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=config.learning_rate)
        self.rae = RoleBaseline(alpha=config.rae_alpha)
        self.reference: torch.nn.Module | None = None
        if config.kl_coef:
            self.reference = copy.deepcopy(self.model).eval().requires_grad_(False)
        self.iteration = 0
        self.opponent = build_policy(parse_agent_spec(config.opponent)) if config.opponent else None
        self.pool: RolloutPool | None = None
        self._load_checkpoint()
        if ray is not None:
            self.pool = self._start_pool(ray, learner_spec)  # type: ignore[arg-type]
        self.trackers = make_trackers(config.report_to, self.out_dir, asdict(config), config.wandb_project)

    def _start_pool(self, options: RayOptions, learner_spec: AgentSpec | str) -> RolloutPool:
        """Actors that play the learner (and opponent) seats; resumed weights go to them at once."""
        import dataclasses

        from rlvr.runners.distributed import RolloutPool, WorkerConfig

        spec = parse_agent_spec(learner_spec) if isinstance(learner_spec, str) else learner_spec
        agents = [dataclasses.replace(spec, name=LEARNER)]
        if self.config.opponent:
            agents.append(dataclasses.replace(parse_agent_spec(self.config.opponent), name=OPPONENT))
        worker = WorkerConfig(
            agents=tuple(agents),
            sampling=self._sampling(),
            max_episodes=self.config.tasks_per_iteration * self.config.group_size,
            player_options={LEARNER: self._prompting()},
        )
        pool = RolloutPool(worker, options)
        if self.iteration:
            pool.load_weights(LEARNER, _cpu_state(self.model))
        return pool

    # -- the loop ----------------------------------------------------------------------------------

    def train(self, on_iteration: Callable[[dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
        """Iterate up to ``config.iterations`` (from wherever a checkpoint left off), checkpointing
        on schedule and at the end; ``on_iteration`` sees each iteration's metrics (a progress bar)."""
        history = []
        try:
            if self.iteration == 0 and self.config.warm_start_episodes:
                self.warm_start()
            while self.iteration < self.config.iterations:
                metrics = self.step()
                history.append(metrics)
                if (
                    self.iteration % self.config.checkpoint_every == 0
                    or self.iteration == self.config.iterations
                ):
                    self.save_checkpoint()
                if on_iteration is not None:
                    on_iteration(metrics)
        finally:
            self.close()
        return history

    def close(self) -> None:
        """Flush and close the trackers (the JSONL file needs nothing) and stop any Ray actors."""
        for tracker in self.trackers:
            tracker.close()
        self.trackers = self.trackers[:1]
        if self.pool is not None:
            self.pool.close()
            self.pool = None

    def warm_start(self) -> dict[str, Any]:
        """Behaviour cloning of the configured teacher, prompted as RL will prompt the learner;
        logs a ``warm_start/...`` record at step 0 and syncs the rollout engine."""
        from rlvr.runners.learner.warm_start import cloning_samples, demonstrations, warm_start

        config = self.config
        began = time.perf_counter()
        turns = demonstrations(
            config.env_ids,
            episodes=config.warm_start_episodes,
            teacher=config.warm_start_teacher,
            seed=config.seed + 2 * 10**6,  # apart from the training and evaluation seeds
            env_kwargs=config.env_kwargs,
            **self._prompting(),
        )
        samples = cloning_samples(self.policy, turns)
        history = warm_start(
            self.policy,
            samples,
            epochs=config.warm_start_epochs,
            learning_rate=config.warm_start_lr,
            seed=config.seed,
            precision=config.precision,
        )
        self.sync_weights()
        record = {
            "iteration": 0,
            "warm_start/turns": len(samples),
            "warm_start/steps": len(history),
            "warm_start/first_loss": history[0]["loss"],
            "warm_start/last_loss": history[-1]["loss"],
            "seconds": time.perf_counter() - began,
        }
        for tracker in self.trackers:
            tracker.log(record, step=0)
        return record

    def step(self) -> dict[str, Any]:
        """One iteration: rollout -> advantages -> update -> sync; returns (and logs) its metrics."""
        began = time.perf_counter()
        trajectories, rollout_stats = self.rollout()
        finished = [t for t in trajectories if t.error is None]
        advantages = self.advantages(finished)
        samples = build_samples(finished, advantages)
        update = self.update(samples) if samples else {}
        self.sync_weights()
        self.iteration += 1
        evaluation = (
            self.evaluate() if self.config.eval_every and self.iteration % self.config.eval_every == 0 else {}
        )
        metrics = {
            "iteration": self.iteration,
            "episodes": len(trajectories),
            "failed": len(trajectories) - len(finished),
            "samples": len(samples),
            "generated_tokens": rollout_stats.completion_tokens,
            "tokens_per_s": rollout_stats.tokens_per_second,
            "seconds": time.perf_counter() - began,
            **_role_metrics(finished),
            **_advantage_stats(advantages),
            **update,
            **evaluation,
        }
        for tracker in self.trackers:
            tracker.log(metrics, step=self.iteration)
        write_jsonl(self.out_dir / "rollouts.jsonl", trajectories, append=True)
        return metrics

    def rollout(self) -> tuple[list[Trajectory], Any]:
        config = self.config
        rng = np.random.default_rng([config.seed, self.iteration])
        weights = np.asarray(config.env_weights or [1.0] * len(config.env_ids), dtype=float)
        specs = []
        for task in range(config.tasks_per_iteration):
            env_id = config.env_ids[int(rng.choice(len(config.env_ids), p=weights / weights.sum()))]
            roles = get_entry(env_id).roles
            seed = int(rng.integers(2**31))
            seats = dict.fromkeys(roles, LEARNER)
            if self.opponent is not None and len(roles) > 1:
                seats[roles[(task + 1) % len(roles)]] = OPPONENT  # the learner alternates seats
            for sample in range(config.group_size):
                group = f"{self.iteration}/{task}"
                kwargs = dict(config.env_kwargs)
                specs.append(EpisodeSpec(env_id, seed, seats, kwargs, group_id=group, sample_index=sample))
        sampling = self._sampling()
        if self.pool is not None:
            return self._rollout_on_ray(specs, sampling)
        players: dict[str, Any] = {
            LEARNER: Player(self.rollout_engine, sampling=sampling, **self._prompting())
        }
        if self.opponent is not None:
            players[OPPONENT] = self.opponent
        runner = Runner(players, max_episodes=len(specs))
        self.model.eval()
        try:
            return runner.run(specs), runner.stats
        finally:
            runner.close()

    def _sampling(self) -> SamplingParams:
        config = self.config
        return SamplingParams(
            temperature=config.temperature, max_tokens=config.max_tokens, seed=config.seed + self.iteration
        )

    def _rollout_on_ray(
        self, specs: list[EpisodeSpec], sampling: SamplingParams
    ) -> tuple[list[Trajectory], RolloutStats]:
        """The batch on the actors, back in plan order (advantages group by spec, not arrival)."""
        assert self.pool is not None
        began = time.perf_counter()
        played: list[Trajectory | None] = [None] * len(specs)
        for index, trajectory in self.pool.stream(specs, sampling={LEARNER: sampling}):
            played[index] = trajectory
        trajectories = [t for t in played if t is not None]
        stats = RolloutStats(
            episodes=len(trajectories), failed=sum(t.error is not None for t in trajectories)
        )
        for trajectory in trajectories:
            for turn in trajectory.turns:
                if turn.completion_token_ids is not None:
                    stats.turns += 1
                    stats.completion_tokens += len(turn.completion_token_ids)
        stats.wall_seconds = time.perf_counter() - began
        return trajectories, stats

    def _prompting(self) -> dict[str, Any]:
        return {"env_instructions": self.config.env_instructions, "system_prompt": self.config.system_prompt}

    def evaluate(self) -> dict[str, float]:
        """Greedy play against a fixed opponent from every seat, on seeds reserved for evaluation (the
        same every time, so successive evaluations are comparable)."""
        config = self.config
        opponent = build_policy(parse_agent_spec(config.eval_opponent))
        specs = []
        for env_id in config.env_ids:
            roles = get_entry(env_id).roles
            for learner_role in roles:
                for seed in range(10**6, 10**6 + config.eval_episodes):
                    seats = {role: LEARNER if role == learner_role else OPPONENT for role in roles}
                    specs.append(EpisodeSpec(env_id, seed, seats, dict(config.env_kwargs)))
        greedy = SamplingParams(temperature=0.0, max_tokens=config.max_tokens)
        runner = Runner(
            {LEARNER: Player(self.rollout_engine, sampling=greedy, **self._prompting()), OPPONENT: opponent}
        )
        self.model.eval()
        try:
            trajectories = [t for t in runner.run(specs) if t.error is None]
        finally:
            runner.close()
        return {f"eval/{name}": value for name, value in _role_metrics(trajectories).items()}

    def advantages(self, trajectories: Sequence[Trajectory]) -> TurnAdvantages:
        """The configured estimator's advantages, kept only on the learner's own seats (an opponent
        policy's turns are not trained on)."""
        algo = self.config.algo
        if algo == "grpo":
            advantages = grpo(trajectories)
        elif algo == "rae":
            advantages = self.rae.advantages(trajectories)
        elif algo == "mars":
            advantages = mars(trajectories)
        elif algo == "rebn":
            advantages = rebn(trajectories)
        else:
            advantages = reinforce(trajectories)
        for trajectory, row in zip(trajectories, advantages, strict=True):
            players = trajectory.metadata.get("players", {})
            for index, turn in enumerate(trajectory.turns):
                if players.get(turn.role) != LEARNER:
                    row[index] = None
        return advantages

    def update(self, samples: list[TrainingSample]) -> dict[str, float]:
        """One optimizer step over every sample (see ``update.policy_gradient_step``)."""
        config = self.config
        ppo = PPOConfig(
            clip_low=config.clip_low,
            clip_high=config.clip_high,
            dual_clip=config.dual_clip,
            kl_coef=config.kl_coef,
            entropy_coef=config.entropy_coef,
        )
        rng = np.random.default_rng([config.seed, self.iteration, 1])
        order = rng.permutation(len(samples))
        parts = [part for part in np.array_split(order, config.steps_per_iteration) if len(part)]
        history = [
            policy_gradient_step(
                self.model,
                self.optimizer,
                [samples[int(k)] for k in part],
                ppo,
                reference=self.reference,
                minibatch_size=config.minibatch_size,
                max_grad_norm=config.max_grad_norm,
                precision=config.precision,
            )
            for part in parts
        ]
        return {name: statistics.fmean(step[name] for step in history) for name in history[0]} | {
            "trained_tokens": sum(step["trained_tokens"] for step in history),
            "optimizer_steps": len(history),
        }

    def sync_weights(self) -> None:
        """Push the learner's weights to a separate rollout engine (vLLM) or the Ray actors; nothing
        to do when the rollout policy is the learner itself."""
        if self.pool is not None:
            self.pool.load_weights(LEARNER, _cpu_state(self.model))
        elif self.rollout_engine is not self.policy:
            self.rollout_engine.load_weights(self.model.state_dict())  # type: ignore[attr-defined]

    # -- checkpoints -------------------------------------------------------------------------------

    @property
    def checkpoint_path(self) -> Path:
        return self.out_dir / "checkpoint.pt"

    def save_checkpoint(self) -> Path:
        state = {
            "iteration": self.iteration,
            "config": asdict(self.config),
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "rae": self.rae.state_dict(),
        }
        staging = self.checkpoint_path.with_suffix(".tmp")
        torch.save(state, staging)
        staging.replace(self.checkpoint_path)  # a kill mid-save leaves the previous checkpoint intact
        return self.checkpoint_path

    def _load_checkpoint(self) -> None:
        if not self.checkpoint_path.exists():
            return
        state = torch.load(self.checkpoint_path, map_location="cpu", weights_only=False)
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.rae.load_state_dict(state["rae"])
        self.iteration = int(state["iteration"])
        self.sync_weights()


def _cpu_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The weights as CPU tensors: what the object store can ship to actors on any device."""
    return {name: tensor.detach().cpu() for name, tensor in model.state_dict().items()}


def _role_metrics(trajectories: Sequence[Trajectory]) -> dict[str, float]:
    """Mean return, win rate and invalid-move rate of the learner's seats, per env and role."""
    out: dict[str, list[float]] = {}
    for trajectory in trajectories:
        for role, ret in trajectory.returns.items():
            if trajectory.metadata.get("players", {}).get(role) != LEARNER:
                continue
            prefix = f"{trajectory.env_id.split('/')[-1]}/{role}"
            out.setdefault(f"{prefix}/return", []).append(ret)
            metrics = trajectory.metrics.get(role, {})
            for name in ("win", "invalid_move"):
                if name in metrics:
                    out.setdefault(f"{prefix}/{name}", []).append(float(metrics[name]))
    return {name: statistics.fmean(values) for name, values in out.items()}


def _advantage_stats(advantages: TurnAdvantages) -> dict[str, float]:
    values = [value for row in advantages for value in row if value is not None]
    if not values:
        return {"advantage_mean": 0.0, "advantage_std": 0.0, "trained_turns": 0}
    return {
        "advantage_mean": statistics.fmean(values),
        "advantage_std": statistics.pstdev(values),
        "trained_turns": len(values),
    }

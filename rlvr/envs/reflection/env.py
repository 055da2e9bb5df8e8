"""``ReflexionWrapper``: several trials of one task, with verbal reflections in between (Reflexion),
and a constitution of principles carried across tasks (OmniReflect).

It is a plain ``gymnasium.Env`` that *holds* the inner env rather than a ``gymnasium.Wrapper``: the
reflection and curation turns are steps of its own that the inner env never sees, so it has its own
state machine, and ``gym.make(id).unwrapped`` (what ``check_env`` and the catalogue tests inspect) must
be this env, not the inner one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import gymnasium

from rlvr.core.game import GameOverError
from rlvr.core.registry import load_entry_point, make
from rlvr.core.seeding import draw_seed
from rlvr.core.spaces import DEFAULT_MAX_LENGTH, UnicodeText
from rlvr.envs.reflection.store import DEFAULT_SCOPE, ReflectionStore
from rlvr.envs.reflection.text import (
    CURATION_PROMPT,
    DEFAULT_MAX_PRINCIPLES,
    REFLECTION_PROMPT,
    constitution_block,
    format_constitution,
    format_memory,
    parse_principles,
)

InnerEnv = gymnasium.Env | str | Callable[..., gymnasium.Env]
"""An env, a ``"module:Class"`` entry point, a registered env id, or a factory called with kwargs."""
TaskKey = Callable[[int, Mapping[str, Any] | None, Mapping[str, Any]], str]
"""``task_key(seed, options, reset_info) -> key`` under which a task's reflections are stored."""
SuccessTest = Callable[[Mapping[str, Any], float], bool]
"""``success(final_info, trial_return) -> solved``, for envs whose success is not a metric."""

Mode = Literal["reflexion", "constitution", "both"]
MODES = ("reflexion", "constitution", "both")
ROLE = "agent"
_TASK_ID_KEYS = ("task_id", "problem_id", "game_file", "task")

ACT, REFLECT, CURATE, DONE = "act", "reflect", "curate", "done"


@dataclass
class TrialResult:
    """How one trial of the current task went."""

    trial: int
    success: bool
    inner_return: float
    steps: int
    cut_short: bool
    """Ended by truncation (the inner env's or ``max_trial_steps``) rather than by the task."""
    metrics: dict[str, Any] = field(default_factory=dict)


def build_inner_env(env: InnerEnv, kwargs: Mapping[str, Any]) -> gymnasium.Env:
    """Make the inner env from whatever ``env`` names; ``kwargs`` go to its constructor."""
    if isinstance(env, gymnasium.Env):
        if kwargs:
            raise TypeError(f"got an env instance and constructor kwargs {sorted(kwargs)} for it")
        return env
    if isinstance(env, str):
        factory = load_entry_point(env) if ":" in env else None
        return factory(**kwargs) if factory is not None else make(env, **kwargs)
    if callable(env):
        return env(**kwargs)
    raise TypeError(f"env must be an env, an entry point, an env id or a factory, got {env!r}")


def _text(action: Any) -> str:
    """Any action as text SQLite can store: lone surrogates (which a model's reply may hold) would
    make the write raise, so they become U+FFFD."""
    if isinstance(action, bytes):
        return action.decode("utf-8", errors="replace")
    text = "" if action is None else str(action)
    return text.encode("utf-8", errors="replace").decode("utf-8")


def _check_template(template: str, **fields: Any) -> None:
    """Fail at construction, not at the first failed trial hours into a run, on a prompt template
    that names a field we do not fill."""
    try:
        template.format(**fields)
    except (KeyError, IndexError, ValueError) as error:
        raise ValueError(f"bad prompt template {template[:60]!r}...: {error!r}") from None


class ReflexionWrapper(gymnasium.Env[str, str]):
    """Several trials of one task with reflections in between (Reflexion), and optionally a constitution.

    Task
        The inner env's task, tried up to ``max_trials`` times. Trial 1 is the inner env reset with the
        episode's seed and options, observation unchanged (with a constitution, it is shown first).
        ``info["instructions"]`` is the inner env's, plus a note on trials and reflections (and the
        constitution with ``constitution_in="instructions"``).

    Trials and reflections
        A trial ends when the inner episode does. A trial that does not succeed and leaves trials over
        is followed by a **reflection turn**: the observation is the inner env's last one plus a prompt
        asking for a diagnosis and a new high-level plan (``reflection_prompt``); the agent's next
        action is the reflection, stored as it is (stripped, clipped to ``reflection_max_chars``).
        Then the same task starts again (inner reset with the same seed and options): the observation
        is the memory, the last ``memory_size`` reflections (``Your memory: ... Trial k: ...``), then
        ``Trial k of N.`` and the inner env's first observation. A solved task is not retried. Inner
        truncation, and ``max_trial_steps`` steps in one trial, end a trial as a failure.

    Modes
        ``"reflexion"`` (default): memory, no constitution. ``"constitution"``: the newest constitution
        of ``store`` (a numbered list of at most ``max_principles`` principles, else ``constitution``)
        is shown at the start of every task, and no memory; failed trials are retried without one.
        ``"both"``: memory and constitution. With ``curate_every=N`` (constitution modes) the agent
        curates: when every N-th task logged in the store (this env's and any other's) ends, one more
        **curation turn** shows the constitution and the last ``curation_window`` reflections and asks
        for a rewritten list; the parsed list becomes a new version in the store, used by every env
        on the store from its next reset. With ``curate_every=None`` the env only reads the store,
        where ``rlvr.runners.constitution.build_constitution`` (an advisor policy) puts versions.

    Action
        In a trial, whatever the inner env takes, passed through untouched. In a reflection turn, any
        text; an empty reflection is stored but is an invalid action. In a curation turn, a numbered or
        bulleted list; a reply without one is an invalid action and keeps the old constitution.

    Reward
        ``reward="per_trial"`` (default): the inner env's rewards as they come, on every trial, so the
        return is the sum over trials. ``reward="final"``: only the last trial counts; its inner return
        is paid on the step that ends it. Reflection and curation turns pay 0.

    Episode end
        Terminated when a trial succeeds or the last trial ends, after the reflection and curation
        turns that follow it, if any. Never truncated: running out of trials is the end of the task.
        Success is ``metrics[success_key]`` of the inner episode's last info (``>= success_threshold``),
        else ``info["won"]``, else ``metrics["success"]``; or ``success_key(info, trial_return)``.

    Info
        The inner env's keys during trials, overridden by ``turn`` (over all trials), ``player``,
        ``role``, ``phase`` (``"act"``, ``"reflect"``, ``"curate"``, ``"done"``), ``trial``,
        ``max_trials``, ``task_key``, ``constitution_version`` (0 for none), ``invalid_action``,
        ``invalid_reason``, and at the end ``metrics``: ``success``, ``success@k`` for k = 1 ..
        ``max_trials`` (solved within the first k trials), ``trials``, ``reflections``,
        ``invalid_reflections``, ``return``, ``constitution_version``, ``curated`` and the last
        trial's inner metrics as ``last/<name>``.

    Arguments
        env: the inner env, a ``"module:Class"`` entry point, a registered env id or a factory;
            ``None`` uses the class attribute ``inner_env`` (subclasses registered by entry point).
        env_kwargs, **inner_kwargs: the inner env's constructor arguments (not with an env instance).
        memory_size: reflections shown in the memory (Reflexion: 3).
        reflect_on_final_failure: also ask for a reflection after the last trial fails (it is stored
            and feeds curation); default: only when self-curating.
        store: a ``ReflectionStore`` or a path to one: every reflection, finished task and
            constitution is logged there under ``scope`` and the task's key (``task_key``; default:
            the reset info's ``task_id``/``problem_id``/``game_file``/``task`` else ``seed=<seed>``).
            Constitution modes without one keep a private in-memory store.
        constitution_in: ``"observation"`` (the first observation of each task) or ``"instructions"``
            (the system prompt: the choice for a runner that windows the chat history).
        reflection_prompt, curation_prompt: templates; see ``rlvr.envs.reflection.text`` for fields.

    Each retry's info carries ``new_context=True``: rlvr's runner then starts the seat's chat afresh,
    as Reflexion does, so a trial's prompt holds the rules and the memory but not earlier trials.

    ``reset(seed=s)`` resets the inner env with ``s`` on every trial; ``reset()`` draws the task's seed
    from ``np_random``. The episode is a function of the seed, the actions and the store's newest
    constitution at reset.

    Version history
        v0: first version.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi", "human"], "render_fps": 1}
    inner_env: ClassVar[InnerEnv | None] = None
    """The inner env of a subclass, so that a registry can make the wrapper from kwargs alone."""
    default_mode: ClassVar[Mode] = "reflexion"

    def __init__(
        self,
        env: InnerEnv | None = None,
        *,
        env_kwargs: Mapping[str, Any] | None = None,
        mode: Mode | None = None,
        max_trials: int = 3,
        memory_size: int = 3,
        success_key: str | SuccessTest = "success",
        success_threshold: float = 1.0,
        reward: Literal["per_trial", "final"] = "per_trial",
        reflection_prompt: str = REFLECTION_PROMPT,
        reflection_max_chars: int = 2000,
        reflect_on_final_failure: bool | None = None,
        max_trial_steps: int | None = None,
        store: ReflectionStore | str | None = None,
        scope: str = DEFAULT_SCOPE,
        task_key: TaskKey | None = None,
        constitution: Sequence[str] | None = None,
        constitution_in: Literal["observation", "instructions"] = "observation",
        max_principles: int = DEFAULT_MAX_PRINCIPLES,
        curate_every: int | None = None,
        curation_window: int = 10,
        curation_prompt: str = CURATION_PROMPT,
        render_mode: str | None = None,
        max_action_length: int | None = None,
        **inner_kwargs: Any,
    ) -> None:
        mode = mode or self.default_mode
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}")
        if max_trials < 1:
            raise ValueError("max_trials must be at least 1")
        if memory_size < 0 or reflection_max_chars < 1 or curation_window < 1:
            raise ValueError("memory_size must be >= 0, reflection_max_chars and curation_window >= 1")
        if reward not in ("per_trial", "final"):
            raise ValueError(f"reward must be 'per_trial' or 'final', got {reward!r}")
        if constitution_in not in ("observation", "instructions"):
            raise ValueError("constitution_in must be 'observation' or 'instructions'")
        if curate_every is not None and (curate_every < 1 or mode == "reflexion"):
            raise ValueError("curate_every must be >= 1, and needs mode 'constitution' or 'both'")
        if max_trial_steps is not None and max_trial_steps < 1:
            raise ValueError("max_trial_steps must be >= 1 or None")
        _check_template(reflection_prompt, trial=1, max_trials=1, trials_left=0, outcome="")
        _check_template(curation_prompt, constitution="", reflections="", max_principles=1)
        source = env if env is not None else self.inner_env
        if source is None:
            raise TypeError(f"{type(self).__name__} needs an inner env")
        self.env: gymnasium.Env = build_inner_env(source, {**dict(env_kwargs or {}), **inner_kwargs})
        self.mode: Mode = mode
        self.max_trials = max_trials
        self.memory_size = memory_size if mode != "constitution" else 0
        self.success_key = success_key
        self.success_threshold = success_threshold
        self.reward_mode = reward
        self.reflection_prompt = reflection_prompt
        self.reflection_max_chars = reflection_max_chars
        self.self_curating = curate_every is not None
        self.reflect_on_final_failure = (
            self.self_curating if reflect_on_final_failure is None else reflect_on_final_failure
        )
        self.max_trial_steps = max_trial_steps
        self.scope = scope
        self.task_key_fn = task_key
        self.initial_constitution = tuple(constitution or ())
        self.constitution_in = constitution_in
        self.max_principles = max_principles
        self.curate_every = curate_every
        self.curation_window = curation_window
        self.curation_prompt = curation_prompt
        self.render_mode = render_mode
        self._owns_store = not isinstance(store, ReflectionStore)
        if isinstance(store, ReflectionStore):
            self.store: ReflectionStore | None = store
        elif store is not None:
            self.store = ReflectionStore(store)
        elif mode != "reflexion":
            self.store = ReflectionStore(":memory:")
        else:
            self.store = None
        inner_space = self.env.action_space
        if max_action_length is None:
            max_action_length = int(getattr(inner_space, "max_length", DEFAULT_MAX_LENGTH))
        self.observation_space = UnicodeText(max_length=DEFAULT_MAX_LENGTH)
        self.action_space = UnicodeText(max_length=max_action_length)
        self._phase = DONE
        self._last_observation = ""
        self._reset_state()

    # -- episode state -----------------------------------------------------------------------------

    def _reset_state(self) -> None:
        self._turn = 0
        self._trial = 0
        self._trial_steps = 0
        self._trial_return = 0.0
        self._return = 0.0
        self._results: list[TrialResult] = []
        self._reflections: list[str] = []
        self._invalid_reflections = 0
        self._pending_reflection_id: int | None = None
        self._principles: tuple[str, ...] = ()
        self._constitution_version = 0
        self._curated = False
        self._role = ROLE
        self._task_key = ""
        self._inner_seed = 0
        self._options: dict[str, Any] | None = None

    @property
    def phase(self) -> str:
        """``"act"``, ``"reflect"``, ``"curate"`` or ``"done"``."""
        return self._phase

    @property
    def reflections(self) -> list[str]:
        """This task's reflections so far, in trial order."""
        return list(self._reflections)

    @property
    def principles(self) -> tuple[str, ...]:
        """The constitution this task was started with."""
        return self._principles

    @property
    def trial_results(self) -> list[TrialResult]:
        return list(self._results)

    def _shows_memory(self) -> bool:
        return self.mode != "constitution" and self.memory_size > 0

    def _uses_constitution(self) -> bool:
        return self.mode != "reflexion"

    # -- gymnasium API -----------------------------------------------------------------------------

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        super().reset(seed=seed)
        self._reset_state()
        self._inner_seed = seed if seed is not None else draw_seed(self.np_random)
        self._options = None if options is None else dict(options)
        if self._uses_constitution():
            self._load_constitution()
        observation, info = self._start_trial()
        self._task_key = self._make_task_key(info)
        parts = []
        if self._principles and self.constitution_in == "observation":
            parts.append(constitution_block(self._principles))
        parts.append(str(observation))
        self._last_observation = "\n\n".join(parts)
        out = self._act_info(info)
        out["instructions"] = self._instructions(info.get("instructions"))
        return self._last_observation, out

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        if self._phase == DONE:
            raise GameOverError("The episode has ended; call reset() before step().")
        self._turn += 1
        if self._phase == ACT:
            return self._step_trial(action)
        if self._phase == REFLECT:
            return self._step_reflection(action)
        return self._step_curation(action)

    def render(self) -> str | None:
        if self.render_mode == "human":
            print(self._last_observation)
            return None
        return self._last_observation

    def close(self) -> None:
        self.env.close()
        if self.store is not None and self._owns_store:
            self.store.close()

    # -- trials ------------------------------------------------------------------------------------

    def _start_trial(self) -> tuple[str, dict[str, Any]]:
        self._trial += 1
        self._trial_steps = 0
        self._trial_return = 0.0
        self._phase = ACT
        options = None if self._options is None else dict(self._options)
        observation, info = self.env.reset(seed=self._inner_seed, options=options)
        self._role = info.get("role") or info.get("player") or ROLE
        return str(observation), info

    def _retry_observation(self, observation: str) -> str:
        parts = []
        if self._shows_memory() and self._reflections:
            window = self._reflections[-self.memory_size :]
            parts.append(format_memory(window, first_trial=len(self._reflections) - len(window) + 1))
        parts.append(f"Trial {self._trial} of {self.max_trials}. The task starts again from the beginning.")
        parts.append(observation)
        return "\n\n".join(parts)

    def _step_trial(self, action: Any) -> tuple[str, float, bool, bool, dict[str, Any]]:
        observation, reward, terminated, truncated, info = self.env.step(action)
        reward = float(reward)
        self._trial_steps += 1
        self._trial_return += reward
        capped = self.max_trial_steps is not None and self._trial_steps >= self.max_trial_steps
        if not (terminated or truncated or capped):
            paid = reward if self.reward_mode == "per_trial" else 0.0
            self._return += paid
            self._last_observation = str(observation)
            return self._last_observation, paid, False, False, self._act_info(info)

        metrics = dict(info.get("metrics") or {})
        success = bool(terminated) and self._is_success(info, metrics)
        cut_short = not terminated
        self._results.append(
            TrialResult(self._trial, success, self._trial_return, self._trial_steps, cut_short, metrics)
        )
        if self._pending_reflection_id is not None and self.store is not None:
            self.store.set_reflection_success(self._pending_reflection_id, success)
        self._pending_reflection_id = None
        last_trial = success or self._trial >= self.max_trials
        # "final" pays the whole last trial on the step that ends it, and nothing before.
        final_pay = self._trial_return if last_trial else 0.0
        paid = reward if self.reward_mode == "per_trial" else final_pay
        self._return += paid
        observation = str(observation)
        if capped and not (terminated or truncated):
            observation = f"{observation}\n\nThis trial reached its limit of {self.max_trial_steps} steps."

        if not success and (
            (not last_trial and self._shows_memory()) or (last_trial and self.reflect_on_final_failure)
        ):
            self._phase = REFLECT
            prompt = self.reflection_prompt.format(
                trial=self._trial,
                max_trials=self.max_trials,
                trials_left=self.max_trials - self._trial,
                outcome=self._outcome(self._results[-1]),
            )
            self._last_observation = f"{observation}\n\n{prompt}"
            return self._last_observation, paid, False, False, self._turn_info(info)
        if last_trial:
            closing = (
                f"Solved on trial {self._trial}."
                if success
                else f"The task was not solved; no trials are left ({self.max_trials} used)."
            )
            return self._finish_task(f"{observation}\n\n{closing}", paid, info)
        next_observation, next_info = self._start_trial()
        self._last_observation = f"{observation}\n\n{self._retry_observation(next_observation)}"
        return self._last_observation, paid, False, False, self._new_trial_info(next_info)

    def _step_reflection(self, action: Any) -> tuple[str, float, bool, bool, dict[str, Any]]:
        reflection = _text(action).strip()[: self.reflection_max_chars]
        reason = None if reflection else "The reflection is empty."
        if reason is not None:
            self._invalid_reflections += 1
        self._reflections.append(reflection)
        if self.store is not None:
            self._pending_reflection_id = self.store.add_reflection(
                self._task_key, self._trial, reflection, scope=self.scope
            )
        if self._trial >= self.max_trials:
            self._pending_reflection_id = None  # no trial follows it
            return self._finish_task("Reflection noted. No trials are left.", 0.0, {}, invalid_reason=reason)
        observation, info = self._start_trial()
        self._last_observation = self._retry_observation(observation)
        return self._last_observation, 0.0, False, False, self._new_trial_info(info, invalid_reason=reason)

    def _new_trial_info(
        self, inner_info: Mapping[str, Any], invalid_reason: str | None = None
    ) -> dict[str, Any]:
        """A retry's info: ``new_context`` tells the runner to start the seat's chat afresh, as Reflexion
        does; the memory in the observation is all that carries over."""
        info = self._act_info(inner_info, invalid_reason=invalid_reason)
        info["new_context"] = True
        return info

    # -- task end and curation ---------------------------------------------------------------------

    def _finish_task(
        self,
        observation: str,
        reward: float,
        inner_info: Mapping[str, Any],
        invalid_reason: str | None = None,
    ) -> tuple[str, float, bool, bool, dict[str, Any]]:
        solved = bool(self._results) and self._results[-1].success
        if self.store is not None:
            finished = self.store.add_episode(
                self._task_key, success=solved, trials=len(self._results), scope=self.scope
            )
            if self.curate_every is not None and finished % self.curate_every == 0:
                recent = [
                    record.reflection
                    for record in self.store.reflections(scope=self.scope, limit=self.curation_window)
                    if record.reflection
                ]
                if recent:
                    self._phase = CURATE
                    self._last_observation = f"{observation}\n\n{self._curation_text(recent)}"
                    info = self._turn_info(inner_info, invalid_reason=invalid_reason)
                    return self._last_observation, reward, False, False, info
        return self._end(observation, reward, inner_info, invalid_reason)

    def _curation_text(self, reflections: Sequence[str]) -> str:
        if self._principles:
            current = f"Your current constitution:\n{format_constitution(self._principles)}"
        else:
            current = "You have no constitution yet."
        listed = "\n".join(f"- {' '.join(reflection.split())}" for reflection in reflections)
        return self.curation_prompt.format(
            constitution=current, reflections=listed, max_principles=self.max_principles
        )

    def _step_curation(self, action: Any) -> tuple[str, float, bool, bool, dict[str, Any]]:
        principles = parse_principles(_text(action), self.max_principles)
        assert self.store is not None
        if not principles:
            reason = "No numbered or bulleted principles found; the constitution stays as it was."
            return self._end(reason, 0.0, {}, reason)
        saved = self.store.save_constitution(principles, source="self", scope=self.scope)
        self._curated = True
        self._constitution_version = saved.version
        observation = f"Constitution saved as version {saved.version}; it applies from the next task."
        return self._end(observation, 0.0, {}, None)

    def _end(
        self, observation: str, reward: float, inner_info: Mapping[str, Any], invalid_reason: str | None
    ) -> tuple[str, float, bool, bool, dict[str, Any]]:
        self._phase = DONE
        self._last_observation = observation
        info = self._turn_info(inner_info, invalid_reason=invalid_reason)
        info["metrics"] = self._metrics()
        return observation, reward, True, False, info

    # -- helpers -----------------------------------------------------------------------------------

    def _load_constitution(self) -> None:
        saved = self.store.latest_constitution(scope=self.scope) if self.store is not None else None
        if saved is not None:
            self._principles = saved.principles[: self.max_principles]
            self._constitution_version = saved.version
        else:
            self._principles = self.initial_constitution[: self.max_principles]

    def _instructions(self, inner: Any) -> str:
        parts = [str(inner)] if inner else []
        if self.max_trials > 1:
            note = (
                f"You may try this task up to {self.max_trials} times; solving it ends the episode. "
                "Each new trial starts the task again from the beginning."
            )
            if self._shows_memory():
                note += (
                    " After a failed trial you will be asked for a short reflection, and your recent "
                    "reflections are shown to you at the start of the next trial."
                )
            parts.append(note)
        if self.self_curating:
            parts.append(
                "From time to time, after a task, you will be asked to rewrite your constitution: a short "
                "numbered list of principles shown at the start of every task."
            )
        if self._principles and self.constitution_in == "instructions":
            parts.append(constitution_block(self._principles))
        return "\n\n".join(parts)

    def _is_success(self, info: Mapping[str, Any], metrics: Mapping[str, Any]) -> bool:
        if callable(self.success_key):
            return bool(self.success_key(info, self._trial_return))
        for value in (metrics.get(self.success_key), info.get("won"), metrics.get("success")):
            if value is not None:
                return float(value) >= self.success_threshold
        return False

    def _outcome(self, result: TrialResult) -> str:
        if result.cut_short:
            how = "it ran out of steps before the task was solved"
        else:
            how = "the task was not solved"
        return f"{how} (return {result.inner_return:g})."

    def _make_task_key(self, info: Mapping[str, Any]) -> str:
        if self.task_key_fn is not None:
            return str(self.task_key_fn(self._inner_seed, self._options, info))
        spec = getattr(self.env, "spec", None)
        name = spec.id if spec is not None else type(self.env.unwrapped).__name__
        for key in _TASK_ID_KEYS:
            if info.get(key) is not None:
                return f"{name}/{info[key]}"
        return f"{name}/seed={self._inner_seed}"

    def _base_info(self, invalid_reason: str | None) -> dict[str, Any]:
        return {
            "turn": self._turn,
            "player": None if self._phase == DONE else self._role,
            "role": self._role,
            "phase": self._phase,
            "trial": self._trial,
            "max_trials": self.max_trials,
            "task_key": self._task_key,
            "constitution_version": self._constitution_version,
            "invalid_action": invalid_reason is not None,
            "invalid_reason": invalid_reason,
            "metrics": {},
        }

    def _act_info(self, inner_info: Mapping[str, Any], invalid_reason: str | None = None) -> dict[str, Any]:
        """A trial step's info: the inner env's keys, with ours on top. A reflection's invalid reason
        wins over the inner env's (the inner env has not seen an action of this trial yet)."""
        info = {key: value for key, value in inner_info.items() if key not in ("instructions", "metrics")}
        base = self._base_info(invalid_reason)
        if invalid_reason is None:
            base["invalid_action"] = bool(inner_info.get("invalid_action", False))
            base["invalid_reason"] = inner_info.get("invalid_reason")
        info.update(base)
        return info

    def _turn_info(self, inner_info: Mapping[str, Any], invalid_reason: str | None = None) -> dict[str, Any]:
        """A step that leaves the trial: the inner env's invalid-action flag still describes the
        action just taken, but its move hints (``legal_actions``) no longer apply."""
        info = self._act_info(inner_info, invalid_reason)
        info.pop("legal_actions", None)
        return info

    def _metrics(self) -> dict[str, Any]:
        solved_at = next((result.trial for result in self._results if result.success), None)
        metrics: dict[str, Any] = {
            "success": float(solved_at is not None),
            "trials": float(len(self._results)),
            "reflections": float(len(self._reflections)),
            "invalid_reflections": float(self._invalid_reflections),
            "return": self._return,
            "constitution_version": float(self._constitution_version),
            "curated": float(self._curated),
        }
        for k in range(1, self.max_trials + 1):
            metrics[f"success@{k}"] = float(solved_at is not None and solved_at <= k)
        if self._results:
            for key, value in self._results[-1].metrics.items():
                metrics[f"last/{key}"] = value
        return metrics


class ConstitutionWrapper(ReflexionWrapper):
    """``ReflexionWrapper`` in ``mode="constitution"`` (OmniReflect): see its manual.

    A constitution from ``store`` (or ``constitution``) is shown at the start of every task; with
    ``curate_every=N`` the agent rewrites it every N tasks, otherwise it is only read (an advisor, see
    ``rlvr.runners.constitution.build_constitution``, writes it).
    """

    default_mode: ClassVar[Mode] = "constitution"


def make_reflexion_env(env: InnerEnv, **kwargs: Any) -> ReflexionWrapper:
    """``ReflexionWrapper(env, **kwargs)``: the wrapper's own keywords configure it, the rest go to the
    inner env's constructor. A gymnasium registry entry can point here with ``env`` in its kwargs::

        register_env(EnvEntry(id="rlvr/XReflexion-v0",
                              entry_point="rlvr.envs.reflection:make_reflexion_env",
                              kwargs={"env": "rlvr.envs.x.env:XEnv", "max_trials": 3}))
    """
    return ReflexionWrapper(env, **kwargs)

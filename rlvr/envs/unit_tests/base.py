"""What the single-seat unit-test envs share: a task list, a lazily started sandbox pool, seeded task
choice, and the common ``info`` keys. Each env adds its prompt, its step and its metrics."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import gymnasium

from rlvr.core.spaces import DEFAULT_MAX_LENGTH, UnicodeText
from rlvr.envs.unit_tests.execution import UTRL_LIMITS, LazyPool
from rlvr.envs.unit_tests.tasks import CodeTask, load_tasks
from rlvr.sandboxes.base import Sandbox
from rlvr.sandboxes.pool import SandboxPool

ROLE = "agent"


class CodeTaskEnv(gymnasium.Env[str, str]):
    """One-step envs over ``CodeTask``s with ground-truth tests (see the subclasses' manuals)."""

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi"], "render_fps": 1}

    def __init__(
        self,
        tasks: str | Sequence[CodeTask],
        *,
        sandbox: str | Sandbox,
        workers: int | None,
        timeout_s: float,
        render_mode: str | None,
        max_action_length: int,
    ) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}")
        loaded = load_tasks(tasks) if isinstance(tasks, str) else list(tasks)
        self.tasks: tuple[CodeTask, ...] = tuple(task for task in loaded if task.tests)
        if not self.tasks:
            raise ValueError("no task with ground-truth tests to pose")
        self._by_id = {task.task_id: task for task in self.tasks}
        self.limits = UTRL_LIMITS.with_overrides(timeout_s=timeout_s)
        self.render_mode = render_mode
        self.observation_space = UnicodeText(max_length=DEFAULT_MAX_LENGTH)
        self.action_space = UnicodeText(max_length=max_action_length)
        self._pool = LazyPool(sandbox, workers)
        self.task: CodeTask = self.tasks[0]
        self._over = False
        self._observation = ""

    @property
    def pool(self) -> SandboxPool:
        return self._pool.get()

    def _start(self, seed: int | None, options: dict[str, Any] | None) -> dict[str, Any]:
        """Seed, pick the task (``options["task_id"]`` or the seeded draw), start the episode; returns
        the options. The draw happens either way, so a chosen task does not shift later draws."""
        super().reset(seed=seed)
        options = options or {}
        index = int(self.np_random.integers(len(self.tasks)))
        if "task_id" in options:
            if options["task_id"] not in self._by_id:
                raise ValueError(f"unknown task_id {options['task_id']!r}")
            self.task = self._by_id[options["task_id"]]
        else:
            self.task = self.tasks[index]
        self._over = False
        return options

    def _check_running(self) -> None:
        if self._over:
            raise RuntimeError("the episode is over; call reset()")

    def _common_info(self, reason: str | None) -> dict[str, Any]:
        return {
            "turn": 1 if self._over else 0,
            "player": None if self._over else ROLE,
            "role": ROLE,
            "invalid_action": reason is not None,
            "invalid_reason": reason,
            "task_id": self.task.task_id,
        }

    def render(self) -> str | None:
        return self._observation if self.render_mode == "ansi" else None

    def close(self) -> None:
        self._pool.close()

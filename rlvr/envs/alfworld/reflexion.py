"""``rlvr/ALFWorldReflexion-v0``: the native household tasks tried several times with reflections."""

from __future__ import annotations

from typing import ClassVar

from rlvr.envs.reflection import ReflexionWrapper


class ALFWorldReflexionEnv(ReflexionWrapper):
    """``rlvr/ALFWorldReflexion-v0``: ``rlvr/ALFWorld-v0`` under Reflexion (and OmniReflect) trials.

    Task
        One household task (see ``rlvr/ALFWorld-v0``: same ``split``, ``task_types``, ``max_steps``,
        ``stop_on_repeat`` arguments) tried up to ``max_trials`` times (default 3). After a failed
        trial the agent writes a reflection (a diagnosis and a new plan); the next trial restarts the
        same game with the last ``memory_size`` (3) reflections shown first. A solved task is not
        retried. With ``mode="constitution"`` or ``"both"`` a list of principles from a shared
        ``store`` (self-curated every ``curate_every`` tasks, or built by an advisor policy with
        ``rlvr.runners.constitution.build_constitution``) opens every task.

    Action
        In a trial, an ALFWorld command (``go to cabinet 1``, ``take mug 1 from cabinet 1``, ...); in a
        reflection or curation turn, free text.

    Reward
        1 on the step that solves the task (ALFWorld's reward), 0 otherwise; reflection turns pay 0.

    Episode end
        When a trial succeeds or the last one ends (after its reflection turn, if any).

    Info
        The ALFWorld keys during trials (``admissible_commands``, ``won``, ``goal``, ``task_id``) plus
        ``phase``, ``trial``, ``max_trials``, ``task_key``; at the end ``metrics`` with ``success``,
        ``success@1`` .. ``success@k``, ``trials``, ``reflections``, ``return`` and ``last/<metric>``
        of the last trial.

    Arguments
        Those of ``ReflexionWrapper`` (``max_trials``, ``memory_size``, ``mode``, ``store``,
        ``curate_every``, ...) and of ``ALFWorldEnv``. Reflexion's ALFWorld runs used 49 steps and
        stopped on two identical actions in a row: ``max_steps=49, stop_on_repeat=True``.

    Each retry's info carries ``new_context=True``, so rlvr's runner starts the chat afresh for it.

    Version history
        v0: first version.
    """

    inner_env: ClassVar[str] = "rlvr.envs.alfworld.env:ALFWorldEnv"

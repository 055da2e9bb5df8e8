"""``rlvr/ALFWorld-v0``, ALFWorld's household tasks played natively; see ``ALFWorldEnv``'s docstring."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import gymnasium

from rlvr.core.game import GameOverError
from rlvr.core.spaces import DEFAULT_MAX_LENGTH, UnicodeText
from rlvr.envs.alfworld.engine import Engine, Outcome
from rlvr.envs.alfworld.generate import MAX_GAME, generate_game
from rlvr.envs.alfworld.grammar import normalize
from rlvr.envs.alfworld.state import Household
from rlvr.envs.alfworld.tasks import TASK_TYPES, check_split, check_task_type
from rlvr.envs.alfworld.texts import INSTRUCTIONS_HEAD, NOTHING_HAPPENS

ROLE = "agent"


class ALFWorldEnv(gymnasium.Env[str, str]):
    """``rlvr/ALFWorld-v0``: ALFWorld's text household tasks (Shridhar et al., 2021), generated from seeds.

    Task
        Each episode is one room (kitchen, bathroom, bedroom or living room) full of numbered
        receptacles (``cabinet 3``, ``fridge 1``, ``sinkbasin 1``, ...) and objects in them
        (``apple 1``, ``mug 2``, lamps), and one goal of ALFWorld's six task types, worded as ALFWorld
        words it: ``pick_and_place_simple`` ("put a mug in desk."), ``look_at_obj_in_light`` ("look at
        cd under the desklamp."), ``pick_clean_then_place_in_recep`` ("put a clean mug in
        coffeemachine."), ``pick_heat_then_place_in_recep``, ``pick_cool_then_place_in_recep`` and
        ``pick_two_obj_and_place`` ("find two pen and put them in drawer."). The first observation is
        ALFWorld's intro: the welcome line, the receptacles in view and "Your task is to: ...".
        ``info["instructions"]`` holds the command list and rules as a system prompt.

        ALFWorld's game files come from GitHub releases that many machines cannot reach, so the games
        are generated instead (``rlvr.envs.alfworld.generate``): same vocabulary, affordances and
        interface, but they are not ALFWorld's 3,553 training games.

    Action
        One command of ALFWorld's grammar: ``look``, ``inventory``, ``help``, ``go to R``, ``open R``,
        ``close R``, ``take O from R``, ``move O to R`` (also ALFWorld's older ``put O in/on R``,
        ``put O in R``, ``put O on R``), ``use LAMP``, ``heat O with MICROWAVE``, ``clean O with
        SINKBASIN``, ``cool O with FRIDGE``, ``slice O with KNIFE`` and ``examine X``. Case, extra
        spaces, quotes and a trailing full stop are ignored. As in ALFWorld the agent must ``go to`` a
        receptacle before touching it or its contents, holds one object at a time, opens cabinets,
        drawers, fridges, microwaves and safes before reaching in, and puts an object only where its
        kind fits. Anything unparsable or impossible is answered "Nothing happens." (ALFWorld's text)
        and counts as an invalid action; it never raises. ``info["admissible_commands"]`` lists every
        command that would succeed now, sorted as ALFWorld sorts them.

    Reward
        1.0 on the step the goal first holds, else 0.0. Goals: an object of the kind (cleaned, heated
        or cooled if asked) is in a receptacle of the kind; for pick-two, two of them are in the same
        receptacle; for look-at, the agent holds an object of the kind while standing where a lamp of
        the kind is switched on.

    Episode end
        Terminated when the goal holds. With ``stop_on_repeat=True`` (Reflexion's rule), also
        terminated, unsolved, when a command repeats the previous one word for word (after
        normalising case and spacing). Truncated after ``max_steps`` commands (default 50, valid or
        not).

    Info
        ``turn``, ``player`` (``"agent"``, ``None`` once over), ``role``, ``invalid_action``,
        ``invalid_reason`` (why nothing happened; never shown to the agent), ``admissible_commands``,
        ``won``, ``task_type``, ``goal`` (the task sentence), ``split``, ``game`` (the game number: with
        ``split`` and ``task_type`` it fixes the game), and at the end ``metrics``: ``success``,
        ``return``, ``steps``, ``invalid_actions``, ``stopped_on_repeat``, ``truncated`` and a one-hot
        ``task_<task type>``.

    Arguments
        split: ``"train"``, ``"valid_seen"`` or ``"valid_unseen"``. A goal is a combination (room,
            object kind, target receptacle or lamp kind); ``valid_unseen`` holds exactly those whose
            CRC-32 of ``"room/object/target"`` is divisible by 5 (about a fifth, for every task type),
            and train and valid_seen never pose them, under any task type. train and valid_seen share
            the combinations but are generated from different random streams.
        task_types: a task type or a list of them to draw from (default: all six, uniformly).
        max_steps: commands per episode before truncation.
        stop_on_repeat: end the episode when a command repeats the previous one.
        max_action_length: longer actions are invalid ("Nothing happens.").

    ``reset(options={"task_type": ..., "game": int})`` picks the task type and game number; otherwise
    both are drawn from ``np_random``, so a seed fixes the episode, byte for byte. ``env.engine`` (its
    state: ``env.engine.house``) is there for the expert planner ``rlvr.envs.alfworld.expert``
    (``expert_action(env)``), which solves every game.

    Version history
        v0: first version.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi", "human"], "render_fps": 1}

    def __init__(
        self,
        split: str = "train",
        *,
        task_types: str | Sequence[str] | None = None,
        max_steps: int = 50,
        stop_on_repeat: bool = False,
        render_mode: str | None = None,
        max_action_length: int = 1000,
    ) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}")
        if max_steps < 1:
            raise ValueError("max_steps must be at least 1")
        self.split = check_split(split)
        if task_types is None:
            chosen: tuple[str, ...] = TASK_TYPES
        else:
            chosen = (task_types,) if isinstance(task_types, str) else tuple(task_types)
        if not chosen:
            raise ValueError("give at least one task type")
        self.task_types = tuple(check_task_type(task_type) for task_type in chosen)
        self.max_steps = max_steps
        self.stop_on_repeat = stop_on_repeat
        self.render_mode = render_mode
        self.max_action_length = max_action_length
        self.observation_space = UnicodeText(max_length=DEFAULT_MAX_LENGTH)
        self.action_space = UnicodeText(max_length=max_action_length)
        self._engine: Engine | None = None
        self.game = 0
        self._reset_episode()

    @property
    def engine(self) -> Engine:
        """The running game (after ``reset``): its state is ``engine.house``."""
        if self._engine is None:
            raise GameOverError("call reset() first")
        return self._engine

    @property
    def house(self) -> Household:
        return self.engine.house

    def _reset_episode(self) -> None:
        self._turn = 0
        self._over = False
        self._invalid = 0
        self._return = 0.0
        self._stopped_on_repeat = False
        self._truncated = False
        self._previous: str | None = None
        self._last_observation = ""

    # -- text ---------------------------------------------------------------------------------------------

    def _instructions(self) -> str:
        repeat = (
            " Repeating your previous command word for word ends the episode unsolved."
            if self.stop_on_repeat
            else ""
        )
        return (
            f"{INSTRUCTIONS_HEAD}You must go to a receptacle "
            "before you use it or anything in it, you carry one object at a time, and closed receptacles "
            'must be opened first. A command that is impossible now is answered "Nothing happens." '
            f"The task is done as soon as its goal holds; you have {self.max_steps} commands.{repeat}"
        )

    # -- gymnasium API ------------------------------------------------------------------------------------

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        super().reset(seed=seed)
        options = options or {}
        task_type = self.task_types[int(self.np_random.integers(len(self.task_types)))]
        game = int(self.np_random.integers(MAX_GAME))
        if "task_type" in options:
            task_type = check_task_type(options["task_type"])
        if "game" in options:
            game = int(options["game"])
        self.game = game
        self._engine = Engine(generate_game(self.split, task_type, game))
        self._reset_episode()
        self._last_observation = self._engine.intro()
        info = self._info(None)
        info["instructions"] = self._instructions()
        return self._last_observation, info

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        engine = self._engine
        if engine is None:
            raise GameOverError("call reset() before step()")
        if self._over:
            raise GameOverError("The episode has ended; call reset() before step().")
        self._turn += 1
        key: str | None = None
        if isinstance(action, bytes):
            action = action.decode("utf-8", errors="replace")
        if not isinstance(action, str):
            outcome = Outcome(NOTHING_HAPPENS, False, f"the action must be text, got {type(action).__name__}")
        elif len(action) > self.max_action_length:
            outcome = Outcome(NOTHING_HAPPENS, False, f"the action is longer than {self.max_action_length}")
        else:
            key = normalize(action)
            outcome = engine.execute(action)
        if not outcome.valid:
            self._invalid += 1
        won = engine.won
        repeated = self.stop_on_repeat and key is not None and key == self._previous and not won
        self._previous = key
        reward = 1.0 if won else 0.0
        self._return += reward
        terminated = won or repeated
        truncated = not terminated and self._turn >= self.max_steps
        self._over = terminated or truncated
        self._stopped_on_repeat = repeated
        self._truncated = truncated
        self._last_observation = outcome.text
        return outcome.text, reward, terminated, truncated, self._info(outcome.reason)

    def _info(self, invalid_reason: str | None) -> dict[str, Any]:
        engine = self.engine
        goal = engine.house.goal
        return {
            "turn": self._turn,
            "player": None if self._over else ROLE,
            "role": ROLE,
            "invalid_action": invalid_reason is not None,
            "invalid_reason": invalid_reason,
            "admissible_commands": engine.admissible_commands(),
            "won": engine.won,
            "task_type": goal.task_type,
            "goal": goal.text,
            "split": self.split,
            "game": self.game,
            "task_id": f"{self.split}/{goal.task_type}/{self.game}",
            "metrics": self._metrics() if self._over else {},
        }

    def _metrics(self) -> dict[str, float]:
        won = self.engine.won
        metrics = {
            "success": float(won),
            "return": self._return,
            "steps": float(self._turn),
            "invalid_actions": float(self._invalid),
            "stopped_on_repeat": float(self._stopped_on_repeat),
            "truncated": float(self._truncated),
        }
        task_type = self.engine.house.goal.task_type
        for name in TASK_TYPES:
            metrics[f"task_{name}"] = float(name == task_type)
        return metrics

    def render(self) -> str | None:
        if self.render_mode == "human":
            print(self._last_observation)
            return None
        return self._last_observation

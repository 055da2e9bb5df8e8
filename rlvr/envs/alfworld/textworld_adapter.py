"""The real TextWorld engine, and ALFWorld's games on it, behind our single-agent env contract.

``rlvr/ALFWorld-v0`` re-implements ALFWorld natively; this module is the reference it can be checked
against: ``ALFWorldTWEnv`` plays the ``alfworld`` package's own game files on TextWorld's PDDL engine,
and ``TextWorldGameEnv`` plays any TextWorld game (``tw-make``'s ``.z8``, or its ``.json``). Both turn
TextWorld's ``(obs, score, done, infos)`` into gymnasium's 5-tuple in ``TextWorldBackedEnv``.

``alfworld`` and ``textworld`` are optional (``pip install alfworld`` brings both, ~400 MB with spaCy
and a Fast Downward build) and are imported only inside functions, so importing this module never
fails; constructing an env without them raises an ``ImportError`` that says what to install.

``write_sample_alfworld_data`` writes a few ALFWorld-format games (hand-made kitchens, real engine and
real ALFWorld domain/grammar files) so the adapter can be exercised where ``alfworld-download`` (GitHub
releases) cannot reach.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import gymnasium

from rlvr.core.game import GameOverError
from rlvr.core.spaces import DEFAULT_MAX_LENGTH, UnicodeText
from rlvr.envs.alfworld.tasks import TASK_TYPES  # ALFWorld numbers them 1 to 6 in this order
from rlvr.envs.alfworld.texts import INSTRUCTIONS_HEAD

ROLE = "agent"
TEXTWORLD_HINT = "pip install textworld  (or: pip install 'rlvr-gym[textworld]')"
ALFWORLD_HINT = (
    "pip install alfworld, then download the games with `alfworld-download` "
    "and export ALFWORLD_DATA=<the folder it filled> (default ~/.cache/alfworld)"
)


SPLITS: dict[str, str] = {
    "train": "train",
    "valid_seen": "eval_in_distribution",
    "valid_unseen": "eval_out_of_distribution",
}
"""Our split names (the data folders') -> ``AlfredTWEnv``'s ``train_eval`` names."""

JSON_DIR = "json_2.1.1"
NOTHING = "Nothing happens."
_PUT = re.compile(r"^put (?P<obj>.+?) (?:in|on|in/on|into) (?P<recep>.+)$")


def task_type_from_path(path: str | os.PathLike[str]) -> str | None:
    """ALFRED names each task folder ``<task type>-<object>-<mrecep>-<receptacle>-<scene>``."""
    for part in reversed(Path(path).parts):
        prefix = part.split("-", 1)[0]
        if prefix in TASK_TYPES:
            return prefix
    return None


def normalize_command(text: str) -> str:
    """One line, lower case, single spaces, no trailing full stop or quotes.

    TextWorld's engines match commands exactly (PDDL) or read a newline as "next command" (Z-machine,
    which would then run the rest of the reply on the following step), so a reply is flattened first.
    """
    text = " ".join(text.split()).lower().strip("\"'`")
    return text.rstrip(".!").strip()


def clean_feedback(text: str) -> str:
    """Drop the Z-machine's trailing ``>`` prompt and status line (room, score/moves) from feedback."""
    cut = text.rfind("\n>")
    if cut >= 0 and "\n" not in text[cut + 2 :].strip():
        text = text[:cut]
    return text.strip()


def _require(module: str, hint: str) -> None:
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise ImportError(f"`{module}` is not installed: {hint}")


class TextWorldBackedEnv(gymnasium.Env[str, str]):
    """The contract shared by every env that plays a TextWorld game file; see the subclasses' manuals.

    Subclasses set ``game_files`` (sorted, so a seed means the same game everywhere), and may override
    ``_wrappers`` (TextWorld wrappers stacked under ``Filter``), ``_instructions``, ``_extra_info`` and
    ``_extra_metrics``.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi", "human"], "render_fps": 1}

    def __init__(
        self,
        game_files: Sequence[str | os.PathLike[str]],
        *,
        max_steps: int = 50,
        stop_on_repeat: bool = False,
        show_admissible_commands: bool = False,
        walkthrough: bool = False,
        render_mode: str | None = None,
        max_action_length: int = 1000,
    ) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}")
        if max_steps < 1:
            raise ValueError("max_steps must be at least 1")
        self.game_files: tuple[str, ...] = tuple(sorted(str(Path(path)) for path in game_files))
        if not self.game_files:
            raise ValueError("no game files to play")
        self.max_steps = max_steps
        self.stop_on_repeat = stop_on_repeat
        self.show_admissible_commands = show_admissible_commands
        self.walkthrough = walkthrough
        self.render_mode = render_mode
        self.max_action_length = max_action_length
        self.observation_space = UnicodeText(max_length=DEFAULT_MAX_LENGTH)
        self.action_space = UnicodeText(max_length=max_action_length)
        self._tw_env: Any = None
        self._loaded: str | None = None
        self.game_file: str | None = None
        self.game = 0
        self._tw_infos: dict[str, Any] = {}
        self._reset_episode()

    # -- hooks for subclasses ------------------------------------------------------------------------

    def _wrappers(self) -> list[Any]:
        return []

    def _instructions(self) -> str:
        repeat = " Repeating your previous command ends the episode unsolved." if self.stop_on_repeat else ""
        return (
            "You are playing a text adventure game. Each turn, reply with exactly one command, such as "
            '"look", "inventory", "go north", "open door" or "take key from table"; it is sent to the '
            "game on one line. The game tells you what happened and whether you scored. "
            f"The episode ends when you win or lose, or after {self.max_steps} commands.{repeat}"
        )

    def _extra_info(self) -> dict[str, Any]:
        return {}

    def _extra_metrics(self) -> dict[str, float]:
        return {}

    def _rewrite(self, command: str, admissible: Sequence[str]) -> str:
        """A subclass may map a known synonym onto the admissible spelling (e.g. ALFWorld's ``put``)."""
        return command

    # -- engine ---------------------------------------------------------------------------------------

    def _engine(self) -> Any:
        """TextWorld's own stack, as ``textworld.gym`` builds it, minus its step limit (ours) and its
        game cycling (games are chosen here, from ``np_random``)."""
        if self._tw_env is None:
            _require("textworld", TEXTWORLD_HINT)
            import textworld
            from textworld.envs.wrappers import Filter, GenericEnvironment

            extras = ["walkthrough"] if self.walkthrough else []
            request = textworld.EnvInfos(
                won=True, lost=True, score=True, max_score=True, admissible_commands=True, extras=extras
            )
            env: Any = GenericEnvironment(request)
            for wrapper in [*self._wrappers(), Filter]:
                env = wrapper(env)
            self._tw_env = env
        return self._tw_env

    def _reset_episode(self) -> None:
        self._turn = 0
        self._over = False
        self._invalid = 0
        self._progress = 0.0
        self._return = 0.0
        self._truncated = False
        self._stopped_on_repeat = False
        self._previous: str | None = None
        self._last_observation = ""

    def _observe(self, feedback: str) -> str:
        text = clean_feedback(feedback)
        if self.show_admissible_commands and not self._over:
            listed = "\n".join(f"  {command}" for command in self._tw_infos.get("admissible_commands") or [])
            text = f"{text}\n\nAdmissible commands:\n{listed}"
        self._last_observation = text
        return text

    def _progress_now(self) -> float:
        """1 once won; otherwise the score as a fraction of the maximum (raw when there is none: ALFWorld's
        PDDL games score 0 until won). Rewards are its increments, so a won episode returns exactly 1."""
        infos = self._tw_infos
        if infos.get("won"):
            return 1.0
        score = float(infos.get("score") or 0.0)
        max_score = infos.get("max_score")
        return score / float(max_score) if max_score else score

    # -- gymnasium API --------------------------------------------------------------------------------

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        super().reset(seed=seed)
        options = options or {}
        index = int(self.np_random.integers(len(self.game_files)))
        if "game" in options:
            index = int(options["game"])
            if not 0 <= index < len(self.game_files):
                raise ValueError(f"game must be in [0, {len(self.game_files)}), got {index}")
        if "game_file" in options:
            wanted = str(Path(options["game_file"]))
            if wanted not in self.game_files:
                raise ValueError(f"game_file {wanted!r} is not one of this env's games")
            index = self.game_files.index(wanted)
        self.game = index
        self.game_file = self.game_files[index]
        engine = self._engine()
        if self._loaded != self.game_file:
            with warnings.catch_warnings():
                # Jericho does not know tw-make's games; TextWorld's own wrapper tracks their score.
                warnings.filterwarnings("ignore", message=".*is not fully supported")
                engine.load(self.game_file)
            self._loaded = self.game_file
        feedback, infos = engine.reset()
        self._tw_infos = dict(infos)
        self._reset_episode()
        self._progress = self._progress_now()
        observation = self._observe(feedback)
        info = self._info(None)
        info["instructions"] = self._instructions()
        if self.walkthrough:
            info["walkthrough"] = list(self._tw_infos.get("extra.walkthrough") or [])
        return observation, info

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        if self._tw_env is None or self.game_file is None:
            raise GameOverError("call reset() before step()")
        if self._over:
            raise GameOverError("The episode has ended; call reset() before step().")
        self._turn += 1
        admissible = list(self._tw_infos.get("admissible_commands") or [])
        command, reason = self._coerce(action)
        done = False
        if command is None:
            feedback = NOTHING
        else:
            command = self._rewrite(command, admissible)
            if command not in admissible:
                reason = "the command is not one of the admissible commands"
            try:
                feedback, _, done, infos = self._tw_env.step(command)
                self._tw_infos = dict(infos)
            except Exception as error:  # an engine bug must not end a rollout: nothing happened
                feedback, done = NOTHING, False
                reason = f"the engine failed on this command ({type(error).__name__}: {error})"
        if reason is not None:
            self._invalid += 1
        progress = self._progress_now()
        reward = progress - self._progress
        self._progress = progress
        self._return += reward
        won = bool(self._tw_infos.get("won"))
        repeated = self.stop_on_repeat and command is not None and command == self._previous and not won
        self._previous = command
        terminated = bool(done) or won or bool(self._tw_infos.get("lost")) or repeated
        truncated = not terminated and self._turn >= self.max_steps
        self._over = terminated or truncated
        self._truncated = truncated
        self._stopped_on_repeat = repeated
        return self._observe(feedback), reward, terminated, truncated, self._info(reason)

    def _coerce(self, action: Any) -> tuple[str | None, str | None]:
        """The command to send, or ``None`` and why nothing is sent (the step still counts)."""
        if isinstance(action, bytes):
            action = action.decode("utf-8", errors="replace")
        if not isinstance(action, str):
            return None, f"the action must be text, got {type(action).__name__}"
        if len(action) > self.max_action_length:
            return None, f"the action is longer than {self.max_action_length} characters"
        try:
            action.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: the engines write commands out as UTF-8
            action = action.encode("utf-8", errors="replace").decode("utf-8")
        command = normalize_command(action)
        if not command:
            return None, "the action is empty"
        return command, None

    def _info(self, invalid_reason: str | None) -> dict[str, Any]:
        infos = self._tw_infos
        info: dict[str, Any] = {
            "turn": self._turn,
            "player": None if self._over else ROLE,
            "role": ROLE,
            "invalid_action": invalid_reason is not None,
            "invalid_reason": invalid_reason,
            "admissible_commands": list(infos.get("admissible_commands") or []),
            "won": bool(infos.get("won")),
            "score": infos.get("score"),
            "max_score": infos.get("max_score"),
            "game": self.game,
            "game_file": self.game_file,
            **self._extra_info(),
            "metrics": self._metrics() if self._over else {},
        }
        return info

    def _metrics(self) -> dict[str, float]:
        return {
            "success": float(bool(self._tw_infos.get("won"))),
            "return": self._return,
            "steps": float(self._turn),
            "invalid_actions": float(self._invalid),
            "stopped_on_repeat": float(self._stopped_on_repeat),
            "truncated": float(self._truncated),
            **self._extra_metrics(),
        }

    def render(self) -> str | None:
        if self.render_mode == "human":
            print(self._last_observation)
            return None
        return self._last_observation

    def close(self) -> None:
        if self._tw_env is not None:
            with contextlib.suppress(Exception):
                self._tw_env.close()
            self._tw_env = None
            self._loaded = None


class TextWorldGameEnv(TextWorldBackedEnv):
    """Any TextWorld game (``tw-make``'s ``.z8``, or its ``.json``) on the real TextWorld engine.

    Task
        The game's own: its first observation is TextWorld's intro (banner, objective, first room).
        A ``.z8`` runs on Jericho's Z-machine, with TextWorld's wrapper for score and admissible
        commands; the ``.json`` beside it is the same game on TextWorld's logic alone, without prose
        (observations say so), for checks and speed. Glulx ``.ulx`` games need TextWorld < 1.7.

    Action
        One command per step, flattened to one lower-case line (a newline would make the Z-machine run
        the rest on the next step). Every command goes to the engine, which answers as it does;
        a command outside ``info["admissible_commands"]`` is flagged ``invalid_action`` (it usually
        does nothing). Empty, non-text or over-long actions are invalid and not sent. Nothing raises.

    Reward
        The increase of the game's progress: score / max score, and 1 once won; so a won episode
        returns exactly 1 (dense when the game scores intermediate steps, as ``--rewards dense`` does).

    Episode end
        Terminated when the game is won or lost (or ``stop_on_repeat`` catches a repeated command);
        truncated after ``max_steps`` commands (default 50).

    Info
        ``turn``, ``player`` (``"agent"``, ``None`` once over), ``role``, ``invalid_action``,
        ``invalid_reason``, ``admissible_commands``, ``won``, ``score``, ``max_score``, ``game`` (index
        in the sorted ``game_files``), ``game_file``; ``instructions`` (and ``walkthrough`` when asked)
        at reset; at the end ``metrics``: ``success``, ``return``, ``steps``, ``invalid_actions``,
        ``stopped_on_repeat``, ``truncated``.

    Arguments
        game_files: one game file or several; ``reset(seed=)`` draws one from the sorted list,
            ``reset(options={"game": i})`` or ``{"game_file": path}`` picks it.
        max_steps, stop_on_repeat: see Episode end.
        show_admissible_commands: append the admissible commands to every observation.
        walkthrough: put the game's walkthrough in ``info["walkthrough"]`` at reset.

    Needs ``pip install textworld``.

    Version history
        v0: first version.
    """

    def __init__(self, game_files: str | os.PathLike[str] | Sequence[str | os.PathLike[str]], **kwargs: Any):
        files = [game_files] if isinstance(game_files, (str, os.PathLike)) else list(game_files)
        missing = [str(path) for path in files if not Path(path).is_file()]
        if missing:
            raise FileNotFoundError(f"no such game file: {', '.join(missing)}")
        _require("textworld", TEXTWORLD_HINT)
        super().__init__(files, **kwargs)


class ALFWorldTWEnv(TextWorldBackedEnv):
    """``rlvr/ALFWorld-TW-v0``: ALFWorld's own games (Shridhar et al., 2021) on TextWorld's PDDL engine.

    Task
        One of ALFWorld's game files from the split (3,553 train, 140 valid_seen, 134 valid_unseen
        once ``alfworld-download`` has fetched them): a room of numbered receptacles and objects and one
        goal of the six ALFRED task types. The first observation is ALFWorld's intro ("-= Welcome to
        TextWorld, ALFRED! =-", the room, "Your task is to: ..."). ``info["instructions"]`` holds the
        command list as a system prompt. The same wrappers as ``AlfredTWEnv.init_env`` (name
        demangling, game-file info) run on the same engine, without domain randomisation.

    Action
        One ALFWorld command (``go to R``, ``open R``, ``take O from R``, ``move O to R``, ``heat O with
        R``, ...), normalised to one lower-case line without a trailing full stop; ALFWorld's older
        ``put O in/on R`` is read as ``move O to R`` when that is admissible. The engine only executes
        admissible commands: anything else is answered "Nothing happens." and flagged
        ``invalid_action``. Nothing raises.

    Reward
        1.0 on the step that completes the goal (ALFWorld's score), else 0.0.

    Episode end
        Terminated when won (or ``stop_on_repeat`` catches a repeated command); truncated after
        ``max_steps`` commands (default 50, as in ALFWorld's configs).

    Info
        As ``TextWorldGameEnv`` plus ``task_type`` (from the game's folder name), ``goal`` (the task
        sentence) and ``split``; ``metrics`` adds a one-hot ``task_<task type>`` like ``rlvr/ALFWorld-v0``.

    Arguments
        split: ``"train"``, ``"valid_seen"`` (ALFWorld's eval_in_distribution) or ``"valid_unseen"``
            (eval_out_of_distribution).
        data_dir: the folder ``alfworld-download`` filled; default ``$ALFWORLD_DATA``, else
            ``~/.cache/alfworld``.
        task_types: keep only these task types (names as in ``TASK_TYPES``).
        max_steps, stop_on_repeat, show_admissible_commands, walkthrough: as ``TextWorldGameEnv``
            (the walkthrough is the game file's, or Fast Downward's plan).

    ``reset(seed=)`` draws a game from the split's sorted game list (``AlfredTWEnv`` collects it:
    solvable games of the chosen task types); ``reset(options={"game": i})`` picks one.

    Needs ``pip install alfworld`` and ``alfworld-download``.

    Version history
        v0: first version.
    """

    def __init__(
        self,
        split: str = "train",
        *,
        data_dir: str | os.PathLike[str] | None = None,
        task_types: str | Sequence[str] | None = None,
        **kwargs: Any,
    ) -> None:
        if split not in SPLITS:
            raise ValueError(f"unknown split {split!r}; choose from {', '.join(SPLITS)}")
        chosen = (
            TASK_TYPES if task_types is None else (task_types,) if isinstance(task_types, str) else task_types
        )
        unknown = [name for name in chosen if name not in TASK_TYPES]
        if unknown or not chosen:
            raise ValueError(f"unknown task types {unknown}; choose from {', '.join(TASK_TYPES)}")
        self.split = split
        self.task_types = tuple(chosen)
        self.data_dir = Path(
            data_dir or os.environ.get("ALFWORLD_DATA") or Path.home() / ".cache" / "alfworld"
        ).expanduser()
        split_dir = self.data_dir / JSON_DIR / split
        if not split_dir.is_dir():
            raise RuntimeError(f"ALFWorld's games are not in {split_dir}: {ALFWORLD_HINT}, or pass data_dir=")
        _require("alfworld", ALFWORLD_HINT)
        _require("textworld", ALFWORLD_HINT)
        files = self._collect(split_dir)
        if not files:
            raise RuntimeError(
                f"no solvable ALFWorld games of types {', '.join(self.task_types)} in {split_dir}: "
                f"{ALFWORLD_HINT}"
            )
        self._goal = ""
        super().__init__(files, **kwargs)

    def _collect(self, split_dir: Path) -> list[str]:
        """``AlfredTWEnv.collect_game_files``, quietly (it prints and draws progress bars)."""
        from alfworld.agents.environment.alfred_tw_env import AlfredTWEnv

        path = str(split_dir)
        config = {
            "dataset": {
                "data_path": path,
                "eval_id_data_path": path,
                "eval_ood_data_path": path,
                "num_train_games": -1,
                "num_eval_games": -1,
            },
            "env": {
                "goal_desc_human_anns_prob": 0.0,
                "task_types": [TASK_TYPES.index(name) + 1 for name in self.task_types],
                "domain_randomization": False,
                "expert_type": "handcoded",
            },
            "general": {"training_method": "dagger"},
            "dagger": {"training": {"max_nb_steps_per_episode": 50}},  # read by init_env only
        }
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            alfred = AlfredTWEnv(config, train_eval=SPLITS[self.split])
        return list(alfred.game_files)

    def _wrappers(self) -> list[Any]:
        from alfworld.agents.environment.alfred_tw_env import AlfredDemangler, AlfredInfos

        return [AlfredDemangler(shuffle=False), AlfredInfos]

    def _rewrite(self, command: str, admissible: Sequence[str]) -> str:
        match = _PUT.match(command)
        if match and command not in admissible:
            moved = f"move {match['obj']} to {match['recep']}"
            if moved in admissible:
                return moved
        return command

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        self._goal = ""
        observation, info = super().reset(seed=seed, options=options)
        found = re.search(r"Your task is to: (.+)", observation)
        self._goal = found.group(1).strip() if found else ""
        info.update(self._extra_info())
        return observation, info

    def _extra_info(self) -> dict[str, Any]:
        return {
            "task_type": task_type_from_path(self.game_file or ""),
            "goal": self._goal,
            "split": self.split,
        }

    def _extra_metrics(self) -> dict[str, float]:
        task_type = task_type_from_path(self.game_file or "")
        return {f"task_{name}": float(name == task_type) for name in TASK_TYPES}

    def _instructions(self) -> str:
        repeat = " Repeating your previous command ends the episode unsolved." if self.stop_on_repeat else ""
        return (
            f"{INSTRUCTIONS_HEAD}A command that is not "
            'possible now is answered "Nothing happens." '
            f"The task is done as soon as its goal holds; you have {self.max_steps} commands.{repeat}"
        )


# -- a few ALFWorld-format games, for where alfworld-download cannot reach ---------------------------------

_RECEPTACLES: tuple[tuple[str, int, bool], ...] = (
    # (ALFRED kind, how many, openable): a kitchen about the size of ALFWorld's (~30 receptacles)
    ("Cabinet", 8, True),
    ("CounterTop", 3, False),
    ("Drawer", 5, True),
    ("Fridge", 1, True),
    ("Microwave", 1, True),
    ("SinkBasin", 1, False),
    ("StoveBurner", 4, False),
    ("GarbageCan", 1, False),
    ("CoffeeMachine", 1, False),
    ("Shelf", 3, False),
    ("DiningTable", 1, False),
    ("Toaster", 1, False),
)
_OBJECTS: dict[str, tuple[str, ...]] = {
    # kind -> properties besides pickupable
    "Apple": ("cleanable", "heatable", "coolable"),
    "Egg": ("heatable", "coolable"),
    "Potato": ("cleanable", "heatable", "coolable"),
    "Tomato": ("cleanable", "heatable", "coolable"),
    "Bread": ("heatable", "coolable"),
    "Lettuce": ("cleanable", "coolable"),
    "Mug": ("cleanable", "heatable", "coolable"),
    "Cup": ("cleanable", "heatable", "coolable"),
    "Plate": ("cleanable", "heatable", "coolable"),
    "Bowl": ("cleanable", "coolable"),
    "Pan": ("cleanable", "coolable"),
    "Spoon": ("cleanable",),
    "Fork": ("cleanable",),
    "Knife": ("cleanable",),
    "SaltShaker": (),
    "DishSponge": ("cleanable",),
}
_ONLY: dict[str, tuple[str, ...]] = {"CoffeeMachine": ("Mug", "Cup"), "Toaster": ("Bread",)}
"""Receptacles that take only some kinds; every other receptacle takes every kind."""
_SAMPLE_GAMES: dict[str, tuple[tuple[str, str, str], ...]] = {
    # split -> (task type, object kind, receptacle kind)
    "train": (
        ("pick_and_place_simple", "Apple", "Fridge"),
        ("pick_clean_then_place_in_recep", "Mug", "CoffeeMachine"),
        ("pick_heat_then_place_in_recep", "Egg", "CounterTop"),
        ("pick_cool_then_place_in_recep", "Tomato", "Microwave"),
    ),
    "valid_seen": (("pick_and_place_simple", "Spoon", "Drawer"),),
    "valid_unseen": (("pick_heat_then_place_in_recep", "Potato", "GarbageCan"),),
}
_CONDITION = {
    "pick_and_place_simple": ("", "put a {obj} in {recep}"),
    "pick_clean_then_place_in_recep": ("(cleanable ?o) (isClean ?o)", "put a clean {obj} in {recep}"),
    "pick_heat_then_place_in_recep": ("(heatable ?o) (isHot ?o)", "put a hot {obj} in {recep}"),
    "pick_cool_then_place_in_recep": ("(coolable ?o) (isCool ?o)", "put a cool {obj} in {recep}"),
}


def _mangled(kind: str, number: int) -> str:
    """An ALFRED object id (``Kind|x|y|z``) as the PDDL files spell it; sinks are ``Sink|...|SinkBasin``."""
    coords = f"_bar__plus_{number:02d}_dot_50_bar__plus_00_dot_90_bar__minus_01_dot_{number:02d}"
    return f"Sink{coords}_bar_SinkBasin" if kind == "SinkBasin" else f"{kind}{coords}"


def _sample_problem(rng: random.Random, task_type: str, obj_kind: str, recep_kind: str) -> str:
    receptacles = [
        (_mangled(kind, n), kind, openable)
        for kind, count, openable in _RECEPTACLES
        for n in range(1, count + 1)
    ]
    objects: list[tuple[str, str]] = []
    for kind in _OBJECTS:
        for n in range(1, (3 if kind == obj_kind else rng.choice((1, 1, 2))) + 1):
            objects.append((_mangled(kind, 10 + n), kind))
    kinds_o = [*_OBJECTS, "Knife", "ButterKnife"]
    kinds_r = [kind for kind, _, _ in _RECEPTACLES]
    lines = ["agent1 - agent"]
    lines += [f"{kind}Type - otype" for kind in dict.fromkeys(kinds_o)]
    lines += [f"{kind}Type - rtype" for kind in kinds_r]
    lines += [f"{name} - object" for name, _ in objects]
    lines += [f"{name} - receptacle" for name, _, _ in receptacles]
    lines += [f"loc_bar_{i}_bar_0_bar_0_bar_0 - location" for i in range(len(receptacles) + 1)]
    init = ["(atLocation agent1 loc_bar_0_bar_0_bar_0_bar_0)"]
    for i, (name, kind, openable) in enumerate(receptacles, start=1):
        init.append(f"(receptacleType {name} {kind}Type)")
        init.append(f"(receptacleAtLocation {name} loc_bar_{i}_bar_0_bar_0_bar_0)")
        if openable:
            init.append(f"(openable {name})")
    init += [f"(canContain {r}Type {o}Type)" for r in kinds_r for o in _OBJECTS if o in _ONLY.get(r, (o,))]
    shelves = [(i, name) for i, (name, kind, _) in enumerate(receptacles, start=1) if kind != recep_kind]
    for name, kind in objects:
        where, recep = rng.choice(shelves)
        init += [f"(objectType {name} {kind}Type)", f"(pickupable {name})"]
        init += [f"({prop} {name})" for prop in _OBJECTS[kind]]
        init.append(f"(inReceptacle {name} {recep})")
        init.append(f"(objectAtLocation {name} loc_bar_{where}_bar_0_bar_0_bar_0)")
    condition = _CONDITION[task_type][0]
    goal = (
        f"(exists (?o - object ?r - receptacle) (and (objectType ?o {obj_kind}Type) "
        f"(receptacleType ?r {recep_kind}Type) {condition} (inReceptacle ?o ?r)))"
    )
    body = "\n        ".join(lines)
    facts = "\n        ".join(init)
    return (
        f"(define (problem plan_sample)\n    (:domain alfred)\n    (:objects\n        {body}\n    )\n"
        f"    (:init\n        {facts}\n    )\n    (:goal (and {goal}))\n)\n"
    )


def write_sample_alfworld_data(root: str | os.PathLike[str], *, seed: int = 0) -> Path:
    """Write ALFWorld-format games (``json_2.1.1/<split>/<task>/<trial>/game.tw-pddl``) under ``root``.

    Hand-made kitchens, ALFWorld's real PDDL domain and grammar (shipped in the ``alfworld`` wheel) and
    its file layout, so ``ALFWorldTWEnv(data_dir=root)`` runs the real engine end to end without
    ``alfworld-download``: 4 train games (pick-and-place, clean, heat, cool), 1 valid_seen, 1
    valid_unseen. They are not ALFWorld's games. Returns ``root``.
    """
    _require("alfworld", ALFWORLD_HINT)
    from alfworld.info import ALFRED_PDDL_PATH, ALFRED_TWL2_PATH

    domain = Path(ALFRED_PDDL_PATH).read_text()
    grammar = Path(ALFRED_TWL2_PATH).read_text()
    root = Path(root)
    rng = random.Random(seed)
    for split, games in _SAMPLE_GAMES.items():
        for number, (task_type, obj_kind, recep_kind) in enumerate(games, start=1):
            folder = (
                root / JSON_DIR / split / f"{task_type}-{obj_kind}-None-{recep_kind}-{number}" / "trial_T0"
            )
            folder.mkdir(parents=True, exist_ok=True)
            problem = _sample_problem(rng, task_type, obj_kind, recep_kind)
            goal = _CONDITION[task_type][1].format(obj=obj_kind.lower(), recep=recep_kind.lower())
            traj = {
                "task_type": task_type,
                "pddl_params": {
                    "object_target": obj_kind,
                    "parent_target": recep_kind,
                    "mrecep_target": "",
                    "toggle_target": "",
                    "object_sliced": False,
                },
            }
            game = {
                "pddl_domain": domain,
                "grammar": grammar.replace("UNKNOWN GOAL", goal),
                "pddl_problem": problem,
                "solvable": True,
                "walkthrough": None,
            }
            (folder / "traj_data.json").write_text(json.dumps(traj))
            (folder / "initial_state.pddl").write_text(problem)
            (folder / "game.tw-pddl").write_text(json.dumps(game))
    return root

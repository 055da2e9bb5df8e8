"""The mutable household one game is played on.

Plain slotted records and integer indices rather than an entity graph: the engine runs thousands of
games in a test and every step rebuilds the admissible-command list, so lookups must be cheap.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rlvr.envs.alfworld.world import OBJECT_KINDS, OPENABLE, ObjectKind


@dataclass(slots=True)
class Receptacle:
    kind: str
    number: int
    is_open: bool = False
    contents: list[int] = field(default_factory=list)
    """Indices into ``Household.things``."""

    @property
    def name(self) -> str:
        return f"{self.kind} {self.number}"

    @property
    def openable(self) -> bool:
        return self.kind in OPENABLE

    @property
    def accessible(self) -> bool:
        """Whether its contents can be seen, taken and added to (open, or nothing to open)."""
        return self.is_open or self.kind not in OPENABLE


@dataclass(slots=True)
class Thing:
    """An object (ALFWorld's word); a lamp is one too."""

    kind: str
    number: int
    receptacle: int | None
    """Index into ``Household.receptacles``; ``None`` while the agent holds it."""
    clean: bool = False
    hot: bool = False
    cool: bool = False
    sliced: bool = False
    on: bool = False

    @property
    def name(self) -> str:
        return f"{self.kind} {self.number}"

    @property
    def props(self) -> ObjectKind:
        return OBJECT_KINDS[self.kind]


@dataclass(frozen=True, slots=True)
class Goal:
    task_type: str
    object_kind: str
    target_kind: str
    """A receptacle kind, or a lamp kind for ``look_at_obj_in_light``."""
    text: str
    """As the agent reads it after "Your task is to: ", e.g. ``"put a clean mug in coffeemachine."``"""


@dataclass(slots=True)
class Household:
    room: str
    receptacles: list[Receptacle]
    things: list[Thing]
    goal: Goal
    location: int | None = None
    """The receptacle the agent stands at; ``None`` in the middle of the room, where a game starts."""
    held: int | None = None

    def at(self, receptacle: int) -> bool:
        return self.location == receptacle

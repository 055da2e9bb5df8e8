"""A tiny race game used to test the env views without any real game's rules."""

from __future__ import annotations

from typing import ClassVar

from rlvr.core.game import TurnGame
from rlvr.core.parsing import extract_choice


class RaceToFive(TurnGame):
    """Seats alternately add [1] or [2] to a counter; whoever brings it to 5 or more wins."""

    name: ClassVar[str] = "RaceToFive"

    def instructions(self, role: str) -> str:
        return f"You are {role}. Add [1] or [2] to the counter; reaching 5 wins."

    def _setup(self) -> None:
        self.counter = 0
        self.current_role = self.roles[int(self.rng.integers(2))]
        self.tell(f"{self.current_role} starts. Counter: 0.")

    def _legal_actions(self) -> list[str]:
        return ["[1]", "[2]"]

    def _play(self, text: str) -> str | None:
        choice = extract_choice(text, ["1", "2"])
        if choice is None:
            return "Write [1] or [2]."
        role = self.current_role
        assert role is not None
        self.counter += int(choice)
        self.tell(f"{role} added {choice}. Counter: {self.counter}.")
        other = self.roles[1 - self.roles.index(role)]
        if self.counter >= 5:
            self.finish({role: 1.0, other: -1.0}, f"{role} reached {self.counter}.")
        else:
            self.current_role = other
        return None

"""The learner: turn-level advantages over the runner's trajectories (more to come: losses, training loop)."""

from rlvr.runners.learner.advantages import (
    RoleBaseline,
    TurnAdvantages,
    grpo,
    mars,
    rebn,
    reinforce,
)

__all__ = ["RoleBaseline", "TurnAdvantages", "grpo", "mars", "rebn", "reinforce"]

"""The learner: turn-level advantages over the runner's trajectories, training samples from the
rollout's own token ids, PPO-clip losses and the training loop (``trainer``; needs torch)."""

from rlvr.runners.learner.advantages import (
    RoleBaseline,
    TurnAdvantages,
    grpo,
    mars,
    rebn,
    reinforce,
)

__all__ = ["RoleBaseline", "TurnAdvantages", "grpo", "mars", "rebn", "reinforce"]

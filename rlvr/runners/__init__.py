"""Drivers that put policies into envs: matches between scripted bots today, batched LLM rollouts,
evaluation and training as they land."""

"""Execution sandboxes for model-written code (local, docker, e2b)."""

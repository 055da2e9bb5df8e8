"""rlvr-gym: multi-turn text environments with verifiable rewards.

The package root stays import-light on purpose: ``rlvr_gym.pth`` imports ``rlvr._gymnasium_hook`` in
every interpreter, so nothing here may pull in gymnasium or numpy eagerly. The public helpers are
resolved on first use.
"""

__version__ = "0.1.0"

__all__ = ["__version__", "list_envs", "make", "make_aec"]


def __getattr__(name: str):
    if name in ("list_envs", "make", "make_aec"):
        from rlvr.core import registry

        return getattr(registry, name)
    raise AttributeError(f"module 'rlvr' has no attribute {name!r}")

"""Env ids, their metadata, and the two ways to make an env.

Every env is registered twice from one ``EnvEntry``: in gymnasium's own registry (``gym.make`` gives
the single-agent view) and here, where the metadata lives (roles, reward range, tags) and where
``make_aec`` finds the multi-agent view. This module imports nothing heavy: it runs inside
``import gymnasium`` through the start-up hook.
"""

from __future__ import annotations

import importlib
from dataclasses import asdict, dataclass, field
from typing import Any

BUILTIN_CATALOG = "rlvr.envs.catalog"


@dataclass(frozen=True)
class EnvEntry:
    """One registered env id and what a user needs to know to pick it."""

    id: str
    entry_point: str
    """``module:Class`` of the gymnasium (single-agent) view."""
    description: str
    roles: tuple[str, ...] = ("agent",)
    reward_range: tuple[float, float] = (0.0, 1.0)
    tags: tuple[str, ...] = ()
    aec_entry_point: str | None = None
    """``module:Class`` of the PettingZoo AEC view, for multi-seat envs."""
    requires: tuple[str, ...] = ()
    """Optional extras that must be installed, e.g. ``("textarena",)``."""
    kwargs: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_ENTRIES: dict[str, EnvEntry] = {}
_builtin_loaded = False


def register_env(entry: EnvEntry, *, with_gymnasium: bool = True) -> None:
    """Add ``entry`` to our table and (by default) to gymnasium's registry."""
    if not entry.id.startswith("rlvr/") and "/" not in entry.id:
        raise ValueError(f"env ids are namespaced, e.g. 'rlvr/Name-v0'; got {entry.id!r}")
    _ENTRIES[entry.id] = entry
    if with_gymnasium:
        from gymnasium.envs.registration import register, registry

        if entry.id not in registry:
            register(id=entry.id, entry_point=entry.entry_point, kwargs=dict(entry.kwargs))


def _ensure_builtin() -> None:
    global _builtin_loaded
    if not _builtin_loaded:
        _builtin_loaded = True
        importlib.import_module(BUILTIN_CATALOG).register_gymnasium_envs()


def list_envs(tag: str | None = None) -> list[EnvEntry]:
    """All registered envs (optionally only those carrying ``tag``), sorted by id."""
    _ensure_builtin()
    entries = sorted(_ENTRIES.values(), key=lambda entry: entry.id)
    return [entry for entry in entries if tag is None or tag in entry.tags]


def get_entry(env_id: str) -> EnvEntry:
    _ensure_builtin()
    try:
        return _ENTRIES[env_id]
    except KeyError:
        known = ", ".join(sorted(_ENTRIES))
        raise KeyError(f"unknown env id {env_id!r}; registered ids: {known}") from None


def load_entry_point(entry_point: str) -> Any:
    module_name, _, attribute = entry_point.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


def make(env_id: str, **kwargs: Any) -> Any:
    """The single-agent (gymnasium) view, through ``gymnasium.make`` so its wrappers apply."""
    import gymnasium

    _ensure_builtin()
    return gymnasium.make(env_id, **kwargs)


def make_aec(env_id: str, **kwargs: Any) -> Any:
    """The PettingZoo AEC view of a multi-seat env, e.g. ``make_aec("rlvr/KuhnPoker-v0")``."""
    entry = get_entry(env_id)
    if entry.aec_entry_point is None:
        raise ValueError(f"{env_id} is a single-agent env and has no AEC view")
    return load_entry_point(entry.aec_entry_point)(**{**entry.kwargs, **kwargs})

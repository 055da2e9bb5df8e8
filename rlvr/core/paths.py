"""Where rlvr keeps what it computes once per machine (converted weights, sandbox images, mutant pools)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """``$RLVR_CACHE_DIR``, else ``$XDG_CACHE_HOME/rlvr``, else ``~/.cache/rlvr``."""
    root = os.environ.get("RLVR_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "rlvr"
    )
    return Path(root)

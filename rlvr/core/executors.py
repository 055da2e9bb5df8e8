"""Running user code (policies, env steps) in worker threads under asyncio without hanging.

A ``StopIteration`` raised by a function run through ``loop.run_in_executor`` cannot be stored in
an asyncio future (``set_exception`` refuses it), so the awaiting coroutine waits forever: one stray
``next()`` in a policy or an env step would hang the whole runner. ``call_in_thread`` turns it into
a ``RuntimeError`` that fails only the calls it belongs to.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

Result = TypeVar("Result")


def call_in_thread(function: Callable[..., Result], *args: Any) -> Result:
    """``function(*args)``, with ``StopIteration`` re-raised as ``RuntimeError``."""
    try:
        return function(*args)
    except StopIteration as error:
        raise RuntimeError(f"{getattr(function, '__qualname__', function)!s} raised StopIteration") from error

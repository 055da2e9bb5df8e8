"""Re-seeding a numpy ``Generator`` in place, cheaply.

``np.random.default_rng(seed)`` runs numpy's ``SeedSequence`` and builds new objects: about 10 µs,
which is a tenth of a whole Kuhn Poker episode. Envs re-seed on every ``reset(seed=...)``, so they
keep one ``Generator`` each and overwrite its PCG64 state with words expanded from the seed by
SplitMix64 (Steele, Lea & Flood 2014), the standard way to turn one integer into well-mixed state.
Same seed, same stream, on every platform.
"""

from __future__ import annotations

import numpy as np

_MASK64 = (1 << 64) - 1
_GOLDEN_GAMMA = 0x9E3779B97F4A7C15


def _splitmix64_words(seed: int, count: int) -> list[int]:
    state = seed & _MASK64
    words = []
    for _ in range(count):
        state = (state + _GOLDEN_GAMMA) & _MASK64
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
        words.append(z ^ (z >> 31))
    return words


def new_generator(seed: int = 0) -> np.random.Generator:
    """A PCG64 generator in the state that ``reseed(generator, seed)`` gives."""
    generator = np.random.Generator(np.random.PCG64(0))
    reseed(generator, seed)
    return generator


def reseed(generator: np.random.Generator, seed: int) -> None:
    """Put ``generator`` (PCG64) in the state determined by the integer ``seed``."""
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, got {seed!r}")
    high, low, inc_high, inc_low = _splitmix64_words(int(seed), 4)
    generator.bit_generator.state = {
        "bit_generator": "PCG64",
        "state": {"state": (high << 64) | low, "inc": (inc_high << 64) | inc_low | 1},
        "has_uint32": 0,
        "uinteger": 0,
    }


def draw_seed(generator: np.random.Generator) -> int:
    """An integer seed for a child generator, drawn from ``generator``."""
    return int(generator.integers(0, 2**63 - 1))

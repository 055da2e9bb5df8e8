"""The env catalogue as Markdown, built from the catalogue entries and the env classes' docstrings.

``docs/envs.md`` is this module's output (``python -m rlvr.envs.manuals > docs/envs.md``), and a test
keeps the two equal, so the catalogue a user reads is the manual ``help()`` shows.
"""

from __future__ import annotations

import inspect

from rlvr.core.registry import list_envs, load_entry_point

_PREAMBLE = """# Env catalogue

Every env below is registered with gymnasium (`gym.make(id)`, the single-agent view) and, where it has
several seats, with `rlvr.make_aec(id)` (the PettingZoo view). `rlvr list` prints the table; each
section is the env class's docstring, so `help()` on the class shows the same manual. This page is
generated: `python -m rlvr.envs.manuals > docs/envs.md`.
"""

_GAME_RULES = (
    "All games share the `TurnGame` rules of [architecture.md](architecture.md): an invalid move\n"
    "forfeits with -1.5 / +0.5 unless `invalid_retries` allows another try, and `max_turns` truncates\n"
    "with 0 / 0."
)


def _demote_headings(text: str) -> str:
    return "\n".join("#### " + line[3:] if line.startswith("## ") else line for line in text.splitlines())


def catalogue_markdown() -> str:
    # The built-in ids only: an env a user (or a test) registers at run time is not ours to document.
    entries = [entry for entry in list_envs() if entry.id.startswith("rlvr/")]
    lines = [_PREAMBLE, "| id | seats | reward range | tags |", "| --- | --- | --- | --- |"]
    for entry in entries:
        low, high = entry.reward_range
        lines.append(
            f"| `{entry.id}` | {', '.join(entry.roles)} | [{low:g}, {high:g}] | {', '.join(entry.tags)} |"
        )
    lines += ["", _GAME_RULES]
    for entry in entries:
        doc = inspect.cleandoc(load_entry_point(entry.entry_point).__doc__ or "")
        title, _, manual = doc.partition("\n")
        lines += ["", f"## `{entry.id}`", "", entry.description, "", f"*{title.strip()}*", ""]
        lines.append(_demote_headings(manual.strip()))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(catalogue_markdown(), end="")

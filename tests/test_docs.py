"""The documentation a user reads stays true to the code."""

from __future__ import annotations

from pathlib import Path

from rlvr.envs.manuals import catalogue_markdown

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_env_catalogue_page_is_generated_from_the_env_manuals() -> None:
    assert (DOCS / "envs.md").read_text() == catalogue_markdown(), (
        "docs/envs.md is stale: run `python -m rlvr.envs.manuals > docs/envs.md`"
    )

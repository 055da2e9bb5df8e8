"""Tool calls parsed from replies, and the page splitter."""

from __future__ import annotations

from rlvr.core.parsing import strip_think_blocks as strip_think
from rlvr.envs.search.pages import chunk_text
from rlvr.envs.search.protocol import parse_call


def test_first_complete_tag_is_the_call():
    call = parse_call("<search>a b</search><answer>x</answer>")
    assert call is not None and (call.tool, call.argument, call.well_formed) == ("search", "a b", False)


def test_think_blocks_are_ignored_and_keep_a_reply_well_formed():
    call = parse_call("<think>maybe <answer>no</answer></think>\n<answer> Paris </answer>\n")
    assert call is not None and (call.tool, call.argument, call.well_formed) == ("answer", "Paris", True)
    assert strip_think("a<think>b") == "a"


def test_access_is_open_and_case_does_not_matter():
    call = parse_call("<ACCESS>https://x</ACCESS>")
    assert call is not None and (call.tool, call.argument) == ("open", "https://x")


def test_text_around_the_tag_or_nested_tags_are_badly_formed():
    assert not parse_call("Sure! <answer>x</answer>").well_formed  # type: ignore[union-attr]
    assert not parse_call("<answer><search>x</search></answer>").well_formed  # type: ignore[union-attr]


def test_no_call():
    for text in ("", "Paris", "<answer>unclosed", "<search></answer>", "<think><search>q</search></think>"):
        assert parse_call(text) is None, text


def test_chunks_respect_the_limit_and_keep_every_word():
    text = "Intro paragraph.\n\n" + " ".join(f"Sentence {i} is here." for i in range(60)) + "\n\nEnd."
    parts = chunk_text(text, 150)
    assert all(len(part) <= 150 for part in parts)
    assert " ".join(" ".join(parts).split()) == " ".join(text.split())
    assert parts[0].startswith("Intro paragraph.\n\nSentence 0")
    assert chunk_text("", 100) == [""]
    assert chunk_text("x" * 250, 100) == ["x" * 100, "x" * 100, "x" * 50]

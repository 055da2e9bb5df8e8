import pytest

from rlvr.agents import (
    EXTRACTORS,
    ActionExtractor,
    extractor_for,
    last_boxed,
    last_bracket_tag,
    last_fenced_block,
    strip_think,
)


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("[4]", "[4]"),
        ("<think>center is best</think>\n[4]", "[4]"),
        ("<think>a</think>[1] and <think>b</think> [2]", "[1] and  [2]"),
        ("<think>still thinking about [4]", ""),
        ("[3] <think>cut off mid-thought", "[3]"),
        ("prompt opened the block, so this is thought</think> [5]", "[5]"),
        ("<think>a <think>b</think> c</think> d", "d"),
        ("<THINK>Shouting</Think>[0]", "[0]"),
        ("<think>\nπ ≈ 3.14 🤔\n</think>\n答案 [7]", "答案 [7]"),
        ("", ""),
    ],
)
def test_strip_think(text, answer):
    assert strip_think(text) == answer


def test_last_bracket_tag_takes_the_last_tag_with_brackets():
    assert last_bracket_tag("Maybe [2]? No, [4] is better: [6]") == "[6]"
    assert last_bracket_tag("no move at all") is None
    assert last_bracket_tag("[ставка]") == "[ставка]"


def test_last_boxed_handles_nested_braces_and_truncation():
    assert last_boxed(r"first \boxed{1}, then \boxed{\frac{1}{2}}") == r"\frac{1}{2}"
    assert last_boxed(r"\boxed{ {a, {b}} }") == "{a, {b}}"
    assert last_boxed(r"\boxed{42} and a cut-off \boxed{\frac{1") == "42"
    assert last_boxed(r"\boxed{√2 ≈ 1.41}") == "√2 ≈ 1.41"
    assert last_boxed("nothing boxed") is None


def test_last_fenced_block_takes_the_last_complete_block():
    text = (
        "First try:\n```python\nprint(1)\n```\nBetter:\n```py\nprint('ü')\n```\n"
        "Unfinished:\n```python\nprint(3)\n"
    )
    assert last_fenced_block(text) == "print('ü')\n"
    assert last_fenced_block("```\nplain\n```") == "plain\n"
    assert last_fenced_block("no code") is None


def test_extractor_strips_think_then_finds_then_falls_back():
    assert EXTRACTORS["last_boxed"](r"<think>\boxed{1}</think> so \boxed{2}") == "2"
    assert EXTRACTORS["last_boxed"]("<think>x</think> no box") == "no box"
    strict = ActionExtractor("strict", last_boxed, fallback_to_text=False)
    assert strict("no box") == ""
    keep = ActionExtractor("keep", last_bracket_tag, strip_think=False)
    assert keep("[1] <think>[2]</think>") == "[2]"
    assert EXTRACTORS["identity"]("<think>x</think> [4] ") == "[4]"


def test_extractor_for_env_families():
    assert extractor_for("rlvr/TicTacToe-v0").name == "identity"
    assert extractor_for("rlvr/CodeJudge-v0").name == "identity"
    assert extractor_for(["math", "single-agent"]).name == "last_boxed"
    assert extractor_for(()).name == "identity"
    with pytest.raises(KeyError, match="unknown env id"):
        extractor_for("rlvr/NoSuchEnv-v0")

"""Finding the program in a reply: the last closed fenced block wins."""

from __future__ import annotations

from rlvr.envs.code.extract import extract_program, fenced_blocks


def test_the_last_block_wins_and_its_info_string_is_ignored() -> None:
    reply = "First try:\n```python\nprint(1)\n```\nBetter:\n```cpp\nprint(2)\n```\nDone."
    assert extract_program(reply).code == "print(2)\n"
    assert extract_program(reply).blocks == 2


def test_plain_fences_tildes_and_longer_fences() -> None:
    assert extract_program("```\nx = 1\n```").code == "x = 1\n"
    assert extract_program("~~~ruby\nputs 1\n~~~").code == "puts 1\n"
    nested = "````markdown\n```python\nprint(1)\n```\n````"
    assert extract_program(nested).code == "```python\nprint(1)\n```\n"


def test_indented_fences_lose_their_indentation_but_keep_the_codes() -> None:
    reply = "1. The program:\n   ```python\n   def f():\n       return 1\n   print(f())\n   ```\n"
    assert extract_program(reply).code == "def f():\n    return 1\nprint(f())\n"


def test_windows_line_endings() -> None:
    assert extract_program("```python\r\nprint(1)\r\n```\r\n").code == "print(1)\n"


def test_inline_triple_backticks_are_not_a_block() -> None:
    result = extract_program("Use ```print(1)``` to print.")
    assert result.code is None and result.problem == "Your reply contains no fenced code block (```)."


def test_no_block_unclosed_block_and_empty_block_are_explained() -> None:
    assert extract_program("just prose").problem == "Your reply contains no fenced code block (```)."
    assert extract_program("```python\nprint(1)\n").problem == (
        "Your reply opens a code block (```) but never closes it."
    )
    assert extract_program("```python\n\n   \n```").problem == "The last code block in your reply is empty."


def test_a_closed_block_before_a_cut_off_one_is_judged() -> None:
    blocks, unclosed = fenced_blocks("```\nprint(1)\n```\n```\nprint(2")
    assert [block.code for block in blocks] == ["print(1)"] and unclosed
    assert extract_program("```\nprint(1)\n```\n```\nprint(2").code == "print(1)\n"


def test_a_closing_fence_must_match_the_opening_character_and_length() -> None:
    blocks, _ = fenced_blocks("````\na\n```\nb\n````\n~~~\nc\n```\n~~~")
    assert [block.code for block in blocks] == ["a\n```\nb", "c\n```"]

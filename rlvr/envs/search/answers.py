"""Answer scoring for search QA, as pure functions (the verifier trainers can call without an env).

Every score normalises both sides the SQuAD way (lowercase, drop punctuation, drop the articles
a/an/the, collapse whitespace) and takes the best match over the gold answers, as Search-R1,
ZeroSearch and FlashRAG do, so numbers are comparable with theirs.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Iterable, Sequence

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation)

SCORES = ("em", "f1", "contains")
"""Names accepted by ``score_answer``."""


def normalize_answer(text: str) -> str:
    """SQuAD normalisation: lowercase, no punctuation, no articles, single spaces."""
    text = text.lower().translate(_PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def _golds(golds: str | Iterable[str]) -> list[str]:
    return [golds] if isinstance(golds, str) else list(golds)


def exact_match(prediction: str, golds: str | Iterable[str]) -> float:
    """1.0 when the normalised prediction equals some normalised gold answer."""
    predicted = normalize_answer(prediction)
    return float(any(predicted == normalize_answer(gold) for gold in _golds(golds)))


def contains_match(prediction: str, golds: str | Iterable[str]) -> float:
    """ZeroSearch's "EM": 1.0 when some normalised gold occurs inside the normalised prediction.

    Lenient to verbose answers ("It was founded in 1843."), so it rewards padding; report it next to
    ``exact_match``, not instead of it. An empty gold never matches.
    """
    predicted = f" {normalize_answer(prediction)} "
    return float(
        any((gold_text := normalize_answer(gold)) and f" {gold_text} " in predicted for gold in _golds(golds))
    )


def token_f1(prediction: str, golds: str | Iterable[str]) -> float:
    """Token-level F1 between normalised prediction and gold, max over golds."""
    predicted = normalize_answer(prediction).split()
    best = 0.0
    for gold in _golds(golds):
        gold_tokens = normalize_answer(gold).split()
        common = sum((Counter(predicted) & Counter(gold_tokens)).values())
        if common == 0:
            continue
        precision, recall = common / len(predicted), common / len(gold_tokens)
        best = max(best, 2 * precision * recall / (precision + recall))
    return best


def score_answer(prediction: str, golds: str | Iterable[str], score: str = "em") -> float:
    """One of ``SCORES`` by name."""
    if score == "em":
        return exact_match(prediction, golds)
    if score == "f1":
        return token_f1(prediction, golds)
    if score == "contains":
        return contains_match(prediction, golds)
    raise ValueError(f"unknown answer score {score!r}; choose one of {', '.join(SCORES)}")


def gold_in_text(golds: str | Iterable[str], texts: Sequence[str]) -> bool:
    """Whether a normalised gold answer occurs in any retrieved text (Search-R1's retrieval signal)."""
    haystacks = [f" {normalize_answer(text)} " for text in texts]
    for gold in _golds(golds):
        needle = normalize_answer(gold)
        if needle and any(f" {needle} " in haystack for haystack in haystacks):
            return True
    return False


def format_aware_reward(
    correct: bool,
    well_formed: bool,
    *,
    retrieved_gold: bool = False,
    correct_badly_formed: float = 0.8,
    wrong_well_formed: float = 0.2,
    wrong_badly_formed: float = 0.1,
    retrieval_bonus: float = 0.0,
) -> float:
    """Search-R1 v0.3's reward: 1.0 correct and well formed, 0.8 correct but badly formed, 0.2 well
    formed but wrong (plus ``retrieval_bonus`` when a gold answer was among the retrieved text), 0.1
    wrong and badly formed.

    The bonus is off by default (Search-R1's v0.3 scripts set it to 0); keep it below
    ``correct_badly_formed - wrong_well_formed`` so a wrong answer never pays like a right one.
    """
    if correct:
        return 1.0 if well_formed else correct_badly_formed
    if not well_formed:
        return wrong_badly_formed
    return wrong_well_formed + (retrieval_bonus if retrieved_gold else 0.0)

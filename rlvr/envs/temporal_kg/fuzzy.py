"""Fuzzy look-up of entity (and relation) names, for agents that cannot spell "Abdel Fattah Al-Sisi".

An agent asks for a name the way it remembers it: wrong case, missing punctuation, a surname only, a
typo. ``NameIndex.search`` ranks names in strict tiers so the obvious answer always wins:

1. exact match after normalisation (case, accents and punctuation folded): score 1.0;
2. the name starts with the query: 0.9-0.99, shorter names first;
3. some query word is a name word: 0.5-0.9, by the share of the query's IDF weight matched (so "of" or
   "citizen" count for little next to "Obama") and the share of the name's words covered;
4. character trigrams only (typos, partial words): up to 0.5, Dice similarity of the trigram sets.

Everything a query needs is precomputed as posting arrays (word -> name ids, trigram -> name ids), so a
query is a handful of ``np.bincount`` calls over short arrays: well under a millisecond to a few
milliseconds on 20k names, with no per-name Python loop. Ties are broken by name id, which the store
assigns in sorted name order, so results are deterministic.
"""

from __future__ import annotations

import math
import re
import unicodedata
from bisect import bisect_left
from collections.abc import Sequence

import numpy as np

_NOT_WORD = re.compile(r"[\W_]+")
_MIN_TRIGRAM_DICE = 0.2
"""Trigram-only matches below this Dice similarity share too little to be worth showing."""


def normalise_name(text: str) -> str:
    """Case-folded, accents stripped, every run of punctuation/space one space: 'Al-Sisi' -> 'al sisi'."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(_NOT_WORD.sub(" ", plain.casefold()).split())


def trigrams(normalised: str) -> set[str]:
    """Character trigrams of `` name ``; the padding lets short names and word edges count."""
    padded = f" {normalised} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


class NameIndex:
    """Postings over a fixed list of names; ``search`` returns ``(name id, score)``, best first."""

    def __init__(self, names: Sequence[str]) -> None:
        self.size = len(names)
        self._normalised = [normalise_name(name) for name in names]
        self._exact: dict[str, list[int]] = {}
        token_lists: dict[str, list[int]] = {}
        gram_lists: dict[str, list[int]] = {}
        token_counts = np.zeros(self.size, dtype=np.float64)
        gram_counts = np.zeros(self.size, dtype=np.float64)
        for name_id, norm in enumerate(self._normalised):
            self._exact.setdefault(norm, []).append(name_id)
            tokens = set(norm.split())
            token_counts[name_id] = max(len(tokens), 1)
            for token in tokens:
                token_lists.setdefault(token, []).append(name_id)
            grams = trigrams(norm)
            gram_counts[name_id] = len(grams)
            for gram in grams:
                gram_lists.setdefault(gram, []).append(name_id)
        self._tokens = {token: np.asarray(ids, dtype=np.int64) for token, ids in token_lists.items()}
        self._idf = {token: math.log(1.0 + self.size / len(ids)) for token, ids in token_lists.items()}
        self._unknown_idf = math.log(1.0 + self.size)
        self._grams = {gram: np.asarray(ids, dtype=np.int64) for gram, ids in gram_lists.items()}
        self._token_counts = token_counts
        self._gram_counts = gram_counts
        self._lengths = np.asarray([max(len(norm), 1) for norm in self._normalised], dtype=np.float64)
        by_text = sorted(range(self.size), key=self._normalised.__getitem__)
        self._sorted_text = [self._normalised[i] for i in by_text]
        self._sorted_ids = np.asarray(by_text, dtype=np.int64)

    def lookup(self, text: str) -> list[int]:
        """Ids of the names equal to ``text`` after normalisation."""
        return list(self._exact.get(normalise_name(text), ()))

    def candidates(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """``(name ids, scores)`` of every name with a score > 0, by the tiers in the module docstring.

        Candidates are the names sharing a trigram with the query plus the prefix matches (a one-letter
        query shares no trigram with them). Dense ``bincount``s over all names are cheaper here than
        ``np.unique``/``union1d``, whose hashing costs ~0.4 ms when thousands of names share a trigram.
        """
        query = normalise_name(text)
        if not query or self.size == 0:
            return np.empty(0, dtype=np.int64), np.empty(0)
        query_grams = trigrams(query)
        postings = [self._grams[gram] for gram in query_grams if gram in self._grams]
        shared = np.bincount(np.concatenate(postings), minlength=self.size) if postings else None
        low = bisect_left(self._sorted_text, query)
        high = bisect_left(self._sorted_text, query + "\U0010ffff", lo=low)
        prefixed = self._sorted_ids[low:high]
        present = np.zeros(self.size, dtype=bool) if shared is None else shared > 0
        present[prefixed] = True
        ids = np.flatnonzero(present)
        if ids.size == 0:
            return ids, np.empty(0)
        if shared is None:
            dice = np.zeros(ids.size)
        else:
            dice = 2.0 * shared[ids] / (len(query_grams) + self._gram_counts[ids])
        scores = np.where(dice >= _MIN_TRIGRAM_DICE, 0.5 * dice, 0.0)

        query_tokens = set(query.split())
        total_weight = sum(self._idf.get(token, self._unknown_idf) for token in query_tokens)
        known = [token for token in query_tokens if token in self._tokens]
        if known:
            # Names holding a query word: a subset of the trigram candidates (they share its trigrams).
            matched = np.concatenate([self._tokens[token] for token in known])
            weights = np.concatenate([np.full(self._tokens[token].size, self._idf[token]) for token in known])
            count = np.bincount(matched, minlength=self.size)
            weight = np.bincount(matched, weights=weights, minlength=self.size)
            hit = np.flatnonzero(count)
            coverage = np.minimum(count[hit] / self._token_counts[hit], 1.0)
            token_score = 0.75 * weight[hit] / total_weight + 0.25 * coverage
            position = np.searchsorted(ids, hit)
            scores[position] = 0.5 + 0.35 * token_score + 0.05 * np.minimum(dice[position], 1.0)
        if prefixed.size:
            scores[np.searchsorted(ids, prefixed)] = 0.9 + 0.09 * len(query) / self._lengths[prefixed]
        for name_id in self._exact.get(query, ()):
            scores[np.searchsorted(ids, name_id)] = 1.0
        keep = scores > 0
        return ids[keep], scores[keep]

    def scores(self, text: str) -> np.ndarray:
        """One score per name (0 = no match)."""
        dense = np.zeros(self.size, dtype=np.float64)
        ids, scores = self.candidates(text)
        dense[ids] = scores
        return dense

    def search(self, text: str, limit: int = 10) -> list[tuple[int, float]]:
        """The ``limit`` best ``(name id, score)`` pairs, best first, ties by id; only scores > 0."""
        if limit <= 0:
            return []
        ids, scores = self.candidates(text)
        if ids.size > limit:
            kth = np.partition(scores, ids.size - limit)[ids.size - limit]
            best = scores >= kth
            ids, scores = ids[best], scores[best]
        order = np.lexsort((ids, -scores))[:limit]
        return [(int(i), round(float(score), 4)) for i, score in zip(ids[order], scores[order], strict=True)]

"""The embedded search engine against bm25s, on generated worlds of 100k and 1M passages, in one run.

For each size: generate the world's passages (timed apart), build rlvr's local index (tantivy BM25,
on disk, stemmed) and a bm25s index (in memory, the same English stemmer and stopword list, so both
rank the same tokens), then answer the world's questions as queries, top 3, one query at a time (how
an env asks) and, for bm25s, also as one batch (its best case). Both ways of treating stopwords are
measured: all words kept (our default) and ``STOPWORDS`` dropped on both sides (bm25s then also
drops them from its index, as its stopword option does). Reported: build seconds, queries/s,
the ratios, how often the supporting passage is in each engine's top 3, and how often the two agree
on the top hit.

    .venv/bin/pip install -e ".[bench]"      # bm25s, PyStemmer
    .venv/bin/python benchmarks/search_speed.py [--sizes 100000 1000000] [--queries 500]

Results go to benchmarks/results/search_speed.json and, by hand, benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from rlvr.envs.search.backends.local import STOPWORDS, LocalIndex
from rlvr.envs.search.world import generate_world


def compare(ours: LocalIndex, documents, asked, bm25s, stemmer, stop) -> dict[str, float]:
    """bm25s built with the same stopword choice as our query side, then both timed on the questions."""
    questions = [q.question for q in asked]
    started = time.perf_counter()
    texts = [f"{d.title} {d.contents}" for d in documents]
    tokens = bm25s.tokenize(texts, stopwords=stop, stemmer=stemmer, show_progress=False)
    theirs = bm25s.BM25()
    theirs.index(tokens, show_progress=False)
    bm25s_build_s = time.perf_counter() - started
    del texts, tokens

    ours.search(questions[0], 3)  # warm the page cache
    started = time.perf_counter()
    our_top = [ours.search(question, 3) for question in questions]
    ours_qps = len(questions) / (time.perf_counter() - started)

    started = time.perf_counter()
    their_top = []
    for question in questions:
        query = bm25s.tokenize([question], stopwords=stop, stemmer=stemmer, show_progress=False)
        found, _ = theirs.retrieve(query, k=3, show_progress=False, n_threads=1)
        their_top.append(found[0])
    bm25s_qps = len(questions) / (time.perf_counter() - started)

    started = time.perf_counter()
    batch = bm25s.tokenize(questions, stopwords=stop, stemmer=stemmer, show_progress=False)
    theirs.retrieve(batch, k=3, show_progress=False, n_threads=1)
    bm25s_batch_qps = len(questions) / (time.perf_counter() - started)

    def recall(tops) -> float:
        return sum(any(d in q.supporting_ids for d in top) for top, q in zip(tops, asked, strict=True)) / len(
            asked
        )

    return {
        "bm25s_build_s": bm25s_build_s,
        "ours_qps": ours_qps,
        "bm25s_qps": bm25s_qps,
        "bm25s_batch_qps": bm25s_batch_qps,
        "qps_ratio_ours_over_bm25s": ours_qps / bm25s_qps,
        "ours_supporting_passage_in_top3": recall([[d.id for d in top] for top in our_top]),
        "bm25s_supporting_passage_in_top3": recall(
            [[documents[int(i)].id for i in top] for top in their_top]
        ),
        "top1_agreement": sum(
            bool(mine) and documents[int(other[0])].id == mine[0].id
            for mine, other in zip(our_top, their_top, strict=True)
        )
        / len(questions),
    }


def bench_size(size: int, queries_wanted: int) -> dict[str, float]:
    import bm25s
    import Stemmer

    started = time.perf_counter()
    world = generate_world(0, size=size)
    documents = list(world.documents())
    generation_s = time.perf_counter() - started
    asked = world.questions(queries_wanted, seed=1)
    print(f"{len(documents)} passages generated in {generation_s:.1f} s; {len(asked)} queries")

    workdir = Path(tempfile.mkdtemp(prefix="rlvr-search-bench-"))
    try:
        started = time.perf_counter()
        ours = LocalIndex(workdir / "index", corpus=documents, fingerprint=f"bench-{size}", progress=False)
        ours_build_s = time.perf_counter() - started
        index_mb = sum(f.stat().st_size for f in (workdir / "index").rglob("*") if f.is_file()) / 2**20

        stemmer = Stemmer.Stemmer("english")
        modes = {}
        for mode, stop in (("all_words", None), ("no_stopwords", sorted(STOPWORDS))):
            ours.drop_stopwords = stop is not None
            modes[mode] = compare(ours, documents, asked, bm25s, stemmer, stop)
            print(mode, json.dumps(modes[mode], indent=1))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    row = {
        "passages": len(documents),
        "generation_s": generation_s,
        "ours_build_s": ours_build_s,
        "ours_index_mb": index_mb,
        **{f"{mode}/{key}": value for mode, numbers in modes.items() for key, value in numbers.items()},
    }
    print(json.dumps(row, indent=1))
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "search_speed.json"))
    args = parser.parse_args()
    rows = [bench_size(size, args.queries) for size in args.sizes]
    Path(args.out).write_text(json.dumps(rows, indent=1) + "\n")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()

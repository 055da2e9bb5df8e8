"""Public stdin/stdout problem sets from the Hugging Face Hub, as ``Problem``s.

========================  =========================================  ===============================
name                      Hub dataset                                what becomes a ``Problem``
========================  =========================================  ===============================
``ag-mbpp-x``             ``nuprl/mbpp-agnostic-translation`` (full)  every row (Agnostics' MBPP in
                                                                     I/O form); ``split`` picks the
                                                                     task ids Agnostics tests on
``ag-livecodebench-x``    ``nuprl/Ag-LiveCodeBench-X`` (test)         every row; the hidden tests are
                                                                     LiveCodeBench's compressed ones
``taco``                  ``BAAI/TACO``                               rows judged by stdin/stdout
                                                                     (call-based rows are skipped)
``code-contests``         ``deepmind/code_contests``                  every row with tests
========================  =========================================  ===============================

Everything needs the ``datasets`` package and a network (or a warm Hugging Face cache); without
them the loaders raise ``DatasetUnavailable`` saying so. ``datasets`` is imported only when a loader
runs. The row converters (``problem_from_*``) are pure functions of one row.

Checkers follow each source's own judging: the Agnostics sets compare exactly (after ``rstrip``),
TACO and CodeContests token by token (their outputs often differ from accepted answers only in
whitespace).
"""

from __future__ import annotations

import base64
import io
import json
import pickle
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from rlvr.envs.code.judge import IOTest
from rlvr.envs.code.problems import Problem, render_examples

INSTALL_HINT = "needs network and `pip install datasets`"

AG_MBPP_X = "nuprl/mbpp-agnostic-translation"
AG_LIVECODEBENCH_X = "nuprl/Ag-LiveCodeBench-X"
TACO = "BAAI/TACO"
CODE_CONTESTS = "deepmind/code_contests"

# Agnostics' split of the MBPP task ids: test 11-510, train 601-974 plus the few-shot ids 1-10.
AG_MBPP_X_SPLITS: Mapping[str, Callable[[int], bool]] = MappingProxyType(
    {
        "test": lambda task_id: 11 <= task_id <= 510,
        "train": lambda task_id: 601 <= task_id <= 974 or 1 <= task_id <= 10,
        "all": lambda task_id: True,
    }
)


class DatasetUnavailable(RuntimeError):
    """A public problem set cannot be loaded here (no ``datasets`` package, or no network)."""


def load_hub_dataset(path: str, *args: Any, **kwargs: Any) -> Any:
    """``datasets.load_dataset(path, ...)``, with a clear ``DatasetUnavailable`` when it cannot work."""
    try:
        import datasets
    except ImportError as error:
        raise DatasetUnavailable(
            f"loading {path} {INSTALL_HINT} (the `datasets` package is missing)"
        ) from error
    try:
        return datasets.load_dataset(path, *args, **kwargs)
    except Exception as error:  # offline mode, no network, moved dataset: all mean "not here"
        raise DatasetUnavailable(
            f"loading {path} {INSTALL_HINT}; it failed with {type(error).__name__}: {error}"
        ) from error


def _take(
    rows: Iterable[Mapping[str, Any]],
    convert: Callable[[Mapping[str, Any]], Problem | None],
    limit: int | None,
) -> list[Problem]:
    problems = []
    for row in rows:
        problem = convert(row)
        if problem is not None:
            problems.append(problem)
            if limit is not None and len(problems) >= limit:
                break
    return problems


def _as_text(value: Any) -> str:
    """A test's input or output: TACO sometimes stores a list of lines."""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return "\n".join(_as_text(item) for item in value) + "\n"
    return str(value)


# -- Ag-MBPP-X -------------------------------------------------------------------------------------


def problem_from_ag_mbpp_x(row: Mapping[str, Any]) -> Problem | None:
    """One row of ``nuprl/mbpp-agnostic-translation``: description, formats and ``tests``."""
    tests = [IOTest(_as_text(test["input"]), _as_text(test["output"])) for test in row.get("tests") or []]
    if not tests:
        return None
    example = tests[0]
    statement = (
        f"{str(row['description']).strip()}\n\nInput\n{str(row['input_format']).strip()}\n\n"
        f"Output\n{str(row['output_format']).strip()}\n\n{render_examples([example])}"
    )
    task_id = row["original_task_id"]
    return Problem(
        id=f"ag-mbpp-x/{task_id}",
        title=f"MBPP task {task_id}",
        statement=statement,
        tests=tuple(tests),
        public_tests=(example,),
        difficulty="easy",
        checker="exact",
        source="ag-mbpp-x",
    )


def load_ag_mbpp_x(split: str = "test", *, limit: int | None = None) -> list[Problem]:
    """Ag-MBPP-X: MBPP rewritten by Agnostics as stdin/stdout problems (test: ids 11-510)."""
    if split not in AG_MBPP_X_SPLITS:
        raise ValueError(f"split must be one of {', '.join(AG_MBPP_X_SPLITS)}")
    keep = AG_MBPP_X_SPLITS[split]
    rows = load_hub_dataset(AG_MBPP_X, "full", split="train")
    return _take((row for row in rows if keep(int(row["original_task_id"]))), problem_from_ag_mbpp_x, limit)


# -- Ag-LiveCodeBench-X ----------------------------------------------------------------------------


class _NoGlobalsUnpickler(pickle.Unpickler):
    """LiveCodeBench pickles a JSON string; refusing every global makes loading it safe."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a dataset")


def decode_lcb_tests(blob: str) -> list[IOTest]:
    """LiveCodeBench's private tests: base64 of zlib of a pickled JSON list of ``{input, output}``."""
    raw = zlib.decompress(base64.b64decode(blob.encode("ascii")))
    payload = _NoGlobalsUnpickler(io.BytesIO(raw)).load()
    tests = json.loads(payload) if isinstance(payload, (str, bytes)) else payload
    return [IOTest(_as_text(test["input"]), _as_text(test["output"])) for test in tests]


def problem_from_ag_livecodebench_x(row: Mapping[str, Any]) -> Problem | None:
    """One row of ``nuprl/Ag-LiveCodeBench-X``: ``question_content`` and compressed private tests."""
    tests = decode_lcb_tests(row["private_test_cases"])
    if not tests:
        return None
    return Problem(
        id=f"ag-lcb-x/{row['question_id']}",
        title=f"LiveCodeBench {row['question_id']}",
        statement=str(row["question_content"]).strip(),
        tests=tuple(tests),
        checker="exact",
        source="ag-livecodebench-x",
    )


def load_ag_livecodebench_x(*, limit: int | None = None) -> list[Problem]:
    """Ag-LiveCodeBench-X (499 problems; the tests are large: several GB uncompressed)."""
    rows = load_hub_dataset(AG_LIVECODEBENCH_X, split="test")
    return _take(rows, problem_from_ag_livecodebench_x, limit)


# -- TACO ------------------------------------------------------------------------------------------

_TACO_DIFFICULTY = {
    "EASY": "easy",
    "MEDIUM": "medium",
    "MEDIUM_HARD": "hard",
    "HARD": "hard",
    "VERY_HARD": "hard",
}


def problem_from_taco(row: Mapping[str, Any], index: int = 0, split: str = "test") -> Problem | None:
    """One TACO row, if it is judged by stdin/stdout (rows with an ``fn_name`` are call-based)."""
    try:
        io_spec = (
            json.loads(row["input_output"]) if isinstance(row["input_output"], str) else row["input_output"]
        )
    except (TypeError, ValueError):
        return None
    if not io_spec or io_spec.get("fn_name") or not io_spec.get("inputs"):
        return None
    tests = tuple(
        IOTest(_as_text(given), _as_text(wanted))
        for given, wanted in zip(io_spec["inputs"], io_spec["outputs"], strict=False)
    )
    solutions: dict[str, str] = {}
    try:
        written = json.loads(row.get("solutions") or "[]")
    except ValueError:
        written = []
    if written:
        solutions["python"] = written[0]
    return Problem(
        id=f"taco/{split}/{index}",
        title=str(row.get("name") or f"TACO {split} {index}"),
        statement=str(row["question"]).strip(),
        tests=tests,
        difficulty=_TACO_DIFFICULTY.get(str(row.get("difficulty")), "unknown"),
        checker="tokens",
        solutions=MappingProxyType(solutions),
        tags=tuple(_as_list(row.get("tags"))),
        source="taco",
    )


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return [value]
    return [str(item) for item in value or []]


def load_taco(split: str = "test", *, limit: int | None = None) -> list[Problem]:
    """TACO's stdin/stdout problems (``split``: ``"train"`` or ``"test"``)."""
    rows = load_hub_dataset(TACO, split=split)
    problems = []
    for index, row in enumerate(rows):
        problem = problem_from_taco(row, index, split)
        if problem is not None:
            problems.append(problem)
            if limit is not None and len(problems) >= limit:
                break
    return problems


# -- CodeContests ----------------------------------------------------------------------------------

# deepmind/code_contests difficulty enum: 1-3 easy..hard, 4-5 harder/hardest, 7+ Codeforces letters.
_CODE_CONTESTS_DIFFICULTY = {
    1: "easy",
    2: "medium",
    3: "hard",
    4: "hard",
    5: "hard",
    7: "easy",
    8: "easy",
    9: "medium",
    10: "medium",
}
_CODE_CONTESTS_PYTHON3 = 3


def _code_contests_tests(block: Mapping[str, Sequence[str]] | None) -> list[IOTest]:
    if not block:
        return []
    return [IOTest(given, wanted) for given, wanted in zip(block["input"], block["output"], strict=False)]


def _rating_difficulty(rating: int) -> str:
    return "easy" if rating <= 1300 else "medium" if rating <= 2000 else "hard"


def problem_from_code_contests(row: Mapping[str, Any], max_tests: int = 100) -> Problem | None:
    """One CodeContests row: hidden = private + generated tests (at most ``max_tests``)."""
    public = _code_contests_tests(row.get("public_tests"))
    hidden = (
        _code_contests_tests(row.get("private_tests")) + _code_contests_tests(row.get("generated_tests"))
    )[:max_tests] or public
    if not hidden:
        return None
    rating = int(row.get("cf_rating") or 0)
    difficulty = (
        _rating_difficulty(rating)
        if rating > 0
        else _CODE_CONTESTS_DIFFICULTY.get(int(row.get("difficulty") or 0), "unknown")
    )
    solutions: dict[str, str] = {}
    written = row.get("solutions") or {}
    for language, source in zip(written.get("language", []), written.get("solution", []), strict=False):
        if language == _CODE_CONTESTS_PYTHON3:
            solutions["python"] = source
            break
    limit = row.get("time_limit") or {}
    seconds = float(limit.get("seconds") or 0) + float(limit.get("nanos") or 0) / 1e9
    memory = int(row.get("memory_limit_bytes") or 0) // (1 << 20)
    return Problem(
        id=f"code-contests/{row['name']}",
        title=str(row["name"]),
        statement=str(row["description"]).strip(),
        tests=tuple(hidden),
        public_tests=tuple(public),
        difficulty=difficulty,
        checker="tokens",
        solutions=MappingProxyType(solutions),
        tags=tuple(str(tag) for tag in row.get("cf_tags") or ()),
        source="code-contests",
        time_limit_s=seconds or None,
        memory_mb=memory or None,
    )


def load_code_contests(
    split: str = "test", *, limit: int | None = None, max_tests: int = 100
) -> list[Problem]:
    """CodeContests (``split``: ``"train"``, ``"valid"`` or ``"test"``)."""
    rows = load_hub_dataset(CODE_CONTESTS, split=split)
    return _take(rows, lambda row: problem_from_code_contests(row, max_tests), limit)


PUBLIC_SETS: Mapping[str, Callable[[], list[Problem]]] = MappingProxyType(
    {
        "ag-mbpp-x": load_ag_mbpp_x,
        "ag-livecodebench-x": load_ag_livecodebench_x,
        "taco": load_taco,
        "code-contests": load_code_contests,
    }
)
"""Loaders by name with their default split, for ``load_problem_set(name)``."""

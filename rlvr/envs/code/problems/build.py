"""Generate the bundled problems' tests: the generator's inputs, the reference's outputs.

    python -m rlvr.envs.code.problems.build            # rewrite data/core.tests.jsonl
    python -m rlvr.envs.code.problems.build --check    # exit 1 if the shipped file is stale

Every input is drawn from its own ``random.Random`` seeded with ``"<id>/<seed>/<kind>/<slot>"``
(string seeds are hashed with SHA-512, the same on every platform and Python version), so a
problem's tests do not change when another problem is added or edited. A slot whose input repeats
an earlier one is redrawn (a few times) so that edge cases do not fill the hidden set with copies.

The reference runs in a fresh Python interpreter, once per problem: each input gets fresh globals
and its own stdin and stdout, exactly as if the program were started on it.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from rlvr.envs.code.judge import IOTest
from rlvr.envs.code.problems import BUNDLED_SETS, ProblemSpec, load_specs, read_tests_file, tests_file_path

PUBLIC_TIERS = ("example", "example")
HIDDEN_TIERS = ("edge", "edge", "small", "small", "small", "small", "small", "large", "large", "large")
REDRAWS = 8
REFERENCE_TIMEOUT_S = 120.0

_RUNNER = r"""
import io, json, sys
request = json.load(sys.stdin)
code = compile(request["source"], "reference.py", "exec")
real_stdin, real_stdout = sys.stdin, sys.stdout
outputs = []
for text in request["inputs"]:
    sys.stdin = io.TextIOWrapper(io.BytesIO(text.encode("utf-8")), encoding="utf-8")
    captured = io.BytesIO()
    sys.stdout = io.TextIOWrapper(captured, encoding="utf-8", newline="\n")
    try:
        exec(code, {"__name__": "__main__"})
    except SystemExit as stop:
        if stop.code not in (None, 0):
            raise
    sys.stdout.flush()
    outputs.append(captured.getvalue().decode("utf-8"))
    sys.stdin, sys.stdout = real_stdin, real_stdout
json.dump(outputs, sys.stdout)
"""


def run_reference(source: str, inputs: Sequence[str], python: str = sys.executable) -> list[str]:
    """The reference program's stdout on each input, from one fresh interpreter."""
    completed = subprocess.run(
        [python, "-I", "-c", _RUNNER],
        input=json.dumps({"source": source, "inputs": list(inputs)}),
        capture_output=True,
        text=True,
        timeout=REFERENCE_TIMEOUT_S,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"the reference solution failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout)


def generate_inputs(
    spec: ProblemSpec, seed: int = 0, tiers: Sequence[str] = HIDDEN_TIERS, kind: str = "hidden", avoid=()
) -> list[str]:
    """Inputs for the given tiers, deterministic in ``(spec.id, seed, kind, slot)``."""
    generate = spec.generator_function()
    seen = set(avoid)
    inputs = []
    for slot, tier in enumerate(tiers):
        for attempt in range(REDRAWS):
            label = f"{spec.id}/{seed}/{kind}/{slot}" + (f"/{attempt}" if attempt else "")
            text = generate(random.Random(label), tier)
            if not isinstance(text, str) or not text.endswith("\n"):
                raise ValueError(
                    f"{spec.id}: generate() must return text ending in a newline, got {text!r:.80}"
                )
            if text not in seen:
                break
        seen.add(text)
        inputs.append(text)
    return inputs


def generate_tests(
    spec: ProblemSpec,
    seed: int = 0,
    *,
    public_tiers: Sequence[str] = PUBLIC_TIERS,
    hidden_tiers: Sequence[str] = HIDDEN_TIERS,
    python: str = sys.executable,
) -> tuple[list[IOTest], list[IOTest]]:
    """``(public, hidden)`` tests: fresh inputs from the generator, outputs from the reference."""
    public_inputs = generate_inputs(spec, seed, public_tiers, "public")
    hidden_inputs = generate_inputs(spec, seed, hidden_tiers, "hidden", avoid=public_inputs)
    outputs = run_reference(spec.reference, public_inputs + hidden_inputs, python)
    tests = [
        IOTest(text, output) for text, output in zip(public_inputs + hidden_inputs, outputs, strict=True)
    ]
    return tests[: len(public_inputs)], tests[len(public_inputs) :]


def tests_record(spec: ProblemSpec, seed: int, public: Sequence[IOTest], hidden: Sequence[IOTest]) -> str:
    return json.dumps(
        {
            "id": spec.id,
            "seed": seed,
            "public": [test.to_dict() for test in public],
            "hidden": [test.to_dict() for test in hidden],
        },
        ensure_ascii=False,
    )


def build_set(name: str, seed: int = 0) -> str:
    """The whole tests file of a bundled set, as text."""
    lines = []
    for spec in load_specs(name):
        public, hidden = generate_tests(spec, seed)
        lines.append(tests_record(spec, seed, public, hidden))
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", dest="names", action="append", choices=BUNDLED_SETS, help="default: all")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--check", action="store_true", help="compare with the shipped file, write nothing")
    args = parser.parse_args(argv)
    status = 0
    for name in args.names or BUNDLED_SETS:
        path: Path = tests_file_path(name)
        text = build_set(name, args.seed)
        if args.check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                shipped = read_tests_file(path) if path.is_file() else {}
                fresh = {json.loads(line)["id"]: line for line in text.splitlines()}
                stale = [key for key in fresh if key not in shipped] or ["(file differs)"]
                print(f"{path} is stale: {', '.join(stale)}", file=sys.stderr)
                status = 1
            else:
                print(f"{path}: up to date")
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path} ({len(text.splitlines())} problems, {len(text) // 1024} KiB)")
    return status


if __name__ == "__main__":
    raise SystemExit(main())

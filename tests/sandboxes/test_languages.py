"""Language configs: the YAML loader, and every builtin language compiled and run in the local sandbox.

Each language gets the same five programs: one that adds two integers from stdin (accepted), one that
prints the difference (wrong answer), a syntax error (compiled languages only), one that crashes and
one that never stops. A missing toolchain skips here and fails in CI (``$CI`` set), where
``scripts/install_toolchains`` has installed them all.
"""

from __future__ import annotations

import functools
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from rich.console import Console

from rlvr.sandboxes import make_sandbox
from rlvr.sandboxes.base import ExecResult, Limits, Sandbox, SandboxUnavailable
from rlvr.sandboxes.languages import (
    DEFAULT_DOCKER_IMAGE,
    PATH_ENV_VAR,
    Language,
    LanguageConfigError,
    UnknownLanguage,
    builtin_languages,
    find_language,
    language_table,
    load_language,
    print_languages,
    probe,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
CI_LANGUAGES = {
    "bash", "c", "cpp", "fortran", "go", "haskell", "java", "javascript", "lua", "ocaml", "perl", "php",
    "python", "r", "racket", "ruby", "rust",
}  # fmt: skip
"""Installed by scripts/install_toolchains; the rest (julia) run only where installed."""
STDIN = "19 23\n"
SUM = "42"
DIFFERENCE = "-4"
TIME_LIMIT_S = 1.5


@dataclass(frozen=True)
class Programs:
    accepted: str
    """Reads two integers and prints their sum."""
    wrong_answer: str
    """Reads two integers and prints their difference."""
    runtime_error: str
    time_limit: str
    compile_error: str | None = None
    """A syntax error; ``None`` for interpreted languages."""


PROGRAMS: dict[str, Programs] = {
    "python": Programs(
        accepted="import sys\na, b = map(int, sys.stdin.read().split())\nprint(a + b)\n",
        wrong_answer="import sys\na, b = map(int, sys.stdin.read().split())\nprint(a - b)\n",
        runtime_error="print(1 // 0)\n",
        time_limit="while True:\n    pass\n",
    ),
    "javascript": Programs(
        accepted=(
            "const [a, b] = require('fs').readFileSync(0, 'utf8').trim().split(/\\s+/).map(Number);\n"
            "console.log(a + b);\n"
        ),
        wrong_answer=(
            "const [a, b] = require('fs').readFileSync(0, 'utf8').trim().split(/\\s+/).map(Number);\n"
            "console.log(a - b);\n"
        ),
        runtime_error="throw new Error('boom');\n",
        time_limit="while (true) {}\n",
    ),
    "c": Programs(
        accepted=(
            "#include <stdio.h>\n"
            "int main(void) {\n"
            "    long a, b;\n"
            '    if (scanf("%ld %ld", &a, &b) != 2) return 1;\n'
            '    printf("%ld\\n", a + b);\n'
            "    return 0;\n"
            "}\n"
        ),
        wrong_answer=(
            "#include <stdio.h>\n"
            "int main(void) {\n"
            "    long a, b;\n"
            '    if (scanf("%ld %ld", &a, &b) != 2) return 1;\n'
            '    printf("%ld\\n", a - b);\n'
            "    return 0;\n"
            "}\n"
        ),
        compile_error="int main(void) { return 0 }\n",
        runtime_error=(
            "#include <stdio.h>\n"
            "int main(void) {\n"
            "    int *volatile nowhere = NULL;\n"
            '    printf("%d\\n", *nowhere);\n'
            "    return 0;\n"
            "}\n"
        ),
        time_limit="int main(void) {\n    volatile unsigned long n = 0;\n    for (;;) n++;\n}\n",
    ),
    "cpp": Programs(
        accepted=(
            "#include <iostream>\n"
            "int main() {\n"
            "    long long a, b;\n"
            "    std::cin >> a >> b;\n"
            "    std::cout << a + b << '\\n';\n"
            "}\n"
        ),
        wrong_answer=(
            "#include <iostream>\n"
            "int main() {\n"
            "    long long a, b;\n"
            "    std::cin >> a >> b;\n"
            "    std::cout << a - b << '\\n';\n"
            "}\n"
        ),
        compile_error="#include <iostream>\nint main() { std::cout << 1 << '\\n' }\n",
        runtime_error='#include <stdexcept>\nint main() { throw std::runtime_error("boom"); }\n',
        time_limit="int main() {\n    volatile unsigned long n = 0;\n    for (;;) n++;\n}\n",
    ),
    "java": Programs(
        accepted=(
            "import java.util.Scanner;\n\n"
            "public class Main {\n"
            "    public static void main(String[] args) {\n"
            "        Scanner in = new Scanner(System.in);\n"
            "        long a = in.nextLong(), b = in.nextLong();\n"
            "        System.out.println(a + b);\n"
            "    }\n"
            "}\n"
        ),
        wrong_answer=(
            "import java.util.Scanner;\n\n"
            "public class Main {\n"
            "    public static void main(String[] args) {\n"
            "        Scanner in = new Scanner(System.in);\n"
            "        long a = in.nextLong(), b = in.nextLong();\n"
            "        System.out.println(a - b);\n"
            "    }\n"
            "}\n"
        ),
        compile_error="public class Main {\n    public static void main(String[] args) { int x = }\n}\n",
        runtime_error=(
            "public class Main {\n"
            "    public static void main(String[] args) {\n"
            "        int[] values = new int[1];\n"
            "        System.out.println(values[2]);\n"
            "    }\n"
            "}\n"
        ),
        time_limit=(
            "public class Main {\n"
            "    public static void main(String[] args) {\n"
            "        while (true) {}\n"
            "    }\n"
            "}\n"
        ),
    ),
    "go": Programs(
        accepted=(
            'package main\n\nimport "fmt"\n\n'
            "func main() {\n\tvar a, b int64\n\tfmt.Scan(&a, &b)\n\tfmt.Println(a + b)\n}\n"
        ),
        wrong_answer=(
            'package main\n\nimport "fmt"\n\n'
            "func main() {\n\tvar a, b int64\n\tfmt.Scan(&a, &b)\n\tfmt.Println(a - b)\n}\n"
        ),
        compile_error="package main\n\nfunc main() {\n\tx :=\n}\n",
        runtime_error='package main\n\nfunc main() {\n\tpanic("boom")\n}\n',
        time_limit="package main\n\nfunc main() {\n\tfor {\n\t}\n}\n",
    ),
    "rust": Programs(
        accepted=(
            "use std::io::Read;\n\n"
            "fn main() {\n"
            "    let mut input = String::new();\n"
            "    std::io::stdin().read_to_string(&mut input).unwrap();\n"
            "    let v: Vec<i64> = input.split_whitespace().map(|x| x.parse().unwrap()).collect();\n"
            '    println!("{}", v[0] + v[1]);\n'
            "}\n"
        ),
        wrong_answer=(
            "use std::io::Read;\n\n"
            "fn main() {\n"
            "    let mut input = String::new();\n"
            "    std::io::stdin().read_to_string(&mut input).unwrap();\n"
            "    let v: Vec<i64> = input.split_whitespace().map(|x| x.parse().unwrap()).collect();\n"
            '    println!("{}", v[0] - v[1]);\n'
            "}\n"
        ),
        compile_error="fn main() {\n    let x = ;\n}\n",
        runtime_error='fn main() {\n    panic!("boom");\n}\n',
        time_limit="fn main() {\n    loop {}\n}\n",
    ),
    "ruby": Programs(
        accepted="a, b = STDIN.read.split.map(&:to_i)\nputs a + b\n",
        wrong_answer="a, b = STDIN.read.split.map(&:to_i)\nputs a - b\n",
        runtime_error="raise 'boom'\n",
        time_limit="loop {}\n",
    ),
    "php": Programs(
        accepted='<?php\nfscanf(STDIN, "%d %d", $a, $b);\necho $a + $b, "\\n";\n',
        wrong_answer='<?php\nfscanf(STDIN, "%d %d", $a, $b);\necho $a - $b, "\\n";\n',
        runtime_error="<?php\nthrow new Exception('boom');\n",
        time_limit="<?php\nwhile (true) {}\n",
    ),
    "perl": Programs(
        accepted="my ($a, $b) = split ' ', <STDIN>;\nprint $a + $b, \"\\n\";\n",
        wrong_answer="my ($a, $b) = split ' ', <STDIN>;\nprint $a - $b, \"\\n\";\n",
        runtime_error='die "boom\\n";\n',
        time_limit="1 while 1;\n",
    ),
    "bash": Programs(
        accepted="read -r a b\necho $((a + b))\n",
        wrong_answer="read -r a b\necho $((a - b))\n",
        runtime_error="echo boom >&2\nexit 3\n",
        time_limit="while :; do :; done\n",
    ),
    "lua": Programs(
        accepted="local a, b = io.read('n', 'n')\nprint(a + b)\n",
        wrong_answer="local a, b = io.read('n', 'n')\nprint(a - b)\n",
        runtime_error="error('boom')\n",
        time_limit="while true do end\n",
    ),
    "ocaml": Programs(
        accepted='let () = Scanf.scanf " %d %d" (fun a b -> Printf.printf "%d\\n" (a + b))\n',
        wrong_answer='let () = Scanf.scanf " %d %d" (fun a b -> Printf.printf "%d\\n" (a - b))\n',
        compile_error="let () = print_int (1 +)\n",
        runtime_error='let () = failwith "boom"\n',
        time_limit="let rec loop n = loop (n + 1)\nlet () = loop 0\n",
    ),
    "fortran": Programs(
        accepted=(
            "program main\n  implicit none\n  integer :: a, b\n  read (*, *) a, b\n"
            "  write (*, '(I0)') a + b\nend program main\n"
        ),
        wrong_answer=(
            "program main\n  implicit none\n  integer :: a, b\n  read (*, *) a, b\n"
            "  write (*, '(I0)') a - b\nend program main\n"
        ),
        compile_error="program main\n  integer :: a\n  a = \nend program main\n",
        runtime_error="program main\n  error stop 3\nend program main\n",
        time_limit="program main\n  do\n  end do\nend program main\n",
    ),
    "r": Programs(
        accepted='x <- scan(file("stdin"), quiet = TRUE)\ncat(x[1] + x[2], "\\n", sep = "")\n',
        wrong_answer='x <- scan(file("stdin"), quiet = TRUE)\ncat(x[1] - x[2], "\\n", sep = "")\n',
        runtime_error='stop("boom")\n',
        time_limit="repeat {}\n",
    ),
    "haskell": Programs(
        accepted=(
            "main :: IO ()\nmain = do\n"
            "  [a, b] <- map read . words <$> getContents\n  print (a + b :: Integer)\n"
        ),
        wrong_answer=(
            "main :: IO ()\nmain = do\n"
            "  [a, b] <- map read . words <$> getContents\n  print (a - b :: Integer)\n"
        ),
        compile_error="main :: IO ()\nmain = print (\n",
        runtime_error='main :: IO ()\nmain = error "boom"\n',
        time_limit=(
            "loop :: Int -> Int\nloop n = n `seq` loop (n + 1)\n\nmain :: IO ()\nmain = print (loop 0)\n"
        ),
    ),
    "racket": Programs(
        accepted="#lang racket/base\n(define a (read))\n(define b (read))\n(displayln (+ a b))\n",
        wrong_answer="#lang racket/base\n(define a (read))\n(define b (read))\n(displayln (- a b))\n",
        compile_error="#lang racket/base\n(displayln (+ 1 2)\n",
        runtime_error='#lang racket/base\n(error \'main "boom")\n',
        time_limit="#lang racket/base\n(let loop () (loop))\n",
    ),
    "julia": Programs(
        accepted="a, b = parse.(Int, split(read(stdin, String)))\nprintln(a + b)\n",
        wrong_answer="a, b = parse.(Int, split(read(stdin, String)))\nprintln(a - b)\n",
        runtime_error='error("boom")\n',
        time_limit="while true end\n",
    ),
}


# -- running programs ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    try:
        return make_sandbox("local")
    except SandboxUnavailable as error:
        if os.environ.get("CI"):
            pytest.fail(f"local sandbox unavailable in CI: {error}")
        pytest.skip(f"local sandbox unavailable: {error}")


@functools.cache
def _probe_in(sandbox: Sandbox, name: str) -> tuple[bool, str]:
    result = probe(builtin_languages()[name], sandbox)
    return result.installed, result.version


def require_toolchain(sandbox: Sandbox, name: str) -> Language:
    """The language, after making sure its toolchain runs in the sandbox (skip, or fail in CI)."""
    installed, detail = _probe_in(sandbox, name)
    if not installed:
        reason = f"{name} toolchain not installed (scripts/install_toolchains): {detail}"
        if os.environ.get("CI") and name in CI_LANGUAGES:
            pytest.fail(reason)
        pytest.skip(reason)
    return builtin_languages()[name]


@dataclass(frozen=True)
class Outcome:
    compiled: ExecResult | None
    """The compile step's result; ``None`` for interpreted languages."""
    ran: ExecResult | None
    """The program's result; ``None`` when compiling failed."""


def compile_and_run(sandbox: Sandbox, language: Language, source: str, timeout_s: float = 10.0) -> Outcome:
    """What the judge does, for one test: compile (if needed) then execute, in one workspace."""
    limits = Limits(timeout_s=timeout_s)
    with sandbox.open_workspace(language.source_files(source)) as workspace:
        compiled = None
        if language.compile_command is not None:
            compiled = workspace.run(language.compile_command, limits=language.compile_limits(limits))
            if not compiled.ok:
                return Outcome(compiled, None)
        ran = workspace.run(language.execute_command, stdin=STDIN, limits=language.run_limits(limits))
        return Outcome(compiled, ran)


def _describe(result: ExecResult | None) -> str:
    if result is None:
        return "not run"
    return (
        f"exit={result.exit_code} signal={result.signal} timed_out={result.timed_out} "
        f"memory_exceeded={result.memory_exceeded}\nstdout={result.stdout[-2000:]!r}\n"
        f"stderr={result.stderr[-2000:]!r}"
    )


def _assert_compiled(outcome: Outcome, language: Language) -> ExecResult:
    if language.compiled:
        assert outcome.compiled is not None and outcome.compiled.ok, _describe(outcome.compiled)
    assert outcome.ran is not None, _describe(outcome.compiled)
    return outcome.ran


LANGUAGE_NAMES = sorted(PROGRAMS)


@pytest.mark.parametrize("name", LANGUAGE_NAMES)
def test_sum_program_is_accepted(sandbox: Sandbox, name: str) -> None:
    language = require_toolchain(sandbox, name)
    ran = _assert_compiled(compile_and_run(sandbox, language, PROGRAMS[name].accepted), language)
    assert ran.ok, _describe(ran)
    assert ran.stdout.rstrip() == SUM, _describe(ran)


@pytest.mark.parametrize("name", LANGUAGE_NAMES)
def test_difference_program_runs_but_gives_a_wrong_answer(sandbox: Sandbox, name: str) -> None:
    language = require_toolchain(sandbox, name)
    ran = _assert_compiled(compile_and_run(sandbox, language, PROGRAMS[name].wrong_answer), language)
    assert ran.ok, _describe(ran)
    assert ran.stdout.rstrip() == DIFFERENCE, _describe(ran)


@pytest.mark.parametrize("name", [name for name in LANGUAGE_NAMES if PROGRAMS[name].compile_error])
def test_syntax_error_fails_the_compile_step_with_a_message(sandbox: Sandbox, name: str) -> None:
    language = require_toolchain(sandbox, name)
    source = PROGRAMS[name].compile_error
    assert source is not None
    outcome = compile_and_run(sandbox, language, source)
    assert outcome.compiled is not None and outcome.ran is None, _describe(outcome.ran)
    assert outcome.compiled.exit_code not in (0, None), _describe(outcome.compiled)
    assert not outcome.compiled.timed_out, _describe(outcome.compiled)
    # The message points into the program, so the step failed on the syntax, not on the toolchain.
    assert language.source_filename in outcome.compiled.stderr, _describe(outcome.compiled)


@pytest.mark.parametrize("name", LANGUAGE_NAMES)
def test_crashing_program_is_a_runtime_error(sandbox: Sandbox, name: str) -> None:
    language = require_toolchain(sandbox, name)
    ran = _assert_compiled(compile_and_run(sandbox, language, PROGRAMS[name].runtime_error), language)
    assert ran.exit_code != 0, _describe(ran)
    assert not ran.timed_out and not ran.memory_exceeded, _describe(ran)


@pytest.mark.parametrize("name", LANGUAGE_NAMES)
def test_endless_loop_hits_the_time_limit(sandbox: Sandbox, name: str) -> None:
    language = require_toolchain(sandbox, name)
    outcome = compile_and_run(sandbox, language, PROGRAMS[name].time_limit, timeout_s=TIME_LIMIT_S)
    ran = _assert_compiled(outcome, language)
    assert ran.timed_out, _describe(ran)
    assert ran.wall_time_s < TIME_LIMIT_S + 5, _describe(ran)


# -- the YAML files --------------------------------------------------------------------------------


def test_every_builtin_language_loads_with_a_hint_and_a_probe() -> None:
    languages = builtin_languages()
    assert set(languages) == CI_LANGUAGES | {"julia"}
    for name, language in languages.items():
        assert language.path == REPO_ROOT / "rlvr" / "sandboxes" / "languages" / f"{name}.yaml"
        assert language.prompt_hint and language.source_filename in language.prompt_hint
        assert language.version, name
        assert language.debian_packages or name == "julia", name


def test_every_builtin_language_has_test_programs() -> None:
    assert set(PROGRAMS) == set(builtin_languages())
    for name, language in builtin_languages().items():
        assert (PROGRAMS[name].compile_error is not None) == language.compiled, name


def test_install_script_reads_the_same_packages_as_the_loader() -> None:
    listed = subprocess.run(
        [str(REPO_ROOT / "scripts" / "install_toolchains"), "--list"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    expected = {package for language in builtin_languages().values() for package in language.debian_packages}
    assert sorted(listed) == sorted(expected)


def test_commands_export_the_language_environment_first() -> None:
    go = find_language("go")
    assert go.compile_command is not None
    assert go.compile_command.startswith('export GOCACHE="$PWD/.gocache" ')
    assert go.compile_command.endswith("; go build -o main main.go")
    assert go.execute_command.endswith("; ./main")
    assert find_language("python").execute_command == "python3 main.py"


def test_run_limits_raise_memory_for_runtimes_but_never_lower_it() -> None:
    java = find_language("java")
    assert java.memory_mb is not None
    assert java.run_limits(Limits(memory_mb=256)).memory_mb == java.memory_mb
    assert java.run_limits(Limits(memory_mb=8192)).memory_mb == 8192
    assert find_language("c").run_limits(Limits(memory_mb=256)) == Limits(memory_mb=256)
    compile_limits = find_language("rust").compile_limits(Limits(timeout_s=2))
    assert compile_limits.timeout_s == 60 and compile_limits.memory_mb >= 2048


def test_docker_install_defaults_to_apt_get_of_the_debian_packages() -> None:
    ocaml = find_language("ocaml")
    assert ocaml.docker_image == DEFAULT_DOCKER_IMAGE
    assert "apt-get install" in ocaml.docker_install[0] and "ocaml-nox" in ocaml.docker_install[0]
    julia = find_language("julia")
    assert julia.docker_image.startswith("julia:") and julia.docker_install == ()


@pytest.mark.parametrize(
    ("alias", "name"), [("js", "javascript"), ("C++", "cpp"), ("py", "python"), ("golang", "go")]
)
def test_find_language_accepts_dataset_aliases(alias: str, name: str) -> None:
    assert find_language(alias).name == name


def test_unknown_language_names_the_known_ones() -> None:
    with pytest.raises(UnknownLanguage, match=r"did you mean 'python'.*Known: bash, c, cpp"):
        find_language("pyhton")


def _write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


MINIMAL = "filename: main.bf\nexecute: bf main.bf\n"


def test_minimal_file_takes_its_name_from_the_file(tmp_path: Path) -> None:
    language = load_language(_write(tmp_path, "brainfuck.yaml", MINIMAL))
    assert (language.name, language.display_name, language.compiled) == ("brainfuck", "brainfuck", False)
    assert language.source_files("+.") == {"main.bf": "+."}


def test_broken_yaml_names_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "broken.yaml", "filename: [main.x\nexecute: ./x\n")
    with pytest.raises(LanguageConfigError, match=rf"^{path}: not valid YAML"):
        load_language(path)


def test_missing_execute_names_the_file_and_field(tmp_path: Path) -> None:
    path = _write(tmp_path, "noexec.yaml", "filename: main.x\ncompile: cc main.x\n")
    with pytest.raises(LanguageConfigError, match=rf"^{path}: field 'execute' is required"):
        load_language(path)


def test_unknown_key_names_the_field_and_suggests_the_known_one(tmp_path: Path) -> None:
    path = _write(tmp_path, "typo.yaml", "filename: main.x\nexcute: ./x\n")
    expected = rf"^{path}: field 'excute' is unknown \(did you mean 'execute'\?"
    with pytest.raises(LanguageConfigError, match=expected):
        load_language(path)


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ("memory_mb: -5\n", "memory_mb"),
        ("compile_timeout_s: soon\n", "compile_timeout_s"),
        ("debian_packages: gcc\n", "debian_packages"),
        ("env: [GOCACHE]\n", "env"),
        ("env:\n  1BAD: x\n", "env"),
        ("docker:\n  imgae: x\n", "docker.imgae"),
        ("name: Bad Name\n", "name"),
        ("filename: ../escape.x\n", "filename"),
    ],
)
def test_badly_typed_field_is_named(tmp_path: Path, extra: str, field: str) -> None:
    base = MINIMAL if not extra.startswith("filename") else "execute: ./x\n"
    path = _write(tmp_path, "bad.yaml", base + extra)
    with pytest.raises(LanguageConfigError, match=rf"^{path}: field '{field}'"):
        load_language(path)


def test_user_directory_adds_a_language_and_can_replace_a_builtin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path, "brainfuck.yaml", MINIMAL + "aliases: [bf]\n")
    _write(tmp_path, "python.yaml", "name: python\nfilename: main.py\nexecute: pypy3 main.py\n")
    monkeypatch.setenv(PATH_ENV_VAR, os.pathsep.join([str(tmp_path / "missing-is-checked"), str(tmp_path)]))
    with pytest.raises(LanguageConfigError, match="missing-is-checked"):
        find_language("bf")
    monkeypatch.setenv(PATH_ENV_VAR, str(tmp_path))
    assert find_language("bf").path == tmp_path / "brainfuck.yaml"
    assert find_language("python").execute == "pypy3 main.py"
    monkeypatch.delenv(PATH_ENV_VAR)
    assert find_language("python").execute == "python3 main.py"
    with pytest.raises(UnknownLanguage):
        find_language("brainfuck")


def test_probe_reports_a_missing_toolchain_with_the_reason(tmp_path: Path) -> None:
    missing = load_language(_write(tmp_path, "nothing.yaml", "filename: x\nexecute: rlvr-no-such-tool x\n"))
    result = probe(missing)
    assert not result.installed and "rlvr-no-such-tool" in result.version
    bash = probe(find_language("bash"))
    assert bash.installed and "bash" in bash.version.lower()


def test_language_table_lists_every_language_with_its_probe(tmp_path: Path) -> None:
    missing = load_language(_write(tmp_path, "nothing.yaml", "filename: x\nexecute: rlvr-no-such-tool x\n"))
    rows = language_table(languages=[find_language("bash"), missing])
    assert [(row.name, row.installed, row.source) for row in rows] == [
        ("bash", True, "builtin"),
        ("nothing", False, str(tmp_path / "nothing.yaml")),
    ]
    console = Console(record=True, width=200)
    printed = print_languages(console)
    text = console.export_text()
    assert {row.name for row in printed} == set(builtin_languages())
    for name in builtin_languages():
        assert name in text

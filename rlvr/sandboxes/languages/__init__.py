"""Programming languages as data: one YAML file per language says how to compile and run a program.

The code judge never special-cases a language: it writes the model's program to
``language.source_filename``, runs ``language.compile_command`` (if any) once in a workspace and then
``language.execute_command`` on every test, all through a ``Sandbox``. Adding a language is adding a
YAML file, either next to this module (builtin) or in a directory on ``$RLVR_LANGUAGES_PATH``
(``os.pathsep``-separated); a user file with the name of a builtin language replaces it.

YAML schema (see ``docs/adding_a_language.md`` for a worked example)::

    name: go                      # id; defaults to the file name without .yaml
    display_name: Go              # shown in tables and prompts; defaults to name
    aliases: [golang]             # other names find_language accepts (dataset language codes)
    filename: main.go             # REQUIRED: the program is written to this file
    compile: go build -o main main.go     # optional shell command; non-zero exit = compile error
    execute: ./main               # REQUIRED: shell command run once per test, stdin = test input
    version: go version           # probe: exits 0 and prints a version when the toolchain is
                                  #   installed (default: `command -v` of the first command word)
    env:                          # exported before compile, execute and version; values are expanded
      GOCACHE: $PWD/.gocache      #   by /bin/sh, so $PWD (the workspace) and $HOME work
    memory_mb: 256                # the memory limit of a run is raised to at least this (runtimes
                                  #   such as the JVM, Go or V8 reserve memory up front)
    compile_memory_mb: 2048       # the same for the compile step (default 2048)
    compile_timeout_s: 30         # wall-clock limit of the compile step (default 30)
    debian_packages: [golang-go]  # what scripts/install_toolchains installs (keep on one line)
    docker:                       # optional; default: debian:bookworm-slim + apt-get debian_packages
      image: golang:1.22-bookworm
      install: ["apt-get update && apt-get install -y --no-install-recommends ..."]
    prompt_hint: >-               # one paragraph telling a model how the program must do its I/O
      Write a complete Go program ...

Commands run with the workspace as working directory in a file system that is read-only everywhere
else, with ``HOME`` set to the workspace: compilers must keep their caches in ``$PWD``. Every
command runs through ``/bin/sh -c``.
"""

from __future__ import annotations

import difflib
import functools
import os
import re
import shlex
import subprocess
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import yaml

from rlvr.sandboxes.base import Limits

if TYPE_CHECKING:
    from rich.console import Console

    from rlvr.sandboxes.base import Sandbox

BUILTIN_DIR = Path(__file__).resolve().parent
PATH_ENV_VAR = "RLVR_LANGUAGES_PATH"
DEFAULT_DOCKER_IMAGE = "debian:bookworm-slim"
DEFAULT_COMPILE_TIMEOUT_S = 30.0
DEFAULT_COMPILE_MEMORY_MB = 2048
PROBE_TIMEOUT_S = 20.0
INSTALL_HINT = "scripts/install_toolchains"

_NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_+.-]*$")
_ENV_NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_REQUIRED_KEYS = ("filename", "execute")
_KNOWN_KEYS = (
    "name",
    "display_name",
    "aliases",
    "filename",
    "compile",
    "execute",
    "version",
    "env",
    "memory_mb",
    "compile_memory_mb",
    "compile_timeout_s",
    "debian_packages",
    "docker",
    "prompt_hint",
)
_DOCKER_KEYS = ("image", "install")


class LanguageConfigError(ValueError):
    """A language YAML file is broken; the message names the file and the field."""


class UnknownLanguage(LookupError):
    """``find_language`` got a name that no builtin or user YAML file defines."""


@dataclass(frozen=True)
class Language:
    """How to compile and run a program in one language. Build with ``load_language``."""

    name: str
    display_name: str
    source_filename: str
    """The program is written to this path in the workspace (``Main.java``, ``main.rs``)."""
    execute: str
    """Raw ``execute`` from the YAML; ``execute_command`` adds the environment."""
    compile: str | None = None
    version: str | None = None
    aliases: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict, hash=False)
    memory_mb: int | None = None
    compile_memory_mb: int = DEFAULT_COMPILE_MEMORY_MB
    compile_timeout_s: float = DEFAULT_COMPILE_TIMEOUT_S
    debian_packages: tuple[str, ...] = ()
    docker_image: str = DEFAULT_DOCKER_IMAGE
    docker_install: tuple[str, ...] = ()
    """Shell lines run when building a Docker image (``RUN`` lines); defaults to apt-get."""
    prompt_hint: str = ""
    path: Path | None = field(default=None, compare=False)
    """The YAML file this came from."""

    @property
    def compiled(self) -> bool:
        return self.compile is not None

    @property
    def builtin(self) -> bool:
        return self.path is not None and self.path.parent == BUILTIN_DIR

    @property
    def compile_command(self) -> str | None:
        """The shell command that compiles ``source_filename``, or ``None`` for interpreted languages."""
        return None if self.compile is None else self._with_env(self.compile)

    @property
    def execute_command(self) -> str:
        """The shell command that runs the program (after ``compile_command`` succeeded)."""
        return self._with_env(self.execute)

    @property
    def version_command(self) -> str:
        """Exits 0 and prints a version when the toolchain is installed.

        Without a ``version`` field: asks the shell whether the program that the compile step (or
        else the execute step) starts exists.
        """
        if self.version is not None:
            return self._with_env(self.version)
        words = shlex.split(self.compile or self.execute)
        return f"command -v {shlex.quote(words[0])}" if words else "false"

    def source_files(self, source: str | bytes) -> dict[str, str | bytes]:
        """The ``files`` argument of ``Sandbox.open_workspace`` for a program."""
        return {self.source_filename: source}

    def compile_limits(self, limits: Limits) -> Limits:
        """``limits`` with this language's compile timeout and at least its compile memory."""
        return limits.with_overrides(
            timeout_s=self.compile_timeout_s,
            cpu_time_s=self.compile_timeout_s,
            memory_mb=max(limits.memory_mb, self.compile_memory_mb),
        )

    def run_limits(self, limits: Limits) -> Limits:
        """``limits`` with the memory raised to at least ``memory_mb`` (a runtime's reservations)."""
        if self.memory_mb is None or limits.memory_mb >= self.memory_mb:
            return limits
        return limits.with_overrides(memory_mb=self.memory_mb)

    def _with_env(self, command: str) -> str:
        if not self.env:
            return command
        # Double quotes keep spaces inside a value but let the shell expand $PWD and $HOME.
        assignments = " ".join(f'{name}="{_escape_double_quoted(value)}"' for name, value in self.env.items())
        return f"export {assignments}; {command}"


def _escape_double_quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`")


# -- loading ---------------------------------------------------------------------------------------


def load_language(path: str | os.PathLike[str]) -> Language:
    """Read and validate one YAML file; ``LanguageConfigError`` names the file and the bad field."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise LanguageConfigError(f"{path}: cannot read language file: {error}") from error
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise LanguageConfigError(f"{path}: not valid YAML: {error}") from error
    if not isinstance(data, dict):
        raise LanguageConfigError(f"{path}: expected a mapping of fields, got {type(data).__name__}")
    return _language_from_mapping(data, path)


def _language_from_mapping(data: Mapping[str, Any], path: Path) -> Language:
    def fail(key: str, problem: str) -> LanguageConfigError:
        return LanguageConfigError(f"{path}: field {key!r} {problem}")

    unknown = [key for key in data if key not in _KNOWN_KEYS]
    if unknown:
        key = str(unknown[0])
        close = difflib.get_close_matches(key, _KNOWN_KEYS, n=1)
        suggestion = f"did you mean {close[0]!r}? " if close else ""
        raise fail(key, f"is unknown ({suggestion}known fields: {', '.join(_KNOWN_KEYS)})")
    for key in _REQUIRED_KEYS:
        if data.get(key) is None:
            raise fail(key, "is required")

    def text(key: str) -> str | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise fail(key, f"must be a non-empty string, got {value!r}")
        return value.strip()

    def required_text(key: str) -> str:
        value = text(key)
        if value is None:
            raise fail(key, "is required")
        return value

    def text_list(key: str, container: Mapping[str, Any] = data, label: str | None = None) -> tuple[str, ...]:
        value = container.get(key) or []
        if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
            raise fail(label or key, f"must be a list of non-empty strings, got {value!r}")
        return tuple(item.strip() for item in value)

    def positive(key: str, kind: type[int] | type[float]) -> Any:
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise fail(key, f"must be a positive number, got {value!r}")
        if kind is int and value != int(value):
            raise fail(key, f"must be a whole number, got {value!r}")
        return kind(value)

    name = text("name") or path.stem.lower()
    if not _NAME_PATTERN.match(name):
        raise fail("name", f"must be lower-case letters, digits and _+.- (got {name!r})")
    filename = required_text("filename")
    if filename.startswith("/") or ".." in Path(filename).parts:
        raise fail("filename", f"must be a relative path inside the workspace, got {filename!r}")

    raw_env = data.get("env") or {}
    if not isinstance(raw_env, dict):
        raise fail("env", f"must be a mapping of variable names to values, got {raw_env!r}")
    env: dict[str, str] = {}
    for variable, value in raw_env.items():
        if not isinstance(variable, str) or not _ENV_NAME_PATTERN.match(variable):
            raise fail("env", f"has an invalid variable name {variable!r}")
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise fail("env", f"value of {variable} must be a string, got {value!r}")
        env[variable] = str(value)

    packages = text_list("debian_packages")
    docker = data.get("docker") or {}
    if not isinstance(docker, dict):
        raise fail("docker", f"must be a mapping with {' and '.join(_DOCKER_KEYS)}, got {docker!r}")
    for key in docker:
        if key not in _DOCKER_KEYS:
            raise fail(f"docker.{key}", f"is unknown (known fields: {', '.join(_DOCKER_KEYS)})")
    image = docker.get("image", DEFAULT_DOCKER_IMAGE)
    if not isinstance(image, str) or not image.strip():
        raise fail("docker.image", f"must be a non-empty string, got {image!r}")
    install = text_list("install", docker, label="docker.install")
    if "install" not in docker and packages:
        install = (
            "apt-get update && apt-get install -y --no-install-recommends "
            + " ".join(shlex.quote(package) for package in packages)
            + " && rm -rf /var/lib/apt/lists/*",
        )

    return Language(
        name=name,
        display_name=text("display_name") or name,
        source_filename=filename,
        execute=required_text("execute"),
        compile=text("compile"),
        version=text("version"),
        aliases=tuple(alias.lower() for alias in text_list("aliases")),
        env=MappingProxyType(env),
        memory_mb=positive("memory_mb", int),
        compile_memory_mb=positive("compile_memory_mb", int) or DEFAULT_COMPILE_MEMORY_MB,
        compile_timeout_s=positive("compile_timeout_s", float) or DEFAULT_COMPILE_TIMEOUT_S,
        debian_packages=packages,
        docker_image=image.strip(),
        docker_install=install,
        prompt_hint=" ".join((text("prompt_hint") or "").split()),
        path=path,
    )


def _load_directory(directory: Path) -> dict[str, Language]:
    languages = {}
    for path in sorted(directory.glob("*.yaml")) + sorted(directory.glob("*.yml")):
        language = load_language(path)
        if language.name in languages:
            first = languages[language.name].path
            raise LanguageConfigError(f"{path}: field 'name' {language.name!r} is already defined by {first}")
        languages[language.name] = language
    return languages


@functools.lru_cache(maxsize=1)
def builtin_languages() -> Mapping[str, Language]:
    """The languages shipped with rlvr, by name."""
    return MappingProxyType(_load_directory(BUILTIN_DIR))


def user_language_dirs() -> list[Path]:
    """The directories on ``$RLVR_LANGUAGES_PATH``, in order (later ones win on a name clash)."""
    value = os.environ.get(PATH_ENV_VAR, "")
    return [Path(entry).expanduser() for entry in value.split(os.pathsep) if entry]


def all_languages() -> Mapping[str, Language]:
    """Builtin languages plus those in ``$RLVR_LANGUAGES_PATH``; user files replace builtins.

    Each directory is read once per process (and per value of the variable).
    """
    return _all_languages(tuple(user_language_dirs()))


@functools.lru_cache(maxsize=8)
def _all_languages(user_dirs: tuple[Path, ...]) -> Mapping[str, Language]:
    languages = dict(builtin_languages())
    for directory in user_dirs:
        if not directory.is_dir():
            raise LanguageConfigError(f"{directory}: listed in ${PATH_ENV_VAR} but is not a directory")
        languages.update(_load_directory(directory))
    return MappingProxyType(languages)


def find_language(name: str) -> Language:
    """The language called ``name`` or with ``name`` among its aliases (case-insensitive)."""
    languages = all_languages()
    key = name.strip().lower()
    if key in languages:
        return languages[key]
    for language in languages.values():
        if key in language.aliases:
            return language
    close = difflib.get_close_matches(key, list(languages), n=1)
    suggestion = f"; did you mean {close[0]!r}?" if close else ""
    raise UnknownLanguage(
        f"unknown language {name!r}{suggestion} Known: {', '.join(sorted(languages))}. "
        f"Add one with a YAML file in a directory on ${PATH_ENV_VAR}."
    )


# -- probing ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    """Whether a language's toolchain is installed, and the first line of its version output."""

    language: str
    installed: bool
    version: str
    """The version line, or why the probe failed."""


def probe(language: Language, sandbox: Sandbox | None = None, timeout_s: float = PROBE_TIMEOUT_S) -> Probe:
    """Run ``language.version_command`` on this host, or inside ``sandbox`` when one is given."""
    command = language.version_command
    if sandbox is None:
        try:
            completed = subprocess.run(
                ["/bin/sh", "-c", command], capture_output=True, timeout=timeout_s, check=False
            )
        except subprocess.TimeoutExpired:
            return Probe(language.name, False, f"`{command}` timed out after {timeout_s:g} s")
        exit_code: int | None = completed.returncode
        stdout = completed.stdout.decode(errors="replace")
        stderr = completed.stderr.decode(errors="replace")
    else:
        base = sandbox.default_limits.with_overrides(timeout_s=timeout_s, cpu_time_s=timeout_s)
        limits = language.compile_limits(base) if language.compiled else language.run_limits(base)
        limits = limits.with_overrides(timeout_s=timeout_s, cpu_time_s=timeout_s)
        result = sandbox.run(command, limits=limits)
        if result.timed_out:
            return Probe(language.name, False, f"`{command}` timed out after {timeout_s:g} s")
        exit_code, stdout, stderr = result.exit_code, result.stdout, result.stderr
    first_line = next((line.strip() for line in (stdout + "\n" + stderr).splitlines() if line.strip()), "")
    if exit_code != 0:
        return Probe(language.name, False, f"`{command}` failed (exit {exit_code}): {first_line}".strip())
    return Probe(language.name, True, first_line)


# -- the `rlvr languages` table -----------------------------------------------------------------


@dataclass(frozen=True)
class LanguageRow:
    """One line of ``rlvr languages``."""

    name: str
    display_name: str
    compiled: bool
    installed: bool
    version: str
    source: str
    """``builtin`` or the path of the user's YAML file."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "display_name": self.display_name,
            "compiled": self.compiled,
            "installed": self.installed,
            "version": self.version,
            "source": self.source,
        }


def language_table(
    sandbox: Sandbox | None = None, languages: Iterable[Language] | None = None
) -> list[LanguageRow]:
    """Probe every language (in parallel: some runtimes take a second to start), sorted by name."""
    chosen = sorted(all_languages().values() if languages is None else languages, key=lambda lang: lang.name)
    with ThreadPoolExecutor(max_workers=8) as pool:
        probes = list(pool.map(lambda language: probe(language, sandbox), chosen))
    return [
        LanguageRow(
            name=language.name,
            display_name=language.display_name,
            compiled=language.compiled,
            installed=result.installed,
            version=result.version,
            source="builtin" if language.builtin else str(language.path),
        )
        for language, result in zip(chosen, probes, strict=True)
    ]


def print_languages(console: Console, sandbox: Sandbox | None = None) -> list[LanguageRow]:
    """Print the table for ``rlvr languages``; returns the rows (for ``--json`` or an exit status)."""
    from rich.table import Table
    from rich.text import Text

    rows = language_table(sandbox)
    table = Table(title="rlvr languages")
    table.add_column("name", no_wrap=True)
    table.add_column("language", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("installed", no_wrap=True)
    table.add_column("version / problem", overflow="fold", ratio=1)
    table.add_column("source", overflow="fold")
    for row in rows:
        table.add_row(
            row.name,
            row.display_name,
            "compiled" if row.compiled else "interpreted",
            "[green]yes[/green]" if row.installed else "[red]no[/red]",
            Text(row.version),
            Text(row.source),
            style=None if row.installed else "dim",
        )
    console.print(table)
    missing = [row.name for row in rows if not row.installed]
    if missing:
        console.print(
            f"Not installed: {', '.join(missing)}. Install the Debian toolchains with {INSTALL_HINT} "
            f"(as root); add languages with YAML files in ${PATH_ENV_VAR}."
        )
    return rows

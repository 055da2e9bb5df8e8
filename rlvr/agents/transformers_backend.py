"""A ``Policy`` on a Hugging Face transformers model, in process, on CPU or one GPU.

This is the backend that needs nothing but pip: the embedded SmolLM2 runs on a laptop CPU, and any
hub or local chat model runs the same way. Because the learner trains this very ``nn.Module``, the
policy returns what RL needs and not only text: the exact token ids the model produced and their
log-probabilities, and it takes new weights in place (``load_weights``).

Decisions the rest of the code relies on:

* **Loading is eager.** The constructor loads tokenizer and model, so a missing package, model or
  chat template fails where the model was named (``PolicyUnavailable``), and ``.model`` /
  ``.tokenizer`` are ready for a learner at once. With ``HF_HUB_OFFLINE`` (or
  ``TRANSFORMERS_OFFLINE``) set, only local files are read. The embedded GGUF takes about 20 s to
  load on two CPU cores (transformers parses and de-quantizes it); a saved transformers directory of
  the same weights loads in about 4 s.
* **Prompts.** Each message must be ``{"role": str, "content": str}``; the tokenizer's chat template
  (with the generation prompt) makes the prompt. A conversation that is malformed or that the
  template rejects is a ``PolicyError`` naming its index, raised before anything is generated.
* **Token ids.** ``prompt_token_ids`` is the chat-templated prompt without padding.
  ``completion_token_ids`` is every token the model sampled, **including the EOS token** when it
  ended its reply (the learner must score the decision to stop), and nothing after it.
* **Stop strings.** The reply ends at the first token after which the decoded completion contains a
  stop string: ``completion_token_ids`` (and logprobs) run through that token, so they include the
  stop string's tokens and possibly a few characters past it within the same token, while ``text``
  is cut just before the stop string. This matches vLLM, so both backends hand the learner the same
  thing. Then ``text`` is a prefix of ``decode(completion_token_ids)``; otherwise it equals
  ``decode(completion_token_ids, skip_special_tokens=True)``.
* **Logprobs** are ``log_softmax`` of the model's raw logits at each step, before temperature and
  top-p: the distribution the model itself defines, which is what a learner computing
  ``log pi(a|s)`` at temperature 1 gets from a forward pass, so PPO/GRPO ratios start at 1. They are
  not the (tempered, truncated) sampling distribution; a learner that wants importance weights
  against that must apply the same temperature and top-p itself.
* **Sampling** is exactly ``SamplingParams``: ``temperature == 0`` is greedy; otherwise temperature
  and top-p only; the checkpoint's own sampling defaults (top-k, min-p, typical-p, repetition
  penalty...) are switched off.
* **Seeds.** With ``seed`` set, the same batch (same order, ``n``, ``max_batch_size``, device)
  gives the same completions. The global torch RNG is forked, so seeding never disturbs a caller's
  RNG state.
* **Threads.** One lock serializes ``generate``, ``load_weights`` and ``close`` (the runner calls
  ``agenerate`` from worker threads); concurrent callers queue rather than interleave. A learner
  that steps an optimizer on ``.model`` directly bypasses the lock, so it must do so between
  ``generate`` calls (or send weights through ``load_weights``).
"""

from __future__ import annotations

import contextlib
import gc
import os
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from rlvr.agents.base import Completion, Policy, PolicyError, PolicyUnavailable, SamplingParams
from rlvr.agents.embedded import EMBEDDED_MODEL, INSTALL_HINT, embedded_gguf
from rlvr.core.records import Message

try:
    import torch
    import transformers
    from packaging.version import Version
    from transformers import (
        AutoModelForCausalLM,
        AutoTokenizer,
        GenerationConfig,
        LogitsProcessor,
        LogitsProcessorList,
        StoppingCriteria,
        StoppingCriteriaList,
        TemperatureLogitsWarper,
        TopPLogitsWarper,
    )
except ImportError as error:  # pragma: no cover - exercised only where the extra is missing
    raise PolicyUnavailable(
        f"the transformers backend needs torch and transformers ({error}); {INSTALL_HINT}"
    ) from error

_DTYPE_ARGUMENT = "dtype" if Version(transformers.__version__) >= Version("4.56") else "torch_dtype"
"""``from_pretrained`` renamed ``torch_dtype`` to ``dtype`` in 4.56; 5.x warns on the old name."""
_OUT_OF_MEMORY = getattr(torch, "OutOfMemoryError", torch.cuda.OutOfMemoryError)

_NEUTRAL_GENERATION = {
    # The checkpoint's generation_config.json fills any knob we leave unset; these are the ones real
    # checkpoints set, pinned to "off" so sampling is exactly what SamplingParams says.
    "num_beams": 1,
    "num_return_sequences": 1,
    "repetition_penalty": 1.0,
    "encoder_repetition_penalty": 1.0,
    "no_repeat_ngram_size": 0,
    "typical_p": 1.0,
    "epsilon_cutoff": 0.0,
    "eta_cutoff": 0.0,
    "temperature": 1.0,
    "top_p": 1.0,
    "min_new_tokens": 0,
}
_DTYPES = {
    "float32": "float32",
    "fp32": "float32",
    "float16": "float16",
    "fp16": "float16",
    "half": "float16",
    "bfloat16": "bfloat16",
    "bf16": "bfloat16",
}


@contextlib.contextmanager
def _quiet_progress_bars() -> Iterator[None]:
    """transformers draws a progress bar per weight file; over the runner's own bar (and in logs)
    that is noise, so it is off while loading and restored after."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def _offline() -> bool:
    return any(
        os.environ.get(name, "").strip().upper() in {"1", "ON", "YES", "TRUE"}
        for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


class _RawLogprobs(LogitsProcessor):
    """Records the raw-logit logprob of each sampled token, then applies temperature and top-p.

    ``generate`` runs its own processors before custom ones, so to see untempered logits we keep its
    warpers off and warp here, after taking ``log_softmax``. Only one step's distribution is held at
    a time (``output_logits`` would keep batch x steps x vocab floats alive). The sampled token is
    known only after this runs; ``_RecordChosen``, a stopping criterion, picks its logprob then.
    """

    def __init__(self, temperature: float, top_p: float) -> None:
        self.warpers = LogitsProcessorList()
        if temperature > 0 and temperature != 1.0:
            self.warpers.append(TemperatureLogitsWarper(temperature))
        if top_p < 1.0:
            self.warpers.append(TopPLogitsWarper(top_p))
        self.step_logprobs: torch.Tensor | None = None
        self.chosen: list[torch.Tensor] = []

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        self.step_logprobs = torch.log_softmax(scores.float(), dim=-1)
        return self.warpers(input_ids, scores) if self.warpers else scores

    def record(self, input_ids: torch.LongTensor) -> None:
        """Keep the logprob of the token just appended (``input_ids[:, -1]``)."""
        if self.step_logprobs is None:
            raise PolicyError("internal: generate appended a token without scoring it")
        self.chosen.append(self.step_logprobs.gather(1, input_ids[:, -1:]).squeeze(1))
        self.step_logprobs = None

    def logprobs(self, steps: int) -> list[list[float]]:
        """Per-row logprobs of the first ``steps`` tokens (later steps, if any, were undone)."""
        if steps == 0:
            return []
        return torch.stack(self.chosen[:steps], dim=1).cpu().tolist()


class _RecordChosen(StoppingCriteria):
    """Never stops anything: it runs right after each token is appended, to record its logprob."""

    def __init__(self, recorder: _RawLogprobs) -> None:
        self.recorder = recorder

    def __call__(self, input_ids: torch.LongTensor, scores: Any, **kwargs: Any) -> torch.BoolTensor:
        self.recorder.record(input_ids)
        return torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)


class _StopStrings(StoppingCriteria):
    """Ends a row once its decoded completion contains a stop string.

    Each step only a window of recent tokens is decoded: an occurrence that was not there one token
    ago must end in the newest token, and a stop string of ``c`` characters spans at most ``4c``
    byte-level tokens. A hit in the window is confirmed on the full decode, which is what
    ``_cut_at_stop`` later uses, so the two always agree on where the reply ends.
    """

    def __init__(self, tokenizer: Any, stop: Sequence[str], prompt_width: int, eos_ids: set[int]) -> None:
        self.tokenizer = tokenizer
        self.stop = tuple(stop)
        self.prompt_width = prompt_width
        self.eos_ids = eos_ids
        self.window = 4 * max(len(s) for s in self.stop) + 8

    def _decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=True)

    def __call__(self, input_ids: torch.LongTensor, scores: Any, **kwargs: Any) -> torch.BoolTensor:
        generated = input_ids[:, self.prompt_width :].tolist()
        hits = []
        for ids in generated:
            if self.eos_ids.intersection(ids):
                hits.append(False)  # already finished; generate pads it
                continue
            recent = self._decode(ids[-self.window :])
            hits.append(
                any(s in recent for s in self.stop) and any(s in self._decode(ids) for s in self.stop)
            )
        return torch.tensor(hits, dtype=torch.bool, device=input_ids.device)


class TransformersPolicy(Policy):
    """A transformers causal LM behind the ``Policy`` interface; see the module docstring for the contract.

    ``model`` is ``"smollm2"`` (the embedded GGUF, no network), a hub id, a local directory, or a
    path to a ``.gguf`` file; ``gguf_file`` names the GGUF inside a directory or hub repo.
    ``device="auto"`` picks CUDA when available, else CPU; ``dtype="auto"`` is bfloat16 on CUDA and
    float32 elsewhere (CPU bfloat16 is slow and lossy). Batches larger than ``max_batch_size`` rows
    (conversations times ``n``) are generated in consecutive chunks. ``default_max_tokens`` applies
    when ``SamplingParams.max_tokens`` is ``None``. ``local_files_only=None`` follows
    ``HF_HUB_OFFLINE``.
    """

    generate_threads = 1  # calls are serialised by a lock anyway; one warm thread

    def __init__(
        self,
        model: str = EMBEDDED_MODEL,
        *,
        gguf_file: str | None = None,
        device: str = "auto",
        dtype: str | torch.dtype = "auto",
        max_batch_size: int = 16,
        default_max_tokens: int = 256,
        trust_remote_code: bool = False,
        local_files_only: bool | None = None,
        revision: str | None = None,
    ) -> None:
        if max_batch_size < 1:
            raise ValueError(f"max_batch_size must be >= 1, got {max_batch_size}")
        if default_max_tokens < 1:
            raise ValueError(f"default_max_tokens must be >= 1, got {default_max_tokens}")
        self.model_name = model
        self.max_batch_size = max_batch_size
        self.default_max_tokens = default_max_tokens
        self.device = torch.device(self._pick_device(device))
        self.dtype = self._pick_dtype(dtype, self.device)
        self._lock = threading.Lock()
        self.tokenizer: Any = None
        self.model: Any = None
        self._load(model, gguf_file, trust_remote_code, local_files_only, revision)

    # -- loading -----------------------------------------------------------------------------------

    @staticmethod
    def _pick_device(device: str) -> str:
        if device == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        return device

    @staticmethod
    def _pick_dtype(dtype: str | torch.dtype, device: torch.device) -> torch.dtype:
        if isinstance(dtype, torch.dtype):
            return dtype
        if dtype == "auto":
            if device.type != "cuda":
                return torch.float32
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        if dtype not in _DTYPES:
            raise ValueError(f"unknown dtype {dtype!r}; use 'auto' or one of {sorted(_DTYPES)}")
        return getattr(torch, _DTYPES[dtype])

    @staticmethod
    def _resolve(model: str, gguf_file: str | None) -> tuple[str, str | None]:
        """``(directory or hub id, gguf file name or None)`` for ``from_pretrained``."""
        if model == EMBEDDED_MODEL and gguf_file is None:
            from rlvr.agents.serving import converted_embedded_dir

            # The same weights, already dequantized by an earlier LocalServer: five times faster to load.
            converted = converted_embedded_dir()
            return (str(converted), None) if converted is not None else embedded_gguf()
        path = Path(model).expanduser()
        if gguf_file is None and path.suffix == ".gguf" and path.is_file():
            return str(path.parent), path.name
        return model, gguf_file

    def _load(
        self,
        model: str,
        gguf_file: str | None,
        trust_remote_code: bool,
        local_files_only: bool | None,
        revision: str | None,
    ) -> None:
        source, gguf = self._resolve(model, gguf_file)
        offline = _offline() if local_files_only is None else local_files_only
        is_local = Path(source).expanduser().is_dir()
        options: dict[str, Any] = {
            "trust_remote_code": trust_remote_code,
            "local_files_only": offline or is_local,
        }
        if gguf is not None:
            options["gguf_file"] = gguf
        if revision is not None:
            options["revision"] = revision
        try:
            with _quiet_progress_bars():
                tokenizer = AutoTokenizer.from_pretrained(source, **options)
                network = AutoModelForCausalLM.from_pretrained(
                    source, **{_DTYPE_ARGUMENT: self.dtype}, **options
                )
        except ImportError as error:
            raise PolicyUnavailable(
                f"loading {model!r} needs a missing package ({error}); {INSTALL_HINT}"
            ) from error
        except (OSError, ValueError) as error:
            raise PolicyUnavailable(self._explain(model, source, is_local, offline, error)) from error
        if not getattr(tokenizer, "chat_template", None):
            raise PolicyUnavailable(
                f"{model!r} has no chat template, so it cannot take conversations; use an instruct/chat model"
            )
        network.to(self.device)
        network.eval()
        self.tokenizer, self.model = tokenizer, network
        self._eos_ids = self._collect_eos_ids(tokenizer, network)
        pad = tokenizer.pad_token_id
        self._pad_id = pad if pad is not None else min(self._eos_ids, default=0)

    @staticmethod
    def _explain(model: str, source: str, is_local: bool, offline: bool, error: BaseException) -> str:
        reason = _first_line(error)
        if is_local:
            return f"cannot load a model from {source}: {reason}"
        if offline:
            return (
                f"model {model!r} is not in the local Hugging Face cache and offline mode is on "
                f"(HF_HUB_OFFLINE); download it first (huggingface-cli download {source}) or pass a local "
                f"directory. ({reason})"
            )
        return f"cannot load model {model!r} (not a local directory; from the Hugging Face Hub: {reason})"

    @staticmethod
    def _collect_eos_ids(tokenizer: Any, network: Any) -> set[int]:
        # Chat checkpoints often end turns with a token other than the tokenizer's eos (Llama 3's
        # <|eot_id|>); generation_config lists those, so a reply may end on any of them.
        ids: set[int] = set()
        configured = getattr(network.generation_config, "eos_token_id", None)
        for value in (configured, tokenizer.eos_token_id):
            if isinstance(value, int):
                ids.add(value)
            elif isinstance(value, (list, tuple)):
                ids.update(int(v) for v in value)
        return ids

    # -- generation --------------------------------------------------------------------------------

    def generate(
        self, batch: Sequence[list[Message]], params: SamplingParams | None = None
    ) -> list[Completion]:
        params = params or SamplingParams()
        stop = tuple(s for s in params.stop if s)
        max_new = params.max_tokens or self.default_max_tokens
        with self._lock:
            self._require_open()
            prompts = [self._encode(index, messages) for index, messages in enumerate(batch)]
            rows = [ids for ids in prompts for _ in range(params.n)]
            completions: list[Completion] = []
            with self._seeded(params.seed), self._inference():
                for start in range(0, len(rows), self.max_batch_size):
                    chunk = rows[start : start + self.max_batch_size]
                    completions.extend(self._generate_chunk(chunk, params, stop, max_new))
        return completions

    # -- tokens for training -----------------------------------------------------------------------

    def encode_prompt(self, messages: Sequence[Message]) -> list[int]:
        """The prompt token ids ``generate`` would feed the model for this conversation."""
        self._require_open()
        return self._encode(0, list(messages))

    def encode_reply(self, messages: Sequence[Message], reply: str) -> list[int]:
        """The token ids the model would have to generate after ``encode_prompt(messages)`` to answer
        ``reply`` and stop: the chat template's own rendering of that assistant turn, up to and
        including its end-of-turn token. For supervised targets (a warm start); a template that does
        not render the reply as a continuation of the generation prompt is a ``PolicyError``."""
        self._require_open()
        prompt_text = self.tokenizer.apply_chat_template(
            [dict(m) for m in messages], tokenize=False, add_generation_prompt=True
        )
        full_text = self.tokenizer.apply_chat_template(
            [*map(dict, messages), {"role": "assistant", "content": reply}], tokenize=False
        )
        if not full_text.startswith(prompt_text):
            raise PolicyError("the chat template does not render a reply as a continuation of the prompt")
        ids = list(self.tokenizer(full_text[len(prompt_text) :], add_special_tokens=False)["input_ids"])
        end = next((k for k, token in enumerate(ids) if token in self._eos_ids), None)
        if end is None:
            raise PolicyError("the chat template ends an assistant turn with no end-of-sequence token")
        return ids[: end + 1]

    def _require_open(self) -> None:
        if self.model is None:
            raise PolicyError(f"TransformersPolicy({self.model_name!r}) is closed")

    def _encode(self, index: int, messages: Any) -> list[int]:
        """Token ids of one conversation's chat-templated prompt; a ``PolicyError`` names a bad one."""
        if not isinstance(messages, (list, tuple)) or not messages:
            raise PolicyError(
                f"conversation {index} must be a non-empty list of messages, got {messages!r:.80}"
            )
        for position, message in enumerate(messages):
            if (
                not isinstance(message, Mapping)
                or not isinstance(message.get("role"), str)
                or not isinstance(message.get("content"), str)
            ):
                raise PolicyError(
                    f"conversation {index}, message {position}: expected {{'role': str, 'content': str}}, "
                    f"got {message!r:.80}"
                )
        try:
            text = self.tokenizer.apply_chat_template(
                [dict(m) for m in messages], tokenize=False, add_generation_prompt=True
            )
        except Exception as error:
            raise PolicyError(f"conversation {index}: the chat template rejected it: {error}") from error
        # The template already wrote any BOS it wants; do not let the tokenizer add another.
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    @contextlib.contextmanager
    def _seeded(self, seed: int | None) -> Iterator[None]:
        if seed is None:
            yield
            return
        devices = [self.device] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            yield

    @contextlib.contextmanager
    def _inference(self) -> Iterator[None]:
        # A learner sharing this module may have left it in train mode (dropout); sample in eval mode
        # and hand it back as it was.
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.inference_mode():
                yield
        finally:
            self.model.train(was_training)

    def _generate_chunk(
        self, rows: list[list[int]], params: SamplingParams, stop: tuple[str, ...], max_new: int
    ) -> list[Completion]:
        width = max(len(ids) for ids in rows)
        input_ids = torch.full((len(rows), width), self._pad_id, dtype=torch.long)
        attention_mask = torch.zeros((len(rows), width), dtype=torch.long)
        for row, ids in enumerate(rows):  # left padding: every row's next token is at the same column
            input_ids[row, width - len(ids) :] = torch.tensor(ids, dtype=torch.long)
            attention_mask[row, width - len(ids) :] = 1
        sampling = params.temperature > 0
        recorder = _RawLogprobs(params.temperature, params.top_p) if sampling else _RawLogprobs(1.0, 1.0)
        criteria = StoppingCriteriaList([_RecordChosen(recorder)])
        if stop:
            criteria.append(_StopStrings(self.tokenizer, stop, width, self._eos_ids))
        neutral = dict(_NEUTRAL_GENERATION)
        if getattr(self.model.generation_config, "min_p", None) is not None:
            neutral["min_p"] = 0.0  # None would mean "use the checkpoint's"
        config = GenerationConfig(
            **neutral,
            max_new_tokens=max_new,
            do_sample=sampling,
            top_k=0 if sampling else 50,  # 50 is the default, so greedy raises no "unused flag" warning
            eos_token_id=sorted(self._eos_ids) or None,
            pad_token_id=self._pad_id,
        )
        try:
            sequences = self.model.generate(
                input_ids=input_ids.to(self.device),
                attention_mask=attention_mask.to(self.device),
                generation_config=config,
                logits_processor=LogitsProcessorList([recorder]),
                stopping_criteria=criteria,
            )
        except _OUT_OF_MEMORY as error:
            raise PolicyError(
                f"out of memory generating {len(rows)} rows; lower max_batch_size (now {self.max_batch_size})"
            ) from error
        generated = sequences[:, width:].cpu().tolist()
        logprobs = recorder.logprobs(len(generated[0]) if generated else 0)
        return [
            self._finish(prompt, tokens, row_logprobs, stop)
            for prompt, tokens, row_logprobs in zip(rows, generated, logprobs, strict=True)
        ]

    def _decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=True)

    def _finish(
        self, prompt: list[int], tokens: list[int], logprobs: list[float], stop: tuple[str, ...]
    ) -> Completion:
        eos_at = next((k for k, token in enumerate(tokens) if token in self._eos_ids), None)
        body = tokens if eos_at is None else tokens[:eos_at]
        cut = self._cut_at_stop(body, stop) if stop else None
        if cut is not None:
            keep, text, reason = cut[0], cut[1], "stop"
        elif eos_at is not None:
            keep, text, reason = eos_at + 1, self._decode(body), "stop"
        else:
            keep, text, reason = len(tokens), self._decode(tokens), "length"
        ids = tokens[:keep]
        return Completion(
            text=text,
            prompt_token_ids=list(prompt),
            completion_token_ids=ids,
            completion_logprobs=[float(x) for x in logprobs[:keep]],
            finish_reason=reason,
            usage={"prompt_tokens": len(prompt), "completion_tokens": len(ids)},
        )

    def _cut_at_stop(self, body: list[int], stop: tuple[str, ...]) -> tuple[int, str] | None:
        """``(tokens to keep, text before the stop string)``, or ``None`` when no stop string occurs.

        Keeps the shortest token prefix whose decode contains a stop string (binary search: a longer
        prefix decodes to a longer text), then cuts that decode at the earliest stop string in it.
        """
        if not any(s in self._decode(body) for s in stop):
            return None
        low, high = 1, len(body)
        while low < high:
            middle = (low + high) // 2
            if any(s in self._decode(body[:middle]) for s in stop):
                high = middle
            else:
                low = middle + 1
        text = self._decode(body[:low])
        return low, text[: min(text.find(s) for s in stop if s in text)]

    # -- weights and lifetime ----------------------------------------------------------------------

    def load_weights(
        self,
        weights: Mapping[str, torch.Tensor] | Iterable[tuple[str, torch.Tensor]],
        *,
        strict: bool = False,
    ) -> int:
        """Copy a learner's tensors into the model in place; returns how many were loaded.

        Accepts a ``state_dict`` or ``named_parameters()``-style pairs, named as in
        ``self.model.state_dict()`` (a tied alias such as ``lm_head.weight`` works too). Every name and
        shape is checked before anything is copied, so a bad update leaves the model as it was.
        ``strict=True`` also requires every parameter to be covered. Values are cast to the model's
        dtype and device; the next ``generate`` (which waits for this one) samples from them.
        """
        pairs = list(weights.items() if isinstance(weights, Mapping) else weights)
        with self._lock:
            self._require_open()
            targets = self.model.state_dict(keep_vars=True)
            for name, tensor in pairs:
                target = targets.get(name)
                if target is None:
                    known = ", ".join(list(targets)[:3])
                    raise PolicyError(f"unknown weight {name!r} (the model's names look like: {known}, ...)")
                if tuple(target.shape) != tuple(tensor.shape):
                    shapes = f"{tuple(tensor.shape)}, the model's is {tuple(target.shape)}"
                    raise PolicyError(f"weight {name!r} has shape {shapes}")
            if strict:
                covered = {id(targets[name]) for name, _ in pairs}
                missing = [n for n, p in self.model.named_parameters() if id(p) not in covered]
                if missing:
                    raise PolicyError(
                        f"strict load_weights: {len(missing)} parameters missing, e.g. {missing[:3]}"
                    )
            with torch.no_grad():
                for name, tensor in pairs:
                    target = targets[name]
                    target.copy_(tensor.detach().to(device=target.device, dtype=target.dtype))
        return len(pairs)

    update_weights = load_weights

    def close(self) -> None:
        """Drop the model and tokenizer and return their memory; later calls raise ``PolicyError``."""
        with self._lock:
            self.model = None
            self.tokenizer = None
        gc.collect()
        if self.device.type == "cuda":
            torch.cuda.empty_cache()

    def __enter__(self) -> TransformersPolicy:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.model is None else f"{self.device}, {str(self.dtype).removeprefix('torch.')}"
        return f"TransformersPolicy({self.model_name!r}, {state})"

"""A ``Policy`` on an in-process ``vllm.LLM`` engine: the fast path for RL rollouts on a GPU.

The policy is thin on purpose: vLLM already batches, applies the chat template, samples and stops;
we only translate ``SamplingParams`` in and ``RequestOutput`` out, so the records match
``TransformersPolicy`` field for field:

* ``completion_token_ids`` are vLLM's ``CompletionOutput.token_ids``: the EOS token is included
  when the model ended its reply, and on a stop string the ids run through the token that
  completed it while ``text`` is cut before it (vLLM's ``include_stop_str_in_output=False``).
* ``completion_logprobs`` come from ``logprobs=0`` (the sampled token's logprob only). The V1
  engine computes them from the raw logits, before temperature and top-p (its default
  ``logprobs_mode="raw_logprobs"``, vLLM >= 0.10.2 lets you set it), the same definition as the
  transformers backend. The legacy V0 engine returned post-temperature logprobs instead.
* A seeded request is reproducible for the same batch; with ``n > 1`` vLLM derives a distinct seed
  per sample.

Weights from a learner go in through ``load_weights``. It uses the documented RLHF route: the engine
is built with ``worker_extension_cls`` pointing at ``WeightLoaderExtension`` (vLLM >= 0.8), and
``LLM.collective_rpc`` runs that extension's method in every worker, which calls the vLLM model's
own ``load_weights`` (it takes Hugging Face checkpoint names and fuses q/k/v, gate/up itself).
Tensors travel through vLLM's RPC serialization, which is fine for small models; large ones want the
NCCL or CUDA-IPC transfer shown in vLLM's ``rlhf`` examples. The prefix cache is reset afterwards so
no KV block computed with the old weights is reused.

vLLM is imported lazily: this module imports without it, and constructing a ``VLLMPolicy`` where it
is missing raises ``PolicyUnavailable`` with the reason.
"""

from __future__ import annotations

import gc
import math
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rlvr.agents.base import Completion, Policy, PolicyError, PolicyUnavailable, SamplingParams
from rlvr.agents.embedded import EMBEDDED_MODEL
from rlvr.core.records import Message

VLLM_INSTALL_HINT = (
    "pip install 'rlvr-gym[vllm]' (needs a CUDA GPU); on CPU use the transformers backend (hf:MODEL)"
)
_EXTENSION = "rlvr.agents.vllm_backend.WeightLoaderExtension"


class WeightLoaderExtension:
    """Mixed into each vLLM worker (``worker_extension_cls``) so ``collective_rpc`` can load weights.

    vLLM instantiates the worker with this class among its bases, so ``self`` is the worker here and
    ``self.model_runner`` its model runner (true for the V0 and V1 GPU workers).
    """

    def rlvr_load_weights(self, weights: list[tuple[str, Any]]) -> int:
        runner = self.model_runner  # type: ignore[attr-defined]
        model = runner.get_model() if hasattr(runner, "get_model") else runner.model
        model.load_weights(weights=weights)
        return len(weights)


def _import_vllm() -> Any:
    try:
        import vllm
    except ImportError as error:
        raise PolicyUnavailable(f"vLLM is not installed ({error}); {VLLM_INSTALL_HINT}") from error
    except Exception as error:  # a broken install (CUDA/driver mismatch) fails at import time
        raise PolicyUnavailable(f"vLLM failed to import: {error}; {VLLM_INSTALL_HINT}") from error
    return vllm


def _token_logprobs(entries: Any, token_ids: Sequence[int]) -> list[float] | None:
    """The sampled tokens' logprobs from vLLM's per-position ``{token_id: Logprob}`` mappings."""
    if entries is None:
        return None
    values = []
    for position, token in enumerate(token_ids):
        entry = entries[position][token]
        value = float(getattr(entry, "logprob", entry))
        values.append(value if not math.isnan(value) else -math.inf)
    return values


class VLLMPolicy(Policy):
    """``vllm.LLM(model, ...)`` behind the ``Policy`` interface.

    ``model`` is a hub id or a local directory vLLM can load. ``llm_kwargs`` go to ``vllm.LLM``
    unchanged (``enforce_eager``, ``logprobs_mode``, ``quantization``...). ``default_max_tokens``
    applies when ``SamplingParams.max_tokens`` is ``None``. One lock serializes ``generate`` and
    ``load_weights``: ``vllm.LLM`` is not thread-safe, and it batches internally anyway.
    """

    generate_threads = 1  # calls are serialised by a lock anyway; one warm thread

    def __init__(
        self,
        model: str,
        *,
        dtype: str = "auto",
        gpu_memory_utilization: float = 0.85,
        max_model_len: int | None = None,
        tensor_parallel_size: int = 1,
        enable_prefix_caching: bool = True,
        seed: int = 0,
        default_max_tokens: int = 256,
        trust_remote_code: bool = False,
        llm_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        if model == EMBEDDED_MODEL:
            raise PolicyUnavailable(
                f"vLLM cannot serve the embedded GGUF {EMBEDDED_MODEL!r}; use "
                "vllm:HuggingFaceTB/SmolLM2-135M-Instruct, or the transformers backend for smollm2"
            )
        if default_max_tokens < 1:
            raise ValueError(f"default_max_tokens must be >= 1, got {default_max_tokens}")
        self._vllm = _import_vllm()
        self.model_name = model
        self.default_max_tokens = default_max_tokens
        self._lock = threading.Lock()
        options: dict[str, Any] = {
            "model": model,
            "dtype": dtype,
            "gpu_memory_utilization": gpu_memory_utilization,
            "tensor_parallel_size": tensor_parallel_size,
            "enable_prefix_caching": enable_prefix_caching,
            "seed": seed,
            "trust_remote_code": trust_remote_code,
            "worker_extension_cls": _EXTENSION,
        }
        if max_model_len is not None:
            options["max_model_len"] = max_model_len
        options.update(llm_kwargs or {})
        try:
            self.llm: Any = self._vllm.LLM(**options)
        except Exception as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise PolicyUnavailable(f"vLLM could not start {model!r}: {first}") from error

    def _sampling(self, params: SamplingParams) -> Any:
        return self._vllm.SamplingParams(
            n=params.n,
            temperature=params.temperature,
            top_p=params.top_p,
            max_tokens=params.max_tokens or self.default_max_tokens,
            stop=[s for s in params.stop if s] or None,
            seed=params.seed,
            logprobs=0,
        )

    def generate(
        self, batch: Sequence[list[Message]], params: SamplingParams | None = None
    ) -> list[Completion]:
        params = params or SamplingParams()
        if not batch:
            return []
        conversations = []
        for index, messages in enumerate(batch):
            if not isinstance(messages, (list, tuple)) or not messages:
                raise PolicyError(f"conversation {index} must be a non-empty list of messages")
            for position, message in enumerate(messages):
                if not isinstance(message, Mapping) or not all(
                    isinstance(message.get(key), str) for key in ("role", "content")
                ):
                    raise PolicyError(
                        f"conversation {index}, message {position}: expected {{'role': str, 'content': str}}"
                    )
            conversations.append([dict(m) for m in messages])
        with self._lock:
            llm = self._require_open()
            try:
                outputs = llm.chat(conversations, self._sampling(params), use_tqdm=False)
            except (ValueError, TypeError) as error:  # vLLM's template and length checks
                raise PolicyError(f"vLLM rejected the batch: {error}") from error
        if len(outputs) != len(conversations):
            raise PolicyError(f"vLLM returned {len(outputs)} results for {len(conversations)} conversations")
        completions = []
        for output in outputs:
            prompt_ids = list(output.prompt_token_ids or [])
            for sample in sorted(output.outputs, key=lambda s: s.index):
                completions.append(self._completion(prompt_ids, sample))
        return completions

    @staticmethod
    def _completion(prompt_ids: list[int], sample: Any) -> Completion:
        ids = list(sample.token_ids)
        reason = sample.finish_reason
        return Completion(
            text=sample.text,
            prompt_token_ids=prompt_ids,
            completion_token_ids=ids,
            completion_logprobs=_token_logprobs(sample.logprobs, ids),
            finish_reason=reason if reason in ("stop", "length") else None,
            usage={"prompt_tokens": len(prompt_ids), "completion_tokens": len(ids)},
            error=None if reason in ("stop", "length") else f"vLLM finished with {reason!r}",
        )

    def _require_open(self) -> Any:
        if self.llm is None:
            raise PolicyError(f"VLLMPolicy({self.model_name!r}) is closed")
        return self.llm

    def load_weights(self, weights: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> int:
        """Push a learner's tensors (Hugging Face names) into every vLLM worker; returns how many.

        Uses ``LLM.collective_rpc`` with ``WeightLoaderExtension.rlvr_load_weights``; tensors are
        moved to CPU first so they serialize to the worker processes. Then resets the prefix cache.
        """
        pairs = [
            (name, tensor.detach().to("cpu").contiguous())
            for name, tensor in (weights.items() if isinstance(weights, Mapping) else weights)
        ]
        with self._lock:
            llm = self._require_open()
            llm.collective_rpc("rlvr_load_weights", args=(pairs,))
            if hasattr(llm, "reset_prefix_cache"):
                llm.reset_prefix_cache()
        return len(pairs)

    update_weights = load_weights

    def close(self) -> None:
        """Shut the engine down and free GPU memory; later calls raise ``PolicyError``."""
        with self._lock:
            llm, self.llm = self.llm, None
        if llm is None:
            return
        engine_core = getattr(getattr(llm, "llm_engine", None), "engine_core", None)
        if hasattr(engine_core, "shutdown"):
            engine_core.shutdown()
        del llm
        gc.collect()
        try:
            import torch

            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        except ImportError:
            pass

    def __enter__(self) -> VLLMPolicy:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"VLLMPolicy({self.model_name!r}{', closed' if self.llm is None else ''})"

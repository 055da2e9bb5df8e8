"""``OpenAIPolicy``: any OpenAI-compatible ``/v1/chat/completions`` endpoint as a ``Policy``.

One client serves vLLM's server, ``transformers serve`` and hosted APIs. It speaks plain HTTP through
``httpx`` (a core dependency), so the ``openai`` SDK stays optional. The rule the runner relies on: a
failure that concerns one conversation (a 400, a timeout, a server that keeps answering 5xx, a reply
that is not JSON) becomes that item's ``Completion.error`` while the rest of the batch goes through;
only a failure that makes every item pointless (a refused key, an unknown model) raises
``PolicyUnavailable`` for the whole call.

Choices worth knowing:

* ``n > 1`` is sent as the API's ``n``. A server that ignores it (``transformers serve`` answers with a
  single choice) or rejects it (a 400) gets the missing samples as separate ``n=1`` requests, and the
  policy remembers that for later calls (``native_n=`` forces either way). Separate requests carry
  ``seed + i`` for sample ``i``: a seeded group stays reproducible without being ``n`` copies.
* ``logprobs=True`` asks for ``logprobs: true`` and returns the per-token logprobs when the server
  gives them (OpenAI, vLLM; ``transformers serve`` ignores the field, so they stay ``None``). Token ids
  come back when the server sends them: vLLM's ``extra_body={"return_tokens_as_token_ids": True}``
  spells each logprob token ``"token_id:123"``, and its ``return_token_ids`` adds ``prompt_token_ids``
  and per-choice ``token_ids``; both are read.
* Text is returned exactly as the server wrote it. Servers differ on stop strings: OpenAI and vLLM
  leave the matched stop string out, ``transformers serve`` keeps it.
* ``usage`` is per completion. For a native ``n > 1`` reply the server reports one total, so
  ``completion_tokens`` is given only when token ids or logprobs count it.
* Concurrency is one budget per policy instance, shared by every call and every event loop; the
  ``httpx.AsyncClient`` is per event loop, because an async client belongs to the loop it first ran on.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import email.utils
import os
import random
import re
import threading
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from rlvr.agents.base import Completion, Policy, PolicyError, PolicyUnavailable, SamplingParams
from rlvr.core.records import Message

DEFAULT_BASE_URL = "https://api.openai.com/v1"
_TOKEN_ID = re.compile(r"^token_id:(-?\d+)$")
# How servers say "no such model" in a 400 instead of a 404 (transformers serve pins one model).
_MODEL_ERROR = re.compile(
    r"\bmodel\b.{0,120}\b(not found|does not exist|is not available|is not served)|model_not_found|pinned to",
    re.IGNORECASE | re.DOTALL,
)
_MAX_MESSAGE = 500
T = TypeVar("T")


@dataclass(frozen=True)
class _Failure:
    """A request that produced no usable reply; it becomes ``Completion.error`` for its items."""

    status: int | None
    message: str


class _Slots:
    """At most ``limit`` holders at once, shared by every event loop and thread that uses it.

    ``asyncio.Semaphore`` binds to the loop that first waits on it, while one policy serves callers on
    several loops (its background loop for ``generate``, the runner's loops for ``agenerate``). One
    budget for all of them needs a lock-guarded count and wake-ups posted to each waiter's own loop.
    """

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"max_concurrency must be >= 1, got {limit}")
        self.limit = limit
        self._held = 0
        self._lock = threading.Lock()
        self._waiters: collections.deque[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = (
            collections.deque()
        )

    async def __aenter__(self) -> None:
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._held < self.limit and not self._waiters:
                self._held += 1
                return
            waiter = (loop, loop.create_future())
            self._waiters.append(waiter)
        try:
            await waiter[1]
        except asyncio.CancelledError:
            with self._lock:
                queued = waiter in self._waiters
                if queued:
                    self._waiters.remove(waiter)
            if not queued and waiter[1].done() and not waiter[1].cancelled():
                self._release()  # the slot arrived just as we were cancelled: pass it on
            raise

    async def __aexit__(self, *exc_info: object) -> None:
        self._release()

    def _release(self) -> None:
        with self._lock:
            while self._waiters:
                loop, future = self._waiters.popleft()
                try:
                    loop.call_soon_threadsafe(self._grant, future)
                except RuntimeError:  # that waiter's loop is closed; it will never run
                    continue
                return  # the slot passes straight to the waiter, so the count stays
            self._held -= 1

    def _grant(self, future: asyncio.Future[None]) -> None:
        if future.done():  # cancelled while the grant was on its way
            self._release()
        else:
            future.set_result(None)


async def _gather_or_cancel(awaitables: Iterable[Awaitable[T]]) -> list[T]:
    """Like ``asyncio.gather``, but the first exception cancels the siblings instead of orphaning them.

    A ``PolicyUnavailable`` from one item ends the call; requests still in flight for the others would
    otherwise keep the connection pool and the concurrency budget busy after the caller gave up.
    """
    tasks = [asyncio.ensure_future(item) for item in awaitables]
    if not tasks:
        return []
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    except BaseException:
        for task in tasks:
            task.cancel()
        raise
    failed = next((t for t in tasks if t.done() and not t.cancelled() and t.exception()), None)
    if failed is not None:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise failed.exception()  # type: ignore[misc]
    return [task.result() for task in tasks]


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds the server asked us to wait (``Retry-After`` in seconds or as a date, or OpenAI's
    ``retry-after-ms``), or ``None``."""
    milliseconds = response.headers.get("retry-after-ms")
    if milliseconds:
        try:
            return max(0.0, float(milliseconds) / 1000)
        except ValueError:
            pass
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _server_message(response: httpx.Response) -> str:
    """The human part of an error reply: ``error.message``, FastAPI's ``detail``, or the raw text."""
    try:
        data = response.json()
    except ValueError:
        return response.text.strip() or response.reason_phrase
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
        for key in ("error", "detail", "message"):
            if data.get(key):
                return str(data[key])
    return str(data)


def _int_list(value: Any) -> list[int] | None:
    if isinstance(value, list) and all(isinstance(item, int) for item in value):
        return list(value)
    return None


def _logprobs(block: Any) -> tuple[list[float] | None, list[int] | None]:
    """Per-token logprobs and, when every token is spelled ``token_id:N`` (vLLM), the token ids."""
    if not isinstance(block, dict) or not isinstance(block.get("content"), list):
        return None, None
    entries = block["content"]
    logprobs = [float(entry["logprob"]) for entry in entries]
    matches = [_TOKEN_ID.match(str(entry.get("token", ""))) for entry in entries]
    token_ids = [int(m.group(1)) for m in matches if m] if entries and all(matches) else None
    return logprobs, token_ids


def _finish_reason(value: Any) -> str | None:
    if value is None:
        return None
    return "length" if value == "length" else "stop"


async def _closed_with_the_loop(client: httpx.AsyncClient) -> AsyncIterator[None]:
    """Stays suspended for the client's life, so that the loop closes the client before it dies.

    ``asyncio.run`` closes every pending async generator before it closes its loop; this one's
    ``finally`` then closes the client on its own loop, which nothing else could do once that loop is
    gone. A runner that calls ``asyncio.run(policy.agenerate(...))`` per batch leaks no sockets.
    """
    try:
        yield
    finally:
        await client.aclose()


@dataclass
class _LoopClient:
    client: httpx.AsyncClient
    keeper: AsyncGenerator[None, None]

    async def aclose(self) -> None:
        await self.keeper.aclose()
        await self.client.aclose()  # also when the keeper never started; closing twice is harmless


class OpenAIPolicy(Policy):
    """Chat completions from an OpenAI-compatible server (vLLM, ``transformers serve``, hosted APIs).

    ``base_url`` includes the ``/v1`` (default ``$OPENAI_BASE_URL``, else OpenAI's); ``api_key``
    defaults to ``$OPENAI_API_KEY`` and may be empty for a local server. ``timeout_s`` bounds each
    request end to end; ``max_retries`` more attempts follow a 408/429/5xx, a timeout or a connection
    error, after ``backoff_s * 2**attempt`` (halved-to-full jitter) or the server's ``Retry-After``,
    both capped at ``max_backoff_s``. ``extra_body`` is merged into every request (the sampling
    fields this policy sets win, so the grouping contract holds).
    """

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        max_concurrency: int = 16,
        timeout_s: float = 120.0,
        max_retries: int = 4,
        backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
        extra_body: Mapping[str, Any] | None = None,
        logprobs: bool = False,
        native_n: bool | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be > 0, got {timeout_s}")
        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {max_retries}")
        self.model = model
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        self._key_source = "OPENAI_API_KEY" if api_key is None else "the api_key argument"
        self._api_key = os.environ.get("OPENAI_API_KEY", "") if api_key is None else api_key
        self.max_concurrency = max_concurrency
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.extra_body = dict(extra_body or {})
        self.logprobs = logprobs
        self.native_n = native_n
        """``True``: always send ``n``; ``False``: always ``n`` separate requests; ``None``: send ``n``
        and switch to ``False`` the first time the server ignores or rejects it."""
        self._headers = {"Accept": "application/json", **(headers or {})}
        if self._api_key:
            self._headers["Authorization"] = f"Bearer {self._api_key}"
        self._slots = _Slots(max_concurrency)
        self._lock = threading.Lock()
        self._clients: dict[asyncio.AbstractEventLoop, _LoopClient] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closing: set[asyncio.Task[None]] = set()
        self._loop_thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"OpenAIPolicy(model={self.model!r}, base_url={self._shown_url!r})"

    # ----- the Policy interface -----

    def generate(
        self, batch: Sequence[list[Message]], params: SamplingParams | None = None
    ) -> list[Completion]:
        """Blocking ``agenerate``: runs on this policy's own background loop, so it works whether or
        not the calling thread already runs an event loop (that loop is blocked meanwhile)."""
        return self._run_sync(self.agenerate(batch, params))

    async def agenerate(
        self, batch: Sequence[list[Message]], params: SamplingParams | None = None
    ) -> list[Completion]:
        params = params or SamplingParams()
        client = await self._client()
        groups = await _gather_or_cancel(
            self._complete_group(client, list(messages), params) for messages in batch
        )
        return [completion for group in groups for completion in group]

    def list_models(self) -> list[str]:
        """The model ids the server offers (``GET /models``)."""
        return self._run_sync(self.alist_models())

    async def alist_models(self) -> list[str]:
        return await self._list_models(await self._client())

    # ----- lifecycle -----

    def close(self) -> None:
        """Close every client and stop the background loop; the policy reopens lazily if used again."""
        try:
            current = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        for loop, held in self._detach_clients().items():
            if loop.is_closed():
                continue
            if loop is current:  # cannot block on our own loop: close soon, holding the task meanwhile
                task = current.create_task(held.aclose())
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)
            elif loop.is_running():
                with contextlib.suppress(Exception):  # best effort: the loop may be stopping under us
                    asyncio.run_coroutine_threadsafe(held.aclose(), loop).result(timeout=10)
            elif current is None:
                loop.run_until_complete(held.aclose())
        self._stop_background_loop()

    async def aclose(self) -> None:
        """Close the clients reachable from here (this loop's and those of loops still running)."""
        current = asyncio.get_running_loop()
        for loop, held in self._detach_clients().items():
            if loop is current:
                await held.aclose()
            elif loop.is_running() and not loop.is_closed():
                with contextlib.suppress(Exception):  # best effort, as in close()
                    await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(held.aclose(), loop))
        if self._loop is not None and self._loop is not current:
            await asyncio.to_thread(self._stop_background_loop)

    def __enter__(self) -> OpenAIPolicy:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def __aenter__(self) -> OpenAIPolicy:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # ----- event loops and clients -----

    async def _client(self) -> httpx.AsyncClient:
        """This loop's client, created on first use (an ``httpx.AsyncClient`` belongs to one loop)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            for stale in [other for other in self._clients if other.is_closed()]:
                del self._clients[stale]  # its loop is gone, and nothing can await its close any more
            held = self._clients.get(loop)
            if held is not None and not held.client.is_closed:
                return held.client
            # Pool timeouts never fire first: the pool is as wide as the concurrency budget.
            limits = httpx.Limits(
                max_connections=self.max_concurrency, max_keepalive_connections=self.max_concurrency
            )
            client = httpx.AsyncClient(
                headers=self._headers, timeout=httpx.Timeout(self.timeout_s), limits=limits
            )
            held = self._clients[loop] = _LoopClient(client, _closed_with_the_loop(client))
        await held.keeper.__anext__()  # now the loop knows it: asyncio.run's shutdown will close it
        return client

    def _detach_clients(self) -> dict[asyncio.AbstractEventLoop, _LoopClient]:
        with self._lock:
            clients, self._clients = self._clients, {}
        return clients

    def _background_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._loop.is_closed():
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name=f"OpenAIPolicy({self.model})", daemon=True
                )
                thread.start()
                self._loop, self._loop_thread = loop, thread
            return self._loop

    def _stop_background_loop(self) -> None:
        with self._lock:
            loop, thread = self._loop, self._loop_thread
            self._loop = self._loop_thread = None
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        if not thread.is_alive():
            loop.close()

    def _run_sync(self, coroutine: Coroutine[Any, Any, T]) -> T:
        loop = self._background_loop()
        if threading.current_thread() is self._loop_thread:
            coroutine.close()
            raise PolicyError("a blocking call on the policy's own loop would deadlock; await the a-method")
        future = asyncio.run_coroutine_threadsafe(coroutine, loop)
        try:
            return future.result()
        except BaseException:
            future.cancel()  # Ctrl-C in the caller: stop the requests too
            raise

    # ----- one conversation -----

    async def _complete_group(
        self, client: httpx.AsyncClient, messages: list[Message], params: SamplingParams
    ) -> list[Completion]:
        """``params.n`` completions of one conversation, natively or as separate requests."""
        n = params.n
        probing = self.native_n is None  # decided per group: sibling groups may flip it meanwhile
        if n == 1 or self.native_n is False:
            return await self._singles(client, messages, params, range(n))
        reply = await self._request(client, self._body(messages, params, n=n, seed=params.seed))
        if isinstance(reply, _Failure):
            if reply.status in (400, 422) and probing:
                singles = await self._singles(client, messages, params, range(n))
                if any(completion.error is None for completion in singles):
                    self.native_n = False  # the server refuses n > 1 but serves n = 1
                return singles
            return [self._failed(reply) for _ in range(n)]
        completions = self._parse(reply)
        if isinstance(completions, _Failure):
            return [self._failed(completions) for _ in range(n)]
        if len(completions) < n:
            if probing:
                self.native_n = False  # e.g. transformers serve: one choice whatever n says
                completions += await self._singles(client, messages, params, range(len(completions), n))
            else:
                missing = _Failure(
                    200, f"the server returned {len(completions)} of the {n} choices asked for"
                )
                completions += [self._failed(missing) for _ in range(n - len(completions))]
        return completions[:n]

    async def _singles(
        self, client: httpx.AsyncClient, messages: list[Message], params: SamplingParams, indices: range
    ) -> list[Completion]:
        async def one(index: int) -> Completion:
            seed = None if params.seed is None else params.seed + index
            reply = await self._request(client, self._body(messages, params, n=1, seed=seed))
            if isinstance(reply, _Failure):
                return self._failed(reply)
            completions = self._parse(reply)
            if isinstance(completions, _Failure):
                return self._failed(completions)
            return completions[0]

        return await _gather_or_cancel(one(index) for index in indices)

    def _body(self, messages: list[Message], params: SamplingParams, *, n: int, seed: int | None) -> dict:
        body: dict[str, Any] = dict(self.extra_body)
        body.update(model=self.model, messages=messages, temperature=params.temperature, top_p=params.top_p)
        if n != 1:
            body["n"] = n
        if params.max_tokens is not None:
            body["max_tokens"] = params.max_tokens
        if params.stop:
            body["stop"] = list(params.stop)
        if seed is not None:
            body["seed"] = seed
        if self.logprobs:
            body["logprobs"] = True
        return body

    # ----- HTTP -----

    async def _request(self, client: httpx.AsyncClient, body: dict) -> dict | _Failure:
        """POST one chat completion with retries: the reply's JSON, or why there is none.

        Raises ``PolicyUnavailable`` for answers that no retry or other item can fix (auth, model).
        """
        url = f"{self.base_url}/chat/completions"
        last = ""
        for attempt in range(self.max_retries + 1):
            retry_after: float | None = None
            response: httpx.Response | None = None
            async with self._slots:
                try:
                    response = await asyncio.wait_for(client.post(url, json=body), self.timeout_s)
                except (asyncio.TimeoutError, httpx.TimeoutException):
                    last = f"no reply within timeout_s={self.timeout_s:g}s"
                except httpx.TransportError as error:
                    last = f"connection failed ({type(error).__name__}: {error})"
            if response is not None:
                status = response.status_code
                if 200 <= status < 300:
                    try:
                        data = response.json()
                    except ValueError:
                        return _Failure(status, f"malformed reply (not JSON): {response.text[:200]!r}")
                    if not isinstance(data, dict):
                        return _Failure(status, f"malformed reply (not a JSON object): {str(data)[:200]!r}")
                    return data
                message = _server_message(response)
                if status in (401, 403):
                    raise PolicyUnavailable(self._scrub(self._auth_message(status, message)))
                if status == 404 or (status in (400, 422) and _MODEL_ERROR.search(message)):
                    raise await self._model_unavailable(client, status, message)
                if status not in (408, 429) and status < 500:
                    return _Failure(status, self._scrub(f"HTTP {status}: {message}"[:_MAX_MESSAGE]))
                last = f"HTTP {status}: {message}"
                retry_after = _retry_after(response)
            if attempt < self.max_retries:
                await asyncio.sleep(self._delay(attempt, retry_after))
        attempts = self.max_retries + 1
        return _Failure(
            None, self._scrub(f"gave up after {attempts} attempt(s) at {url}; last: {last}"[:_MAX_MESSAGE])
        )

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_backoff_s)
        ceiling = min(self.max_backoff_s, self.backoff_s * 2**attempt)
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    async def _list_models(self, client: httpx.AsyncClient) -> list[str]:
        url = f"{self.base_url}/models"
        try:
            response = await asyncio.wait_for(client.get(url), self.timeout_s)
        except (asyncio.TimeoutError, httpx.TimeoutException) as error:
            raise PolicyUnavailable(self._scrub(f"no reply from {url} within {self.timeout_s:g}s")) from error
        except httpx.TransportError as error:
            raise PolicyUnavailable(
                self._scrub(
                    f"cannot reach {url} ({error}); start the server or fix base_url / OPENAI_BASE_URL"
                )
            ) from error
        message = _server_message(response) if response.status_code != 200 else ""
        if response.status_code in (401, 403):
            raise PolicyUnavailable(self._scrub(self._auth_message(response.status_code, message)))
        if response.status_code != 200:
            raise PolicyError(
                self._scrub(f"{url} answered HTTP {response.status_code}: {message}"[:_MAX_MESSAGE])
            )
        try:
            return [str(entry["id"]) for entry in response.json()["data"]]
        except (ValueError, KeyError, TypeError) as error:
            raise PolicyError(
                self._scrub(f"{url} sent a malformed model list: {response.text[:200]!r}")
            ) from error

    async def _model_unavailable(
        self, client: httpx.AsyncClient, status: int, message: str
    ) -> PolicyUnavailable:
        try:
            models = await self._list_models(client)
        except PolicyError as error:
            offered = f"its model list is unavailable too ({error})"
        else:
            shown = ", ".join(models[:20]) + (f", ... ({len(models)} in all)" if len(models) > 20 else "")
            offered = f"it offers: {shown}" if models else "it lists no models"
        hint = "" if "/v1" in self.base_url else "; base_url usually ends in /v1"
        text = (
            f"{self._shown_url}/chat/completions cannot serve model {self.model!r} "
            f"(HTTP {status}: {message[:300]}); {offered}{hint}"
        )
        return PolicyUnavailable(self._scrub(text))

    def _auth_message(self, status: int, message: str) -> str:
        if not self._api_key:
            return (
                f"{self._shown_url} requires an API key (HTTP {status}: {message[:300]}); "
                f"set OPENAI_API_KEY or pass api_key="
            )
        return (
            f"{self._shown_url} refused the API key from {self._key_source} "
            f"(HTTP {status}: {message[:300]}); check that it is valid for this server and model"
        )

    # ----- replies -----

    def _parse(self, data: dict) -> list[Completion] | _Failure:
        """The reply's choices as ``Completion``s, in ``index`` order, or why the reply is unusable."""
        try:
            choices = sorted(data["choices"], key=lambda choice: choice.get("index", 0))
            usage = data.get("usage") or {}
            prompt_ids = _int_list(data.get("prompt_token_ids"))
            prompt_tokens = usage.get("prompt_tokens")
            if not isinstance(prompt_tokens, int) and prompt_ids is not None:
                prompt_tokens = len(prompt_ids)
            completions = []
            for choice in choices:
                text = choice["message"].get("content") or ""
                if not isinstance(text, str):
                    raise TypeError(f"message content is {type(text).__name__}")
                logprobs, token_ids = _logprobs(choice.get("logprobs"))
                token_ids = _int_list(choice.get("token_ids")) or token_ids
                counted = token_ids if token_ids is not None else logprobs
                completion_tokens = len(counted) if counted is not None else None
                if completion_tokens is None and len(choices) == 1:
                    completion_tokens = usage.get("completion_tokens")
                item_usage = {
                    key: value
                    for key, value in (
                        ("prompt_tokens", prompt_tokens),
                        ("completion_tokens", completion_tokens),
                    )
                    if isinstance(value, int)
                }
                completions.append(
                    Completion(
                        text=text,
                        prompt_token_ids=None if prompt_ids is None else list(prompt_ids),
                        completion_token_ids=token_ids,
                        completion_logprobs=logprobs,
                        finish_reason=_finish_reason(choice.get("finish_reason")),
                        usage=item_usage,
                    )
                )
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            return _Failure(200, f"malformed reply ({type(error).__name__}: {error}): {str(data)[:200]}")
        if not completions:
            return _Failure(200, "the reply has no choices")
        return completions

    @staticmethod
    def _failed(failure: _Failure) -> Completion:
        return Completion(text="", error=failure.message)

    @property
    def _shown_url(self) -> str:
        """``base_url`` without any ``user:password@`` part."""
        return re.sub(r"//[^/@]*@", "//", self.base_url)

    def _scrub(self, text: str) -> str:
        """Messages may quote URLs and server replies; the key never leaves through them."""
        text = text.replace(self.base_url, self._shown_url)
        return text.replace(self._api_key, "***") if self._api_key else text

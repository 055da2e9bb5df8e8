"""``OpenAIPolicy`` against real HTTP servers on loopback.

Two servers: a scripted stdlib one in a thread, for the failure semantics (retries, timeouts, refused
connections, auth and model errors, the concurrency budget), and ``transformers serve`` running the
embedded SmolLM2 (``LocalServer``), for what a real server does with our requests. The latter skips
where the serving extra or the weights are missing, and fails instead in CI (``$CI`` set).
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from rlvr.agents.base import PolicyError, PolicyUnavailable, SamplingParams
from rlvr.agents.openai_backend import OpenAIPolicy
from rlvr.agents.serving import LocalServer, free_port, missing_serving_pieces

pytestmark = pytest.mark.xdist_group("openai-serve")

FAST = {"backoff_s": 0.001, "max_backoff_s": 0.05, "timeout_s": 5.0}
"""Retry settings that keep the scripted tests quick."""


def chat(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


def completion_body(*texts: str, finish: str = "stop", usage: dict | None = None, **extra: Any) -> dict:
    """A chat-completion reply with one choice per text."""
    choices = [
        {"index": i, "message": {"role": "assistant", "content": text}, "finish_reason": finish}
        for i, text in enumerate(texts)
    ]
    body = {"id": "x", "object": "chat.completion", "model": "m", "choices": choices, **extra}
    if usage is not None:
        body["usage"] = usage
    return body


def last_user(request: dict) -> str:
    return request["body"]["messages"][-1]["content"]


class ScriptedServer:
    """A stdlib HTTP server whose every reply comes from ``respond(request)``; it records each request
    and the most requests it ever held at once."""

    def __init__(self, respond: Callable[[dict], Reply]) -> None:
        self.respond = respond
        self.requests: list[dict] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real servers do

            def do_GET(self) -> None:
                self.serve("GET")

            def do_POST(self) -> None:
                self.serve("POST")

            def serve(self, method: str) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                request = {
                    "method": method,
                    "path": self.path,
                    "body": json.loads(raw) if raw else None,
                    "headers": {key.lower(): value for key, value in self.headers.items()},
                    "at": time.monotonic(),
                }
                with stub.lock:
                    stub.requests.append(request)
                    stub.in_flight += 1
                    stub.max_in_flight = max(stub.max_in_flight, stub.in_flight)
                try:
                    reply = stub.respond(request)
                    time.sleep(reply.delay)
                finally:
                    with stub.lock:
                        stub.in_flight -= 1
                body = reply.body
                payload = (
                    body
                    if isinstance(body, bytes)
                    else (body.encode() if isinstance(body, str) else json.dumps(body).encode())
                )
                self.send_response(reply.status)
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.handle_error = lambda *args: None  # a client that timed out hung up: expected here
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05})
        self.thread.daemon = True
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def posts(self) -> list[dict]:
        return [request for request in self.requests if request["method"] == "POST"]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def serve() -> Iterator[Callable[[Callable[[dict], Reply]], ScriptedServer]]:
    servers: list[ScriptedServer] = []

    def start(respond: Callable[[dict], Reply]) -> ScriptedServer:
        servers.append(ScriptedServer(respond))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def policies() -> Iterator[Callable[..., OpenAIPolicy]]:
    """Builds policies and closes them at the end of the test."""
    made: list[OpenAIPolicy] = []

    def build(server: ScriptedServer | None = None, **options: Any) -> OpenAIPolicy:
        options = {"api_key": "", **FAST, **options}
        if server is not None:
            options.setdefault("base_url", server.base_url)
        made.append(OpenAIPolicy(options.pop("model", "m"), **options))
        return made[-1]

    yield build
    for policy in made:
        policy.close()


# ----- requests and replies -----


def test_sampling_params_extra_body_and_reply_fields(serve, policies) -> None:
    usage = {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
    server = serve(lambda request: Reply(body=completion_body("hello", finish="length", usage=usage)))
    policy = policies(server, api_key="k-123", extra_body={"top_k": 5, "temperature": 9.0})
    params = SamplingParams(temperature=0.5, top_p=0.9, max_tokens=7, stop=("\n",), seed=3)

    [completion] = policy.generate([chat("hi")], params)

    assert completion.text == "hello"
    assert completion.finish_reason == "length"
    assert completion.usage == {"prompt_tokens": 11, "completion_tokens": 7}
    assert completion.error is None and completion.completion_logprobs is None
    [request] = server.posts()
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["authorization"] == "Bearer k-123"
    body = request["body"]
    assert body["messages"] == chat("hi") and body["model"] == "m"
    assert (body["temperature"], body["top_p"], body["max_tokens"], body["stop"], body["seed"]) == (
        0.5,
        0.9,
        7,
        ["\n"],
        3,
    )
    assert body["top_k"] == 5  # extra_body passes through; the sampling fields we set win
    assert "n" not in body and "logprobs" not in body


def test_native_n_groups_by_conversation_in_batch_order(serve, policies) -> None:
    def respond(request: dict) -> Reply:
        n = request["body"].get("n", 1)
        texts = [f"{last_user(request)}#{i}" for i in range(n)]
        body = completion_body(*texts, usage={"prompt_tokens": 4, "completion_tokens": 9})
        body["choices"].reverse()  # order by "index", not by position
        return Reply(body=body)

    server = serve(respond)
    policy = policies(server)

    completions = policy.generate([chat("a"), chat("b")], SamplingParams(n=3))

    assert [c.text for c in completions] == ["a#0", "a#1", "a#2", "b#0", "b#1", "b#2"]
    assert len(server.posts()) == 2 and {r["body"]["n"] for r in server.posts()} == {3}
    # One total for three choices: per-completion counts are not known, so they are not invented.
    assert all(c.usage == {"prompt_tokens": 4} for c in completions)
    assert policy.native_n is None  # n worked, nothing learned


def test_a_server_that_ignores_n_gets_separate_requests_with_distinct_seeds(serve, policies) -> None:
    server = serve(
        lambda request: Reply(body=completion_body(f"{last_user(request)}@{request['body'].get('seed')}"))
    )
    policy = policies(server)
    params = SamplingParams(n=3, seed=10)

    first = policy.generate([chat("a"), chat("b")], params)

    assert [c.text for c in first] == ["a@10", "a@11", "a@12", "b@10", "b@11", "b@12"]
    assert policy.native_n is False
    server.requests.clear()
    second = policy.generate([chat("c")], params)
    assert [c.text for c in second] == ["c@10", "c@11", "c@12"]
    assert all("n" not in request["body"] for request in server.posts())  # learned: no probe any more


def test_a_server_that_rejects_n_gets_separate_requests(serve, policies) -> None:
    def respond(request: dict) -> Reply:
        if request["body"].get("n", 1) > 1:
            return Reply(400, {"error": {"message": "n must be 1"}})
        return Reply(body=completion_body("one"))

    policy = policies(serve(respond))

    completions = policy.generate([chat("a")], SamplingParams(n=2))

    assert [(c.text, c.error) for c in completions] == [("one", None), ("one", None)]
    assert policy.native_n is False


def test_logprobs_and_vllm_token_ids(serve, policies) -> None:
    def respond(request: dict) -> Reply:
        as_ids = request["body"].get("return_tokens_as_token_ids")
        tokens = ["token_id:5", "token_id:6"] if as_ids else ["He", "llo"]
        content = [
            {"token": t, "logprob": lp, "bytes": None, "top_logprobs": []}
            for t, lp in zip(tokens, [-0.5, -1.5], strict=True)
        ]
        body = completion_body("Hello", usage={"prompt_tokens": 3, "completion_tokens": 2})
        body["choices"][0]["logprobs"] = {"content": content}
        if as_ids:
            body["prompt_token_ids"] = [1, 2, 3]
        return Reply(body=body)

    server = serve(respond)
    with_ids = policies(server, logprobs=True, extra_body={"return_tokens_as_token_ids": True})
    [completion] = with_ids.generate([chat("hi")])
    assert server.posts()[-1]["body"]["logprobs"] is True
    assert completion.completion_logprobs == [-0.5, -1.5]
    assert completion.completion_token_ids == [5, 6]
    assert completion.prompt_token_ids == [1, 2, 3]
    assert completion.usage == {"prompt_tokens": 3, "completion_tokens": 2}

    [plain] = policies(server, logprobs=True).generate([chat("hi")])
    assert plain.completion_logprobs == [-0.5, -1.5]
    assert plain.completion_token_ids is None and plain.prompt_token_ids is None


# ----- retries and per-item failures -----


def test_429_is_retried_after_the_servers_retry_after(serve, policies) -> None:
    def respond(request: dict) -> Reply:
        if len(server.posts()) == 1:
            return Reply(429, {"error": {"message": "slow down"}}, {"Retry-After": "0.4"})
        return Reply(body=completion_body("ok"))

    server = serve(respond)
    policy = policies(server, max_backoff_s=5.0)

    [completion] = policy.generate([chat("hi")])

    assert completion.text == "ok" and completion.error is None
    first, second = server.posts()
    assert second["at"] - first["at"] >= 0.35  # the server's 0.4 s, not the 1 ms backoff


def test_retry_after_is_capped(serve, policies) -> None:
    def respond(request: dict) -> Reply:
        if len(server.posts()) == 1:
            return Reply(503, "busy", {"Retry-After": "3600"})
        return Reply(body=completion_body("ok"))

    server = serve(respond)
    started = time.monotonic()

    [completion] = policies(server, max_backoff_s=0.2).generate([chat("hi")])

    assert completion.text == "ok"
    assert time.monotonic() - started < 3


def test_persistent_5xx_fails_only_that_item(serve, policies) -> None:
    def respond(request: dict) -> Reply:
        if last_user(request) == "bad":
            return Reply(500, {"error": {"message": "boom"}})
        return Reply(body=completion_body(last_user(request).upper()))

    server = serve(respond)
    policy = policies(server, max_retries=2)

    good, bad, other = policy.generate([chat("good"), chat("bad"), chat("other")])

    assert (good.text, other.text) == ("GOOD", "OTHER") and good.error is other.error is None
    assert bad.text == "" and "3 attempt" in bad.error and "HTTP 500" in bad.error and "boom" in bad.error
    assert sum(last_user(r) == "bad" for r in server.posts()) == 3


def test_a_400_fails_only_that_item_without_retrying(serve, policies) -> None:
    def respond(request: dict) -> Reply:
        if last_user(request) == "long":
            return Reply(400, {"error": {"message": "prompt is too long"}})
        return Reply(body=completion_body("fine"))

    server = serve(respond)

    fine, long = policies(server).generate([chat("short"), chat("long")])

    assert fine.text == "fine"
    assert long.error == "HTTP 400: prompt is too long"
    assert len(server.posts()) == 2


def test_malformed_replies_fail_only_that_item(serve, policies) -> None:
    replies = {"html": Reply(body="<html>oops</html>"), "empty": Reply(body={"choices": []})}
    replies["no-message"] = Reply(body={"choices": [{"index": 0}]})
    server = serve(lambda request: replies.get(last_user(request), Reply(body=completion_body("ok"))))

    ok, html, empty, no_message = policies(server).generate(
        [chat("fine"), chat("html"), chat("empty"), chat("no-message")]
    )

    assert ok.text == "ok"
    assert "malformed reply (not JSON)" in html.error
    assert empty.error == "the reply has no choices"
    assert "malformed reply" in no_message.error


def test_a_slow_server_times_out_per_item(serve, policies) -> None:
    server = serve(
        lambda request: Reply(body=completion_body("late"), delay=5.0 if last_user(request) == "slow" else 0)
    )
    started = time.monotonic()

    # 1 s leaves a loaded CI box room to answer the fast item; two attempts still end well before
    # the slow reply's 5 s, which is what shows the client gave up rather than waited.
    fast, slow = policies(server, timeout_s=1.0, max_retries=1).generate([chat("fast"), chat("slow")])

    assert fast.text == "late"
    assert "no reply within timeout_s=1s" in slow.error and "2 attempt" in slow.error
    assert time.monotonic() - started < 4.5


def test_a_dead_endpoint_fails_every_item_without_hanging(policies) -> None:
    policy = policies(base_url=f"http://127.0.0.1:{free_port()}/v1", max_retries=2)
    started = time.monotonic()

    completions = policy.generate([chat("a"), chat("b"), chat("c")], SamplingParams(n=2))

    assert len(completions) == 6
    assert all(c.text == "" and "connection failed" in c.error for c in completions)
    assert time.monotonic() - started < 5
    with pytest.raises(PolicyUnavailable, match="cannot reach"):
        policy.list_models()


# ----- whole-call failures -----


def test_a_refused_key_raises_and_never_shows_the_key(serve, policies) -> None:
    secret = "sk-very-secret-0123456789"
    server = serve(
        lambda request: Reply(401, {"error": {"message": f"Incorrect API key provided: {secret}"}})
    )

    with pytest.raises(PolicyUnavailable) as raised:
        policies(server, api_key=secret).generate([chat("a"), chat("b")])

    assert secret not in str(raised.value) and "api_key argument" in str(raised.value)
    assert "HTTP 401" in str(raised.value)


def test_a_missing_key_names_the_environment_variable(serve, policies, monkeypatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    server = serve(lambda request: Reply(403, {"error": "forbidden"}))
    policy = OpenAIPolicy("m", server.base_url, **FAST)
    try:
        with pytest.raises(PolicyUnavailable, match="set OPENAI_API_KEY"):
            policy.generate([chat("a")])
    finally:
        policy.close()


def test_an_unknown_model_raises_with_the_models_the_server_offers(serve, policies) -> None:
    def respond(request: dict) -> Reply:
        if request["method"] == "GET":
            return Reply(body={"object": "list", "data": [{"id": "alpha"}, {"id": "beta"}]})
        return Reply(404, {"error": {"message": "The model `nope` does not exist.", "code": 404}})

    server = serve(respond)

    with pytest.raises(PolicyUnavailable) as raised:
        policies(server, model="nope").generate([chat("a"), chat("b"), chat("c")])

    message = str(raised.value)
    assert "'nope'" in message and "does not exist" in message and "it offers: alpha, beta" in message
    assert policies(server).list_models() == ["alpha", "beta"]


def test_a_model_error_sent_as_400_also_raises(serve, policies) -> None:
    def respond(request: dict) -> Reply:
        if request["method"] == "GET":
            return Reply(500, "Internal Server Error")
        return Reply(400, {"detail": "Server is pinned to 'smol'; requested 'nope'."})

    with pytest.raises(PolicyUnavailable, match=r"pinned to 'smol'.*model list is unavailable"):
        policies(serve(respond), model="nope").generate([chat("a")])
    with pytest.raises(PolicyError, match="HTTP 500"):
        policies(serve(respond)).list_models()


# ----- concurrency, loops and threads -----


def test_the_concurrency_budget_holds_across_calls_loops_and_threads(serve, policies) -> None:
    server = serve(lambda request: Reply(body=completion_body(last_user(request)), delay=0.1))
    policy = policies(server, max_concurrency=3)
    results: dict[str, list[str]] = {}

    def in_new_loop(name: str) -> None:
        batch = [chat(f"{name}{i}") for i in range(6)]
        results[name] = [c.text for c in asyncio.run(policy.agenerate(batch))]

    threads = [threading.Thread(target=in_new_loop, args=(name,)) for name in "xy"]
    for thread in threads:
        thread.start()
    blocking = [c.text for c in policy.generate([chat(f"z{i}") for i in range(6)])]
    for thread in threads:
        thread.join()

    assert server.max_in_flight == 3
    assert results == {"x": [f"x{i}" for i in range(6)], "y": [f"y{i}" for i in range(6)]}
    assert blocking == [f"z{i}" for i in range(6)]


def test_generate_works_inside_a_running_loop_and_close_is_idempotent(serve, policies) -> None:
    server = serve(lambda request: Reply(body=completion_body("ok")))
    policy = policies(server)

    async def caller() -> list[str]:
        blocking = policy.generate([chat("a")])  # the caller's loop is blocked, not deadlocked
        awaited = await policy.agenerate([chat("b")])
        await policy.aclose()
        return [c.text for c in blocking + awaited]

    assert asyncio.run(caller()) == ["ok", "ok"]
    assert [c.text for c in policy.generate([chat("c")])] == ["ok"]  # reopens lazily
    policy.close()
    policy.close()


def test_async_context_manager_and_defaults_from_the_environment(serve, monkeypatch) -> None:
    server = serve(lambda request: Reply(body=completion_body(request["headers"].get("authorization", ""))))
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url + "/")
    monkeypatch.setenv("OPENAI_API_KEY", "env-key")

    async def run() -> str:
        async with OpenAIPolicy("m", **FAST) as policy:
            assert policy.base_url == server.base_url and "env-key" not in repr(policy)
            [completion] = await policy.agenerate([chat("a")])
            return completion.text

    assert asyncio.run(run()) == "Bearer env-key"


# ----- transformers serve with the embedded SmolLM2 -----


@pytest.fixture(scope="module")
def local_server() -> Iterator[LocalServer]:
    reason = missing_serving_pieces()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"the local OpenAI-compatible server is required in CI: {reason}", pytrace=False)
        pytest.skip(reason)
    with LocalServer(device="cpu") as server:
        yield server


def test_local_server_chat_completion(local_server: LocalServer) -> None:
    with local_server.policy() as policy:
        greedy = SamplingParams(temperature=0, max_tokens=6)
        [first] = policy.generate([chat("Say hi")], greedy)
        [again] = policy.generate([chat("Say hi")], greedy)

    assert first.error is None and first.text.strip()
    assert first.finish_reason == "length"
    assert first.usage["completion_tokens"] == 6 and first.usage["prompt_tokens"] > 6
    assert again.text == first.text  # temperature 0 is greedy there
    assert first.completion_logprobs is None  # logprobs were not asked for


def test_local_server_batch_with_n_and_a_concurrency_limit(local_server: LocalServer) -> None:
    with local_server.policy(max_concurrency=2) as policy:
        completions = policy.generate(
            [chat("Name a color"), chat("Name a fruit")], SamplingParams(n=2, max_tokens=3, seed=0)
        )

    assert len(completions) == 4 and all(c.error is None and c.text for c in completions)
    assert policy.native_n is False  # transformers serve answers n > 1 with one choice


def test_local_server_ignores_logprobs(local_server: LocalServer) -> None:
    with local_server.policy(logprobs=True) as policy:
        [completion] = policy.generate([chat("Hello")], SamplingParams(max_tokens=2))

    assert completion.error is None and completion.text
    assert completion.completion_logprobs is None and completion.completion_token_ids is None


def test_local_server_unknown_model_is_unavailable(local_server: LocalServer) -> None:
    policy = OpenAIPolicy("no-such-model", local_server.base_url, api_key="", **FAST)
    with policy, pytest.raises(PolicyUnavailable, match="no-such-model") as raised:
        policy.generate([chat("Hello")], SamplingParams(max_tokens=2))
    assert "pinned" in str(raised.value) and str(local_server.model_id) in str(raised.value)


def test_local_server_samples_and_seeds_are_reproducible(local_server: LocalServer) -> None:
    # One request at a time: the server seeds torch's global generator per request.
    params = SamplingParams(n=2, max_tokens=4, seed=7)
    with local_server.policy(max_concurrency=1, native_n=False) as policy:
        first = [c.text for c in policy.generate([chat("Write one random word.")], params)]
        again = [c.text for c in policy.generate([chat("Write one random word.")], params)]

    assert first == again  # seeds 7 and 8, both times
    assert first[0] != first[1]  # the served directory samples: a group is not n greedy copies

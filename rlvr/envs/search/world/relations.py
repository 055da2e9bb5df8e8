"""The relations questions are built from: how to read each one off the model and how to ask about it.

A relation's ``name`` is also the tag its sentences carry in the subject's article (see ``articles``),
which ties a question's hop to the passage that supports it. Entity-valued relations have noun phrases
("the founder of {x}") so they can be nested inside another relation's question; value relations
(dates, years, numbers, words) only end a chain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rlvr.envs.search.world.model import INDUSTRIES, KINDS, OCCUPATIONS, Model

VALUE_TYPES = ("date", "year", "number", "metres", "kilometres", "text")


@dataclass(frozen=True)
class Relation:
    """One functional relation: at most one value per subject, so its answer is unambiguous."""

    name: str
    domain: str
    target: str
    """An entity kind, or one of ``VALUE_TYPES``."""
    get: Callable[[Model, int], int | str]
    """The value for subject ``i``: an entity index, a number, a string; ``-1`` or ``""`` when unknown."""
    asks: tuple[str, ...]
    """Questions about ``{x}``; ``{be}`` becomes "is" or "was" (the subject is alive, or not)."""
    phrases: tuple[str, ...] = ()
    """Noun phrases for the value, nesting ``{x}``: "the founder of {x}"."""

    @property
    def links(self) -> bool:
        return self.target in KINDS


def _r(
    name: str,
    domain: str,
    target: str,
    get: Callable[[Model, int], int | str],
    asks: tuple[str, ...],
    phrases: tuple[str, ...] = (),
) -> Relation:
    return Relation(name, domain, target, get, asks, phrases)


RELATIONS: tuple[Relation, ...] = (
    # people
    _r("birthplace", "person", "city", lambda m, i: m.people.birth_city[i],
       ("In which city was {x} born?", "Where was {x} born?", "What is the birthplace of {x}?"),
       ("the birthplace of {x}", "the city where {x} was born")),
    _r("birth_date", "person", "date", lambda m, i: m.people.birth[i],
       ("When was {x} born?", "On what date was {x} born?", "What is the date of birth of {x}?")),
    _r("death_date", "person", "date", lambda m, i: m.people.death[i],
       ("When did {x} die?", "On what date did {x} die?")),
    _r("deathplace", "person", "city", lambda m, i: m.people.death_city[i],
       ("In which city did {x} die?", "Where did {x} die?"),
       ("the city where {x} died", "the place of death of {x}")),
    _r("citizenship", "person", "country", lambda m, i: m.people.citizenship[i],
       ("Of which country {be} {x} a citizen?", "Which country's citizenship {did} {x} hold?"),
       ("the country of which {x} {be} a citizen", "the country of citizenship of {x}")),
    _r("occupation", "person", "text", lambda m, i: OCCUPATIONS[m.people.occupation[i]][0],
       ("What {be} the occupation of {x}?", "What {did} {x} do for a living?")),
    _r("father", "person", "person", lambda m, i: m.people.father[i],
       ("Who was the father of {x}?", "Who is the father of {x}?"), ("the father of {x}",)),
    _r("mother", "person", "person", lambda m, i: m.people.mother[i],
       ("Who was the mother of {x}?", "Who is the mother of {x}?"), ("the mother of {x}",)),
    _r("spouse", "person", "person", lambda m, i: m.people.spouse[i],
       ("Who did {x} marry?", "Who was the spouse of {x}?"), ("the spouse of {x}",)),
    _r("alma_mater", "person", "university", lambda m, i: m.people.alma_mater[i],
       ("Which university did {x} attend?", "Where was {x} educated?"),
       ("the university {x} attended", "the alma mater of {x}")),
    _r("employer", "person", "company", lambda m, i: m.people.employer[i],
       ("Which company did {x} work for?", "For which company did {x} work?"),
       ("the company {x} worked for", "the employer of {x}")),
    _r("band", "person", "band", lambda m, i: m.people.band[i],
       ("Which band {be} {x} a member of?", "Of which band {be} {x} a member?"),
       ("the band {x} played in", "the band of which {x} {be} a member")),
    # places
    _r("country", "city", "country", lambda m, i: m.cities.country[i],
       ("In which country is {x}?", "In which country is {x} located?"),
       ("the country where {x} is located", "the country in which {x} lies")),
    _r("river", "city", "river", lambda m, i: m.cities.river[i],
       ("On which river does {x} lie?", "Which river flows through {x}?"),
       ("the river that flows through {x}", "the river on which {x} lies")),
    _r("founding_year", "city", "year", lambda m, i: m.cities.founded[i],
       ("In what year was {x} founded?", "When was {x} founded?")),
    _r("population", "city", "number", lambda m, i: m.cities.population[i],
       ("What is the population of {x}?", "How many people live in {x}?")),
    _r("mayor", "city", "person", lambda m, i: m.cities.mayor[i],
       ("Who is the mayor of {x}?", "Who is the current mayor of {x}?"), ("the mayor of {x}",)),
    _r("capital", "country", "city", lambda m, i: m.countries.capital[i],
       ("What is the capital of {x}?", "Which city is the capital of {x}?"),
       ("the capital of {x}", "the capital city of {x}")),
    _r("founding_year", "country", "year", lambda m, i: m.countries.established[i],
       ("In what year was {x} established?", "When did {x} become an independent state?")),
    _r("language", "country", "text", lambda m, i: m.countries.language[i],
       ("What is the official language of {x}?", "Which language is official in {x}?")),
    _r("currency", "country", "text", lambda m, i: m.countries.currency[i],
       ("What is the currency of {x}?", "What currency is used in {x}?")),
    _r("head_of_state", "country", "person", lambda m, i: m.countries.head_of_state[i],
       ("Who is the head of state of {x}?",), ("the head of state of {x}",)),
    _r("country", "river", "country", lambda m, i: m.rivers.country[i],
       ("In which country is {x}?", "Through which country does {x} flow?"), ("the country of {x}",)),
    _r("length", "river", "kilometres", lambda m, i: m.rivers.length[i],
       ("How long is {x}?", "What is the length of {x}?")),
    _r("source", "river", "mountain", lambda m, i: m.rivers.source[i],
       ("On which mountain does {x} rise?", "Where is the source of {x}?"),
       ("the mountain where {x} rises",)),
    _r("country", "mountain", "country", lambda m, i: m.mountains.country[i],
       ("In which country is {x}?",), ("the country where {x} stands",)),
    _r("height", "mountain", "metres", lambda m, i: m.mountains.height[i],
       ("How high is {x}?", "What is the elevation of {x}?")),
    _r("first_ascender", "mountain", "person", lambda m, i: m.mountains.first_ascent[i],
       ("Who first climbed {x}?", "Who made the first ascent of {x}?"), ("the first person to climb {x}",)),
    _r("ascent_year", "mountain", "year", lambda m, i: m.mountains.ascent_year[i],
       ("In what year was {x} first climbed?",)),
    # organisations
    _r("headquarters", "company", "city", lambda m, i: m.companies.headquarters[i],
       ("Where is {x} headquartered?", "In which city is {x} based?"),
       ("the city where {x} is headquartered", "the home city of {x}")),
    _r("founding_year", "company", "year", lambda m, i: m.companies.founded[i],
       ("In what year was {x} founded?", "When was {x} founded?")),
    _r("founder", "company", "person", lambda m, i: m.companies.founder[i],
       ("Who founded {x}?", "Who was the founder of {x}?"), ("the founder of {x}",)),
    _r("ceo", "company", "person", lambda m, i: m.companies.ceo[i],
       ("Who is the chief executive of {x}?", "Who leads {x} as chief executive?"),
       ("the chief executive of {x}",)),
    _r("industry", "company", "text", lambda m, i: INDUSTRIES[m.companies.industry[i]][0],
       ("In which industry is {x}?", "What industry does {x} work in?")),
    _r("location", "university", "city", lambda m, i: m.universities.city[i],
       ("In which city is {x}?", "Where is {x} located?"), ("the city where {x} is located",)),
    _r("founding_year", "university", "year", lambda m, i: m.universities.founded[i],
       ("In what year was {x} founded?", "When was {x} established?")),
    _r("founder", "university", "person", lambda m, i: m.universities.founder[i],
       ("Who founded {x}?",), ("the founder of {x}",)),
    _r("origin", "band", "city", lambda m, i: m.bands.city[i],
       ("In which city was {x} formed?", "Where was {x} formed?"), ("the city where {x} was formed",)),
    _r("founding_year", "band", "year", lambda m, i: m.bands.formed[i],
       ("In what year was {x} formed?", "When was {x} formed?")),
    # works and awards
    _r("author", "book", "person", lambda m, i: m.books.creator[i],
       ("Who wrote {x}?", "Who is the author of {x}?"), ("the author of {x}",)),
    _r("release_year", "book", "year", lambda m, i: m.books.year[i],
       ("In what year was {x} published?", "When was {x} first published?")),
    _r("award", "book", "award", lambda m, i: m.books.award[i],
       ("Which award did {x} win?", "What prize was {x} awarded?"), ("the award won by {x}",)),
    _r("director", "film", "person", lambda m, i: m.films.creator[i],
       ("Who directed {x}?", "Who was the director of {x}?"), ("the director of {x}",)),
    _r("release_year", "film", "year", lambda m, i: m.films.year[i],
       ("In what year was {x} released?", "When was {x} released?")),
    _r("award", "film", "award", lambda m, i: m.films.award[i],
       ("Which award did {x} win?",), ("the award won by {x}",)),
    _r("artist", "album", "band", lambda m, i: m.albums.creator[i],
       ("Which band recorded {x}?", "Who released the album {x}?"), ("the band that recorded {x}",)),
    _r("release_year", "album", "year", lambda m, i: m.albums.year[i],
       ("In what year was {x} released?", "When did {x} come out?")),
    _r("award", "album", "award", lambda m, i: m.albums.award[i],
       ("Which award did {x} win?",), ("the award won by {x}",)),
    _r("founding_year", "award", "year", lambda m, i: m.awards.established[i],
       ("In what year was {x} established?", "Since when has {x} been awarded?")),
    _r("country", "award", "country", lambda m, i: m.awards.country[i],
       ("In which country is {x} presented?",), ("the country where {x} is presented",)),
)  # fmt: skip

BY_DOMAIN: dict[str, tuple[Relation, ...]] = {
    kind: tuple(r for r in RELATIONS if r.domain == kind) for kind in KINDS
}
BY_KEY: dict[tuple[str, str], Relation] = {(r.domain, r.name): r for r in RELATIONS}

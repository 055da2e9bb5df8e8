"""Render one entity as an encyclopedia article, and cut articles into retrieval passages.

An article is a list of paragraphs of ``(sentence, tags)``: the tags name the relations the sentence
states about the article's subject (``"birthplace"``, ``"founder"``), which is how a question learns
which passage supports each hop without searching text. Sentences that state facts about *other*
entities (the subject's father's birthplace, a neighbouring city's founding year) carry no tag: they
are the distractors that make a retriever pick the right document rather than any document with the
right words.

Template choices come from a per-entity row of random numbers, drawn by chunk from the world seed, so
an article renders the same whether it is the 3rd or the 300,000th one asked for, in any order.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from datetime import date
from typing import TypeVar

import numpy as np

from rlvr.envs.search.world import prose
from rlvr.envs.search.world.model import CENSUS_YEAR, INDUSTRIES, KINDS, OCCUPATIONS, PRESENT_YEAR, Model

T = TypeVar("T")
Sentence = tuple[str, tuple[str, ...]]
Paragraph = list[Sentence]

MAX_WORDS = 120
"""A passage never exceeds this many words (Wikipedia-DPR passages are 100 words)."""
MIN_WORDS = 40
"""Nor falls below this many (most are 80-120; the short ones are the ends of long articles)."""
ARTICLE_FLOOR = 70
"""Articles shorter than this get general sentences appended, so even a stub is a full passage."""

_SLOTS = 64
_CHUNK = 256
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_KIND_CODE = {kind: code for code, kind in enumerate(KINDS)}
_NO_TAGS: tuple[str, ...] = ()


def dmy(ordinal: int) -> str:
    """``12 March 1843``: the form article leads use."""
    day = date.fromordinal(ordinal)
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def mdy(ordinal: int) -> str:
    """``March 12, 1843``: the form article bodies use; questions accept both."""
    day = date.fromordinal(ordinal)
    return f"{_MONTHS[day.month - 1]} {day.day}, {day.year}"


def _a(phrase: str) -> str:
    return ("an " if phrase[0] in "aeiouAEIOU" else "a ") + phrase


def _a_year(year: int) -> str:
    return ("an " if 1800 <= year < 1900 or 1100 <= year < 1200 else "a ") + str(year)


def _listing(items: Sequence[str]) -> str:
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]


def _spread(members: list[int], limit: int, skip: int = -1) -> list[int]:
    """Up to ``limit`` members spread over the list (not just the oldest), leaving out ``skip``."""
    members = [m for m in members if m != skip]
    if len(members) <= limit:
        return members
    step = len(members) / limit
    return [members[int(k * step)] for k in range(limit)]


class Choices:
    """Random rows per entity, generated a chunk at a time from ``(seed, kind, chunk)``."""

    def __init__(self, seed: int, cached_chunks: int = 64) -> None:
        self._seed = seed
        self._limit = cached_chunks
        self._chunks: dict[tuple[int, int], np.ndarray] = {}

    def row(self, kind: str, index: int) -> list[int]:
        key = (_KIND_CODE[kind], index // _CHUNK)
        chunk = self._chunks.get(key)
        if chunk is None:
            if len(self._chunks) >= self._limit:
                del self._chunks[next(iter(self._chunks))]
            rng = np.random.default_rng([self._seed, 0xA271C1E, *key])
            chunk = rng.integers(0, 0xFFFF, size=(_CHUNK, _SLOTS), dtype=np.uint16, endpoint=True)
            self._chunks[key] = chunk
        return chunk[index % _CHUNK].tolist()


class Picker:
    """Draws template choices from one entity's row, in order."""

    __slots__ = ("_n", "_row")

    def __init__(self, row: list[int]) -> None:
        self._row = row
        self._n = 0

    def draw(self) -> int:
        n = self._n
        self._n = n + 1
        return self._row[n] if n < _SLOTS else (self._row[n % _SLOTS] * 40503 + n) & 0xFFFF

    def __call__(self, options: Sequence[T]) -> T:
        return options[self.draw() % len(options)]

    def chance(self, p: float) -> bool:
        return self.draw() < p * 65536

    def some(self, options: Sequence[T], k: int) -> list[T]:
        """``k`` different options (fewer if there are fewer), consecutive from a random start."""
        start = self.draw()
        return [options[(start + j) % len(options)] for j in range(min(k, len(options)))]

    def say(
        self, templates: Sequence[str], fields: dict[str, object], tags: tuple[str, ...] = _NO_TAGS
    ) -> Sentence:
        """One of ``templates`` filled in with ``fields``, tagged with the relations it states."""
        n = self._n
        self._n = n + 1
        value = self._row[n] if n < _SLOTS else (self._row[n % _SLOTS] * 40503 + n) & 0xFFFF
        return templates[value % len(templates)].format_map(fields), tags

    def say_some(self, templates: Sequence[str], k: int, fields: dict[str, object]) -> list[Sentence]:
        """``k`` different untagged sentences from ``templates``."""
        return [(template.format_map(fields), _NO_TAGS) for template in self.some(templates, k)]


def _history(
    pick: Picker, templates: Sequence[tuple[str, int]], start: int, k: int, fields: dict[str, object]
) -> list[Sentence]:
    """``k`` dated events after ``start`` (each template has an earliest year), told in date order.

    The years are invented but consistent (after the founding, before now); they are distractors for
    the question "when was it founded?".
    """
    last = PRESENT_YEAR - 1
    events = []
    for template, earliest in pick.some(templates, k):
        first = max(start + 1, earliest)
        if first <= last:
            events.append((first + pick.draw() % (last - first + 1), template))
    events.sort()
    return [(template.format_map({**fields, "year": year}), _NO_TAGS) for year, template in events]


def _pad(
    pick: Picker, paragraphs: list[Paragraph], fillers: Sequence[str], fields: dict[str, object]
) -> None:
    """Append general sentences until the article reaches ``ARTICLE_FLOOR`` words."""
    words = 0
    for paragraph in paragraphs:
        for text, _ in paragraph:
            words += text.count(" ") + 1
        if words >= ARTICLE_FLOOR:
            return
    used = {text for paragraph in paragraphs for text, _ in paragraph}
    start = pick.draw()
    for k in range(len(fillers)):
        text = fillers[(start + k) % len(fillers)].format_map(fields)
        if text not in used:
            paragraphs[-1].append((text, _NO_TAGS))
            words += text.count(" ") + 1
            if words >= ARTICLE_FLOOR:
                return


class Renderer:
    """Turns entities of one ``Model`` into paragraphs of tagged sentences."""

    def __init__(self, model: Model, seed: int) -> None:
        self.model = model
        self.choices = Choices(seed)
        self._render = {
            "country": self._country,
            "city": self._city,
            "person": self._person,
            "company": self._company,
            "university": self._university,
            "band": self._band,
            "book": self._work,
            "film": self._work,
            "album": self._work,
            "award": self._award,
            "river": self._river,
            "mountain": self._mountain,
        }

    def paragraphs(self, kind: str, index: int) -> list[Paragraph]:
        pick = Picker(self.choices.row(kind, index))
        paragraphs = self._render[kind](kind, index, pick)
        return [p for p in paragraphs if p]

    # People ------------------------------------------------------------------------------------

    def _person(self, kind: str, i: int, pick: Picker) -> list[Paragraph]:
        m = self.model
        p, cities, countries = m.people, m.cities, m.countries
        female = p.female[i]
        he, his, him = ("she", "her", "her") if female else ("he", "his", "him")
        birth_city = p.birth_city[i]
        dead = p.death[i] >= 0
        occupation, category = OCCUPATIONS[p.occupation[i]]
        f: dict[str, object] = {
            "name": p.name[i],
            "short": p.surname[i],
            "Short": p.surname[i],
            "he": he,
            "He": he.capitalize(),
            "his": his,
            "His": his.capitalize(),
            "him": him,
            "was": "was" if dead else "is",
            "child": "daughter" if female else "son",
            "occupation": occupation,
            "a_occupation": _a(occupation),
            "citizenship": countries.name[p.citizenship[i]],
            "birth": dmy(p.birth[i]),
            "birth_us": mdy(p.birth[i]),
            "birth_city": cities.name[birth_city],
            "birth_country": countries.name[cities.country[birth_city]],
        }
        lead_tags = ("birth_date", "occupation", "citizenship")
        if dead:
            f["death"] = dmy(p.death[i])
            lead = pick.say(prose.PERSON_LEAD_DEAD, f, (*lead_tags, "death_date"))
        else:
            lead = pick.say(prose.PERSON_LEAD_ALIVE, f, lead_tags)
        intro: Paragraph = [lead]
        father, mother = p.father[i], p.mother[i]
        if father >= 0:
            f["father"], f["mother"] = p.name[father], p.name[mother]
            intro.append(
                pick.say(prose.PERSON_BIRTH_PARENTS, f, ("birthplace", "birth_date", "father", "mother"))
            )
            if pick.chance(0.6):
                f["a_father_occupation"] = _a(OCCUPATIONS[p.occupation[father]][0])
                f["father_city"] = cities.name[p.birth_city[father]]
                f["father_year"] = p.birth_year[father]
                intro.append(pick.say(prose.PERSON_FATHER, f))
            for sibling in _spread(m.children_of_father[father], 2, skip=i):
                f["sibling"] = p.name[sibling]
                f["sibling_year"] = p.birth_year[sibling]
                f["sibling_city"] = cities.name[p.birth_city[sibling]]
                older = "elder" if sibling < i else "younger"
                f["relative"] = f"{older} {'sister' if p.female[sibling] else 'brother'}"
                intro.append(pick.say(prose.PERSON_SIBLING, f))
        else:
            intro.append(pick.say(prose.PERSON_BIRTH, f, ("birthplace", "birth_date")))
        intro += pick.say_some(prose.PERSON_EARLY, 2, f)
        namesake = self._namesake(i)
        if namesake >= 0:
            f["namesake"] = p.name[namesake]
            f["namesake_year"] = p.birth_year[namesake]
            f["a_namesake_occupation"] = _a(OCCUPATIONS[p.occupation[namesake]][0])
            intro.append(pick.say(prose.PERSON_NAMESAKE, f))

        career: Paragraph = []
        if p.alma_mater[i] >= 0:
            university = p.alma_mater[i]
            f["alma_mater"] = m.universities.name[university]
            f["alma_year"] = m.universities.founded[university]
            f["alma_city"] = cities.name[m.universities.city[university]]
            career.append(pick.say(prose.PERSON_SCHOOL, f, ("alma_mater",)))
        career += pick.say_some(prose.PERSON_CAREER[category], 3, f)
        employer = p.employer[i]
        if employer >= 0:
            f["employer"] = m.companies.name[employer]
            f["a_industry"] = _a(INDUSTRIES[m.companies.industry[employer]][0])
            f["employer_city"] = cities.name[m.companies.headquarters[employer]]
            f["employer_year"] = m.companies.founded[employer]
            career.append(pick.say(prose.PERSON_EMPLOYER, f, ("employer",)))
        for company in m.founded_companies[i][:2]:
            fields = {**f, "year": m.companies.founded[company], "company": m.companies.name[company]}
            career.append(pick.say(prose.PERSON_FOUNDED, fields))
        for university in m.founded_universities[i][:1]:
            fields = {
                **f,
                "year": m.universities.founded[university],
                "company": m.universities.name[university],
            }
            career.append(pick.say(prose.PERSON_FOUNDED, fields))
        band = p.band[i]
        if band >= 0:
            f["band"] = m.bands.name[band]
            f["band_city"] = cities.name[m.bands.city[band]]
            f["band_year"] = m.bands.formed[band]
            career.append(pick.say(prose.PERSON_BAND, f, ("band",)))
        for table, groups, templates in (
            (m.books, m.books_by, prose.PERSON_BOOKS),
            (m.films, m.films_by, prose.PERSON_FILMS),
        ):
            works = _spread(groups[i], 4)
            if works:
                f["works"] = _listing([f"{table.name[w]} ({table.year[w]})" for w in works])
                career.append(pick.say(templates, f))
        if p.mayor_of[i] >= 0:
            career.append(pick.say(prose.PERSON_MAYOR, {**f, "city": cities.name[p.mayor_of[i]]}))
        if p.head_of[i] >= 0:
            career.append(pick.say(prose.PERSON_HEAD, {**f, "country": countries.name[p.head_of[i]]}))
        if p.ceo_of[i] >= 0:
            career.append(pick.say(prose.PERSON_CEO, {**f, "company": m.companies.name[p.ceo_of[i]]}))
        for mountain in m.ascents_by[i][:2]:
            fields = {**f, "year": m.mountains.ascent_year[mountain], "mountain": m.mountains.name[mountain]}
            career.append(pick.say(prose.PERSON_ASCENT, fields))

        life: Paragraph = []
        spouse = p.spouse[i]
        if spouse >= 0:
            f["spouse"] = p.name[spouse]
            f["spouse_city"] = cities.name[p.birth_city[spouse]]
            life.append(pick.say(prose.PERSON_SPOUSE, f, ("spouse",)))
        children = m.children_of_mother[i] if female else m.children_of_father[i]
        if children:
            f["count"] = len(children)
            f["children"] = _listing([p.name[c] for c in _spread(children, 2)])
            life.append(pick.say(prose.PERSON_CHILDREN if len(children) > 1 else prose.PERSON_CHILD, f))
        if dead:
            f["death_us"] = mdy(p.death[i])
            f["death_city"] = cities.name[p.death_city[i]]
            f["age"] = _age(p.birth[i], p.death[i])
            life.append(pick.say(prose.PERSON_DEATH, f, ("deathplace", "death_date")))
        legacy = pick.say_some(prose.PERSON_LEGACY, 3, f)
        paragraphs = [intro, career, life, legacy]
        _pad(pick, paragraphs, prose.PERSON_LEGACY, f)
        return paragraphs

    def _namesake(self, i: int) -> int:
        """Another person with the same surname who is not close family, or -1."""
        p = self.model.people
        group = self.model.same_surname.get(p.surname[i])
        if group is None:
            return -1
        for other in group[:12]:
            related = (
                other == i
                or (p.father[other] >= 0 and p.father[other] == p.father[i])
                or other in (p.father[i], p.mother[i], p.spouse[i])
                or i in (p.father[other], p.mother[other])
            )
            if not related:
                return other
        return -1

    # Places ------------------------------------------------------------------------------------

    def _city(self, kind: str, i: int, pick: Picker) -> list[Paragraph]:
        m = self.model
        cities, countries = m.cities, m.countries
        country = cities.country[i]
        f: dict[str, object] = {
            "name": cities.name[i],
            "country": countries.name[country],
            "founded": cities.founded[i],
            "population": f"{cities.population[i]:,}",
            "census": CENSUS_YEAR,
        }
        river = cities.river[i]
        if river >= 0:
            f["river"] = m.rivers.name[river]
            intro = [pick.say(prose.CITY_LEAD_RIVER, f, ("country", "river"))]
        else:
            intro = [pick.say(prose.CITY_LEAD, f, ("country",))]
        if countries.capital[country] == i:
            intro.append(pick.say(prose.CITY_CAPITAL, f))
        intro.append(pick.say(prose.CITY_FOUNDED, f, ("founding_year",)))
        intro.append(pick.say(prose.CITY_POPULATION, f, ("population",)))
        for other in ([cities.echoes[i]] if cities.echoes[i] >= 0 else []) + m.echoed_by[i][:1]:
            fields = {"other": cities.name[other], "other_country": countries.name[cities.country[other]]}
            intro.append(pick.say(prose.CITY_ECHO, fields))

        life: Paragraph = []
        if cities.mayor[i] >= 0:
            f["mayor"] = m.people.name[cities.mayor[i]]
            life.append(pick.say(prose.CITY_MAYOR, f, ("mayor",)))
        else:
            life.append(pick.say(prose.CITY_NO_MAYOR, f))
        born = _spread(m.born_in[i], 4)
        if born:
            people = m.people
            f["people"] = _listing([f"{people.name[k]} (born {people.birth_year[k]})" for k in born])
            life.append(pick.say(prose.CITY_NOTABLE, f))
        institutions = [m.universities.name[u] for u in m.universities_in[i][:2]]
        institutions += [m.companies.name[c] for c in m.companies_in[i][:2]]
        if institutions:
            life.append(pick.say(prose.CITY_INSTITUTIONS, {**f, "institutions": _listing(institutions)}))
        for band in m.bands_from[i][:1]:
            life.append(
                pick.say(prose.CITY_BAND, {**f, "band": m.bands.name[band], "year": m.bands.formed[band]})
            )

        region: Paragraph = []
        neighbours = _neighbours(m.cities_of[country], i, 2)
        if neighbours:
            items = [f"{cities.name[c]} (founded {cities.founded[c]})" for c in neighbours]
            region.append(pick.say(prose.CITY_NEIGHBOURS, {**f, "neighbours": _listing(items)}))
        region += pick.say_some(prose.CITY_FILLER, 2, f)
        region += pick.say_some(prose.CITY_CULTURE, 3, f)
        history = _history(pick, prose.CITY_HISTORY, cities.founded[i], 3, f)
        paragraphs = [intro, history, life, region]
        _pad(pick, paragraphs, prose.CITY_FILLER, f)
        return paragraphs

    def _country(self, kind: str, i: int, pick: Picker) -> list[Paragraph]:
        m = self.model
        countries, cities = m.countries, m.cities
        f: dict[str, object] = {
            "name": countries.name[i],
            "capital": cities.name[countries.capital[i]],
            "established": countries.established[i],
            "language": countries.language[i],
            "currency": countries.currency[i],
        }
        intro = [
            pick.say(prose.COUNTRY_LEAD, f, ("capital",)),
            pick.say(prose.COUNTRY_ESTABLISHED, f, ("founding_year",)),
            pick.say(prose.COUNTRY_LANGUAGE, f, ("language",)),
            pick.say(prose.COUNTRY_CURRENCY, f, ("currency",)),
        ]
        if countries.head_of_state[i] >= 0:
            f["head"] = m.people.name[countries.head_of_state[i]]
            intro.append(pick.say(prose.COUNTRY_HEAD, f, ("head_of_state",)))
        geography: Paragraph = []
        members = m.cities_of[i]
        largest = sorted(members, key=lambda c: -cities.population[c])[:4]
        if len(largest) > 1:
            items = [f"{cities.name[c]} ({cities.population[c]:,} inhabitants)" for c in largest]
            geography.append(pick.say(prose.COUNTRY_CITIES, {**f, "cities": _listing(items)}))
        peaks = m.mountains_of[i]
        if peaks:
            top = max(peaks, key=lambda k: m.mountains.height[k])
            fields = {"mountain": m.mountains.name[top], "height": f"{m.mountains.height[top]:,}"}
            geography.append(pick.say(prose.COUNTRY_MOUNTAIN, fields))
        rivers = m.rivers_of[i][:3]
        if rivers:
            items = ["the " + m.rivers.name[r] for r in rivers]
            geography.append(pick.say(prose.COUNTRY_RIVERS, {"rivers": _listing(items)}))
        geography += pick.say_some(prose.COUNTRY_FILLER, 2, f)
        history = _history(pick, prose.COUNTRY_HISTORY, countries.established[i], 3, f)
        paragraphs = [intro, history, geography]
        _pad(pick, paragraphs, prose.COUNTRY_FILLER, f)
        return paragraphs

    def _river(self, kind: str, i: int, pick: Picker) -> list[Paragraph]:
        m = self.model
        rivers = m.rivers
        f: dict[str, object] = {
            "name": rivers.name[i],
            "country": m.countries.name[rivers.country[i]],
            "length": f"{rivers.length[i]:,}",
        }
        intro = [
            pick.say(prose.RIVER_LEAD, f, ("country",)),
            pick.say(prose.RIVER_LENGTH, f, ("length",)),
        ]
        if rivers.source[i] >= 0:
            f["mountain"] = m.mountains.name[rivers.source[i]]
            intro.append(pick.say(prose.RIVER_SOURCE, f, ("source",)))
        on = _spread(m.cities_on[i], 4)
        if on:
            intro.append(pick.say(prose.RIVER_CITIES, {"cities": _listing([m.cities.name[c] for c in on])}))
        paragraphs = [intro, pick.say_some(prose.RIVER_FILLER, 3, f)]
        _pad(pick, paragraphs, prose.RIVER_FILLER, f)
        return paragraphs

    def _mountain(self, kind: str, i: int, pick: Picker) -> list[Paragraph]:
        m = self.model
        mountains = m.mountains
        country = mountains.country[i]
        f: dict[str, object] = {
            "name": mountains.name[i],
            "country": m.countries.name[country],
            "height": f"{mountains.height[i]:,}",
        }
        intro = [
            pick.say(prose.MOUNTAIN_LEAD, f, ("country",)),
            pick.say(prose.MOUNTAIN_HEIGHT, f, ("height",)),
        ]
        climber = mountains.first_ascent[i]
        if climber >= 0:
            f["climber"], f["year"] = m.people.name[climber], mountains.ascent_year[i]
            intro.append(pick.say(prose.MOUNTAIN_ASCENT, f, ("first_ascender", "ascent_year")))
        else:
            intro.append(pick.say(prose.MOUNTAIN_NO_ASCENT, f))
        for river in m.rivers_from[i][:2]:
            intro.append(pick.say(prose.MOUNTAIN_RIVER, {"river": m.rivers.name[river]}))
        for other in _neighbours(m.mountains_of[country], i, 1):
            fields = {"other": mountains.name[other], "other_height": f"{mountains.height[other]:,}"}
            intro.append(pick.say(prose.MOUNTAIN_NEIGHBOUR, fields))
        paragraphs = [intro, pick.say_some(prose.MOUNTAIN_FILLER, 3, f)]
        _pad(pick, paragraphs, prose.MOUNTAIN_FILLER, f)
        return paragraphs

    # Organisations -----------------------------------------------------------------------------

    def _company(self, kind: str, i: int, pick: Picker) -> list[Paragraph]:
        m = self.model
        companies, people = m.companies, m.people
        city = companies.headquarters[i]
        f: dict[str, object] = {
            "name": companies.name[i],
            "a_industry": _a(INDUSTRIES[companies.industry[i]][0]),
            "city": m.cities.name[city],
            "year": companies.founded[i],
        }
        intro = [pick.say(prose.COMPANY_LEAD, f, ("headquarters", "industry"))]
        founder = companies.founder[i]
        if founder >= 0:
            f["founder"] = people.name[founder]
            intro.append(pick.say(prose.COMPANY_FOUNDED_BY, f, ("founding_year", "founder")))
            if pick.chance(0.7):
                f["a_founder_occupation"] = _a(OCCUPATIONS[people.occupation[founder]][0])
                f["founder_city"] = m.cities.name[people.birth_city[founder]]
                f["founder_year"] = people.birth_year[founder]
                intro.append(pick.say(prose.COMPANY_FOUNDER, f))
        else:
            intro.append(pick.say(prose.COMPANY_FOUNDED, f, ("founding_year",)))
        if companies.ceo[i] >= 0:
            f["ceo"] = people.name[companies.ceo[i]]
            intro.append(pick.say(prose.COMPANY_CEO, f, ("ceo",)))
        more: Paragraph = []
        staff = _spread(m.employees_of[i], 3)
        if staff:
            more.append(
                pick.say(prose.COMPANY_EMPLOYEES, {"people": _listing([people.name[k] for k in staff])})
            )
        others = _neighbours(m.companies_in[city], i, 2)
        if others:
            items = [f"{companies.name[c]} (founded {companies.founded[c]})" for c in others]
            more.append(pick.say(prose.COMPANY_NEIGHBOURS, {**f, "others": _listing(items)}))
        more.append(pick.say(prose.COMPANY_FILLER, f))
        history = _history(pick, prose.COMPANY_HISTORY, companies.founded[i], 2, f)
        paragraphs = [intro, history, more]
        _pad(pick, paragraphs, prose.COMPANY_FILLER, f)
        return paragraphs

    def _university(self, kind: str, i: int, pick: Picker) -> list[Paragraph]:
        m = self.model
        universities = m.universities
        city = universities.city[i]
        country = m.cities.country[city]
        f: dict[str, object] = {
            "name": universities.name[i],
            "city": m.cities.name[city],
            "country": m.countries.name[country],
            "language": m.countries.language[country],
            "year": universities.founded[i],
        }
        intro = [pick.say(prose.UNIVERSITY_LEAD, f, ("location",))]
        if universities.founder[i] >= 0:
            f["founder"] = m.people.name[universities.founder[i]]
            intro.append(pick.say(prose.UNIVERSITY_FOUNDED_BY, f, ("founding_year", "founder")))
        else:
            intro.append(pick.say(prose.UNIVERSITY_FOUNDED, f, ("founding_year",)))
        alumni = _spread(m.alumni_of[i], 4)
        if alumni:
            intro.append(
                pick.say(prose.UNIVERSITY_ALUMNI, {"people": _listing([m.people.name[k] for k in alumni])})
            )
        history = _history(pick, prose.UNIVERSITY_HISTORY, universities.founded[i], 2, f)
        history += pick.say_some(prose.UNIVERSITY_FILLER, 2, f)
        paragraphs = [intro, history]
        _pad(pick, paragraphs, prose.UNIVERSITY_FILLER, f)
        return paragraphs

    def _band(self, kind: str, i: int, pick: Picker) -> list[Paragraph]:
        m = self.model
        bands = m.bands
        city = bands.city[i]
        f: dict[str, object] = {
            "name": bands.name[i],
            "city": m.cities.name[city],
            "country": m.countries.name[m.cities.country[city]],
            "year": bands.formed[i],
        }
        intro = [pick.say(prose.BAND_LEAD, f, ("origin", "founding_year"))]
        members = m.members_of[i]
        if members:
            intro.append(
                pick.say(prose.BAND_MEMBERS, {"people": _listing([m.people.name[k] for k in members])})
            )
        albums = _spread(m.albums_by[i], 4)
        if albums:
            items = [f"{m.albums.name[a]} ({m.albums.year[a]})" for a in albums]
            intro.append(pick.say(prose.BAND_ALBUMS, {"works": _listing(items)}))
        history = _history(pick, prose.BAND_HISTORY, bands.formed[i], 2, f)
        history += pick.say_some(prose.BAND_FILLER, 2, f)
        paragraphs = [intro, history]
        _pad(pick, paragraphs, prose.BAND_FILLER, f)
        return paragraphs

    # Works and awards --------------------------------------------------------------------------

    def _work(self, kind: str, i: int, pick: Picker) -> list[Paragraph]:
        m = self.model
        works = m.table(kind)
        creator = works.creator[i]
        year = works.year[i]
        setting = works.setting[i]
        f: dict[str, object] = {
            "name": works.name[i],
            "year": year,
            "a_year": _a_year(year),
            "setting": m.cities.name[setting],
            "setting_country": m.countries.name[m.cities.country[setting]],
            "a_occupation": _a(OCCUPATIONS[pick.draw() % len(OCCUPATIONS)][0]),
        }
        if kind == "album":
            f["creator"] = m.bands.name[creator]
            lead, role, siblings = prose.ALBUM_LEAD, "artist", m.albums_by[creator]
        else:
            f["creator"] = m.people.name[creator]
            lead = prose.BOOK_LEAD if kind == "book" else prose.FILM_LEAD
            role = "author" if kind == "book" else "director"
            siblings = (m.books_by if kind == "book" else m.films_by)[creator]
        intro = [pick.say(lead, f, ("release_year", role))]
        intro.append(pick.say(prose.WORK_SETTING[kind], f))
        if works.award[i] >= 0:
            f["award"] = m.awards.name[works.award[i]]
            f["award_year"] = works.award_year[i]
            intro.append(pick.say(prose.WORK_AWARD, f, ("award",)))
        more: Paragraph = []
        others = _spread(siblings, 3, skip=i)
        if others:
            items = [f"{works.name[w]} ({works.year[w]})" for w in others]
            more.append(pick.say(prose.WORK_SIBLINGS[kind], {**f, "works": _listing(items)}))
        if kind != "album" and pick.chance(0.6):
            fields = {
                **f,
                "creator_city": m.cities.name[m.people.birth_city[creator]],
                "creator_year": m.people.birth_year[creator],
            }
            more.append(pick.say(prose.WORK_CREATOR, fields))
        if year < PRESENT_YEAR - 2:
            f["edition"] = year + 2 + pick.draw() % (PRESENT_YEAR - 2 - year)
            more.append(pick.say(prose.WORK_EDITION[kind], f))
        more += pick.say_some(prose.WORK_FILLER[kind], 2, f)
        paragraphs = [intro, more]
        _pad(pick, paragraphs, prose.WORK_FILLER[kind], f)
        return paragraphs

    def _award(self, kind: str, i: int, pick: Picker) -> list[Paragraph]:
        m = self.model
        awards = m.awards
        domain = {"book": "literary", "film": "film", "album": "music"}[awards.domain[i]]
        f: dict[str, object] = {
            "name": awards.name[i],
            "year": awards.established[i],
            "country": m.countries.name[awards.country[i]],
            "domain": domain,
            "a_domain": _a(domain),
        }
        intro = [pick.say(prose.AWARD_LEAD, f, ("founding_year", "country"))]
        more: Paragraph = []
        wins = m.winners_of.get(i, [])[-24:]
        for n, start in enumerate(range(0, len(wins), 4)):
            items = [
                f"{m.table(work_kind).name[w]} ({year})" for year, work_kind, w in wins[start : start + 4]
            ]
            (intro if n < 2 else more).append(pick.say(prose.AWARD_WINNERS, {"works": _listing(items)}))
        more += pick.say_some(prose.AWARD_FILLER, 2, f)
        paragraphs = [intro, more]
        _pad(pick, paragraphs, prose.AWARD_FILLER, f)
        return paragraphs


def _neighbours(members: list[int], i: int, limit: int) -> list[int]:
    """Up to ``limit`` members nearest to ``i`` in the group (the entity itself excluded)."""
    if len(members) <= 1:
        return []
    position = bisect_left(members, i)
    out = []
    for offset in range(1, len(members)):
        for k in (position + offset, position - offset):
            if 0 <= k < len(members) and members[k] != i and len(out) < limit:
                out.append(members[k])
        if len(out) >= limit:
            break
    return out


def _age(birth: int, death: int) -> int:
    born, died = date.fromordinal(birth), date.fromordinal(death)
    return died.year - born.year - ((died.month, died.day) < (born.month, born.day))


def _bounds(words: list[int]) -> list[int]:
    """Sentence indices where passages start (plus the end), for sentences of ``words`` words.

    Greedy filling keeps every passage but the last above ``MAX_WORDS`` minus one sentence; a short
    last passage is merged into, or evened out with, the one before.
    """
    bounds = [0]
    total = 0
    for k, count in enumerate(words):
        if total and total + count > MAX_WORDS:
            bounds.append(k)
            total = 0
        total += count
    bounds.append(len(words))
    if len(bounds) > 2 and total < MIN_WORDS + 20:
        start, end = bounds[-3], bounds[-1]
        joint = sum(words[start:end])
        if joint <= MAX_WORDS:
            del bounds[-2]
        else:  # cut the last two passages' sentences where the halves come closest to equal
            best, best_gap, left = bounds[-2], joint, 0
            for cut in range(start + 1, end):
                left += words[cut - 1]
                if left <= MAX_WORDS and joint - left <= MAX_WORDS and abs(joint - 2 * left) < best_gap:
                    best, best_gap = cut, abs(joint - 2 * left)
            bounds[-2] = best
    return bounds


def passages_of(paragraphs: list[Paragraph]) -> list[str]:
    """The article cut into passages of whole sentences, each at most ``MAX_WORDS`` words."""
    texts = [text for paragraph in paragraphs for text, _ in paragraph]
    words = [text.count(" ") + 1 for text in texts]
    if sum(words) <= MAX_WORDS:
        return [" ".join(texts)]
    bounds = _bounds(words)
    return [" ".join(texts[bounds[n] : bounds[n + 1]]) for n in range(len(bounds) - 1)]


def split_passages(paragraphs: list[Paragraph]) -> tuple[list[str], dict[str, list[int]]]:
    """``passages_of`` plus, per tag, the passages holding a sentence with that tag."""
    sentences = [sentence for paragraph in paragraphs for sentence in paragraph]
    texts = [text for text, _ in sentences]
    bounds = _bounds([text.count(" ") + 1 for text in texts])
    passages = []
    facts: dict[str, list[int]] = {}
    for n in range(len(bounds) - 1):
        passages.append(" ".join(texts[bounds[n] : bounds[n + 1]]))
        for k in range(bounds[n], bounds[n + 1]):
            for tag in sentences[k][1]:
                found = facts.setdefault(tag, [])
                if not found or found[-1] != n:
                    found.append(n)
    return passages, facts


def full_text(paragraphs: list[Paragraph]) -> str:
    """The whole article, paragraphs separated by blank lines (what fetching its URL returns)."""
    return "\n\n".join(" ".join(text for text, _ in paragraph) for paragraph in paragraphs)

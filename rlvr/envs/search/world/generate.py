"""Draw a consistent world from a seed: places first, then people, then what people make.

The order is the order of dependence, so every constraint can be met by construction instead of by
rejection: people are born in cities already founded, to parents alive and adult at the birth; a
company's founding year is drawn inside its founder's adult life; a capital is one of its country's
cities; an office holder is alive now. Each step draws from its own stream
(``default_rng([seed, step])``), so changing how one kind is drawn leaves the others as they were.

Bulk draws are numpy; the loops that remain are the ones whose choices depend on earlier choices
(parents before children), and they touch each entity a constant number of times.
"""

from __future__ import annotations

import gc
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from datetime import date
from itertools import accumulate

import numpy as np

from rlvr.envs.search.world.model import (
    AWARD_DOMAINS,
    CATEGORY_WEIGHTS,
    INDUSTRIES,
    OCCUPATIONS,
    PRESENT,
    PRESENT_YEAR,
    Awards,
    Bands,
    Cities,
    Companies,
    Countries,
    Model,
    Mountains,
    People,
    Rivers,
    Universities,
    Works,
    WorldConfig,
)
from rlvr.envs.search.world.names import (
    ADJECTIVES,
    NOUNS,
    PHONOLOGIES,
    PLURALS,
    Phonology,
    Registry,
    stems,
    with_endings,
)

YEAR = 365.2425
_EPOCH = date(1970, 1, 1).toordinal()
_CATEGORIES = tuple(CATEGORY_WEIGHTS)
_BY_CATEGORY = {c: [k for k, (_, cat) in enumerate(OCCUPATIONS) if cat == c] for c in _CATEGORIES}
_OCCUPATION_INDEX = {name: k for k, (name, _) in enumerate(OCCUPATIONS)}


def years_of(ordinals: np.ndarray) -> np.ndarray:
    """Calendar years of date ordinals, vectorised through numpy's datetime64."""
    days = (ordinals - _EPOCH).astype("datetime64[D]")
    return days.astype("datetime64[Y]").astype(np.int64) + 1970


class Draws:
    """One build step's seeded stream: numpy for bulk arrays (``gen``), buffered blocks for scalars.

    A scalar ``Generator`` call costs microseconds of overhead and a million-passage world makes
    millions of scalar draws, so they are served from blocks of uniforms drawn ahead; likewise the
    one-off words in company, band and award names come from per-phonology pools.
    """

    def __init__(self, gen: np.random.Generator) -> None:
        self.gen = gen
        self._block: list[float] = []
        self._next = 0
        self._pools: dict[tuple[object, ...], list[str]] = {}

    def random(self) -> float:
        k = self._next
        if k == len(self._block):
            self._block = self.gen.random(4096).tolist()
            k = 0
        self._next = k + 1
        return self._block[k]

    def below(self, k: int) -> int:
        """A uniform integer in ``[0, k)``."""
        value = int(self.random() * k)
        return value if value < k else k - 1

    def pooled(self, key: tuple[object, ...], refill: Callable[[], list[str]]) -> str:
        """The next of a batch of names drawn by ``refill`` (one batch per ``key``, drawn when empty)."""
        pool = self._pools.get(key)
        if not pool:
            pool = refill()[::-1]
            self._pools[key] = pool
        return pool.pop()

    def word(self, style: int) -> str:
        """A fresh two-syllable capitalised word in phonology ``style``."""
        phonology = PHONOLOGIES[style]
        return self.pooled(
            ("word", style), lambda: with_endings(self.gen, stems(self.gen, phonology, 256, (2, 2)), ("",))
        )

    def unique(self, registry: Registry, make: Callable[[], str]) -> str:
        """``make()`` until it gives a name the registry grants."""
        name = make()
        while not registry.claim(name):
            name = make()
        return name


def _bell(rng: Draws, n: int) -> np.ndarray:
    """``n`` bell-shaped draws, mean 0 and standard deviation 1, from sums of four uniforms.

    Not ``Generator.normal``: its sampler calls libm's ``exp`` and ``log``, which may round differently
    on another platform, and a world must be the same everywhere. Sums and products of uniforms and
    ``sqrt`` are correctly rounded by IEEE 754, so every distribution here is built from those.
    """
    u = rng.gen.random((4, n))
    return (u[0] + u[1] + u[2] + u[3] - 2.0) * 1.7320508075688772


def _categorical(rng: Draws, weights: Sequence[float], n: int) -> np.ndarray:
    """``n`` indices drawn with probability proportional to ``weights``."""
    cumulative = list(accumulate(weights))
    drawn = np.searchsorted(np.asarray(cumulative), rng.gen.random(n) * cumulative[-1], side="right")
    return np.minimum(drawn, len(cumulative) - 1)


def _pick_before(rng: Draws, order: Sequence[int], keys: Sequence[int], limit: int) -> int:
    """A random entity among those whose sorted ``keys`` are <= ``limit`` (-1 when none)."""
    k = bisect_right(keys, limit)
    return -1 if k == 0 else order[rng.below(k)]


def _sorted_by(values: Sequence[int]) -> tuple[list[int], list[int]]:
    order = np.argsort(np.asarray(values), kind="stable")
    return order.tolist(), np.asarray(values)[order].tolist()


def _by_style(
    rng: Draws,
    registry: Registry,
    styles: Sequence[int],
    make: Callable[[np.random.Generator, Phonology, int], list[str]],
) -> list[str]:
    """One unique name per entity, drawn in a batch per phonology."""
    out = [""] * len(styles)
    for style, phonology in enumerate(PHONOLOGIES):
        members = [k for k, s in enumerate(styles) if s == style]
        if not members:
            continue
        drawn = registry.unique(len(members), lambda m, p=phonology: make(rng.gen, p, m))
        for k, name in zip(members, drawn, strict=True):
            out[k] = name
    return out


class _Builder:
    """Holds the draws shared between steps while one world is built."""

    def __init__(self, config: WorldConfig) -> None:
        self.config = config
        self.names = Registry()

    def rng(self, step: int) -> Draws:
        return Draws(np.random.default_rng([self.config.seed, 0x3C0A1D, step]))

    # Places ------------------------------------------------------------------------------------

    def countries(self) -> Countries:
        rng, n = self.rng(1), self.config.countries
        style = ((np.arange(n) + rng.below(len(PHONOLOGIES))) % len(PHONOLOGIES)).tolist()
        established = (1100 + 860 * rng.gen.random(n)).astype(int)
        established[0] = min(established[0], 1500)  # someone must be able to hold a citizenship in 1740
        names = _by_style(
            rng, self.names, style, lambda r, p, m: with_endings(r, stems(r, p, m, (1, 2)), p.country_endings)
        )
        languages: list[str] = []
        spoken: dict[int, list[str]] = {}
        for k in range(n):
            earlier = spoken.setdefault(style[k], [])
            if earlier and rng.random() < 0.3:  # neighbours often share a language
                languages.append(earlier[rng.below(len(earlier))])
                continue
            phon = PHONOLOGIES[style[k]]

            def language(p: Phonology = phon, key: tuple[object, ...] = ("language", style[k])) -> str:
                return rng.pooled(
                    key, lambda: with_endings(rng.gen, stems(rng.gen, p, 64, (1, 2)), p.language_endings)
                )

            languages.append(rng.unique(self.names, language))
            earlier.append(languages[-1])
        currencies = []
        for k in range(n):
            phon = PHONOLOGIES[style[k]]

            def currency(p: Phonology = phon, key: tuple[object, ...] = ("currency", style[k])) -> str:
                return rng.pooled(key, lambda: stems(rng.gen, p, 64, (2, 2)))

            currencies.append(rng.unique(self.names, currency))
        return Countries(
            name=names,
            style=style,
            established=established.tolist(),
            language=languages,
            currency=currencies,
            capital=[-1] * n,
            head_of_state=[-1] * n,
        )

    def cities(self, countries: Countries) -> Cities:
        rng, n = self.rng(2), self.config.cities
        n_countries = len(countries.name)
        weights = (0.3 + rng.gen.random(n_countries)).tolist()  # some countries have many more cities
        country = np.concatenate([np.arange(n_countries), _categorical(rng, weights, n - n_countries)])
        country = country.tolist()
        u = rng.gen.random(n)
        founded = (600 + 1300 * u * np.sqrt(u)).astype(int)  # most cities are old
        founded[0] = min(founded[0], 1000)  # older than any university, and every birth has a city
        u, v = rng.gen.random(n), rng.gen.random(n)
        cube = v * v * v  # many towns, a few metropolises
        population = (1200 + 60_000 * u * u + 4_000_000 * cube * cube).astype(int).tolist()
        styles = [countries.style[c] for c in country]
        names = _by_style(
            rng, self.names, styles, lambda r, p, m: with_endings(r, stems(r, p, m, (1, 2)), p.place_endings)
        )
        echoes = [-1] * n
        prefixes = ("Port", "New", "Upper", "Lower", "Old", "East", "West")
        for k in range(n_countries, n):
            if rng.random() < 0.1:  # "Port Kelmar" somewhere else: the search has to pick the right one
                base = rng.below(k)
                echo = f"{prefixes[rng.below(len(prefixes))]} {names[base]}"
                if country[base] != country[k] and echoes[base] < 0 and self.names.claim(echo):
                    names[k], echoes[k] = echo, base
        cities = Cities(
            name=names,
            country=country,
            founded=founded.tolist(),
            population=population,
            river=[-1] * n,
            mayor=[-1] * n,
            echoes=echoes,
        )
        for k in range(n):  # the capital is the largest city
            capital = countries.capital[country[k]]
            if capital < 0 or population[k] > population[capital]:
                countries.capital[country[k]] = k
        return cities

    def rivers_and_mountains(self, countries: Countries, cities: Cities) -> tuple[Rivers, Mountains]:
        rng = self.rng(3)
        n_countries = len(countries.name)
        mountain_country = rng.gen.integers(0, n_countries, size=self.config.mountains).tolist()
        river_country = rng.gen.integers(0, n_countries, size=self.config.rivers).tolist()
        peak_forms = ("Mount {}", "{} Peak", "Mount {}", "{}horn")

        def peak(r: np.random.Generator, p: Phonology, m: int) -> list[str]:
            forms = r.integers(0, len(peak_forms), size=m).tolist()
            words = with_endings(r, stems(r, p, m, (2, 2)), ("",))
            return [peak_forms[f].format(w) for f, w in zip(forms, words, strict=True)]

        mountain_names = _by_style(rng, self.names, [countries.style[c] for c in mountain_country], peak)
        u = rng.gen.random(self.config.mountains)
        heights = (900 + 7900 * u * np.sqrt(u)).astype(int).tolist()
        river_names = _by_style(
            rng,
            self.names,
            [countries.style[c] for c in river_country],
            lambda r, p, m: [f"{w} River" for w in with_endings(r, stems(r, p, m, (2, 2)), ("",))],
        )
        u = rng.gen.random(self.config.rivers)
        lengths = (40 + 2900 * u * u).astype(int).tolist()
        mountains = Mountains(
            name=mountain_names,
            country=mountain_country,
            height=heights,
            first_ascent=[-1] * len(mountain_names),
            ascent_year=[-1] * len(mountain_names),
        )
        by_country: dict[int, list[int]] = {}
        for k, c in enumerate(mountain_country):
            by_country.setdefault(c, []).append(k)
        source = []
        for c in river_country:
            peaks = by_country.get(c, [])
            source.append(peaks[rng.below(len(peaks))] if peaks and rng.random() < 0.85 else -1)
        rivers = Rivers(name=river_names, country=river_country, length=lengths, source=source)
        rivers_by_country: dict[int, list[int]] = {}
        for k, c in enumerate(river_country):
            rivers_by_country.setdefault(c, []).append(k)
        for k, c in enumerate(cities.country):
            options = rivers_by_country.get(c, [])
            if options and rng.random() < 0.45:
                cities.river[k] = options[rng.below(len(options))]
        return rivers, mountains

    # People ------------------------------------------------------------------------------------

    def people(self, countries: Countries, cities: Cities) -> People:
        rng, n = self.rng(4), self.config.people
        first, last = date(1740, 1, 1).toordinal(), date(2004, 12, 31).toordinal()
        recent = np.sqrt(rng.gen.random(n))  # more people in later generations
        birth_array = np.sort(first + ((last - first) * recent).astype(np.int64))
        life = (np.clip(72 + 13 * _bell(rng, n), 20, 102) * YEAR).astype(np.int64)
        death_array = birth_array + life
        alive = death_array >= PRESENT
        death_array[alive] = -1
        birth, death = birth_array.tolist(), death_array.tolist()
        birth_year = years_of(birth_array).tolist()
        death_year = np.where(alive, -1, years_of(np.where(alive, PRESENT, death_array))).tolist()
        end = [PRESENT if d < 0 else d for d in death]
        end_year = [PRESENT_YEAR if y < 0 else y for y in death_year]
        female = (rng.gen.random(n) < 0.5).tolist()
        occupation = self._occupations(rng, birth_year)

        spouse, father, mother = self._families(rng, birth, end, female)
        birth_city = self._birth_cities(rng, cities, birth_year, father, mother)
        citizenship = self._citizenships(rng, countries, cities, birth_city, end_year)
        order, keys = _sorted_by(cities.founded)
        death_city = [-1] * n
        for k in range(n):
            if death[k] >= 0:
                stay = rng.random() < 0.5
                death_city[k] = birth_city[k] if stay else _pick_before(rng, order, keys, death_year[k])
        styles = [countries.style[cities.country[c]] for c in birth_city]
        names, surnames = self._person_names(rng, styles, female, father, mother)
        return People(
            name=names,
            surname=surnames,
            female=female,
            birth=birth,
            death=death,
            birth_year=birth_year,
            death_year=death_year,
            occupation=occupation,
            birth_city=birth_city,
            death_city=death_city,
            citizenship=citizenship,
            father=father,
            mother=mother,
            spouse=spouse,
            alma_mater=[-1] * n,
            employer=[-1] * n,
            band=[-1] * n,
            mayor_of=[-1] * n,
            head_of=[-1] * n,
            ceo_of=[-1] * n,
        )

    def _occupations(self, rng: Draws, birth_year: list[int]) -> list[int]:
        n = len(birth_year)
        category = _categorical(rng, [CATEGORY_WEIGHTS[c] for c in _CATEGORIES], n).tolist()
        within = rng.gen.random(n).tolist()
        out = []
        for k in range(n):
            name = _CATEGORIES[category[k]]
            if name == "director" and birth_year[k] < 1860:  # no cinema yet: a playwright instead
                out.append(_OCCUPATION_INDEX["playwright"])
                continue
            options = _BY_CATEGORY[name]
            occupation = options[int(within[k] * len(options))]
            if name == "musician" and birth_year[k] < 1885:
                occupation = _OCCUPATION_INDEX["composer"]
            out.append(occupation)
        return out

    def _families(
        self, rng: Draws, birth: list[int], end: list[int], female: list[bool]
    ) -> tuple[list[int], list[int], list[int]]:
        """Couples of near-contemporaries, then children born while both parents live."""
        n = len(birth)
        spouse = [-1] * n
        marries = (rng.gen.random(n) < 0.6).tolist()
        for i in range(n):
            if spouse[i] >= 0 or not marries[i]:
                continue
            for j in range(i + 1, min(n, i + 14)):
                if (
                    spouse[j] < 0
                    and female[j] != female[i]
                    and birth[j] - birth[i] < 12 * YEAR
                    and min(end[i], end[j]) > birth[j] + 20 * YEAR
                ):
                    spouse[i], spouse[j] = j, i
                    break
        father, mother = [-1] * n, [-1] * n
        wanted = _categorical(rng, [0.15, 0.25, 0.3, 0.2, 0.1], n).tolist()
        for i in range(n):
            j = spouse[i]
            if j < i or not wanted[i]:
                continue
            dad, mum = (j, i) if female[i] else (i, j)
            low = birth[j] + int(18 * YEAR)
            high = min(
                birth[mum] + int(43 * YEAR), birth[dad] + int(60 * YEAR), end[dad], end[mum], PRESENT - 1
            )
            a, b = bisect_left(birth, low), bisect_left(birth, high)
            if a >= b:
                continue
            born: list[int] = []
            for _ in range(3 * wanted[i]):
                child = a + rng.below(b - a)
                spaced = all(abs(birth[child] - other) > 300 for other in born)  # no siblings months apart
                if father[child] < 0 and len(born) < wanted[i] and spaced:
                    father[child], mother[child] = dad, mum
                    born.append(birth[child])
        return spouse, father, mother

    def _birth_cities(
        self, rng: Draws, cities: Cities, birth_year: list[int], father: list[int], mother: list[int]
    ) -> list[int]:
        n = len(birth_year)
        order, keys = _sorted_by(cities.founded)
        available = np.searchsorted(np.asarray(keys), np.asarray(birth_year), side="right")
        drawn = np.asarray(order)[(rng.gen.random(n) * available).astype(int)].tolist()
        inherit = rng.gen.random(n).tolist()
        out = [-1] * n
        for k in range(n):  # parents are born earlier, so their cities are already chosen
            if father[k] >= 0 and inherit[k] < 0.6:
                out[k] = out[father[k]] if inherit[k] < 0.4 else out[mother[k]]
            else:
                out[k] = drawn[k]
        return out

    def _citizenships(
        self,
        rng: Draws,
        countries: Countries,
        cities: Cities,
        birth_city: list[int],
        end_year: list[int],
    ) -> list[int]:
        """The birth country, unless it was founded too late or the person emigrated."""
        order, keys = _sorted_by(countries.established)
        moves = rng.gen.random(len(birth_city)).tolist()
        out = []
        for k, city in enumerate(birth_city):
            home = cities.country[city]
            if countries.established[home] > end_year[k] or moves[k] < 0.08:
                home = _pick_before(rng, order, keys, end_year[k])
            out.append(home)
        return out

    def _person_names(
        self,
        rng: Draws,
        styles: list[int],
        female: list[bool],
        father: list[int],
        mother: list[int],
    ) -> tuple[list[str], list[str]]:
        """Surnames pass down from a parent; a few unrelated families share one (namesakes)."""
        n = len(styles)
        surname_of = [-1] * n
        surname_style: list[int] = []
        pool: dict[int, list[int]] = {}
        coin = rng.gen.random(n).tolist()
        for k in range(n):
            if father[k] >= 0:
                surname_of[k] = surname_of[father[k]] if coin[k] < 0.9 else surname_of[mother[k]]
                continue
            same = pool.setdefault(styles[k], [])
            if same and coin[k] < 0.12:
                surname_of[k] = same[rng.below(len(same))]
                continue
            surname_of[k] = len(surname_style)
            same.append(surname_of[k])
            surname_style.append(styles[k])
        family_names = Registry()
        surname_text = _by_style(
            rng,
            family_names,
            surname_style,
            lambda r, p, m: with_endings(r, stems(r, p, m, (1, 2)), p.surname_endings),
        )
        surnames = [surname_text[s] for s in surname_of]
        names = [""] * n
        style_array, female_array = np.asarray(styles), np.asarray(female)
        for style, phonology in enumerate(PHONOLOGIES):
            for is_female in (False, True):
                members = np.flatnonzero((style_array == style) & (female_array == is_female)).tolist()
                endings = phonology.feminine_endings if is_female else phonology.masculine_endings
                given = with_endings(rng.gen, stems(rng.gen, phonology, len(members), (1, 2)), endings)
                for k, first in zip(members, given, strict=True):
                    name = f"{first} {surnames[k]}"
                    while not self.names.claim(name):  # a relative or namesake has it: draw again
                        first = rng.pooled(
                            ("given", style, is_female),
                            lambda p=phonology, e=endings: with_endings(
                                rng.gen, stems(rng.gen, p, 256, (1, 3)), e
                            ),
                        )
                        name = f"{first} {surnames[k]}"
                    names[k] = name
        return names, surnames

    # Organisations and works -------------------------------------------------------------------

    def universities(self, countries: Countries, cities: Cities, people: People) -> Universities:
        rng, n = self.rng(5), self.config.universities
        founded = (1150 + 850 * rng.gen.random(n)).astype(int).tolist()
        order, keys = _sorted_by(cities.founded)
        city = [max(0, _pick_before(rng, order, keys, year)) for year in founded]
        founder = [-1] * n
        founders_taken: set[int] = set()
        for k, year in enumerate(founded):
            if year >= 1780 and rng.random() < 0.7:
                candidate = self._adult_at(rng, people, year, 30, 75)
                if candidate >= 0 and candidate not in founders_taken:
                    founder[k] = candidate
                    founders_taken.add(candidate)
        has_university: set[int] = set()
        names = []
        for k in range(n):
            city_name = cities.name[city[k]]
            options = []
            if city[k] not in has_university:
                options.append(f"University of {city_name}")
            if founder[k] >= 0:
                options.append(f"{people.surname[founder[k]]} College")
            if founded[k] >= 1850:
                options.append(f"{city_name} Institute of Technology")
            options.append(f"{city_name} Academy")
            name = next((o for o in options if self.names.claim(o)), None)
            if name is None:
                style = countries.style[cities.country[city[k]]]
                name = rng.unique(self.names, lambda style=style: f"{rng.word(style)} University")
            has_university.add(city[k])
            names.append(name)
        return Universities(name=names, founded=founded, founder=founder, city=city)

    def _adult_at(self, rng: Draws, people: People, year: int, youngest: int, oldest: int) -> int:
        """A random person alive in ``year`` and aged between ``youngest`` and ``oldest`` (-1: none)."""
        a = bisect_left(people.birth_year, year - oldest)
        b = bisect_right(people.birth_year, year - youngest)
        if a >= b:
            return -1
        for k in rng.gen.integers(a, b, size=6).tolist():
            if people.death_year[k] < 0 or people.death_year[k] > year:
                return k
        return -1

    def companies(self, countries: Countries, cities: Cities, people: People) -> Companies:
        rng, n = self.rng(6), self.config.companies
        categories = {"business", "scientist"}
        candidates = [
            k
            for k in range(len(people.name))
            if OCCUPATIONS[people.occupation[k]][1] in categories and self._founding_span(people, k)
        ]
        candidates = [candidates[j] for j in rng.gen.permutation(len(candidates)).tolist()]
        order, keys = _sorted_by(cities.founded)
        founded, founder, headquarters, industry, names = [], [], [], [], []
        for k in range(n):
            person = candidates[k] if k < len(candidates) and rng.random() < 0.92 else -1
            if person >= 0:
                low, high = self._founding_span(people, person)
                year = low + rng.below(high - low + 1)
            else:
                year = 1780 + rng.below(240)
            options = [j for j, (_, _, since) in enumerate(INDUSTRIES) if since <= year]
            sector = options[rng.below(len(options))]
            if person >= 0 and rng.random() < 0.5:
                city = people.birth_city[person]
            else:
                city = max(0, _pick_before(rng, order, keys, year))
            suffixes = INDUSTRIES[sector][1]
            style = countries.style[cities.country[city]]
            name = ""
            if person >= 0 and rng.random() < 0.3:  # named after its founder, a namesake trap
                name = f"{people.surname[person]} {suffixes[rng.below(len(suffixes))]}"
            if not name or not self.names.claim(name):
                name = rng.unique(
                    self.names, lambda s=style, x=suffixes: f"{rng.word(s)} {x[rng.below(len(x))]}"
                )
            founded.append(year)
            founder.append(person)
            headquarters.append(city)
            industry.append(sector)
            names.append(name)
        return Companies(
            name=names,
            industry=industry,
            founded=founded,
            founder=founder,
            headquarters=headquarters,
            ceo=[-1] * n,
        )

    @staticmethod
    def _founding_span(people: People, k: int) -> tuple[int, int] | None:
        """The years in which person ``k`` could found something (adult, alive, after 1780)."""
        low = max(people.birth_year[k] + 22, 1780)
        last = PRESENT_YEAR - 1 if people.death_year[k] < 0 else people.death_year[k] - 1
        high = min(last, people.birth_year[k] + 65)
        return (low, high) if low <= high else None

    def bands(self, countries: Countries, cities: Cities, people: People) -> Bands:
        rng, n = self.rng(7), self.config.bands
        formed = (1925 + 95 * rng.gen.random(n)).astype(int).tolist()
        musicians = [
            k
            for k in range(len(people.name))
            if OCCUPATIONS[people.occupation[k]][1] == "musician" and people.birth_year[k] >= 1885
        ]
        years = [people.birth_year[k] for k in musicians]
        order, keys = _sorted_by(cities.founded)
        city, names = [], []
        for b in range(n):
            year = formed[b]
            lo, hi = bisect_left(years, year - 35), bisect_right(years, year - 16)
            wanted = 2 + rng.below(4)
            members = []
            if lo < hi:
                for j in rng.gen.integers(lo, hi, size=3 * wanted).tolist():
                    person = musicians[j]
                    alive = people.death_year[person] < 0 or people.death_year[person] > year
                    if len(members) < wanted and people.band[person] < 0 and alive:
                        people.band[person] = b
                        members.append(person)
            if members and rng.random() < 0.6:
                city.append(people.birth_city[members[0]])
            else:
                city.append(max(0, _pick_before(rng, order, keys, year)))
            style = countries.style[cities.country[city[-1]]]

            def band_name(style: int = style) -> str:
                plural = PLURALS[rng.below(len(PLURALS))]
                form = rng.below(4)
                if form == 0:
                    return f"The {ADJECTIVES[rng.below(len(ADJECTIVES))]} {plural}"
                word = rng.word(style)
                return (f"{word} {plural}", f"The {word}s", word)[form - 1]

            names.append(rng.unique(self.names, band_name))
        return Bands(name=names, formed=formed, city=city)

    def works(self, kind: str, cities: Cities, people: People, bands: Bands) -> Works:
        rng = self.rng({"book": 8, "film": 9, "album": 10}[kind])
        n = getattr(self.config, kind + "s")
        if kind == "album":
            creators = [b for b in range(len(bands.name)) if bands.formed[b] < PRESENT_YEAR - 1]
        else:
            category = "writer" if kind == "book" else "director"
            first_year = 1800 if kind == "book" else 1900
            creators = [
                k
                for k in range(len(people.name))
                if OCCUPATIONS[people.occupation[k]][1] == category
                and self._active_span(people, k, first_year)
            ]
            if not creators:  # a tiny world may lack the profession; anyone can write a book
                creators = [k for k in range(len(people.name)) if self._active_span(people, k, first_year)]
        creator, year, setting = [], [], []
        for _ in range(n):
            who = creators[rng.below(len(creators))]
            if kind == "album":
                low, high = bands.formed[who] + 1, PRESENT_YEAR - 1
            else:
                span = self._active_span(people, who, 1800 if kind == "book" else 1900)
                assert span is not None
                low, high = span
            creator.append(who)
            year.append(low + rng.below(high - low + 1))
            setting.append(rng.below(len(cities.name)))
        names = self.names.unique(n, lambda m: _titles(rng, m, cities.name))
        return Works(
            name=names, year=year, creator=creator, setting=setting, award=[-1] * n, award_year=[-1] * n
        )

    @staticmethod
    def _active_span(people: People, k: int, first_year: int) -> tuple[int, int] | None:
        low = max(people.birth_year[k] + 20, first_year)
        last = PRESENT_YEAR - 1 if people.death_year[k] < 0 else people.death_year[k]
        return (low, last) if low <= last else None

    def awards(self, countries: Countries, works: dict[str, Works]) -> Awards:
        rng, n = self.rng(11), self.config.awards
        domain = [AWARD_DOMAINS[k % 3] for k in range(n)]
        first = {"book": 1880, "film": 1925, "album": 1955}
        established = [first[d] + rng.below(45) for d in domain]
        country = rng.gen.integers(0, len(countries.name), size=n).tolist()
        forms = {
            "book": ("{w} Prize", "{w} Prize for Literature", "{w} Book Award"),
            "film": ("{a} {n} Award", "{w} Film Prize", "{w} Screen Award"),
            "album": ("{w} Music Prize", "{a} {n} Award", "{w} Record Prize"),
        }
        names = []
        for k in range(n):

            def award_name(
                style: int = countries.style[country[k]], options: tuple[str, ...] = forms[domain[k]]
            ) -> str:
                template = options[rng.below(len(options))]
                adjective, noun = ADJECTIVES[rng.below(len(ADJECTIVES))], NOUNS[rng.below(len(NOUNS))]
                return template.format(w=rng.word(style), a=adjective, n=noun)

            names.append(rng.unique(self.names, award_name))
        taken: set[tuple[int, int]] = set()
        for kind in AWARD_DOMAINS:
            table = works[kind]
            order, keys = _sorted_by([established[k] if domain[k] == kind else 10**6 for k in range(n)])
            wins = rng.gen.random(len(table.name)).tolist()
            for w in range(len(table.name)):
                when = table.year[w] + 1
                if wins[w] >= 0.22 or when >= PRESENT_YEAR:
                    continue
                award = _pick_before(rng, order, keys, when)
                if award < 0:
                    continue
                if (award, when) not in taken:  # one winner per award and year
                    taken.add((award, when))
                    table.award[w], table.award_year[w] = award, when
        return Awards(name=names, domain=domain, established=established, country=country)

    # Roles that tie people to what exists ------------------------------------------------------

    def roles(
        self,
        countries: Countries,
        cities: Cities,
        people: People,
        companies: Companies,
        universities: Universities,
        mountains: Mountains,
    ) -> None:
        """Offices (head of state, mayor, chief executive), schooling, jobs and first ascents."""
        rng = self.rng(12)
        n = len(people.name)
        pools: dict[int, tuple[list[int], list[int]]] = {}
        for k in range(n):
            if people.death[k] < 0 and PRESENT_YEAR - people.birth_year[k] >= 35:
                politician = OCCUPATIONS[people.occupation[k]][1] == "politician"
                pools.setdefault(people.citizenship[k], ([], []))[0 if politician else 1].append(k)
        queues = {}
        for country in range(len(countries.name)):
            politicians, others = pools.get(country, ([], []))
            queue = [politicians[j] for j in rng.gen.permutation(len(politicians)).tolist()]
            queue += [others[j] for j in rng.gen.permutation(len(others)).tolist()]
            queues[country] = queue[::-1]  # popped from the end
        for country in range(len(countries.name)):
            if queues[country] and rng.random() < 0.9:
                head = queues[country].pop()
                countries.head_of_state[country], people.head_of[head] = head, country
        for city in range(len(cities.name)):
            queue = queues[cities.country[city]]
            if queue and rng.random() < 0.7:
                mayor = queue.pop()
                cities.mayor[city], people.mayor_of[mayor] = mayor, city
        executives = [
            k
            for k in range(n)
            if people.death[k] < 0
            and PRESENT_YEAR - people.birth_year[k] >= 30
            and OCCUPATIONS[people.occupation[k]][1] == "business"
            and people.head_of[k] < 0
            and people.mayor_of[k] < 0
        ]
        executives = [executives[j] for j in rng.gen.permutation(len(executives)).tolist()][::-1]
        for c in range(len(companies.name)):
            if rng.random() >= 0.75 or companies.founded[c] >= PRESENT_YEAR - 2:
                continue
            founder = companies.founder[c]
            if (
                founder >= 0
                and people.death[founder] < 0
                and people.ceo_of[founder] < 0
                and rng.random() < 0.3
            ):
                ceo = founder
            elif executives:
                ceo = executives.pop()
            else:
                continue
            if people.head_of[ceo] >= 0 or people.mayor_of[ceo] >= 0 or people.ceo_of[ceo] >= 0:
                continue
            companies.ceo[c], people.ceo_of[ceo] = ceo, c
        self._schooling_and_jobs(rng, people, companies, universities)
        self._first_ascents(rng, people, mountains)

    def _schooling_and_jobs(
        self, rng: Draws, people: People, companies: Companies, universities: Universities
    ) -> None:
        n = len(people.name)
        uni_order, uni_keys = _sorted_by(universities.founded)
        co_order, co_keys = _sorted_by(companies.founded)
        school, work = rng.gen.random(n).tolist(), rng.gen.random(n).tolist()
        for k in range(n):
            category = OCCUPATIONS[people.occupation[k]][1]
            if school[k] < (0.75 if category == "scientist" else 0.45):
                people.alma_mater[k] = _pick_before(rng, uni_order, uni_keys, people.birth_year[k] + 17)
            if work[k] < (0.4 if category in ("scientist", "business") else 0.08):
                last = PRESENT_YEAR if people.death_year[k] < 0 else people.death_year[k]
                company = _pick_before(rng, co_order, co_keys, min(people.birth_year[k] + 55, last - 1))
                if company >= 0 and companies.founder[company] != k and companies.founded[company] < last:
                    people.employer[k] = company

    def _first_ascents(self, rng: Draws, people: People, mountains: Mountains) -> None:
        climbers = [k for k in range(len(people.name)) if OCCUPATIONS[people.occupation[k]][1] == "explorer"]
        for m in range(len(mountains.name)):
            if not climbers or rng.random() >= 0.8:
                continue
            who = climbers[rng.below(len(climbers))]
            low = max(people.birth_year[who] + 18, 1780)
            last = PRESENT_YEAR - 1 if people.death_year[who] < 0 else people.death_year[who]
            high = min(last, people.birth_year[who] + 55)
            if low <= high:
                mountains.first_ascent[m] = who
                mountains.ascent_year[m] = low + rng.below(high - low + 1)


def _words(rng: Draws, phonology: Phonology, m: int) -> list[str]:
    return with_endings(rng, stems(rng, phonology, m, (2, 2)), ("",))


def _titles(rng: Draws, m: int, places: Sequence[str]) -> list[str]:
    """English-looking titles for works, some naming a place of the world."""
    form = rng.gen.integers(0, 6, size=m).tolist()
    adj = rng.gen.integers(0, len(ADJECTIVES), size=m).tolist()
    noun = rng.gen.integers(0, len(NOUNS), size=m).tolist()
    plural = rng.gen.integers(0, len(PLURALS), size=m).tolist()
    place = rng.gen.integers(0, len(places), size=m).tolist()
    out = []
    for f, a, o, p, c in zip(form, adj, noun, plural, place, strict=True):
        A, N, P, C = ADJECTIVES[a], NOUNS[o], PLURALS[p], places[c]
        out.append(
            (
                f"The {A} {N}",
                f"{N} of {C}",
                f"{A} {P}",
                f"The {N} at {C}",
                f"{C} {N}",
                f"{'An' if N[0] in 'AEIOU' else 'A'} {N} for the {P}",
            )[f]
        )
    return out


def build_model(config: WorldConfig) -> Model:
    """Every entity and link of the world ``config`` describes.

    The cyclic garbage collector is paused meanwhile: the build allocates millions of small lists and
    nothing in it forms a cycle, yet each full collection would walk every column built so far (a
    third of the time at a million passages).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _build(config)
    finally:
        if enabled:
            gc.enable()


def _build(config: WorldConfig) -> Model:
    builder = _Builder(config)
    countries = builder.countries()
    cities = builder.cities(countries)
    rivers, mountains = builder.rivers_and_mountains(countries, cities)
    people = builder.people(countries, cities)
    universities = builder.universities(countries, cities, people)
    companies = builder.companies(countries, cities, people)
    bands = builder.bands(countries, cities, people)
    works = {kind: builder.works(kind, cities, people, bands) for kind in AWARD_DOMAINS}
    awards = builder.awards(countries, works)
    builder.roles(countries, cities, people, companies, universities, mountains)
    return Model(
        config=config,
        countries=countries,
        cities=cities,
        people=people,
        companies=companies,
        universities=universities,
        bands=bands,
        books=works["book"],
        films=works["film"],
        albums=works["album"],
        awards=awards,
        rivers=rivers,
        mountains=mountains,
    )

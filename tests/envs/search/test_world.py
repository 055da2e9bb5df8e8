"""The generated encyclopedia: determinism, consistency of the world, and verifiable questions."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import string
import subprocess
import sys
from datetime import date

import pytest

from rlvr.envs.search.datasets import read_questions
from rlvr.envs.search.world import (
    URL_PREFIX,
    Question,
    World,
    WorldConfig,
    generate_world,
    write_questions,
)
from rlvr.envs.search.world.articles import MAX_WORDS, MIN_WORDS
from rlvr.envs.search.world.model import KINDS, PRESENT_YEAR
from rlvr.envs.search.world.questions import COMPARISONS

COMPARISON_KINDS = {c.kind for c in COMPARISONS}


PUNCTUATION = set(string.punctuation)


def squad(text: str) -> str:
    """SQuAD's normalisation, written out here so the test does not trust the code under test."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in PUNCTUATION)
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def contains(haystack: str, needle: str) -> bool:
    return f" {squad(needle)} " in f" {squad(haystack)} "


@pytest.fixture(scope="module")
def tiny() -> World:
    return generate_world(0, size="tiny")


@pytest.fixture(scope="module")
def world() -> World:
    return generate_world(0)


@pytest.fixture(scope="module")
def passages(world: World) -> dict[str, str]:
    return {doc.id: doc.contents for doc in world.documents()}


@pytest.fixture(scope="module")
def questions(world: World) -> list[Question]:
    return world.questions(900, seed=0)


def fingerprint(world: World, n_questions: int = 60) -> str:
    digest = hashlib.sha256()
    for doc in world.documents():
        digest.update(json.dumps(doc.to_json(), sort_keys=True).encode())
    for question in world.questions(n_questions, seed=1):
        digest.update(json.dumps(question.to_json(), sort_keys=True).encode())
    return digest.hexdigest()


# Determinism ---------------------------------------------------------------------------------------


def test_same_seed_gives_identical_documents_and_questions() -> None:
    assert fingerprint(generate_world(3, size="tiny")) == fingerprint(generate_world(3, size="tiny"))


def test_different_seeds_give_different_worlds(tiny: World) -> None:
    other = generate_world(1, size="tiny")
    assert fingerprint(tiny) != fingerprint(other)
    assert tiny.model.people.name != other.model.people.name


def test_question_seed_is_independent_of_world_seed(world: World) -> None:
    assert world.questions(40, seed=1) == world.questions(40, seed=1)
    assert world.questions(40, seed=1) != world.questions(40, seed=2)


def test_output_does_not_depend_on_hash_randomisation(tiny: World) -> None:
    code = (
        "from rlvr.envs.search.world import generate_world\n"
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "from test_world import fingerprint\n"
        "print(fingerprint(generate_world(0, size='tiny')))\n"
    )
    here = os.path.dirname(__file__)
    seen = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        result = subprocess.run(
            [sys.executable, "-c", code, here],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        seen.add(result.stdout.strip())
    assert seen == {fingerprint(tiny)}


def test_articles_render_the_same_in_any_order(world: World, passages: dict[str, str]) -> None:
    fresh = generate_world(0)  # nothing rendered yet: ask for the last entity first
    last = fresh.model.count("mountain") - 1
    text, _ = fresh.passages("mountain", last)
    slug = fresh.slug("mountain", last)
    assert text == [passages[f"{slug}#{n}"] for n in range(len(text))]


# Sizes, titles, passages ---------------------------------------------------------------------------


def test_sizes(tiny: World, passages: dict[str, str]) -> None:
    assert 120 <= sum(1 for _ in tiny.documents()) <= 300
    assert 2000 <= len(passages) <= 5000
    assert 3500 <= sum(1 for _ in generate_world(0, size=5000).documents()) <= 6500
    with pytest.raises(ValueError):
        generate_world(0, size="huge")
    with pytest.raises(ValueError):
        WorldConfig.for_size(0)


def test_titles_are_unique_and_ids_follow_slugs(world: World) -> None:
    titles = [title for kind in KINDS for title in world.model.table(kind).name]
    assert len(titles) == len(set(titles))
    assert all("_" not in title and "#" not in title for title in titles)
    ids = []
    for doc in world.documents():
        slug, _, number = doc.id.rpartition("#")
        assert slug == doc.title.replace(" ", "_") and number.isdigit()
        assert doc.url == URL_PREFIX + slug
        ids.append(doc.id)
    assert len(ids) == len(set(ids))


def test_passage_word_counts_are_bounded(passages: dict[str, str]) -> None:
    counts = [len(text.split()) for text in passages.values()]
    assert min(counts) >= MIN_WORDS
    assert max(counts) <= MAX_WORDS
    assert 60 <= sum(counts) / len(counts) <= MAX_WORDS


def test_article_is_the_whole_page(world: World, passages: dict[str, str]) -> None:
    slug = next(pid for pid in passages if pid.endswith("#1")).rpartition("#")[0]
    article = world.article(slug)
    assert article is not None and article.id == slug
    flat = " ".join(article.contents.split())
    parts = [passages[f"{slug}#{n}"] for n in range(10) if f"{slug}#{n}" in passages]
    assert flat == " ".join(parts)
    assert world.article(article.title) == article
    assert world.article(URL_PREFIX + slug) == article
    assert world.article(f"{slug}#1") == article
    assert world.article("No_Such_Page") is None


def test_articles_mention_linked_entities_by_title(world: World) -> None:
    m = world.model
    for company in range(m.count("company")):
        founder = m.companies.founder[company]
        if founder >= 0:
            article = world.article(m.companies.name[company])
            assert article is not None and m.people.name[founder] in article.contents


# Consistency of the world --------------------------------------------------------------------------


def test_people_are_consistent(world: World) -> None:
    m = world.model
    p = m.people
    year = 365.2425
    for i in range(m.count("person")):
        end = p.death[i] if p.death[i] >= 0 else date(PRESENT_YEAR, 1, 1).toordinal()
        assert p.birth[i] < end
        if p.death[i] >= 0:
            assert p.death_year[i] >= p.birth_year[i]
        assert m.cities.founded[p.birth_city[i]] <= p.birth_year[i]
        assert m.countries.established[p.citizenship[i]] <= (
            p.death_year[i] if p.death[i] >= 0 else PRESENT_YEAR
        )
        for parent in (p.father[i], p.mother[i]):
            if parent >= 0:
                assert p.birth[parent] + 17 * year < p.birth[i]
                assert p.death[parent] < 0 or p.death[parent] > p.birth[i]
        if p.spouse[i] >= 0:
            assert p.spouse[p.spouse[i]] == i
        if p.father[i] >= 0:
            assert not p.female[p.father[i]] and p.female[p.mother[i]]


def test_places_and_offices_are_consistent(world: World) -> None:
    m = world.model
    for country in range(m.count("country")):
        capital = m.countries.capital[country]
        assert m.cities.country[capital] == country
        head = m.countries.head_of_state[country]
        if head >= 0:
            assert m.people.death[head] < 0 and m.people.citizenship[head] == country
    for city in range(m.count("city")):
        mayor = m.cities.mayor[city]
        if mayor >= 0:
            assert m.people.death[mayor] < 0
        river = m.cities.river[city]
        if river >= 0:
            assert m.rivers.country[river] == m.cities.country[city]
    for company in range(m.count("company")):
        ceo = m.companies.ceo[company]
        if ceo >= 0:
            assert m.people.death[ceo] < 0


def alive_in(world: World, person: int, year: int, age: int) -> bool:
    p = world.model.people
    return p.birth_year[person] + age <= year and (p.death[person] < 0 or year <= p.death_year[person])


def test_founders_creators_and_climbers_were_alive_and_adult(world: World) -> None:
    m = world.model
    for company in range(m.count("company")):
        founder = m.companies.founder[company]
        if founder >= 0:
            assert alive_in(world, founder, m.companies.founded[company], 18)
        assert m.cities.founded[m.companies.headquarters[company]] <= m.companies.founded[company]
    for university in range(m.count("university")):
        founder = m.universities.founder[university]
        if founder >= 0:
            assert alive_in(world, founder, m.universities.founded[university], 18)
    for kind in ("book", "film"):
        works = m.table(kind)
        for w in range(len(works.name)):
            assert alive_in(world, works.creator[w], works.year[w], 18)
    for album in range(m.count("album")):
        assert m.bands.formed[m.albums.creator[album]] < m.albums.year[album] < PRESENT_YEAR
    for band in range(m.count("band")):
        for member in m.members_of[band]:
            assert alive_in(world, member, m.bands.formed[band], 15)
    for kind in ("book", "film", "album"):
        works = m.table(kind)
        for w in range(len(works.name)):
            award = works.award[w]
            if award >= 0:
                assert m.awards.domain[award] == kind
                assert m.awards.established[award] <= works.award_year[w] > works.year[w]
    for mountain in range(m.count("mountain")):
        climber = m.mountains.first_ascent[mountain]
        if climber >= 0:
            assert alive_in(world, climber, m.mountains.ascent_year[mountain], 18)


# Questions -------------------------------------------------------------------------------------------


def test_every_hop_count_and_comparisons_appear(questions: list[Question]) -> None:
    assert {q.hops for q in questions} == {1, 2, 3}
    assert any(q.kind in COMPARISON_KINDS for q in questions)
    assert len(questions) == 900
    assert len({q.id for q in questions}) == len(questions)
    assert len({q.kind for q in questions}) > 60


def test_golden_answers_appear_in_supporting_passages(
    questions: list[Question], passages: dict[str, str]
) -> None:
    for q in questions:
        text = " ".join(passages[pid] for pid in q.supporting_ids)
        for answer in q.golden_answers:
            assert contains(text, answer), (q, answer)


def test_answers_are_not_in_the_question(questions: list[Question]) -> None:
    for q in questions:
        if q.kind not in COMPARISON_KINDS:
            assert not any(contains(q.question, answer) for answer in q.golden_answers), q


def test_multi_hop_chains_are_linked_through_titles(
    questions: list[Question], passages: dict[str, str]
) -> None:
    titles = {pid.rpartition("#")[0]: pid.rpartition("#")[0].replace("_", " ") for pid in passages}
    for q in questions:
        articles: list[str] = []
        for pid in q.supporting_ids:
            slug = pid.rpartition("#")[0]
            if slug not in articles:
                articles.append(slug)
        if q.kind in COMPARISON_KINDS:
            assert q.hops == 2 and len(articles) == 2
            assert q.golden_answers[0] in (titles[articles[0]], titles[articles[1]])
            continue
        assert q.hops == len(articles), q
        assert contains(q.question, titles[articles[0]]), q  # the chain starts at the named entity
        for here, there in itertools.pairwise(articles):
            hop_text = " ".join(passages[pid] for pid in q.supporting_ids if pid.startswith(here + "#"))
            assert contains(hop_text, titles[there]), (q, there)


def test_dates_come_in_both_forms(questions: list[Question]) -> None:
    dated = [q for q in questions if q.kind in ("birth_date", "death_date")]
    assert dated
    for q in dated:
        day_first, month_first = q.golden_answers
        assert re.fullmatch(r"\d{1,2} [A-Z][a-z]+ \d{4}", day_first)
        assert re.fullmatch(r"[A-Z][a-z]+ \d{1,2}, \d{4}", month_first)


def test_comparison_answers_are_right(world: World, questions: list[Question]) -> None:
    m = world.model
    index = {m.people.name[k]: k for k in range(m.count("person"))}
    born_first = [q for q in questions if q.kind == "who_was_born_first"]
    assert born_first
    for q in born_first:
        a, b = (index[pid.rpartition("#")[0].replace("_", " ")] for pid in q.supporting_ids)
        assert q.golden_answers == (m.people.name[a if m.people.birth[a] < m.people.birth[b] else b],)


def test_hops_filter_and_validation(world: World) -> None:
    assert {q.hops for q in world.questions(30, hops=3)} == {3}
    assert {q.hops for q in world.questions(30, hops=[1, 2])} == {1, 2}
    with pytest.raises(ValueError):
        world.questions(5, hops=4)


def test_tiny_world_still_has_every_hop_count(tiny: World) -> None:
    assert {q.hops for q in tiny.questions(60)} == {1, 2, 3}
    entities = sum(tiny.model.count(kind) for kind in KINDS)
    assert len(tiny.questions()) == entities  # the default: one per entity


def test_question_generation_from_a_fresh_world_is_reproducible(world: World) -> None:
    """A new ``World`` (nothing cached) generates the same 1,000 questions; speed is measured in
    ``benchmarks/search_speed.py``, not asserted here."""
    first = World(world.config).questions(1000, seed=5)
    assert len(first) == 1000 and len({q.id for q in first}) == 1000
    assert [q.id for q in World(world.config).questions(1000, seed=5)] == [q.id for q in first]


# Files -------------------------------------------------------------------------------------------------


def test_corpus_and_questions_jsonl_round_trip(tiny: World, tmp_path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    count = tiny.write_corpus(corpus)
    lines = corpus.read_text(encoding="utf-8").splitlines()
    assert count == len(lines) == sum(1 for _ in tiny.documents())
    assert [json.loads(line) for line in lines] == [doc.to_json() for doc in tiny.documents()]
    assert set(json.loads(lines[0])) == {"id", "title", "contents", "url"}

    questions = tiny.questions(40)
    path = tmp_path / "questions.jsonl"
    assert write_questions(questions, path) == len(questions)
    record = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    assert set(record) == {"id", "question", "golden_answers", "metadata"}
    assert set(record["metadata"]) == {"hops", "kind", "supporting_ids"}
    assert read_questions(path) == questions

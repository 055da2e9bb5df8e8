"""``World``: one generated encyclopedia, served as passages, full articles and questions.

The world keeps only its entity columns; passages are rendered when asked for. ``documents()``
streams them (a million-passage corpus never sits in memory), and the few articles a batch of
questions needs are rendered once and kept in a small cache.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from json.encoder import encode_basestring
from pathlib import Path

from rlvr.envs.search.backends.base import Document
from rlvr.envs.search.world.articles import Renderer, full_text, passages_of, split_passages
from rlvr.envs.search.world.generate import build_model
from rlvr.envs.search.world.model import KINDS, WorldConfig
from rlvr.envs.search.world.questions import Question, sample_questions

URL_PREFIX = "https://encyclopedia.invalid/wiki/"
"""Article URLs: ``.invalid`` can never resolve, so nothing is ever fetched from the network."""

MAX_DEFAULT_QUESTIONS = 10_000
"""``World.questions()`` without ``n`` gives one question per entity, but no more than this."""


def slugify(title: str) -> str:
    """The article slug: the title with underscores for spaces (titles never contain underscores)."""
    return title.replace(" ", "_")


class World:
    """A generated world; build one with ``generate_world``."""

    def __init__(self, config: WorldConfig, *, cache_size: int = 4096) -> None:
        self.config = config
        self.seed = config.seed
        self.model = build_model(config)
        self._renderer = Renderer(self.model, config.seed)
        self._cache: dict[tuple[str, int], tuple[list[str], dict[str, list[int]]]] = {}
        self._cache_size = cache_size
        self._titles: dict[str, tuple[str, int]] | None = None

    def __repr__(self) -> str:
        sizes = ", ".join(f"{kind}={self.model.count(kind)}" for kind in KINDS)
        return f"World(seed={self.seed}, {sizes})"

    # Corpus ------------------------------------------------------------------------------------

    def documents(self) -> Iterator[Document]:
        """Every passage of every article, in a fixed order (kind by kind, entity by entity)."""
        for slug, title, url, n, text in self._passages():
            yield Document(id=f"{slug}#{n}", title=title, contents=text, url=url)

    def _passages(self) -> Iterator[tuple[str, str, str, int, str]]:
        render = self._renderer.paragraphs
        for kind in KINDS:
            for index, title in enumerate(self.model.table(kind).name):
                slug = slugify(title)
                url = URL_PREFIX + slug
                for n, text in enumerate(passages_of(render(kind, index))):
                    yield slug, title, url, n, text

    def write_corpus(self, path: str | Path) -> int:
        """Write every passage as JSONL ``{id, title, contents, url}``; returns the number written.

        The same records as ``Document.to_json`` of ``documents()``, formatted directly: at a million
        passages the generic encoder would add a fifth to the time.
        """
        count = 0
        quote = encode_basestring
        with Path(path).open("w", encoding="utf-8") as out:
            for slug, title, url, n, text in self._passages():
                out.write(
                    f'{{"id": {quote(f"{slug}#{n}")}, "title": {quote(title)}, '
                    f'"contents": {quote(text)}, "url": {quote(url)}}}\n'
                )
                count += 1
        return count

    def article(self, ref: str) -> Document | None:
        """The full article behind a slug, a title, a URL or a passage id; ``None`` if unknown."""
        found = self._lookup(ref)
        if found is None:
            return None
        kind, index = found
        title = self.model.table(kind).name[index]
        slug = slugify(title)
        text = full_text(self._renderer.paragraphs(kind, index))
        return Document(id=slug, title=title, contents=text, url=URL_PREFIX + slug)

    def _lookup(self, ref: str) -> tuple[str, int] | None:
        if self._titles is None:
            self._titles = {
                title: (kind, index)
                for kind in KINDS
                for index, title in enumerate(self.model.table(kind).name)
            }
        if ref.startswith(URL_PREFIX):
            ref = ref[len(URL_PREFIX) :]
        ref = ref.split("#", 1)[0]
        return self._titles.get(ref.replace("_", " "))

    # What questions need -----------------------------------------------------------------------

    def slug(self, kind: str, index: int) -> str:
        return slugify(self.model.table(kind).name[index])

    def passages(self, kind: str, index: int) -> tuple[list[str], dict[str, list[int]]]:
        """The passages of one entity's article and, per relation tag, which passages state it."""
        key = (kind, index)
        rendered = self._cache.get(key)
        if rendered is None:
            if len(self._cache) >= self._cache_size:
                del self._cache[next(iter(self._cache))]
            rendered = split_passages(self._renderer.paragraphs(kind, index))
            self._cache[key] = rendered
        return rendered

    def passage_text(self, passage_id: str) -> str:
        """The text of one passage by id (``"<slug>#<n>"``)."""
        slug, _, number = passage_id.rpartition("#")
        found = self._lookup(slug)
        if found is None:
            raise KeyError(passage_id)
        return self.passages(*found)[0][int(number)]

    def questions(
        self, n: int | None = None, *, seed: int = 0, hops: int | Sequence[int] | None = None
    ) -> list[Question]:
        """``n`` distinct questions, cycling through the hop counts asked for.

        The default is one per entity up to ``MAX_DEFAULT_QUESTIONS`` (rendering the articles behind a
        question costs about a millisecond in a million-passage world, so ask for what you need there).

        ``seed`` picks the questions, independently of the world's seed; 2-hop slots are sometimes
        comparisons ("Who was born first, A or B?"). Fewer than ``n`` come back when the world has
        run out of distinct questions of the kinds asked for.
        """
        if hops is None:
            wanted: tuple[int, ...] = (1, 2, 3)
        elif isinstance(hops, int):
            wanted = (hops,)
        else:
            wanted = tuple(sorted(set(hops)))
        if not wanted or any(h not in (1, 2, 3) for h in wanted):
            raise ValueError(f"hops must be among 1, 2 and 3, not {hops!r}")
        if n is None:
            n = min(MAX_DEFAULT_QUESTIONS, sum(self.model.count(kind) for kind in KINDS))
        return sample_questions(self, n, seed=seed, hops=wanted)


def generate_world(seed: int = 0, *, size: str | int = "default", config: WorldConfig | None = None) -> World:
    """Generate a world: ``size`` is ``"tiny"`` (~200 passages), ``"default"`` (~3,000) or about that
    many passages; ``config`` overrides both (its own seed included)."""
    return World(config if config is not None else WorldConfig.for_size(size, seed=seed))

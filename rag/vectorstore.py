"""Where the chunk vectors live and how the nearest ones are found.

A `VectorStore` holds L2-normalised rows addressed by chunk position (0..n-1) and answers
inner-product (= cosine) searches. `FaissStore` is the embedded default, saved inside the
index directory. It picks its FAISS index by collection size:

    n <= approximate_above   IndexFlatIP: exact, no build cost, a few ms up to ~50,000 rows
    n >  approximate_above   IndexHNSWFlat (inner product): approximate; after building, its
                             search depth (efSearch) is raised until recall@10 against exact
                             search is at least the target on queries made from stored rows

`rag.qdrant_store.QdrantStore` is the path for collections that outgrow one machine.

This module does not embed, save files or check digests: `rag.index` does.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Sequence

import faiss
import numpy as np

from rag.errors import ConfigError

FAISS_KINDS = ("auto", "flat", "hnsw")
EF_SEARCH_STEPS = (16, 32, 64, 128, 256, 512, 1024, 2048)

# Searches run on one thread: one question gains little from more, and FAISS's OpenMP threads
# spinning against llama.cpp's (or anything else on a busy machine) cost tens of milliseconds
# (README, performance). Builds use every core.
faiss.omp_set_num_threads(1)


@contextmanager
def _all_cores():
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(1)


@dataclass(frozen=True)
class StoreInfo:
    """What the manifest records about the vector store (and the benchmark prints)."""

    store: str  # "faiss" or "qdrant"
    index: str = "flat"  # faiss: "flat" or "hnsw"; qdrant: "qdrant"
    hnsw_m: int = 0
    ef_construction: int = 0
    ef_search: int = 0
    calibrated_recall: float = 0.0  # recall@10 measured at build time (hnsw only)
    location: str = ""  # qdrant: server URL, or "" for the embedded store in the index dir
    collection: str = ""  # qdrant collection name

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v not in (0, 0.0, "")}

    @classmethod
    def from_dict(cls, data: dict) -> "StoreInfo":
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        info = cls(**known)
        if not isinstance(info.store, str) or not isinstance(info.index, str):
            raise TypeError("vector_store.store and vector_store.index must be strings")
        return info


class VectorStore(ABC):
    """Chunk vectors by position; searches return (scores, positions) rows, best first,
    position -1 where fewer than k rows exist."""

    dim: int
    info: StoreInfo

    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k inner products for each row of `queries` (shape (q, dim), float32)."""

    @abstractmethod
    def vectors(self, positions: Sequence[int]) -> np.ndarray:
        """The stored rows at `positions`, shape (len(positions), dim)."""


class FaissStore(VectorStore):
    """A FAISS index in memory; `to_bytes`/`from_bytes` are how `rag.index` saves it."""

    def __init__(self, index: faiss.Index, info: StoreInfo):
        self._index = index
        self.dim = index.d
        self.info = info
        if info.index == "hnsw" and info.ef_search:
            faiss.downcast_index(index).hnsw.efSearch = info.ef_search

    def __len__(self) -> int:
        return self._index.ntotal

    @classmethod
    def build(
        cls,
        matrix: np.ndarray,
        kind: str = "auto",
        approximate_above: int = 20_000,
        target_recall: float = 0.95,
        hnsw_m: int = 32,
        ef_construction: int = 80,
    ) -> "FaissStore":
        """Index the rows of `matrix` (float32, L2-normalised). `kind` "auto" is exact up to
        `approximate_above` rows and HNSW beyond, tuned to `target_recall` recall@10."""
        if kind not in FAISS_KINDS:
            raise ConfigError(f"faiss_index must be one of {', '.join(FAISS_KINDS)}, got {kind!r}")
        matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        dim = matrix.shape[1]
        if kind == "flat" or (kind == "auto" and len(matrix) <= approximate_above):
            index = faiss.IndexFlatIP(dim)
            index.add(matrix)
            return cls(index, StoreInfo(store="faiss", index="flat"))
        hnsw = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
        hnsw.hnsw.efConstruction = ef_construction
        with _all_cores():
            hnsw.add(matrix)
            ef_search, recall = calibrate_ef_search(hnsw, matrix, target_recall)
        info = StoreInfo(
            store="faiss", index="hnsw", hnsw_m=hnsw_m, ef_construction=ef_construction,
            ef_search=ef_search, calibrated_recall=round(recall, 4),
        )
        return cls(hnsw, info)

    def to_bytes(self) -> bytes:
        return faiss.serialize_index(self._index).tobytes()

    @classmethod
    def from_bytes(cls, data: bytes, info: StoreInfo) -> "FaissStore":
        """Raises ValueError for bytes FAISS cannot read."""
        try:
            index = faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8))
        except (RuntimeError, ValueError, TypeError, MemoryError) as exc:
            raise ValueError(str(exc).splitlines()[-1] if str(exc) else repr(exc)) from exc
        if index.metric_type != faiss.METRIC_INNER_PRODUCT:
            raise ValueError("not an inner-product index")
        expected = faiss.IndexHNSWFlat if info.index == "hnsw" else faiss.IndexFlatIP
        if not isinstance(faiss.downcast_index(index), expected):
            raise ValueError(f"not the {info.index} index the manifest names")
        return cls(index, info)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        queries = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self.dim)
        return self._index.search(queries, k)

    def vectors(self, positions: Sequence[int]) -> np.ndarray:
        return self._index.reconstruct_batch(np.asarray(positions, dtype=np.int64))


def exact_top_k(matrix: np.ndarray, queries: np.ndarray, k: int, block: int = 65_536) -> np.ndarray:
    """Positions of the k rows of `matrix` with the largest inner product with each query,
    computed block by block (memory stays bounded at a million rows)."""
    best_scores = np.full((len(queries), 0), -np.inf, dtype=np.float32)
    best_ids = np.zeros((len(queries), 0), dtype=np.int64)
    for start in range(0, len(matrix), block):
        scores = queries @ matrix[start:start + block].T
        ids = np.broadcast_to(np.arange(start, start + scores.shape[1]), scores.shape)
        scores = np.hstack([best_scores, scores])
        ids = np.hstack([best_ids, ids])
        keep = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        best_scores = np.take_along_axis(scores, keep, axis=1)
        best_ids = np.take_along_axis(ids, keep, axis=1)
    return best_ids


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean share of each query's true top-k that the approximate search also returned."""
    k = truth.shape[1]
    hits = [len(set(f[:k].tolist()) & set(t.tolist())) for f, t in zip(found, truth)]
    return float(np.mean(hits)) / k if hits else 1.0


class Gaussian:
    """A Gaussian fitted to rows (their mean, principal directions and spread)."""

    def __init__(self, rows: np.ndarray):
        self.mean = rows.mean(axis=0)
        _, spread, self.directions = np.linalg.svd(rows - self.mean, full_matrices=False)
        self.scale = spread / np.sqrt(max(len(rows) - 1, 1))

    def offsets(self, count: int, rng: np.random.Generator) -> np.ndarray:
        """`count` draws minus the mean, float32."""
        draws = rng.standard_normal((count, len(self.scale))).astype(np.float32) * self.scale
        return (draws @ self.directions).astype(np.float32)

    def unit_samples(self, count: int, rng: np.random.Generator) -> np.ndarray:
        """`count` draws, L2-normalised like embeddings."""
        rows = self.mean + self.offsets(count, rng)
        return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def calibration_queries(matrix: np.ndarray, count: int = 200, sample: int = 20_000,
                        seed: int = 0) -> np.ndarray:
    """Queries drawn from a Gaussian fitted to the stored rows, then L2-normalised: like the
    rows, but tied to none of them. These are harder for HNSW than stored rows with a little
    noise, and about as hard as real questions (see README)."""
    rng = np.random.default_rng(seed)
    rows = matrix[rng.choice(len(matrix), size=min(sample, len(matrix)), replace=False)]
    return Gaussian(rows).unit_samples(count, rng)


def calibrate_ef_search(index: faiss.IndexHNSWFlat, matrix: np.ndarray, target: float,
                        k: int = 10, margin: float = 0.02) -> tuple[int, float]:
    """The smallest efSearch step whose recall@k is at least `target + margin` on
    calibration queries (the margin covers real queries that are harder still); the
    largest step if none reaches it. Returns (efSearch, measured recall)."""
    queries = calibration_queries(matrix)
    truth = exact_top_k(matrix, queries, k)
    recall = 0.0
    for ef_search in EF_SEARCH_STEPS:
        index.hnsw.efSearch = max(ef_search, k)
        _, found = index.search(queries, k)
        recall = recall_at_k(found, truth)
        if recall >= min(1.0, target + margin):
            return ef_search, recall
    return EF_SEARCH_STEPS[-1], recall

"""Hybrid search: dense (embedding cosine) + BM25 (Dutch-stemmed keywords), fused by
reciprocal rank.

Each retriever proposes `settings.candidates` chunks; `reciprocal_rank_fusion` merges the two
rankings; the best `k` become Passages. Every returned passage carries its cosine similarity
(also when only BM25 found it) so the caller can judge relevance, and `best_dense_score` says
how close the nearest chunk is at all ("nothing relevant" below `settings.min_dense_score`).

This module does not rerank with a cross-encoder (none ships offline), rewrite questions, or
decide to abstain: that is the pipeline's call.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np

from rag.analysis import tokenize
from rag.embedding import Embedder
from rag.errors import ConfigError, QuestionError
from rag.index import Index
from rag.types import Passage, Retriever

if TYPE_CHECKING:
    from rag.config import Settings


def reciprocal_rank_fusion(rankings: Sequence[Sequence[int]], k: int) -> list[tuple[int, float]]:
    """Fuse ranked lists of ids, best first: score(id) = sum over the lists that contain it
    of 1 / (k + rank), rank counted from 1. A repeated id counts once per list (its first
    rank). Ties go to the id with the better best rank, then to the earlier list.

    >>> fused = reciprocal_rank_fusion([[7, 3], [3, 9]], k=60)
    >>> [(i, round(s, 5)) for i, s in fused]  # 3: 1/62 + 1/61; 7: 1/61; 9: 1/62
    [(3, 0.03252), (7, 0.01639), (9, 0.01613)]
    """
    if k < 0:
        raise ValueError(f"k must be 0 or more, got {k}")
    scores: dict[int, float] = {}
    best: dict[int, tuple[int, int]] = {}  # id -> (best rank, list where it has it)
    for which, ranking in enumerate(rankings):
        seen: set[int] = set()
        for rank, item in enumerate(ranking, 1):
            if item in seen:
                continue
            seen.add(item)
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
            best[item] = min(best.get(item, (rank, which)), (rank, which))
    return sorted(scores.items(), key=lambda pair: (-pair[1], best[pair[0]]))


@dataclass(frozen=True)
class RetrievalResult:
    """The passages for one question, plus what the pipeline needs to judge them."""

    passages: tuple[Passage, ...]
    best_dense_score: float  # cosine of the nearest chunk; -1.0 for an empty index
    seconds: float  # embedding the question + both searches + fusion


class HybridRetriever:
    """Dense + BM25 retrieval over one `Index`, with the embedder the index was built with.
    The last few question vectors are kept, so `best_dense_score` and `retrieve` on the same
    question embed it once."""

    _QUERY_CACHE_SIZE = 64

    def __init__(self, index: Index, embedder: Embedder, settings: "Settings"):
        if settings.rrf_k < 0:
            raise ConfigError(f"rrf_k must be 0 or more, got {settings.rrf_k}")
        self.index = index
        self.embedder = embedder
        self.settings = settings
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def retrieve(self, question: str, k: int | None = None) -> list[Passage]:
        """The top `k` (default `settings.top_k`) passages for `question`, best first."""
        return list(self.search(question, k).passages)

    def best_dense_score(self, question: str) -> float:
        """Cosine similarity of the chunk nearest to `question` (-1.0 if the index is empty)."""
        hits = self.index.search_dense(self.query_vector(question), 1)
        return hits[0][1] if hits else -1.0

    def query_vector(self, question: str) -> np.ndarray:
        with self._lock:
            vector = self._vectors.get(question)
            if vector is not None:
                self._vectors.move_to_end(question)
                return vector
        vector = self.embedder.embed_query(question)
        with self._lock:
            self._vectors[question] = vector
            while len(self._vectors) > self._QUERY_CACHE_SIZE:
                self._vectors.popitem(last=False)
        return vector

    def search(self, question: str, k: int | None = None) -> RetrievalResult:
        started = time.perf_counter()
        if not question.strip():
            raise QuestionError("the question is empty")
        return self.search_with_vector(question, self.query_vector(question), k, started)

    def search_with_vector(
        self,
        question: str,
        query_vector: np.ndarray,
        k: int | None = None,
        started: float | None = None,
    ) -> RetrievalResult:
        """`search` with the question already embedded (e.g. embedded in a batch)."""
        started = time.perf_counter() if started is None else started
        k = self.settings.top_k if k is None else k
        if k < 1:
            raise ConfigError(f"k must be at least 1, got {k}")
        candidates = max(self.settings.candidates, k)
        dense = self.index.search_dense(query_vector, candidates)
        bm25 = self.index.search_bm25(tokenize(question), candidates)
        found_dense = dict(dense)
        found_bm25 = dict(bm25)
        fused = reciprocal_rank_fusion(
            [[i for i, _ in dense], [i for i, _ in bm25]], self.settings.rrf_k
        )[:k]
        # BM25-only chunks get their cosine too, from the stored vector.
        missing = [i for i, _ in fused if i not in found_dense]
        dense_scores = dict(found_dense)
        dense_scores.update(zip(missing, self.index.similarity(query_vector, missing)))
        passages = []
        for position, score in fused:
            chunk = self.index.chunks[position]
            retrievers: tuple[Retriever, ...] = tuple(
                name for name, found in (("dense", found_dense), ("bm25", found_bm25))
                if position in found
            )
            passages.append(
                Passage(
                    chunk=chunk,
                    article=self.index.articles[chunk.article_id],
                    score=score,
                    retrievers=retrievers,
                    dense_score=dense_scores[position],
                    bm25_score=found_bm25.get(position),
                )
            )
        return RetrievalResult(
            passages=tuple(passages),
            best_dense_score=dense[0][1] if dense else -1.0,
            seconds=time.perf_counter() - started,
        )

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

import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Sequence

import numpy as np

from rag.analysis import tokenize
from rag.chunking import split_sentences
from rag.embedding import Embedder, VectorMemo
from rag.errors import ConfigError, QuestionError
from rag.index import Index
from rag.lru import LruCache
from rag.types import Chunk, Passage, Retriever

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
    Question and sentence vectors come from a `VectorMemo` (pass the pipeline's, so the answer
    check reuses them), so `best_dense_score` and `retrieve` on the same question embed it
    once."""

    def __init__(
        self,
        index: Index,
        embedder: Embedder,
        settings: "Settings",
        vectors: VectorMemo | None = None,
        max_chunks_kept: int = 20_000,
    ):
        if settings.rrf_k < 0:
            raise ConfigError(f"rrf_k must be 0 or more, got {settings.rrf_k}")
        self.index = index
        self.embedder = embedder
        self.settings = settings
        self.vectors = VectorMemo(embedder) if vectors is None else vectors
        # chunk id -> its embedded sentences, the most recently used `max_chunks_kept` chunks
        # (about 6 KB each at 384 dimensions: a large collection must not fill memory with them)
        self._sentences: LruCache[str, list[Sentence]] = LruCache(max_chunks_kept)

    def retrieve(self, question: str, k: int | None = None) -> list[Passage]:
        """The top `k` (default `settings.top_k`) passages for `question`, best first."""
        return list(self.search(question, k).passages)

    def best_dense_score(self, question: str) -> float:
        """Cosine similarity of the chunk nearest to `question` (-1.0 if the index is empty)."""
        hits = self.index.search_dense(self.query_vector(question), 1)
        return hits[0][1] if hits else -1.0

    def query_vector(self, question: str) -> np.ndarray:
        return self.vectors.query(question)

    def focus(self, question: str, passages: Sequence[Passage], budget: int) -> list[Passage]:
        """Cut the passages down to the sentences that answer `question`, within `budget`
        characters in all; passages left with nothing are dropped. Every prompt token delays
        the answer, and a small model answers better from less text. Offsets stay exact."""
        if budget <= 0 or not passages:
            return list(passages)
        ranked = [(p.chunk, self._chunk_sentences(p.chunk)) for p in passages]
        spans = select_spans(
            ranked, self.query_vector(question), frozenset(tokenize(question)), budget
        )
        return [_focused(p, *found) for p, found in zip(passages, spans) if found]

    def warm(self, limit: int = 5000) -> None:
        """Embed the sentences of up to `limit` chunks now, so focusing costs no embedding
        at question time (small collections embed all of them at start-up)."""
        for chunk in self.index.chunks[: min(limit, self._sentences.max_items)]:
            self._chunk_sentences(chunk)

    def _chunk_sentences(self, chunk: Chunk) -> list[Sentence]:
        cached = self._sentences.get(chunk.id)
        if cached is not None:
            return cached
        spans = split_sentences(chunk.text) or [(0, len(chunk.text))]
        texts = [chunk.text[start:end] for start, end in spans]
        vectors = self.vectors.passages(texts)
        sentences = [
            Sentence(
                start,
                end,
                vector,
                frozenset(tokenize(text)),
                text.split(maxsplit=1)[0].strip("\"'“‘(").lower() in _REFERRING,
            )
            for (start, end), text, vector in zip(spans, texts, vectors)
        ]
        self._sentences.put(chunk.id, sentences)
        return sentences

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


# --- focusing: the sentences of the retrieved chunks that answer the question ----------------

# A sentence starting with one of these leans on the one before it ("Hij verloor ...").
_REFERRING = frozenset(
    "hij zij ze het dat dit die deze daar daarmee daardoor hem haar hun zijn "
    "he she it they this that these those his her its their".split()
)


@dataclass(frozen=True)
class Sentence:
    """One sentence of a chunk: offsets relative to the chunk text, and its vector."""

    start: int
    end: int
    vector: np.ndarray
    tokens: frozenset[str]
    referring: bool  # starts with a word that points back to the previous sentence


def select_spans(
    ranked: Sequence[tuple[Chunk, Sequence[Sentence]]],
    query_vector: np.ndarray,
    query_tokens: frozenset[str],
    budget: int,
) -> list[tuple[int, int] | None]:
    """For each ranked chunk, the (start, end) span of its sentences that answer the question
    best, or None; all spans together stay within `budget` characters (the best sentence is
    always taken). A sentence scores its cosine with the question, plus up to 0.05 for the
    question's stemmed words it contains; one that starts with "Hij", "Dat", ... brings the
    sentence before it. Spans cover the selected sentences and what lies between them."""
    scored = []
    for rank, (_, sentences) in enumerate(ranked):
        for position, sentence in enumerate(sentences):
            overlap = len(query_tokens & sentence.tokens) / len(query_tokens) if query_tokens else 0.0
            score = float(np.dot(sentence.vector, query_vector)) + 0.05 * overlap
            scored.append((score, -rank, -position, rank, position))
    scored.sort(reverse=True)

    chosen: list[set[int]] = [set() for _ in ranked]

    def span(rank: int, positions: set[int]) -> tuple[int, int] | None:
        if not positions:
            return None
        sentences = ranked[rank][1]
        return sentences[min(positions)].start, sentences[max(positions)].end

    def total(spans: list[tuple[int, int] | None]) -> int:
        return sum(end - start for found in spans if found for start, end in [found])

    for _, _, _, rank, position in scored:
        wanted = {position}
        if ranked[rank][1][position].referring and position > 0:
            wanted.add(position - 1)
        trial = chosen[rank] | wanted
        spans = [span(r, trial if r == rank else c) for r, c in enumerate(chosen)]
        if total(spans) <= budget or not any(chosen):
            chosen[rank] = trial
    return [span(rank, positions) for rank, positions in enumerate(chosen)]


def _focused(passage: Passage, start: int, end: int) -> Passage:
    chunk = passage.chunk
    text = chunk.text[start:end]
    focused = Chunk(
        id=f"{chunk.id}/{start}-{end}" if (start, end) != (0, len(chunk.text)) else chunk.id,
        article_id=chunk.article_id,
        text=text,
        start=chunk.start + start,
        end=chunk.start + end,
    )
    return replace(passage, chunk=focused)

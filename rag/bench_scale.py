"""Retrieval at scale: the real search code over synthetic collections of 1e3 to 1e6 passages.

Only two articles exist, so bigger collections are synthesised from them:

- Vectors: a Gaussian fitted to the real e5 vectors of the articles' chunks and sentences
  (their mean plus their principal directions, with the measured spread), grouped into topics:
  each passage is its topic's centre plus its own offset (70 % / 30 % of the variance), then
  L2-normalised like e5 output. The real chunk vectors are added too.
- Text: each passage is a bag of analysed tokens, as long as the real chunks on average,
  drawn from a Zipf-Mandelbrot law over a 100,000-term vocabulary whose most frequent terms
  are the articles' own stems in their real order, so the real questions' terms have
  realistic posting lists.
- Queries: the development questions, embedded by the real embedder ("query: " prefix), so the
  approximate index is tested on vectors from another distribution than it was tuned on; plus
  fresh draws from the fitted Gaussian.

Measured per size: build time of the exact (flat) and approximate (HNSW) FAISS index and of
BM25; search latency p50/p95 for dense (both indexes), BM25 and the hybrid retriever used by
the app (auto index choice + BM25 + fusion, question already embedded); recall@10 of HNSW
against exact search; and, when installed, the same for the peer pipeline (bench_peer.py).

This module does not embed anything at scale and asserts nothing: it prints and returns numbers.
"""

from __future__ import annotations

import gc
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import bm25s
import numpy as np

from rag.index import Index, Manifest, build_bm25
from rag.retrieval import HybridRetriever
from rag.stats import percentile
from rag.types import ArticleMeta, Chunk
from rag.vectorstore import FaissStore, Gaussian, exact_top_k, recall_at_k

VOCABULARY = 100_000
ZIPF_EXPONENT = 1.07
ZIPF_SHIFT = 2.7
TOPIC_SHARE = 0.7  # share of a passage's variance that comes from its topic
PASSAGES_PER_TOPIC = 200


@dataclass(frozen=True)
class Query:
    text: str  # "" for a synthetic query (dense only)
    vector: np.ndarray
    tokens: tuple[str, ...]


@dataclass(frozen=True)
class Collection:
    """A synthetic collection: analysed tokens and a vector per passage."""

    tokens: list[list[str]]
    vectors: np.ndarray  # (n, dim) float32, L2-normalised

    def __len__(self) -> int:
        return len(self.vectors)


@dataclass(frozen=True)
class Seed:
    """What the synthetic collections are fitted to: the real index and questions."""

    vectors: np.ndarray  # real chunk and sentence vectors
    chunk_vectors: np.ndarray
    chunk_tokens: list[list[str]]
    questions: list[Query]


def synthesise(seed: Seed, n: int, rng: np.random.Generator) -> Collection:
    """`n` passages: the real chunks plus synthetic ones (see the module docstring)."""
    fitted = Gaussian(seed.vectors)
    synthetic = max(n - len(seed.chunk_vectors), 0)
    topics = fitted.offsets(max(1, synthetic // PASSAGES_PER_TOPIC), rng)
    vectors = np.empty((synthetic, seed.vectors.shape[1]), dtype=np.float32)
    block = 100_000
    for start in range(0, synthetic, block):
        count = min(block, synthetic - start)
        topic = topics[rng.integers(0, len(topics), count)]
        own = fitted.offsets(count, rng)
        rows = fitted.mean + np.sqrt(TOPIC_SHARE) * topic + np.sqrt(1 - TOPIC_SHARE) * own
        vectors[start:start + count] = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    real = min(n, len(seed.chunk_vectors))
    vectors = np.vstack([seed.chunk_vectors[:real], vectors]).astype(np.float32)
    tokens = [list(t) for t in seed.chunk_tokens[:real]] + synthetic_tokens(
        seed.chunk_tokens, synthetic, rng
    )
    order = rng.permutation(n)  # real chunks at random positions
    return Collection([tokens[i] for i in order], np.ascontiguousarray(vectors[order]))


def synthetic_tokens(real: Sequence[Sequence[str]], count: int,
                     rng: np.random.Generator) -> list[list[str]]:
    """`count` token bags from a Zipf-Mandelbrot law whose head is the real stems."""
    frequencies = Counter(token for tokens in real for token in tokens)
    vocabulary = [token for token, _ in frequencies.most_common()]
    vocabulary += [f"term{i}" for i in range(VOCABULARY - len(vocabulary))]
    ranks = np.arange(1, len(vocabulary) + 1)
    weights = 1.0 / (ranks + ZIPF_SHIFT) ** ZIPF_EXPONENT
    mean_length = int(round(np.mean([len(t) for t in real]))) if real else 50
    lengths = rng.integers(mean_length // 2, mean_length * 3 // 2 + 1, count)
    drawn = rng.choice(len(vocabulary), size=int(lengths.sum()), p=weights / weights.sum())
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    words = np.array(vocabulary, dtype=object)
    return [words[drawn[a:b]].tolist() for a, b in zip(bounds[:-1], bounds[1:])]


def synthetic_queries(seed: Seed, count: int, rng: np.random.Generator) -> np.ndarray:
    """Fresh draws from the fitted Gaussian (not tied to any stored row)."""
    return Gaussian(seed.vectors).unit_samples(count, rng)


def in_memory_index(collection: Collection, store: FaissStore, bm25: bm25s.BM25) -> Index:
    """An `Index` over the collection, as the app would load it (nothing written to disk)."""
    meta = ArticleMeta(id="synthetic", title="synthetic")
    chunks = [
        Chunk(id=f"s{i}", article_id="synthetic", text="", start=0, end=0)
        for i in range(len(collection))
    ]
    manifest = Manifest(
        embedder_id="synthetic", dim=collection.vectors.shape[1], chunk_size=0, chunk_overlap=0,
        analyzer="", articles={}, chunk_count=len(chunks), files={},
        vector_store=store.info,
    )
    return Index(Path("synthetic"), manifest, chunks, {"synthetic": meta}, store, bm25)


def _timed(function: Callable[[], object], repeat: int) -> list[float]:
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - started)
    return seconds


def _latency(samples: list[float]) -> dict[str, float]:
    milliseconds = [s * 1000 for s in samples]
    return {
        "p50_ms": round(percentile(milliseconds, 50), 3),
        "p95_ms": round(percentile(milliseconds, 95), 3),
        "n": len(samples),
    }


def measure_size(seed: Seed, n: int, settings, repeat: int = 5, synthetic_query_count: int = 200,
                 peer: bool = True, log: Callable[[str], None] = print) -> dict:
    """Every number for one collection size (see the module docstring)."""
    rng = np.random.default_rng(n)
    started = time.perf_counter()
    collection = synthesise(seed, n, rng)
    result: dict = {"passages": n, "synthesis_s": round(time.perf_counter() - started, 2)}
    questions = seed.questions
    fresh = synthetic_queries(seed, synthetic_query_count, np.random.default_rng(n + 1))
    question_vectors = np.vstack([q.vector for q in questions]).astype(np.float32)
    k = 10

    started = time.perf_counter()
    flat = FaissStore.build(collection.vectors, "flat")
    result["flat_build_s"] = round(time.perf_counter() - started, 3)
    started = time.perf_counter()
    hnsw = FaissStore.build(collection.vectors, "hnsw", target_recall=settings.target_recall)
    result["hnsw_build_s"] = round(time.perf_counter() - started, 2)
    result["hnsw"] = hnsw.info.to_dict()
    started = time.perf_counter()
    bm25 = build_bm25(collection.tokens)
    result["bm25_build_s"] = round(time.perf_counter() - started, 2)

    truth_questions = exact_top_k(collection.vectors, question_vectors, k)
    truth_fresh = exact_top_k(collection.vectors, fresh, k)
    result["hnsw_recall_at_10"] = {
        "questions": round(recall_at_k(hnsw.search(question_vectors, k)[1], truth_questions), 4),
        "fresh_queries": round(recall_at_k(hnsw.search(fresh, k)[1], truth_fresh), 4),
    }
    candidates = settings.candidates
    for name, store in (("dense_flat", flat), ("dense_hnsw", hnsw)):
        samples = []
        for _ in range(repeat):
            for q in questions:
                samples += _timed(lambda: store.search(q.vector.reshape(1, -1), candidates), 1)
        result[name] = _latency(samples)

    auto = hnsw if n > settings.approximate_above else flat
    result["auto_index"] = auto.info.index
    if auto is not flat:
        del flat
    index = in_memory_index(collection, auto, bm25)
    samples = []
    for _ in range(repeat):
        for q in questions:
            samples += _timed(lambda: index.search_bm25(list(q.tokens), candidates), 1)
    result["bm25"] = _latency(samples)
    retriever = HybridRetriever(index, embedder=None, settings=settings)  # type: ignore[arg-type]
    samples = []
    for _ in range(repeat):
        for q in questions:
            samples += _timed(lambda: retriever.search_with_vector(q.text, q.vector), 1)
    result["hybrid"] = _latency(samples)
    log(f"  {n:>9,} passages: hybrid p50 {result['hybrid']['p50_ms']:.2f} ms, "
        f"p95 {result['hybrid']['p95_ms']:.2f} ms ({result['auto_index']}); "
        f"dense flat p95 {result['dense_flat']['p95_ms']:.2f} ms, "
        f"hnsw p95 {result['dense_hnsw']['p95_ms']:.2f} ms "
        f"(recall@10 {result['hnsw_recall_at_10']['questions']:.3f} questions, "
        f"{result['hnsw_recall_at_10']['fresh_queries']:.3f} fresh; efSearch "
        f"{hnsw.info.ef_search}); bm25 p95 {result['bm25']['p95_ms']:.2f} ms; builds: flat "
        f"{result['flat_build_s']} s, hnsw {result['hnsw_build_s']} s, "
        f"bm25 {result['bm25_build_s']} s")
    del index, retriever, auto, hnsw, bm25
    gc.collect()

    if peer:
        result["peer"] = _measure_peer(collection, questions, settings, repeat, log)
    return result


def _measure_peer(collection: Collection, questions: list[Query], settings, repeat: int,
                  log: Callable[[str], None]) -> dict:
    from rag.bench_peer import PeerRetriever

    # The passages are analysed tokens already, so the peer gets them and the questions'
    # tokens joined by spaces and splits on spaces (it skips the analysis ours does per
    # question: a small advantage to the peer).
    texts = [" ".join(tokens) for tokens in collection.tokens]
    asked = {" ".join(q.tokens): q.vector for q in questions}
    started = time.perf_counter()
    peer = PeerRetriever.build(texts, collection.vectors, asked, tokenize=str.split, k=10,
                               candidates=settings.candidates)
    result: dict = {"build_s": round(time.perf_counter() - started, 2)}
    peer_repeat = repeat if len(collection) <= 100_000 else 1
    samples = []
    for _ in range(peer_repeat):
        for q in questions:
            samples += _timed(lambda: peer.search(" ".join(q.tokens)), 1)
    result["hybrid"] = _latency(samples)
    log(f"  {len(collection):>9,} passages: peer (LangChain ensemble) p50 "
        f"{result['hybrid']['p50_ms']:.2f} ms, p95 {result['hybrid']['p95_ms']:.2f} ms; "
        f"build {result['build_s']} s")
    del peer
    gc.collect()
    return result

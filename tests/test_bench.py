"""The benchmark suite's parts: synthetic collections, the per-size measurement, plots, the
bandwidth probe, the command line, and (real) llama.cpp speed measurement."""

from __future__ import annotations

import numpy as np
import pytest

from rag.__main__ import main
from rag.analysis import tokenize
from rag.bench import memory_bandwidth
from rag.bench_plots import write_plots
from rag.bench_scale import Query, Seed, measure_size, synthesise, synthetic_tokens
from rag.config import Settings
from tests.fakes import FakeEmbedder

CHUNKS = [
    "Nvidia verloor maandag 589 miljard dollar aan beurswaarde op de beurs.",
    "Het Chinese DeepSeek bracht een goedkoop AI-model uit dat veel aandacht kreeg.",
    "De aandelen van chipmakers daalden fors na het nieuws uit China.",
    "Apple en Meta stegen juist op dezelfde dag in waarde.",
    "Het KNMI verwacht pas zondag droger weer in het zuiden.",
]
QUESTIONS = ["Hoeveel beurswaarde verloor Nvidia?", "Which companies rose in value?"]


@pytest.fixture(scope="module")
def seed() -> Seed:
    embedder = FakeEmbedder(dim=32)
    chunk_vectors = embedder.embed_passages(CHUNKS)
    words = [w for c in CHUNKS for w in c.split()]
    return Seed(
        vectors=np.vstack([chunk_vectors, embedder.embed_passages(words)]),
        chunk_vectors=chunk_vectors,
        chunk_tokens=[tokenize(c) for c in CHUNKS],
        questions=[Query(q, embedder.embed_query(q), tuple(tokenize(q))) for q in QUESTIONS],
    )


def test_synthetic_collection_holds_the_real_chunks_and_realistic_text(seed):
    collection = synthesise(seed, 2000, np.random.default_rng(0))
    assert len(collection) == 2000 and len(collection.tokens) == 2000
    assert np.allclose(np.linalg.norm(collection.vectors, axis=1), 1.0, atol=1e-5)
    for vector, tokens in zip(seed.chunk_vectors, seed.chunk_tokens):  # each real chunk, once
        matches = np.flatnonzero(np.all(np.isclose(collection.vectors, vector, atol=1e-6), axis=1))
        assert len(matches) == 1 and collection.tokens[matches[0]] == tokens
    # the real stems are the most frequent terms, synthetic ones the long tail
    counts: dict[str, int] = {}
    for tokens in collection.tokens:
        for token in tokens:
            counts[token] = counts.get(token, 0) + 1
    top = sorted(counts, key=counts.get, reverse=True)[:5]
    assert all(not t.startswith("term") for t in top)
    assert any(t.startswith("term") for t in counts)


def test_synthetic_tokens_follow_the_real_lengths():
    real = [["a"] * 40, ["b"] * 60]
    bags = synthetic_tokens(real, 500, np.random.default_rng(1))
    lengths = [len(b) for b in bags]
    assert min(lengths) >= 25 and max(lengths) <= 75 and 45 <= np.mean(lengths) <= 55


def test_measure_size_reports_every_number_and_picks_hnsw_above_the_threshold(seed):
    settings = Settings(approximate_above=1000, candidates=10, top_k=3)
    lines: list[str] = []
    small = measure_size(seed, 500, settings, repeat=1, synthetic_query_count=20, peer=False,
                         log=lines.append)
    big = measure_size(seed, 3000, settings, repeat=1, synthetic_query_count=20, peer=True,
                       log=lines.append)
    assert small["auto_index"] == "flat" and big["auto_index"] == "hnsw"
    for result in (small, big):
        for name in ("dense_flat", "dense_hnsw", "bm25", "hybrid"):
            assert result[name]["n"] == len(QUESTIONS)
            assert 0 < result[name]["p50_ms"] <= result[name]["p95_ms"]
        for recall in result["hnsw_recall_at_10"].values():
            assert 0.0 <= recall <= 1.0
    assert big["hnsw"]["ef_search"] >= 16
    assert big["peer"]["hybrid"]["n"] == len(QUESTIONS) and big["peer"]["build_s"] >= 0
    assert any("3,000 passages: hybrid" in line for line in lines)
    assert any("peer (LangChain ensemble)" in line for line in lines)


def test_plots_are_written_for_the_sections_present(tmp_path):
    latency = {"p50_ms": 1.0, "p95_ms": 2.0, "n": 3}
    row = {"passages": 1000, "hybrid": latency, "dense_flat": latency, "dense_hnsw": latency,
           "bm25": latency, "peer": {"hybrid": latency},
           "hnsw_recall_at_10": {"questions": 0.97, "fresh_queries": 0.96}}
    results = {
        "scale": [row, {**row, "passages": 10000}],
        "generation": {"threads": {"1": {"prompt_tokens_per_s": 50, "decode_tokens_per_s": 8},
                                   "2": {"prompt_tokens_per_s": 90, "decode_tokens_per_s": 14}},
                       "bandwidth_bound_tokens_per_s": 18, "decode_share_of_bound": 0.78},
        "end_to_end": {"questions": 2, "sources_shown_s": {"p50": 0.01, "p95": 0.02, "n": 2},
                       "first_token_s": {"p50": 3, "p95": 4, "n": 2},
                       "total_s": {"p50": 6, "p95": 8, "n": 2}},
    }
    written = write_plots(results, tmp_path)
    assert [p.name for p in written] == ["retrieval.png", "generation.png", "end_to_end.png"]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in written)
    assert write_plots({"generation": {}}, tmp_path / "none") == []


def test_memory_bandwidth_is_measured_per_thread_count():
    result = memory_bandwidth(gib=0.05, rounds=2)
    assert result["threads_1_gb_s"] > 0
    assert result["best_gb_s"] == max(v for k, v in result.items() if k != "best_gb_s")


def test_bench_refuses_bad_sizes(capsys):
    assert main(["bench", "--sizes", "1000,lots"]) == 1
    assert "--sizes must be numbers separated by commas, got '1000,lots'" in capsys.readouterr().err


@pytest.mark.real
def test_llama_cpp_speed_is_measured(real_pipeline):
    generator = real_pipeline.generator
    prompt, decode = generator.measure_speed("Nvidia verloor 589 miljard dollar.", 64, 8)
    assert prompt > 0 and decode > 0
    assert generator.model_bytes == 1_117_320_768
    # the cached prompt prefixes are untouched: answers still come
    assert real_pipeline.answer("Hoeveel beurswaarde verloor Nvidia?").text

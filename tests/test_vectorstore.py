"""The FAISS vector store: automatic index choice, recall tuning, saving, and the index that
uses it (HNSW on disk, switching kinds, BM25 top-k selection)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rag.analysis import tokenize
from rag.config import Settings
from rag.errors import ConfigError, IndexCorruptError
from rag.index import Index, ensure_index
from rag.vectorstore import (
    EF_SEARCH_STEPS,
    FaissStore,
    StoreInfo,
    calibration_queries,
    exact_top_k,
    recall_at_k,
)
from tests.fakes import FakeEmbedder
from tests.test_index import TEXTS, chunker_for, make_article


def clustered(n: int, dim: int = 32, topics: int = 40, seed: int = 0) -> np.ndarray:
    """Rows grouped around topic centres, L2-normalised, like text embeddings."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((topics, dim))
    rows = centres[rng.integers(0, topics, n)] + 0.6 * rng.standard_normal((n, dim))
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def test_auto_is_exact_up_to_the_threshold_and_hnsw_beyond():
    rows = clustered(3000)
    small = FaissStore.build(rows[:1000], "auto", approximate_above=1000)
    assert small.info == StoreInfo(store="faiss", index="flat")
    big = FaissStore.build(rows, "auto", approximate_above=1000, target_recall=0.95)
    assert big.info.index == "hnsw" and len(big) == 3000
    assert big.info.ef_search in EF_SEARCH_STEPS and big.info.calibrated_recall >= 0.97

    # recall on queries the calibration never saw stays above the target
    queries = calibration_queries(rows, count=100, seed=7)
    truth = exact_top_k(rows, queries, 10)
    assert recall_at_k(big.search(queries, 10)[1], truth) >= 0.95
    # the exact index is exact
    assert recall_at_k(small.search(queries, 10)[1], exact_top_k(rows[:1000], queries, 10)) == 1.0


def test_a_low_search_depth_would_miss_the_target():
    """The tuning matters: the smallest depth does worse than the one chosen."""
    rows = clustered(4000, seed=1)
    store = FaissStore.build(rows, "hnsw", target_recall=0.99)
    queries = calibration_queries(rows, count=100, seed=3)
    truth = exact_top_k(rows, queries, 10)
    tuned = recall_at_k(store.search(queries, 10)[1], truth)
    faiss_index = store._index
    faiss_index.hnsw.efSearch = 10
    shallow = recall_at_k(faiss_index.search(queries, 10)[1], truth)
    assert store.info.ef_search > 16
    assert shallow < tuned


def test_unknown_kind_is_refused():
    with pytest.raises(ConfigError, match="faiss_index must be one of auto, flat, hnsw, got 'ivf'"):
        FaissStore.build(clustered(10), "ivf")


def test_bytes_round_trip_keeps_results_and_search_depth():
    rows = clustered(2000)
    store = FaissStore.build(rows, "hnsw")
    again = FaissStore.from_bytes(store.to_bytes(), store.info)
    queries = rows[:5]
    assert np.array_equal(store.search(queries, 10)[1], again.search(queries, 10)[1])
    assert again._index.hnsw.efSearch == store.info.ef_search
    assert np.allclose(again.vectors([3, 1]), rows[[3, 1]], atol=1e-6)


def test_bytes_that_are_not_the_named_index_are_refused():
    flat = FaissStore.build(clustered(50), "flat")
    with pytest.raises(ValueError, match="not the hnsw index the manifest names"):
        FaissStore.from_bytes(flat.to_bytes(), StoreInfo(store="faiss", index="hnsw"))
    with pytest.raises(ValueError):
        FaissStore.from_bytes(b"not a faiss index", flat.info)


def test_exact_top_k_matches_a_full_sort_across_blocks():
    rows = clustered(257)
    queries = clustered(4, seed=9)
    expected = np.argsort(-(queries @ rows.T), axis=1, kind="stable")[:, :10]
    assert np.array_equal(exact_top_k(rows, queries, 10, block=50), expected)


def test_recall_at_k():
    truth = np.array([[1, 2, 3, 4], [5, 6, 7, 8]])
    assert recall_at_k(np.array([[1, 2, 3, 4], [5, 6, 0, 0]]), truth) == pytest.approx(0.75)


def test_store_info_round_trips_through_the_manifest_dict():
    info = StoreInfo(store="faiss", index="hnsw", hnsw_m=32, ef_construction=80, ef_search=64,
                     calibrated_recall=0.98)
    assert StoreInfo.from_dict(json.loads(json.dumps(info.to_dict()))) == info
    assert StoreInfo.from_dict({"store": "faiss"}) == StoreInfo(store="faiss", index="flat")


# --- through the index -------------------------------------------------------------------


def many_articles(count: int):
    base = list(TEXTS.values())
    return [make_article(f"a{i}", base[i % len(base)] + f" Artikel nummer {i}.") for i in range(count)]


@pytest.fixture
def hnsw_settings(tmp_path) -> Settings:
    return Settings(index_dir=tmp_path / "index", chunk_size=80, chunk_overlap=0,
                    approximate_above=5)


def test_index_above_the_threshold_is_hnsw_on_disk_and_loads_back(hnsw_settings):
    embedder = FakeEmbedder()
    arts = many_articles(6)
    index, _ = ensure_index(hnsw_settings, embedder, arts, chunker=chunker_for(hnsw_settings))
    manifest = json.loads((hnsw_settings.index_dir / "manifest.json").read_text())
    assert manifest["vector_store"]["index"] == "hnsw"
    assert manifest["vector_store"]["ef_search"] in EF_SEARCH_STEPS

    loaded = Index.load(hnsw_settings.index_dir, embedder)
    query = embedder.embed_query("Nvidia verloor 589 miljard dollar")
    assert loaded.search_dense(query, 5) == index.search_dense(query, 5)
    assert loaded.store.info == index.store.info


def test_manifest_naming_another_index_kind_is_corrupt_and_rebuilt(hnsw_settings):
    embedder = FakeEmbedder()
    arts = many_articles(6)
    ensure_index(hnsw_settings, embedder, arts, chunker=chunker_for(hnsw_settings))
    path = hnsw_settings.index_dir / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["vector_store"] = {"store": "faiss", "index": "flat"}
    path.write_text(json.dumps(manifest))
    with pytest.raises(IndexCorruptError, match="not the flat index the manifest names"):
        Index.load(hnsw_settings.index_dir, embedder)
    index, report = ensure_index(hnsw_settings, embedder, arts, chunker=chunker_for(hnsw_settings))
    assert report.reason.startswith("index corrupt") and index.store.info.index == "hnsw"


def test_forcing_another_kind_rebuilds_from_the_cache(hnsw_settings):
    embedder = FakeEmbedder()
    arts = many_articles(6)
    ensure_index(hnsw_settings, embedder, arts, chunker=chunker_for(hnsw_settings))
    flat = hnsw_settings.replace(faiss_index="flat")
    index, report = ensure_index(flat, embedder, arts, chunker=chunker_for(flat))
    assert report.reason == "settings changed: faiss_index 'hnsw' -> 'flat'"
    assert report.embedded == 0 and index.store.info.index == "flat"
    # "auto" accepts whichever kind the index has
    _, report = ensure_index(flat.replace(faiss_index="auto"), embedder, arts,
                             chunker=chunker_for(flat))
    assert report.reason == "up to date"


def test_settings_refuse_unknown_stores_and_kinds():
    with pytest.raises(ConfigError, match="vector_store must be 'faiss' or 'qdrant', got 'milvus'"):
        Settings(vector_store="milvus").validated()
    with pytest.raises(ConfigError, match="faiss_index must be 'auto', 'flat' or 'hnsw'"):
        Settings(faiss_index="ivf").validated()
    with pytest.raises(ConfigError, match=r"target_recall must be in \(0, 1\]"):
        Settings(target_recall=1.5).validated()


def test_bm25_top_k_equals_a_full_sort_with_ties(tmp_path):
    """The partial selection before sorting returns exactly what sorting everything would."""
    settings = Settings(index_dir=tmp_path / "index", chunk_size=80, chunk_overlap=0)
    arts = many_articles(30)  # many chunks share words, many scores tie
    index, _ = ensure_index(settings, FakeEmbedder(), arts, chunker=chunker_for(settings))
    tokens = tokenize("Nvidia verloor miljard dollar, het weer en DeepSeek")
    scores = np.asarray(index._bm25.get_scores(tokens))
    positive = np.flatnonzero(scores > 0)
    everything = [int(i) for i in positive[np.lexsort((positive, -scores[positive]))]]
    assert len(everything) > 12
    for k in (1, 5, 12, len(everything) + 3):
        assert [i for i, _ in index.search_bm25(tokens, k)] == everything[:k]

"""The Qdrant vector store (rag/qdrant_store.py): an index built with vector_store="qdrant"
(local mode, in the index directory) searches exactly like the FAISS one, switching stores
rebuilds without re-embedding, a collection changed behind the index's back is caught and
repaired, and connection problems are configuration errors."""

from __future__ import annotations

import gc
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("qdrant_client")

from qdrant_client import QdrantClient, models  # noqa: E402

from rag.config import Settings  # noqa: E402
from rag.errors import ConfigError, IndexCorruptError, IndexLockedError  # noqa: E402
from rag.index import Index, ensure_index  # noqa: E402
from rag.qdrant_store import QdrantStore  # noqa: E402
from rag.types import Article  # noqa: E402
from rag.vectorstore import FaissStore, StoreInfo  # noqa: E402
from tests.fakes import FakeEmbedder  # noqa: E402
from tests.test_index import TEXTS, chunker_for, make_article  # noqa: E402

MORE = {
    "ellison": (
        "Larry Ellison verloor 22,6 miljard dollar van zijn vermogen. "
        "Oracle zakte mee met de rest van de techsector. "
        "Beleggers twijfelden aan de enorme investeringen in datacenters."
    ),
    "chips": (
        "Exportregels beperken de verkoop van geavanceerde chips aan China. "
        "Toch trainde DeepSeek zijn model op oudere Nvidia-chips. "
        "Analisten vragen zich af of de regels werken."
    ),
}
QUERIES = (
    "Hoeveel verloor Nvidia aan beurswaarde?",
    "Wat kostte het trainen van het model van DeepSeek?",
    "Wordt het weer droger?",
    "Welke chips gebruikte DeepSeek?",
    "Larry Ellison vermogen",
    "onbekende woorden zonder verband",
)


def corpus() -> list[Article]:
    return [make_article(i, t) for i, t in {**TEXTS, **MORE}.items()]


def qdrant_settings(index_dir: Path, **changes) -> Settings:
    return Settings(
        index_dir=index_dir, chunk_size=80, chunk_overlap=0, vector_store="qdrant", **changes
    )


def build(settings: Settings, embedder: FakeEmbedder, arts: list[Article] | None = None):
    return ensure_index(settings, embedder, arts or corpus(), chunker=chunker_for(settings))


def release_local_store() -> None:
    """Drop the process's last reference to a local-mode client, freeing its folder lock."""
    gc.collect()


def assert_same_dense_results(index: Index, reference: Index, embedder: FakeEmbedder) -> None:
    n = len(reference)
    for query in QUERIES:
        vector = embedder.embed_query(query)
        for k in (1, 3, n, n + 5):
            got, want = index.search_dense(vector, k), reference.search_dense(vector, k)
            assert [i for i, _ in got] == [i for i, _ in want], (query, k)
            np.testing.assert_allclose([s for _, s in got], [s for _, s in want], atol=1e-5)
        positions = [n - 1, 0, 2, 0]
        np.testing.assert_allclose(
            index.similarity(vector, positions), reference.similarity(vector, positions), atol=1e-5
        )


# --- build, load, search ------------------------------------------------------------------


def test_qdrant_index_searches_like_the_faiss_index(tmp_path):
    embedder = FakeEmbedder()
    faiss_index, _ = build(Settings(index_dir=tmp_path / "faiss", chunk_size=80, chunk_overlap=0),
                           embedder)
    settings = qdrant_settings(tmp_path / "qdrant")
    index, report = build(settings, embedder)

    assert report.reason == "no index" and report.chunks == len(faiss_index) > 10
    assert [c.id for c in index.chunks] == [c.id for c in faiss_index.chunks]
    assert not (settings.index_dir / "vectors.faiss").exists()
    assert (settings.index_dir / "qdrant").is_dir()
    manifest = json.loads((settings.index_dir / "manifest.json").read_text())
    assert manifest["vector_store"] == {"store": "qdrant", "index": "qdrant",
                                        "collection": "dutch-news"}
    assert "vectors.faiss" not in manifest["files"]
    assert isinstance(index.store, QdrantStore) and len(index.store) == len(index)
    assert_same_dense_results(index, faiss_index, embedder)

    del index
    loaded = Index.load(settings.index_dir, embedder, settings)
    assert isinstance(loaded.store, QdrantStore)
    assert_same_dense_results(loaded, faiss_index, embedder)
    again, report = build(settings, embedder)
    assert report.reason == "up to date" and report.embedded == 0
    assert_same_dense_results(again, faiss_index, embedder)


def test_store_pads_like_faiss_and_returns_vectors_in_the_order_asked(tmp_path):
    rng = np.random.default_rng(0)
    matrix = rng.standard_normal((7, 16)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    queries = matrix[[2, 5]] + 0.1 * rng.standard_normal((2, 16)).astype(np.float32)

    store = QdrantStore.build(tmp_path, qdrant_settings(tmp_path), matrix)
    scores, ids = store.search(queries, 10)
    want_scores, want_ids = FaissStore.build(matrix, "flat").search(queries, 10)

    assert scores.shape == ids.shape == (2, 10)
    assert scores.dtype == np.float32 and ids.dtype == np.int64
    np.testing.assert_array_equal(ids, want_ids)
    assert (ids[:, 7:] == -1).all() and np.isneginf(scores[:, 7:]).all()
    np.testing.assert_allclose(scores[:, :7], want_scores[:, :7], atol=1e-5)
    np.testing.assert_array_equal(store.vectors([3, 1, 3]), matrix[[3, 1, 3]])
    assert store.vectors([]).shape == (0, 16)
    assert store.info == StoreInfo(store="qdrant", index="qdrant", collection="dutch-news")


# --- switching stores ---------------------------------------------------------------------


def test_switching_the_store_rebuilds_with_the_reason_and_embeds_nothing(tmp_path):
    embedder = FakeEmbedder()
    faiss_settings = Settings(index_dir=tmp_path / "index", chunk_size=80, chunk_overlap=0)
    faiss_index, first = build(faiss_settings, embedder)
    assert first.embedded == len(faiss_index)

    index, report = build(faiss_settings.replace(vector_store="qdrant"), embedder)
    assert report.reason == "settings changed: vector_store 'faiss' -> 'qdrant'"
    assert report.embedded == 0 and report.reused == len(index)
    assert not (tmp_path / "index" / "vectors.faiss").exists()
    assert_same_dense_results(index, faiss_index, embedder)

    renamed, report = build(
        faiss_settings.replace(vector_store="qdrant", qdrant_collection="nieuws"), embedder
    )
    assert report.reason == "settings changed: qdrant_collection 'dutch-news' -> 'nieuws'"
    assert report.embedded == 0 and renamed.store.info.collection == "nieuws"

    back, report = build(faiss_settings, embedder)
    assert report.reason == "settings changed: vector_store 'qdrant' -> 'faiss'"
    assert report.embedded == 0 and isinstance(back.store, FaissStore)
    assert (tmp_path / "index" / "vectors.faiss").exists()
    assert not (tmp_path / "index" / "qdrant").exists()  # no stale copy left behind
    assert_same_dense_results(back, faiss_index, embedder)


# --- a collection changed behind the index's back -----------------------------------------


def change_collection(index_dir: Path, change) -> None:
    """Open the local store as another client would (no store of this process may hold it)."""
    release_local_store()
    client = QdrantClient(path=str(index_dir / "qdrant"))
    try:
        change(client)
    finally:
        client.close()


def test_deleted_collection_is_corrupt_and_rebuilt_from_the_cache(tmp_path):
    embedder = FakeEmbedder()
    settings = qdrant_settings(tmp_path / "index")
    reference, _ = build(Settings(index_dir=tmp_path / "faiss", chunk_size=80, chunk_overlap=0),
                         embedder)
    index, _ = build(settings, embedder)
    del index
    change_collection(settings.index_dir, lambda c: c.delete_collection("dutch-news"))

    with pytest.raises(
        IndexCorruptError,
        match=r"Qdrant collection 'dutch-news' at .*qdrant does not exist",
    ):
        Index.load(settings.index_dir, embedder, settings)
    index, report = build(settings, embedder)
    assert report.reason.startswith("index corrupt: Qdrant collection 'dutch-news'")
    assert report.embedded == 0
    assert_same_dense_results(index, reference, embedder)


def test_extra_point_is_caught_by_the_count_and_rebuilt(tmp_path):
    embedder = FakeEmbedder()
    settings = qdrant_settings(tmp_path / "index")
    index, _ = build(settings, embedder)
    n = len(index)
    query = embedder.embed_query(QUERIES[0])
    want = index.search_dense(query, 5)
    del index

    def add_point(client: QdrantClient) -> None:
        client.upsert("dutch-news", points=[models.PointStruct(id=n, vector=query.tolist())],
                      wait=True)

    change_collection(settings.index_dir, add_point)
    with pytest.raises(IndexCorruptError, match=rf"inconsistent: {n + 1} vectors, {n} chunks"):
        Index.load(settings.index_dir, embedder, settings)
    index, report = build(settings, embedder)
    assert report.reason.startswith("index corrupt:") and report.embedded == 0
    assert len(index.store) == n
    assert index.search_dense(query, 5) == want


def test_point_added_after_loading_is_an_error_not_a_chunk(tmp_path):
    embedder = FakeEmbedder()
    settings = qdrant_settings(tmp_path / "index")
    index, _ = build(settings, embedder)
    n = len(index)
    query = embedder.embed_query(QUERIES[0])
    index.store._client.upsert(  # the store's own client: the folder admits one per process
        "dutch-news", points=[models.PointStruct(id=n, vector=query.tolist())], wait=True
    )
    with pytest.raises(IndexCorruptError, match=rf"holds point {n}, which is not a chunk"):
        index.search_dense(query, 3)
    index.store._client.delete(
        "dutch-news", points_selector=models.PointIdsList(points=[0]), wait=True
    )
    with pytest.raises(IndexCorruptError, match=r"lacks the vectors of chunk positions \[0\]"):
        index.similarity(query, [1, 0])


def test_collection_of_another_dimension_is_corrupt(tmp_path):
    embedder = FakeEmbedder()
    settings = qdrant_settings(tmp_path / "index")
    index, _ = build(settings, embedder)
    del index

    def recreate(client: QdrantClient) -> None:
        client.delete_collection("dutch-news")
        client.create_collection("dutch-news", vectors_config=models.VectorParams(
            size=32, distance=models.Distance.COSINE))

    change_collection(settings.index_dir, recreate)
    with pytest.raises(IndexCorruptError, match="holds 32-dimensional Cosine vectors, the index "
                                                "needs 64-dimensional Dot vectors"):
        Index.load(settings.index_dir, embedder, settings)


def test_missing_or_unreadable_local_store_is_corrupt_and_rebuilt(tmp_path):
    embedder = FakeEmbedder()
    settings = qdrant_settings(tmp_path / "index")
    index, _ = build(settings, embedder)
    del index
    release_local_store()
    shutil.rmtree(settings.index_dir / "qdrant")
    with pytest.raises(IndexCorruptError, match=r"Qdrant local store .*qdrant is missing"):
        Index.load(settings.index_dir, embedder, settings)

    index, report = build(settings, embedder)
    assert report.reason.startswith("index corrupt:") and report.embedded == 0
    del index
    release_local_store()
    (settings.index_dir / "qdrant" / "meta.json").write_text("{not json")
    with pytest.raises(IndexCorruptError, match=r"Qdrant local store .*qdrant is unreadable"):
        Index.load(settings.index_dir, embedder, settings)
    index, report = build(settings, embedder)
    assert report.reason.startswith("index corrupt:") and len(index.store) == len(index)


# --- locks and connections ----------------------------------------------------------------


def test_local_store_held_by_another_client_is_index_locked_error(tmp_path):
    embedder = FakeEmbedder()
    settings = qdrant_settings(tmp_path / "index")
    index, _ = build(settings, embedder)
    # in one process, stores on one folder share a client
    assert Index.load(settings.index_dir, embedder, settings).store._client is index.store._client
    del index
    release_local_store()

    other = QdrantClient(path=str(settings.index_dir / "qdrant"))  # as another process would
    try:
        with pytest.raises(IndexLockedError, match=r"Qdrant local store .*qdrant is in use by "
                                                   r"another process"):
            Index.load(settings.index_dir, embedder, settings)
        with pytest.raises(IndexLockedError):
            build(settings, embedder)  # not "corrupt": nothing is rebuilt
    finally:
        other.close()
    assert len(Index.load(settings.index_dir, embedder, settings)) > 10


def test_unreachable_server_is_a_config_error(tmp_path):
    url = "http://127.0.0.1:9"
    settings = qdrant_settings(tmp_path / "index", qdrant_url=url)
    started = time.perf_counter()
    with pytest.raises(ConfigError, match=r"cannot reach the Qdrant server at http://127\.0\.0\.1:9 "
                                          r"\(RAG_QDRANT_URL\): .*refused"):
        build(settings, FakeEmbedder())
    info = StoreInfo(store="qdrant", index="qdrant", location=url, collection="dutch-news")
    with pytest.raises(ConfigError, match="cannot reach the Qdrant server"):
        QdrantStore.open(tmp_path, info, 64, settings)
    assert time.perf_counter() - started < 30


def test_missing_qdrant_client_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "qdrant_client", None)  # import now raises ImportError
    with pytest.raises(ConfigError, match=r"install qdrant-client to use RAG_VECTOR_STORE=qdrant: "
                                          r"pip install -r requirements.txt"):
        QdrantStore.build(tmp_path, qdrant_settings(tmp_path), np.eye(3, dtype=np.float32))


# --- the real models ----------------------------------------------------------------------


@pytest.mark.real
def test_real_qdrant_pipeline_retrieves_and_answers_like_faiss(real_pipeline, tmp_path):
    """Same passages for every dev question, hence the same prompt; and one full Dutch
    answer generated through each store is the same text."""
    from rag import prompts
    from rag.language import detect_language
    from rag.pipeline import Pipeline

    # Without a binding deadline (the machine may be busy), generation is deterministic.
    faiss_settings = real_pipeline.settings.replace(request_timeout=900.0)
    models_of = {"embedder": real_pipeline.embedder, "generator": real_pipeline.generator}
    faiss_pipeline = Pipeline(faiss_settings, **models_of)
    assert faiss_pipeline.build().reason == "up to date"
    index_dir = tmp_path / "index"
    index_dir.mkdir()
    shutil.copy(faiss_settings.index_dir / "embeddings.npz", index_dir)
    qdrant_pipeline = Pipeline(
        faiss_settings.replace(index_dir=index_dir, vector_store="qdrant"), **models_of
    )
    report = qdrant_pipeline.build()
    assert report.reason == "no index" and report.embedded == 0
    assert isinstance(qdrant_pipeline.index.store, QdrantStore)

    lines = (Path(__file__).parent.parent / "eval" / "questions.jsonl").read_text().splitlines()
    questions = [json.loads(line)["question"] for line in lines if line.strip()]
    assert len(questions) >= 10
    for question in questions:
        want = faiss_pipeline.retriever.search(question)
        got = qdrant_pipeline.retriever.search(question)
        assert [p.chunk.id for p in got.passages] == [p.chunk.id for p in want.passages], question
        assert got.best_dense_score == pytest.approx(want.best_dense_score, abs=1e-5)
        want_passages = faiss_pipeline.retrieve(question)
        got_passages = qdrant_pipeline.retrieve(question)
        assert [p.chunk.id for p in got_passages] == [p.chunk.id for p in want_passages], question
        language = detect_language(question)
        assert prompts.answer_messages(question, got_passages, language) == (
            prompts.answer_messages(question, want_passages, language)
        )

    # One full answer through each store. Two passages instead of top_k: half the prompt to
    # evaluate, twice (the slow part of this test).
    answerers = [
        Pipeline(p.settings.replace(top_k=2), **models_of) for p in (faiss_pipeline, qdrant_pipeline)
    ]
    assert [p.build().reason for p in answerers] == ["up to date", "up to date"]
    question = "Wat was de aanleiding voor de koersval van Nvidia?"
    want_answer, got_answer = (p.answer(question) for p in answerers)
    assert not want_answer.abstained and want_answer.language == "nl"
    assert got_answer.text == want_answer.text
    assert [p.chunk.id for p in got_answer.passages] == [p.chunk.id for p in want_answer.passages]

"""The LangChain peer of the benchmark (rag.bench_peer), on small corpora and fake vectors.

`make test` installs the benchmark extras (requirements-bench.txt) these tests need.
"""

from __future__ import annotations

import sys

import bm25s
import numpy as np
import pytest

from rag.analysis import tokenize
from rag.errors import ConfigError
from rag.retrieval import reciprocal_rank_fusion
from tests.fakes import FakeEmbedder

TOPICS = [
    "De Tweede Kamer debatteert over de begroting van defensie",
    "Ajax wint met ruime cijfers van Feyenoord in de Klassieker",
    "Nvidia verloor 589 miljard dollar aan beurswaarde op een dag",
    "Het KNMI waarschuwt voor zware storm langs de kust",
    "De ECB verhoogt de rente opnieuw met een kwart procentpunt",
    "Boeren protesteren in Den Haag tegen de stikstofregels",
    "Een nieuw vaccin tegen malaria blijkt effectief bij kinderen",
    "De woningmarkt koelt af nu de hypotheekrente stijgt",
    "Schiphol moet het aantal vluchten verder terugbrengen",
    "Archeologen vinden Romeinse munten bij opgravingen in Nijmegen",
    "De inflatie in de eurozone daalt voor de derde maand op rij",
    "Wielrenner wint de koninginnenrit in de Alpen na solo",
]


def _langchain():
    from rag import bench_peer

    return bench_peer


def _random_unit(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    rows = rng.standard_normal((n, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_missing_langchain_names_the_extras(monkeypatch):
    from rag import bench_peer

    bench_peer._precomputed_embeddings_class.cache_clear()
    monkeypatch.setitem(sys.modules, "langchain_classic", None)  # import now fails
    monkeypatch.setitem(sys.modules, "langchain_classic.retrievers", None)
    with pytest.raises(ConfigError, match="pip install -r requirements-bench.txt"):
        bench_peer.PeerRetriever.build(
            ["a"], np.ones((1, 2), np.float32), {}, tokenize, k=1, candidates=1
        )
    with pytest.raises(ConfigError, match="requirements-bench.txt"):
        bench_peer.PrecomputedEmbeddings
    bench_peer._precomputed_embeddings_class.cache_clear()


def test_precomputed_embeddings_look_up_and_refuse_unknown_text():
    peer = _langchain()
    embeddings = peer.PrecomputedEmbeddings({"vraag": np.array([0.6, 0.8], np.float32)})
    assert embeddings.embed_query("vraag") == pytest.approx([0.6, 0.8])
    assert embeddings.embed_documents(["vraag", "vraag"]) == [embeddings.embed_query("vraag")] * 2
    with pytest.raises(KeyError, match="no precomputed vector for 'onbekend'") as caught:
        embeddings.embed_query("onbekend")
    assert isinstance(caught.value, peer.UnknownTextError)


def test_returns_the_chunk_both_sides_rank_first():
    peer = _langchain()
    embedder = FakeEmbedder()
    question = "Hoeveel beurswaarde verloor Nvidia?"
    retriever = peer.PeerRetriever.build(
        TOPICS,
        embedder.embed_passages(TOPICS),
        {question: embedder.embed_query(question)},
        tokenize,
        k=3,
        candidates=6,
    )
    assert retriever.search(question)[0] == 2
    assert retriever.build_seconds == retriever.dense_build_seconds + retriever.bm25_build_seconds
    assert retriever.build_seconds > 0


def test_positions_are_distinct_chunk_positions_cut_to_k():
    peer = _langchain()
    rng = np.random.default_rng(7)
    vectors = _random_unit(rng, len(TOPICS), 16)
    questions = ["storm aan de kust", "rente en inflatie", "geen enkel woord bekend xyzzy"]
    retriever = peer.PeerRetriever.build(
        TOPICS,
        vectors,
        {q: _random_unit(rng, 1, 16)[0] for q in questions},
        tokenize,
        k=4,
        candidates=5,
    )
    for question in questions:
        found = retriever.search(question)
        assert len(found) == 4
        assert len(set(found)) == len(found)
        assert set(found) <= set(range(len(TOPICS)))


def test_unknown_question_raises_a_clear_error():
    peer = _langchain()
    vectors = _random_unit(np.random.default_rng(1), len(TOPICS), 8)
    retriever = peer.PeerRetriever.build(TOPICS, vectors, {}, tokenize, k=2, candidates=3)
    with pytest.raises(KeyError, match="no precomputed vector for 'wie won\\?'"):
        retriever.search("wie won?")


def test_fusion_equals_ours_on_the_same_rankings():
    """On the same dense ranking and the same BM25 ranking, the peer's top k is what our
    `reciprocal_rank_fusion` gives. rank_bm25 (BM25Okapi: idf log((N-df+.5)/(df+.5)),
    negative idf floored) and bm25s (Lucene: idf log(1+(N-df+.5)/(df+.5))) weigh terms
    differently, and rank_bm25 pads its list with zero-score chunks where bm25s returns
    none; with k1 and b alike they agree on a one-term query whose term is in fewer than half
    of the chunks and in at least `candidates` of them, so the test asks exactly that (and
    checks that they agree before comparing the fusions)."""
    peer = _langchain()
    rng = np.random.default_rng(42)
    n, dim, candidates, k = 60, 32, 8, 5
    filler = [w for topic in TOPICS for w in topic.split() if len(w) > 3]
    texts = []
    for i in range(n):
        words = list(rng.choice(filler, size=10 + i // 3))  # every term chunk a new length
        if i % 3 == 0:  # 20 of the 60 chunks hold the term, 1-4 times
            words[: 1 + (i // 3) % 4] = ["zonnepanelen"] * (1 + (i // 3) % 4)
        texts.append(" ".join(words))
    texts = list(dict.fromkeys(texts))  # no duplicates
    vectors = _random_unit(rng, len(texts), dim)
    question = "zonnepanelen"

    ours_bm25 = bm25s.BM25()  # the parameters rag.index uses
    ours_bm25.index([tokenize(t) for t in texts], show_progress=False)
    scores = np.asarray(ours_bm25.get_scores(tokenize(question)))
    assert np.count_nonzero(scores > 0) >= candidates
    best = np.sort(scores)[::-1][: candidates + 1]
    assert len(np.unique(best)) == len(best)  # no ties that would make the cut arbitrary
    bm25 = [int(i) for i in np.argsort(-scores, kind="stable")[:candidates]]
    query = vectors[bm25[2]] + 0.3 * _random_unit(rng, 1, dim)[0]  # near BM25's third
    query /= np.linalg.norm(query)
    dense = [int(i) for i in np.argsort(-(vectors @ query), kind="stable")[:candidates]]
    assert dense[0] == bm25[2]  # so the fusion has a chunk both sides propose

    retriever = peer.PeerRetriever.build(
        texts, vectors, {question: query}, tokenize, k=k, candidates=candidates
    )
    dense_side, bm25_side = retriever.ensemble.retrievers
    assert [d.metadata["position"] for d in dense_side.invoke(question)] == dense
    assert [d.metadata["position"] for d in bm25_side.invoke(question)] == bm25

    expected = [i for i, _ in reciprocal_rank_fusion([dense, bm25], k=60)][:k]
    assert retriever.search(question) == expected

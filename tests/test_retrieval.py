"""Hybrid retrieval: the BM25 analyzer, reciprocal-rank fusion, passage tagging, dense
scores, the real model."""

from __future__ import annotations

import doctest
from pathlib import Path

import numpy as np
import pytest

import rag.analysis
import rag.retrieval
from rag.analysis import tokenize
from rag.config import Settings
from rag.errors import ConfigError, QuestionError
from rag.index import ensure_index
from rag.retrieval import HybridRetriever, Sentence, reciprocal_rank_fusion, select_spans
from rag.types import ArticleMeta, Chunk
from tests.fakes import FakeEmbedder
from tests.test_index import TEXTS, make_article, sentence_chunks

# --- the BM25 analyzer ---------------------------------------------------------------------------


def test_tokenize_stems_dutch_and_drops_stopwords():
    assert tokenize("aandelen") == tokenize("aandeel") == ["aandeel"]
    assert tokenize("De aandelen van het bedrijf en de beurzen") == ["aandeel", "bedrijf", "beurs"]
    assert tokenize("How much did the shares of Nvidia lose?") == ["much", "share", "nvidia", "lose"]
    assert tokenize("Hoeveel verloor Nvidia? Ajax won.") == ["verloor", "nvidia", "ajax", "won"]


def test_tokenize_keeps_numbers_and_splits_punctuation():
    assert tokenize("589 miljard dollar (561,7 miljard euro)") == [
        "589", "miljard", "dollar", "561,7", "miljard", "euro"
    ]
    assert tokenize("S&P-500 daalde 1.000 punten") == ["p", "500", "daal", "1.000", "punt"]
    assert tokenize("AUTO'S") == ["auto"]
    assert tokenize("De, het; een!") == []


def test_docstring_examples_hold():
    for module in (rag.analysis, rag.retrieval):
        assert doctest.testmod(module).failed == 0


# --- reciprocal_rank_fusion -----------------------------------------------------------------


def test_rrf_worked_example():
    fused = reciprocal_rank_fusion([[7, 3], [3, 9]], k=60)
    assert [i for i, _ in fused] == [3, 7, 9]
    assert fused[0][1] == pytest.approx(1 / 62 + 1 / 61)
    assert fused[1][1] == pytest.approx(1 / 61)
    assert fused[2][1] == pytest.approx(1 / 62)


def test_rrf_ties_duplicates_and_edges():
    # 1 and 2 both rank first once: the earlier list wins the tie
    assert [i for i, _ in reciprocal_rank_fusion([[1], [2]], k=60)] == [1, 2]
    # a repeated id counts once per list, at its first rank
    assert reciprocal_rank_fusion([[5, 5, 6]], k=0) == [(5, 1.0), (6, 1 / 3)]
    assert reciprocal_rank_fusion([[], []], k=60) == []
    with pytest.raises(ValueError, match=r"^k must be 0 or more, got -1$"):
        reciprocal_rank_fusion([[1]], k=-1)


# --- HybridRetriever over a scripted index ------------------------------------------------------


class ScriptedIndex:
    """Just the seam HybridRetriever uses, with fixed rankings."""

    def __init__(self, dense, bm25, cosines):
        self.chunks = tuple(Chunk(f"c{i}", f"a{i}", f"tekst {i}", 0, 7) for i in range(10))
        self.articles = {f"a{i}": ArticleMeta(f"a{i}", f"Titel {i}") for i in range(10)}
        self.dense, self.bm25, self.cosines = dense, bm25, cosines
        self.similarity_calls = []

    def search_dense(self, vector, k):
        return self.dense[:k]

    def search_bm25(self, tokens, k):
        return self.bm25[:k]

    def similarity(self, vector, positions):
        self.similarity_calls.append(list(positions))
        return [self.cosines[p] for p in positions]


def test_passages_carry_fused_scores_retriever_tags_and_cosines(tmp_path):
    index = ScriptedIndex(
        dense=[(1, 0.91), (2, 0.85), (3, 0.80)],
        bm25=[(4, 12.5), (2, 7.0)],
        cosines={4: 0.55},
    )
    settings = Settings(index_dir=tmp_path, top_k=4, candidates=4, rrf_k=60)
    passages = HybridRetriever(index, FakeEmbedder(), settings).retrieve("Hoeveel verloor Nvidia?")

    assert [(p.chunk.id, p.retrievers) for p in passages] == [
        ("c2", ("dense", "bm25")),
        ("c1", ("dense",)),
        ("c4", ("bm25",)),
        ("c3", ("dense",)),
    ]
    by_id = {p.chunk.id: p for p in passages}
    assert by_id["c2"].score == pytest.approx(1 / 62 + 1 / 62)
    assert by_id["c2"].dense_score == 0.85 and by_id["c2"].bm25_score == 7.0
    assert by_id["c1"].dense_score == 0.91 and by_id["c1"].bm25_score is None
    assert by_id["c4"].dense_score == 0.55 and by_id["c4"].bm25_score == 12.5
    assert index.similarity_calls == [[4]]  # only the BM25-only chunk needed its cosine
    assert by_id["c4"].article == ArticleMeta("a4", "Titel 4")


def test_k_limits_the_passages_and_bad_input_is_refused(tmp_path):
    index = ScriptedIndex(dense=[(1, 0.9), (2, 0.8)], bm25=[(3, 2.0)], cosines={3: 0.1})
    retriever = HybridRetriever(index, FakeEmbedder(), Settings(index_dir=tmp_path))
    assert [p.chunk.id for p in retriever.retrieve("vraag", k=1)] == ["c1"]
    assert len(retriever.retrieve("vraag")) == 3  # fewer candidates than top_k=5
    with pytest.raises(QuestionError, match=r"^the question is empty$"):
        retriever.retrieve("  \n")
    with pytest.raises(ConfigError, match=r"^k must be at least 1, got 0$"):
        retriever.retrieve("vraag", k=0)
    with pytest.raises(ConfigError, match=r"^rrf_k must be 0 or more, got -5$"):
        HybridRetriever(index, FakeEmbedder(), Settings(index_dir=tmp_path, rrf_k=-5))


# --- HybridRetriever over a real index --------------------------------------------------------


def build_index(tmp_path: Path, embedder, **overrides):
    settings = Settings(index_dir=tmp_path / "index", chunk_size=80, chunk_overlap=0, **overrides)
    arts = [make_article(i, t) for i, t in TEXTS.items()]
    index, _ = ensure_index(
        settings, embedder, arts, chunker=lambda a: sentence_chunks(a, settings.chunk_size)
    )
    return index, settings


def test_hybrid_retrieval_over_a_built_index(tmp_path):
    embedder = FakeEmbedder()
    index, settings = build_index(tmp_path, embedder, top_k=3, candidates=3)
    retriever = HybridRetriever(index, embedder, settings)
    question = "Hoeveel miljard dollar verloor Nvidia aan beurswaarde?"

    result = retriever.search(question)
    passages = result.passages

    assert len(passages) == 3
    assert passages[0].article.id == "nvidia" and "589 miljard" in passages[0].chunk.text
    assert passages[0].retrievers == ("dense", "bm25")
    dense = dict(index.search_dense(embedder.embed_query(question), 3))
    bm25 = dict(index.search_bm25(tokenize(question), 3))
    for p in passages:
        position = index.chunks.index(p.chunk)
        assert p.retrievers == tuple(
            name for name, found in (("dense", dense), ("bm25", bm25)) if position in found
        )
        assert p.bm25_score == bm25.get(position)
        expected = float(embedder.embed_passages([p.chunk.text])[0] @ embedder.embed_query(question))
        assert p.dense_score == pytest.approx(expected, abs=1e-5)
    assert [p.score for p in passages] == sorted((p.score for p in passages), reverse=True)
    assert result.best_dense_score == pytest.approx(max(dense.values()))
    assert result.seconds >= 0


def test_best_dense_score_and_retrieve_embed_the_question_once(tmp_path):
    embedder = FakeEmbedder()
    index, settings = build_index(tmp_path, embedder)
    retriever = HybridRetriever(index, embedder, settings)
    embedder.calls.clear()

    best = retriever.best_dense_score("Regen in het zuiden")
    passages = retriever.retrieve("Regen in het zuiden")

    assert embedder.calls == [("query", 1)]
    assert best == pytest.approx(max(p.dense_score for p in passages))
    assert passages[0].article.id == "weer"


@pytest.mark.real
def test_real_e5_finds_the_dutch_passage_for_an_english_question(tmp_path):
    from rag.embedding import E5NanoEmbedder

    embedder = E5NanoEmbedder()
    index, settings = build_index(tmp_path, embedder, top_k=3, candidates=3)
    retriever = HybridRetriever(index, embedder, settings)

    passages = retriever.retrieve("How much market value did Nvidia lose?")

    assert passages[0].article.id == "nvidia"
    assert "589 miljard dollar" in passages[0].chunk.text
    assert isinstance(passages[0].dense_score, float)
    assert np.isclose(retriever.best_dense_score("How much market value did Nvidia lose?"),
                      max(p.dense_score for p in passages))


# --- focusing ----------------------------------------------------------------------------------


def _sentence(start, end, direction, tokens=(), referring=False):
    vector = np.zeros(4, dtype=np.float32)
    vector[direction] = 1.0
    return Sentence(start, end, vector, frozenset(tokens), referring)


def _focus_chunk(text):
    return Chunk("a:0:x", "a", text, 100, 100 + len(text))


def test_select_spans_takes_the_best_sentences_within_the_budget():
    text = "Eerste zin hier. Tweede zin over Nvidia. Derde zin."
    sentences = [_sentence(0, 16, 1), _sentence(17, 40, 0), _sentence(41, 51, 2)]
    query = np.array([1.0, 0.0, 0.0, 0.0], dtype=np.float32)

    spans = select_spans([(_focus_chunk(text), sentences)], query, frozenset(), budget=25)

    assert spans == [(17, 40)]


def test_select_spans_always_keeps_the_best_sentence_even_over_budget():
    sentences = [_sentence(0, 100, 0)]
    spans = select_spans(
        [(_focus_chunk("x" * 100), sentences)], np.eye(4, dtype=np.float32)[0], frozenset(), 10
    )
    assert spans == [(0, 100)]


def test_a_referring_sentence_brings_the_one_before_it():
    text = "Jensen Huang is de oprichter. Hij verloor 20,1 miljard dollar."
    sentences = [_sentence(0, 29, 1), _sentence(30, 62, 0, referring=True)]
    spans = select_spans(
        [(_focus_chunk(text), sentences)], np.eye(4, dtype=np.float32)[0], frozenset(), 200
    )
    assert spans == [(0, 62)]


def test_a_chunk_without_a_chosen_sentence_gets_no_span():
    first = [_sentence(0, 20, 0)]
    second = [_sentence(0, 20, 3)]
    spans = select_spans(
        [(_focus_chunk("a" * 20), first), (_focus_chunk("b" * 20), second)],
        np.eye(4, dtype=np.float32)[0],
        frozenset(),
        budget=25,
    )
    assert spans == [(0, 20), None]


def test_focus_cuts_passages_to_their_best_sentences_with_exact_offsets(tmp_path):
    text = "Nvidia verloor 589 miljard dollar. Apple steeg met 3 procent. Meta herstelde sterk."
    article = make_article("a", text)
    settings = Settings(index_dir=tmp_path / "index", chunk_size=500, top_k=1, candidates=1)
    embedder = FakeEmbedder()
    index, _ = ensure_index(settings, embedder, [article], chunker=lambda a: sentence_chunks(a, 500))
    retriever = HybridRetriever(index, embedder, settings)
    [passage] = retriever.retrieve("Hoeveel steeg Apple met procent?")

    [focused] = retriever.focus("Hoeveel steeg Apple met procent?", [passage], budget=30)

    assert focused.chunk.text == "Apple steeg met 3 procent."
    assert text[focused.chunk.start : focused.chunk.end] == focused.chunk.text
    assert focused.chunk.id.startswith(passage.chunk.id + "/")
    assert retriever.focus("Hoeveel steeg Apple?", [passage], budget=0) == [passage]


def test_focusing_keeps_the_sentences_of_a_bounded_number_of_chunks(tmp_path):
    texts = [f"Bedrijf {n} verloor {n} miljard dollar. Het aandeel {n} zakte hard." for n in range(4)]
    articles = [make_article(f"a{n}", text) for n, text in enumerate(texts)]
    settings = Settings(index_dir=tmp_path / "index", chunk_size=500, top_k=4, candidates=4)
    embedder = FakeEmbedder()
    index, _ = ensure_index(settings, embedder, articles, chunker=lambda a: sentence_chunks(a, 500))
    retriever = HybridRetriever(index, embedder, settings, max_chunks_kept=2)
    passages = retriever.retrieve("Hoeveel verloor bedrijf 2?")
    retriever.warm()
    assert len(retriever._sentences) == 2

    first = retriever.focus("Hoeveel verloor bedrijf 2?", passages, budget=200)
    again = retriever.focus("Hoeveel verloor bedrijf 2?", passages, budget=200)

    assert len(retriever._sentences) == 2  # the last two chunks focused, not all four
    assert [p.chunk.text for p in first] == [p.chunk.text for p in again]
    assert all(texts[int(p.article.id[1:])][p.chunk.start : p.chunk.end] == p.chunk.text for p in first)

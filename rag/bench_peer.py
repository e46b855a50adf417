"""The peer pipeline that `python -m rag bench` measures ours against: LangChain's FAISS
vector-store retriever and its BM25Retriever (rank_bm25), fused by its EnsembleRetriever, run
on the same chunks, the same vectors and the same tokenizer as ours.

Both sides are handed precomputed vectors (`PrecomputedEmbeddings`), so neither pays for
embedding inside the timed search. The peer is used as LangChain ships it: this adapter only
builds it and maps the fused documents back to chunk positions; it copies nothing per query.

LangChain is imported lazily, so importing this module needs none of it; building the peer
(or touching `PrecomputedEmbeddings`) without it raises ConfigError. Install it with
`pip install -r requirements-bench.txt`; the app never needs it.
"""

from __future__ import annotations

import functools
import importlib
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

import numpy as np

from rag.errors import ConfigError

if TYPE_CHECKING:
    from langchain_classic.retrievers import EnsembleRetriever

MISSING = "install the benchmark extras: pip install -r requirements-bench.txt"
RRF_C = 60  # EnsembleRetriever's default, the same as our settings.rrf_k


class UnknownTextError(KeyError):
    """A text was given to `PrecomputedEmbeddings` that it holds no vector for."""

    def __str__(self) -> str:  # KeyError would show the message in quotes
        return str(self.args[0])


_MODULES = (
    "langchain_classic.retrievers",  # EnsembleRetriever (moved out of `langchain` in 1.0)
    "langchain_community.retrievers",  # BM25Retriever
    "langchain_community.vectorstores",  # FAISS
    "langchain_core.embeddings",  # Embeddings
    "rank_bm25",  # BM25Retriever's engine, imported by it only when building
)


def _require() -> None:
    try:
        for name in _MODULES:
            importlib.import_module(name)
    except ImportError as exc:
        raise ConfigError(MISSING) from exc


@functools.cache
def _precomputed_embeddings_class() -> type:
    _require()
    from langchain_core.embeddings import Embeddings

    class PrecomputedEmbeddings(Embeddings):
        """LangChain Embeddings that look vectors up instead of computing them: built from a
        mapping text -> vector given up front; an unknown text raises UnknownTextError."""

        def __init__(self, vectors: Mapping[str, np.ndarray]):
            # Stored as lists once, since LangChain's interface returns list[float].
            self._vectors = {
                text: np.asarray(v, dtype=np.float32).ravel().tolist()
                for text, v in vectors.items()
            }

        def embed_query(self, text: str) -> list[float]:
            try:
                return self._vectors[text]
            except KeyError:
                shown = text if len(text) <= 80 else text[:77] + "..."
                raise UnknownTextError(
                    f"no precomputed vector for {shown!r}: "
                    "pass every benchmark question in query_vectors"
                ) from None

        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return [self.embed_query(text) for text in texts]

    return PrecomputedEmbeddings


def __getattr__(name: str) -> Any:  # PEP 562: the LangChain subclass is made on first use
    if name == "PrecomputedEmbeddings":
        return _precomputed_embeddings_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass
class PeerRetriever:
    """LangChain's hybrid retriever over our chunks: FAISS (exact inner product, which is
    cosine on our L2-normalised vectors) + BM25Okapi, each proposing `candidates`
    documents, fused by weighted reciprocal rank (weights 0.5/0.5, c=60)."""

    ensemble: "EnsembleRetriever"
    k: int
    dense_build_seconds: float
    bm25_build_seconds: float

    @property
    def build_seconds(self) -> float:
        return self.dense_build_seconds + self.bm25_build_seconds

    @classmethod
    def build(
        cls,
        texts: Sequence[str],
        vectors: np.ndarray,
        query_vectors: Mapping[str, np.ndarray],
        tokenize: Callable[[str], list[str]],
        k: int,
        candidates: int,
    ) -> "PeerRetriever":
        """`texts[i]` and `vectors[i]` are chunk position i; `query_vectors` holds the vector
        of every question that `search` will be asked."""
        _require()
        from langchain_classic.retrievers import EnsembleRetriever
        from langchain_community.retrievers import BM25Retriever
        from langchain_community.vectorstores import FAISS
        from langchain_community.vectorstores.utils import DistanceStrategy

        if k < 1 or candidates < k:
            raise ConfigError(f"need 1 <= k <= candidates, got k={k}, candidates={candidates}")
        if vectors.ndim != 2 or len(vectors) != len(texts) or not len(texts):
            raise ValueError(f"need one vector per text: {len(texts)} texts, {vectors.shape}")
        metadatas = [{"position": i} for i in range(len(texts))]

        started = time.perf_counter()
        store = FAISS.from_embeddings(
            zip(texts, vectors),  # rows are views; LangChain stacks them into one matrix
            _precomputed_embeddings_class()(query_vectors),
            metadatas=metadatas,
            distance_strategy=DistanceStrategy.MAX_INNER_PRODUCT,  # IndexFlatIP
        )
        dense = store.as_retriever(search_kwargs={"k": candidates})
        dense_seconds = time.perf_counter() - started

        started = time.perf_counter()
        bm25 = BM25Retriever.from_texts(
            texts, metadatas=metadatas, preprocess_func=tokenize, k=candidates
        )
        bm25_seconds = time.perf_counter() - started

        # Dense first, as in ours: it breaks score ties the same way. id_key: documents are
        # told apart by position, not by page_content (the default), so duplicate chunk
        # texts are not merged into one.
        ensemble = EnsembleRetriever(
            retrievers=[dense, bm25], weights=[0.5, 0.5], c=RRF_C, id_key="position"
        )
        return cls(ensemble, k, dense_seconds, bm25_seconds)

    def search(self, question: str) -> list[int]:
        """The fused chunk positions for `question`, best first, at most `k`."""
        return [doc.metadata["position"] for doc in self.ensemble.invoke(question)[: self.k]]

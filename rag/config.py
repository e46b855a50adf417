"""One Settings object: defaults here, each overridable by a `RAG_<FIELD>` environment variable.

`Settings.from_env()` reads the environment once; everything else receives the object.
The README's configuration table lists every field.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Mapping

from rag.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    # Where things live
    docs_dir: Path = ROOT / "docs"
    index_dir: Path = ROOT / "index"
    cache_dir: Path = Path.home() / ".cache" / "dutch-news-rag"

    # Chunking (defaults chosen by measuring retrieval, see README)
    chunk_size: int = 500  # characters, soft maximum; a chunk never splits a sentence
    chunk_overlap: int = 1  # sentences shared with the previous chunk

    # Embedding: "e5-nano" (packaged multilingual-e5-small) or "st:<model id or local path>"
    embedder: str = "e5-nano"
    embed_batch_size: int = 32

    # Retrieval
    top_k: int = 5  # passages given to the model
    candidates: int = 30  # taken from each retriever before fusion
    rrf_k: int = 60
    min_dense_score: float = 0.78  # below this best cosine, nothing relevant was found
    passage_chars: int = 0  # >0: cut the passages to their best sentences, this many characters in all

    # Vector store: "faiss" (embedded, files in index_dir) or "qdrant" (qdrant_url, or its
    # embedded local mode in index_dir/qdrant when the URL is empty)
    vector_store: str = "faiss"
    faiss_index: str = "auto"  # "auto" (exact up to approximate_above chunks, HNSW beyond), "flat", "hnsw"
    approximate_above: int = 20_000
    target_recall: float = 0.95  # recall@10 the HNSW search depth is tuned to at build time
    qdrant_url: str = ""
    qdrant_collection: str = "dutch-news"
    qdrant_api_key: str = ""

    # Generation: "llama-cpp" (packaged Qwen2.5-Coder-1.5B GGUF), "hf:<model id or path>",
    # or "openai" (with openai_base_url and openai_model)
    generator: str = "llama-cpp"
    gguf_path: str = ""  # a GGUF file of your own instead of the packaged one
    gguf_sha256: str = ""  # its expected digest; checked when given
    n_ctx: int = 4096
    n_threads: int = 0  # 0: all cores
    flash_attention: bool = False  # llama.cpp: no n_tokens x n_ctx score matrix (less memory growth; other answers, README)
    reserve_memory: bool = False  # llama.cpp: fill each context once at start-up, so no later prompt enlarges its buffers (slow start, README)
    max_answer_tokens: int = 200
    temperature: float = 0.0
    seed: int = 0
    openai_base_url: str = ""
    openai_model: str = ""
    openai_api_key: str = ""
    request_timeout: float = 120.0

    # Answer check
    min_support_similarity: float = 0.84  # semantic check: sentence vs its best cited sentence (calibrated, see rag/citations.py)

    # Evaluation: "signals+judge" (key terms, negation, direction and similarity, then the local
    # model as a judge of claims the signals call supported), "signals" (no model call: faster,
    # less accurate, see README) or "nli:<transformers text-classification model id or path>"
    verifier: str = "signals+judge"
    runs_dir: Path = ROOT / "runs"  # `python -m rag eval` writes one directory per run here
    labels_path: Path = ROOT / "labels.sqlite3"  # evaluators' sentence labels (UI evaluator tab)

    # Web UI
    host: str = "127.0.0.1"
    port: int = 7860
    queue_size: int = 16  # waiting requests beyond the one being answered; more get "busy"
    feedback_path: Path = ROOT / "feedback.sqlite3"

    # Input limits
    max_question_chars: int = 2000
    max_history_turns: int = 6
    max_article_bytes: int = 5_000_000

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides) -> "Settings":
        """Defaults, then `RAG_*` variables, then keyword overrides."""
        environ = os.environ if environ is None else environ
        values: dict = {}
        for f in fields(cls):
            raw = environ.get(f"RAG_{f.name.upper()}")
            if raw is not None:
                values[f.name] = _parse(f.name, f.type, raw)
        values.update(overrides)
        return cls(**values).validated()

    def replace(self, **changes) -> "Settings":
        return dataclasses.replace(self, **changes).validated()

    def validated(self) -> "Settings":
        if self.chunk_size < 50:
            raise ConfigError(f"chunk_size must be at least 50 characters, got {self.chunk_size}")
        if self.chunk_overlap < 0:
            raise ConfigError(f"chunk_overlap must be 0 or more sentences, got {self.chunk_overlap}")
        if self.top_k < 1:
            raise ConfigError(f"top_k must be at least 1, got {self.top_k}")
        if self.candidates < self.top_k:
            raise ConfigError(
                f"candidates ({self.candidates}) must be at least top_k ({self.top_k})"
            )
        if self.vector_store not in ("faiss", "qdrant"):
            raise ConfigError(f"vector_store must be 'faiss' or 'qdrant', got {self.vector_store!r}")
        if self.faiss_index not in ("auto", "flat", "hnsw"):
            raise ConfigError(
                f"faiss_index must be 'auto', 'flat' or 'hnsw', got {self.faiss_index!r}"
            )
        if not 0 < self.target_recall <= 1:
            raise ConfigError(f"target_recall must be in (0, 1], got {self.target_recall}")
        if self.max_question_chars < 1:
            raise ConfigError(f"max_question_chars must be positive, got {self.max_question_chars}")
        if self.generator == "openai" and not (self.openai_base_url and self.openai_model):
            raise ConfigError(
                "generator 'openai' needs RAG_OPENAI_BASE_URL and RAG_OPENAI_MODEL"
            )
        return self


def _parse(name: str, type_name: object, raw: str):
    type_name = str(type_name)
    try:
        if type_name == "Path":
            return Path(raw).expanduser()
        if type_name == "int":
            return int(raw)
        if type_name == "float":
            return float(raw)
        if type_name == "bool":
            if raw.lower() in {"1", "true", "yes", "on"}:
                return True
            if raw.lower() in {"0", "false", "no", "off"}:
                return False
            raise ValueError(raw)
    except ValueError:
        raise ConfigError(
            f"RAG_{name.upper()}={raw!r} is not a valid {type_name}"
        ) from None
    return raw

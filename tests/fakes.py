"""Fast, exact stand-ins for the real models, for unit tests."""

from __future__ import annotations

import hashlib
import re
from typing import Callable, Iterator, Sequence

import numpy as np

from rag.embedding import Embedder, TextKind, l2_normalise
from rag.generation import ChatMessage, Generator


class FakeEmbedder(Embedder):
    """Deterministic bag-of-words vectors: each lower-cased word (prefix of 5 letters)
    hashes to a seeded random direction; a text is the normalised sum of its words.
    Texts that share words are similar, so retrieval tests behave like real ones."""

    def __init__(self, dim: int = 64, id: str = "fake-bow-64"):
        self.dim = dim
        self.id = id
        self.calls: list[tuple[TextKind, int]] = []

    def _word_vector(self, word: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha256(word.encode()).digest()[:8], "little")
        return np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)

    def embed_batch(self, texts: Sequence[str], kind: TextKind) -> np.ndarray:
        self.calls.append((kind, len(texts)))
        rows = []
        for text in texts:
            words = [w[:5] for w in re.findall(r"\w+", text.lower())] or [""]
            rows.append(np.sum([self._word_vector(w) for w in words], axis=0))
        return l2_normalise(np.vstack(rows))


class ScriptedGenerator(Generator):
    """Replies from a script: a fixed string, a list consumed in order, or a function of the
    messages. Records every call."""

    id = "scripted"

    def __init__(self, script: str | list[str] | Callable[[Sequence[ChatMessage]], str]):
        self.script = script
        self.calls: list[list[ChatMessage]] = []
        self.avoided: list[tuple[str, ...]] = []

    def stream(
        self,
        messages: Sequence[ChatMessage],
        max_tokens: int,
        stop: Sequence[str] = (),
        avoid: Sequence[str] = (),
    ) -> Iterator[str]:
        self.calls.append(list(messages))
        self.avoided.append(tuple(avoid))
        if callable(self.script):
            reply = self.script(messages)
        elif isinstance(self.script, list):
            reply = self.script.pop(0)
        else:
            reply = self.script
        for piece in re.findall(r"\S+\s*|\s+", reply):
            yield piece


def scripted_pipeline(settings, answer: str):
    """A Pipeline on the fake models whose generator answers `answer` (with `{n}` standing
    for the passage that holds "589 miljard") and NOT_FOUND to questions about Peru."""
    from rag.pipeline import Pipeline

    pipeline = Pipeline(settings, embedder=FakeEmbedder(), generator=ScriptedGenerator(""))
    pipeline.build()
    n = next(
        i for i, p in enumerate(pipeline.retrieve("Hoeveel verloor Nvidia?"), 1)
        if "589 miljard" in p.chunk.text
    )
    pipeline._generator = ScriptedGenerator(
        lambda messages: "NOT_FOUND" if "Peru" in messages[-1].content else answer.format(n=n)
    )
    return pipeline

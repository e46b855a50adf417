"""Frozen dataclasses that flow between the stages of the pipeline.

article file -> Article -> Chunk -> vectors -> Passage -> Answer

Only plain data lives here: no I/O, no models. `Answer.to_dict()` is the stable
answer object of `python -m rag ask --json` / `--jsonl`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Language = Literal["nl", "en"]
Retriever = Literal["dense", "bm25"]


@dataclass(frozen=True)
class ArticleMeta:
    """What a citation shows about an article."""

    id: str
    title: str
    author: str | None = None
    source: str | None = None
    date: str | None = None  # ISO 8601, as precise as known: "2025", "2025-02", "2025-01-28"


@dataclass(frozen=True)
class Article:
    """One cleaned article. Chunk offsets refer to `text`."""

    meta: ArticleMeta
    text: str
    path: str
    content_hash: str  # sha256 of the cleaned text and the metadata

    @property
    def id(self) -> str:
        return self.meta.id


@dataclass(frozen=True)
class SkippedFile:
    """An article file that was not indexed, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class Chunk:
    """A span of an article's cleaned text: `article.text[start:end] == text`."""

    id: str  # stable: same article, same span, same text -> same id
    article_id: str
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its article metadata and how it was found."""

    chunk: Chunk
    article: ArticleMeta
    score: float  # fused score (reciprocal-rank fusion); higher is better
    retrievers: tuple[Retriever, ...]  # which retrievers returned this chunk
    dense_score: float | None = None  # cosine similarity, when the dense retriever found it
    bm25_score: float | None = None  # BM25 score, when the BM25 retriever found it

    def to_dict(self) -> dict:
        return {
            "article_id": self.article.id,
            "title": self.article.title,
            "author": self.article.author,
            "source": self.article.source,
            "date": self.article.date,
            "chunk_id": self.chunk.id,
            "text": self.chunk.text,
            "start": self.chunk.start,
            "end": self.chunk.end,
            "score": round(self.score, 6),
            "retrievers": list(self.retrievers),
            "dense_score": None if self.dense_score is None else round(self.dense_score, 6),
            "bm25_score": None if self.bm25_score is None else round(self.bm25_score, 6),
        }


@dataclass(frozen=True)
class Turn:
    """One earlier exchange of a conversation."""

    question: str
    answer: str


@dataclass(frozen=True)
class SentenceCheck:
    """One answer sentence with the passages it cites and the verdict of the support check."""

    text: str  # the sentence without its [n] markers
    citations: tuple[int, ...]  # 1-based passage numbers
    supported: bool
    reason: str | None = None  # why it failed, e.g. "number 600 not in cited passages"
    citation_added: bool = False  # the model gave no marker; the check found the passage
    cited_by_model: tuple[int, ...] = ()  # set when the check moved a wrong marker

    def to_dict(self) -> dict:
        return {
            "text": self.text,
            "citations": list(self.citations),
            "supported": self.supported,
            "reason": self.reason,
            "citation_added": self.citation_added,
            "cited_by_model": list(self.cited_by_model),
        }


@dataclass(frozen=True)
class Timings:
    retrieval: float = 0.0
    first_token: float = 0.0
    total: float = 0.0

    def to_dict(self) -> dict:
        return {
            "retrieval": round(self.retrieval, 4),
            "first_token": round(self.first_token, 4),
            "total": round(self.total, 4),
        }


@dataclass(frozen=True)
class Answer:
    """A checked answer. `text` holds `[n]` markers that index `passages` (1-based)."""

    question: str
    language: Language
    text: str
    abstained: bool
    passages: tuple[Passage, ...]
    sentences: tuple[SentenceCheck, ...]
    timings: Timings = field(default_factory=Timings)
    standalone_question: str | None = None  # the rewritten follow-up, when there was history
    raw_text: str = ""  # the model's output before the check

    @property
    def cited_numbers(self) -> tuple[int, ...]:
        seen: dict[int, None] = {}
        for sentence in self.sentences:
            for n in sentence.citations:
                seen.setdefault(n, None)
        return tuple(sorted(seen))

    def to_dict(self, id: object = None) -> dict:
        citations = []
        for n in self.cited_numbers:
            passage = self.passages[n - 1].to_dict()
            citations.append({"n": n, **passage})
        return {
            "id": id,
            "question": self.question,
            "standalone_question": self.standalone_question,
            "language": self.language,
            "answer": self.text,
            "abstained": self.abstained,
            "citations": citations,
            "passages": [{"n": i, **p.to_dict()} for i, p in enumerate(self.passages, 1)],
            "sentences": [s.to_dict() for s in self.sentences],
            "timings": self.timings.to_dict(),
            "raw_answer": self.raw_text,
        }

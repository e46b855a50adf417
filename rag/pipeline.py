"""Wiring only: question -> (rewrite) -> retrieve -> generate -> check -> Answer.

`Pipeline.stream()` yields events in the order a UI needs them: the passages as soon
as retrieval is done, then the model's text piece by piece, then the checked Answer.
Models load lazily, once per Pipeline. No prompt text, parsing or scoring lives here; only
the guards at the edges: the question is cleaned (`clean_question`), one answer is bounded
by max_answer_tokens pieces and request_timeout seconds, markup is neither streamed nor
kept in the checked answer (`strip_markup`).
"""

from __future__ import annotations

import logging
import re
import threading
import time
import typing
import unicodedata
from dataclasses import dataclass
from functools import partial
from typing import Iterator, Sequence

from rag import prompts
from rag.analysis import tokenize
from rag.citations import absent_magnitudes, check_answer, make_similarity, units_in_language
from rag.config import Settings
from rag.corpus import INVISIBLE
from rag.embedding import Embedder, VectorMemo
from rag.errors import GenerationError, QuestionError
from rag.generation import Generator
from rag.index import BuildReport, Index
from rag.language import detect_language
from rag.retrieval import HybridRetriever
from rag.types import (
    Answer,
    ArticleMeta,
    Language,
    Passage,
    SentenceCheck,
    SkippedFile,
    Timings,
    Turn,
)

log = logging.getLogger(__name__)

# Markup an answer has no reason to hold and a renderer would act on (fetch an image, run a
# script, open a link): HTML tags and comments (script and style with their content, a tag cut
# off at the end), markdown images, and link targets ("[tekst](https://...)" keeps "[tekst]").
_MARKUP = re.compile(
    r"<(script|style)\b.*?(?:</\1\s*>|$)|<!--.*?(?:-->|$)|</?[a-z][^<>]*(?:>|$)"
    r"|!\[[^\]]*\]\([^)]*\)",
    re.IGNORECASE | re.DOTALL,
)
_MARKUP_START = re.compile(r"<|!\[|\]\(")  # from here on, the raw answer is not streamed
_LINK_TARGET = re.compile(
    r"(?<=\])\(\s*(?:[a-z][a-z0-9+.-]*:|www\.|/|#)(?:[^()\s]|\([^()\s]*\))*\s*\)", re.IGNORECASE
)
_FOLLOW_UP_HINT = re.compile(
    r"^(en|and|what about|how about|wat met|en hoe|en wat|ook)\b"
    r"|\b(hij|zij|ze|hem|het bedrijf|he|she|they|him|them|it)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class PassagesFound:
    """Retrieval is done: these passages go to the model (empty: nothing relevant)."""

    question: str
    standalone_question: str
    language: Language
    passages: tuple[Passage, ...]
    retrieval_seconds: float


@dataclass(frozen=True)
class TextGenerated:
    """A piece of the model's raw answer, as it streams."""

    text: str


@dataclass(frozen=True)
class AnswerReady:
    answer: Answer


PipelineEvent = PassagesFound | TextGenerated | AnswerReady


@dataclass(frozen=True)
class IndexStatus:
    built_at: str
    embedder: str
    chunks: int
    fresh: bool  # the article files still match what was indexed
    articles: tuple[tuple[ArticleMeta, int], ...]  # each indexed article with its chunk count
    skipped: tuple[SkippedFile, ...]


def clean_question(question: str, max_chars: int) -> str:
    """Strip invisible and format characters (zero-width, Unicode tags: they can smuggle
    instructions), turn control characters into spaces, collapse spaces; reject empty or
    oversized questions.

    >>> clean_question("  Wie?\u200b ", 100)
    'Wie?'
    """
    if len(question) > max_chars:
        raise QuestionError(
            f"the question is {len(question):,} characters long; the limit is {max_chars:,}"
        )
    text = "".join(_question_char(ch) for ch in INVISIBLE.sub("", question))
    text = " ".join(text.split())
    if not text:
        raise QuestionError("the question is empty")
    return text


def _question_char(ch: str) -> str:
    category = unicodedata.category(ch)
    if category == "Cf":  # format characters show nothing
        return ""
    return " " if category[0] == "C" else ch


def strip_markup(text: str) -> str:
    """The model's answer without markup that a browser or markdown renderer would act on;
    the answer is plain text with `[n]` markers.

    >>> strip_markup('Nvidia viel [1]. <img src="https://x.example/?q=1">![x](https://x.example/y)')
    'Nvidia viel [1]. '
    >>> strip_markup("Zie [de bron](javascript:alert(1)) [2].")
    'Zie [de bron] [2].'
    """
    return _LINK_TARGET.sub("", _MARKUP.sub("", text))


def needs_rewrite(question: str, history: Sequence[Turn]) -> bool:
    """A follow-up leans on earlier turns: short, or starting with "En ..."/"What about ...",
    or referring back with a pronoun."""
    if not history:
        return False
    return len(question.split()) <= 6 or bool(_FOLLOW_UP_HINT.search(question))


def keeps_the_follow_up(follow_up: str, rewritten: str) -> bool:
    """A rewrite must keep what the follow-up asks about: all its content words (stemmed).

    >>> keeps_the_follow_up("En Larry Ellison?", "Hoeveel verloor Larry Ellison?")
    True
    >>> keeps_the_follow_up("En Larry Ellison?", "Hoeveel verloor Jensen Huang?")
    False
    """
    return bool(rewritten.strip()) and set(tokenize(follow_up)) <= set(tokenize(rewritten))


class Pipeline:
    def __init__(
        self,
        settings: Settings,
        embedder: Embedder | None = None,
        generator: Generator | None = None,
    ):
        self.settings = settings
        self._embedder = embedder
        self._generator = generator
        self._index: Index | None = None
        self._retriever: HybridRetriever | None = None
        self._vectors: VectorMemo | None = None  # shared by focusing and the answer check
        self._similarity = None  # the answer check's similarity
        self._lock = threading.Lock()  # one model call at a time per pipeline
        self.last_build: BuildReport | None = None

    # -- lazy parts -------------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            from rag.embedding import make_embedder

            self._embedder = make_embedder(self.settings)
        return self._embedder

    @property
    def vectors(self) -> VectorMemo:
        """Sentence and question vectors, each embedded once for this pipeline."""
        if self._vectors is None:
            self._vectors = VectorMemo(self.embedder)
        return self._vectors

    @property
    def generator(self) -> Generator:
        if self._generator is None:
            from rag.generation import make_generator

            self._generator = make_generator(self.settings)
        return self._generator

    @property
    def index(self) -> Index:
        if self._index is None:
            self.build()
        assert self._index is not None
        return self._index

    def build(self, force: bool = False) -> BuildReport:
        """Load the index, updating or rebuilding it when the articles or settings changed."""
        from rag.chunking import chunk_corpus
        from rag.corpus import load_corpus
        from rag.index import ensure_index

        articles, skipped = load_corpus(self.settings.docs_dir, self.settings.max_article_bytes)
        chunker = partial(
            chunk_corpus, size=self.settings.chunk_size, overlap=self.settings.chunk_overlap
        )
        index, report = ensure_index(
            self.settings, self.embedder, articles, skipped, chunker, force=force
        )
        self._index = index
        self._retriever = HybridRetriever(index, self.embedder, self.settings, self.vectors)
        self.last_build = report
        return report

    @property
    def retriever(self) -> HybridRetriever:
        if self._retriever is None:
            self.build()
        assert self._retriever is not None
        return self._retriever

    def warm(self) -> None:
        """Load every model and evaluate the constant prompt prefixes now, so the first
        question is as fast as the next ones."""
        self.retriever.query_vector("warm-up")
        self.retriever.warm()
        self.generator.load()
        for language in ("nl", "en"):
            self.generator.warm(prompts.answer_messages("", (), language))
        if self.settings.reserve_memory:  # every context now, not at the first follow-up
            self.generator.warm(prompts.rewrite_messages("", ()))

    def index_status(self) -> "IndexStatus":
        """What the index holds and whether the article files changed since it was built."""
        from rag.corpus import load_corpus

        index = self.index
        articles, skipped = load_corpus(self.settings.docs_dir, self.settings.max_article_bytes)
        current = {a.id: a.content_hash for a in articles}
        counts: dict[str, int] = {}
        for chunk in index.chunks:
            counts[chunk.article_id] = counts.get(chunk.article_id, 0) + 1
        return IndexStatus(
            built_at=index.manifest.built_at,
            embedder=index.manifest.embedder_id,
            chunks=len(index.chunks),
            fresh=current == index.manifest.articles,
            articles=tuple(
                (meta, counts.get(article_id, 0)) for article_id, meta in sorted(index.articles.items())
            ),
            skipped=tuple(skipped),
        )

    # -- stages -----------------------------------------------------------------------
    def standalone_question(self, question: str, history: Sequence[Turn]) -> str:
        if not needs_rewrite(question, history):
            return question
        recent = list(history)[-self.settings.max_history_turns :]
        rewritten = self.generator.complete(
            prompts.rewrite_messages(question, recent), max_tokens=60, stop=["\n"]
        ).strip()
        if not keeps_the_follow_up(question, rewritten) or len(rewritten) > 4 * len(question) + 200:
            rewritten = f"{recent[-1].question} {question}"
        log.info("follow-up %r rewritten as %r", question, rewritten)
        return rewritten

    def retrieve(self, question: str, k: int | None = None) -> list[Passage]:
        """The passages for a stand-alone question; empty when nothing is relevant enough."""
        result = self.retriever.search(question, k or self.settings.top_k)
        best = result.best_dense_score
        if best < self.settings.min_dense_score:
            log.info("best dense score %.3f below %.3f: nothing relevant", best, self.settings.min_dense_score)
            return []
        return self.retriever.focus(question, result.passages, self.settings.passage_chars)

    def stream(self, question: str, history: Sequence[Turn] = ()) -> Iterator[PipelineEvent]:
        started = time.perf_counter()
        question = clean_question(question, self.settings.max_question_chars)
        language = detect_language(question)
        with self._lock:
            # One answer gets request_timeout seconds of wall-clock time, whatever the backend.
            deadline = time.perf_counter() + self.settings.request_timeout
            standalone = self.standalone_question(question, history)
            retrieval_started = time.perf_counter()
            passages = tuple(self.retrieve(standalone))
            retrieval_seconds = time.perf_counter() - retrieval_started
            yield PassagesFound(question, standalone, language, passages, retrieval_seconds)

            raw, first_token, timed_out = "", 0.0, False
            if passages:
                raw, first_token, timed_out = yield from self._generate(
                    standalone, passages, language, started, deadline
                )

        text, sentences, abstained = self._check(strip_markup(raw), passages, standalone, language)
        if timed_out and abstained and prompts.NOT_FOUND not in raw:
            raise GenerationError(
                f"the answer took longer than {self.settings.request_timeout:g} seconds and was "
                "stopped; please try again"
            )
        timings = Timings(
            retrieval=retrieval_seconds,
            first_token=first_token,
            total=time.perf_counter() - started,
        )
        yield AnswerReady(
            Answer(
                question=question,
                language=language,
                text=text,
                abstained=abstained,
                passages=passages,
                sentences=tuple(sentences),
                timings=timings,
                standalone_question=standalone if standalone != question else None,
                raw_text=strip_markup(raw),
            )
        )

    def _generate(
        self,
        question: str,
        passages: Sequence[Passage],
        language: Language,
        started: float,
        deadline: float,
    ) -> typing.Generator[TextGenerated, None, tuple[str, float, bool]]:
        """Stream the model's answer; returns (raw text, seconds to the first token, whether
        the deadline stopped it). A piece is at least one token, so a backend that ignores
        max_tokens is cut off at max_answer_tokens pieces; one that is slow is cut off at the
        deadline, checked as each piece arrives."""
        messages = prompts.answer_messages(question, passages, language)
        avoid = absent_magnitudes(p.chunk.text for p in passages)
        pieces = self.generator.stream(
            messages, max_tokens=self.settings.max_answer_tokens, avoid=avoid
        )
        raw, shown, first_token = "", 0, 0.0  # shown: characters of `raw` already yielded
        try:
            for count, piece in enumerate(pieces, 1):
                first_token = first_token or time.perf_counter() - started
                raw += piece
                # Hold text back while it could still be the "not found" signal (it is for the
                # pipeline, not the reader), and from the first markup on (a page could render
                # it; the checked answer, without it, follows).
                if not (prompts.NOT_FOUND.startswith(raw.strip()) or _MARKUP_START.search(raw)):
                    yield TextGenerated(raw[shown:])
                    shown = len(raw)
                if count >= self.settings.max_answer_tokens:
                    break
                if time.perf_counter() > deadline:
                    log.warning("answer stopped after %g s: %r", self.settings.request_timeout, raw)
                    return raw, first_token, True
        finally:
            getattr(pieces, "close", lambda: None)()  # release the backend now, not when collected
        return raw, first_token, False

    def answer(self, question: str, history: Sequence[Turn] = ()) -> Answer:
        for event in self.stream(question, history):
            if isinstance(event, AnswerReady):
                return event.answer
        raise AssertionError("the pipeline ended without an answer")

    def _check(
        self, raw: str, passages: Sequence[Passage], question: str, language: Language
    ) -> tuple[str, list[SentenceCheck], bool]:
        """Verify the model's answer; abstain when nothing in it is supported."""
        not_found = prompts.NOT_IN_ARTICLES[language]
        if not passages or not raw.strip() or prompts.NOT_FOUND in raw:
            return not_found, [], True
        if self._similarity is None:
            self._similarity = make_similarity(self.vectors)
        similarity = self._similarity
        text, sentences = check_answer(
            units_in_language(raw, language), passages, question, similarity,
            self.settings.min_support_similarity,
        )
        if not any(s.supported for s in sentences):
            log.info("no sentence of the answer passed the check: %r", raw)
            return not_found, [], True
        return text, sentences, False

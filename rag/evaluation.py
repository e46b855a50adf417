"""Scoring against a question file (the format of eval/questions.jsonl).

Reads the questions into typed records and scores what the pipeline returns: evidence
recall of retrieval, expected facts in answers, abstention, language and citation validity.
It does not run models itself; callers hand it passages and answer objects.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from rag.citations import MARKER
from rag.language import detect_language
from rag.types import Passage

_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    lang: str
    question: str
    answerable: bool
    must: tuple[tuple[str, ...], ...]
    evidence: tuple[str, ...]
    docs: tuple[str, ...]


def load_questions(path: Path) -> list[EvalQuestion]:
    questions = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            questions.append(
                EvalQuestion(
                    id=str(row["id"]),
                    lang=row["lang"],
                    question=row["question"],
                    answerable=bool(row["answerable"]),
                    must=tuple(tuple(group) for group in row.get("must", [])),
                    evidence=tuple(row.get("evidence", [])),
                    docs=tuple(row.get("docs", [])),
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise ValueError(f"{path}:{number}: not a question record ({error})") from None
    return questions


def _normalise(text: str) -> str:
    return _SPACE.sub(" ", text).strip().lower()


def evidence_found(question: EvalQuestion, passages: Sequence[Passage]) -> bool:
    """Every evidence string occurs (whitespace- and case-insensitively) in some passage."""
    texts = [_normalise(p.chunk.text) for p in passages]
    return all(any(_normalise(e) in t for t in texts) for e in question.evidence)


def facts_found(question: EvalQuestion, answer_text: str) -> bool:
    """The answer holds at least one string of every `must` group."""
    text = answer_text.lower()
    return all(any(option.lower() in text for option in group) for group in question.must)


@dataclass(frozen=True)
class AnswerScore:
    id: str
    answerable: bool
    abstained: bool
    correct: bool  # facts found (answerable) or abstained (unanswerable)
    evidence_retrieved: bool | None  # None for unanswerable questions
    language_ok: bool  # detected from the question and, for answers, from the answer text
    citations_valid: bool
    sentences: int
    supported_sentences: int


def score_answer(question: EvalQuestion, answer: Mapping) -> AnswerScore:
    """Score one answer object (the `ask --json` format)."""
    n_passages = len(answer.get("passages", []))
    citations_valid = all(1 <= c["n"] <= n_passages for c in answer.get("citations", [])) and all(
        1 <= n <= n_passages for s in answer.get("sentences", []) for n in s["citations"]
    )
    abstained = bool(answer.get("abstained"))
    if question.answerable:
        correct = not abstained and facts_found(question, answer.get("answer", ""))
        given = answer.get("passages", [])
        texts = [_normalise(p["text"]) for p in given]
        evidence = all(any(_normalise(e) in t for t in texts) for e in question.evidence)
    else:
        correct = abstained
        evidence = None
    sentences = answer.get("sentences", [])
    return AnswerScore(
        id=question.id,
        answerable=question.answerable,
        abstained=abstained,
        correct=correct,
        evidence_retrieved=evidence,
        language_ok=answer.get("language") == question.lang
        and (abstained or detect_language(MARKER.sub(" ", answer.get("answer", "")), question.lang) == question.lang),
        citations_valid=citations_valid,
        sentences=len(sentences),
        supported_sentences=sum(1 for s in sentences if s["supported"]),
    )


def summarise(scores: Iterable[AnswerScore]) -> dict[str, float]:
    scores = list(scores)
    answerable = [s for s in scores if s.answerable]
    unanswerable = [s for s in scores if not s.answerable]
    sentences = sum(s.sentences for s in scores)

    def share(items: list, predicate) -> float:
        return round(sum(1 for s in items if predicate(s)) / len(items), 4) if items else 0.0

    return {
        "questions": len(scores),
        "evidence_recall": share(answerable, lambda s: s.evidence_retrieved),
        "answer_correct": share(answerable, lambda s: s.correct),
        "abstained_when_unanswerable": share(unanswerable, lambda s: s.abstained),
        "abstained_when_answerable": share(answerable, lambda s: s.abstained),
        "language_match": share(scores, lambda s: s.language_ok),
        "citations_valid": share(scores, lambda s: s.citations_valid),
        "supported_sentence_share": round(
            sum(s.supported_sentences for s in scores) / sentences, 4
        ) if sentences else 0.0,
    }

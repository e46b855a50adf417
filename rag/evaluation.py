"""Scoring answer objects (the `ask --json` format, from this project or any other system)
against a question file (the format of eval/questions.jsonl).

question + answer object -> AnswerScore -> summary

Retrieval: evidence recall@k (every evidence string inside the k passages given). Answers:
expected facts (`must` groups), abstention precision and recall, language match, citation
validity. With a Verifier, also ALCE-style citation recall and precision (Gao et al. 2023,
"Enabling Large Language Models to Generate Text with Citations") and faithfulness. Latency
percentiles come from the answers' `timings`. No model runs here except through the
verifier the caller hands in.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from rag.citations import MARKER, split_answer
from rag.language import detect_language
from rag.stats import percentile
from rag.types import Passage
from rag.verifier import Verdict, Verifier

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
class SentenceScore:
    """One answer sentence judged against the passages it cites."""

    text: str
    citations: tuple[int, ...]
    verdict: Verdict  # the cited passages together
    precise: tuple[bool, ...]  # per citation, ALCE citation precision

    @property
    def supported(self) -> bool:
        return self.verdict.label == "supported"

    def to_dict(self) -> dict:
        return {
            "text": self.text,
            "citations": list(self.citations),
            "verdict": self.verdict.to_dict(),
            "precise": list(self.precise),
        }


def answer_sentences(answer: Mapping) -> list[tuple[str, tuple[int, ...]]]:
    """(sentence, cited passage numbers) of an answer object: its `sentences` when given,
    else split from the `answer` text."""
    n_passages = len(answer.get("passages") or [])
    if answer.get("sentences") is not None:
        return [
            (str(s["text"]), tuple(n for n in s.get("citations", []) if 1 <= n <= n_passages))
            for s in answer["sentences"]
        ]
    return split_answer(str(answer.get("answer", "")), n_passages)


def score_sentences(answer: Mapping, verifier: Verifier) -> list[SentenceScore]:
    """ALCE's citation checks for every sentence of a non-abstaining answer.

    Citation recall of a sentence: its cited passages together support it. A citation is
    precise when the sentence is supported and the citation either supports it alone or is
    needed: without it the other citations no longer support the sentence. Citations of an
    unsupported sentence are not precise (as in ALCE)."""
    if answer.get("abstained"):
        return []
    texts = [str(p.get("text", "")) for p in answer.get("passages") or []]
    scores = []
    for sentence, cited in answer_sentences(answer):
        joint = verifier.verify(sentence, [texts[n - 1] for n in cited]) if cited else Verdict(
            "not_enough_info", 1.0, "no citation"
        )
        precise = []
        for n in cited:
            if joint.label != "supported":
                precise.append(False)
            elif len(cited) == 1 or verifier.verify(sentence, [texts[n - 1]]).label == "supported":
                precise.append(True)
            else:
                others = [texts[m - 1] for m in cited if m != n]
                precise.append(verifier.verify(sentence, others).label != "supported")
        scores.append(SentenceScore(sentence, cited, joint, tuple(precise)))
    return scores


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
    supported_sentences: int  # as the answering system itself marked them
    timings: Mapping[str, float] = field(default_factory=dict)
    verified: tuple[SentenceScore, ...] = ()  # empty without a verifier or when abstained

    @property
    def citation_recall(self) -> float | None:
        if not self.verified:
            return None
        return sum(s.supported for s in self.verified) / len(self.verified)

    @property
    def citation_precision(self) -> float | None:
        flags = [p for s in self.verified for p in s.precise]
        return sum(flags) / len(flags) if flags else None

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "answerable": self.answerable,
            "abstained": self.abstained,
            "correct": self.correct,
            "evidence_retrieved": self.evidence_retrieved,
            "language_ok": self.language_ok,
            "citations_valid": self.citations_valid,
            "sentences": self.sentences,
            "supported_sentences": self.supported_sentences,
            "citation_recall": self.citation_recall,
            "citation_precision": self.citation_precision,
            "timings": dict(self.timings),
            "verified": [s.to_dict() for s in self.verified],
        }


def score_answer(question: EvalQuestion, answer: Mapping, verifier: Verifier | None = None) -> AnswerScore:
    """Score one answer object (the `ask --json` format); with a verifier, also its
    citations and faithfulness."""
    passages = answer.get("passages") or []
    n_passages = len(passages)
    citations_valid = all(1 <= c["n"] <= n_passages for c in answer.get("citations", [])) and all(
        1 <= n <= n_passages for s in answer.get("sentences") or [] for n in s["citations"]
    )
    abstained = bool(answer.get("abstained"))
    if question.answerable:
        correct = not abstained and facts_found(question, answer.get("answer", ""))
        texts = [_normalise(str(p.get("text", ""))) for p in passages]
        evidence = all(any(_normalise(e) in t for t in texts) for e in question.evidence)
    else:
        correct = abstained
        evidence = None
    sentences = answer.get("sentences") or []
    timings = {k: float(v) for k, v in (answer.get("timings") or {}).items() if isinstance(v, (int, float))}
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
        supported_sentences=sum(1 for s in sentences if s.get("supported")),
        timings=timings,
        verified=tuple(score_sentences(answer, verifier)) if verifier is not None else (),
    )


def summarise(scores: Iterable[AnswerScore]) -> dict:
    """Corpus-level metrics; a metric without anything to measure is None."""
    scores = list(scores)
    answerable = [s for s in scores if s.answerable]
    unanswerable = [s for s in scores if not s.answerable]
    abstained = [s for s in scores if s.abstained]
    sentences = sum(s.sentences for s in scores)
    verified = [v for s in scores for v in s.verified]

    def share(items: list, predicate) -> float | None:
        return round(sum(1 for s in items if predicate(s)) / len(items), 4) if items else None

    def mean(values: list[float | None]) -> float | None:
        present = [v for v in values if v is not None]
        return round(sum(present) / len(present), 4) if present else None

    latency = {}
    for stage in ("retrieval", "first_token", "total"):
        values = [s.timings[stage] for s in scores if stage in s.timings]
        if values:
            latency[stage] = {
                "p50": round(percentile(values, 50), 4),
                "p95": round(percentile(values, 95), 4),
                "max": round(max(values), 4),
            }
    return {
        "questions": len(scores),
        "evidence_recall": share(answerable, lambda s: s.evidence_retrieved),
        "answer_correct": share(answerable, lambda s: s.correct),
        "abstention_precision": share(abstained, lambda s: not s.answerable),
        "abstention_recall": share(unanswerable, lambda s: s.abstained),
        "abstained_when_answerable": share(answerable, lambda s: s.abstained),
        "language_match": share(scores, lambda s: s.language_ok),
        "citations_valid": share(scores, lambda s: s.citations_valid),
        "self_supported_share": round(sum(s.supported_sentences for s in scores) / sentences, 4)
        if sentences
        else None,
        "citation_recall": mean([s.citation_recall for s in scores]),
        "citation_precision": mean([s.citation_precision for s in scores]),
        "faithfulness": share(verified, lambda v: v.supported),
        "contradicted_share": share(verified, lambda v: v.verdict.label == "contradicted"),
        "verified_sentences": len(verified),
        "latency": latency,
    }


def below_floor(summary: Mapping, floor: Mapping[str, float]) -> list[str]:
    """The metrics of `summary` below their floor, as readable lines (empty: all met)."""
    failures = []
    for metric, minimum in floor.items():
        value = summary.get(metric)
        if not isinstance(value, (int, float)):
            failures.append(f"{metric}: not measured (floor {minimum})")
        elif value < minimum:
            failures.append(f"{metric}: {value:.3f} is below the floor {minimum}")
    return failures


# --- the verifier against labelled pairs ---------------------------------------------------


@dataclass(frozen=True)
class LabelledPair:
    id: str
    lang: str
    claim: str
    passages: tuple[str, ...]
    label: str
    kind: str
    split: str


def load_pairs(path: Path) -> list[LabelledPair]:
    pairs = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            pairs.append(
                LabelledPair(
                    str(row["id"]), row["lang"], row["claim"], tuple(row["passages"]),
                    row["label"], row.get("kind", ""), row.get("split", ""),
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise ValueError(f"{path}:{number}: not a labelled pair ({error})") from None
    return pairs


def verifier_report(pairs: Sequence[LabelledPair], verdicts: Sequence[Verdict]) -> dict:
    """Accuracy, recall of contradictions and the confusion matrix (rows: the label, columns:
    the verdict), overall and per language."""
    from rag.verifier import VERDICT_LABELS

    def report(indices: list[int]) -> dict:
        matrix = {gold: {said: 0 for said in VERDICT_LABELS} for gold in VERDICT_LABELS}
        for i in indices:
            matrix[pairs[i].label][verdicts[i].label] += 1
        contradicted = sum(matrix["contradicted"].values())
        return {
            "pairs": len(indices),
            "accuracy": round(sum(matrix[g][g] for g in VERDICT_LABELS) / len(indices), 4) if indices else None,
            "contradiction_recall": round(matrix["contradicted"]["contradicted"] / contradicted, 4)
            if contradicted
            else None,
            "confusion": matrix,
        }

    everything = list(range(len(pairs)))
    result = {"all": report(everything)}
    for lang in sorted({p.lang for p in pairs}):
        result[lang] = report([i for i in everything if pairs[i].lang == lang])
    return result

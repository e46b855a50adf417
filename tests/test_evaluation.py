"""Scoring answer objects against the question file format."""

from __future__ import annotations

import json

import pytest

from rag.evaluation import (
    EvalQuestion,
    evidence_found,
    facts_found,
    load_questions,
    score_answer,
    summarise,
)
from rag.types import ArticleMeta, Chunk, Passage

ANSWERABLE = EvalQuestion(
    "d01", "en", "How much did Nvidia lose?", True, (("589",), ("miljard", "billion")),
    ("589 miljard dollar",), ("a",),
)
UNANSWERABLE = EvalQuestion("d15", "en", "Who founded DeepSeek?", False, (), (), ())


def answer(text, abstained=False, language="en", cited=(1,), passages=("Nvidia verloor 589  miljard dollar.",)):
    return {
        "language": language,
        "answer": text,
        "abstained": abstained,
        "passages": [{"n": i, "text": t} for i, t in enumerate(passages, 1)],
        "citations": [{"n": n} for n in cited],
        "sentences": [{"text": text, "citations": list(cited), "supported": not abstained}],
    }


def test_load_questions_reads_the_development_file():
    questions = load_questions("eval/questions.jsonl")
    assert len(questions) == 18
    assert questions[0].must == (("589",), ("miljard", "billion"))
    assert sum(not q.answerable for q in questions) == 4


def test_a_broken_line_names_its_file_and_line(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps({"id": "x", "lang": "nl"}) + "\n")
    with pytest.raises(ValueError, match=r"q.jsonl:1: not a question record \('question'\)"):
        load_questions(path)


def test_evidence_and_facts_ignore_case_and_spacing():
    passage = Passage(Chunk("a:0:x", "a", "Nvidia verloor 589\nmiljard dollar.", 0, 34), ArticleMeta("a", "T"), 1.0, ("dense",))
    assert evidence_found(ANSWERABLE, [passage])
    assert facts_found(ANSWERABLE, "Nvidia lost 589 Billion dollars [1].")
    assert not facts_found(ANSWERABLE, "Nvidia lost 589 million dollars [1].")


def test_scores_an_answer_and_an_abstention():
    right = score_answer(ANSWERABLE, answer("Nvidia lost 589 billion dollars [1]."))
    assert right.correct and right.evidence_retrieved and right.language_ok and right.citations_valid

    dutch = score_answer(ANSWERABLE, answer("Nvidia verloor 589 miljard dollar, zo zegt het artikel [1]."))
    assert dutch.correct and not dutch.language_ok

    invented = score_answer(UNANSWERABLE, answer("Liang Wenfeng founded it [3].", cited=(3,)))
    assert not invented.correct and not invented.citations_valid

    summary = summarise([right, score_answer(UNANSWERABLE, answer("...", abstained=True, cited=()))])
    assert summary["answer_correct"] == 1.0
    assert summary["abstention_recall"] == 1.0 and summary["abstention_precision"] == 1.0
    assert summary["evidence_recall"] == 1.0

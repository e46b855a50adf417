"""Quality floors with the real models, recorded in eval/quality_floor.json: the answers to
the development questions, and the support verifier on the labelled pairs. These fail when
a change makes the product measurably worse; they are floors, not targets. `make quality`
runs them (CI, after `make test`)."""

from __future__ import annotations

import json

import pytest

from rag.config import ROOT
from rag.evaluation import below_floor, load_pairs, load_questions, score_answer, summarise, verifier_report
from rag.report import write_run
from rag.verifier import SignalVerifier

pytestmark = [pytest.mark.real, pytest.mark.quality]

FLOOR = json.loads((ROOT / "eval" / "quality_floor.json").read_text())
PAIR_FILES = sorted(path.name for path in (ROOT / "eval").glob("verifier_*.jsonl"))  # every labelled pair set


@pytest.fixture(scope="module")
def verifier(real_pipeline):
    return SignalVerifier(real_pipeline.embedder, real_pipeline.settings.min_support_similarity)


def test_the_verifier_meets_its_floor_in_each_language(verifier):
    pairs = [pair for name in PAIR_FILES for pair in load_pairs(ROOT / "eval" / name)]
    report = verifier_report(pairs, [verifier.verify(p.claim, list(p.passages)) for p in pairs])
    for lang in ("nl", "en"):
        assert report[lang]["pairs"] >= 100
        assert below_floor(report[lang], FLOOR["verifier"]) == [], lang


def test_answers_to_the_development_questions_meet_the_quality_floor(real_pipeline, verifier, tmp_path):
    questions = load_questions(ROOT / "eval" / "questions.jsonl")
    answers = [real_pipeline.answer(q.question).to_dict(id=q.id) for q in questions]
    scores = [score_answer(q, a, verifier) for q, a in zip(questions, answers)]
    summary = summarise(scores)
    write_run(tmp_path, answers, scores, summary, {"name": "ci", "verifier": verifier.name})
    assert "| faithfulness |" in (tmp_path / "report.md").read_text()
    assert below_floor(summary, FLOOR["answers"]) == [], json.dumps(summary, indent=2)

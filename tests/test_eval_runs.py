"""`python -m rag eval`: ALCE citation metrics with a fake verifier, run directories with
their report and plots, scoring another system's answers, comparing runs, quality floors."""

from __future__ import annotations

import json

import pytest

from rag import __main__ as cli
from rag.evaluation import EvalQuestion, below_floor, score_answer, score_sentences, summarise
from rag.report import RunError, compare_runs, load_run
from rag.verifier import Verdict, Verifier

P1 = "Nvidia verloor 589 miljard dollar."
P2 = "Apple en Meta stegen."
P3 = "Het weer was goed."


class KeywordVerifier(Verifier):
    """Supported when the claim's first word occurs in the passages; contradicted when the
    claim says 600."""

    name = "keyword"

    def verify(self, claim, passages):
        if "600" in claim:
            return Verdict("contradicted", 0.9, "600")
        word = claim.split()[0]
        if any(word in p for p in passages):
            return Verdict("supported", 0.9)
        return Verdict("not_enough_info", 0.8, f"{word} not found")


def answer_object(id, text, sentences, passages=(P1, P2, P3), abstained=False, first_token=1.0):
    return {
        "id": id,
        "language": "nl",
        "answer": text,
        "abstained": abstained,
        "passages": [{"n": i, "text": t} for i, t in enumerate(passages, 1)],
        "citations": [],
        "sentences": [{"text": t, "citations": list(c), "supported": True} for t, c in sentences],
        "timings": {"retrieval": 0.01, "first_token": first_token, "total": first_token + 1},
    }


def test_citation_recall_and_precision_follow_alce():
    answer = answer_object(
        "q",
        "",
        [
            ("Nvidia verloor 589 miljard [1][3].", (1, 3)),  # [3] is irrelevant: [1] alone supports it
            ("Apple en Meta stegen [2].", (2,)),
            ("Nvidia verloor 600 miljard [1].", (1,)),  # contradicted: recall 0, citation imprecise
            ("Tesla steeg.", ()),  # no citation: recall 0
        ],
    )
    sentences = score_sentences(answer, KeywordVerifier())
    assert [s.verdict.label for s in sentences] == ["supported", "supported", "contradicted", "not_enough_info"]
    assert [s.precise for s in sentences] == [(True, False), (True,), (False,), ()]

    question = EvalQuestion("q", "nl", "Hoeveel?", True, (("589",),), (), ())
    score = score_answer(question, answer, KeywordVerifier())
    assert score.citation_recall == 0.5
    assert score.citation_precision == 0.5  # 2 of 4 citations
    summary = summarise([score])
    assert summary["faithfulness"] == 0.5 and summary["contradicted_share"] == 0.25


def test_a_citation_needed_together_with_another_is_precise():
    class NeedsBoth(Verifier):
        def verify(self, claim, passages):
            joined = " ".join(passages)
            return Verdict("supported" if P1 in joined and P2 in joined else "not_enough_info", 0.9)

    answer = answer_object("q", "", [("Nvidia viel en Apple steeg [1][2].", (1, 2))])
    assert score_sentences(answer, NeedsBoth())[0].precise == (True, True)


def test_abstentions_have_no_citation_scores_and_count_for_abstention_precision():
    answerable = EvalQuestion("a", "nl", "Hoeveel?", True, (("589",),), (), ())
    unanswerable = EvalQuestion("u", "nl", "Wie?", False, (), (), ())
    wrong = score_answer(answerable, answer_object("a", "Dat staat er niet in.", [], abstained=True), KeywordVerifier())
    right = score_answer(unanswerable, answer_object("u", "Dat staat er niet in.", [], abstained=True), KeywordVerifier())
    assert wrong.verified == () and wrong.citation_recall is None
    summary = summarise([wrong, right])
    assert summary["abstention_precision"] == 0.5 and summary["abstention_recall"] == 1.0
    assert summary["citation_recall"] is None and summary["faithfulness"] is None


def test_latency_percentiles_come_from_the_timings():
    question = EvalQuestion("q", "nl", "Hoeveel?", True, (("589",),), (), ())
    scores = [score_answer(question, answer_object("q", "", [], first_token=t)) for t in (1.0, 2.0, 3.0, 4.0, 10.0)]
    latency = summarise(scores)["latency"]["first_token"]
    assert latency == {"p50": 3.0, "p95": 8.8, "max": 10.0}


def test_below_floor_names_each_metric_that_misses():
    assert below_floor({"faithfulness": 0.95, "citation_recall": 0.5}, {"faithfulness": 0.9}) == []
    assert below_floor({"faithfulness": 0.85, "citation_recall": None}, {"faithfulness": 0.9, "citation_recall": 0.8}) == [
        "faithfulness: 0.850 is below the floor 0.9",
        "citation_recall: not measured (floor 0.8)",
    ]


@pytest.fixture
def scored_files(tmp_path, monkeypatch):
    """A two-question file and answers from 'another system' for it."""
    questions = tmp_path / "questions.jsonl"
    questions.write_text(
        json.dumps({"id": "a", "lang": "nl", "question": "Hoeveel verloor Nvidia?", "answerable": True,
                    "must": [["589"]], "evidence": ["589 miljard"], "docs": []}) + "\n"
        + json.dumps({"id": "u", "lang": "nl", "question": "Wie is de CEO van Peru?", "answerable": False,
                      "must": [], "evidence": [], "docs": []}) + "\n"
    )
    answers = tmp_path / "answers.jsonl"
    answers.write_text(
        json.dumps(answer_object("a", "Nvidia verloor 589 miljard [1].", [("Nvidia verloor 589 miljard.", (1,))])) + "\n"
        + json.dumps(answer_object("u", "Nvidia verloor 600 miljard [1].", [("Nvidia verloor 600 miljard.", (1,))])) + "\n"
    )
    monkeypatch.setenv("RAG_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setattr("rag.verifier.make_verifier", lambda *args, **kwargs: KeywordVerifier())
    return questions, answers, tmp_path / "runs"


def test_eval_scores_another_systems_answers_into_a_run_directory(scored_files, capsys):
    questions, answers, runs = scored_files
    assert cli.main(["eval", "--questions", str(questions), "--answers", str(answers), "--name", "other"]) == 0
    (run,) = runs.iterdir()
    assert run.name.endswith("-other")
    assert {p.name for p in run.iterdir()} == {
        "answers.jsonl", "scores.jsonl", "metrics.json", "report.md", "metrics.png", "latency.png"
    }
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["summary"]["answer_correct"] == 1.0
    assert metrics["summary"]["abstention_recall"] == 0.0
    assert metrics["summary"]["faithfulness"] == 0.5
    assert metrics["meta"]["verifier"] == "keyword" and metrics["meta"]["answers_from"] == str(answers)
    report = (run / "report.md").read_text()
    assert "| faithfulness | 0.500 |" in report
    assert "- u [contradicted] Nvidia verloor 600 miljard. (600)" in report
    assert (run / "metrics.png").read_bytes()[:4] == b"\x89PNG"


def test_eval_with_a_floor_fails_when_a_metric_is_below_it(scored_files, tmp_path, capsys):
    questions, answers, _ = scored_files
    floor = tmp_path / "floor.json"
    floor.write_text(json.dumps({"answer_correct": 0.5, "faithfulness": 0.9}))
    code = cli.main(["eval", "--questions", str(questions), "--answers", str(answers), "--floor", str(floor)])
    assert code == 1
    assert "below the quality floor: faithfulness: 0.500 is below the floor 0.9" in capsys.readouterr().err


def test_eval_refuses_answers_that_miss_a_question(scored_files, tmp_path, capsys):
    questions, answers, _ = scored_files
    partial = tmp_path / "partial.jsonl"
    partial.write_text(answers.read_text().splitlines()[0] + "\n")
    assert cli.main(["eval", "--questions", str(questions), "--answers", str(partial)]) == 1
    assert f"error: {partial} has no answer for u" in capsys.readouterr().err


def test_compare_shows_metric_and_question_changes(scored_files, tmp_path, capsys):
    questions, answers, runs = scored_files
    cli.main(["eval", "--questions", str(questions), "--answers", str(answers), "--name", "a"])
    better = tmp_path / "better.jsonl"
    lines = answers.read_text().splitlines()
    better.write_text(lines[0] + "\n" + json.dumps(answer_object("u", "Niet gevonden.", [], abstained=True)) + "\n")
    cli.main(["eval", "--questions", str(questions), "--answers", str(better), "--name", "b"])
    run_a, run_b = sorted(runs.iterdir())
    capsys.readouterr()

    assert cli.main(["eval", "--compare", str(run_a), str(run_b)]) == 0
    out = capsys.readouterr().out
    assert "| abstention_recall | 0.000 | 1.000 | +1.000 |" in out
    assert "| u | correct False → True, citation_recall 0.000 → n/a, citation_precision 0.000 → n/a |" in out
    assert compare_runs(load_run(run_a), load_run(run_a)).endswith("none\n")


def test_loading_something_that_is_not_a_run_is_a_clear_error(tmp_path):
    with pytest.raises(RunError, match="is not an evaluation run: metrics.json is missing"):
        load_run(tmp_path)

"""Evaluator labels: loading answer objects, the label store (upsert, progress, export),
Cohen's kappa and the agreement table, and verifier verdicts on answer sentences."""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import replace
from fractions import Fraction

import pytest

from rag.labels import (
    MAX_EVALUATOR_CHARS,
    MAX_NOTE_CHARS,
    TO_VERDICT,
    LabelStore,
    SentenceVerdicts,
    agreement_table,
    clean_evaluator,
    cohen_kappa,
    load_answers,
    open_run,
    run_names,
)
from rag.verifier import Verdict, Verifier

PASSAGES = [
    {"n": 1, "article_id": "nvidia", "title": "Nvidia verliest 589 miljard dollar", "source": "NOS",
     "date": "2025-01-28", "chunk_id": "nvidia:0", "text": "Het aandeel van Nvidia verloor maandag 589 miljard dollar aan waarde.",
     "start": 0, "end": 70, "score": 0.03},
    {"n": 2, "article_id": "tulpen", "title": "Tulpen in de lente", "text": "De tulpenvelden in Lisse bloeien in april."},
]


def answer_object(id="q1", question="Hoeveel verloor Nvidia?", **changes) -> dict:
    obj = {
        "id": id,
        "question": question,
        "language": "nl",
        "answer": "Nvidia verloor 589 miljard dollar [1]. De tulpen bloeien in april [2].",
        "abstained": False,
        "passages": PASSAGES,
        "sentences": [
            {"text": "Nvidia verloor 589 miljard dollar.", "citations": [1], "supported": True},
            {"text": "De tulpen bloeien in april.", "citations": [2], "supported": True},
        ],
        "citations": [],
        "timings": {"total": 1.0},
    }
    obj.update(changes)
    return obj


def write_run(runs_dir, name, answers) -> None:
    run = runs_dir / name
    run.mkdir(parents=True)
    (run / "answers.jsonl").write_text(
        "".join(json.dumps(a, ensure_ascii=False) + "\n" for a in answers), encoding="utf-8"
    )
    (run / "scores.json").write_text("{}")


@pytest.fixture
def answers(tmp_path):
    write_run(tmp_path / "runs", "run-a", [answer_object("q1"), answer_object("q2", "Wanneer bloeien tulpen?")])
    return load_answers(tmp_path / "runs" / "run-a")


# --- loading -------------------------------------------------------------------------------


def test_a_run_directory_loads_its_answers_keyed_by_id(answers):
    assert answers.collection == "run-a"
    assert [a.key for a in answers.answers] == ["q1", "q2"]
    first = answers.answers[0]
    assert first.question == "Hoeveel verloor Nvidia?"
    assert [s.text for s in first.sentences] == ["Nvidia verloor 589 miljard dollar.", "De tulpen bloeien in april."]
    assert first.cited(1)[0].title == "Tulpen in de lente"
    assert answers.total_sentences == 4


def test_json_lists_and_answers_objects_load_and_uploads_are_named_by_their_digest(tmp_path):
    import hashlib

    minimal = {"question": "Q?", "answer": "A [1].", "passages": [{"text": "A."}],
               "sentences": [{"text": "A.", "citations": [1]}]}
    listed = tmp_path / "list.json"
    listed.write_text(json.dumps([minimal, minimal]))
    wrapped = tmp_path / "wrapped.jsonl"
    wrapped.write_text(json.dumps({"answers": [minimal]}, indent=2))

    from_list = load_answers(listed)
    assert [a.key for a in from_list.answers] == ["#1", "#2"]  # no id: the position
    assert from_list.collection == "upload:" + hashlib.sha256(listed.read_bytes()).hexdigest()[:12]
    assert load_answers(wrapped).answers[0].passages[0].title == ""


def test_missing_sentences_are_derived_from_the_answer_text(tmp_path):
    path = tmp_path / "other-system.jsonl"
    record = {"question": "Q?", "answer": "Nvidia verloor 589 miljard dollar. [1] Apple steeg [2, 9].",
              "passages": [{"text": "x"}, {"text": "y"}]}
    path.write_text(json.dumps(record) + "\n\n" + json.dumps({**record, "id": 7}) + "\n")
    answers = load_answers(path)
    assert [(s.text, s.citations) for s in answers.answers[0].sentences] == [
        ("Nvidia verloor 589 miljard dollar.", (1,)), ("Apple steeg.", (2,)),
    ]
    assert [a.key for a in answers.answers] == ["#1", "7"]


def test_failed_ask_lines_are_skipped_and_reported(tmp_path):
    path = tmp_path / "answers.jsonl"
    path.write_text(json.dumps(answer_object()) + "\n" + json.dumps({"id": "q9", "error": "the question is empty"}) + "\n")
    answers = load_answers(path, "answers.jsonl")
    assert [a.key for a in answers.answers] == ["q1"]
    assert answers.skipped == ("answers.jsonl:2: the question is empty",)


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"question": "Q?"}\n{oops\n', r"^bad\.jsonl:2: not valid JSON \(Expecting property name"),
        ("", r"^bad\.jsonl: the file is empty$"),
        ("[1]", r"^bad\.jsonl: answer 1: expected an answer object, got int$"),
        ('{"answers": {}}', r'^bad\.jsonl: "answers" must be a list$'),
        (json.dumps({"answer": "A", "passages": []}), r'^bad\.jsonl:1: "question" is missing$'),
        (json.dumps({"question": 3, "answer": "A", "passages": []}), r'^bad\.jsonl:1: "question" must be a string$'),
        (json.dumps({"question": "Q", "answer": "A"}), r'^bad\.jsonl:1: "passages" is missing$'),
        (json.dumps({"question": "Q", "answer": "A", "passages": [{"title": "t"}]}),
         r'^bad\.jsonl:1: passage 1: "text" is missing$'),
        (json.dumps({"question": "Q", "answer": "A", "passages": [{"text": "t"}],
                     "sentences": [{"text": "A.", "citations": [2]}]}),
         r"^bad\.jsonl:1: sentence 1: cites passage 2, but the answer has 1 passages$"),
        (json.dumps({"question": "Q", "answer": "A", "passages": [], "sentences": [{"text": "A.", "citations": "1"}]}),
         r'^bad\.jsonl:1: sentence 1: "citations" must be a list of passage numbers$'),
        (json.dumps(answer_object("q1")) + "\n" + json.dumps(answer_object("q1")),
         r"^bad\.jsonl:2: id 'q1' was already used at bad\.jsonl:1$"),
        (json.dumps({"id": 1, "error": "boom"}), r"^bad\.jsonl: no answer objects$"),
    ],
)
def test_broken_answer_files_are_refused_naming_file_and_line(tmp_path, content, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        load_answers(path, "bad.jsonl")


def test_a_broken_json_file_names_the_line_of_the_error(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('[\n  {"question": "Q?",\n   "answer": }\n]')
    with pytest.raises(ValueError, match=r"^bad\.json:3: not valid JSON \(Expecting value\)$"):
        load_answers(path, "bad.json")


def test_too_large_non_utf8_and_missing_files_are_refused(tmp_path):
    big = tmp_path / "big.jsonl"
    big.write_text(json.dumps(answer_object()))
    with pytest.raises(ValueError, match=r"^big\.jsonl: [\d,]+ bytes is more than the limit of 100 bytes$"):
        load_answers(big, "big.jsonl", max_bytes=100)
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes('{"question": "caf\xe9"}'.encode("latin-1"))
    with pytest.raises(ValueError, match=r"^latin\.jsonl: not UTF-8 text \(byte 17\)$"):
        load_answers(latin, "latin.jsonl")
    (tmp_path / "empty-run").mkdir()
    with pytest.raises(ValueError, match=r"empty-run/answers\.jsonl: file not found$"):
        load_answers(tmp_path / "empty-run")


def test_runs_are_listed_newest_first_and_only_listed_names_open(tmp_path):
    runs = tmp_path / "runs"
    write_run(runs, "old", [answer_object()])
    write_run(runs, "new", [answer_object()])
    (runs / "no-answers").mkdir()
    os.utime(runs / "old" / "answers.jsonl", (1_000_000, 1_000_000))
    assert run_names(runs) == ["new", "old"]
    assert run_names(tmp_path / "nowhere") == []
    assert open_run(runs, "old").collection == "old"
    for name in ("no-answers", "../runs/old", str(runs / "old")):
        with pytest.raises(ValueError, match="^no run named .* with an answers.jsonl$"):
            open_run(runs, name)


# --- the store -----------------------------------------------------------------------------


def test_labelling_a_sentence_again_updates_it(tmp_path, answers, monkeypatch):
    import rag.labels
    from datetime import datetime

    clock = iter(["2025-03-01T10:00:00+00:00", "2025-03-01T10:05:00+00:00", "2025-03-01T10:06:00+00:00"])
    monkeypatch.setattr(rag.labels, "datetime", type("Clock", (), {"now": staticmethod(
        lambda tz: datetime.fromisoformat(next(clock)))}))
    store = LabelStore(tmp_path / "sub" / "labels.sqlite3")
    q1 = answers.answers[0]
    store.save("Anna", "run-a", q1, 0, "supported")
    store.save(" Anna ", "run-a", q1, 0, "contradicted", "het was 589 miljard euro")
    store.save("Bram", "run-a", q1, 0, "supported", "x" * 5000)

    rows = list(store.rows())
    assert [(r.evaluator, r.label) for r in rows] == [("Anna", "contradicted"), ("Bram", "supported")]
    assert rows[0].note == "het was 589 miljard euro"
    assert (rows[0].created_at, rows[0].updated_at) == ("2025-03-01T10:00:00+00:00", "2025-03-01T10:05:00+00:00")
    assert rows[0].sentence == "Nvidia verloor 589 miljard dollar." and rows[0].question == "Hoeveel verloor Nvidia?"
    assert len(rows[1].note) == MAX_NOTE_CHARS


def test_the_store_creates_its_file_only_when_used(tmp_path, answers):
    store = LabelStore(tmp_path / "labels.sqlite3")
    assert not store.path.exists()
    assert store.progress("Anna", answers).labelled == 0
    assert store.path.exists()


def test_bad_labels_and_sentences_are_refused(tmp_path, answers):
    store = LabelStore(tmp_path / "labels.sqlite3")
    q1 = answers.answers[0]
    with pytest.raises(ValueError, match="^label must be one of supported, partly_supported, unsupported, contradicted; got 'yes'$"):
        store.save("Anna", "run-a", q1, 0, "yes")
    with pytest.raises(ValueError, match="^answer q1 has no sentence 3 \\(it has 2\\)$"):
        store.save("Anna", "run-a", q1, 2, "supported")
    with pytest.raises(ValueError, match="^enter your name as evaluator first$"):
        store.save("   ", "run-a", q1, 0, "supported")
    assert list(store.rows()) == []


def test_evaluator_names_are_trimmed_and_bounded():
    assert clean_evaluator("  Anna \t de  Vries ") == "Anna de Vries"
    with pytest.raises(ValueError, match="^enter your name as evaluator first$"):
        clean_evaluator(None)
    with pytest.raises(ValueError, match=f"^the evaluator name is 65 characters; at most {MAX_EVALUATOR_CHARS} allowed$"):
        clean_evaluator("a" * 65)
    with pytest.raises(ValueError, match="^the evaluator name contains control characters$"):
        clean_evaluator("Anna\x00")


def test_progress_counts_this_evaluators_labels_of_these_answers(tmp_path, answers):
    store = LabelStore(tmp_path / "labels.sqlite3")
    q1, q2 = answers.answers
    store.save("Anna", "run-a", q1, 0, "supported")
    store.save("Anna", "run-a", q1, 0, "unsupported")  # the same sentence again
    store.save("Anna", "run-a", q2, 1, "supported")
    store.save("Bram", "run-a", q1, 1, "supported")
    store.save("Anna", "run-b", q1, 1, "supported")
    store.save("Anna", "run-a", replace(q1, key="q-removed-since"), 0, "supported")

    progress = store.progress("Anna", answers)
    assert (progress.labelled, progress.total) == (2, 4)
    assert (store.progress("Bram", answers).labelled, store.progress("Carla", answers).labelled) == (1, 0)


def test_export_is_formula_safe_and_filters_by_collection(tmp_path, answers):
    store = LabelStore(tmp_path / "labels.sqlite3")
    q1 = answers.answers[0]
    store.save("=cmd|' /C calc'!A0", "run-a", q1, 0, "supported", "+31 6 1234")
    store.save("Bram", "run-b", q1, 1, "contradicted", "@SUM(A1)")

    out = io.StringIO()
    assert store.export(out, "csv", "run-a") == 1
    header, row = list(csv.reader(io.StringIO(out.getvalue())))
    assert header == ["evaluator", "collection", "answer_key", "sentence_index", "label", "note",
                      "sentence", "question", "created_at", "updated_at"]
    assert row[:7] == ["'=cmd|' /C calc'!A0", "run-a", "q1", "0", "supported", "'+31 6 1234",
                       "Nvidia verloor 589 miljard dollar."]

    out = io.StringIO()
    assert store.export(out, "jsonl") == 2
    exported = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(e["collection"], e["note"]) for e in exported] == [("run-a", "+31 6 1234"), ("run-b", "@SUM(A1)")]
    with pytest.raises(ValueError, match="^format must be 'csv' or 'jsonl', got 'xlsx'$"):
        store.export(io.StringIO(), "xlsx")


# --- agreement -----------------------------------------------------------------------------


def test_kappa_of_the_textbook_two_by_two_table():
    # 50 items: both "yes" 20, A yes/B no 5, A no/B yes 10, both "no" 15.
    # p_o = 0.7; p_e = 0.5 * 0.6 + 0.5 * 0.4 = 0.5; kappa = 0.2 / 0.5 = 0.4
    a = ["yes"] * 20 + ["yes"] * 5 + ["no"] * 10 + ["no"] * 15
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4)


def test_kappa_with_three_classes():
    # Confusion (rows A, columns B):  x: 5 1 0 | y: 1 3 1 | z: 0 1 3  -> n = 15, 11 agree,
    # margins 6/5/4 for both: p_e = 77/225, kappa = (165 - 77) / (225 - 77) = 22/37.
    pairs = [("x", "x")] * 5 + [("x", "y")] + [("y", "x")] + [("y", "y")] * 3 + [("y", "z")] + \
        [("z", "y")] + [("z", "z")] * 3
    a, b = zip(*pairs)
    assert cohen_kappa(a, b) == pytest.approx(float(Fraction(22, 37)))


def test_kappa_in_the_degenerate_cases():
    assert cohen_kappa(["supported"] * 4, ["supported"] * 4) == 1.0  # one class, full agreement
    assert cohen_kappa(["x", "y"], ["y", "x"]) == -1.0  # systematic disagreement
    assert cohen_kappa(["x", "x"], ["y", "y"]) == 0.0  # no agreement, none expected by chance
    assert cohen_kappa([], []) is None  # nothing shared: undefined
    with pytest.raises(ValueError, match="^cohen_kappa needs two label lists of the same length, got 2 and 1$"):
        cohen_kappa(["x", "y"], ["x"])


def test_the_agreement_table_pairs_evaluators_and_maps_labels_for_the_verifier(tmp_path, answers):
    store = LabelStore(tmp_path / "labels.sqlite3")
    q1, q2 = answers.answers
    for sentence, anna, bram in [((q1, 0), "supported", "supported"), ((q1, 1), "unsupported", "partly_supported"),
                                 ((q2, 0), "contradicted", "contradicted")]:
        store.save("Anna", "run-a", *sentence, anna)
        store.save("Bram", "run-a", *sentence, bram)
    store.save("Carla", "run-a", q2, 1, "supported")
    verdicts = {("q1", 0): "supported", ("q1", 1): "not_enough_info", ("q2", 0): "supported", ("q2", 1): "supported"}

    table = agreement_table(store.rows("run-a"), verdicts, "verifier (fake)")

    rows = {(r.first, r.second): r for r in table}
    anna_bram = rows[("Anna", "Bram")]
    assert (anna_bram.shared, anna_bram.agreement) == (3, pytest.approx(2 / 3))
    assert anna_bram.kappa == pytest.approx(cohen_kappa(["s", "u", "c"], ["s", "p", "c"]))
    assert (rows[("Anna", "Carla")].shared, rows[("Anna", "Carla")].kappa) == (0, None)
    # unsupported and partly_supported both read as not_enough_info against the verifier
    assert rows[("Anna", "verifier (fake)")].agreement == pytest.approx(2 / 3)
    assert rows[("Bram", "verifier (fake)")].agreement == pytest.approx(2 / 3)
    assert (rows[("Carla", "verifier (fake)")].shared, rows[("Carla", "verifier (fake)")].kappa) == (1, 1.0)
    assert [r.second for r in agreement_table(store.rows("run-a"))].count("verifier") == 0
    assert set(TO_VERDICT.values()) == {"supported", "contradicted", "not_enough_info"}


def test_agreement_is_per_collection(tmp_path, answers):
    store = LabelStore(tmp_path / "labels.sqlite3")
    store.save("Anna", "run-a", answers.answers[0], 0, "supported")
    store.save("Anna", "run-b", answers.answers[0], 0, "supported")
    with pytest.raises(ValueError, match="^agreement is computed per collection, got 2$"):
        agreement_table(store.rows())


class CountingVerifier(Verifier):
    name = "counting"

    def __init__(self):
        self.calls: list[tuple[str, tuple[str, ...]]] = []

    def verify(self, claim, passages):
        self.calls.append((claim, tuple(passages)))
        return Verdict("supported", 0.9, "fake")


def test_verdicts_are_computed_lazily_once_per_sentence(answers):
    verifier = CountingVerifier()
    built = []
    verdicts = SentenceVerdicts(lambda: built.append(1) or verifier)
    assert built == []

    q1 = answers.answers[0]
    assert verdicts(q1, 0).label == "supported"
    assert verdicts(q1, 0).label == "supported"
    assert verdicts.labels(answers, {("q1", 0), ("q1", 1), ("gone", 0), ("q1", 7)}) == {
        ("q1", 0): "supported", ("q1", 1): "supported",
    }
    assert built == [1] and verdicts.name == "counting"
    assert verifier.calls == [
        ("Nvidia verloor 589 miljard dollar.", (PASSAGES[0]["text"],)),
        ("De tulpen bloeien in april.", (PASSAGES[1]["text"],)),
    ]


def test_a_sentence_without_citations_is_not_enough_info_without_asking_the_verifier(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps(answer_object(sentences=[{"text": "Zomaar iets.", "citations": []}])))
    verifier = CountingVerifier()
    verdict = SentenceVerdicts(lambda: verifier)(load_answers(path).answers[0], 0)
    assert (verdict.label, verdict.reason) == ("not_enough_info", "the sentence cites no passage")
    assert verifier.calls == []

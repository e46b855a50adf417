"""Feedback storage and export."""

from __future__ import annotations

import csv
import io
import json

import pytest

from rag.feedback import FeedbackStore

ANSWER = {
    "question": "Hoeveel verloor Nvidia?",
    "language": "nl",
    "answer": "=589 miljard dollar [1].",
    "citations": [{"n": 1, "title": "Nvidia", "article_id": "001", "start": 10, "end": 90}],
}


def test_ratings_and_comments_are_stored_and_exported(tmp_path):
    store = FeedbackStore(tmp_path / "sub" / "feedback.sqlite3")
    first = store.add(ANSWER, "up")
    store.comment(first, "Duidelijk")
    store.add(ANSWER, "down", "x" * 5000)

    rows = list(store.rows())
    assert [(r.rating, r.comment[:9]) for r in rows] == [("up", "Duidelijk"), ("down", "xxxxxxxxx")]
    assert len(rows[1].comment) == 2000

    out = io.StringIO()
    assert store.export(out, "jsonl") == 2
    exported = [json.loads(line) for line in out.getvalue().splitlines()]
    assert exported[0]["citations"][0]["article_id"] == "001"

    out = io.StringIO()
    store.export(out, "csv")
    header, row, _ = list(csv.reader(io.StringIO(out.getvalue())))
    assert header[:4] == ["id", "created_at", "rating", "comment"]
    assert row[6] == "'=589 miljard dollar [1]."  # never a spreadsheet formula
    assert row[7] == "[1] Nvidia (001, 10-90)"


def test_bad_rating_and_unknown_id_are_refused(tmp_path):
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    with pytest.raises(ValueError, match="^rating must be 'up' or 'down', got 'meh'$"):
        store.add(ANSWER, "meh")
    with pytest.raises(KeyError, match="no feedback with id 7"):
        store.comment(7, "hallo")
    with pytest.raises(ValueError, match="^format must be 'csv' or 'jsonl', got 'xml'$"):
        store.export(io.StringIO(), "xml")


def test_the_cli_exports_to_a_file(tmp_path, monkeypatch, capsys):
    from rag import __main__ as cli

    path = tmp_path / "feedback.sqlite3"
    FeedbackStore(path).add(ANSWER, "up")
    monkeypatch.setenv("RAG_FEEDBACK_PATH", str(path))
    target = tmp_path / "out.jsonl"
    assert cli.main(["feedback", "--format", "jsonl", "--output", str(target)]) == 0
    assert json.loads(target.read_text())["rating"] == "up"
    assert capsys.readouterr().err == "1 feedback rows exported\n"

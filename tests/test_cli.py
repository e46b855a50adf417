"""The command line with the fake models: output formats, bad input lines, exit codes."""

from __future__ import annotations

import io
import json

import pytest

from rag import __main__ as cli
from rag.config import Settings
from tests.fakes import scripted_pipeline
from tests.test_pipeline import settings  # noqa: F401  (fixture)


@pytest.fixture
def fake_pipeline(settings, monkeypatch):  # noqa: F811
    pipeline = scripted_pipeline(
        settings, "Nvidia verloor 589 miljard dollar [{n}]. Het was 700 miljard [{n}]."
    )
    monkeypatch.setattr(cli, "_pipeline", lambda settings: pipeline)
    return pipeline


def test_ask_prints_the_checked_answer_and_its_sources(fake_pipeline, capsys):
    assert cli._ask(Settings(), "Hoeveel verloor Nvidia?", as_json=False) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("Nvidia verloor 589 miljard dollar. [")
    assert "(unverified: number 700 not in cited passages" in lines[1]
    assert "Bronnen:" in lines
    assert any(line.startswith("    nvidia, characters ") for line in lines)


def test_ask_json_prints_one_answer_object(fake_pipeline, capsys):
    cli._ask(Settings(), "Hoeveel verloor Nvidia?", as_json=True)
    answer = json.loads(capsys.readouterr().out)
    assert answer["language"] == "nl" and not answer["abstained"]
    assert [s["supported"] for s in answer["sentences"]] == [True, False]


def test_ask_jsonl_keeps_going_after_bad_lines(fake_pipeline):
    stdin = io.StringIO(
        '{"id": "a", "question": "Hoeveel verloor Nvidia?"}\n'
        "\n"
        '["not", "an", "object"]\n'
        '{"id": "b", "question": "What is the capital of Peru?"}\n'
        '{"id": "c", "question": "' + "x" * 3000 + '"}\n'
    )
    stdout = io.StringIO()

    assert cli._ask_jsonl(Settings(), stdin, stdout) == 1

    a, bad, b, c = [json.loads(line) for line in stdout.getvalue().splitlines()]
    assert a["id"] == "a" and not a["abstained"]
    assert bad == {"id": None, "error": 'each line needs a JSON object with a "question" string'}
    assert b["id"] == "b" and b["abstained"] and b["language"] == "en"
    assert c == {"id": "c", "error": "the question is 3,000 characters long; the limit is 2,000"}


def test_chat_rewrites_follow_ups_and_stops_on_an_empty_line(fake_pipeline):
    stdin = io.StringIO("Hoeveel verloor Nvidia?\n\n")
    stdout = io.StringIO()
    assert cli._chat(Settings(), stdin, stdout) == 0
    assert "Nvidia verloor 589 miljard dollar" in stdout.getvalue()


def test_main_turns_errors_into_one_line(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("RAG_TOP_K", "zero")
    assert cli.main(["build"]) == 1
    assert capsys.readouterr().err == "error: RAG_TOP_K='zero' is not a valid int\n"


def test_main_reports_a_missing_articles_directory(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("RAG_DOCS_DIR", str(tmp_path / "nowhere"))
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "index"))
    assert cli.main(["build"]) == 1
    assert capsys.readouterr().err == f"error: articles directory not found: {tmp_path / 'nowhere'}\n"

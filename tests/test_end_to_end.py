"""The real packaged models on the real articles: a Dutch question, an English question,
an unanswerable one, a follow-up, and the `ask --jsonl` interface. Models load once per
session; the index is built in a temporary directory."""

from __future__ import annotations

import io
import json
import shutil

import pytest

from rag import __main__ as cli
from rag.config import ROOT, Settings
from rag.pipeline import AnswerReady, PassagesFound, Pipeline, TextGenerated
from rag.prompts import NOT_IN_ARTICLES
from rag.types import Turn

pytestmark = pytest.mark.real


@pytest.fixture(scope="session")
def pipeline(tmp_path_factory) -> Pipeline:
    root = tmp_path_factory.mktemp("e2e")
    docs = root / "docs"
    shutil.copytree(ROOT / "docs", docs)
    settings = Settings.from_env(docs_dir=docs, index_dir=root / "index")
    pipeline = Pipeline(settings)
    report = pipeline.build()
    assert report.reason == "no index" and report.chunks > 10
    pipeline.warm()
    return pipeline


def assert_every_citation_is_a_given_passage(answer) -> None:
    data = answer.to_dict()
    given = {p["chunk_id"] for p in data["passages"]}
    for citation in data["citations"]:
        assert citation["chunk_id"] in given
        assert data["passages"][citation["n"] - 1]["chunk_id"] == citation["chunk_id"]


def test_dutch_question_gets_a_cited_dutch_answer(pipeline):
    events = list(pipeline.stream("Hoeveel procent verloor het aandeel van Nvidia op maandag?"))

    assert isinstance(events[0], PassagesFound) and events[0].passages
    assert any(isinstance(e, TextGenerated) for e in events)
    answer = events[-1].answer
    assert isinstance(events[-1], AnswerReady)
    assert not answer.abstained
    assert answer.language == "nl"
    assert "17" in answer.text
    supported = [s for s in answer.sentences if s.supported]
    assert supported and all(s.citations for s in supported)
    cited_text = " ".join(answer.passages[n - 1].chunk.text for n in supported[0].citations)
    assert "17 procent" in cited_text
    assert_every_citation_is_a_given_passage(answer)


def test_english_question_finds_dutch_passages_and_answers_in_english(pipeline):
    answer = pipeline.answer("How much money did Jensen Huang lose on Monday?")

    assert not answer.abstained
    assert answer.language == "en"
    assert "20.1" in answer.text or "20,1" in answer.text
    assert any("20,1 miljard" in p.chunk.text for p in answer.passages)
    assert " the " in f" {answer.text.lower()} "  # English, not Dutch
    assert all(s.citations for s in answer.sentences if s.supported)
    assert_every_citation_is_a_given_passage(answer)


@pytest.mark.parametrize(
    "question, language",
    [
        ("Wie is de oprichter van DeepSeek?", "nl"),
        ("What was Nvidia's share price at the close on 28 January?", "en"),
    ],
)
def test_unanswerable_question_abstains_in_its_language(pipeline, question, language):
    answer = pipeline.answer(question)

    assert answer.abstained
    assert answer.text == NOT_IN_ARTICLES[language]
    assert answer.to_dict()["citations"] == []


def test_follow_up_is_answered_as_a_stand_alone_question(pipeline):
    history = [Turn("Hoeveel verloor Jensen Huang maandag?", "Hij verloor 20,1 miljard dollar [1].")]

    answer = pipeline.answer("En Larry Ellison?", history)

    assert answer.standalone_question and "Ellison" in answer.standalone_question
    assert not answer.abstained
    assert "22,6" in answer.text or "22.6" in answer.text


def test_ask_jsonl_answers_each_line_with_one_object(pipeline, monkeypatch):
    monkeypatch.setattr(cli, "_pipeline", lambda settings: pipeline)
    stdin = io.StringIO(
        '{"id": "q1", "question": "Welk bedrijf ontwikkelde het model R1?"}\n'
        "not json\n"
        '{"id": 7, "question": "   "}\n'
    )
    stdout = io.StringIO()

    status = cli._ask_jsonl(Settings.from_env(), stdin, stdout)

    lines = [json.loads(line) for line in stdout.getvalue().splitlines()]
    assert status == 1  # two lines failed
    first, broken, empty = lines
    assert first["id"] == "q1" and first["language"] == "nl"
    assert set(first) >= {
        "id", "question", "language", "answer", "abstained", "citations", "passages",
        "sentences", "timings",
    }
    assert set(first["timings"]) == {"retrieval", "first_token", "total"}
    assert "DeepSeek" in first["answer"]
    for citation in first["citations"]:
        assert set(citation) >= {
            "n", "article_id", "title", "source", "date", "chunk_id", "text", "start", "end"
        }
    assert broken == {"id": None, "error": "line 2 is not JSON: Expecting value"}
    assert empty == {"id": 7, "error": "the question is empty"}

"""The real packaged models on the real articles: a Dutch question, an English question,
an unanswerable one, a follow-up, and the `ask --jsonl` interface. Models load once per
session; the index is built in a temporary directory."""

from __future__ import annotations

import io
import json

import pytest

from rag import __main__ as cli
from rag.config import Settings
from rag.pipeline import AnswerReady, PassagesFound, TextGenerated
from rag.prompts import NOT_IN_ARTICLES
from rag.types import Turn

pytestmark = pytest.mark.real


@pytest.fixture
def pipeline(real_pipeline):
    return real_pipeline


def assert_every_citation_is_a_given_passage(answer) -> None:
    data = answer.to_dict()
    given = {p["chunk_id"] for p in data["passages"]}
    for citation in data["citations"]:
        assert citation["chunk_id"] in given
        assert data["passages"][citation["n"] - 1]["chunk_id"] == citation["chunk_id"]


def assert_citations_open_the_article_text(pipeline, answer) -> None:
    from rag.corpus import load_corpus

    articles, _ = load_corpus(pipeline.settings.docs_dir)
    texts = {a.id: a.text for a in articles}
    for citation in answer.to_dict()["citations"]:
        assert texts[citation["article_id"]][citation["start"] : citation["end"]] == citation["text"]


def test_dutch_question_gets_a_cited_dutch_answer(pipeline):
    events = list(pipeline.stream("Waarom kreeg de app van DeepSeek zoveel aandacht?"))

    assert isinstance(events[0], PassagesFound) and events[0].passages
    assert any(isinstance(e, TextGenerated) for e in events)
    answer = events[-1].answer
    assert isinstance(events[-1], AnswerReady)
    assert not answer.abstained
    assert answer.language == "nl"
    assert "China" in answer.text and "open source" in answer.text
    supported = [s for s in answer.sentences if s.supported]
    assert supported and all(s.citations for s in supported)
    cited_text = " ".join(answer.passages[n - 1].chunk.text for n in supported[0].citations)
    assert "hij komt uit China, is open source" in cited_text
    assert_every_citation_is_a_given_passage(answer)
    assert_citations_open_the_article_text(pipeline, answer)


def test_english_question_finds_dutch_passages_and_answers_in_english(pipeline):
    answer = pipeline.answer("By what percentage did Nvidia's share fall on Monday?")

    assert not answer.abstained
    assert answer.language == "en"
    assert "17" in answer.text
    assert " the " in f" {answer.text.lower()} " and "procent" not in answer.text  # English, not Dutch
    cited = [answer.passages[n - 1].chunk.text for n in answer.cited_numbers]
    assert any("verloor maandag net geen 17 procent" in t for t in cited)
    assert all(s.citations for s in answer.sentences if s.supported)
    assert_every_citation_is_a_given_passage(answer)


def test_english_paraphrase_finds_the_dutch_sentence_it_paraphrases(pipeline):
    # No word of the evidence but "Silicon Valley" is in the question: the dense retriever
    # has to bridge "narrative ... undermine" and "ondermijnt ... narratief".
    passages = pipeline.retrieve("Which narrative from Silicon Valley does DeepSeek's success undermine?")

    evidence = [p for p in passages if "kapitaalinvesteringen essentieel zijn voor AI-innovatie" in p.chunk.text]
    assert evidence and "dense" in evidence[0].retrievers


@pytest.mark.parametrize(
    "question, language",
    [
        ("In welke stad is DeepSeek gevestigd?", "nl"),
        ("What is the name of DeepSeek's founder?", "en"),
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
        '{"id": "q1", "question": "Welke positie had Nvidia volgens de fondsbeheerder op de markt voor AI-chips?"}\n'
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
    assert not first["abstained"] and "monopolie" in first["answer"]
    for citation in first["citations"]:
        assert set(citation) >= {
            "n", "article_id", "title", "source", "date", "chunk_id", "text", "start", "end"
        }
    assert broken == {"id": None, "error": "line 2 is not JSON: Expecting value"}
    assert empty == {"id": 7, "error": "the question is empty"}

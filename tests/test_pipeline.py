"""The pipeline wired with the fake embedder and a scripted generator: every branch of
question -> rewrite -> retrieve -> generate -> check, and the answer object."""

from __future__ import annotations

import pytest

from rag.config import Settings
from rag.errors import QuestionError
from rag.pipeline import (
    AnswerReady,
    PassagesFound,
    Pipeline,
    TextGenerated,
    clean_question,
    needs_rewrite,
)
from rag import prompts
from rag.prompts import NOT_IN_ARTICLES
from rag.types import Turn
from tests.fakes import FakeEmbedder, ScriptedGenerator

ARTICLE_A = """Nvidia verliest 589 miljard dollar

Het aandeel van Nvidia verloor maandag 589 miljard dollar aan waarde. De daling volgde op het nieuws over DeepSeek.

Apple en Meta zagen hun waarde stijgen. Meta herstelde sterk na een vroege daling.
"""

ARTICLE_B = """Tulpen in de lente

De tulpenvelden in Lisse bloeien in april. Toeristen komen massaal kijken naar de bloemen.
"""


@pytest.fixture
def settings(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "nvidia.txt").write_text(ARTICLE_A)
    (docs / "tulpen.txt").write_text(ARTICLE_B)
    return Settings(
        docs_dir=docs,
        index_dir=tmp_path / "index",
        cache_dir=tmp_path / "cache",
        top_k=2,
        candidates=5,
        chunk_size=120,
        min_dense_score=0.0,
        min_support_similarity=0.0,
    )


def make_pipeline(settings, script):
    return Pipeline(settings, embedder=FakeEmbedder(), generator=ScriptedGenerator(script))


def passage_number(pipeline, question, needle):
    for n, passage in enumerate(pipeline.retrieve(question), 1):
        if needle in passage.chunk.text:
            return n
    raise AssertionError(f"{needle!r} not retrieved for {question!r}")


def test_the_answer_check_reuses_the_sentence_vectors_retrieval_made(settings):
    pipeline = make_pipeline(settings, "")
    n = passage_number(pipeline, "Hoeveel verloor Nvidia?", "589 miljard")
    pipeline._generator = ScriptedGenerator(f"Nvidia verloor 589 miljard dollar [{n}].")
    pipeline.warm()  # embeds every chunk's sentences, as the app does at start-up
    embedder = pipeline.embedder
    embedder.calls.clear()

    answer = pipeline.answer("Hoeveel verloor Nvidia?")

    assert [s.supported for s in answer.sentences] == [True]
    # The question's vector is remembered from passage_number's retrieval; the check embeds
    # the answer sentence and the given passages as whole texts, not one of their sentences.
    embedded_passages = sum(count for kind, count in embedder.calls if kind == "passage")
    assert embedded_passages == len(answer.passages)
    assert embedder.calls.count(("query", 1)) == 1


def test_answer_cites_the_passage_it_uses(settings):
    pipeline = make_pipeline(settings, "")
    n = passage_number(pipeline, "Hoeveel verloor Nvidia?", "589 miljard")
    pipeline._generator = ScriptedGenerator(f"Nvidia verloor 589 miljard dollar [{n}].")

    answer = pipeline.answer("Hoeveel verloor Nvidia?")

    assert not answer.abstained
    assert answer.language == "nl"
    assert answer.text == f"Nvidia verloor 589 miljard dollar [{n}]."
    assert [s.supported for s in answer.sentences] == [True]
    cited = answer.to_dict()["citations"]
    assert [c["n"] for c in cited] == [n]
    assert "589 miljard" in cited[0]["text"]
    assert cited[0]["article_id"] == "nvidia"


def test_an_english_answer_says_billion_where_the_model_copied_miljard(settings):
    pipeline = make_pipeline(settings, "")
    n = passage_number(pipeline, "How much did Nvidia lose?", "589 miljard")
    pipeline._generator = ScriptedGenerator(f"Nvidia lost 589 miljard dollars [{n}].")

    answer = pipeline.answer("How much did Nvidia lose?")

    assert answer.language == "en"
    assert answer.text.startswith("Nvidia lost 589 billion dollars [")
    assert [s.supported for s in answer.sentences] == [True]
    assert answer.raw_text == f"Nvidia lost 589 miljard dollars [{n}]."  # what the model wrote


def test_wrong_number_is_flagged_not_shown_as_supported(settings):
    pipeline = make_pipeline(settings, "")
    n = passage_number(pipeline, "Hoeveel verloor Nvidia?", "589 miljard")
    pipeline._generator = ScriptedGenerator(
        f"Nvidia verloor 589 miljard dollar [{n}]. Het aandeel verloor 600 miljard [{n}]."
    )

    answer = pipeline.answer("Hoeveel verloor Nvidia?")

    assert not answer.abstained
    verdicts = [(s.supported, s.reason) for s in answer.sentences]
    assert verdicts[0] == (True, None)
    assert verdicts[1][0] is False
    assert "600" in verdicts[1][1]


def test_marker_to_a_passage_that_was_not_given_is_removed(settings):
    pipeline = make_pipeline(settings, "")
    n = passage_number(pipeline, "Hoeveel verloor Nvidia?", "589 miljard")
    pipeline._generator = ScriptedGenerator(f"Nvidia verloor 589 miljard dollar [{n}][9].")

    answer = pipeline.answer("Hoeveel verloor Nvidia?")

    assert "[9]" not in answer.text
    assert answer.sentences[0].citations == (n,)
    assert all(c["n"] <= len(answer.passages) for c in answer.to_dict()["citations"])


@pytest.mark.parametrize(
    "question, language", [("Wie richtte DeepSeek op?", "nl"), ("Who founded DeepSeek?", "en")]
)
def test_model_saying_not_found_abstains_in_the_question_language(settings, question, language):
    pipeline = make_pipeline(settings, "NOT_FOUND")

    answer = pipeline.answer(question)

    assert answer.abstained
    assert answer.language == language
    assert answer.text == NOT_IN_ARTICLES[language]
    assert answer.to_dict()["citations"] == []


def test_answer_without_any_supported_sentence_abstains(settings):
    pipeline = make_pipeline(settings, "DeepSeek werd opgericht door Liang Wenfeng.")

    answer = pipeline.answer("Wie richtte DeepSeek op?")

    assert answer.abstained
    assert answer.text == NOT_IN_ARTICLES["nl"]
    assert answer.raw_text == "DeepSeek werd opgericht door Liang Wenfeng."


def test_nothing_relevant_abstains_without_calling_the_model(settings):
    generator = ScriptedGenerator("should not be called")
    pipeline = Pipeline(
        settings.replace(min_dense_score=1.01), embedder=FakeEmbedder(), generator=generator
    )

    answer = pipeline.answer("What is the capital of Peru?")

    assert answer.abstained
    assert answer.passages == ()
    assert answer.text == NOT_IN_ARTICLES["en"]
    assert generator.calls == []


def test_stream_shows_passages_before_the_first_token(settings):
    pipeline = make_pipeline(settings, "")
    n = passage_number(pipeline, "Hoeveel verloor Nvidia?", "589 miljard")
    pipeline._generator = ScriptedGenerator(f"Nvidia verloor 589 miljard dollar [{n}].")

    events = list(pipeline.stream("Hoeveel verloor Nvidia?"))

    kinds = [type(e) for e in events]
    assert kinds[0] is PassagesFound
    assert kinds[-1] is AnswerReady
    assert set(kinds[1:-1]) == {TextGenerated}
    assert "".join(e.text for e in events if isinstance(e, TextGenerated)) == events[-1].answer.raw_text
    timings = events[-1].answer.timings
    assert 0 < timings.retrieval <= timings.first_token <= timings.total


def test_follow_up_is_rewritten_before_retrieval(settings):
    def script(messages):
        if "Follow-up:" in messages[-1].content:
            return "Hoeveel steeg de waarde van Meta?"
        return "NOT_FOUND"

    generator = ScriptedGenerator(script)
    pipeline = Pipeline(settings, embedder=FakeEmbedder(), generator=generator)
    history = [Turn("Welke bedrijven stegen in waarde?", "Apple en Meta [1].")]

    answer = pipeline.answer("En Meta?", history)

    assert answer.standalone_question == "Hoeveel steeg de waarde van Meta?"
    assert "Earlier question: Welke bedrijven stegen in waarde?" in generator.calls[0][-1].content
    assert "Question: Hoeveel steeg de waarde van Meta?" in generator.calls[1][-1].content
    assert answer.language == "nl"


def test_empty_rewrite_falls_back_to_joining_the_questions(settings):
    generator = ScriptedGenerator(["", "NOT_FOUND"])
    pipeline = Pipeline(settings, embedder=FakeEmbedder(), generator=generator)

    answer = pipeline.answer("What about Meta?", [Turn("Which companies rose?", "Apple [1].")])

    assert answer.standalone_question == "Which companies rose? What about Meta?"


def test_passages_are_marked_as_untrusted_data_in_the_prompt(settings):
    generator = ScriptedGenerator("NOT_FOUND")
    pipeline = Pipeline(settings, embedder=FakeEmbedder(), generator=generator)

    pipeline.answer("Hoeveel verloor Nvidia?")

    system, user = generator.calls[0][0], generator.calls[0][-1]
    assert system.role == "system" and "untrusted" in system.content
    assert "589 miljard" not in system.content
    assert user.content.startswith("Question: Hoeveel verloor Nvidia?\n<passages>\n[1] (")
    assert "</passages>\nQuestion: Hoeveel verloor Nvidia?" in user.content
    assert "Antwoord in het Nederlands." in user.content


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("  Wie is de CEO?  ", "Wie is de CEO?"),
        ("Wie\u200b is\u2060 de CEO?", "Wie is de CEO?"),
        ("Wie is\x00 de\x07 CEO?", "Wie is de CEO?"),
        ("Who\U000e0041\U000e0042 is the CEO?", "Who is the CEO?"),
        ("Wie is\n\nde CEO?", "Wie is de CEO?"),
    ],
)
def test_clean_question_strips_invisible_and_control_characters(raw, expected):
    assert clean_question(raw, 100) == expected


@pytest.mark.parametrize("raw", ["", "   ", "\n\t", "\u200b\u200b", "\U000e0041"])
def test_empty_question_is_refused(raw):
    with pytest.raises(QuestionError, match="^the question is empty$"):
        clean_question(raw, 100)


def test_huge_question_is_refused_with_its_length(settings):
    pipeline = make_pipeline(settings, "NOT_FOUND")
    with pytest.raises(QuestionError, match=r"^the question is 100,000 characters long; the limit is 2,000$"):
        pipeline.answer("a" * 100_000)


@pytest.mark.parametrize(
    "question, history, expected",
    [
        ("En Meta?", [Turn("Welke bedrijven stegen?", "Apple [1].")], True),
        ("What about Apple?", [Turn("Who lost most?", "Nvidia [1].")], True),
        ("Hoeveel verloor hij?", [Turn("Wie is Jensen Huang?", "De oprichter [1].")], True),
        ("Welke bedrijven zagen hun beurswaarde stijgen op maandag 27 januari?", [Turn("Q", "A")], False),
        ("En Meta?", [], False),
    ],
)
def test_needs_rewrite(question, history, expected):
    assert needs_rewrite(question, history) is expected


def test_the_not_found_signal_is_never_streamed_to_the_reader(settings):
    pipeline = make_pipeline(settings, "NOT_FOUND")

    events = list(pipeline.stream("Wie richtte DeepSeek op?"))

    assert not [e for e in events if isinstance(e, TextGenerated)]
    assert events[-1].answer.abstained


def test_a_rewrite_that_drops_the_follow_up_falls_back_to_joining(settings):
    generator = ScriptedGenerator(["Hoeveel verloor Jensen Huang maandag?", "NOT_FOUND"])
    pipeline = Pipeline(settings, embedder=FakeEmbedder(), generator=generator)

    answer = pipeline.answer("En Larry Ellison?", [Turn("Hoeveel verloor Jensen Huang maandag?", "20,1 miljard [1].")])

    assert answer.standalone_question == "Hoeveel verloor Jensen Huang maandag? En Larry Ellison?"


def test_docstring_examples_hold():
    import doctest

    import rag.pipeline

    assert doctest.testmod(rag.pipeline).failed == 0


def test_magnitudes_no_passage_uses_are_passed_to_the_generator_to_avoid(settings):
    pipeline = make_pipeline(settings, "NOT_FOUND")

    pipeline.answer("Hoeveel verloor Nvidia?")

    passages_text = " ".join(p.chunk.text for p in pipeline.retrieve("Hoeveel verloor Nvidia?"))
    assert "589 miljard" in passages_text
    assert pipeline.generator.avoided == [("million", "miljoen", "trillion", "biljoen")]


@pytest.mark.parametrize("reserve", [False, True])
def test_warm_prepares_the_follow_up_prompt_too_only_when_memory_is_reserved(settings, reserve):
    class Warmed(ScriptedGenerator):
        def warm(self, messages):
            self.warmed.append(messages[0].content)

    generator = Warmed("")
    generator.warmed = []
    pipeline = Pipeline(settings.replace(reserve_memory=reserve), embedder=FakeEmbedder(), generator=generator)
    pipeline.build()
    pipeline.warm()
    systems = {"nl": prompts.answer_messages("", (), "nl")[0].content,
               "en": prompts.answer_messages("", (), "en")[0].content,
               "rewrite": prompts.rewrite_messages("", ())[0].content}
    expected = ["nl", "en"] + (["rewrite"] if reserve else [])
    assert generator.warmed == [systems[name] for name in expected]

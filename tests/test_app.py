"""The chat UI with the fake models: the handler's stream, the rendering (escaped, no
remote content) and the `/ask` API through gradio_client on loopback."""

from __future__ import annotations

import socket

import pytest

import app as ui
from rag.feedback import FeedbackStore
from rag.pipeline import Pipeline
from rag.render import answer_text, plain_text, sources_html, status_html
from rag.types import Answer, ArticleMeta, Chunk, Passage, SentenceCheck
from tests.fakes import FakeEmbedder, ScriptedGenerator, scripted_pipeline
from tests.test_pipeline import settings  # noqa: F401  (fixture)


@pytest.fixture
def pipeline(settings):  # noqa: F811
    return scripted_pipeline(settings, "Nvidia verloor 589 miljard dollar [{n}].")


def test_the_handler_shows_sources_first_then_streams_then_the_checked_answer(pipeline):
    updates = list(ui.respond(pipeline, "Hoeveel verloor Nvidia?", [], []))

    chat, sources, turns, box, answer = updates[0]
    assert answer is None
    assert chat[-1] == {"role": "assistant", "content": "Bronnen zoeken…"}
    assert 'id="source-1"' in sources and "Nvidia verliest 589 miljard dollar" in sources
    assert len(updates) > 3  # streamed pieces in between
    chat, sources, turns, box, answer = updates[-1]
    assert answer.question == "Hoeveel verloor Nvidia?"
    assert chat[0] == {"role": "user", "content": "Hoeveel verloor Nvidia?"}
    assert chat[-1]["content"].startswith("Nvidia verloor 589 miljard dollar [")
    assert "<mark>" in sources and 'class="source cited"' in sources
    assert [t.question for t in turns] == ["Hoeveel verloor Nvidia?"]
    assert box == ""


def test_an_abstention_reads_as_one(pipeline):
    *_, (chat, sources, turns, box, _) = ui.respond(pipeline, "What is the capital of Peru?", [], [])
    assert chat[-1]["content"] == "ℹ The articles do not say: I found no passage that answers this question."


def test_an_empty_question_gets_a_message_and_keeps_the_input(pipeline):
    [(chat, _, turns, box, answer)] = list(ui.respond(pipeline, "   ", [], []))
    assert answer is None
    assert chat[-1] == {"role": "assistant", "content": "⚠ the question is empty"}
    assert turns == [] and box == "   "


def test_create_app_builds_without_launching(pipeline, tmp_path):
    app = ui.create_app(pipeline, FeedbackStore(tmp_path / "feedback.sqlite3"))
    assert app.get_config_file()["components"]


ARTICLE = ArticleMeta("x", 'Titel <script>alert(1)</script>', author="<b>Auteur</b>", source=None)


def _passage(text):
    return Passage(Chunk("x:0:a", "x", text, 0, len(text)), ARTICLE, 1.0, ("dense",), 0.9, None)


def test_article_and_model_text_never_become_markup():
    passage = _passage(
        'Zie <img src="https://evil.example/x.png"> en <a href="javascript:alert(1)">hier</a>. '
        "![beeld](https://evil.example/y.png) Het aandeel daalde."
    )
    answer = Answer(
        "q", "nl", "Het aandeel daalde [1].", False, (passage,),
        (SentenceCheck('Het aandeel daalde <script>x</script>.', (1,), True),),
    )
    page = sources_html([passage], "nl", answer)
    assert "<script" not in page and "<img" not in page and "<a " not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Het aandeel daalde.</mark>" in page
    assert "[beeld](https://evil.example/y.png)" in page  # shown as text, never fetched


def test_unsupported_sentences_are_marked_in_the_answer_text():
    answer = Answer(
        "q", "en", "A [1]. B [1].", False, (_passage("A. B."),),
        (SentenceCheck("A.", (1,), True), SentenceCheck("B.", (1,), False, "number 7 not in cited passages [1]")),
    )
    assert answer_text(answer) == "A [1]. ⚠ B [1]. (not confirmed by the source)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_ask_api_answers_through_gradio_client_on_loopback(pipeline, tmp_path):
    from gradio_client import Client

    app = ui.create_app(pipeline, FeedbackStore(tmp_path / "feedback.sqlite3"))
    port = free_port()
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        answer = client.predict("Hoeveel verloor Nvidia?", None, api_name="/ask")
        assert answer["language"] == "nl" and not answer["abstained"]
        assert answer["citations"][0]["article_id"] == "nvidia"
        follow = client.predict(
            "En Apple?", [{"question": "Hoeveel verloor Nvidia?", "answer": answer["answer"]}],
            api_name="/ask",
        )
        assert "standalone_question" in follow
        assert client.predict("", None, api_name="/ask") == {"id": None, "error": "the question is empty"}
    finally:
        app.close()


def test_a_rating_stores_the_answer_with_its_question_and_citations(pipeline, tmp_path):
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    *_, (chat, _, _, _, answer) = ui.respond(pipeline, "Hoeveel verloor Nvidia?", [], [])
    answers = {len(chat) - 1: answer.to_dict()}

    feedback_id, message = ui.rate(store, answers, len(chat) - 1, False, "klopt niet")
    missing, refusal = ui.rate(store, answers, 0, True, "")

    assert message.startswith("Bedankt") and missing is None and "geen antwoord" in refusal
    [row] = list(store.rows())
    assert (row.id, row.rating, row.comment) == (feedback_id, "down", "klopt niet")
    assert row.question == "Hoeveel verloor Nvidia?" and row.citations[0]["article_id"] == "nvidia"


def test_the_articles_view_shows_metadata_and_freshness(pipeline):
    page = status_html(pipeline.index_status())
    assert "actueel / up to date" in page and "<td>nvidia</td>" in page
    (pipeline.settings.docs_dir / "nieuw.txt").write_text("Nieuw artikel\n\nEen nieuwe zin over <b>tulpen</b>.")
    page = status_html(pipeline.index_status())
    assert "verouderd" in page


def test_the_copy_text_holds_the_answer_and_its_sources(pipeline):
    *_, (_, _, _, _, answer) = ui.respond(pipeline, "Hoeveel verloor Nvidia?", [], [])
    text = plain_text(answer)
    assert text.startswith("Nvidia verloor 589 miljard dollar")
    assert "Bronnen:" in text and "nvidia, characters" in text


def test_the_interface_labels_switch_language():
    english = ui.interface_labels("en")
    dutch = ui.interface_labels("nl")
    assert english[0].label == "Ask about the news" and dutch[0].label == "Vraag over het nieuws"
    assert english[2].value == "Ask" and dutch[2].value == "Vraag"
    assert set(ui.UI_TEXT["nl"]) == set(ui.UI_TEXT["en"])


def test_a_second_request_waits_in_the_queue_with_its_position(settings, tmp_path):  # noqa: F811
    import threading

    from gradio_client import Client

    release = threading.Event()

    def slow(messages):
        release.wait(30)
        return "NOT_FOUND"

    pipeline = Pipeline(settings, embedder=FakeEmbedder(), generator=ScriptedGenerator(slow))
    pipeline.build()
    app = ui.create_app(pipeline, FeedbackStore(tmp_path / "feedback.sqlite3"))
    port = free_port()
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        first = Client(f"http://127.0.0.1:{port}/", verbose=False).submit("Wie?", None, api_name="/ask")
        second = Client(f"http://127.0.0.1:{port}/", verbose=False).submit("Wat?", None, api_name="/ask")
        ranks = []
        for _ in range(100):
            status = second.status()
            ranks.append(status.rank)
            if status.rank == 0 and status.code.name == "IN_QUEUE":
                break
            threading.Event().wait(0.1)
        assert 0 in ranks  # the second request is queued behind the first, with a position
        release.set()
        assert first.result(timeout=30)["abstained"] and second.result(timeout=30)["abstained"]
    finally:
        release.set()
        app.close()


def test_startup_progress_is_shown_and_questions_wait_for_it(settings, tmp_path):  # noqa: F811
    pipeline = Pipeline(settings, embedder=FakeEmbedder(), generator=ScriptedGenerator("NOT_FOUND"))
    startup = ui.Startup(pipeline)
    assert startup.message().startswith("⏳ De index wordt gebouwd")
    ui.create_app(pipeline, FeedbackStore(tmp_path / "f.sqlite3"), startup)

    startup.run()

    assert startup.ready.is_set() and startup.message() == ""
    assert pipeline.last_build.reason == "no index"


def test_a_failed_startup_says_why(tmp_path):
    from rag.config import Settings

    pipeline = Pipeline(Settings(docs_dir=tmp_path / "nowhere", index_dir=tmp_path / "i"), embedder=FakeEmbedder())
    startup = ui.Startup(pipeline)
    startup.run()
    assert startup.message() == (
        "⚠ De app kan niet starten; zie het serverlog. / The app cannot start; see the server log."
    )
    assert startup.error == f"articles directory not found: {tmp_path / 'nowhere'}"

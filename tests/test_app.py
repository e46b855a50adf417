"""The chat UI with the fake models: the handler's stream, the rendering (escaped, no
remote content), the `/ask` API through gradio_client on loopback, and the evaluator tab's
handlers over a run directory written into tmp_path."""

from __future__ import annotations

import json
import re
import socket

import pytest

import app as ui
from rag import review_ui
from rag.errors import ModelError
from rag.feedback import FeedbackStore
from rag.labels import LabelStore, SentenceVerdicts, load_answers
from rag.pipeline import Pipeline
from rag.render import answer_text, plain_text, sources_html, status_html
from rag.types import Answer, ArticleMeta, Chunk, Passage, SentenceCheck
from rag.verifier import Verdict, Verifier
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


# --- the evaluator tab ---------------------------------------------------------------------


class FakeVerifier(Verifier):
    """Contradicted when the claim's numbers are missing from the passages, else supported."""

    name = "fake"

    def __init__(self, fail: bool = False):
        self.fail = fail
        self.calls = 0

    def verify(self, claim, passages):
        self.calls += 1
        if self.fail:
            raise ModelError("the NLI model is not installed")
        numbers = re.findall(r"\d+", claim)
        if all(any(n in p for p in passages) for n in numbers):
            return Verdict("supported", 0.875, "every number found")
        return Verdict("contradicted", 0.75, "number missing: <b>600</b>")


@pytest.fixture
def review(pipeline, tmp_path):
    """Settings whose runs_dir holds one run of three answers made by the scripted pipeline
    (two answered, one abstention), and a fresh label store."""
    settings = pipeline.settings.replace(runs_dir=tmp_path / "runs", labels_path=tmp_path / "labels.sqlite3")
    run = settings.runs_dir / "run-1"
    run.mkdir(parents=True)
    answers = [
        pipeline.answer("Hoeveel verloor Nvidia?").to_dict(id="nl-1"),
        pipeline.answer("What is the capital of Peru?").to_dict(id="en-2"),
        pipeline.answer("Hoeveel miljard verloor Nvidia maandag?").to_dict(id="nl-3"),
    ]
    (run / "answers.jsonl").write_text("".join(json.dumps(a) + "\n" for a in answers))
    return settings, LabelStore(settings.labels_path)


def test_the_evaluator_tab_opens_a_run_and_steps_through_its_answers(review):
    settings, store = review
    answers = review_ui.open_answers(settings, run="run-1")
    assert review_ui.opened_message(answers) == "run-1/answers.jsonl: 3 antwoorden, 2 zinnen / 3 answers, 2 sentences"

    view = review_ui.review_view(store, "", answers, 0, 0)
    assert view.position == "Antwoord 1 van 3 / Answer 1 of 3"
    assert "Hoeveel verloor Nvidia?" in view.answer and "Nvidia verloor 589 miljard dollar." in view.sentence
    assert "Nvidia verliest 589 miljard dollar" in view.sentence  # the cited passage's title
    assert view.choices == [("1", 0)] and view.selected == 0 and view.label is None
    assert view.progress == "Vul je naam in om te beoordelen / Enter your name to label"

    assert [review_ui.step(answers, 0, -1), review_ui.step(answers, 0, +1), review_ui.step(answers, 2, +1)] == [0, 1, 2]
    abstention = review_ui.review_view(store, "", answers, 1, 0)
    assert abstention.position == "Antwoord 2 van 3 / Answer 2 of 3"
    assert "No sentences to label" in abstention.answer and abstention.choices == [] and abstention.selected is None
    with pytest.raises(ValueError, match="^choose a run or upload a file of answer objects$"):
        review_ui.open_answers(settings)
    with pytest.raises(ValueError, match="^no run named '../runs/run-1' with an answers.jsonl$"):
        review_ui.open_answers(settings, run="../runs/run-1")


def test_labelling_saves_moves_on_and_counts_progress(review):
    settings, store = review
    answers = review_ui.open_answers(settings, run="run-1")

    assert review_ui.save_label(store, "  ", answers, 0, 0, "supported", "")[2] == (
        '<p class="review-message">⚠ enter your name as evaluator first</p>'
    )
    assert "Kies eerst een oordeel" in review_ui.save_label(store, "Anna", answers, 0, 0, None, "")[2]
    assert list(store.rows()) == []

    position, sentence, message = review_ui.save_label(store, "Anna", answers, 0, 0, "partly_supported", "<b>bijna</b>")
    assert (position, sentence) == (2, 0)  # the abstention has no sentences: skipped
    assert "Saved: sentence 1 of answer 1." in message
    view = review_ui.review_view(store, "Anna", answers, 0, 0)
    assert view.choices == [("1 ✓", 0)] and (view.label, view.note) == ("partly_supported", "<b>bijna</b>")
    assert view.progress == "1 van 2 zinnen beoordeeld / 1 of 2 sentences labelled"
    assert review_ui.review_view(store, "Bram", answers, 0, 0).label is None  # labels are per evaluator

    assert review_ui.next_unlabelled(store, "Anna", answers, 0, 0) == (2, 0)
    position, sentence, message = review_ui.save_label(store, "Anna", answers, 2, 0, "supported", "")
    assert (position, sentence) == (2, 0) and "That was the last sentence." in message
    assert review_ui.next_unlabelled(store, "Anna", answers, 2, 0) is None
    assert review_ui.review_view(store, "Anna", answers, 2, 0).progress.endswith("2 of 2 sentences labelled")


def test_an_uploaded_file_is_its_own_collection_and_broken_uploads_say_where(review, tmp_path):
    settings, store = review
    upload = tmp_path / "upload" / "mijn-antwoorden.jsonl"
    upload.parent.mkdir()
    upload.write_text((settings.runs_dir / "run-1" / "answers.jsonl").read_text())
    answers = review_ui.open_answers(settings, run="run-1", upload=str(upload))
    assert answers.collection.startswith("upload:") and len(answers.collection) == len("upload:") + 12
    assert review_ui.opened_message(answers).startswith("mijn-antwoorden.jsonl: 3 antwoorden")

    upload.write_text('{"question": "Q?", "answer": "A", "passages": [{"text": "t"}]}\nnot json\n')
    with pytest.raises(ValueError, match=r"^mijn-antwoorden\.jsonl:2: not valid JSON"):
        review_ui.open_answers(settings, upload=str(upload))


def test_the_verdict_is_shown_escaped_and_a_broken_verifier_does_not_stop_labelling(review):
    settings, store = review
    answers = review_ui.open_answers(settings, run="run-1")
    verifier = FakeVerifier()
    verdicts = SentenceVerdicts(lambda: verifier)

    shown = review_ui.verdict_view(verdicts, answers, 0, 0)
    assert "ondersteund / supported" in shown and "(score 0.88)" in shown and "fake" in shown
    assert review_ui.verdict_view(verdicts, answers, 1, 0) == ""  # an abstention: nothing to judge
    review_ui.verdict_view(verdicts, answers, 0, 0)
    assert verifier.calls == 1  # the second look is cached

    broken = SentenceVerdicts(lambda: FakeVerifier(fail=True))
    assert "Verifier unavailable: the NLI model is not installed" in review_ui.verdict_view(broken, answers, 0, 0)
    unbuilt = SentenceVerdicts(lambda: (_ for _ in ()).throw(NotImplementedError()))
    assert "Verifier unavailable; see the server log." in review_ui.verdict_view(unbuilt, answers, 0, 0)


def test_the_agreement_view_compares_evaluators_and_the_verifier(review):
    settings, store = review
    answers = review_ui.open_answers(settings, run="run-1")
    verdicts = SentenceVerdicts(FakeVerifier)
    for name, first, second in [("Anna", "supported", "supported"), ("Bram", "supported", "contradicted")]:
        review_ui.save_label(store, name, answers, 0, 0, first, "")
        review_ui.save_label(store, name, answers, 2, 0, second, "")

    page = review_ui.agreement_view(store, answers, verdicts)
    assert "<td>Anna</td><td>Bram</td><td>2</td><td>50%</td>" in page
    assert "<td>Anna</td><td>verifier (fake)</td><td>2</td><td>100%</td><td>1.00</td>" in page
    assert "<td>Bram</td><td>verifier (fake)</td><td>2</td><td>50%</td>" in page
    assert "partly supported and unsupported count as not_enough_info" in page

    without = review_ui.agreement_view(store, answers, SentenceVerdicts(lambda: FakeVerifier(fail=True)))
    assert "verifier" not in without.split("<tbody>")[1] and "Verifier unavailable" in without
    assert "Load answers first" in review_ui.agreement_view(store, None, verdicts)


def test_export_downloads_the_labels_of_this_collection(review, tmp_path):
    settings, store = review
    answers = review_ui.open_answers(settings, run="run-1")
    review_ui.save_label(store, "Anna", answers, 0, 0, "unsupported", "=1+1")
    other = load_answers(settings.runs_dir / "run-1", "x")
    store.save("Anna", "another-run", other.answers[0], 0, "supported")

    path = review_ui.export_labels(store, "csv", answers.collection, tmp_path)
    assert path.name == "labels-run-1.csv" and path.parent.parent == tmp_path
    lines = path.read_text().splitlines()
    assert len(lines) == 2 and lines[1].startswith("Anna,run-1,nl-1,0,unsupported,'=1+1,")
    everything = review_ui.export_labels(store, "jsonl", None, tmp_path)
    assert everything.name == "labels-all.jsonl" and len(everything.read_text().splitlines()) == 2


def test_review_html_never_turns_file_text_into_markup(tmp_path):
    from rag.labels import Agreement
    from rag.review_render import agreement_html, answer_html, sentence_html, verdict_html

    path = tmp_path / "evil.jsonl"
    path.write_text(json.dumps({
        "question": "Wie? <script>alert(1)</script>",
        "answer": 'Zie <img src="https://evil.example/x.png"> [1].',
        "passages": [{"title": "<b>Titel</b>", "text": '<a href="javascript:alert(1)">hier</a> ![x](https://evil.example/y.png)'},
                     {"title": "Ander", "text": "<iframe>"}],
        "sentences": [{"text": "Zie <img src=x onerror=alert(1)>.", "citations": [1]}],
    }))
    answer = load_answers(path).answers[0]
    page = (
        answer_html(answer, 0) + sentence_html(answer, 0)
        + verdict_html(Verdict("supported", 0.5, "<script>"), "<i>v</i>")
        + agreement_html([Agreement("<b>Anna</b>", "Bram", 0, None, None)], "<u>note</u>")
    )
    for tag in ("<script", "<img", "<a ", "<iframe", "<b>", "<i>", "<u>"):
        assert tag not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "![x](https://evil.example/y.png)" in page
    assert "<td>–</td>" in page  # no shared sentences: no agreement, no kappa


def test_create_app_builds_the_evaluator_tab_without_touching_disk_or_models(pipeline, review, tmp_path):
    settings, store = review
    verifier = FakeVerifier()
    app = ui.create_app(pipeline, FeedbackStore(tmp_path / "feedback.sqlite3"), labels=store, verifier=verifier)

    config = app.get_config_file()
    labels = {c["props"].get("label") for c in config["components"]}
    assert "Beoordelen / Evaluate" in labels and "Jouw oordeel / Your label" in labels
    assert not store.path.exists() and verifier.calls == 0
    review_fns = {f.name: f for f in app.fns.values()}
    assert review_fns["on_verdict"].concurrency_id == "model"
    assert review_fns["on_agreement"].concurrency_id == "model"
    tab = [f for f in app.fns.values() if f.name.startswith("on_") or f.name in ("refresh_runs", "view_updates")]
    assert len(tab) > 10 and all(f.api_visibility == "private" for f in tab)


def test_the_tab_handlers_return_one_value_per_output(pipeline, review, tmp_path):
    """The closures create_app wires, called as Gradio calls them: a handler that returns
    the wrong number of values only fails in the browser otherwise."""
    settings, store = review
    pipeline.settings = settings
    app = ui.create_app(pipeline, FeedbackStore(tmp_path / "f.sqlite3"), labels=store, verifier=FakeVerifier())
    fns = {f.name: f for f in app.fns.values()}

    opened = fns["on_open_run"].fn("run-1", "Anna")
    assert len(opened) == len(fns["on_open_run"].outputs)
    answers = opened[0]
    failed = fns["on_open_run"].fn("nope", "Anna")
    assert len(failed) == len(opened) and "no run named" in failed[3]
    saved = fns["on_save"].fn("Anna", answers, 0, 0, "supported", "")
    assert len(saved) == len(fns["on_save"].outputs) and saved[1:3] == (2, 0)
    for name, args in [("on_next", ("Anna", answers, 0)), ("on_previous", ("Anna", answers, 0)),
                       ("on_sentence", (0, "Anna", answers, 0)), ("on_unlabelled", ("Anna", answers, 0, 0))]:
        assert len(fns[name].fn(*args)) == len(fns[name].outputs), name
    assert "ondersteund / supported" in fns["on_verdict"].fn(answers, 0, 0)
    assert "<td>Anna</td>" in fns["on_agreement"].fn(answers)
    assert fns["on_export_csv"].fn(answers, True).endswith("labels-run-1.csv")


def test_without_a_verifier_the_tab_builds_the_configured_one_over_the_pipelines_models(pipeline, review, tmp_path):
    settings, store = review
    pipeline.settings = settings
    app = ui.create_app(pipeline, FeedbackStore(tmp_path / "f.sqlite3"), labels=store)
    fns = {f.name: f for f in app.fns.values()}
    answers = fns["on_open_run"].fn("run-1", "Anna")[0]

    shown = fns["on_verdict"].fn(answers, 0, 0)

    assert f"Controle / Verifier ({settings.verifier})" in shown and "(score " in shown

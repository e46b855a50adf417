"""The chat UI: `python app.py` serves it on 127.0.0.1 (RAG_HOST, RAG_PORT).

Thin by design: `create_app()` wires a Pipeline to Gradio components; rendering lives in
`rag.render` and `rag.review_render`, labels in `rag.labels`, everything else in
`rag.pipeline`. The sources appear as soon as retrieval is done, then the answer streams,
then the checked answer replaces the raw text. One answer is generated at a time (one local
model); others wait in a bounded queue. The evaluator tab ("Beoordelen / Evaluate") steps
through saved answer objects one sentence at a time and stores each evaluator's label. The
summary tab ("Samenvatting / Summary", `rag.summary_ui`) makes a cited newsroom briefing of
chosen articles with a Markdown download.
"""

from __future__ import annotations

import html
import logging
import sys
import threading
from typing import Iterator

import gradio as gr

from rag.config import Settings
from rag.errors import QuestionError, RagError
from rag.feedback import FeedbackStore
from rag.labels import MAX_ANSWERS_BYTES, LabelStore, SentenceVerdicts
from rag.language import detect_language
from rag.pipeline import AnswerReady, PassagesFound, Pipeline, TextGenerated
from rag.render import LABELS, answer_text, chat_text, plain_text, sources_html, status_html
from rag.review_ui import evaluator_tab
from rag.summary_ui import summary_tab
from rag.types import Answer, Turn
from rag.verifier import Verifier

log = logging.getLogger(__name__)

EXAMPLES = [
    "Hoeveel beurswaarde verloor Nvidia op 27 januari?",
    "Waarom kreeg de app van DeepSeek zoveel aandacht?",
    "Which tech companies saw their value rise on the day Nvidia fell?",
    "Who wrote the opinion piece Deepshift?",
]

UI_TEXT: dict[str, dict[str, str]] = {
    "nl": {
        "chat": "Vraag over het nieuws",
        "placeholder": "Stel een vraag in het Nederlands of Engels…",
        "send": "Vraag",
        "new": "Nieuw gesprek",
        "copy": "Antwoord met bronnen, om te kopiëren",
        "comment": "Opmerking bij je beoordeling (optioneel)",
        "save_comment": "Opmerking opslaan",
    },
    "en": {
        "chat": "Ask about the news",
        "placeholder": "Ask a question in Dutch or English…",
        "send": "Ask",
        "new": "New conversation",
        "copy": "Answer with sources, to copy",
        "comment": "Comment on your rating (optional)",
        "save_comment": "Save comment",
    },
}
INTERFACE_LANGUAGES = {"Nederlands": "nl", "English": "en"}

FAILED = {
    "nl": "Er ging iets mis bij het beantwoorden. Probeer het opnieuw.",
    "en": "Something went wrong while answering. Please try again.",
}

CSS = """
.source { border: 1px solid #ccc; border-radius: 6px; padding: 8px; margin: 6px 0; }
.source.cited { border-color: #2a6; }
.source .marker { font-weight: bold; color: #2a6; }
.source-meta { font-size: 0.85em; color: #666; }
.source mark { background: #fff3a0; }
.review-sentences li.current { background: #eef7f1; font-weight: bold; }
.review-sentences .markers, .review-note { color: #666; }
.review-sentence blockquote.claim { border-left: 4px solid #2a6; margin: 6px 0; padding: 4px 10px; }
.verdict.contradicted { color: #b00; } .verdict.supported { color: #2a6; }
.agreement table td, .agreement table th { padding: 2px 8px; }
.briefing .flag, .briefing-notice.warning { color: #b00; }
.briefing .markers, .briefing .speaker { color: #2a6; font-weight: bold; }
.briefing table td, .briefing table th { padding: 2px 8px; vertical-align: top; }
.briefing blockquote.quote { border-left: 4px solid #2a6; margin: 6px 0; padding: 4px 10px; }
"""

def respond(
    pipeline: Pipeline, question: str, chat: list[dict], turns: list[Turn]
) -> Iterator[tuple[list[dict], str, list[Turn], str, Answer | None]]:
    """The chat handler: yields (chat messages, sources HTML, conversation, input box, the
    checked answer once it is ready)."""
    language = detect_language(question or "")
    chat = [*chat, {"role": "user", "content": chat_text(question)}]
    try:
        for event in pipeline.stream(question, turns):
            if isinstance(event, PassagesFound):
                shown = ""
                chat = [*chat, {"role": "assistant", "content": LABELS[language]["searching"]}]
                yield chat, sources_html(event.passages, event.language), turns, "", None
            elif isinstance(event, TextGenerated):
                shown += event.text
                chat = [*chat[:-1], {"role": "assistant", "content": chat_text(shown)}]
                yield chat, gr.skip(), turns, "", None
            elif isinstance(event, AnswerReady):
                answer = event.answer
                chat = [*chat[:-1], {"role": "assistant", "content": answer_text(answer)}]
                turns = [*turns, Turn(answer.question, answer.text)]
                sources = sources_html(answer.passages, answer.language, answer)
                yield chat, sources, turns, "", answer
    except QuestionError as error:
        chat = [*chat, {"role": "assistant", "content": f"⚠ {error}"}]
        yield chat, gr.skip(), turns, question, None
    except RagError as error:
        log.warning("answering failed: %s", error)
        chat = [*chat, {"role": "assistant", "content": FAILED[language]}]
        yield chat, gr.skip(), turns, question, None


class Startup:
    """Builds the index and loads the models in the background while the page is already
    up, so a reader sees what is happening instead of a dead address."""

    MESSAGES = {
        "index": "⏳ De index wordt gebouwd… / Building the index…",
        "models": "⏳ De modellen worden geladen… / Loading the models…",
        "ready": "",
    }

    def __init__(self, pipeline: Pipeline):
        self.pipeline = pipeline
        self.stage = "index"
        self.error: str | None = None
        self.ready = threading.Event()

    def run(self) -> None:
        try:
            print(self.pipeline.build().summary(), flush=True)
            self.stage = "models"
            self.pipeline.warm()
            self.stage = "ready"
        except RagError as error:
            self.error = str(error)
            log.error("start-up failed: %s", error)
        finally:
            self.ready.set()

    def message(self) -> str:
        if self.error:  # the details (paths) go to the server log, not to readers
            return "⚠ De app kan niet starten; zie het serverlog. / The app cannot start; see the server log."
        return self.MESSAGES[self.stage]


def rate(
    store: FeedbackStore, answers: dict, index: int, liked: bool, comment: str
) -> tuple[int | None, str]:
    """Store a thumbs up/down for the answer at chat position `index`."""
    answer = answers.get(index)
    if answer is None:
        return None, "Er is geen antwoord om te beoordelen. / There is no answer to rate."
    feedback_id = store.add(answer, "up" if liked else "down", comment or "")
    return feedback_id, "Bedankt voor je feedback. / Thank you for your feedback."


def interface_labels(language: str) -> tuple:
    """Updates that put the interface's own labels in `language` ("nl" or "en")."""
    text = UI_TEXT[language]
    return (
        gr.Chatbot(label=text["chat"]),
        gr.Textbox(placeholder=text["placeholder"]),
        gr.Button(text["send"]),
        gr.Button(text["new"]),
        gr.Textbox(label=text["copy"]),
        gr.Textbox(label=text["comment"]),
        gr.Button(text["save_comment"]),
    )


def create_app(
    pipeline: Pipeline,
    feedback: FeedbackStore | None = None,
    startup: Startup | None = None,
    labels: LabelStore | None = None,
    verifier: Verifier | None = None,
) -> gr.Blocks:
    """The UI over `pipeline`. With `startup`, the page shows its progress and questions
    wait for it to finish. `labels` stores the evaluator tab's labels (default: at
    settings.labels_path); `verifier` judges the sentences there (default: the one settings
    name, built on first use over the pipeline's models)."""
    settings = pipeline.settings
    store = feedback or FeedbackStore(settings.feedback_path)
    label_store = labels or LabelStore(settings.labels_path)

    def build_verifier() -> Verifier:
        if verifier is not None:
            return verifier
        from rag.verifier import make_verifier

        return make_verifier(settings, pipeline.embedder, lambda: pipeline.generator)

    verdicts = SentenceVerdicts(build_verifier)

    def chat_handler(question, chat, turns, answers):
        answers = dict(answers or {})
        if startup is not None and not startup.ready.wait(timeout=600):
            chat = [*(chat or []), {"role": "user", "content": chat_text(question)},
                    {"role": "assistant", "content": startup.message()}]
            yield chat, gr.skip(), turns, question, answers, gr.skip()
            return
        for chat, sources, turns, box, answer in respond(pipeline, question, chat or [], turns or []):
            if answer is None:
                yield chat, sources, turns, box, answers, gr.skip()
                continue
            answers[len(chat) - 1] = answer.to_dict()
            yield chat, sources, turns, box, answers, plain_text(answer)

    def on_like(answers, comment, data: gr.LikeData):
        index = data.index if isinstance(data.index, int) else data.index[0]
        feedback_id, message = rate(store, answers or {}, index, data.liked is True, comment)
        return feedback_id, message, "" if feedback_id else comment

    def on_comment(feedback_id, comment):
        if feedback_id is None or not (comment or "").strip():
            return "Beoordeel eerst een antwoord met duim omhoog of omlaag. / Rate an answer first."
        store.comment(feedback_id, comment)
        return "Opmerking opgeslagen. / Comment saved."

    def ask(question: str, history: list[dict] | None = None) -> dict:
        """One answer object, the same as `python -m rag ask --json`. `history`: earlier
        turns as [{"question": ..., "answer": ...}]."""
        turns = [Turn(str(t["question"]), str(t["answer"])) for t in history or []]
        if startup is not None and (not startup.ready.wait(timeout=600) or startup.error):
            return {"id": None, "error": startup.message()}
        try:
            return pipeline.answer(question, turns).to_dict()
        except RagError as error:
            return {"id": None, "error": str(error)}

    def show_status() -> str:
        try:
            return status_html(pipeline.index_status())
        except RagError as error:
            return f"<p>{html.escape(str(error))}</p>"

    with gr.Blocks(title="Nieuwsvragen", fill_height=True) as app:
        turns = gr.State([])
        answers = gr.State({})  # chat position -> answer object, for feedback
        last_feedback = gr.State(None)
        text = UI_TEXT["nl"]
        if startup is not None:
            progress = gr.Markdown(startup.message(), elem_id="startup")
            timer = gr.Timer(1.0)
            timer.tick(
                lambda: (startup.message(), gr.Timer(active=not startup.ready.is_set())),
                None,
                [progress, timer],
                api_visibility="private",
                queue=False,
            )
        interface = gr.Radio(
            list(INTERFACE_LANGUAGES), value="Nederlands", show_label=False, container=False
        )
        with gr.Tab("Vragen / Ask"), gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    label=text["chat"],
                    render_markdown=False,
                    sanitize_html=True,
                    height=480,
                    feedback_options=("Like", "Dislike"),
                )
                question = gr.Textbox(
                    placeholder=text["placeholder"],
                    show_label=False,
                    max_length=settings.max_question_chars,
                )
                with gr.Row():
                    send = gr.Button(text["send"], variant="primary")
                    new = gr.Button(text["new"])
                gr.Examples(EXAMPLES, inputs=question)
                copy_box = gr.Textbox(
                    label=text["copy"],
                    lines=4,
                    interactive=False,
                    buttons=["copy"],
                )
                with gr.Accordion("Feedback", open=False):
                    comment = gr.Textbox(
                        label=text["comment"], max_length=2000
                    )
                    save_comment = gr.Button(text["save_comment"])
                    feedback_status = gr.Markdown()
            with gr.Column(scale=2):
                sources = gr.HTML(elem_id="sources")
        with gr.Tab("Artikelen / Articles") as articles_tab:
            status = gr.HTML(elem_id="index-status")
        articles_tab.select(show_status, None, status, api_visibility="private")
        evaluator_tab(settings, label_store, verdicts, startup)
        summary_tab(pipeline, startup)
        interface.change(
            lambda choice: interface_labels(INTERFACE_LANGUAGES[choice]),
            interface,
            [chatbot, question, send, new, copy_box, comment, save_comment],
            api_visibility="private",
        )
        outputs = [chatbot, sources, turns, question, answers, copy_box]
        for trigger in (question.submit, send.click):
            trigger(
                chat_handler,
                [question, chatbot, turns, answers],
                outputs,
                api_visibility="private",
                concurrency_id="model",
            )
        new.click(lambda: ([], "", [], "", {}, ""), None, outputs, api_visibility="private")
        chatbot.like(
            on_like, [answers, comment], [last_feedback, feedback_status, comment],
            api_visibility="private",
        )
        save_comment.click(
            on_comment, [last_feedback, comment], feedback_status, api_visibility="private"
        )
        gr.api(ask, api_name="ask", concurrency_id="model")
    app.queue(max_size=settings.queue_size, default_concurrency_limit=1, api_open=False)
    return app


# How the app is served, shared with the load test so it measures what readers get.
LAUNCH_OPTIONS = dict(
    show_error=False,  # tracebacks go to the server log, not to readers
    enable_monitoring=False,
    css=CSS,
    max_file_size=MAX_ANSWERS_BYTES,  # the only upload is the evaluator tab's answers file
    state_session_capacity=1000,  # sessions kept in memory (least recently used dropped first)
)


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env()
    except RagError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    pipeline = Pipeline(settings)
    startup = Startup(pipeline)
    # The evaluator tab's verifier is not passed: create_app builds the configured one
    # (make_verifier over pipeline.embedder/generator) the first time a verdict is needed.
    app = create_app(
        pipeline,
        FeedbackStore(settings.feedback_path),
        startup,
        labels=LabelStore(settings.labels_path),
    )
    app.launch(server_name=settings.host, server_port=settings.port, prevent_thread_lock=True, **LAUNCH_OPTIONS)
    startup.run()
    if startup.error:
        print(f"error: {startup.error}", file=sys.stderr)
    app.block_thread()
    return 0


if __name__ == "__main__":
    sys.exit(main())

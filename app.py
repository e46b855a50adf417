"""The chat UI: `python app.py` serves it on 127.0.0.1 (RAG_HOST, RAG_PORT).

Thin by design: `create_app()` wires a Pipeline to Gradio components; rendering lives in
`rag.render`, everything else in `rag.pipeline`. The sources appear as soon as retrieval is
done, then the answer streams, then the checked answer replaces the raw text. One answer
is generated at a time (one local model); others wait in a bounded queue.
"""

from __future__ import annotations

import logging
import sys
from typing import Iterator

import gradio as gr

from rag.config import Settings
from rag.errors import QuestionError, RagError
from rag.language import detect_language
from rag.pipeline import AnswerReady, PassagesFound, Pipeline, TextGenerated
from rag.render import LABELS, answer_text, sources_html
from rag.types import Turn

log = logging.getLogger(__name__)

EXAMPLES = [
    "Hoeveel beurswaarde verloor Nvidia op 27 januari?",
    "Waarom kreeg de app van DeepSeek zoveel aandacht?",
    "Which tech companies saw their value rise on the day Nvidia fell?",
    "Who wrote the opinion piece Deepshift?",
]

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
"""


def respond(
    pipeline: Pipeline, question: str, chat: list[dict], turns: list[Turn]
) -> Iterator[tuple[list[dict], str, list[Turn], str]]:
    """The chat handler: yields (chat messages, sources HTML, conversation, input box)."""
    language = detect_language(question or "")
    chat = [*chat, {"role": "user", "content": question}]
    try:
        for event in pipeline.stream(question, turns):
            if isinstance(event, PassagesFound):
                shown = ""
                chat = [*chat, {"role": "assistant", "content": LABELS[language]["searching"]}]
                yield chat, sources_html(event.passages, event.language), turns, ""
            elif isinstance(event, TextGenerated):
                shown += event.text
                chat = [*chat[:-1], {"role": "assistant", "content": shown}]
                yield chat, gr.skip(), turns, ""
            elif isinstance(event, AnswerReady):
                answer = event.answer
                chat = [*chat[:-1], {"role": "assistant", "content": answer_text(answer)}]
                turns = [*turns, Turn(answer.question, answer.text)]
                yield chat, sources_html(answer.passages, answer.language, answer), turns, ""
    except QuestionError as error:
        chat = [*chat, {"role": "assistant", "content": f"⚠ {error}"}]
        yield chat, gr.skip(), turns, question
    except RagError as error:
        log.warning("answering failed: %s", error)
        chat = [*chat, {"role": "assistant", "content": FAILED[language]}]
        yield chat, gr.skip(), turns, question


def create_app(pipeline: Pipeline) -> gr.Blocks:
    settings = pipeline.settings

    def chat_handler(question, chat, turns):
        yield from respond(pipeline, question, chat or [], turns or [])

    def ask(question: str, history: list[dict] | None = None) -> dict:
        """One answer object, the same as `python -m rag ask --json`. `history`: earlier
        turns as [{"question": ..., "answer": ...}]."""
        turns = [Turn(str(t["question"]), str(t["answer"])) for t in history or []]
        try:
            return pipeline.answer(question, turns).to_dict()
        except RagError as error:
            return {"id": None, "error": str(error)}

    with gr.Blocks(title="Nieuwsvragen", fill_height=True) as app:
        turns = gr.State([])
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    label="Vraag over het nieuws / Ask about the news",
                    render_markdown=False,
                    sanitize_html=True,
                    height=480,
                )
                question = gr.Textbox(
                    placeholder="Stel een vraag in het Nederlands of Engels…",
                    show_label=False,
                    max_length=settings.max_question_chars,
                )
                with gr.Row():
                    send = gr.Button("Vraag / Ask", variant="primary")
                    new = gr.Button("Nieuw gesprek / New conversation")
                gr.Examples(EXAMPLES, inputs=question)
            with gr.Column(scale=2):
                sources = gr.HTML(elem_id="sources")
        outputs = [chatbot, sources, turns, question]
        for trigger in (question.submit, send.click):
            trigger(
                chat_handler,
                [question, chatbot, turns],
                outputs,
                api_visibility="private",
                concurrency_id="model",
            )
        new.click(lambda: ([], "", [], ""), None, outputs, api_visibility="private")
        gr.api(ask, api_name="ask", concurrency_id="model")
    app.queue(max_size=settings.queue_size, default_concurrency_limit=1, api_open=False)
    return app


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env()
        pipeline = Pipeline(settings)
        print("Index: " + pipeline.build().summary(), flush=True)
        print("Loading the models…", flush=True)
        pipeline.warm()
    except RagError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    app = create_app(pipeline)
    app.launch(
        server_name=settings.host,
        server_port=settings.port,
        show_error=False,
        enable_monitoring=False,
        css=CSS,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

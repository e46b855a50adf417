"""The chat UI: `python app.py` serves it on 127.0.0.1 (RAG_HOST, RAG_PORT).

Thin by design: `create_app()` wires a Pipeline to Gradio components; rendering lives in
`rag.render` and `rag.review_render`, labels in `rag.labels`, everything else in
`rag.pipeline`. The sources appear as soon as retrieval is done, then the answer streams,
then the checked answer replaces the raw text. One answer is generated at a time (one local
model); others wait in a bounded queue. The evaluator tab ("Beoordelen / Evaluate") steps
through saved answer objects one sentence at a time and stores each evaluator's label.
"""

from __future__ import annotations

import html
import logging
import re
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Literal

import gradio as gr

from rag.config import Settings
from rag.errors import QuestionError, RagError
from rag.feedback import FeedbackStore
from rag.labels import (
    MAX_ANSWERS_BYTES,
    MAX_EVALUATOR_CHARS,
    MAX_NOTE_CHARS,
    AnswerSet,
    LabelStore,
    SentenceVerdicts,
    agreement_table,
    clean_evaluator,
    load_answers,
    open_run,
    run_names,
)
from rag.language import detect_language
from rag.pipeline import AnswerReady, PassagesFound, Pipeline, TextGenerated
from rag.render import LABELS, answer_text, plain_text, sources_html, status_html
from rag.review_render import (
    agreement_html,
    answer_html,
    message_html,
    position_text,
    progress_text,
    sentence_html,
    verdict_html,
)
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
"""

SENTENCE_LABEL_CHOICES = [
    ("ondersteund / supported", "supported"),
    ("deels ondersteund / partly supported", "partly_supported"),
    ("niet ondersteund / unsupported", "unsupported"),
    ("in tegenspraak / contradicted", "contradicted"),
]
CHECKING = '<p class="verdict">Controle loopt… / Verifier checking…</p>'


def respond(
    pipeline: Pipeline, question: str, chat: list[dict], turns: list[Turn]
) -> Iterator[tuple[list[dict], str, list[Turn], str, Answer | None]]:
    """The chat handler: yields (chat messages, sources HTML, conversation, input box, the
    checked answer once it is ready)."""
    language = detect_language(question or "")
    chat = [*chat, {"role": "user", "content": question}]
    try:
        for event in pipeline.stream(question, turns):
            if isinstance(event, PassagesFound):
                shown = ""
                chat = [*chat, {"role": "assistant", "content": LABELS[language]["searching"]}]
                yield chat, sources_html(event.passages, event.language), turns, "", None
            elif isinstance(event, TextGenerated):
                shown += event.text
                chat = [*chat[:-1], {"role": "assistant", "content": shown}]
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


# --- the evaluator tab: small functions the handlers call and the tests call directly -----


@dataclass(frozen=True)
class ReviewView:
    """What the evaluator tab shows for one sentence of one answer."""

    position: str  # "Antwoord 3 van 18 / Answer 3 of 18"
    answer: str  # HTML: question, answer, numbered sentences
    sentence: str  # HTML: the sentence under review and its cited passages
    choices: list[tuple[str, int]]  # the sentence selector: "2 ✓" once labelled
    selected: int | None  # the sentence under review; None when the answer has none
    label: str | None  # this evaluator's saved label of it
    note: str
    progress: str  # "12 van 40 zinnen beoordeeld / 12 of 40 sentences labelled"


def _evaluator_or_none(evaluator: str | None) -> str | None:
    try:
        return clean_evaluator(evaluator)
    except ValueError:
        return None


def review_view(
    store: LabelStore, evaluator: str | None, answers: AnswerSet | None, position: int, sentence: int
) -> ReviewView:
    if answers is None:
        return ReviewView(position_text(None, 0), "", "", [], None, None, "", "")
    answer = answers.answers[position]
    name = _evaluator_or_none(evaluator)
    saved = store.labels(name, answers.collection) if name else {}
    mine = saved.get((answer.key, sentence))
    return ReviewView(
        position=position_text(answers, position),
        answer=answer_html(answer, sentence),
        sentence=sentence_html(answer, sentence),
        choices=[
            (f"{i + 1} ✓" if (answer.key, i) in saved else f"{i + 1}", i)
            for i in range(len(answer.sentences))
        ],
        selected=sentence if answer.sentences else None,
        label=mine.label if mine else None,
        note=mine.note if mine else "",
        progress=progress_text(store.progress(name, answers) if name else None),
    )


def open_answers(settings: Settings, run: str | None = None, upload: str | None = None) -> AnswerSet:
    """The answers of an uploaded file, else of the chosen run; ValueError says what is wrong."""
    if upload:
        return load_answers(Path(upload), Path(upload).name, MAX_ANSWERS_BYTES)
    if run:
        return open_run(settings.runs_dir, run, MAX_ANSWERS_BYTES)
    raise ValueError("choose a run or upload a file of answer objects")


def opened_message(answers: AnswerSet) -> str:
    text = (
        f"{answers.name}: {len(answers.answers)} antwoorden, {answers.total_sentences} zinnen / "
        f"{len(answers.answers)} answers, {answers.total_sentences} sentences"
    )
    if answers.skipped:
        text += (
            f" · {len(answers.skipped)} foutregels overgeslagen / error records skipped"
            f" ({answers.skipped[0]}{', …' if len(answers.skipped) > 1 else ''})"
        )
    return text


def step(answers: AnswerSet | None, position: int, delta: int) -> int:
    """The answer position `delta` away, kept within the answers."""
    if answers is None:
        return 0
    return min(max(position + delta, 0), len(answers.answers) - 1)


def following(answers: AnswerSet, position: int, sentence: int) -> tuple[int, int] | None:
    """The next sentence in reading order (skipping answers without sentences), or None."""
    if sentence + 1 < len(answers.answers[position].sentences):
        return position, sentence + 1
    for later in range(position + 1, len(answers.answers)):
        if answers.answers[later].sentences:
            return later, 0
    return None


def next_unlabelled(
    store: LabelStore, evaluator: str | None, answers: AnswerSet, position: int, sentence: int
) -> tuple[int, int] | None:
    """The first sentence after this one (wrapping around) the evaluator has not labelled."""
    saved = store.labels(clean_evaluator(evaluator), answers.collection)
    order = [(p, i) for p, a in enumerate(answers.answers) for i in range(len(a.sentences))]
    start = next((k + 1 for k, spot in enumerate(order) if spot == (position, sentence)), 0)
    for p, i in order[start:] + order[:start]:
        if (answers.answers[p].key, i) not in saved:
            return p, i
    return None


LOAD_FIRST = "Laad eerst antwoorden. / Load answers first."


def save_label(
    store: LabelStore,
    evaluator: str | None,
    answers: AnswerSet | None,
    position: int,
    sentence: int,
    label: str | None,
    note: str | None,
) -> tuple[int, int, str]:
    """Store the evaluator's label of the sentence under review and move on to the next
    sentence. Returns (position, sentence, message HTML)."""
    if answers is None:
        return position, sentence, message_html(LOAD_FIRST, True)
    if label is None:
        return position, sentence, message_html("Kies eerst een oordeel. / Choose a label first.", True)
    answer = answers.answers[position]
    try:
        store.save(evaluator or "", answers.collection, answer, sentence, label, note or "")
    except ValueError as error:
        return position, sentence, message_html(str(error), True)
    saved = (
        f"Opgeslagen: zin {sentence + 1} van antwoord {position + 1}. / "
        f"Saved: sentence {sentence + 1} of answer {position + 1}."
    )
    after = following(answers, position, sentence)
    if after is None:
        last = " Dit was de laatste zin. / That was the last sentence."
        return position, sentence, message_html(saved + last)
    return *after, message_html(saved)


def verdict_view(
    verdicts: SentenceVerdicts, answers: AnswerSet | None, position: int, sentence: int
) -> str:
    """The verifier's verdict on the sentence under review, or why there is none."""
    if answers is None or not answers.answers[position].sentences:
        return ""
    try:
        verdict = verdicts(answers.answers[position], sentence)
        return verdict_html(verdict, verdicts.name)
    except RagError as error:
        log.warning("verifier failed: %s", error)
        return message_html(f"Controle niet beschikbaar / Verifier unavailable: {error}", True)
    except Exception:  # an optional aid: labelling goes on without it
        log.exception("verifier failed")
        return message_html(
            "Controle niet beschikbaar; zie het serverlog. / Verifier unavailable; see the server log.",
            True,
        )


def agreement_view(
    store: LabelStore, answers: AnswerSet | None, verdicts: SentenceVerdicts | None
) -> str:
    """The agreement table of the loaded collection: evaluator pairs, then each evaluator
    against the verifier (left out, with a note, when the verifier is unavailable)."""
    if answers is None:
        return message_html(LOAD_FIRST, True)
    rows = list(store.rows(answers.collection))
    note = ""
    labels, name = None, "verifier"
    if verdicts is not None:
        try:
            labels = verdicts.labels(answers, {row.key for row in rows})
            name = f"verifier ({verdicts.name})"
        except Exception as error:  # an optional column: the evaluator pairs still count
            log.warning("verifier failed: %s", error)
            note = (
                "Controle niet beschikbaar; alleen beoordelaars. / "
                "Verifier unavailable; evaluators only."
            )
    mapping = (
        "Beoordelaar tegen controle: deels/niet ondersteund telt als not_enough_info. / "
        "Evaluator vs verifier: partly supported and unsupported count as not_enough_info."
    )
    return agreement_html(agreement_table(rows, labels, name), note or mapping)


def export_labels(
    store: LabelStore,
    format: Literal["csv", "jsonl"],
    collection: str | None = None,
    directory: Path | None = None,
) -> Path:
    """Write the labels (of `collection`, or all) to a fresh file for download."""
    folder = Path(tempfile.mkdtemp(prefix="rag-labels-", dir=directory))
    safe = re.sub(r"[^A-Za-z0-9_-]+", "-", collection or "all").strip("-")
    path = folder / f"labels-{safe}.{format}"
    with path.open("w", encoding="utf-8", newline="") as out:
        store.export(out, format, collection)
    return path


def evaluator_tab(
    settings: Settings, store: LabelStore, verdicts: SentenceVerdicts, startup: Startup | None
) -> None:
    """The "Beoordelen / Evaluate" tab, built inside the caller's Blocks: one sentence of one
    answer at a time (the components stay fixed), its label saved per evaluator; the
    verifier's verdict follows each move through the model queue."""
    with gr.Tab("Beoordelen / Evaluate") as review_tab:
        review_answers = gr.State(None)  # the AnswerSet under review
        review_position = gr.State(0)  # answer index
        review_sentence = gr.State(0)  # sentence index within the answer
        with gr.Row():
            evaluator = gr.Textbox(
                label="Je naam / Your name", max_length=MAX_EVALUATOR_CHARS, scale=1
            )
            run = gr.Dropdown(
                run_names(settings.runs_dir), value=None,
                label="Evaluatierun / Evaluation run", scale=2,
            )
            refresh = gr.Button("↻ Runs", scale=0, min_width=80)
            upload = gr.File(
                label="Of upload antwoorden (.jsonl/.json) / Or upload answers",
                file_types=[".jsonl", ".json"], type="filepath", scale=2, height=140,
            )
        review_status = gr.HTML()
        with gr.Row():
            previous_answer = gr.Button("← Vorig antwoord / Previous answer")
            position = gr.HTML(position_text(None, 0))
            next_answer = gr.Button("Volgend antwoord / Next answer →")
        with gr.Row():
            with gr.Column(scale=1):
                answer_view = gr.HTML()
            with gr.Column(scale=1):
                sentence_choice = gr.Radio(
                    [], label="Zin / Sentence", type="value", interactive=True
                )
                sentence_view = gr.HTML()
                verdict = gr.HTML()
                label_choice = gr.Radio(
                    SENTENCE_LABEL_CHOICES, value=None, label="Jouw oordeel / Your label"
                )
                note = gr.Textbox(
                    label="Notitie (optioneel) / Note (optional)", max_length=MAX_NOTE_CHARS,
                    lines=2,
                )
                with gr.Row():
                    save_label_button = gr.Button(
                    "Opslaan en verder / Save and next", variant="primary"
                )
                    unlabelled = gr.Button("Volgende onbeoordeelde / Next unlabelled")
                progress_view = gr.HTML()
        with gr.Accordion("Overeenstemming en export / Agreement and export", open=False):
            compute_agreement = gr.Button("Overeenstemming berekenen / Compute agreement")
            agreement = gr.HTML()
            only_these = gr.Checkbox(True, label="Alleen deze antwoorden / Only these answers")
            with gr.Row():
                export_csv = gr.Button("Export CSV")
                export_jsonl = gr.Button("Export JSONL")
            download = gr.File(label="Download", interactive=False)

    view_outputs = [
        position, answer_view, sentence_view, sentence_choice, label_choice, note, progress_view,
    ]
    moved_outputs = [
        review_answers, review_position, review_sentence, review_status, *view_outputs, verdict,
    ]

    def view_updates(evaluator_name, answers, at, sentence) -> tuple:
        view = review_view(store, evaluator_name, answers, at, sentence)
        return (
            view.position, view.answer, view.sentence,
            gr.Radio(choices=view.choices, value=view.selected),
            view.label, view.note, view.progress,
        )

    def moved(evaluator_name, answers, at, sentence, message: str | None = None) -> tuple:
        """State, status, view and a verdict placeholder for the sentence now under review."""
        shown = view_updates(evaluator_name, answers, at, sentence)
        has_sentence = answers is not None and bool(answers.answers[at].sentences)
        status = gr.skip() if message is None else message
        return (answers, at, sentence, status, *shown, CHECKING if has_sentence else "")

    def opened(run_name, upload_path, evaluator_name):
        try:
            answers = open_answers(settings, run_name, upload_path)
        except ValueError as error:
            skip = [gr.skip()] * (len(moved_outputs) - 4)
            return (gr.skip(), gr.skip(), gr.skip(), message_html(str(error), True), *skip)
        return moved(evaluator_name, answers, 0, 0, message_html(opened_message(answers)))

    def on_open_run(run_name, evaluator_name):
        return opened(run_name, None, evaluator_name)

    def on_upload(upload_path, evaluator_name):
        return opened(None, upload_path, evaluator_name)

    def on_previous(evaluator_name, answers, at):
        return moved(evaluator_name, answers, step(answers, at, -1), 0, "")

    def on_next(evaluator_name, answers, at):
        return moved(evaluator_name, answers, step(answers, at, +1), 0, "")

    def on_sentence(choice, evaluator_name, answers, at):
        return moved(evaluator_name, answers, at, int(choice or 0))

    def on_save(evaluator_name, answers, at, sentence, label, note_text):
        moved_to = save_label(store, evaluator_name, answers, at, sentence, label, note_text)
        return moved(evaluator_name, answers, *moved_to)

    def on_unlabelled(evaluator_name, answers, at, sentence):
        if answers is None:
            return moved(evaluator_name, answers, at, sentence, message_html(LOAD_FIRST, True))
        try:
            spot = next_unlabelled(store, evaluator_name, answers, at, sentence)
        except ValueError as error:
            return moved(evaluator_name, answers, at, sentence, message_html(str(error), True))
        if spot is None:
            done = message_html("Alles beoordeeld. / Everything is labelled.")
            return moved(evaluator_name, answers, at, sentence, done)
        return moved(evaluator_name, answers, *spot, "")

    def on_verdict(answers, at, sentence):
        if startup is not None and (not startup.ready.wait(timeout=600) or startup.error):
            return message_html(startup.message() or "…", True)
        return verdict_view(verdicts, answers, at, sentence)

    def on_agreement(answers):
        if startup is not None and (not startup.ready.wait(timeout=600) or startup.error):
            return agreement_view(store, answers, None)
        return agreement_view(store, answers, verdicts)

    def exported(format, answers, only):
        collection = answers.collection if (answers is not None and only) else None
        return str(export_labels(store, format, collection))

    def on_export_csv(answers, only):
        return exported("csv", answers, only)

    def on_export_jsonl(answers, only):
        return exported("jsonl", answers, only)

    def show_verdict(event):
        event.then(
            on_verdict, [review_answers, review_position, review_sentence], verdict,
            api_visibility="private", concurrency_id="model",
        )

    def refresh_runs():
        return gr.Dropdown(choices=run_names(settings.runs_dir))

    refresh.click(refresh_runs, None, run, api_visibility="private", queue=False)
    review_tab.select(refresh_runs, None, run, api_visibility="private", queue=False)
    show_verdict(run.input(on_open_run, [run, evaluator], moved_outputs, api_visibility="private"))
    show_verdict(upload.upload(on_upload, [upload, evaluator], moved_outputs, api_visibility="private"))
    position_inputs = [evaluator, review_answers, review_position]
    for button, handler in ((previous_answer, on_previous), (next_answer, on_next)):
        show_verdict(button.click(handler, position_inputs, moved_outputs, api_visibility="private"))
    show_verdict(sentence_choice.input(
        on_sentence, [sentence_choice, *position_inputs], moved_outputs, api_visibility="private"
    ))
    show_verdict(save_label_button.click(
        on_save, [*position_inputs, review_sentence, label_choice, note], moved_outputs,
        api_visibility="private",
    ))
    show_verdict(unlabelled.click(
        on_unlabelled, [*position_inputs, review_sentence], moved_outputs, api_visibility="private"
    ))
    for trigger in (evaluator.submit, evaluator.blur):
        trigger(
            view_updates, [*position_inputs, review_sentence], view_outputs,
            api_visibility="private",
        )
    compute_agreement.click(
        on_agreement, review_answers, agreement, api_visibility="private", concurrency_id="model"
    )
    for button, handler in ((export_csv, on_export_csv), (export_jsonl, on_export_jsonl)):
        button.click(handler, [review_answers, only_these], download, api_visibility="private")


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

        return make_verifier(settings, pipeline.embedder, pipeline.generator)

    verdicts = SentenceVerdicts(build_verifier)

    def chat_handler(question, chat, turns, answers):
        answers = dict(answers or {})
        if startup is not None and not startup.ready.wait(timeout=600):
            chat = [*(chat or []), {"role": "user", "content": question},
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
    app.launch(
        server_name=settings.host,
        server_port=settings.port,
        show_error=False,
        enable_monitoring=False,
        css=CSS,
        prevent_thread_lock=True,
        max_file_size=MAX_ANSWERS_BYTES,  # the only upload is the evaluator tab's answers file
    )
    startup.run()
    if startup.error:
        print(f"error: {startup.error}", file=sys.stderr)
    app.block_thread()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The evaluator tab ("Beoordelen / Evaluate"): evaluators step through saved answer objects
one sentence at a time, see each sentence beside its cited passages and the verifier's
verdict, and label it. Handlers are thin; the pure functions here are what tests call, the
storage and statistics live in `rag.labels`, the HTML in `rag.review_render`.
"""

from __future__ import annotations

import logging
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
import threading
from typing import Literal, Protocol

import gradio as gr

from rag.config import Settings
from rag.errors import RagError
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
from rag.review_render import (
    agreement_html,
    answer_html,
    message_html,
    position_text,
    progress_text,
    sentence_html,
    verdict_html,
)



class StartupState(Protocol):
    """What the tab needs of the app's start-up (app.Startup): wait for it, or its message."""

    ready: threading.Event
    error: str | None

    def message(self) -> str: ...

log = logging.getLogger(__name__)

SENTENCE_LABEL_CHOICES = [
    ("ondersteund / supported", "supported"),
    ("deels ondersteund / partly supported", "partly_supported"),
    ("niet ondersteund / unsupported", "unsupported"),
    ("in tegenspraak / contradicted", "contradicted"),
]
CHECKING = '<p class="verdict">Controle loopt… / Verifier checking…</p>'


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
    settings: Settings, store: LabelStore, verdicts: SentenceVerdicts, startup: StartupState | None
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



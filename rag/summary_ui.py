"""The summary tab ("Samenvatting / Summary"): newsroom staff pick indexed articles (none:
all of them), an optional topic and a language, and get the cited briefing of
`rag.briefing` as HTML with a Markdown download. Handlers are thin; the pure functions here
(choices, run a briefing) are what tests call, the HTML lives in `rag.summary_render`, and the
briefing itself (extraction, checks, translation) in `rag.briefing`. This module writes only
the Markdown download, to a fresh temporary folder.
"""

from __future__ import annotations

import logging
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Mapping, NamedTuple, Sequence

import gradio as gr

from rag.briefing import Briefing, make_briefer
from rag.errors import QuestionError, RagError
from rag.review_ui import StartupState
from rag.summary_render import briefing_html, notice_html
from rag.types import ArticleMeta

if TYPE_CHECKING:
    from rag.pipeline import Pipeline

log = logging.getLogger(__name__)

MAX_TOPIC_CHARS = 200
LANGUAGE_CHOICES = [("Nederlands", "nl"), ("English", "en")]
NO_ARTICLES = "De index bevat geen artikelen. / The index holds no articles."
BUILDING = "⏳ De index wordt nog gebouwd; de lijst volgt. / The index is still being built; the list follows."


class BriefingResult(NamedTuple):
    """What the tab shows after a run: the briefing (or the error) as HTML, the Markdown
    file to download (None when no briefing was made) and a one-line status."""

    html: str
    markdown: Path | None
    status: str


def article_choices(articles: Mapping[str, ArticleMeta]) -> list[tuple[str, str]]:
    """(label, article id) per article, by title: `ArticleMeta("a", "T", source="NOS")` ->
    `("T — NOS", "a")`."""
    metas = sorted(articles.values(), key=lambda m: (m.title.casefold(), m.id))
    return [(f"{m.title} — {m.source}" if m.source else m.title, m.id) for m in metas]


def clean_topic(topic: str | None) -> str | None:
    """The topic without surrounding space, None when empty; QuestionError when too long."""
    text = " ".join((topic or "").split())
    if len(text) > MAX_TOPIC_CHARS:
        raise QuestionError(
            f"het onderwerp is langer dan {MAX_TOPIC_CHARS} tekens / "
            f"the topic is longer than {MAX_TOPIC_CHARS} characters"
        )
    return text or None


def write_markdown(briefing: Briefing, directory: Path | None = None) -> Path:
    """The briefing's Markdown export in a fresh folder, for download."""
    folder = Path(tempfile.mkdtemp(prefix="rag-briefing-", dir=directory))
    slug = re.sub(r"[^A-Za-z0-9]+", "-", briefing.topic or "").strip("-").lower()[:40]
    path = folder / f"briefing-{slug + '-' if slug else ''}{briefing.language}.md"
    path.write_text(briefing.to_markdown(), encoding="utf-8")
    return path


def status_text(briefing: Briefing) -> str:
    flagged = sum(
        p.flagged
        for p in (
            *briefing.key_facts, *briefing.figures, *briefing.quotes,
            *(q for d in briefing.disagreements for q in (d.first, d.second)),
        )
    )
    return (
        f"Klaar / Done: {len(briefing.articles)} artikelen / articles · "
        f"{len(briefing.key_facts)} kernfeiten / key facts · {len(briefing.figures)} cijfers / figures · "
        f"{len(briefing.quotes)} citaten / quotes · {flagged} ⚠ niet bevestigd / not confirmed · "
        f"{sum(briefing.seconds.values()):.1f} s"
    )


def _failed(message: str) -> BriefingResult:
    return BriefingResult(notice_html(message, warning=True), None, message)


def run_briefing(
    pipeline: Pipeline,
    article_ids: Sequence[str] | None,
    topic: str | None,
    language: str,
    progress: Callable[[float, str], None] | None = None,
    directory: Path | None = None,
) -> BriefingResult:
    """A briefing of the chosen articles (none chosen: all indexed ones) on `topic`, in
    `language` ("nl" or "en"), rendered and written to Markdown. Bad input and failures
    become a message in the result, never an exception."""
    if language not in ("nl", "en"):
        return _failed(f"onbekende taal / unknown language: {language!r}")
    try:
        cleaned = clean_topic(topic)
        indexed = pipeline.index.articles
        if not indexed:
            return _failed(NO_ARTICLES)
        unknown = [a for a in dict.fromkeys(article_ids or ()) if a not in indexed]
        if unknown:
            return _failed(
                f"Onbekend artikel / Unknown article: {', '.join(unknown)}. "
                "Kies opnieuw uit de lijst. / Choose again from the list."
            )
        briefer = make_briefer(pipeline, language=language)
        briefing = briefer.brief(list(article_ids or ()), cleaned, language, progress=progress)
    except QuestionError as error:
        return _failed(str(error))
    except RagError as error:
        log.warning("briefing failed: %s", error)
        return _failed(f"De briefing kon niet gemaakt worden / The briefing failed: {error}")
    return BriefingResult(briefing_html(briefing), write_markdown(briefing, directory), status_text(briefing))


def available_choices(
    pipeline: Pipeline, startup: StartupState | None
) -> tuple[list[tuple[str, str]] | None, str]:
    """The article choices and a notice; None while the index is still being built (the
    index must not be built twice) or when it cannot be read."""
    if startup is not None and not startup.ready.is_set():
        return None, BUILDING
    if startup is not None and startup.error:
        return None, startup.message()
    try:
        articles = pipeline.index.articles
    except RagError as error:
        log.warning("cannot list the articles: %s", error)
        return None, f"De artikelen zijn niet beschikbaar / The articles are unavailable: {error}"
    return article_choices(articles), "" if articles else NO_ARTICLES


def summary_tab(pipeline: Pipeline, startup: StartupState | None) -> None:
    """The "Samenvatting / Summary" tab, built inside the caller's Blocks. The article list
    fills when the tab is opened and once start-up is done; a briefing runs in the model
    queue (English uses the generator) with its progress shown on the outputs."""
    with gr.Tab("Samenvatting / Summary") as tab:
        with gr.Row():
            with gr.Column(scale=2):
                articles = gr.CheckboxGroup(
                    [], label="Artikelen (niets aangevinkt: alle) / Articles (none checked: all)",
                    type="value",
                )
            with gr.Column(scale=1):
                topic = gr.Textbox(
                    label="Onderwerp (optioneel) / Topic (optional)", max_length=MAX_TOPIC_CHARS,
                )
                language = gr.Radio(LANGUAGE_CHOICES, value="nl", label="Taal / Language")
                make = gr.Button("Maak briefing / Make briefing", variant="primary")
                download = gr.File(label="Markdown (.md)", interactive=False)
        status = gr.HTML(elem_id="briefing-status")
        briefing = gr.HTML(elem_id="briefing", min_height=120)
        timer = gr.Timer(1.0, active=startup is not None and not startup.ready.is_set())

    def refresh_articles(checked):
        choices, message = available_choices(pipeline, startup)
        if choices is None:
            return gr.skip(), notice_html(message, warning=message != BUILDING)
        ids = {value for _, value in choices}
        kept = [a for a in checked or () if a in ids]
        return gr.CheckboxGroup(choices=choices, value=kept), notice_html(message, True) if message else ""

    def on_startup_tick(checked):
        if startup is not None and not startup.ready.is_set():
            return gr.skip(), gr.skip(), gr.skip()
        return *refresh_articles(checked), gr.Timer(active=False)

    def on_brief(article_ids, topic_text, lang, progress=gr.Progress()):
        if startup is not None:
            progress(0.0, desc=startup.message() or "…")
            if not startup.ready.wait(timeout=600) or startup.error:
                failed = notice_html(startup.message() or "…", warning=True)
                return failed, None, failed
        result = run_briefing(
            pipeline, article_ids, topic_text, lang,
            progress=lambda share, step: progress(share, desc=step),
        )
        markdown = str(result.markdown) if result.markdown else None
        return result.html, markdown, notice_html(result.status, warning=markdown is None)

    tab.select(refresh_articles, articles, [articles, status], api_visibility="private", queue=False)
    timer.tick(
        on_startup_tick, articles, [articles, status, timer], api_visibility="private", queue=False
    )
    make.click(
        on_brief, [articles, topic, language], [briefing, download, status],
        api_visibility="private", concurrency_id="model", show_progress_on=briefing,
    )

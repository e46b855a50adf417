"""The summary tab: a briefing over fake parts rendered as escaped HTML with every section,
flagged points marked, the Markdown download, the error messages, and the tab's handlers as
create_app wires them (fake embedder, scripted generator, no real models)."""

from __future__ import annotations

import re
import threading
from types import SimpleNamespace

import pytest

import app as ui
from rag import summary_ui
from rag.briefing import SECTION_TITLES, Briefer, make_briefer
from rag.errors import IndexCorruptError
from rag.feedback import FeedbackStore
from rag.summary_render import briefing_html
from rag.types import ArticleMeta, Chunk
from rag.verifier import Verdict, Verifier
from tests.fakes import FakeEmbedder, scripted_pipeline
from tests.test_pipeline import settings  # noqa: F401  (fixture)

NVIDIA = (
    "Op maandag 27 januari 2025 verloor Nvidia 589 miljard dollar aan beurswaarde op Wall Street. "
    "OpenAI-topman Sam Altman reageerde op de Chinese concurrent DeepSeek. "
    "“DeepSeek is een indrukwekkend model, zeker voor wat ze ervoor vragen”, zei Altman. "
    "De app stond <script>alert(1)</script> bovenaan met <img src=x onerror=alert(1)> in de winkel."
)
APPLE = (
    "Apple zag de waarde van het aandeel stijgen met 3 procent op dezelfde dag. "
    "Beleggers zochten volgens analisten veiliger havens."
)
ARTICLES = {
    "nvidia": ArticleMeta("nvidia", "Nvidia <b>verliest</b>", "Jan <i>Jansen</i>", "De Tijd", "2025-01-28"),
    "apple": ArticleMeta("apple", "Apple wint", None, "NOS", "2025-01-27"),
}
CHUNKS = [
    Chunk("nvidia:0", "nvidia", NVIDIA, 0, len(NVIDIA)),
    Chunk("apple:0", "apple", APPLE, 0, len(APPLE)),
]


class BillionsDoubted(Verifier):
    """Does not confirm any claim with "miljard" in it; supports everything else."""

    name = "fake"

    def verify(self, claim, passages):
        if "miljard" in claim:
            return Verdict("contradicted", 0.9, "amount <b>differs</b>")
        return Verdict("supported", 0.9)


@pytest.fixture
def briefer(tmp_path):
    return Briefer(CHUNKS, ARTICLES, FakeEmbedder(), BillionsDoubted(), tmp_path / "notes")


@pytest.fixture
def pipeline(settings):  # noqa: F811
    return scripted_pipeline(settings, "Nvidia verloor 589 miljard dollar [{n}].")


def _body_and_sources(page: str) -> tuple[str, str]:
    body, sources = page.split('<section class="sources">')
    return body, sources


def test_the_briefing_html_escapes_article_text_and_shows_every_section(briefer):
    page = briefing_html(briefer.brief())

    for tag in ("<script", "<img", "<b>", "<i>", "<a "):
        assert tag not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "Nvidia &lt;b&gt;verliest&lt;/b&gt;" in page and "Jan &lt;i&gt;Jansen&lt;/i&gt;" in page
    for key in ("key_facts", "figures", "quotes", "timeline", "disagreements", "sources"):
        assert f"<h3>{SECTION_TITLES['nl'][key]}</h3>" in page
    assert "<td>589 miljard</td><td>dollar</td>" in page
    assert "<td>3</td><td>procent</td>" in page
    quote = re.search(r'<blockquote class="quote">“(.*?)”<footer>— <span class="speaker">(.*?)</span> '
                      r'<span class="markers">\[(\d+)\]</span>', page)
    assert quote and quote.group(1).startswith("DeepSeek is een indrukwekkend model")
    assert quote.group(2) == "Sam Altman"
    assert '<strong class="date">2025-01-27</strong>' in page


def test_every_marker_matches_a_numbered_source_with_its_passage(briefer):
    briefing = briefer.brief()
    body, sources = _body_and_sources(briefing_html(briefing))

    cited = {int(n) for n in re.findall(r"\[(\d+)\]", body)}
    numbered = [int(n) for n in re.findall(r'data-n="(\d+)"', sources)]
    assert cited == set(numbered) and numbered == list(range(1, len(numbered) + 1))
    nvidia = next(s.n for s in briefing.sources if s.article.id == "nvidia")
    card = re.search(rf'data-n="{nvidia}">.*?</p></div>', sources).group(0)
    assert "De Tijd · Jan &lt;i&gt;Jansen&lt;/i&gt; · 2025-01-28 · nvidia · tekens / characters 0–" in card
    assert "Op maandag 27 januari 2025 verloor Nvidia" in card
    quote = re.search(r'class="speaker">Sam Altman</span> <span class="markers">\[(\d+)\]', body)
    assert int(quote.group(1)) == nvidia  # the quote cites the passage that holds it


def test_a_flagged_figure_is_marked_with_its_reason_and_a_confirmed_one_is_not(briefer):
    page = briefing_html(briefer.brief())
    rows = {re.search(r"<td>(.*?)</td>", row).group(1): row for row in re.findall(r"<tr.*?</tr>", page)[1:]}

    assert "⚠ niet bevestigd door de controle (amount &lt;b&gt;differs&lt;/b&gt;)" in rows["589 miljard"]
    assert 'class="flagged"' in rows["589 miljard"]
    assert "⚠" not in rows["3"]


def test_english_briefings_use_the_english_section_titles(briefer):
    page = briefing_html(briefer.brief(language="en"))
    assert "<h3>Key facts</h3>" in page and "<h3>Where the sources differ</h3>" in page
    assert "⚠ not confirmed by the check" in page
    assert '<p class="none">None found.</p>' in page  # no disagreements between these two


def test_run_briefing_renders_writes_the_markdown_and_reports_progress(pipeline, tmp_path):
    steps = []
    result = summary_ui.run_briefing(
        pipeline, [], "  Nvidia  ", "nl", progress=lambda share, step: steps.append((share, step)),
        directory=tmp_path,
    )

    assert result.markdown.parent.parent == tmp_path and result.markdown.name == "briefing-nvidia-nl.md"
    expected = make_briefer(pipeline).brief([], "Nvidia", "nl").to_markdown()
    assert result.markdown.read_text(encoding="utf-8") == expected
    assert "589 miljard" in result.html and '<p class="topic">Onderwerp: Nvidia</p>' in result.html
    assert result.status.startswith("Klaar / Done: 2 artikelen / articles")
    assert steps[-1] == (1.0, "done") and any(step.startswith("notes") for _, step in steps)


def test_bad_input_gives_a_clear_message_and_no_download(pipeline):
    unknown = summary_ui.run_briefing(pipeline, ["nvidia", "bestaat-niet"], None, "nl")
    assert unknown.markdown is None
    assert unknown.status == (
        "Onbekend artikel / Unknown article: bestaat-niet. Kies opnieuw uit de lijst. / Choose again from the list."
    )
    assert unknown.html.startswith('<p class="briefing-notice warning">⚠ Onbekend artikel')

    long_topic = summary_ui.run_briefing(pipeline, [], "x" * (summary_ui.MAX_TOPIC_CHARS + 1), "nl")
    assert long_topic.markdown is None and "the topic is longer than 200 characters" in long_topic.status
    assert "unknown language: 'de'" in summary_ui.run_briefing(pipeline, [], None, "de").status


def test_an_empty_or_broken_index_gives_a_message_not_a_crash():
    empty = SimpleNamespace(index=SimpleNamespace(articles={}))
    assert summary_ui.run_briefing(empty, [], None, "nl").status == summary_ui.NO_ARTICLES
    assert summary_ui.available_choices(empty, None) == ([], summary_ui.NO_ARTICLES)

    class Broken:
        @property
        def index(self):
            raise IndexCorruptError("chunks.jsonl is <truncated>")

    result = summary_ui.run_briefing(Broken(), [], None, "nl")
    assert result.status == "De briefing kon niet gemaakt worden / The briefing failed: chunks.jsonl is <truncated>"
    assert "&lt;truncated&gt;" in result.html and "<truncated>" not in result.html
    assert summary_ui.available_choices(Broken(), None)[0] is None


def test_the_choices_list_articles_by_title_with_their_source_and_wait_for_start_up():
    assert summary_ui.article_choices(ARTICLES) == [
        ("Apple wint — NOS", "apple"), ("Nvidia <b>verliest</b> — De Tijd", "nvidia"),
    ]
    assert summary_ui.article_choices({"a": ArticleMeta("a", "Zonder bron")}) == [("Zonder bron", "a")]
    building = FakeStartup(ready=False)
    assert summary_ui.available_choices(None, building) == (None, summary_ui.BUILDING)
    failed = FakeStartup(error="no model")
    assert summary_ui.available_choices(None, failed) == (None, failed.message())


class FakeStartup:
    def __init__(self, ready: bool = True, error: str | None = None):
        self.ready = threading.Event()
        if ready:
            self.ready.set()
        self.error = error

    def message(self) -> str:
        return "⚠ De app kan niet starten. / The app cannot start." if self.error else ""


def test_create_app_builds_the_summary_tab_and_its_handlers_work(pipeline, tmp_path):
    app = ui.create_app(pipeline, FeedbackStore(tmp_path / "f.sqlite3"), startup=FakeStartup())
    labels = {c["props"].get("label") for c in app.get_config_file()["components"]}
    assert "Samenvatting / Summary" in labels and "Taal / Language" in labels
    fns = {f.name: f for f in app.fns.values()}
    brief = fns["on_brief"]
    assert brief.concurrency_id == "model" and brief.api_visibility == "private"
    assert fns["refresh_articles"].api_visibility == "private"

    articles, status = fns["refresh_articles"].fn(["nvidia", "weg"])
    assert ("Nvidia verliest 589 miljard dollar", "nvidia") in articles.choices
    assert articles.value == ["nvidia"] and status == ""

    outputs = brief.fn(["nvidia"], "", "nl")
    assert len(outputs) == len(brief.outputs)
    page, download, line = outputs
    assert "<h3>Kernfeiten</h3>" in page and "<td>589 miljard</td><td>dollar</td>" in page
    assert download.endswith("briefing-nl.md") and "## Kernfeiten" in open(download, encoding="utf-8").read()
    assert "Klaar / Done: 1 artikelen / articles" in line

    page, download, line = brief.fn([], "", "en")  # the scripted generator "translates" into Dutch
    assert "<h3>Key facts</h3>" in page and download.endswith("briefing-en.md")
    assert "⚠ not confirmed by the check (translation not confirmed; Dutch kept)" in page

    page, download, line = brief.fn(["onbekend"], "", "en")
    assert download is None and "Unknown article: onbekend" in page and "⚠" in line


def test_the_tab_waits_for_start_up_and_shows_why_it_cannot_run(pipeline, tmp_path):
    failed = FakeStartup(error="model missing")
    app = ui.create_app(pipeline, FeedbackStore(tmp_path / "f.sqlite3"), startup=failed)
    fns = {f.name: f for f in app.fns.values()}

    page, download, line = fns["on_brief"].fn([], "", "nl")
    assert download is None and "The app cannot start" in page
    tick = fns["on_startup_tick"].fn([])
    assert len(tick) == len(fns["on_startup_tick"].outputs)
    articles, status, timer = tick
    assert "The app cannot start" in status and timer.active is False

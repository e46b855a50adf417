"""A real browser (Debian's Chromium driven by Playwright) against the app on loopback,
with the real models: a Dutch question, the streamed answer, a citation marker, its source
card with the article title, and the highlighted supporting sentence. Saves a screenshot."""

from __future__ import annotations

import re
import shutil
import socket
from pathlib import Path

import pytest

import app as ui
from rag.feedback import FeedbackStore

pytestmark = pytest.mark.real

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def url(real_pipeline, tmp_path_factory):
    feedback = FeedbackStore(tmp_path_factory.mktemp("feedback") / "feedback.sqlite3")
    app = ui.create_app(real_pipeline, feedback)
    port = free_port()
    app.launch(
        server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
        css=ui.CSS,
    )
    yield f"http://127.0.0.1:{port}/"
    app.close()


def test_a_dutch_question_in_the_browser(url):
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Chromium is missing: make test installs it (apt-get install chromium)"
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(url)
            box = page.get_by_placeholder("Stel een vraag")
            box.fill("Waarom kreeg de app van DeepSeek zoveel aandacht?")
            box.press("Enter")

            page.wait_for_selector("#sources .source", timeout=30_000)  # before the answer
            page.wait_for_selector("#sources .source.cited mark", timeout=180_000)
            answer = page.locator(".message.bot, [data-testid='bot']").last.inner_text()
            markers = re.findall(r"\[(\d+)\]", answer)
            assert "China" in answer and markers
            card = page.locator(f"#source-{markers[0]}")
            assert "Deepshift" in card.inner_text()
            assert "hij komt uit China, is open source" in card.locator("mark").inner_text()
            page.screenshot(path=str(ARTIFACTS / "browser-nl.png"), full_page=True)
        finally:
            browser.close()

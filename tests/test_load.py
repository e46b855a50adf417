"""The app under load, with the fake models: more readers than the queue holds get an
answer or a clean "busy", never a crash; the server's memory stays flat over rounds; the
routes that would skip the queue and file paths outside the app are refused; and the load
test itself only aims at loopback and sorts outcomes exactly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import httpx
import pytest

from rag.config import ROOT
from rag.errors import ConfigError
from rag.feedback import FeedbackStore
from rag.loadtest import (
    LoadReport,
    MemoryReport,
    RequestResult,
    classify,
    judge,
    load_test_command,
    loopback_url,
    read_rss_mb,
    run_load_test,
    serve_for_load_test,
)
from tests.fakes import ScriptedGenerator, scripted_pipeline
from tests.test_pipeline import settings  # noqa: F401  (fixture)

QUESTIONS = ["Hoeveel verloor Nvidia?", "What is the capital of Peru?"]
ANSWER = "Nvidia verloor 589 miljard dollar [{n}]."


class SlowGenerator(ScriptedGenerator):
    """A scripted generator that takes `pause` seconds per piece, so requests overlap, or
    waits for `release` before answering at all."""

    def __init__(self, script, pause: float = 0.0, release: threading.Event | None = None):
        super().__init__(script)
        self.pause, self.release = pause, release

    def stream(self, messages, max_tokens, stop=(), avoid=()):
        if self.release is not None:
            self.release.wait(30)
        for piece in super().stream(messages, max_tokens, stop, avoid):
            time.sleep(self.pause)
            yield piece


def slow_pipeline(settings, pause=0.0, release=None, **changes):  # noqa: F811
    scratch = settings.index_dir.parent
    settings = settings.replace(
        labels_path=scratch / "labels.sqlite3", feedback_path=scratch / "feedback.sqlite3", **changes
    )
    pipeline = scripted_pipeline(settings, ANSWER)
    pipeline._generator = SlowGenerator(pipeline.generator.script, pause, release)
    return pipeline


@pytest.fixture
def served():
    """Serves a pipeline for one test and closes it afterwards."""
    closers = []

    def serve(pipeline):
        url, close = serve_for_load_test(pipeline)
        closers.append(close)
        return url

    yield serve
    for close in closers:
        close()


# --- more readers than the queue holds ------------------------------------------------------


def test_more_users_than_the_queue_holds_get_an_answer_or_a_clean_busy(settings, served):  # noqa: F811
    from gradio_client import Client

    url = served(slow_pipeline(settings, pause=0.05, queue_size=2))  # one answering, two waiting

    report = run_load_test(url, users=8, requests_per_user=2, questions=QUESTIONS, timeout_s=60,
                           server_pid=os.getpid())

    assert len(report.results) == 16 and report.failed == 0 and report.errors == 0
    assert report.answered >= 1 and report.busy >= 1
    assert report.answered + report.busy == 16
    assert set(report.reasons("busy")) == {"Queue is full! Please try again."}
    assert 0 < report.latency()["p50"] <= report.latency()["max"] and report.throughput > 0
    memory = report.memory
    assert memory is not None and memory.samples >= 2 and len(memory.trace_mb) == min(memory.samples, 20)
    assert 0 < memory.anon_start_mb < memory.start_mb <= memory.max_mb
    summary = report.to_dict()
    assert (summary["answered"], summary["busy"], summary["failed"]) == (report.answered, report.busy, 0)
    # ... and afterwards the app answers a reader as usual
    answer = Client(url, verbose=False).predict("Hoeveel verloor Nvidia?", None, api_name="/ask")
    assert answer["answer"].startswith("Nvidia verloor 589 miljard dollar") and not answer["abstained"]


def test_the_load_test_command_serves_runs_and_judges(settings, capsys, monkeypatch):  # noqa: F811
    from rag import loadtest

    # The users run in a child process, so the server's memory is the server's: in this
    # process no user may run (the child imports the module afresh, without this patch).
    monkeypatch.setattr(loadtest._User, "run", lambda self: None)
    code = load_test_command(settings.replace(labels_path=settings.index_dir.parent / "l.sqlite3"),
                             users=3, requests=2, real=False, time_limit_s=60, warmup=1)

    out = capsys.readouterr().out
    assert code == 0, out
    assert "3 users x 2 requests against http://127.0.0.1:" in out and "0 failed" in out
    # every user asks a question first, all at once, as in the measured run
    assert "warm-up: 3 of 3 answered (3 x 1)" in out and out.count("server memory (pid") == 2
    numbers = json.loads(out[out.index("\n{") + 1:])
    assert numbers["requests"] == 6 and numbers["answered"] == 6
    assert numbers["memory"]["pid"] == os.getpid() and numbers["memory"]["max_mb"] > 0
    assert not (settings.index_dir / "manifest.json").exists()  # the fake index lived in a scratch dir


# --- memory over a longer run -----------------------------------------------------------------

SERVER = """
import sys
from pathlib import Path
from rag.config import Settings
from rag.loadtest import serve_for_load_test
from tests.fakes import scripted_pipeline
from tests.test_load import ANSWER, SlowGenerator
root = Path(sys.argv[1])
settings = Settings(docs_dir=root / "docs", index_dir=root / "index", cache_dir=root / "cache",
                    labels_path=root / "labels.sqlite3", top_k=2, candidates=5, chunk_size=120,
                    min_dense_score=0.0, min_support_similarity=0.0, queue_size=64)
pipeline = scripted_pipeline(settings, ANSWER)
pipeline._generator = SlowGenerator(pipeline.generator.script, 0.002)
url, close = serve_for_load_test(pipeline)
print(url, flush=True)
sys.stdin.read()
close()
"""


def test_the_servers_memory_stays_flat_over_rounds_of_load(settings):  # noqa: F811
    """The server runs in its own process, so its RSS is not mixed with the clients'. After
    a warm-up round, 4 more rounds of 8 users x 4 questions (128 answers) may add little:
    Gradio keeps ~0.1 MB per new session (each user is one), a leak of even 0.2 MB per
    answer would add 25 MB."""
    root = settings.docs_dir.parent
    log = root / "server.log"
    with log.open("w") as stderr:
        server = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(root)],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, text=True,
        )
    try:
        url = server.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), f"the server did not start:\n{log.read_text()}"
        ends = []
        for _ in range(5):
            report = run_load_test(url, 8, 4, QUESTIONS, timeout_s=60, server_pid=server.pid)
            assert report.answered == 32 and report.memory is not None, report.to_dict()
            ends.append(report.memory.end_mb)
    finally:
        server.stdin.close()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    growth = ends[-1] - ends[0]
    assert growth < 20, f"server RSS after each round (MB): {ends}"


def test_rss_is_read_from_proc_and_a_gone_process_reads_as_none():
    assert read_rss_mb(os.getpid()) > read_rss_mb(os.getpid(), "RssAnon") > 10
    assert read_rss_mb(2**22 + 7) is None  # above Linux's pid_max


# --- ways around the queue ----------------------------------------------------------------------


def test_routes_that_would_skip_the_queue_are_refused(settings, served):  # noqa: F811
    """With api_open=False, /run/<name> and /api/<name> run nothing that is queued, by name or
    by a forged fn_index; every handler that uses the model is queued; a private handler is
    not callable by name through gradio_client."""
    from gradio_client import Client

    pipeline = slow_pipeline(settings)
    url = served(pipeline)
    import app as ui

    fns = ui.create_app(pipeline, FeedbackStore(pipeline.settings.feedback_path)).fns  # as served
    assert all(f.queue for f in fns.values() if f.concurrency_id == "model")
    queued = {f.api_name: i for i, f in fns.items() if f.queue}
    assert {"ask", "chat_handler", "on_verdict", "on_agreement"} <= set(queued)
    refusal = "This API endpoint does not accept direct HTTP POST requests. Please join the queue to use this API."
    for name, index in queued.items():
        for route in ("run", "api"):
            response = httpx.post(f"{url}gradio_api/{route}/{name}", json={"data": ["Hoeveel verloor Nvidia?", None]})
            assert (response.status_code, response.json()["detail"]) == (404, refusal), (route, name)
            forged = httpx.post(f"{url}gradio_api/{route}/predict",
                                json={"data": ["Hoeveel verloor Nvidia?", None], "fn_index": index})
            assert forged.status_code == 404, (route, name)

    client = Client(url, verbose=False)
    assert set(client.view_api(print_info=False, return_format="dict")["named_endpoints"]) == {"/ask"}
    with pytest.raises(ValueError, match="Cannot find a function with `api_name`: /chat_handler"):
        client.predict("Hoeveel verloor Nvidia?", api_name="/chat_handler")


def test_every_way_into_the_queue_is_bounded_by_its_size(settings, served):  # noqa: F811
    """Private handlers stay reachable through the queue by name (/call/<name>) and by
    fn_index (/queue/join): that is how the browser calls them. Private is not a lock; the
    bounded queue is. With one answer running and the one waiting place taken, each of
    them is told 503 (busy)."""
    from gradio_client import Client

    release = threading.Event()
    pipeline = slow_pipeline(settings, release=release, queue_size=1)
    url = served(pipeline)
    import app as ui

    fns = ui.create_app(pipeline, FeedbackStore(pipeline.settings.feedback_path)).fns  # as served
    chat = next(i for i, f in fns.items() if f.api_name == "chat_handler")
    try:
        running = Client(url, verbose=False).submit("Wie?", None, api_name="/ask")
        waiting = Client(url, verbose=False).submit("Wat?", None, api_name="/ask")
        for _ in range(100):
            if running.status().code.name == "PROCESSING" and waiting.status().code.name == "IN_QUEUE":
                break
            time.sleep(0.1)
        else:
            pytest.fail("the queue did not fill up")
        data = {"data": ["Hoeveel verloor Nvidia?", None]}
        assert httpx.post(f"{url}gradio_api/call/ask", json=data).status_code == 503
        assert httpx.post(f"{url}gradio_api/call/chat_handler", json=data).status_code == 503
        joined = httpx.post(f"{url}gradio_api/queue/join", json={
            "data": ["Hoeveel verloor Nvidia?", [], [], {}], "fn_index": chat, "session_hash": "s1",
        })
        assert joined.status_code == 503 and joined.json()["detail"] == "Queue is full. Max size is 1 and size is 1."
        busy = Client(url, verbose=False).submit("Hoe?", None, api_name="/ask")
        assert classify(error=busy.exception(timeout=30)) == ("busy", "Queue is full! Please try again.")
    finally:
        release.set()
    assert classify(running.result(timeout=30))[0] == classify(waiting.result(timeout=30))[0] == "answered"


FILE_TARGETS = [
    "/gradio_api/file=../../etc/passwd",
    "/gradio_api/file=../../../../../../etc/passwd",
    "/gradio_api/file=/etc/passwd",
    "/gradio_api/file=%2Fetc%2Fpasswd",
    "/gradio_api/file=..%2F..%2F..%2Fetc%2Fpasswd",
    "/gradio_api/file=%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/gradio_api/file=%252e%252e%252f%252e%252e%252fetc%252fpasswd",
    "/gradio_api/file=....//....//etc/passwd",
    "/gradio_api/file/../../../etc/passwd",
    "/gradio_api/file/etc/passwd",
    "/gradio_api/file=" + str(ROOT / "app.py"),
    "/gradio_api/file=app.py",
    "/gradio_api/file=" + str(ROOT / "rag" / "config.py"),
]


def test_file_requests_outside_the_app_are_refused(settings, served):  # noqa: F811
    """Sent byte for byte (no client-side normalising of ../): /etc/passwd, the source, the
    articles and the feedback database are never served."""
    pipeline = slow_pipeline(settings)
    url = served(pipeline).rstrip("/")
    targets = FILE_TARGETS + [
        f"/gradio_api/file={settings.docs_dir / 'nvidia.txt'}",
        f"/gradio_api/file={pipeline.settings.index_dir / 'manifest.json'}",
        f"/gradio_api/file={ROOT / 'feedback.sqlite3'}",
    ]
    with httpx.Client() as client:
        assert client.get(url + "/", extensions={"target": b"/gradio_api/info"}).status_code == 200  # reaches the app
        for target in targets:
            response = client.get(url + "/", extensions={"target": target.encode()})
            assert response.status_code in (403, 404), target
            assert "root:" not in response.text and "Nvidia" not in response.text, target


# --- the load test itself ---------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    "http://example.com:7860/",
    "http://10.0.0.5:7860/",
    "http://0.0.0.0:7860/",
    "http://127.0.0.1.example.com/",
    "http://[2001:db8::1]:7860/",
])
def test_a_url_that_is_not_loopback_is_refused(url):
    with pytest.raises(ConfigError, match=r"^load tests only run against this machine \(127\.0\.0\.1, ::1 or localhost\), not '"):
        run_load_test(url, users=1, requests_per_user=1, questions=QUESTIONS, timeout_s=5)


def test_loopback_urls_pass_and_bad_arguments_say_what_is_wrong():
    for url in ("http://127.0.0.1:7860/", "http://localhost:7860", "http://[::1]:7860/", "http://127.0.0.2/"):
        assert loopback_url(url) == url
    with pytest.raises(ConfigError, match=r"^a load test needs an http:// URL of the app, got 'ftp://127\.0\.0\.1/'$"):
        loopback_url("ftp://127.0.0.1/")
    url = "http://127.0.0.1:9/"
    with pytest.raises(ConfigError, match="^users must be between 1 and 64, got 0$"):
        run_load_test(url, 0, 1, QUESTIONS, 5)
    with pytest.raises(ConfigError, match="^requests per user must be at least 1 and users x requests at most 1000, got 64 x 16$"):
        run_load_test(url, 64, 16, QUESTIONS, 5)
    with pytest.raises(ConfigError, match="^the time limit must be between 0 and 3600 s, got 0$"):
        run_load_test(url, 1, 1, QUESTIONS, 0)
    with pytest.raises(ConfigError, match="^a load test needs at least one question$"):
        run_load_test(url, 1, 1, [], 5)


def test_a_server_that_is_not_there_is_a_failure_not_a_crash():
    report = run_load_test("http://127.0.0.1:9/", users=2, requests_per_user=2, questions=QUESTIONS, timeout_s=10)
    assert (report.failed, report.answered, report.busy) == (4, 0, 0)
    assert next(iter(report.reasons("failed"))).startswith("cannot connect: ")
    assert judge(report) == ["4 of 4 requests failed", "no request was answered"]


def test_outcomes_are_sorted_exactly():
    from gradio_client.exceptions import AppError
    from gradio_client.utils import QueueError

    assert classify(error=QueueError("Queue is full! Please try again.")) == ("busy", "Queue is full! Please try again.")
    assert classify(error=QueueError("Queue is stuck"))[0] == "failed"
    assert classify(error=AppError("boom")) == ("failed", "AppError: boom")
    assert classify(error=TimeoutError()) == ("failed", "TimeoutError: ")
    assert classify({"id": None, "error": "the question is empty"}) == ("error", "the question is empty")
    assert classify({"question": "q", "answer": "a", "abstained": False}) == ("answered", "")
    assert classify({"data": 1}) == ("failed", "an answer object without answer/question: keys ['data']")
    assert classify("text") == ("failed", "not an answer object: str")


def test_server_memory_counts_from_the_moment_every_user_is_connected(settings, served, monkeypatch):  # noqa: F811
    import gradio_client

    from rag import loadtest

    connected = []
    real_client = gradio_client.Client

    def counting_client(*args, **kwargs):
        client = real_client(*args, **kwargs)
        connected.append(client)
        return client

    monkeypatch.setattr(gradio_client, "Client", counting_client)
    monkeypatch.setattr(loadtest, "read_rss_mb", lambda pid, field="VmRSS": float(len(connected)))
    url = served(slow_pipeline(settings, pause=0.05))

    report = run_load_test(url, users=4, requests_per_user=1, questions=QUESTIONS, timeout_s=60,
                           server_pid=os.getpid())

    assert report.answered == 4
    assert report.memory.start_mb == 4.0  # the first sample already sees all four clients


def test_the_judgement_allows_busy_and_error_answers_but_not_failures_or_growth():
    def report(*outcomes, growth=0.0):
        results = tuple(RequestResult(0, n, o, 1.0) for n, o in enumerate(outcomes))
        memory = MemoryReport(1, 500.0, 500.0 + growth, 500.0 + growth, 3)
        return LoadReport("http://127.0.0.1:1/", 1, len(outcomes), 60.0, 2.0, results, memory)

    assert judge(report("answered", "busy", "error")) == []
    assert judge(report("answered", "failed")) == ["1 of 2 requests failed"]
    assert judge(report("answered", growth=120.0)) == ["server memory grew 120.0 MB (limit 100 MB)"]
    assert judge(report("answered", growth=120.0), max_growth_mb=200) == []
    assert report("answered", "answered", "busy").throughput == 1.0

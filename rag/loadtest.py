"""`python -m rag loadtest`: many readers at once against the app, on loopback only.

`run_load_test` starts N users (one thread and one gradio_client `Client` each) that ask
questions through the public `/ask` endpoint all at once, and sorts every request into one
of four outcomes:

    answered  an answer object without "error"
    busy      the bounded queue refused it (HTTP 503 on /queue/join; the client raises
              `QueueError("Queue is full! Please try again.")`)
    error     an answer object {"id": null, "error": ...} (a question or start-up problem)
    failed    anything else: another exception, a timeout, a reply that is not an answer
              object, a request never sent before the time limit

It reports the throughput (answered per second), the latency of the answered requests as
the reader sees it (queue wait included) and, given the server's pid, its resident memory
sampled from /proc every half second. `serve_for_load_test` runs the app in this process
for that; `load_test_command` is the command line's entry (its users run in a child process).

Deliberately not here: the browser's streaming chat handler (it shares `/ask`'s queue and
its one model slot), remote servers (a load test is aimed at a machine you own, so any
address that is not loopback is refused), and warm-up or thresholds inside
`run_load_test` (numbers only; `load_test_command` judges them).
"""

from __future__ import annotations

import ipaddress
import json
import os
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Literal, Sequence
from urllib.parse import urlsplit

from rag.config import Settings
from rag.errors import ConfigError
from rag.stats import percentile

Outcome = Literal["answered", "busy", "error", "failed"]

MAX_USERS = 64
MAX_REQUESTS = 1000  # users x requests per user
MAX_TIME_S = 3600.0
SAMPLE_EVERY_S = 0.5
# The growth load_test_command accepts for the server, below the ~117 MB KV cache of one more
# llama.cpp context (Qwen2.5-1.5B: 28 layers x 2 KV heads x 128 dims x K and V x 2 bytes x
# 4096 tokens), so a context or model copy kept per request fails it at once.
MAX_GROWTH_MB = 100.0
QUEUE_FULL = "queue is full"  # gradio_client's message for a 503 from /queue/join

DEFAULT_QUESTIONS = (
    "Hoeveel beurswaarde verloor Nvidia op 27 januari?",
    "Waarom kreeg de app van DeepSeek zoveel aandacht?",
    "Which tech companies saw their value rise on the day Nvidia fell?",
    "Who wrote the opinion piece Deepshift?",
)


@dataclass(frozen=True)
class RequestResult:
    """One request of one user: its outcome, how long the reader waited, and why when it
    was not answered."""

    user: int
    number: int
    outcome: Outcome
    seconds: float
    detail: str = ""
    service_s: float | None = None  # the server's own answering time (answer timings.total)


@dataclass(frozen=True)
class MemoryReport:
    """The server process's resident set size (VmRSS) in MB over the run. The anonymous
    part (RssAnon: heap, arenas) is where a leak shows; the file-backed part (RssFile) grows
    when more of a memory-mapped model is read. `trace_mb`: up to 20 evenly spaced samples,
    to tell a step (one-off allocations) from a ramp (growth per request)."""

    pid: int
    start_mb: float
    end_mb: float
    max_mb: float
    samples: int
    anon_start_mb: float = 0.0
    anon_end_mb: float = 0.0
    trace_mb: tuple[float, ...] = ()

    @property
    def growth_mb(self) -> float:
        return round(self.end_mb - self.start_mb, 1)

    @property
    def anon_growth_mb(self) -> float:
        return round(self.anon_end_mb - self.anon_start_mb, 1)

    def line(self) -> str:
        return (
            f"server memory (pid {self.pid}, RSS): start {self.start_mb:.0f} MB, end "
            f"{self.end_mb:.0f} MB, max {self.max_mb:.0f} MB, growth {self.growth_mb:+.1f} MB, "
            f"of which anonymous {self.anon_growth_mb:+.1f} MB ({self.samples} samples)"
        )

    def to_dict(self) -> dict:
        return {
            **asdict(self), "trace_mb": list(self.trace_mb),
            "growth_mb": self.growth_mb, "anon_growth_mb": self.anon_growth_mb,
        }


@dataclass(frozen=True)
class LoadReport:
    url: str
    users: int
    requests_per_user: int
    time_limit_s: float
    wall_s: float
    results: tuple[RequestResult, ...]
    memory: MemoryReport | None

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results if r.outcome == outcome)

    @property
    def answered(self) -> int:
        return self.count("answered")

    @property
    def busy(self) -> int:
        return self.count("busy")

    @property
    def errors(self) -> int:
        return self.count("error")

    @property
    def failed(self) -> int:
        return self.count("failed")

    @property
    def throughput(self) -> float:
        """Answered requests per second of wall time."""
        return round(self.answered / self.wall_s, 4) if self.wall_s > 0 else 0.0

    def latency(self) -> dict[str, float]:
        """p50/p95/max seconds of the answered requests, queue wait included."""
        return _spread([r.seconds for r in self.results if r.outcome == "answered"])

    def service(self) -> dict[str, float]:
        """p50/p95/max of the server's own answering time, without the queue wait."""
        return _spread([r.service_s for r in self.results if r.service_s is not None])

    def reasons(self, outcome: Outcome, limit: int = 5) -> dict[str, int]:
        """The most frequent details of one outcome, with their counts."""
        counts: dict[str, int] = {}
        for r in self.results:
            if r.outcome == outcome:
                counts[r.detail] = counts.get(r.detail, 0) + 1
        return dict(sorted(counts.items(), key=lambda item: -item[1])[:limit])

    def to_dict(self) -> dict:
        """The numbers; the per-request list stays out (see `results`)."""
        return {
            "url": self.url,
            "users": self.users,
            "requests_per_user": self.requests_per_user,
            "requests": len(self.results),
            "answered": self.answered,
            "busy": self.busy,
            "errors": self.errors,
            "failed": self.failed,
            "error_reasons": self.reasons("error"),
            "failure_reasons": self.reasons("failed"),
            "time_limit_s": self.time_limit_s,
            "wall_s": round(self.wall_s, 3),
            "throughput_per_s": self.throughput,
            "latency_s": self.latency(),
            "service_s": self.service(),
            "memory": None if self.memory is None else self.memory.to_dict(),
        }

    def summary(self) -> str:
        latency, lines = self.latency(), []
        lines.append(
            f"{self.users} users x {self.requests_per_user} requests against {self.url} "
            f"in {self.wall_s:.1f} s: {self.answered} answered, {self.busy} busy, "
            f"{self.errors} error answers, {self.failed} failed"
        )
        lines.append(
            f"throughput {self.throughput:.3f} answers/s; latency (queue wait included) "
            f"p50 {latency['p50']:.2f} s, p95 {latency['p95']:.2f} s, max {latency['max']:.2f} s; "
            f"answering alone p50 {self.service()['p50']:.2f} s"
        )
        for outcome in ("error", "failed"):
            for detail, n in self.reasons(outcome).items():  # type: ignore[arg-type]
                lines.append(f"  {outcome} x{n}: {detail}")
        if self.memory is not None:
            lines.append(self.memory.line())
        return "\n".join(lines)


def _spread(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {"p50": 0.0, "p95": 0.0, "max": 0.0, "n": 0}
    return {
        "p50": round(percentile(values, 50), 3),
        "p95": round(percentile(values, 95), 3),
        "max": round(max(values), 3),
        "n": len(values),
    }


def loopback_url(url: str) -> str:
    """`url` when it names this machine (127.0.0.0/8, ::1 or localhost), else ConfigError.

    >>> loopback_url("http://127.0.0.1:7860/")
    'http://127.0.0.1:7860/'
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host:
        raise ConfigError(f"a load test needs an http:// URL of the app, got {url!r}")
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ConfigError(
            f"load tests only run against this machine (127.0.0.1, ::1 or localhost), "
            f"not {host!r}"
        )
    return url


def classify(result: object = None, error: BaseException | None = None) -> tuple[Outcome, str]:
    """The outcome of one `/ask` call from what the client returned or raised.

    Busy means exactly gradio_client's QueueError for a full queue: the client turns a 503
    from /queue/join into `QueueError("Queue is full! Please try again.")`. Any other
    QueueError is a failure. (A server shutting down also answers 503, "Queue is stopped.",
    and the client words that the same way: it counts as busy, which it is.)"""
    from gradio_client.utils import QueueError

    if error is not None:
        if isinstance(error, QueueError) and QUEUE_FULL in str(error).lower():
            return "busy", str(error)
        return "failed", f"{type(error).__name__}: {error}"[:300]
    if not isinstance(result, dict):
        return "failed", f"not an answer object: {type(result).__name__}"
    if "error" in result:
        return "error", str(result["error"])[:300]
    if "answer" not in result or "question" not in result:
        return "failed", f"an answer object without answer/question: keys {sorted(result)[:8]}"
    return "answered", ""


def read_rss_mb(pid: int, field: str = "VmRSS") -> float | None:
    """A memory line of /proc/<pid>/status in MB (VmRSS, RssAnon, RssFile), or None when
    the process is gone or the line is missing."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024  # kB
    except (OSError, ValueError, IndexError):
        return None
    return None


class _MemorySampler:
    """Reads a process's RSS every `every` seconds in a background thread."""

    def __init__(self, pid: int, every: float = SAMPLE_EVERY_S):
        self.pid, self.every = pid, every
        self.samples: list[float] = []
        self.anon: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _sample(self) -> None:
        rss, anon = read_rss_mb(self.pid), read_rss_mb(self.pid, "RssAnon")
        if rss is not None:
            self.samples.append(rss)
            self.anon.append(anon or 0.0)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self._sample()

    def start(self) -> None:
        self._sample()
        self._thread.start()

    def stop(self) -> MemoryReport | None:
        self._stop.set()
        if self._thread.ident is not None:  # never started: no user connected
            self._thread.join(timeout=5)
        self._sample()
        if not self.samples:
            return None
        n = len(self.samples)
        picks = sorted({round(i * (n - 1) / 19) for i in range(20)}) if n > 20 else range(n)
        return MemoryReport(
            pid=self.pid,
            start_mb=round(self.samples[0], 1),
            end_mb=round(self.samples[-1], 1),
            max_mb=round(max(self.samples), 1),
            samples=n,
            anon_start_mb=round(self.anon[0], 1),
            anon_end_mb=round(self.anon[-1], 1),
            trace_mb=tuple(round(self.samples[i], 1) for i in picks),
        )


class _User:
    """One reader: its own Client, its requests one after another, results kept under a
    lock so the run can close the books at its time limit while a request is in flight."""

    def __init__(self, number: int, url: str, questions: Sequence[str], start: threading.Barrier,
                 deadline: float):
        self.number, self.url, self.questions = number, url, questions
        self.start, self.deadline = start, deadline
        self.results: list[RequestResult] = []
        self.lock = threading.Lock()
        self.closed = False

    def record(self, result: RequestResult) -> None:
        with self.lock:
            if not self.closed:
                self.results.append(result)

    def close(self) -> list[RequestResult]:
        with self.lock:
            self.closed = True
            return list(self.results)

    def run(self) -> None:
        from gradio_client import Client

        client = None
        try:
            client = Client(self.url, verbose=False, analytics_enabled=False, download_files=False)
        except Exception as error:  # noqa: BLE001 (every way of failing is counted)
            detail = f"cannot connect: {type(error).__name__}: {error}"[:300]
            for n, _ in enumerate(self.questions):
                self.record(RequestResult(self.number, n, "failed", 0.0, detail))
        try:
            self.start.wait(timeout=max(0.0, self.deadline - time.monotonic()))
        except threading.BrokenBarrierError:
            pass
        if client is None:
            return
        try:
            for n, question in enumerate(self.questions):
                left = self.deadline - time.monotonic()
                if left <= 0:
                    self.record(RequestResult(self.number, n, "failed", 0.0, "not sent: time limit reached"))
                    continue
                self.record(self.ask(client, n, question, left))
        finally:
            client.close()

    def ask(self, client, n: int, question: str, left: float) -> RequestResult:
        started = time.monotonic()
        job = None
        try:
            job = client.submit(question, None, api_name="/ask")
            result = job.result(timeout=left)
        except Exception as error:  # noqa: BLE001 (every way of failing is counted)
            seconds = time.monotonic() - started
            if isinstance(error, TimeoutError) and job is not None and not job.done():
                job.cancel()
                return RequestResult(self.number, n, "failed", seconds, "no answer before the time limit")
            outcome, detail = classify(error=error)
            return RequestResult(self.number, n, outcome, seconds, detail)
        outcome, detail = classify(result)
        service = None
        if outcome == "answered":
            service = (result.get("timings") or {}).get("total")
        return RequestResult(self.number, n, outcome, time.monotonic() - started, detail, service)


def run_load_test(
    url: str,
    users: int,
    requests_per_user: int,
    questions: Sequence[str],
    timeout_s: float,
    server_pid: int | None = None,
) -> LoadReport:
    """`users` simultaneous readers each ask `requests_per_user` questions (taken in turn
    from `questions`) through `/ask` at `url`, one after another, all starting together.
    Nothing is sent after `timeout_s`; every request is counted. With `server_pid`, that
    process's RSS is sampled every half second from the moment every user is connected (when
    users and server share a process, the Clients' own set-up is not the server's load)."""
    url = loopback_url(url)
    if not 1 <= users <= MAX_USERS:
        raise ConfigError(f"users must be between 1 and {MAX_USERS}, got {users}")
    if requests_per_user < 1 or users * requests_per_user > MAX_REQUESTS:
        raise ConfigError(
            f"requests per user must be at least 1 and users x requests at most {MAX_REQUESTS}, "
            f"got {users} x {requests_per_user}"
        )
    if not 0 < timeout_s <= MAX_TIME_S:
        raise ConfigError(f"the time limit must be between 0 and {MAX_TIME_S:.0f} s, got {timeout_s}")
    if not questions:
        raise ConfigError("a load test needs at least one question")

    started = time.monotonic()
    deadline = started + timeout_s
    sampler = _MemorySampler(server_pid) if server_pid is not None else None
    released: list[float] = []  # when every user was connected and the first request went out

    def release() -> None:
        released.append(time.monotonic())
        if sampler is not None:
            sampler.start()  # memory counts from the load, not from the clients connecting

    barrier = threading.Barrier(users, action=release)
    crowd = [
        _User(
            u, url,
            [questions[(u * requests_per_user + n) % len(questions)] for n in range(requests_per_user)],
            barrier, deadline,
        )
        for u in range(users)
    ]
    threads = [threading.Thread(target=u.run, name=f"load-user-{u.number}", daemon=True) for u in crowd]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()) + 10.0)
    wall = time.monotonic() - (released[0] if released else started)
    memory = sampler.stop() if sampler is not None else None

    results: list[RequestResult] = []
    for user in crowd:
        done = user.close()
        numbers = {r.number for r in done}
        results += done
        results += [
            RequestResult(user.number, n, "failed", wall, "still running at the time limit")
            for n in range(requests_per_user) if n not in numbers
        ]
    results.sort(key=lambda r: (r.user, r.number))
    return LoadReport(url, users, requests_per_user, timeout_s, wall, tuple(results), memory)


def serve_for_load_test(pipeline) -> tuple[str, Callable[[], None]]:
    """Launch `app.create_app(pipeline)` on 127.0.0.1 at a free port, without blocking.
    Returns its URL and a function that closes it. Ratings go to a temporary store, never
    to the readers' feedback database."""
    import socket

    import app as ui
    from rag.feedback import FeedbackStore

    scratch = tempfile.TemporaryDirectory(prefix="rag-loadtest-")
    application = ui.create_app(pipeline, FeedbackStore(Path(scratch.name) / "feedback.sqlite3"))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    application.launch(
        server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
        **ui.LAUNCH_OPTIONS,
    )

    def close() -> None:
        application.close()
        scratch.cleanup()

    return f"http://127.0.0.1:{port}/", close


def judge(report: LoadReport, max_growth_mb: float = MAX_GROWTH_MB) -> list[str]:
    """What is wrong with a run: failures (busy refusals and error answers are fine: both
    are the app saying no cleanly), nothing answered, or memory growth above the bound."""
    problems = []
    if report.failed:
        problems.append(f"{report.failed} of {len(report.results)} requests failed")
    if not report.answered:
        problems.append("no request was answered")
    if report.memory is not None and report.memory.growth_mb >= max_growth_mb:
        problems.append(
            f"server memory grew {report.memory.growth_mb:.1f} MB (limit {max_growth_mb:.0f} MB)"
        )
    return problems


def _fake_pipeline(settings: Settings, scratch: Path):
    """The fake models of tests/fakes.py over the configured articles, with the index in
    `scratch` (the real index is never touched): a smoke test of the load test itself."""
    try:
        from tests.fakes import FakeEmbedder, ScriptedGenerator
    except ImportError:
        raise ConfigError(
            "the fake models live in tests/fakes.py: run from the repository root, or use the real models"
        ) from None
    from rag.pipeline import Pipeline

    def slow_answer(messages) -> str:
        time.sleep(0.2)  # long enough for requests to overlap and queue
        return "NOT_FOUND"

    fake = settings.replace(index_dir=scratch / "index", min_dense_score=0.0)
    pipeline = Pipeline(fake, embedder=FakeEmbedder(), generator=ScriptedGenerator(slow_answer))
    pipeline.build()
    return pipeline


def _client_process():
    """One fresh Python process for the users (spawned, not forked: the server's threads and
    models stay behind), used with `.apply(function, args)`."""
    import multiprocessing

    return multiprocessing.get_context("spawn").Pool(1)


def load_test_command(
    settings: Settings,
    users: int = 8,
    requests: int = 2,
    real: bool = True,
    *,
    time_limit_s: float = 600.0,
    max_growth_mb: float | None = None,
    questions: Sequence[str] = DEFAULT_QUESTIONS,
    warmup: int = 1,
) -> int:
    """Serve the app in this process (real models, or with `real=False` the fake ones),
    let every user ask `warmup` questions first, all at once as in the run (memory that fills
    once settles there: caches, scratch buffers, and the allocator's per-thread pools, which
    fill only when requests overlap), then run the load test and print a summary and the JSON.
    The users run in a child process, so the RSS measured is the server's and its models'
    alone. 0 when nothing failed (busy refusals are fine), something was answered and memory
    grew less than `max_growth_mb` (default MAX_GROWTH_MB); 1 otherwise."""
    from rag.pipeline import Pipeline

    if max_growth_mb is None:
        max_growth_mb = MAX_GROWTH_MB

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # loopback only: no telemetry
    with tempfile.TemporaryDirectory(prefix="rag-loadtest-") as scratch:
        if real:
            pipeline = Pipeline(settings)
            print(pipeline.build().summary(), flush=True)
            pipeline.warm()
        else:
            pipeline = _fake_pipeline(settings, Path(scratch))
        url, close = serve_for_load_test(pipeline)
        try:
            with _client_process() as clients:
                if warmup > 0:
                    warm = clients.apply(run_load_test, (url, users, warmup, questions, time_limit_s, os.getpid()))
                    memory = f"; {warm.memory.line()}" if warm.memory else ""
                    print(f"warm-up: {warm.answered} of {len(warm.results)} answered ({users} x {warmup}) "
                          f"in {warm.wall_s:.1f} s{memory}", flush=True)
                report = clients.apply(run_load_test, (url, users, requests, questions, time_limit_s, os.getpid()))
        finally:
            close()
    print(report.summary())
    print(json.dumps(report.to_dict(), indent=2))
    problems = judge(report, max_growth_mb)
    for problem in problems:
        print(f"FAILED: {problem}")
    return 1 if problems else 0

"""`python -m rag bench`: how fast a typical question is answered on this machine.

Prints (and optionally writes as JSON) model load times, retrieval latency percentiles
over the development questions, and time to first token and total time per question.
Numbers only: no assertions, no thresholds. The machine is shared, so run it twice
before trusting a difference.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import time
from pathlib import Path

from rag.config import ROOT, Settings

DEFAULT_QUESTIONS = ROOT / "eval" / "questions.jsonl"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _summary(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(_percentile(values, 0.5), 4),
        "p95": round(_percentile(values, 0.95), 4),
        "mean": round(statistics.fmean(values), 4) if values else 0.0,
        "n": len(values),
    }


def run_bench(settings: Settings, repeat: int = 3, output: str | None = None,
              questions_file: Path = DEFAULT_QUESTIONS) -> int:
    from rag.pipeline import Pipeline

    questions = [json.loads(line)["question"] for line in questions_file.read_text().splitlines() if line.strip()]
    pipeline = Pipeline(settings)
    results: dict = {
        "machine": {
            "cpu_count": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
            "python": platform.python_version(),
        },
        "settings": {"top_k": settings.top_k, "chunk_size": settings.chunk_size,
                     "embedder": settings.embedder, "generator": settings.generator},
    }

    started = time.perf_counter()
    report = pipeline.build()
    results["index_load_s"] = round(time.perf_counter() - started, 3)
    results["chunks"] = report.chunks

    # Retrieval, cold: the question is embedded every time (no cache), then searched.
    embedding, searching = [], []
    for _ in range(repeat):
        for question in questions:
            started = time.perf_counter()
            vector = pipeline.embedder.embed_query(question)
            embedded = time.perf_counter()
            pipeline.retriever.search_with_vector(question, vector)
            embedding.append(embedded - started)
            searching.append(time.perf_counter() - embedded)
    results["retrieval_s"] = _summary([a + b for a, b in zip(embedding, searching)])
    results["embed_question_s"] = _summary(embedding)
    results["search_s"] = _summary(searching)
    print(f"retrieval over {len(questions)} questions x {repeat}: "
          f"p50 {results['retrieval_s']['p50'] * 1000:.1f} ms, "
          f"p95 {results['retrieval_s']['p95'] * 1000:.1f} ms "
          f"(embedding the question p50 {results['embed_question_s']['p50'] * 1000:.1f} ms; "
          f"dense + BM25 + fusion p50 {results['search_s']['p50'] * 1000:.2f} ms)")

    started = time.perf_counter()
    pipeline.warm()
    results["warm_s"] = round(time.perf_counter() - started, 3)
    print(f"start-up: models loaded and constant prompt prefixes evaluated in {results['warm_s']:.2f} s")

    first_tokens, totals, sources, passage_tokens = [], [], [], []
    for question in questions[:6]:
        answer = pipeline.answer(question)
        sources.append(answer.timings.retrieval)
        passage_tokens.append(float(pipeline.generator.count_tokens(
            "\n".join(p.chunk.text for p in answer.passages))))
        if answer.timings.first_token:
            first_tokens.append(answer.timings.first_token)
        totals.append(answer.timings.total)
        print(f"  {answer.timings.first_token:5.2f} s first token, {answer.timings.total:5.2f} s total, "
              f"{passage_tokens[-1]:.0f} passage tokens: {question}")
    results["sources_shown_s"] = _summary(sources)
    results["passage_tokens"] = _summary(passage_tokens)
    results["first_token_s"] = _summary(first_tokens)
    results["total_s"] = _summary(totals)
    results["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(f"sources shown after: p50 {results['sources_shown_s']['p50'] * 1000:.0f} ms")
    print(f"first token: p50 {results['first_token_s']['p50']:.2f} s, p95 {results['first_token_s']['p95']:.2f} s")
    print(f"total:       p50 {results['total_s']['p50']:.2f} s, p95 {results['total_s']['p95']:.2f} s")
    print(f"peak memory (resident, includes the memory-mapped model): {results['peak_rss_mb']:.0f} MB")
    if output:
        Path(output).write_text(json.dumps(results, indent=2))
    return 0

"""`python -m rag bench`: the benchmark suite. One run measures, on this machine:

- machine: cores, memory bandwidth (read, 1 thread and all threads);
- build: chunks per second for embedding and for indexing the real articles, and the cost of
  updating the index after one article changed;
- retrieval at scale: dense (exact and HNSW), BM25 and hybrid latency at each size, HNSW
  recall@10, and the peer pipeline side by side (rag/bench_scale.py, rag/bench_peer.py);
- generation: prompt and decode tokens per second (1 thread and all), decode speed as a share
  of the memory-bandwidth bound (bandwidth / bytes of weights read per token);
- end to end on the development questions: when the sources are shown, first token, total,
  peak memory (measured before the synthetic collections fill the memory).

It writes bench.json and PNG plots into a run directory and prints a summary. Numbers only: no
assertions, no thresholds. The machine may be shared: run it twice before trusting a
difference; ratios within one run are the robust numbers.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import resource
import shutil
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Callable

import numpy as np

from rag.config import ROOT, Settings
from rag.stats import percentile

DEFAULT_QUESTIONS = ROOT / "eval" / "questions.jsonl"
DEFAULT_SIZES = (1_000, 10_000, 100_000, 1_000_000)


def _summary(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(values, 50), 4) if values else 0.0,
        "p95": round(percentile(values, 95), 4) if values else 0.0,
        "mean": round(statistics.fmean(values), 4) if values else 0.0,
        "n": len(values),
    }


def memory_bandwidth(gib: float = 1.0, rounds: int = 5) -> dict[str, float]:
    """Read bandwidth in GB/s: the best of `rounds` passes of an OR-reduction over a `gib`
    GiB array, with 1 thread and with one thread per core (numpy releases the GIL)."""
    data = np.ones(int(gib * 2**30) // 8, dtype=np.int64)
    result = {}
    for threads in sorted({1, os.cpu_count() or 1}):
        parts = np.array_split(data, threads)
        best = 0.0
        with ThreadPoolExecutor(threads) as pool:
            for _ in range(rounds):
                started = time.perf_counter()
                list(pool.map(np.bitwise_or.reduce, parts))
                best = max(best, data.nbytes / (time.perf_counter() - started) / 1e9)
        result[f"threads_{threads}_gb_s"] = round(best, 2)
    result["best_gb_s"] = max(result.values())
    return result


def _questions(path: Path) -> list[str]:
    return [json.loads(line)["question"] for line in path.read_text().splitlines() if line.strip()]


def measure_build(settings: Settings, log: Callable[[str], None]) -> dict:
    """Build a fresh index of a copy of the articles, rebuild it from the embedding cache
    (indexing only), then change one article and update."""
    from rag.pipeline import Pipeline

    with tempfile.TemporaryDirectory() as scratch:
        docs = Path(scratch) / "docs"
        shutil.copytree(settings.docs_dir, docs)
        pipeline = Pipeline(settings.replace(docs_dir=docs, index_dir=Path(scratch) / "index"))
        pipeline.embedder.embed_query("warm-up")  # model load is not build time
        fresh = pipeline.build()
        cached = pipeline.build(force=True)
        article = sorted(docs.glob("*.txt"))[0]
        article.write_text(article.read_text(encoding="utf-8")
                           + "\n\nEen extra alinea voor de meting van een update.\n",
                           encoding="utf-8")
        update = pipeline.build()
    embedding_s = max(fresh.seconds - cached.seconds, 1e-9)
    result = {
        "chunks": fresh.chunks,
        "fresh_build_s": round(fresh.seconds, 3),
        "embedding_chunks_per_s": round(fresh.embedded / embedding_s, 1),
        "indexing_chunks_per_s": round(cached.chunks / cached.seconds, 1),
        "update_one_article_s": round(update.seconds, 3),
        "update_embedded": update.embedded,
        "update_reused": update.reused,
    }
    log(f"build: {fresh.chunks} chunks in {fresh.seconds:.2f} s; embedding "
        f"{result['embedding_chunks_per_s']:.0f} chunks/s, indexing "
        f"{result['indexing_chunks_per_s']:.0f} chunks/s; one article changed: "
        f"{update.seconds:.2f} s ({update.embedded} chunks embedded, {update.reused} reused)")
    return result


def scale_seed(pipeline, questions: list[str]):
    """The real vectors and questions the synthetic collections are fitted to."""
    from rag.analysis import tokenize
    from rag.bench_scale import Query, Seed

    index = pipeline.index
    chunk_vectors = index.store.vectors(list(range(len(index))))
    sentence_vectors = pipeline.embedder.embed_passages(
        [s for c in index.chunks for s in _sentences(c.text)]
    )
    vectors = pipeline.embedder.embed_batch(questions, "query")
    return Seed(
        vectors=np.vstack([chunk_vectors, sentence_vectors]).astype(np.float32),
        chunk_vectors=np.asarray(chunk_vectors, dtype=np.float32),
        chunk_tokens=[tokenize(c.text) for c in index.chunks],
        questions=[Query(q, np.asarray(v, dtype=np.float32), tuple(tokenize(q)))
                   for q, v in zip(questions, vectors)],
    )


def _sentences(text: str) -> list[str]:
    from rag.chunking import split_sentences

    return [text[a:b] for a, b in split_sentences(text)] or [text]


def measure_generation(pipeline, log: Callable[[str], None], bandwidth: dict[str, float]) -> dict:
    from rag.generation import LlamaCppGenerator

    generator = pipeline.generator
    if not isinstance(generator, LlamaCppGenerator):
        log(f"generation speed: skipped ({generator.id} is not the llama.cpp generator)")
        return {}
    import llama_cpp

    text = "\n\n".join(c.text for c in pipeline.index.chunks)
    result: dict = {"model_bytes": generator.model_bytes, "threads": {},
                    "llama_cpp_build": llama_cpp.llama_print_system_info().decode().strip()}
    for threads in sorted({1, generator.n_threads}):
        subject = generator if threads == generator.n_threads else generator.with_threads(threads)
        prompt, decode = subject.measure_speed(text, prompt_tokens=512, decode_tokens=64)
        result["threads"][str(threads)] = {"prompt_tokens_per_s": round(prompt, 1),
                                           "decode_tokens_per_s": round(decode, 2)}
        log(f"generation, {threads} thread{'s' if threads > 1 else ''}: prompt {prompt:.0f} "
            f"tokens/s, decode {decode:.1f} tokens/s")
    best = result["threads"][str(generator.n_threads)]
    bound = bandwidth["best_gb_s"] * 1e9 / result["model_bytes"]
    result["bandwidth_bound_tokens_per_s"] = round(bound, 2)
    result["decode_share_of_bound"] = round(best["decode_tokens_per_s"] / bound, 3)
    log(f"decode vs memory bandwidth: {bandwidth['best_gb_s']:.1f} GB/s / "
        f"{result['model_bytes'] / 1e9:.2f} GB per token = {bound:.1f} tokens/s bound; "
        f"measured {best['decode_tokens_per_s']:.1f} = {result['decode_share_of_bound']:.0%}")
    return result


def _reset_peak_memory() -> bool:
    """Reset the kernel's resident-memory high-water mark (Linux); False where impossible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _peak_memory_mb() -> float:
    """VmHWM (peak resident memory since the last reset) or, without /proc, ru_maxrss."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def measure_end_to_end(pipeline, questions: list[str], log: Callable[[str], None]) -> dict:
    """Answer `questions`; peak memory counts from the first question (not the benchmark's
    own buffers and second model mapping before it)."""
    _reset_peak_memory()
    first_tokens, totals, sources, passage_tokens = [], [], [], []
    for question in questions:
        answer = pipeline.answer(question)
        sources.append(answer.timings.retrieval)
        passage_tokens.append(float(pipeline.generator.count_tokens(
            "\n".join(p.chunk.text for p in answer.passages))))
        if answer.timings.first_token:
            first_tokens.append(answer.timings.first_token)
        totals.append(answer.timings.total)
        log(f"  {answer.timings.first_token:5.2f} s first token, {answer.timings.total:5.2f} s "
            f"total, {passage_tokens[-1]:.0f} passage tokens: {question}")
    result = {
        "questions": len(questions),
        "sources_shown_s": _summary(sources),
        "passage_tokens": _summary(passage_tokens),
        "first_token_s": _summary(first_tokens),
        "total_s": _summary(totals),
        "peak_rss_mb": _peak_memory_mb(),
    }
    log(f"sources shown after: p50 {result['sources_shown_s']['p50'] * 1000:.0f} ms, "
        f"p95 {result['sources_shown_s']['p95'] * 1000:.0f} ms")
    log(f"first token: p50 {result['first_token_s']['p50']:.2f} s, "
        f"p95 {result['first_token_s']['p95']:.2f} s")
    log(f"total:       p50 {result['total_s']['p50']:.2f} s, p95 {result['total_s']['p95']:.2f} s")
    log(f"peak memory (resident, includes the memory-mapped model): {result['peak_rss_mb']:.0f} MB")
    return result


def run_bench(settings: Settings, repeat: int = 3, output: str | None = None,
              questions_file: Path = DEFAULT_QUESTIONS, sizes: tuple[int, ...] = DEFAULT_SIZES,
              peer: bool = True, answers: int = 6, log: Callable[[str], None] = print) -> int:
    from rag.bench_plots import write_plots
    from rag.bench_scale import measure_size
    from rag.pipeline import Pipeline

    run_dir = Path(output) if output else (
        settings.runs_dir / f"bench-{datetime.now().strftime('%Y%m%d-%H%M%S')}")
    run_dir.mkdir(parents=True, exist_ok=True)
    questions = _questions(questions_file)
    results: dict = {
        "machine": {
            "cpu_count": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
            "python": platform.python_version(),
            "memory_bandwidth": memory_bandwidth(),
        },
        "settings": {"top_k": settings.top_k, "candidates": settings.candidates,
                     "chunk_size": settings.chunk_size, "embedder": settings.embedder,
                     "generator": settings.generator, "n_threads": settings.n_threads,
                     "approximate_above": settings.approximate_above},
    }
    bandwidth = results["machine"]["memory_bandwidth"]
    log(f"memory bandwidth (read): {bandwidth['best_gb_s']:.1f} GB/s "
        f"({', '.join(f'{k}: {v}' for k, v in bandwidth.items() if k != 'best_gb_s')})")
    results["build"] = measure_build(settings, log)

    pipeline = Pipeline(settings)
    pipeline.build()
    embedding = []
    for _ in range(repeat):
        for question in questions:
            started = time.perf_counter()
            pipeline.embedder.embed_query(question)
            embedding.append(time.perf_counter() - started)
    results["embed_question_s"] = _summary(embedding)
    log(f"embedding a question: p50 {results['embed_question_s']['p50'] * 1000:.1f} ms "
        f"(the same at every collection size; not part of the search numbers below)")

    started = time.perf_counter()
    pipeline.warm()
    results["warm_s"] = round(time.perf_counter() - started, 3)
    log(f"start-up: models loaded and constant prompt prefixes evaluated in {results['warm_s']:.2f} s")
    results["generation"] = measure_generation(pipeline, log, bandwidth)
    results["end_to_end"] = measure_end_to_end(pipeline, questions[:answers], log)
    (run_dir / "bench.json").write_text(json.dumps(results, indent=2))

    if sizes:
        seed = scale_seed(pipeline, questions)
        if peer:
            peer = _peer_available(log)
        log("retrieval at scale (synthetic passages, real questions, question already embedded):")
        results["scale"] = []
        for n in sizes:
            results["scale"].append(measure_size(seed, n, settings, repeat=repeat, peer=peer,
                                                 log=log))
            gc.collect()
            (run_dir / "bench.json").write_text(json.dumps(results, indent=2))

    (run_dir / "bench.json").write_text(json.dumps(results, indent=2))
    for path in write_plots(results, run_dir):
        log(f"wrote {path}")
    log(f"wrote {run_dir / 'bench.json'}")
    return 0


def _peer_available(log: Callable[[str], None]) -> bool:
    try:
        import langchain_community  # noqa: F401
    except ImportError:
        log("peer pipeline: skipped (pip install -r requirements-bench.txt, or make bench)")
        return False
    return True

"""PNG plots of a `python -m rag bench` result (the dict written to bench.json).

retrieval.png    search latency p95 per collection size (log-log) and HNSW recall@10
generation.png   prompt and decode speed per thread count, and the memory-bandwidth bound
end_to_end.png   when the sources are shown, the first token and the whole answer (p50, p95)

Plots only what the result holds: a section the run skipped gives no plot.
"""

from __future__ import annotations

from pathlib import Path


def write_plots(results: dict, run_dir: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    scale = results.get("scale") or []
    if scale:
        sizes = [row["passages"] for row in scale]
        figure, (latency, recall) = plt.subplots(1, 2, figsize=(11, 4))
        series = [
            ("hybrid (this project, auto index)", lambda r: r["hybrid"]),
            ("dense, exact (flat)", lambda r: r["dense_flat"]),
            ("dense, HNSW", lambda r: r["dense_hnsw"]),
            ("BM25 (bm25s)", lambda r: r["bm25"]),
        ]
        if all("peer" in row for row in scale):
            series.append(("peer: LangChain FAISS + BM25 ensemble", lambda r: r["peer"]["hybrid"]))
        for label, pick in series:
            latency.plot(sizes, [pick(row)["p95_ms"] for row in scale], marker="o", label=label)
        latency.set_xscale("log")
        latency.set_yscale("log")
        latency.set_xlabel("passages")
        latency.set_ylabel("search latency p95 (ms)")
        latency.set_title("Retrieval latency (question already embedded)")
        latency.grid(True, which="both", alpha=0.3)
        latency.legend(fontsize=7)
        for key, label in (("questions", "development questions"), ("fresh_queries", "fresh queries")):
            recall.plot(sizes, [row["hnsw_recall_at_10"][key] for row in scale], marker="o",
                        label=label)
        recall.axhline(0.95, color="grey", linestyle="--", label="target 0.95")
        recall.set_xscale("log")
        recall.set_ylim(0.8, 1.005)
        recall.set_xlabel("passages")
        recall.set_ylabel("recall@10 vs exact search")
        recall.set_title("HNSW recall (efSearch tuned at build time)")
        recall.grid(True, alpha=0.3)
        recall.legend(fontsize=7)
        figure.tight_layout()
        written.append(_save(figure, run_dir / "retrieval.png", plt))

    generation = results.get("generation") or {}
    if generation.get("threads"):
        threads = sorted(generation["threads"], key=int)
        figure, (prompt, decode) = plt.subplots(1, 2, figsize=(9, 3.5))
        prompt.bar([f"{t} thread(s)" for t in threads],
                   [generation["threads"][t]["prompt_tokens_per_s"] for t in threads])
        prompt.set_ylabel("prompt tokens/s")
        prompt.set_title("Prompt processing")
        labels = [f"{t} thread(s)" for t in threads] + ["bandwidth bound"]
        values = [generation["threads"][t]["decode_tokens_per_s"] for t in threads]
        values.append(generation["bandwidth_bound_tokens_per_s"])
        decode.bar(labels, values, color=["C0"] * len(threads) + ["grey"])
        decode.set_ylabel("decode tokens/s")
        decode.set_title(f"Decode: {generation['decode_share_of_bound']:.0%} of the bound")
        figure.tight_layout()
        written.append(_save(figure, run_dir / "generation.png", plt))

    end_to_end = results.get("end_to_end") or {}
    if end_to_end.get("total_s", {}).get("n"):
        names = [("sources shown", "sources_shown_s"), ("first token", "first_token_s"),
                 ("whole answer", "total_s")]
        figure, axes = plt.subplots(figsize=(7, 3.2))
        positions = range(len(names))
        axes.barh([p + 0.2 for p in positions], [end_to_end[k]["p50"] for _, k in names],
                  height=0.4, label="p50")
        axes.barh([p - 0.2 for p in positions], [end_to_end[k]["p95"] for _, k in names],
                  height=0.4, label="p95")
        axes.set_yticks(list(positions), [n for n, _ in names])
        axes.set_xlabel("seconds after the question")
        axes.set_title(f"End to end ({end_to_end['questions']} development questions)")
        axes.legend()
        figure.tight_layout()
        written.append(_save(figure, run_dir / "end_to_end.png", plt))
    return written


def _save(figure, path: Path, plt) -> Path:
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path

"""Evaluation runs on disk: one directory per run, a readable report, and comparisons.

answers + scores + summary -> runs/<name>/{answers.jsonl, scores.jsonl, metrics.json,
report.md, metrics.png, latency.png}; two such directories -> a comparison table.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Mapping, Sequence

from rag.errors import RagError
from rag.evaluation import AnswerScore

# Metrics shown in reports and comparisons, in order, with what they mean.
METRICS: dict[str, str] = {
    "evidence_recall": "answerable questions whose evidence is in the passages given (recall@k)",
    "answer_correct": "answerable questions answered with every expected fact",
    "abstention_precision": "abstentions that were right (the question was unanswerable)",
    "abstention_recall": "unanswerable questions the system abstained on",
    "language_match": "answers in the language of the question",
    "citations_valid": "answers whose [n] all point to a given passage",
    "citation_recall": "ALCE: answer sentences their cited passages support (mean per answer)",
    "citation_precision": "ALCE: citations that are needed for their sentence (mean per answer)",
    "faithfulness": "answer sentences supported by their cited passages (all sentences)",
    "contradicted_share": "answer sentences their cited passages contradict",
}
_RUN_NAME = re.compile(r"^[\w.-]{1,80}$")


class RunError(RagError):
    """An evaluation run directory is missing or unreadable."""


@dataclass(frozen=True)
class Run:
    path: Path
    metrics: dict  # metrics.json: {"summary", "meta"}
    scores: list[dict]  # scores.jsonl rows

    @property
    def summary(self) -> dict:
        return self.metrics["summary"]


def new_run_dir(runs_dir: Path, name: str | None = None) -> Path:
    """A fresh directory under `runs_dir`, named by the time (and `name` when given)."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    label = f"{stamp}-{name}" if name else stamp
    if not _RUN_NAME.match(label):
        raise RunError(f"run name {name!r}: use letters, digits, '.', '-' or '_' (at most 60)")
    path = Path(runs_dir) / label
    suffix = 1
    while path.exists():
        suffix += 1
        path = Path(runs_dir) / f"{label}-{suffix}"
    path.mkdir(parents=True)
    return path


def write_run(
    path: Path,
    answers: Sequence[Mapping],
    scores: Sequence[AnswerScore],
    summary: Mapping,
    meta: Mapping,
) -> None:
    """Write a run's files into `path` (which exists)."""
    path = Path(path)
    _write_lines(path / "answers.jsonl", answers)
    _write_lines(path / "scores.jsonl", [s.to_dict() for s in scores])
    metrics = {"summary": dict(summary), "meta": dict(meta)}
    (path / "metrics.json").write_text(json.dumps(metrics, ensure_ascii=False, indent=2) + "\n")
    plots = _plot(path, summary, scores)
    (path / "report.md").write_text(markdown_report(metrics, [s.to_dict() for s in scores], answers, plots))


def _write_lines(path: Path, rows: Sequence[Mapping]) -> None:
    with open(path, "w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def load_run(path: Path) -> Run:
    path = Path(path)
    try:
        metrics = json.loads((path / "metrics.json").read_text(encoding="utf-8"))
        scores = [
            json.loads(line)
            for line in (path / "scores.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
    except FileNotFoundError as error:
        raise RunError(f"{path} is not an evaluation run: {Path(error.filename).name} is missing") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise RunError(f"{path}: unreadable run file ({error})") from None
    return Run(path, metrics, scores)


def _format(value) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def markdown_report(
    metrics: Mapping, scores: Sequence[Mapping], answers: Sequence[Mapping], plots: Sequence[str] = ()
) -> str:
    summary, meta = metrics["summary"], metrics["meta"]
    lines = [
        f"# Evaluation run {meta.get('name', '')}".rstrip(),
        "",
        f"- questions: {meta.get('questions_file', '?')} ({summary['questions']})",
        f"- answers: {meta.get('answers_from', '?')}",
        f"- verifier: {meta.get('verifier', 'none')}",
        f"- created: {meta.get('created', '?')}",
        "",
        "| metric | value | meaning |",
        "|---|---|---|",
    ]
    lines += [f"| {key} | {_format(summary.get(key))} | {meaning} |" for key, meaning in METRICS.items()]
    if summary.get("latency"):
        lines += ["", "| latency (s) | p50 | p95 | max |", "|---|---|---|---|"]
        for stage, values in summary["latency"].items():
            lines.append(f"| {stage} | {values['p50']:.3f} | {values['p95']:.3f} | {values['max']:.3f} |")
    lines += [""] + [f"![{name}]({name})" for name in plots]
    lines += ["", "## Per question", "", "| id | correct | evidence | cit. recall | cit. precision | answer |", "|---|---|---|---|---|---|"]
    by_id = {str(a.get("id")): a for a in answers}
    for score in scores:
        text = str(by_id.get(score["id"], {}).get("answer", "")).replace("|", "\\|").replace("\n", " ")
        lines.append(
            f"| {score['id']} | {'yes' if score['correct'] else 'NO'} | {_format(score['evidence_retrieved'])} "
            f"| {_format(score['citation_recall'])} | {_format(score['citation_precision'])} | {text[:200]} |"
        )
    unsupported = [
        (score["id"], v) for score in scores for v in score["verified"] if v["verdict"]["label"] != "supported"
    ]
    if unsupported:
        lines += ["", "## Sentences the verifier did not find supported", ""]
        lines += [
            f"- {qid} [{v['verdict']['label']}] {v['text']} ({v['verdict']['reason']})" for qid, v in unsupported
        ]
    return "\n".join(lines) + "\n"


def _plot(path: Path, summary: Mapping, scores: Sequence[AnswerScore]) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    names = [k for k in METRICS if isinstance(summary.get(k), (int, float))]
    if names:
        figure, axes = plt.subplots(figsize=(8, 4))
        values = [summary[k] for k in names]
        axes.barh(names[::-1], values[::-1], color="#2a6")
        axes.set_xlim(0, 1)
        for y, value in enumerate(values[::-1]):
            axes.text(min(value + 0.01, 0.93), y, f"{value:.2f}", va="center")
        axes.set_title("Quality metrics")
        figure.tight_layout()
        figure.savefig(path / "metrics.png", dpi=100)
        plt.close(figure)
        written.append("metrics.png")
    stages = [s for s in ("retrieval", "first_token", "total") if any(s in a.timings for a in scores)]
    if stages:
        figure, axes = plt.subplots(figsize=(8, 3.5))
        axes.boxplot([[a.timings[s] for a in scores if s in a.timings] for s in stages], vert=False)
        axes.set_yticks(range(1, len(stages) + 1), stages)
        axes.set_xlabel("seconds")
        axes.set_title("Latency per question")
        figure.tight_layout()
        figure.savefig(path / "latency.png", dpi=100)
        plt.close(figure)
        written.append("latency.png")
    return written


def compare_runs(a: Run, b: Run) -> str:
    """Markdown: each metric in both runs with the change, then the questions whose
    correctness or citation scores changed."""
    lines = [
        f"# {a.path.name} → {b.path.name}",
        "",
        "| metric | A | B | change |",
        "|---|---|---|---|",
    ]
    for key in METRICS:
        va, vb = a.summary.get(key), b.summary.get(key)
        change = f"{vb - va:+.3f}" if isinstance(va, (int, float)) and isinstance(vb, (int, float)) else ""
        lines.append(f"| {key} | {_format(va)} | {_format(vb)} | {change} |")
    for stage in ("first_token", "total"):
        la, lb = a.summary.get("latency", {}).get(stage), b.summary.get("latency", {}).get(stage)
        if la and lb:
            lines.append(f"| {stage} p50 (s) | {la['p50']:.3f} | {lb['p50']:.3f} | {lb['p50'] - la['p50']:+.3f} |")

    rows_a = {row["id"]: row for row in a.scores}
    rows_b = {row["id"]: row for row in b.scores}
    changed = []
    for qid in list(rows_a) + [q for q in rows_b if q not in rows_a]:
        ra, rb = rows_a.get(qid), rows_b.get(qid)
        if ra is None or rb is None:
            changed.append(f"| {qid} | {'only in B' if ra is None else 'only in A'} | | |")
            continue
        fields = [
            (name, ra.get(name), rb.get(name))
            for name in ("correct", "citation_recall", "citation_precision")
            if ra.get(name) != rb.get(name)
        ]
        if fields:
            what = ", ".join(f"{name} {_format(x)} → {_format(y)}" for name, x, y in fields)
            changed.append(f"| {qid} | {what} |")
    lines += ["", f"## Questions that changed ({len(changed)})", ""]
    lines += (["| id | change |", "|---|---|"] + changed) if changed else ["none"]
    return "\n".join(lines) + "\n"

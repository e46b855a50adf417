"""Measure retrieval evidence recall for chunk sizes and overlaps (the README's table).

    python scripts/tune_chunking.py [--questions eval/questions.jsonl] [--top-k 5]

Builds a throw-away index per setting in a temporary directory with the real embedder.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from rag.config import ROOT, Settings
from rag.evaluation import evidence_found, load_questions
from rag.pipeline import Pipeline


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", type=Path, default=ROOT / "eval" / "questions.jsonl")
    parser.add_argument("--sizes", default="200,300,400,500,700,1000")
    parser.add_argument("--overlaps", default="0,1")
    parser.add_argument("--top-k", default="3,5")
    parser.add_argument("--budgets", default="0", help="passage_chars values (0: whole chunks)")
    args = parser.parse_args()
    questions = [q for q in load_questions(args.questions) if q.answerable]
    top_ks = [int(k) for k in args.top_k.split(",")]
    embedder = None
    print("size overlap budget chunks " + " ".join(f"recall@{k}" for k in top_ks) + "  avg_chars@max_k  missed@max_k")
    for size in (int(s) for s in args.sizes.split(",")):
        for overlap, budget in ((int(o), int(b)) for o in args.overlaps.split(",") for b in args.budgets.split(",")):
            with tempfile.TemporaryDirectory() as tmp:
                settings = Settings.from_env(index_dir=Path(tmp), chunk_size=size, chunk_overlap=overlap,
                                             top_k=max(top_ks), candidates=max(30, max(top_ks)),
                                             passage_chars=budget, min_dense_score=0.0)
                pipeline = Pipeline(settings, embedder=embedder)
                report = pipeline.build()
                embedder = pipeline.embedder
                recalls, missed, chars = [], [], 0
                for k in top_ks:
                    hits = 0
                    for q in questions:
                        passages = pipeline.retrieve(q.question, k)
                        if evidence_found(q, passages):
                            hits += 1
                        elif k == max(top_ks):
                            missed.append(q.id)
                        if k == max(top_ks):
                            chars += sum(len(p.chunk.text) for p in passages)
                    recalls.append(hits / len(questions))
                print(f"{size:4d} {overlap:7d} {budget:6d} {report.chunks:6d} "
                      + " ".join(f"{r:8.2f}" for r in recalls)
                      + f"  {chars / len(questions):14.0f}  {','.join(missed)}", flush=True)


if __name__ == "__main__":
    main()

"""How long a briefing takes, and how that grows with the number of articles.

    .venv/bin/python scripts/bench_briefing.py [--sizes 2 4 8 16]

Size 2 is the two real articles. Larger sizes add copies of them under new ids, each copy's
numbers shifted ("589" -> "590", …) so that every copy is new content for the notes cache
and a new set of figures. Each size is measured cold (notes extracted, cache empty) and warm
(notes from the cache: what a second briefing over the same coverage costs), with the
packaged e5 embedder and the signal verifier, in Dutch (no generator calls).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.briefing import Briefer  # noqa: E402
from rag.config import Settings  # noqa: E402
from rag.pipeline import Pipeline  # noqa: E402
from rag.verifier import SignalVerifier  # noqa: E402


def shifted(text: str, by: int) -> str:
    return re.sub(r"\d+", lambda m: str(int(m.group(0)) + by), text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2, 4, 8, 16])
    args = parser.parse_args()

    pipeline = Pipeline(Settings.from_env())
    index = pipeline.index
    embedder = pipeline.embedder
    verifier = SignalVerifier(embedder, pipeline.settings.min_support_similarity)
    base_chunks = list(index.chunks)
    base_articles = dict(index.articles)
    results = []
    for size in args.sizes:
        chunks, articles = [], {}
        for copy in range((size + len(base_articles) - 1) // len(base_articles)):
            for article_id, meta in base_articles.items():
                if len(articles) == size:
                    break
                new_id = article_id if copy == 0 else f"{article_id}-copy{copy}"
                articles[new_id] = replace(meta, id=new_id)
                chunks += [
                    replace(c, id=c.id.replace(article_id, new_id), article_id=new_id,
                            text=c.text if copy == 0 else shifted(c.text, copy))
                    for c in base_chunks
                    if c.article_id == article_id
                ]
        with tempfile.TemporaryDirectory() as notes_dir:
            timings = {}
            for run in ("cold", "warm"):
                briefer = Briefer(chunks, articles, embedder, verifier, Path(notes_dir))
                started = time.perf_counter()
                briefing = briefer.brief()
                timings[run] = round(time.perf_counter() - started, 2)
        row = {
            "articles": size,
            "passages": len(chunks),
            "cold_s": timings["cold"],
            "warm_s": timings["warm"],
            "figures": len(briefing.figures),
            "quotes": len(briefing.quotes),
            "disagreements": len(briefing.disagreements),
        }
        results.append(row)
        print(
            f"{size:3d} articles {len(chunks):4d} passages: cold {timings['cold']:6.1f} s, "
            f"warm {timings['warm']:6.1f} s ({row['figures']} figures, {row['quotes']} quotes, "
            f"{row['disagreements']} disagreements)",
            flush=True,
        )
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

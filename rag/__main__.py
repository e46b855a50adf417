"""Command line: `python -m rag build | ask | chat | summarize | eval | verify | feedback | bench | loadtest`.

`ask --jsonl` is the stable interface for evaluators and other tools: one JSON request a
line on stdin, one answer object a line on stdout, models loaded once. Errors become one
line on stderr (or an `error` field in --jsonl mode), never a stack trace.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Callable, Sequence, TextIO

from rag.config import Settings
from rag.errors import ConfigError, RagError


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rag", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    commands = parser.add_subparsers(dest="command", required=True)

    build = commands.add_parser("build", help="build or update the index")
    build.add_argument("--force", action="store_true", help="rebuild even when up to date")

    ask = commands.add_parser("ask", help="answer a question with cited sources")
    ask.add_argument("question", nargs="?", help="the question (omit with --jsonl)")
    ask.add_argument("--json", action="store_true", help="print one answer object")
    ask.add_argument(
        "--jsonl",
        action="store_true",
        help='read {"id", "question"} lines on stdin, write answer objects on stdout',
    )

    evaluate = commands.add_parser(
        "eval", help="score answers to a question file (ours, or another system's with --answers)"
    )
    evaluate.add_argument("--questions", default=None, help="JSONL questions (default: eval/questions.jsonl)")
    evaluate.add_argument(
        "--answers", help="answer objects (ask --jsonl format, matched by id) to score instead of answering"
    )
    evaluate.add_argument("--name", help="a label for the run directory")
    evaluate.add_argument("--floor", help="JSON {metric: minimum}; exit 1 when a metric is below it")
    evaluate.add_argument(
        "--compare", nargs=2, metavar=("RUN_A", "RUN_B"), help="compare two run directories instead"
    )

    summarize = commands.add_parser("summarize", help="a cited briefing of the coverage (Markdown)")
    summarize.add_argument("--articles", nargs="+", default=[], metavar="ID", help="article ids (default: all)")
    summarize.add_argument("--topic", help="only what speaks to this topic")
    summarize.add_argument("--lang", choices=("nl", "en"), default="nl", help="language of the briefing")
    summarize.add_argument("--output", help="write the Markdown to this file instead of standard output")

    verify = commands.add_parser("verify", help="judge claims against passages")
    verify.add_argument(
        "--jsonl",
        action="store_true",
        help='read {"claim", "passages": [text, ...]} lines on stdin, write {"label", "score"} lines',
    )
    verify.add_argument("--pairs", help="score the verifier on a labelled pair file (eval/verifier_pairs.jsonl)")
    verify.add_argument("--split", help="only the pairs of this split (dev or test)")

    feedback = commands.add_parser("feedback", help="export the readers' feedback")
    feedback.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    feedback.add_argument("--output", help="file to write (default: standard output)")

    commands.add_parser("chat", help="a conversation in the terminal (follow-ups understood)")

    bench = commands.add_parser(
        "bench", help="benchmark suite: build, retrieval at scale, generation, end to end"
    )
    bench.add_argument("--repeat", type=int, default=3, help="runs of each question")
    bench.add_argument("--output", help="run directory for bench.json and the plots "
                       "(default: runs/bench-<time>)")
    bench.add_argument("--sizes", default=",".join(str(n) for n in (1_000, 10_000, 100_000, 1_000_000)),
                       help="synthetic collection sizes, comma-separated ('' to skip)")
    bench.add_argument("--no-peer", action="store_true", help="skip the LangChain peer pipeline")
    bench.add_argument("--answers", type=int, default=6,
                       help="development questions answered end to end")

    loadtest = commands.add_parser(
        "loadtest", help="concurrent users against the app on loopback: answered, busy, latency, memory"
    )
    loadtest.add_argument("--users", type=int, default=8, help="simultaneous users (1-64)")
    loadtest.add_argument("--requests", type=int, default=2, help="questions per user")
    loadtest.add_argument("--time-limit", type=float, default=600, help="seconds for the whole run")
    loadtest.add_argument("--warmup", type=int, default=1,
                          help="questions each user asks before the measured run, all users at once "
                               "(memory counts from there)")
    loadtest.add_argument("--fake", action="store_true", help="fake models (tests the serving path only)")

    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        settings = Settings.from_env()
        if args.command == "build":
            return _build(settings, args.force)
        if args.command == "ask":
            if args.jsonl:
                return _ask_jsonl(settings, sys.stdin, sys.stdout)
            if not args.question:
                parser.error("ask needs a question (or --jsonl)")
            return _ask(settings, args.question, args.json)
        if args.command == "eval":
            if args.compare:
                return _compare(*args.compare)
            return _eval(settings, args.questions, args.answers, args.name, args.floor)
        if args.command == "summarize":
            return _summarize(settings, args.articles, args.topic, args.lang, args.output)
        if args.command == "verify":
            if args.pairs:
                return _verify_pairs(settings, args.pairs, args.split)
            if not args.jsonl:
                parser.error("verify needs --jsonl or --pairs FILE")
            return _verify_jsonl(settings, sys.stdin, sys.stdout)
        if args.command == "feedback":
            return _export_feedback(settings, args.format, args.output)
        if args.command == "chat":
            return _chat(settings, sys.stdin, sys.stdout)
        if args.command == "loadtest":
            from rag.loadtest import load_test_command

            return load_test_command(
                settings, args.users, args.requests, real=not args.fake, time_limit_s=args.time_limit,
                warmup=args.warmup,
            )
        if args.command == "bench":
            from rag.bench import run_bench

            return run_bench(
                settings, repeat=args.repeat, output=args.output, sizes=_sizes(args.sizes),
                peer=not args.no_peer, answers=args.answers,
            )
    except RagError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 2


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(float(part)) for part in text.split(",") if part.strip())
    except ValueError:
        raise ConfigError(f"--sizes must be numbers separated by commas, got {text!r}") from None
    if any(n < 1 for n in sizes):
        raise ConfigError(f"--sizes must be positive, got {text!r}")
    return sizes


def _pipeline(settings: Settings):
    from rag.pipeline import Pipeline

    pipeline = Pipeline(settings)
    report = pipeline.build()
    if report.reason != "up to date":
        print(report.summary(), file=sys.stderr)
    for skipped in report.skipped:
        print(f"skipped {skipped.path}: {skipped.reason}", file=sys.stderr)
    pipeline.warm()
    return pipeline


def _build(settings: Settings, force: bool) -> int:
    from rag.pipeline import Pipeline

    report = Pipeline(settings).build(force=force)
    print(report.summary())
    for skipped in report.skipped:
        print(f"skipped {skipped.path}: {skipped.reason}")
    return 0


def _ask(settings: Settings, question: str, as_json: bool) -> int:
    pipeline = _pipeline(settings)
    answer = pipeline.answer(question)
    if as_json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        from rag.render import plain_text

        print(plain_text(answer))
    return 0


def _serve_jsonl(stdin: TextIO, stdout: TextIO, handle: Callable[[object, int], dict], blank: dict) -> int:
    """One JSON value per input line -> `handle(value, line number)` -> one JSON object per
    output line. A line that is not JSON gets `blank` with an "error"; any result with an
    "error" makes the exit status 1, and the loop goes on."""
    failures = 0
    for line_number, line in enumerate(stdin, 1):
        if not line.strip():
            continue
        try:
            result = handle(json.loads(line), line_number)
        except json.JSONDecodeError as error:
            result = {**blank, "error": f"line {line_number} is not JSON: {error.msg}"}
        failures += "error" in result
        stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        stdout.flush()
    return 1 if failures else 0


def _ask_jsonl(settings: Settings, stdin: TextIO, stdout: TextIO) -> int:
    pipeline = _pipeline(settings)

    def answer(request: object, line_number: int) -> dict:
        if not isinstance(request, dict) or not isinstance(request.get("question"), str):
            return {"id": None, "error": 'each line needs a JSON object with a "question" string'}
        try:
            return pipeline.answer(request["question"]).to_dict(id=request.get("id"))
        except RagError as error:
            return {"id": request.get("id"), "error": str(error)}

    return _serve_jsonl(stdin, stdout, answer, {"id": None})


def _eval(
    settings: Settings,
    questions_path: str | None,
    answers_path: str | None,
    name: str | None,
    floor_path: str | None,
) -> int:
    import time
    from datetime import datetime, timezone

    from rag.config import ROOT
    from rag.evaluation import below_floor, load_questions, score_answer, summarise
    from rag.report import new_run_dir, write_run
    from rag.verifier import make_verifier

    questions_file = Path(questions_path) if questions_path else ROOT / "eval" / "questions.jsonl"
    try:
        questions = load_questions(questions_file)
        floor = json.loads(Path(floor_path).read_text()) if floor_path else {}
        floor = floor.get("answers", floor)  # eval/quality_floor.json also holds the verifier's
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if answers_path:
        answers = _read_answers(Path(answers_path), [q.id for q in questions])
        if answers is None:
            return 1
        pipeline = None
        verifier = make_verifier(settings)
    else:
        pipeline = _pipeline(settings)
        verifier = make_verifier(settings, pipeline.embedder, pipeline.generator)
        answers = {}
    started = time.perf_counter()
    scored, scores = [], []
    for question in questions:
        if pipeline is not None:
            answers[question.id] = pipeline.answer(question.question).to_dict(id=question.id)
        answer = answers[question.id]
        score = score_answer(question, answer, verifier)
        scored.append(answer)
        scores.append(score)
        verdict = "ok  " if score.correct else "MISS"
        first_token = score.timings.get("first_token")
        timing = f"{first_token:5.2f}s " if first_token is not None else ""
        print(f"{verdict} {question.id} {timing}{question.question}\n     -> {answer.get('answer', '')}", flush=True)
    summary = summarise(scores)
    run_dir = new_run_dir(settings.runs_dir, name)
    meta = {
        "name": run_dir.name,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "questions_file": str(questions_file),
        "answers_from": answers_path or "this pipeline",
        "verifier": verifier.name,
        "seconds": round(time.perf_counter() - started, 1),
        "settings": {
            key: str(value) for key, value in vars(settings).items() if not key.endswith("api_key")
        },
    }
    write_run(run_dir, scored, scores, summary, meta)
    print(json.dumps(summary, indent=2))
    print(f"run written to {run_dir} (report.md)", file=sys.stderr)
    failures = below_floor(summary, floor)
    for failure in failures:
        print(f"below the quality floor: {failure}", file=sys.stderr)
    return 1 if failures else 0


def _read_answers(path, ids: list[str]) -> dict[str, dict] | None:
    """Answer objects by id from a JSONL file; None (with a message) when unusable."""
    answers: dict[str, dict] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        print(f"error: cannot read {path}: {error}", file=sys.stderr)
        return None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            answer = json.loads(line)
        except json.JSONDecodeError as error:
            print(f"error: {path}:{number}: not JSON ({error.msg})", file=sys.stderr)
            return None
        if not isinstance(answer, dict) or "id" not in answer:
            print(f"error: {path}:{number}: an answer object needs an \"id\"", file=sys.stderr)
            return None
        answers[str(answer["id"])] = answer
    missing = [i for i in ids if i not in answers]
    if missing:
        print(f"error: {path} has no answer for {', '.join(missing)}", file=sys.stderr)
        return None
    return answers


def _summarize(settings: Settings, articles: list[str], topic: str | None, language: str, output: str | None) -> int:
    from rag.briefing import make_briefer
    from rag.pipeline import Pipeline

    pipeline = Pipeline(settings)
    report = pipeline.build()
    if report.reason != "up to date":
        print(report.summary(), file=sys.stderr)
    briefer = make_briefer(pipeline, language=language)
    briefing = briefer.brief(
        articles, topic, language, progress=lambda share, step: print(f"{share:4.0%} {step}", file=sys.stderr)
    )
    markdown = briefing.to_markdown()
    if output:
        Path(output).write_text(markdown, encoding="utf-8")
        print(f"briefing written to {output}", file=sys.stderr)
    else:
        print(markdown, end="")
    flagged = sum(p.flagged for p in (*briefing.key_facts, *briefing.figures, *briefing.quotes))
    print(
        f"{len(briefing.key_facts)} key facts, {len(briefing.figures)} figures, {len(briefing.quotes)} quotes, "
        f"{len(briefing.timeline)} dated events, {len(briefing.disagreements)} disagreements, "
        f"{flagged} flagged; {sum(briefing.seconds.values()):.1f} s",
        file=sys.stderr,
    )
    return 0


def _compare(run_a: str, run_b: str) -> int:
    from rag.report import compare_runs, load_run

    print(compare_runs(load_run(run_a), load_run(run_b)), end="")
    return 0


def _verify_jsonl(settings: Settings, stdin: TextIO, stdout: TextIO) -> int:
    from rag.verifier import make_verifier

    verifier = make_verifier(settings)

    def verify(request: object, line_number: int) -> dict:
        claim = request.get("claim") if isinstance(request, dict) else None
        passages = request.get("passages") if isinstance(request, dict) else None
        if not isinstance(claim, str) or not isinstance(passages, list) or not all(
            isinstance(p, str) for p in passages
        ):
            return {"error": f'line {line_number} needs {{"claim": text, "passages": [text, ...]}}'}
        return verifier.verify(claim, passages).to_dict()

    return _serve_jsonl(stdin, stdout, verify, {})


def _verify_pairs(settings: Settings, path: str, split: str | None) -> int:
    from rag.evaluation import load_pairs, verifier_report
    from rag.verifier import make_verifier

    pairs = [p for p in load_pairs(path) if split is None or p.split == split]
    if not pairs:
        print(f"error: {path} has no pairs{f' in split {split!r}' if split else ''}", file=sys.stderr)
        return 1
    verifier = make_verifier(settings)
    verdicts = [verifier.verify(p.claim, list(p.passages)) for p in pairs]
    for pair, verdict in zip(pairs, verdicts):
        if verdict.label != pair.label:
            print(f"{pair.id} {pair.lang} {pair.kind}: {pair.label} judged {verdict.label} ({verdict.reason})\n"
                  f"     {pair.claim}", file=sys.stderr)
    report = verifier_report(pairs, verdicts)
    print(json.dumps({"verifier": verifier.name, "split": split or "all", **report}, indent=2))
    return 0


def _export_feedback(settings: Settings, format: str, output: str | None) -> int:
    from rag.feedback import FeedbackStore

    store = FeedbackStore(settings.feedback_path)
    if output:
        with open(output, "w", encoding="utf-8", newline="") as out:
            count = store.export(out, format)
    else:
        count = store.export(sys.stdout, format)
    print(f"{count} feedback rows exported", file=sys.stderr)
    return 0


def _chat(settings: Settings, stdin: TextIO, stdout: TextIO) -> int:
    from rag.render import plain_text
    from rag.types import Turn

    pipeline = _pipeline(settings)
    history: list[Turn] = []
    stdout.write("Stel een vraag / ask a question (empty line or Ctrl-D to stop).\n")
    while True:
        stdout.write("\n> ")
        stdout.flush()
        line = stdin.readline()
        if not line.strip():
            return 0
        try:
            answer = pipeline.answer(line, history)
        except RagError as error:
            stdout.write(f"error: {error}\n")
            continue
        if answer.standalone_question:
            stdout.write(f"({answer.standalone_question})\n")
        stdout.write(plain_text(answer) + "\n")
        history.append(Turn(answer.question, answer.text))


if __name__ == "__main__":
    sys.exit(main())

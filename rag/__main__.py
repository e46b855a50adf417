"""Command line: `python -m rag build | ask | bench`.

`ask --jsonl` is the stable interface for evaluators and other tools: one JSON request a
line on stdin, one answer object a line on stdout, models loaded once. Errors become one
line on stderr (or an `error` field in --jsonl mode), never a stack trace.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Sequence, TextIO

from rag.config import Settings
from rag.errors import QuestionError, RagError


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

    evaluate = commands.add_parser("eval", help="answer a question file and score the answers")
    evaluate.add_argument("--questions", default=None, help="JSONL questions (default: eval/questions.jsonl)")
    evaluate.add_argument("--output", help="also write the answer objects and scores as JSON")

    feedback = commands.add_parser("feedback", help="export the readers' feedback")
    feedback.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    feedback.add_argument("--output", help="file to write (default: standard output)")

    commands.add_parser("chat", help="a conversation in the terminal (follow-ups understood)")

    bench = commands.add_parser("bench", help="measure retrieval and generation speed")
    bench.add_argument("--repeat", type=int, default=3, help="runs of each question")
    bench.add_argument("--output", help="also write the numbers as JSON to this file")

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
            return _eval(settings, args.questions, args.output)
        if args.command == "feedback":
            return _export_feedback(settings, args.format, args.output)
        if args.command == "chat":
            return _chat(settings, sys.stdin, sys.stdout)
        if args.command == "bench":
            from rag.bench import run_bench

            return run_bench(settings, repeat=args.repeat, output=args.output)
    except RagError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 2


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


def _ask_jsonl(settings: Settings, stdin: TextIO, stdout: TextIO) -> int:
    pipeline = _pipeline(settings)
    failures = 0
    for line_number, line in enumerate(stdin, 1):
        if not line.strip():
            continue
        request_id = None
        try:
            request = json.loads(line)
            if not isinstance(request, dict) or not isinstance(request.get("question"), str):
                raise QuestionError('each line needs a JSON object with a "question" string')
            request_id = request.get("id")
            result = pipeline.answer(request["question"]).to_dict(id=request_id)
        except json.JSONDecodeError as error:
            result = {"id": None, "error": f"line {line_number} is not JSON: {error.msg}"}
            failures += 1
        except RagError as error:
            result = {"id": request_id, "error": str(error)}
            failures += 1
        stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        stdout.flush()
    return 1 if failures else 0


def _eval(settings: Settings, questions_path: str | None, output: str | None) -> int:
    from pathlib import Path

    from rag.config import ROOT
    from rag.evaluation import load_questions, score_answer, summarise

    questions = load_questions(Path(questions_path) if questions_path else ROOT / "eval" / "questions.jsonl")
    pipeline = _pipeline(settings)
    answers, scores = [], []
    for question in questions:
        answer = pipeline.answer(question.question).to_dict(id=question.id)
        score = score_answer(question, answer)
        answers.append(answer)
        scores.append(score)
        verdict = "ok  " if score.correct else "MISS"
        print(
            f"{verdict} {question.id} {answer['timings']['first_token']:5.2f}s "
            f"{question.question}\n     -> {answer['answer']}",
            flush=True,
        )
    summary = summarise(scores)
    print(json.dumps(summary, indent=2))
    if output:
        Path(output).write_text(
            json.dumps({"summary": summary, "answers": answers}, ensure_ascii=False, indent=2)
        )
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

"""Evaluators' sentence labels: how faithful is each answer sentence to the passages it cites?

answer objects (a run's answers.jsonl, or an uploaded file) -> AnswerSet -> one label per
(evaluator, collection, answer, sentence) in SQLite -> progress, agreement (Cohen's kappa
between evaluators, and between each evaluator and the verifier), CSV/JSONL export.

A `collection` names where the answers came from: the run directory's name, or
"upload:<first 12 hex of the file's sha256>" for a file. An answer is keyed by its `id`, or
by "#<position>" (1-based) when it has none; a sentence by its 0-based index in the answer.

This module does not know about the UI and runs no model itself: the verifier is handed in
(`SentenceVerdicts`).
"""

from __future__ import annotations

import csv
import hashlib
import json
import sqlite3
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import combinations
from pathlib import Path
from typing import Callable, Iterable, Iterator, Literal, Mapping, Sequence, TextIO

from rag.feedback import spreadsheet_cell  # the one formula guard, shared with feedback
from rag.verifier import Verdict, VerdictLabel, Verifier

SentenceLabel = Literal["supported", "partly_supported", "unsupported", "contradicted"]
SENTENCE_LABELS: tuple[SentenceLabel, ...] = (
    "supported", "partly_supported", "unsupported", "contradicted"
)
# An evaluator's label as the verifier would say it. The verifier has no "partly": a sentence
# the passages support only in part, or not at all, lacks the information to be supported.
TO_VERDICT: dict[SentenceLabel, VerdictLabel] = {
    "supported": "supported",
    "partly_supported": "not_enough_info",
    "unsupported": "not_enough_info",
    "contradicted": "contradicted",
}

MAX_NOTE_CHARS = 2000
MAX_EVALUATOR_CHARS = 64
MAX_ANSWERS_BYTES = 20_000_000
ANSWERS_FILE = "answers.jsonl"

AnswerKey = tuple[str, int]  # (answer key, sentence index)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS labels (
    evaluator TEXT NOT NULL,
    collection TEXT NOT NULL,
    answer_key TEXT NOT NULL,
    sentence_index INTEGER NOT NULL,
    label TEXT NOT NULL CHECK (label IN ('supported', 'partly_supported', 'unsupported', 'contradicted')),
    note TEXT NOT NULL DEFAULT '',
    sentence TEXT NOT NULL,
    question TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (evaluator, collection, answer_key, sentence_index)
)
"""
_COLUMNS = (
    "evaluator", "collection", "answer_key", "sentence_index", "label", "note", "sentence",
    "question", "created_at", "updated_at",
)


# --- answers to label ----------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewPassage:
    n: int  # 1-based: `[n]` in the answer cites the n-th passage of the list
    title: str
    text: str
    article_id: str | None = None
    source: str | None = None
    date: str | None = None


@dataclass(frozen=True)
class ReviewSentence:
    text: str  # without its [n] markers
    citations: tuple[int, ...]


@dataclass(frozen=True)
class ReviewAnswer:
    key: str  # the answer's id, or "#<position>"
    question: str
    answer: str  # with [n] markers
    passages: tuple[ReviewPassage, ...]
    sentences: tuple[ReviewSentence, ...]
    language: str | None = None

    def cited(self, index: int) -> tuple[ReviewPassage, ...]:
        """The passages sentence `index` cites, in citation order."""
        return tuple(self.passages[n - 1] for n in self.sentences[index].citations)


@dataclass(frozen=True)
class AnswerSet:
    collection: str
    name: str  # what error messages and the UI call the file
    answers: tuple[ReviewAnswer, ...]
    skipped: tuple[str, ...] = ()  # "<file>:<line>: <error>" of error records (`ask --jsonl`)

    @property
    def total_sentences(self) -> int:
        return sum(len(a.sentences) for a in self.answers)

    def sentence_keys(self) -> set[AnswerKey]:
        return {(a.key, i) for a in self.answers for i in range(len(a.sentences))}


def run_names(runs_dir: Path) -> list[str]:
    """Run directories under `runs_dir` holding an answers.jsonl, newest first."""
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        return []
    runs = [d for d in runs_dir.iterdir() if (d / ANSWERS_FILE).is_file()]
    runs.sort(key=lambda d: ((d / ANSWERS_FILE).stat().st_mtime, d.name), reverse=True)
    return [d.name for d in runs]


def open_run(runs_dir: Path, name: str, max_bytes: int = MAX_ANSWERS_BYTES) -> AnswerSet:
    """The answers of run `name`; only names `run_names` lists are opened (no paths)."""
    if name not in run_names(runs_dir):
        raise ValueError(f"no run named {name!r} with an {ANSWERS_FILE}")
    return load_answers(Path(runs_dir) / name, f"{name}/{ANSWERS_FILE}", max_bytes)


def load_answers(
    path: Path, name: str | None = None, max_bytes: int = MAX_ANSWERS_BYTES
) -> AnswerSet:
    """Answer objects from a run directory (its answers.jsonl) or a file: JSONL, a JSON list,
    or a JSON object with an "answers" list. `name` is what errors call the file (default:
    the path). Records with an "error" and no "question" (failed `ask --jsonl` lines) are
    skipped and listed; anything else malformed raises ValueError naming file and line."""
    path = Path(path)
    collection = None
    if path.is_dir():
        collection = path.name
        path = path / ANSWERS_FILE
    name = name or str(path)
    try:
        size = path.stat().st_size
    except OSError:
        raise ValueError(f"{name}: file not found") from None
    if size > max_bytes:
        raise ValueError(f"{name}: {size:,} bytes is more than the limit of {max_bytes:,} bytes")
    data = path.read_bytes()[: max_bytes + 1]
    if len(data) > max_bytes:
        raise ValueError(f"{name}: more than the limit of {max_bytes:,} bytes")
    if collection is None:
        collection = "upload:" + hashlib.sha256(data).hexdigest()[:12]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(f"{name}: not UTF-8 text (byte {error.start})") from None

    answers: list[ReviewAnswer] = []
    skipped: list[str] = []
    seen: dict[str, str] = {}
    for position, (where, record) in enumerate(_records(text, name, path.suffix.lower() == ".json"), 1):
        if isinstance(record, dict) and "error" in record and "question" not in record:
            skipped.append(f"{where}: {record['error']}")
            continue
        answer = _answer(record, where, position)
        if answer.key in seen:
            raise ValueError(f"{where}: id {answer.key!r} was already used at {seen[answer.key]}")
        seen[answer.key] = where
        answers.append(answer)
    if not answers:
        raise ValueError(f"{name}: no answer objects")
    return AnswerSet(collection, name, tuple(answers), tuple(skipped))


def _records(text: str, name: str, json_file: bool) -> list[tuple[str, object]]:
    """(where, parsed record) for each record of the file."""
    if not text.strip():
        raise ValueError(f"{name}: the file is empty")
    try:
        whole = json.loads(text)
    except json.JSONDecodeError as error:
        if json_file or text.lstrip().startswith("["):
            raise ValueError(f"{name}:{error.lineno}: not valid JSON ({error.msg})") from None
        whole = None  # JSON Lines
    if isinstance(whole, list):
        return [(f"{name}: answer {i}", item) for i, item in enumerate(whole, 1)]
    if isinstance(whole, dict) and "answers" in whole:
        if not isinstance(whole["answers"], list):
            raise ValueError(f'{name}: "answers" must be a list')
        return [(f"{name}: answer {i}", item) for i, item in enumerate(whole["answers"], 1)]
    if whole is not None:
        return [(f"{name}:1", whole)]
    records = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            records.append((f"{name}:{number}", json.loads(line)))
        except json.JSONDecodeError as error:
            raise ValueError(f"{name}:{number}: not valid JSON ({error.msg})") from None
    return records


def _text(record: Mapping, key: str, where: str, required: bool = True) -> str | None:
    value = record.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        problem = "is missing" if key not in record else "must be a string"
        raise ValueError(f'{where}: "{key}" {problem}')
    return value


def _answer(record: object, where: str, position: int) -> ReviewAnswer:
    from rag.citations import split_answer

    if not isinstance(record, dict):
        raise ValueError(f"{where}: expected an answer object, got {type(record).__name__}")
    question = _text(record, "question", where)
    text = _text(record, "answer", where)
    raw_passages = record.get("passages")
    if not isinstance(raw_passages, list):
        problem = "is missing" if "passages" not in record else "must be a list"
        raise ValueError(f'{where}: "passages" {problem}')
    passages = []
    for n, raw in enumerate(raw_passages, 1):
        at = f"{where}: passage {n}"
        if not isinstance(raw, dict):
            raise ValueError(f"{at}: expected an object, got {type(raw).__name__}")
        passages.append(
            ReviewPassage(
                n=n,
                title=_text(raw, "title", at, required=False) or "",
                text=_text(raw, "text", at),
                article_id=None if raw.get("article_id") is None else str(raw["article_id"]),
                source=_text(raw, "source", at, required=False),
                date=_text(raw, "date", at, required=False),
            )
        )
    if "sentences" not in record:
        sentences = [ReviewSentence(s, c) for s, c in split_answer(text, len(passages))]
    elif not isinstance(record["sentences"], list):
        raise ValueError(f'{where}: "sentences" must be a list')
    else:
        sentences = []
        for i, raw in enumerate(record["sentences"], 1):
            at = f"{where}: sentence {i}"
            if not isinstance(raw, dict):
                raise ValueError(f"{at}: expected an object, got {type(raw).__name__}")
            sentence = _text(raw, "text", at)
            cited = raw.get("citations")
            if not isinstance(cited, list) or not all(
                isinstance(n, int) and not isinstance(n, bool) for n in cited
            ):
                raise ValueError(f'{at}: "citations" must be a list of passage numbers')
            for n in cited:
                if not 1 <= n <= len(passages):
                    raise ValueError(
                        f"{at}: cites passage {n}, but the answer has {len(passages)} passages"
                    )
            sentences.append(ReviewSentence(sentence, tuple(cited)))
    key = f"#{position}" if record.get("id") is None else str(record["id"])
    language = record.get("language") if isinstance(record.get("language"), str) else None
    return ReviewAnswer(key, question, text, tuple(passages), tuple(sentences), language)


# --- evaluators and labels -----------------------------------------------------------------


def clean_evaluator(name: str | None) -> str:
    """An evaluator's name, trimmed, its inner blanks collapsed.

    >>> clean_evaluator("  Anna   de Vries ")
    'Anna de Vries'
    """
    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise ValueError("enter your name as evaluator first")
    if len(cleaned) > MAX_EVALUATOR_CHARS:
        raise ValueError(
            f"the evaluator name is {len(cleaned)} characters; at most {MAX_EVALUATOR_CHARS} allowed"
        )
    if not cleaned.isprintable():
        raise ValueError("the evaluator name contains control characters")
    return cleaned


@dataclass(frozen=True)
class LabelRow:
    evaluator: str
    collection: str
    answer_key: str
    sentence_index: int  # 0-based position of the sentence in the answer
    label: SentenceLabel
    note: str
    sentence: str
    question: str
    created_at: str
    updated_at: str

    @property
    def key(self) -> AnswerKey:
        return (self.answer_key, self.sentence_index)

    def to_dict(self) -> dict:
        return {column: getattr(self, column) for column in _COLUMNS}


@dataclass(frozen=True)
class Progress:
    labelled: int
    total: int


class LabelStore:
    """The labels in SQLite at `path`; the file is created on first use, so an app that
    offers the evaluator tab writes nothing until someone uses it."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()  # one writer at a time
        self._schema_lock = threading.Lock()
        self._ready = False

    def _connect(self) -> sqlite3.Connection:
        if not self._ready:
            with self._schema_lock:
                if not self._ready:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                    with sqlite3.connect(self.path, timeout=10) as db:
                        db.execute(_SCHEMA)
                    self._ready = True
        return sqlite3.connect(self.path, timeout=10)

    def save(
        self,
        evaluator: str,
        collection: str,
        answer: ReviewAnswer,
        sentence_index: int,
        label: SentenceLabel,
        note: str = "",
    ) -> None:
        """Label one sentence; labelling it again (same evaluator) replaces label and note."""
        evaluator = clean_evaluator(evaluator)
        if label not in SENTENCE_LABELS:
            raise ValueError(f"label must be one of {', '.join(SENTENCE_LABELS)}; got {label!r}")
        if not 0 <= sentence_index < len(answer.sentences):
            raise ValueError(
                f"answer {answer.key} has no sentence {sentence_index + 1}"
                f" (it has {len(answer.sentences)})"
            )
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        row = (
            evaluator, collection, answer.key, sentence_index, label,
            (note or "").strip()[:MAX_NOTE_CHARS],
            answer.sentences[sentence_index].text, answer.question, now, now,
        )
        with self._lock, self._connect() as db:
            db.execute(
                f"INSERT INTO labels ({', '.join(_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (evaluator, collection, answer_key, sentence_index) DO UPDATE SET"
                " label = excluded.label, note = excluded.note, sentence = excluded.sentence,"
                " question = excluded.question, updated_at = excluded.updated_at",
                row,
            )

    def rows(self, collection: str | None = None, evaluator: str | None = None) -> Iterator[LabelRow]:
        """Labels in a stable order (collection, answer, sentence, evaluator)."""
        where, values = [], []
        for column, value in (("collection", collection), ("evaluator", evaluator)):
            if value is not None:
                where.append(f"{column} = ?")
                values.append(value)
        query = f"SELECT {', '.join(_COLUMNS)} FROM labels"
        if where:
            query += " WHERE " + " AND ".join(where)
        query += " ORDER BY collection, answer_key, sentence_index, evaluator"
        with self._connect() as db:
            for row in db.execute(query, values):
                yield LabelRow(*row)

    def labels(self, evaluator: str, collection: str) -> dict[AnswerKey, LabelRow]:
        """One evaluator's labels of a collection, by (answer key, sentence index)."""
        return {row.key: row for row in self.rows(collection, evaluator)}

    def progress(self, evaluator: str, answers: AnswerSet) -> Progress:
        """How many sentences of `answers` the evaluator has labelled, of how many."""
        present = answers.sentence_keys()
        done = sum(key in present for key in self.labels(evaluator, answers.collection))
        return Progress(done, len(present))

    def export(
        self, out: TextIO, format: Literal["csv", "jsonl"], collection: str | None = None
    ) -> int:
        """Write the labels (of one collection, or all) to `out`; returns the number of rows."""
        if format not in ("csv", "jsonl"):
            raise ValueError(f"format must be 'csv' or 'jsonl', got {format!r}")
        writer = csv.writer(out) if format == "csv" else None
        if writer:
            writer.writerow(_COLUMNS)
        count = 0
        for row in self.rows(collection):
            if writer:
                writer.writerow(
                    [spreadsheet_cell(v) if isinstance(v, str) else v for v in row.to_dict().values()]
                )
            else:
                out.write(json.dumps(row.to_dict(), ensure_ascii=False) + "\n")
            count += 1
        return count


# --- agreement -----------------------------------------------------------------------------


def cohen_kappa(labels_a: Sequence[str], labels_b: Sequence[str]) -> float | None:
    """Cohen's kappa of two raters' labels of the same items (item i is labels_a[i], labels_b[i]).

    kappa = (p_o - p_e) / (1 - p_e): observed agreement corrected for the agreement the two
    label distributions give by chance. When both raters gave every item one and the same
    label, p_e = 1 and the formula is 0/0; that is perfect agreement, so 1.0. With no items
    there is nothing to compare: None.

    >>> cohen_kappa(["a", "a", "b", "b"], ["a", "b", "b", "b"])
    0.5
    """
    if len(labels_a) != len(labels_b):
        raise ValueError(
            f"cohen_kappa needs two label lists of the same length, got {len(labels_a)} and {len(labels_b)}"
        )
    n = len(labels_a)
    if n == 0:
        return None
    observed = sum(a == b for a, b in zip(labels_a, labels_b))
    counts_a, counts_b = Counter(labels_a), Counter(labels_b)
    chance = sum(counts_a[label] * counts_b[label] for label in counts_a)  # p_e * n²
    if chance == n * n:
        return 1.0
    return (observed * n - chance) / (n * n - chance)


@dataclass(frozen=True)
class Agreement:
    first: str
    second: str
    shared: int  # sentences both labelled
    agreement: float | None  # share of those with the same label; None when shared == 0
    kappa: float | None


def _agreement(first: str, second: str, a: Sequence[str], b: Sequence[str]) -> Agreement:
    shared = len(a)
    same = sum(x == y for x, y in zip(a, b)) / shared if shared else None
    return Agreement(first, second, shared, same, cohen_kappa(a, b))


def agreement_table(
    rows: Iterable[LabelRow],
    verdicts: Mapping[AnswerKey, VerdictLabel] | None = None,
    verifier_name: str = "verifier",
) -> list[Agreement]:
    """Agreement between every pair of evaluators (on their four labels), then between each
    evaluator and the verifier (evaluator labels mapped by TO_VERDICT), over the sentences
    both labelled. `rows` are the labels of one collection; `verdicts` the verifier's label of
    each sentence, by (answer key, sentence index)."""
    by_evaluator: dict[str, dict[AnswerKey, str]] = {}
    collections = set()
    for row in rows:
        collections.add(row.collection)
        by_evaluator.setdefault(row.evaluator, {})[row.key] = row.label
    if len(collections) > 1:
        raise ValueError(f"agreement is computed per collection, got {len(collections)}")
    table = []
    for first, second in combinations(sorted(by_evaluator), 2):
        a, b = by_evaluator[first], by_evaluator[second]
        shared = sorted(a.keys() & b.keys())
        table.append(_agreement(first, second, [a[k] for k in shared], [b[k] for k in shared]))
    if verdicts is not None:
        for evaluator in sorted(by_evaluator):
            a = by_evaluator[evaluator]
            shared = sorted(a.keys() & verdicts.keys())
            table.append(
                _agreement(
                    evaluator, verifier_name,
                    [TO_VERDICT[a[k]] for k in shared], [verdicts[k] for k in shared],
                )
            )
    return table


class SentenceVerdicts:
    """The verifier's verdict on an answer sentence against the passages it cites, each
    computed once (bounded cache). The verifier is built on first use by `make`, so a UI
    can offer this without loading a model until someone asks."""

    NO_CITATION = Verdict("not_enough_info", 1.0, "the sentence cites no passage")

    def __init__(self, make: Callable[[], Verifier], max_cached: int = 10_000):
        self._make = make
        self._verifier: Verifier | None = None
        self._lock = threading.Lock()  # builds the verifier once
        self._cache_lock = threading.Lock()
        self._cache: OrderedDict[tuple[str, tuple[str, ...]], Verdict] = OrderedDict()
        self._max_cached = max_cached

    @property
    def verifier(self) -> Verifier:
        with self._lock:
            if self._verifier is None:
                self._verifier = self._make()
            return self._verifier

    @property
    def name(self) -> str:
        return self.verifier.name

    def __call__(self, answer: ReviewAnswer, index: int) -> Verdict:
        claim = answer.sentences[index].text
        passages = tuple(p.text for p in answer.cited(index))
        if not passages:
            return self.NO_CITATION
        key = (claim, passages)
        with self._cache_lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        verdict = self.verifier.verify(claim, passages)
        with self._cache_lock:
            self._cache[key] = verdict
            while len(self._cache) > self._max_cached:
                self._cache.popitem(last=False)
        return verdict

    def labels(self, answers: AnswerSet, keys: Iterable[AnswerKey]) -> dict[AnswerKey, VerdictLabel]:
        """The verdict label of each (answer key, sentence index) of `keys` that `answers` holds."""
        by_key = {a.key: a for a in answers.answers}
        out = {}
        for answer_key, index in keys:
            answer = by_key.get(answer_key)
            if answer is not None and 0 <= index < len(answer.sentences):
                out[(answer_key, index)] = self(answer, index).label
        return out

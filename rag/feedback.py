"""Reader feedback on answers, stored in SQLite, exported as CSV or JSONL.

One row per rating: thumbs up or down, an optional comment, and the answer it is about
(question, answer text, citations, the whole answer object) with the time. This module
does not know about the UI; `app.py` calls `FeedbackStore.add` and `comment`.
"""

from __future__ import annotations

import csv
import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, Literal, Mapping, TextIO

Rating = Literal["up", "down"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    comment TEXT NOT NULL DEFAULT '',
    question TEXT NOT NULL,
    language TEXT,
    answer TEXT NOT NULL,
    citations TEXT NOT NULL,
    answer_object TEXT NOT NULL
)
"""
MAX_COMMENT_CHARS = 2000


@dataclass(frozen=True)
class FeedbackRow:
    id: int
    created_at: str
    rating: Rating
    comment: str
    question: str
    language: str | None
    answer: str
    citations: list[dict]

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "created_at": self.created_at,
            "rating": self.rating,
            "comment": self.comment,
            "question": self.question,
            "language": self.language,
            "answer": self.answer,
            "citations": self.citations,
        }


def spreadsheet_cell(text: str) -> str:
    """Keep spreadsheets from running untrusted text as a formula.

    >>> spreadsheet_cell("=HYPERLINK(1)"), spreadsheet_cell("gewoon")
    ("'=HYPERLINK(1)", 'gewoon')
    """
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class FeedbackStore:
    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10)

    def add(self, answer: Mapping, rating: Rating, comment: str = "") -> int:
        """Store a rating of one answer object (the `ask --json` format); returns its id."""
        if rating not in ("up", "down"):
            raise ValueError(f"rating must be 'up' or 'down', got {rating!r}")
        row = (
            datetime.now(timezone.utc).isoformat(timespec="seconds"),
            rating,
            comment[:MAX_COMMENT_CHARS],
            str(answer.get("question", "")),
            answer.get("language"),
            str(answer.get("answer", "")),
            json.dumps(answer.get("citations", []), ensure_ascii=False),
            json.dumps(dict(answer), ensure_ascii=False),
        )
        with self._lock, self._connect() as db:
            cursor = db.execute(
                "INSERT INTO feedback (created_at, rating, comment, question, language, answer,"
                " citations, answer_object) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            return int(cursor.lastrowid)

    def comment(self, feedback_id: int, comment: str) -> None:
        with self._lock, self._connect() as db:
            updated = db.execute(
                "UPDATE feedback SET comment = ? WHERE id = ?",
                (comment[:MAX_COMMENT_CHARS], feedback_id),
            ).rowcount
        if not updated:
            raise KeyError(f"no feedback with id {feedback_id}")

    def rows(self) -> Iterator[FeedbackRow]:
        with self._connect() as db:
            for row in db.execute(
                "SELECT id, created_at, rating, comment, question, language, answer, citations"
                " FROM feedback ORDER BY id"
            ):
                yield FeedbackRow(*row[:7], citations=json.loads(row[7]))

    def export(self, out: TextIO, format: Literal["csv", "jsonl"]) -> int:
        """Write every row to `out`; returns the number of rows."""
        count = 0
        if format == "jsonl":
            for row in self.rows():
                out.write(json.dumps(row.to_dict(), ensure_ascii=False) + "\n")
                count += 1
            return count
        if format != "csv":
            raise ValueError(f"format must be 'csv' or 'jsonl', got {format!r}")
        writer = csv.writer(out)
        writer.writerow(
            ["id", "created_at", "rating", "comment", "question", "language", "answer", "citations"]
        )
        for row in self.rows():
            cited = "; ".join(
                f"[{c.get('n')}] {c.get('title')} ({c.get('article_id')}, {c.get('start')}-{c.get('end')})"
                for c in row.citations
            )
            writer.writerow(
                [row.id, row.created_at, row.rating]
                + [spreadsheet_cell(x) for x in (row.comment, row.question, row.language or "", row.answer, cited)]
            )
            count += 1
        return count

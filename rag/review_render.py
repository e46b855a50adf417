"""Answers under review, verdicts and agreement -> HTML for the evaluator tab.

Like `rag.render`, every piece of article, model, file or evaluator text is HTML-escaped
and only our own markup is added (no links, no images, no scripts). This module knows
nothing about Gradio or the label store.
"""

from __future__ import annotations

import html
from typing import Sequence

from rag.labels import Agreement, AnswerSet, Progress, ReviewAnswer, ReviewPassage
from rag.verifier import Verdict

VERDICT_TEXT = {
    "supported": "ondersteund / supported",
    "contradicted": "in tegenspraak / contradicted",
    "not_enough_info": "onvoldoende informatie / not enough info",
}


def _e(text: object) -> str:
    return html.escape(str(text))


def position_text(answers: AnswerSet | None, position: int) -> str:
    """ "Antwoord 3 van 18 / Answer 3 of 18" (position is 0-based)."""
    if answers is None:
        return "Geen antwoorden geladen / No answers loaded"
    total = len(answers.answers)
    return f"Antwoord {position + 1} van {total} / Answer {position + 1} of {total}"


def progress_text(progress: Progress | None) -> str:
    if progress is None:
        return "Vul je naam in om te beoordelen / Enter your name to label"
    return (
        f"{progress.labelled} van {progress.total} zinnen beoordeeld / "
        f"{progress.labelled} of {progress.total} sentences labelled"
    )


def message_html(text: str, warning: bool = False) -> str:
    return f'<p class="review-message">{"⚠ " if warning else ""}{_e(text)}</p>'


def answer_html(answer: ReviewAnswer, current: int) -> str:
    """The question, the answer as written, and its sentences numbered, the one under
    review marked."""
    items = "".join(
        f'<li class="{"current" if i == current else ""}">{_e(s.text)} '
        f'<span class="markers">{_e("".join(f"[{n}]" for n in s.citations))}</span></li>'
        for i, s in enumerate(answer.sentences)
    )
    sentences = (
        f'<ol class="review-sentences">{items}</ol>'
        if items
        else "<p><em>Geen zinnen om te beoordelen (bijvoorbeeld een onthouding). / "
        "No sentences to label (an abstention, for example).</em></p>"
    )
    return (
        '<div class="review-answer">'
        f"<h3>Vraag / Question</h3><p>{_e(answer.question)}</p>"
        f'<h3>Antwoord / Answer</h3><p class="answer-text">{_e(answer.answer)}</p>'
        f"{sentences}</div>"
    )


def _passage_card(passage: ReviewPassage) -> str:
    about = " · ".join(_e(x) for x in (passage.source, passage.date, passage.article_id) if x)
    return (
        f'<div class="source" data-n="{passage.n}">'
        f'<div class="source-head"><span class="marker">[{passage.n}]</span> '
        f"<strong>{_e(passage.title or '(zonder titel / untitled)')}</strong></div>"
        + (f'<div class="source-meta">{about}</div>' if about else "")
        + f'<p class="passage">{_e(passage.text)}</p></div>'
    )


def sentence_html(answer: ReviewAnswer, index: int) -> str:
    """The sentence under review with the passages it cites in full; the answer's other
    passages folded away below."""
    if not answer.sentences:
        return ""
    sentence = answer.sentences[index]
    cited = answer.cited(index)
    others = [p for p in answer.passages if p.n not in sentence.citations]
    parts = [
        '<div class="review-sentence">',
        f"<h3>Zin {index + 1} van {len(answer.sentences)} / "
        f"Sentence {index + 1} of {len(answer.sentences)}</h3>",
        f'<blockquote class="claim">{_e(sentence.text)}</blockquote>',
    ]
    if cited:
        parts.append("<h4>Geciteerde passages / Cited passages</h4>")
        parts.extend(_passage_card(p) for p in cited)
    else:
        parts.append(
            '<p class="no-citation">Deze zin citeert geen passage. / '
            "This sentence cites no passage.</p>"
        )
    if others:
        parts.append(
            f"<details><summary>Andere passages van dit antwoord / "
            f"Other passages of this answer ({len(others)})</summary>"
        )
        parts.extend(_passage_card(p) for p in others)
        parts.append("</details>")
    parts.append("</div>")
    return "".join(parts)


def verdict_html(verdict: Verdict, verifier_name: str) -> str:
    reason = f" · {_e(verdict.reason)}" if verdict.reason else ""
    return (
        f'<p class="verdict {_e(verdict.label)}">Controle / Verifier ({_e(verifier_name)}): '
        f"<strong>{_e(VERDICT_TEXT.get(verdict.label, verdict.label))}</strong> "
        f"(score {verdict.score:.2f}){reason}</p>"
    )


def _number(value: float | None, percent: bool = False) -> str:
    if value is None:
        return "–"
    return f"{value:.0%}" if percent else f"{value:.2f}"


def agreement_html(rows: Sequence[Agreement], note: str = "") -> str:
    """One row per pair: who, shared sentences, raw agreement, Cohen's kappa."""
    if not rows:
        body = (
            '<p>Nog geen paren om te vergelijken. / No pairs to compare yet.</p>'
        )
    else:
        cells = "".join(
            "<tr>"
            f"<td>{_e(row.first)}</td><td>{_e(row.second)}</td><td>{row.shared}</td>"
            f"<td>{_number(row.agreement, percent=True)}</td><td>{_number(row.kappa)}</td>"
            "</tr>"
            for row in rows
        )
        body = (
            "<table><thead><tr><th>A</th><th>B</th><th>gedeeld / shared</th>"
            "<th>overeenstemming / agreement</th><th>Cohen's κ</th></tr></thead>"
            f"<tbody>{cells}</tbody></table>"
        )
    footer = f'<p class="review-note">{_e(note)}</p>' if note else ""
    return f'<div class="agreement">{body}{footer}</div>'

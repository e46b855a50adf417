"""Answers and passages -> text and HTML for the chat UI.

Every piece of article or model text is HTML-escaped here and only our own markup is
added (no links, no images, no scripts), so nothing from an article or the model can
become markup in the page. That holds for chat messages too (`chat_text`, `answer_text`):
the chat renders a message's HTML (sanitised, but images and links stay live) even with
markdown rendering off. This module knows nothing about Gradio.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Sequence

from rag.analysis import tokenize
from rag.chunking import split_sentences
from rag.citations import render_answer
from rag.types import Answer, Language, Passage

if TYPE_CHECKING:
    from rag.pipeline import IndexStatus

LABELS: dict[Language, dict[str, str]] = {
    "nl": {
        "sources": "Bronnen",
        "unverified": "niet bevestigd door de bron",
        "unknown": "onbekend",
        "searching": "Bronnen zoeken…",
        "no_sources": "Geen passage gevonden die deze vraag beantwoordt.",
    },
    "en": {
        "sources": "Sources",
        "unverified": "not confirmed by the source",
        "unknown": "unknown",
        "searching": "Searching the sources…",
        "no_sources": "No passage found that answers this question.",
    },
}


def chat_text(text: str) -> str:
    """Text for a chat message: shown as the characters it holds, never as HTML.

    >>> chat_text('<img src="https://x.example/a.png"> & co')
    '&lt;img src="https://x.example/a.png"&gt; &amp; co'
    """
    return html.escape(text, quote=False)


def answer_text(answer: Answer) -> str:
    """The checked answer for the chat (escaped, `chat_text`): sentences that failed the
    check are marked with ⚠, an abstention with ℹ, so neither reads like a confirmed answer."""
    if answer.abstained or not answer.sentences:
        return chat_text(f"ℹ {answer.text}")
    unverified = LABELS[answer.language]["unverified"]
    parts = []
    for sentence in answer.sentences:
        text = render_answer([sentence])
        parts.append(text if sentence.supported else f"⚠ {text} ({unverified})")
    return chat_text(" ".join(parts))


def plain_text(answer: Answer) -> str:
    """The answer as plain text for a terminal or an article draft: sentences that failed
    the check are marked, then the numbered sources it cites."""
    if answer.abstained:
        return answer.text
    lines = []
    for sentence in answer.sentences:
        markers = "".join(f"[{n}]" for n in sentence.citations)
        flag = "" if sentence.supported else f"  (unverified: {sentence.reason})"
        lines.append(f"{sentence.text} {markers}".strip() + flag)
    lines.append("")
    lines.append("Bronnen:" if answer.language == "nl" else "Sources:")
    for n in answer.cited_numbers:
        passage = answer.passages[n - 1]
        meta = passage.article
        about = ", ".join(x for x in (meta.source, meta.author, meta.date) if x)
        lines.append(f"[{n}] {meta.title}" + (f" ({about})" if about else ""))
        lines.append(
            f"    {meta.id}, characters {passage.chunk.start}-{passage.chunk.end}: "
            f"{passage.chunk.text}"
        )
    return "\n".join(lines)


def highlight_spans(passage: Passage, claims: Sequence[str]) -> list[tuple[int, int]]:
    """For each claim, the passage sentence sharing most of its (stemmed) words; offsets are
    relative to the passage text."""
    spans = split_sentences(passage.chunk.text) or [(0, len(passage.chunk.text))]
    words = [set(tokenize(passage.chunk.text[start:end])) for start, end in spans]
    chosen: dict[tuple[int, int], None] = {}
    for claim in claims:
        claim_words = set(tokenize(claim))
        overlap = [len(claim_words & w) for w in words]
        best = max(range(len(spans)), key=lambda i: overlap[i])
        if overlap[best]:
            chosen.setdefault(spans[best], None)
    return sorted(chosen)


def _marked(text: str, spans: Sequence[tuple[int, int]]) -> str:
    out, position = [], 0
    for start, end in spans:
        out.append(html.escape(text[position:start]))
        out.append(f"<mark>{html.escape(text[start:end])}</mark>")
        position = end
    out.append(html.escape(text[position:]))
    return "".join(out)


def sources_html(
    passages: Sequence[Passage], language: Language, answer: Answer | None = None
) -> str:
    """One card per passage, numbered as in the answer; a cited card shows the sentences
    that support the answer highlighted."""
    labels = LABELS[language]
    if not passages:
        return f'<div class="sources empty">{html.escape(labels["no_sources"])}</div>'
    claims: dict[int, list[str]] = {}
    for sentence in answer.sentences if answer else ():
        for n in sentence.citations:
            claims.setdefault(n, []).append(sentence.text)
    cards = [f'<div class="sources"><h3>{html.escape(labels["sources"])}</h3>']
    for n, passage in enumerate(passages, 1):
        meta = passage.article
        about = " · ".join(
            html.escape(x) for x in (meta.source, meta.author, meta.date) if x
        ) or html.escape(labels["unknown"])
        spans = highlight_spans(passage, claims.get(n, ()))
        cited = " cited" if n in claims else ""
        cards.append(
            f'<div class="source{cited}" id="source-{n}" data-n="{n}">'
            f'<div class="source-head"><span class="marker">[{n}]</span> '
            f"<strong>{html.escape(meta.title)}</strong></div>"
            f'<div class="source-meta">{about}</div>'
            f'<p class="passage">{_marked(passage.chunk.text, spans)}</p>'
            "</div>"
        )
    cards.append("</div>")
    return "".join(cards)


def status_html(status: "IndexStatus") -> str:
    """The index status and one row per indexed article (all text escaped)."""
    state = "actueel / up to date" if status.fresh else "verouderd: artikelen gewijzigd / stale: articles changed"
    rows = "".join(
        "<tr>" + "".join(
            f"<td>{html.escape(str(x))}</td>"
            for x in (meta.id, meta.title, meta.author or "", meta.source or "", meta.date or "", chunks)
        ) + "</tr>"
        for meta, chunks in status.articles
    )
    skipped = "".join(
        f"<li>{html.escape(s.path)}: {html.escape(s.reason)}</li>" for s in status.skipped
    )
    return (
        '<div class="index-status">'
        f"<p>Index: {html.escape(state)} · {status.chunks} passages · "
        f"embedder {html.escape(status.embedder)} · gebouwd / built {html.escape(status.built_at)}</p>"
        "<table><thead><tr><th>id</th><th>titel / title</th><th>auteur / author</th>"
        "<th>bron / source</th><th>datum / date</th><th>passages</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        + (f"<p>Overgeslagen / skipped:</p><ul>{skipped}</ul>" if skipped else "")
        + "</div>"
    )

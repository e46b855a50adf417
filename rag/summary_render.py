"""A Briefing -> HTML for the summary tab ("Samenvatting / Summary").

Like `rag.render`, every piece of article or model text (points, figures, quotes, speakers,
titles, passages, the verifier's reasons) is HTML-escaped and only our own markup is added:
no links, no images, no scripts, no Markdown. Markers `[n]` are plain text that matches the
numbered sources at the end. This module knows nothing about Gradio or the models.
"""

from __future__ import annotations

import html
from typing import Iterable

from rag.briefing import SECTION_TITLES, Briefing, Disagreement, Event, Figure, Point, Quote, Source


def _e(text: object) -> str:
    return html.escape(str(text))


def notice_html(text: str, warning: bool = False) -> str:
    """A status or error line: `notice_html("<b>", True)` -> '<p class="briefing-notice warning">⚠ &lt;b&gt;</p>'."""
    kind = " warning" if warning else ""
    return f'<p class="briefing-notice{kind}">{"⚠ " if warning else ""}{_e(text)}</p>'


def _markers(citations: Iterable[int]) -> str:
    return f'<span class="markers">{"".join(f"[{n}]" for n in citations)}</span>'


def _flag(flagged: bool, reason: str | None, titles: dict[str, str]) -> str:
    """The visible mark of a point the check did not confirm, with its reason."""
    if not flagged:
        return ""
    why = f" ({_e(reason)})" if reason else ""
    return f' <span class="flag">{_e(titles["flag"])}{why}</span>'


def _section(title: str, body: str, titles: dict[str, str], css: str) -> str:
    return f'<section class="{css}"><h3>{_e(title)}</h3>{body or _none(titles)}</section>'


def _none(titles: dict[str, str]) -> str:
    return f'<p class="none">{_e(titles["none"])}</p>'


def _point(point: Point, titles: dict[str, str]) -> str:
    flagged = " flagged" if point.flagged else ""
    return (
        f'<li class="point{flagged}">{_e(point.text)} {_markers(point.citations)}'
        f"{_flag(point.flagged, point.reason, titles)}</li>"
    )


def _figures(figures: tuple[Figure, ...], t: dict[str, str]) -> str:
    if not figures:
        return ""
    head = "".join(f"<th>{_e(t[k])}</th>" for k in ("amount", "unit", "measures", "who", "source"))
    rows = "".join(
        f'<tr class="{"flagged" if f.flagged else ""}">'
        f"<td>{_e(f.amount)}</td><td>{_e(f.unit)}</td><td>{_e(f.measures)}</td>"
        f"<td>{_e(f.who)}</td><td>{_markers([f.citation])}{_flag(f.flagged, f.reason, t)}</td></tr>"
        for f in figures
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _quote(quote: Quote, t: dict[str, str]) -> str:
    flagged = " flagged" if quote.flagged else ""
    return (
        f'<blockquote class="quote{flagged}">“{_e(quote.text)}”'
        f'<footer>— <span class="speaker">{_e(quote.speaker)}</span> {_markers([quote.citation])}'
        f"{_flag(quote.flagged, quote.reason, t)}</footer></blockquote>"
    )


def _event(event: Event) -> str:
    return (
        f'<li><strong class="date">{_e(event.date)}</strong> {_e(event.text)} '
        f"{_markers([event.citation])}</li>"
    )


def _disagreement(pair: Disagreement, t: dict[str, str]) -> str:
    reason = f'<div class="reason">{_e(pair.reason)}</div>' if pair.reason else ""
    return (
        '<li class="disagreement">'
        f"<div>{_e(pair.first.text)} {_markers(pair.first.citations)}"
        f"{_flag(pair.first.flagged, pair.first.reason, t)}</div>"
        f"<div>↔ {_e(pair.second.text)} {_markers(pair.second.citations)}"
        f"{_flag(pair.second.flagged, pair.second.reason, t)}</div>{reason}</li>"
    )


def _source(source: Source) -> str:
    meta, chunk = source.article, source.chunk
    about = " · ".join(
        _e(x)
        for x in (meta.source, meta.author, meta.date, meta.id, f"tekens / characters {chunk.start}–{chunk.end}")
        if x
    )
    return (
        f'<div class="source" id="briefing-source-{source.n}" data-n="{source.n}">'
        f'<div class="source-head"><span class="marker">[{source.n}]</span> '
        f"<strong>{_e(meta.title)}</strong></div>"
        f'<div class="source-meta">{about}</div>'
        f'<p class="passage">{_e(chunk.text)}</p></div>'
    )


def briefing_html(briefing: Briefing) -> str:
    """The whole briefing: key facts, figures, quotes, timeline, where the sources differ
    and the numbered sources, with the section titles of the briefing's language."""
    t = SECTION_TITLES[briefing.language]
    head = [f"<h2>{_e(t['title'])}</h2>"]
    if briefing.topic:
        head.append(f'<p class="topic">{_e(t["topic"])}: {_e(briefing.topic)}</p>')
    head.append(
        f'<p class="articles">{_e(t["articles"])}: '
        + "; ".join(_e(a.title) for a in briefing.articles)
        + "</p>"
    )
    facts = "".join(_point(p, t) for p in briefing.key_facts)
    quotes = "".join(_quote(q, t) for q in briefing.quotes)
    events = "".join(_event(e) for e in briefing.timeline)
    pairs = "".join(_disagreement(d, t) for d in briefing.disagreements)
    sources = "".join(_source(s) for s in briefing.sources)
    return "".join([
        '<div class="briefing">',
        *head,
        _section(t["key_facts"], f"<ul>{facts}</ul>" if facts else "", t, "key-facts"),
        _section(t["figures"], _figures(briefing.figures, t), t, "figures"),
        _section(t["quotes"], quotes, t, "quotes"),
        _section(t["timeline"], f"<ul>{events}</ul>" if events else "", t, "timeline"),
        _section(t["disagreements"], f"<ul>{pairs}</ul>" if pairs else "", t, "disagreements"),
        _section(t["sources"], sources, t, "sources"),
        "</div>",
    ])

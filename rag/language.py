"""Tell Dutch from English, for questions as short as "En Meta?".

Evidence is weighted and additive: frequent function words ("de", "wie", "hoeveel" against
"the", "who", "how") count most, letter patterns of lower-case words ("ij", "sch", "aa"
against "th", "wh", "-tion") count a little. Capitalised words are left out of the letter
evidence because they are mostly names ("DeepSeek", "Nvidia"), which say nothing about the
language. No evidence, or a tie, gives the caller's default.

This module only detects the language; it does not translate, and it knows no third language:
French or German text gets whichever of the two it resembles more.
"""

from __future__ import annotations

import re

from rag.types import Language

# Frequent words that belong to one language only. Words both languages use ("is", "in",
# "was", "had", "we", "over", "men") are left out on purpose: they carry no evidence.
DUTCH_WORDS: frozenset[str] = frozenset(
    """
    de het een en van wie wat welke welk hoeveel waarom waar wanneer hoe zijn heeft hebben
    werd wordt worden waren niet ook nog maar voor bij uit naar als er deze dit dat die op te
    om aan met door tegen na zo dan toen geen meer veel ik je jij jouw u uw zij ze hij haar hun
    mijn ons onze wij kan kon kunnen zou zouden moet moeten wil willen zal zullen heb hadden
    iets niets alle alles andere echter nu hier daar daarna daarom omdat wel
    zoals volgens tussen onder sinds tijdens zich zelf elk elke ieder iemand niemand vertel
    leg uit noem geef zeg
    """.split()
) - {"over"}

ENGLISH_WORDS: frozenset[str] = frozenset(
    """
    the a an of and to for on with by from at it its this that these those what which who
    whom whose how why when where did does do done has have having were are be been being
    about tell me my your you they them their he she his her him not no yes can could would
    should will shall than then there also only more most much many after before because
    into onto out up down said says say according lose lost did any some other such our
    us if or but so just very give explain name list describe
    """.split()
) - {"we"}

# Letter patterns of lower-case words: (pattern, weight). Anchors mark word ends.
DUTCH_PATTERNS: tuple[tuple[re.Pattern[str], float], ...] = tuple(
    (re.compile(p), w)
    for p, w in [
        (r"ij", 1.0),
        (r"aa", 0.8),
        (r"uu", 0.8),
        (r"sch", 0.6),
        (r"cht", 0.5),
        (r"oe", 0.4),
        (r"ui", 0.3),
        (r"eu", 0.3),
        (r"heid$", 1.0),
        (r"tje$", 1.0),
        (r"(?<!e)en$", 0.3),
        (r"^ge\w{3,}[dt]$", 0.4),
    ]
)
ENGLISH_PATTERNS: tuple[tuple[re.Pattern[str], float], ...] = tuple(
    (re.compile(p), w)
    for p, w in [
        (r"th", 0.8),
        (r"wh", 1.0),
        (r"sh", 0.4),
        (r"tion$", 0.8),
        (r"ly$", 0.6),
        (r"[^e]ed$", 0.4),
        (r"ea", 0.5),
        (r"y", 0.4),
        (r"ck", 0.3),
        (r"ous$", 0.6),
    ]
)

FUNCTION_WORD_WEIGHT = 2.0
MAX_PATTERN_WEIGHT = 1.0  # per word: one long word must not outvote a function word

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")


def detect_language(text: str, default: Language = "nl") -> Language:
    """Dutch or English, by weighted evidence; `default` when there is none or a tie.

    >>> [detect_language(text) for text in ("En Meta?", "What about Apple?", "Nvidia?")]
    ['nl', 'en', 'nl']
    """
    score = language_score(text)
    if score > 0:
        return "nl"
    if score < 0:
        return "en"
    return default


def language_score(text: str) -> float:
    """Dutch evidence minus English evidence; positive means Dutch.

    >>> language_score("Wie is de CEO?")
    4.0
    """
    words = _WORD.findall(text)
    score = 0.0
    for position, word in enumerate(words):
        lower = word.lower()
        if lower in DUTCH_WORDS:
            score += FUNCTION_WORD_WEIGHT
        if lower in ENGLISH_WORDS:
            score -= FUNCTION_WORD_WEIGHT
        if lower in DUTCH_WORDS or lower in ENGLISH_WORDS:
            continue
        if _looks_like_name(word, position, len(words)):
            continue
        score += _pattern_score(lower)
    return score


def _looks_like_name(word: str, position: int, n_words: int) -> bool:
    """Capitalised words are names, except the plainly capitalised first word of a longer
    text. A lone capitalised word ("Zuckerberg?") is taken for a name.

    >>> [_looks_like_name(*a) for a in [("Klopt", 0, 2), ("Zuckerberg", 0, 1), ("Meta", 1, 2)]]
    [False, True, True]
    """
    if word.islower():
        return False
    return not (position == 0 and n_words > 1 and word[1:].islower())


def _pattern_score(word: str) -> float:
    """Letter-pattern evidence of one lower-case word, each side capped.

    >>> _pattern_score("waarschijnlijk"), _pattern_score("whether")
    (1.0, -1.0)
    """
    dutch = sum(w for p, w in DUTCH_PATTERNS if p.search(word))
    english = sum(w for p, w in ENGLISH_PATTERNS if p.search(word))
    return min(dutch, MAX_PATTERN_WEIGHT) - min(english, MAX_PATTERN_WEIGHT)

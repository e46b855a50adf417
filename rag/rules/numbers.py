"""Claim rules about numbers: spelled-out numbers and dates, qualifiers ("net geen", "just
over"), amounts in other magnitudes, rounding, fractions, records and ranks.
"""

from __future__ import annotations

import re
from decimal import Decimal

from rag.citations import DATE_WORDS, MONTHS, NUMBER, WEEKDAYS, amounts, fold, normalise_number, number_kinds


_NUMBER_WORDS = {
    "twee": "2", "drie": "3", "vier": "4", "vijf": "5", "zes": "6", "zeven": "7", "acht": "8",
    "negen": "9", "tien": "10", "elf": "11", "twaalf": "12", "twintig": "20", "dertig": "30",
    "veertig": "40", "vijftig": "50", "two": "2", "three": "3", "four": "4", "five": "5",
    "six": "6", "seven": "7", "eight": "8", "nine": "9", "ten": "10", "eleven": "11",
    "twelve": "12", "twenty": "20", "thirty": "30", "forty": "40", "fifty": "50",
}
_NUMBER_WORD = re.compile(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b", re.IGNORECASE)


_NUMERIC_DATE = re.compile(r"\b(\d{1,2})([-/.])(\d{1,2})\2((?:19|20)\d\d)\b")


def spelled_dates(text: str) -> str:
    """Dates in figures with the month's name: "27-01-2025" -> "27 January 2025" (day first,
    unless only the second number can be a day: "01/27/2025")."""

    def spell(match: re.Match[str]) -> str:
        day, month = int(match.group(1)), int(match.group(3))
        if month > 12 >= day:
            day, month = month, day
        if not (1 <= month <= 12 and 1 <= day <= 31):
            return match.group(0)
        return f"{day} {MONTHS[month - 1][0].capitalize()} {match.group(4)}"

    return _NUMERIC_DATE.sub(spell, text)


def digits(text: str) -> str:
    """Spelled-out numbers as digits: "drie factoren" and "three factors" say 3."""
    return _NUMBER_WORD.sub(lambda m: _NUMBER_WORDS[m.group(1).lower()], text)


# A qualifier right before a number puts the value below, above or near it.
_BELOW = r"net geen|bijna|nagenoeg|krap|minder dan|nog geen|just under|nearly|almost|less than|under|below|barely"
_ABOVE = r"ruim|meer dan|iets meer dan|just over|over|more than|above|upwards of|at least|minstens|minimaal"
_NEAR = r"ongeveer|circa|zo'n|zowat|pakweg|grofweg|omstreeks|rond|about|around|roughly|approximately|some"
_QUALIFIED = re.compile(
    rf"\b(?:(?P<below>{_BELOW})|(?P<above>{_ABOVE})|(?P<near>{_NEAR}))\s+(?:[$€£]\s?)?(?P<number>\d+(?:[.,]\d+)*)",
    re.IGNORECASE,
)


def _qualifiers(text: str) -> dict[str, str]:
    """Each qualified number with the side its word puts the value: "below", "above" or "near"."""
    return {
        normalise_number(m.group("number")): next(side for side in ("below", "above", "near") if m.group(side))
        for m in _QUALIFIED.finditer(text)
    }


def directional_qualifiers(text: str) -> dict[str, str]:
    return {number: side for number, side in _qualifiers(text).items() if side != "near"}


def qualifier_clash(claim: str, passages: str) -> str | None:
    """"just over 17 percent" where the passage says "net geen 17 procent"."""
    stated = directional_qualifiers(passages)
    for number, side in directional_qualifiers(claim).items():
        if stated.get(number) and stated[number] != side:
            return f"the claim puts {number} {side}, the passage {stated[number]}"
    return None


_WEEKDAY_WORDS = "|".join(w for pair in WEEKDAYS for w in pair)
_RELATIVE_WEEKDAY = re.compile(
    rf"\b(?:(?:{_WEEKDAY_WORDS})\s+(?:before|after|ervoor|daarvoor|erna|daarna|voordien)|"
    rf"(?:previous|preceding|following|next|vorige|voorgaande|volgende|komende)\s+(?:{_WEEKDAY_WORDS}))\b",
    re.IGNORECASE,
)


def other_weekday(claim: str, weekday: str) -> bool:
    """Whether the claim places `weekday` relative to the reported day ("the Friday before",
    "de vrijdag ervoor", "vorige vrijdag"): a day the passages' weekday does not replace."""
    return any(
        DATE_WORDS.get(fold(w)) == weekday
        for m in _RELATIVE_WEEKDAY.finditer(claim)
        for w in m.group(0).split()
    )


_FRACTIONS = {
    "helft": "1/2", "half": "1/2", "derde": "1/3", "third": "1/3", "kwart": "1/4",
    "quarter": "1/4", "vierde": "1/4", "fourth": "1/4", "vijfde": "1/5", "fifth": "1/5",
    "tiende": "1/10", "tenth": "1/10",
}
FRACTION = re.compile(
    r"\b(?:een|één|a|one|de|the)\s+(" + "|".join(_FRACTIONS) + r")\b(?:\s+(?:van|of)\b)", re.IGNORECASE
)


_RANGE_GAP = re.compile(r"\s*(?:tot|en|to|and|-|–)\s*(?:[$€£]\s?)?", re.IGNORECASE)


def amount_values(text: str) -> dict[str, Decimal]:
    """The amounts of a text by number, as values: "20.100 miljoen" and "20,1 miljard" are
    both 2.01e10; a number of a million or more written out counts as itself."""
    exponents = dict(amounts(text))
    values = {number: Decimal(number).scaleb(exponent) for number, exponent in exponents.items()}
    found = list(NUMBER.finditer(text))
    for match, after in zip(found, [*found[1:], None]):
        number = normalise_number(match.group(1))
        if number in values:
            continue
        # "60 tot 65 miljard", "60.000 en 65.000 miljoen": a range's start has its end's unit.
        end = normalise_number(after.group(1)) if after else None
        if end in exponents and _RANGE_GAP.fullmatch(text[match.end() : after.start()]):
            values[number] = Decimal(number).scaleb(exponents[end])
        elif Decimal(number) >= 1_000_000:
            values[number] = Decimal(number)
    return values


def same_values(claim: str, passages: str) -> set[str]:
    """The claim's numbers whose amount the passages state in another magnitude:
    "589.000.000.000 dollar" where they say "589 miljard dollar"."""
    stated = {value.normalize() for value in amount_values(passages).values()}
    return {number for number, value in amount_values(claim).items() if value.normalize() in stated}


def _valued(text: str) -> dict[str, set[tuple[str, Decimal]]]:
    """Each number of a text with what it counts and its value: an amount scaled by its
    magnitude word ("632 miljoen" is 6.32e8), a percentage or a plain number as itself."""
    scaled: dict[str, set[Decimal]] = {}
    for number, exponent in amounts(text):
        scaled.setdefault(number, set()).add(Decimal(number).scaleb(exponent))
    valued: dict[str, set[tuple[str, Decimal]]] = {}
    for number, kinds in number_kinds(text).items():
        for kind in kinds - {"year"}:
            values = scaled.get(number, set()) if kind == "amount" else {Decimal(number)}
            valued.setdefault(number, set()).update((kind, value) for value in values)
    return valued


# How far a rounded number may be from the value it rounds, by the side its word puts it.
_ROUNDING_TOLERANCE = {"near": Decimal("0.05"), "above": Decimal("0.15"), "below": Decimal("0.15")}


def _rounds(claimed: Decimal, stated: Decimal, side: str) -> bool:
    if claimed <= 0 or abs(stated - claimed) > _ROUNDING_TOLERANCE[side] * claimed:
        return False
    return side == "near" or (stated >= claimed if side == "above" else stated <= claimed)


def rounded(claim: str, passages: str) -> set[str]:
    """The claim's qualified numbers that round a value of the same kind in the passages,
    on the side their word says: "ruim 560 miljard euro" for "561,7 miljard euro", "roughly
    $0.63 billion" for "632 miljoen dollar"; "bijna 600" is not 610."""
    stated = [pair for pairs in _valued(passages).values() for pair in pairs]
    claimed = _valued(claim)
    return {
        number
        for number, side in _qualifiers(claim).items()
        for kind, value in claimed.get(number, ())
        if any(kind == stated_kind and _rounds(value, stated_value, side) for stated_kind, stated_value in stated)
    }


# Words that make a number a bound, not a rounding: "meer dan tien miljard" holds for 20,1 miljard.
_BOUND = re.compile(
    r"\b(?:(?P<above>meer dan|more than|at least|minstens|minimaal|upwards of)|"
    r"(?P<below>minder dan|less than|fewer than|hooguit|at most))\s+(?:[$€£]\s?)?(?P<number>\d+(?:[.,]\d+)*)",
    re.IGNORECASE,
)


def _bounds(text: str) -> dict[str, str]:
    """Each bounded number with its side: "meer dan 10" -> {"10": "above"}."""
    return {
        normalise_number(m.group("number")): "above" if m.group("above") else "below" for m in _BOUND.finditer(text)
    }


def bounded(claim: str, passages: str) -> set[str]:
    """The claim's bounds on an amount or percentage ("meer dan tien miljard dollar") that a
    value of the same kind in the passages meets: a number they state plainly, or bound the
    same way ("meer dan 3 procent" meets "more than 2 percent", not "more than 5")."""
    sides = _bounds(claim)
    if not sides:
        return set()
    qualified = _qualifiers(passages)
    stated = [
        (kind, value, qualified.get(number))
        for number, pairs in _valued(passages).items() for kind, value in pairs
    ]
    claimed = _valued(claim)
    return {
        number
        for number, side in sides.items()
        for kind, value in claimed.get(number, ())
        if kind in ("amount", "percent") and any(
            kind == stated_kind and stated_side in (None, side)
            and (stated_value > value if side == "above" else stated_value < value)
            for stated_kind, stated_value, stated_side in stated
        )
    }


_TOGETHER = re.compile(
    r"\b(?:together|combined|altogether|in total|samen|samen goed voor|in totaal|gezamenlijk)\b", re.IGNORECASE
)


def summed(claim: str, passages: str) -> set[str]:
    """The claim's amounts that add up the passages' amounts, when the claim says so
    ("together lost more than 55 billion dollars" for 20,1, 22,6 and 13 miljard)."""
    if not _TOGETHER.search(claim):
        return set()
    total = sum(amount_values(passages).values(), Decimal(0))
    bounds = _bounds(claim)
    qualified = _qualifiers(claim)
    found = set()
    for number, value in amount_values(claim).items():
        side = bounds.get(number)
        if (value == total or (side == "above" and total > value) or (side == "below" and total < value)
                or (not side and number in qualified and _rounds(value, total, qualified[number]))):
            found.add(number)
    return found


_FRACTION_PERCENTS = {"1/2": {"50"}, "1/3": {"33", "33.3"}, "1/4": {"25"}, "1/5": {"20"}, "1/10": {"10"}}


def fraction_percents(claim: str, passages: str) -> set[str]:
    """The claim's percentages that restate a fraction of the passages: "ongeveer 20
    procent" where they say "een vijfde van zijn vermogen"."""
    percents = {n for n, kinds in number_kinds(claim).items() if "percent" in kinds}
    stated = {_FRACTIONS[m.group(1).lower()] for m in FRACTION.finditer(passages)}
    return {n for fraction in stated for n in _FRACTION_PERCENTS[fraction] if n in percents}


def fraction_totals(claim: str, passages: str) -> set[str]:
    """The claim's amounts that are the whole a fraction of the passages is part of: "ongeveer
    100 miljard" where they say "20,1 miljard dollar, een vijfde van zijn vermogen"."""
    denominators = {int(_FRACTIONS[m.group(1).lower()][2:]) for m in FRACTION.finditer(passages)}
    totals = [value * d for value in amount_values(passages).values() for d in denominators]
    sides = _qualifiers(claim)
    return {
        number for number, value in amount_values(claim).items()
        if any(_rounds(value, total, sides.get(number, "near")) for total in totals)
    }


def fraction_clash(claim: str, passages: str) -> str | None:
    """"a third of his fortune" where the passages say "een vijfde van zijn vermogen"."""
    claimed = {_FRACTIONS[m.group(1).lower()] for m in FRACTION.finditer(claim)}
    stated = {_FRACTIONS[m.group(1).lower()] for m in FRACTION.finditer(passages)}
    if claimed and stated and not claimed & stated:
        return f"fraction {min(claimed)} where the passages say {min(stated)}"
    return None


# "ever", "in its history", "ooit", "record": a superlative without bounds ("ever larger" is none).
_ALL_TIME = re.compile(
    r"\bever\b(?!\s+(?:more|larger|bigger|greater|higher|since))|\b(?:ooit|aller tijden|all[- ]time|"
    r"history|record)\b|geschiedenis",
    re.IGNORECASE,
)
_SINCE = re.compile(r"\b(?:sinds|since)\b", re.IGNORECASE)
_SUPERLATIVE_WORDS = (
    "grootste|hoogste|laagste|sterkste|zwaarste|diepste|slechtste|beste|steilste|biggest|"
    "largest|steepest|sharpest|worst|highest|lowest|deepest|heaviest|best"
)
_SUPERLATIVE = re.compile(rf"\b(?:{_SUPERLATIVE_WORDS})\b", re.IGNORECASE)


def bounded_record_clash(claim: str, sentence: str) -> str | None:
    """"the steepest in the company's history" where the passage says "de grootste daling
    sinds maart 2020": a superlative since a date is no record of all time."""
    if not _ALL_TIME.search(claim) or _SINCE.search(claim) or _ALL_TIME.search(sentence):
        return None
    since = _SINCE.search(sentence)
    if since and _SUPERLATIVE.search(sentence[: since.start()]):
        bound = " ".join(sentence[since.start():].split()[:3]).rstrip(",.;")
        return f"the claim says of all time, the passage says {bound}"
    return None


# "second-largest", "op één na grootste": a superlative ranked below the first.
_RANKED = re.compile(
    rf"\b(?:second|third|fourth|tweede|derde|vierde|op (?:één|een|twee) na)[\s-]+(?:{_SUPERLATIVE_WORDS}|"
    r"plaats|plek|positie|place|spot|position)\b",
    re.IGNORECASE,
)
_UNRANKED_RECORD = re.compile(
    _ALL_TIME.pattern
    + r"|\b(?:nooit (?:eerder )?gezien|ongezien|ongekend|unprecedented|never (?:before )?seen|koppositie|"
    r"eerste (?:plaats|plek)|first (?:place|spot)|top spot|nummer (?:één|een|1)|number (?:one|1))\b",
    re.IGNORECASE,
)


def rank_clash(claim: str, sentence: str) -> str | None:
    """"the second-largest loss" where the sentence says "een record" or "de grootste
    daling", or the reverse: a first place and a lower one."""
    for ranked, plain in ((claim, sentence), (sentence, claim)):
        rank = _RANKED.search(ranked)
        first = None if _RANKED.search(plain) else (_UNRANKED_RECORD.search(plain) or _SUPERLATIVE.search(plain))
        if rank and first:
            said, stated = rank.group(0), first.group(0)
            if ranked is not claim:
                said, stated = stated, said
            return f"rank: the claim says {said}, the passage {stated}"
    return None

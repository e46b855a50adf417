"""Word lists and small predicates the claim rules share: negation, avoiding, absence,
directions (rose/fell), speech verbs, tokens and stems.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.citations import WORD, fold, normalise_number


NEGATORS = frozenset(
    "niet geen nooit noch zonder nergens niemand niets not no never none neither nor without "
    "nobody nothing cannot ontwijkt ontwijken ontweek ontweken weigert weigerde weigeren avoids avoid "
    "avoided evades evade evaded dodges dodge dodged sidesteps sidestep sidestepped refuses "
    "refused refuse failed fails".split()
)
# Words of avoiding: the same meaning in either text ("sidesteps" for "omzeilt", "ontweken"
# for "ontwijkt"), so negation is compared without them when both have one.
_AVOIDING = frozenset(
    "ontwijkt ontwijken ontweek ontweken omzeilt omzeilen omzeilde omzeild avoids avoid "
    "avoided evades evade evaded dodges dodge dodged sidesteps sidestep sidestepped circumvents "
    "circumvent circumvented".split()
)
# Words saying that something stayed away or was missing: a negation without a negator.
ABSENCE = re.compile(
    r"\b(?:(?:bleef|bleven|blijft|blijven)\b[^.;]{0,60}\buit\b|uitbl\w+|ontbr\w+|lack(?:s|ed|ing)?|"
    r"absent|missing|stayed away|failed to)\b",
    re.IGNORECASE,
)
CONTRACTED_NOT = re.compile(r"n[’']t\b|\buit de weg\b|\bsteers? clear\b", re.IGNORECASE)
# Phrases with a negator that do not negate: "net geen 17 procent" is almost 17 percent,
# "een nooit gezien verlies" a record loss.
_NOT_NEGATING = re.compile(
    r"\b(?:net geen|bijna geen|nooit (?:eerder )?(?:gezien|vertoond)\w*|nooit eerder|niet minder dan|"
    r"niet alleen|niet onder voor|niet onderdoen|niet onderdoet|no less than|not only|"
    r"never (?:before )?seen|never before|not since|second to none)\b",
    re.IGNORECASE,
)
# A record said the other way round: "zo'n daling had het aandeel sinds maart 2020 niet meer
# gekend" is "de grootste daling sinds maart 2020"; its negator does not negate either.
_SUCH = (r"(?:zo['’]n|zulke?|zo\s+(?:groot|grote|sterk|sterke|diep|fors|forse|hard|veel)|such|"
         r"(?:so|as)\s+(?:much|big|large|great|sharp|steep|deep|heavy|many))")
_RECORD_SINCE = re.compile(
    rf"\b{_SUCH}\b[^.;]{{0,80}}\b(?:sinds|since)\b|\b(?:sinds|since)\b[^.;]{{0,80}}\b{_SUCH}\b",
    re.IGNORECASE,
)
_RECORD_NEGATOR = re.compile(r"\b(?:niet meer|not|never|nooit meer)\b", re.IGNORECASE)


# "No stock had ever lost more" says Nvidia's loss is a record: its "no" negates nothing.
_NONE_EVER_MORE = re.compile(
    r"\b(?:no|geen)\s+(?:\w+\s+){0,3}?(?:ever|ooit)\b(?=[^.;]{0,60}\b(?:more|meer|bigger|larger|"
    r"greater|groter|higher|hoger|steeper|sharper)\b)",
    re.IGNORECASE,
)


def without_non_negating(text: str) -> str:
    """`text` less the phrases whose negator does not negate."""
    text = _NOT_NEGATING.sub(" ", text)
    text = _NONE_EVER_MORE.sub(lambda m: " " + m.group(0).split(None, 1)[1], text)
    return _RECORD_NEGATOR.sub(" ", text) if _RECORD_SINCE.search(text) else text


_UP_WORDS = frozenset(
    "steeg stegen gestegen stijgt stijgen stijging hoger won wonnen gewonnen wint winnen winst "
    "groeide groeiden groei gegroeid groeit toename toegenomen opgeveerd herstelde herstel "
    "rose rise rises risen rising gain gained gains increase increased increases grew grow "
    "grows growth climbed climb jumped jump surged surge soared soar rallied rally higher up "
    "recover recovered recovers recovery rebound rebounded toenemen toeneemt "
    "aanwakkeren aanwakkert wakkert versterkt versterken versterkte fuel fuels fuelled boost "
    "boosts boosted strengthen strengthens strengthened stimulate stimulates rijker richer "
    "opveren opveerde opveerden veert toenam toenamen aangroeien aangegroeid turbo amplify "
    "amplifies amplified amplifying".split()
)
_DOWN_WORDS = frozenset(
    "daalde daalden gedaald daalt dalen daling zakte zakten gezakt zakt zakken verloor verloren "
    "verliest verliezen verlies viel vielen gevallen valt vallen val kelderde kelderden "
    "gekelderd keldert lager krimp kromp afname afgenomen fell fall falls fallen falling drop "
    "dropped drops lost lose loses losing loss losses decline declined declines decrease "
    "decreased down lower plunge plunged plunges tumbled tumble slump slumped sank sink "
    "shrank shrink shrinks crash crashed onderuit afnemen afneemt dempen dempend dempt "
    "afremmen remt ondermijnt ondermijnen ondermijnde verzwakt verzwakken dampen dampens "
    "dampened undermine undermines undermined weaken weakens weakened slow slows shed armer "
    "poorer temperen tempert temper tempers slinken slinkt slonk slonken geslonken krimpen "
    "krimpt kromp krompen gekrompen verdampen verdampt verdampte verdampten inboeten "
    "ingeboet wiped erased brake brakes braking dip dips dipped slid slide slides sliding".split()
)
_UP_SUFFIXES = ("stijging", "winst", "groei")
_DOWN_SUFFIXES = ("daling", "verlies", "val")
SPEECH = re.compile(
    r"[\"“”„«»]|\b(?:zei|zegt|zeggen|aldus|volgens|stelt|stelde|schreef|schrijft|noemde|noemt|"
    r"waarschuwde|roept|riep|said|says|say|according|wrote|writes|called|calls|warned|told|"
    r"urged|urges)\b",
    re.IGNORECASE,
)


def word_direction(word: str) -> int:
    """+1 for a word of rising, -1 for one of falling, 0 otherwise."""
    if word in _UP_WORDS or (len(word) > 6 and word.endswith(_UP_SUFFIXES)):
        return 1
    if word in _DOWN_WORDS or (len(word) > 6 and word.endswith(_DOWN_SUFFIXES)):
        return -1
    return 0


def folded_words(text: str) -> list[str]:
    """The words of a text, lower case and without accents."""
    return [fold(w) for w in WORD.findall(text)]


def is_negated(text: str) -> bool:
    """Whether a negator negates something in the text ("not", "geen", "n't", "weigerde")."""
    text = without_non_negating(text)
    return bool(CONTRACTED_NOT.search(text)) or any(w in NEGATORS for w in folded_words(text))


def avoids(text: str) -> bool:
    """Whether the text has a word of avoiding ("omzeilt", "sidesteps")."""
    return any(w in _AVOIDING for w in folded_words(text))


def without_avoiding(text: str) -> str:
    return WORD.sub(lambda m: "" if fold(m.group(0)) in _AVOIDING else m.group(0), text)


@dataclass(frozen=True)
class PassageSentence:
    """One sentence of the passages given: which passage, which sentence of it, its text."""

    passage: int
    sentence: int
    text: str


_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W_]+(?:&[^\W_]+)*")


def word_tokens(text: str) -> list[str]:
    """Words and numbers in order: words folded, numbers normalised ("561,7" -> "561.7")."""
    return [
        normalise_number(t) if t[0].isdigit() else fold(t) for t in _TOKEN.findall(text)
    ]


def word_stem(token: str, length: int = 5) -> str:
    """The first letters of a folded token, c read as k: "electric" and "elektrische" alike."""
    return token.replace("c", "k")[:length]


# Words that negate what follows them (verbs such as "ontwijkt" negate differently).
PARTICLES = frozenset("niet geen nooit niets not no never nothing none".split())

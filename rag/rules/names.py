"""Claim rules about names: implicit and added parties, speakers, places, roles and titles,
who owns an amount, and comparisons of parties' amounts.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Collection, Sequence

from rag.citations import (
    Evidence, FUNCTION_WORDS, KeyTerms, NUMBER, PLACE_PATTERNS, ROLES, WORD, amounts, fold, is_place,
    join_adjacent_names, key_terms, name_matches, names_in, normalise_number, number_kinds,
    split_sentences,
)
from rag.language import detect_language
from rag.rules.lexicon import PassageSentence, SPEECH, word_tokens
from rag.rules.numbers import amount_values


def qualifies_same(noun: str, nouns: set[str]) -> bool:
    """Whether a place's noun (first five letters) is one of `nouns`, or one begins the other:
    "tech companies" and the compound "techbedrijven"."""
    return any(noun.startswith(n) or n.startswith(noun) for n in nouns if min(len(n), len(noun)) >= 4)


def is_located(text: str, place: str) -> bool:
    """Whether `place` is where something is, comes from or goes to: "in Singapore", "uit China"."""
    preposition = r"\b(?i:in|via|uit|vanuit|naar|from|to|into|through|out of)\s+(?i:(?:de|het|the)\s+)?"
    return bool(re.search(preposition + re.escape(place), text))


def qualifies_any(nouns: set[str], qualified: set[str]) -> bool:
    """Whether any of a place's nouns qualifies the same thing as `qualified` does."""
    return any(qualifies_same(noun, qualified) for noun in nouns)


_DESCRIPTION = re.compile(
    r"\b(?:de|het|the|this|dit|deze)\s+(app|bedrijf|start-up|startup|chatbot|company|firm)\b", re.IGNORECASE
)

# Descriptions that stand for the same thing: "DeepSeek's chatbot" is "de app".
_ALIKE = {"app": ("chatbot",), "chatbot": ("app",), "bedrijf": ("company", "firm"), "company": ("bedrijf", "firm"),
          "firm": ("bedrijf", "company")}


def implicit_name(claim: str, name: str, window: str) -> bool:
    """Whether the passage calls what the claim names by a description in the same place:
    "bij gebruik van de app" for "bij het gebruik van de DeepSeek-app" (the description's
    noun after the name, or the same word before both)."""
    window_tokens, claim_tokens = word_tokens(window), word_tokens(claim)
    described = {fold(m.group(1)) for m in _DESCRIPTION.finditer(window)}
    nouns = described | {alike for noun in described for alike in _ALIKE.get(noun, ())}
    first = fold(name.split()[0])
    if not nouns or first not in claim_tokens:
        return False
    i = claim_tokens.index(first)
    if i + 1 < len(claim_tokens) and claim_tokens[i + 1] in nouns:
        return True  # "de DeepSeek-app", "the DeepSeek app"
    if claim_tokens[i + 1 : i + 2] == ["s"] and claim_tokens[i + 2 : i + 3] and claim_tokens[i + 2] in nouns:
        return True  # "DeepSeek's app"
    if i >= 2 and claim_tokens[i - 1] in {"van", "of"} and claim_tokens[i - 2] in nouns:
        return True  # "de app van DeepSeek", "the app of DeepSeek"
    before = {t[:5] for t in claim_tokens[max(0, i - 3) : i] if len(t) >= 4 and t not in FUNCTION_WORDS}
    return any(
        before & {w[:5] for w in window_tokens[max(0, j - 3) : j] if len(w) >= 4 and w not in FUNCTION_WORDS}
        for j, t in enumerate(window_tokens) if t in nouns
    )


_ADDITIVE = frozenset({"ook", "eveneens", "evenmin", "also", "too", "likewise"})


def is_added(claim: str, name: str, reach: int = 3) -> bool:
    """Whether "ook" or "also" stands within `reach` words of `name`'s first or last word:
    "ook Intel", "Japanese chip stocks also fell", "The Dow Jones Industrial Average also
    closed lower" add a party to the passages' ones."""
    words = [fold(w) for w in WORD.findall(claim) if fold(w) != "s"]  # not the "s" of "Microsoft's"
    ends = {fold(name.split()[0]), fold(name.split()[-1])}
    if words[:1] and words[0] in _ADDITIVE:
        return True  # "Ook het aandeel van AMD ...": the whole statement adds to the passages'
    return any(
        w in ends and any(v in _ADDITIVE for v in words[max(0, i - reach) : i + reach + 1])
        for i, w in enumerate(words)
    )


# Capitalised abbreviations that name a role or a field, not a party.
ROLE_WORDS = frozenset({"CEO", "CFO", "CTO", "COO", "AI", "LLM", "IT", "PR", "ICT"})


def is_party(name: str) -> bool:
    """A person or company that can say or own something: neither a place nor a role word."""
    return name.upper() not in ROLE_WORDS and not is_place(name)


QUOTE_MARK = re.compile(r"[\"“”„«»]")
_QUOTED = re.compile(r"[\"“„«]([^\"”«»]{12,})[\"”»]")


def speech_content(claim: str, least_words: int = 4) -> str:
    """What a claim says someone said: the quoted words, else the words after the first
    speech verb; the whole claim when that leaves fewer than `least_words` words."""
    if quoted := _QUOTED.search(claim):
        return quoted.group(1)
    verb = SPEECH.search(claim)
    after = claim[verb.end():] if verb else ""
    if verb and fold(verb.group(0)) in _SOURCE_WORDS:
        after = _after_source(after)
    return after if len(after.split()) >= least_words else claim


# "Volgens X ..." and "According to X ...": what follows X is what X says.
_SOURCE_WORDS = frozenset({"volgens", "according"})


def _after_source(text: str, reach: int = 6) -> str:
    """The words after the first person or company named within `reach` words: "de
    Australische minister Ed Husic is ..." -> "is ..."; the text itself when none is named."""
    head = " ".join(text.split()[:reach])
    names = [n for n in join_adjacent_names(head, key_terms(head).names) if is_party(n)]
    if not names:
        return text
    return text[text.index(names[0]) + len(names[0]):].lstrip(" ,")


# Speech verbs whose following name is what is named, not who speaks ("noemde R1 ...").
_NAMING_VERBS = frozenset({"noemde", "noemt", "called", "calls"})


def near_speech(claim: str, name: str, reach: int = 4) -> bool:
    """Whether `name` is within `reach` words of a speech verb or quote mark: the speaker."""
    words = claim.split()
    marks = [i for i, w in enumerate(words) if SPEECH.search(w)]
    first = name.split()[0]
    at = [i for i, w in enumerate(words) if first in w]
    return any(
        abs(i - m) <= reach and not (i > m and fold(words[m].strip(",.;:")) in _NAMING_VERBS)
        for i in at for m in marks
    )


def sentence_names(text: str, known: Collection[str] = frozenset()) -> list[str]:
    """Names of a text, sentence by sentence, so sentence openers do not count as names,
    unless `known` (folded words the passages use as names) holds them: "Meta-oprichter ..."."""
    found = (
        name for sentence in split_sentences(text, detect_language(text)) for name in names_in(sentence, known)
    )
    return list(dict.fromkeys(found))


def merge_adjacent_names(claim: str, missing: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Missing names next to each other in the claim ("Ed", "Husic") are one name; the names
    go last, as `_missing_terms` orders them."""
    names = [term for kind, term in missing if kind == "name"]
    others = [(kind, term) for kind, term in missing if kind != "name"]
    return others + [("name", name) for name in join_adjacent_names(claim, names)]


_COMPARATIVE = re.compile(
    r"\b(?P<word>meer|more|minder|less|fewer|groter|larger|bigger|kleiner|smaller)\b.{0,40}?"
    r"\b(?:dan|than)\b(?!\s*[\d$€£])",
    re.IGNORECASE,
)
_LESS = frozenset("minder less fewer kleiner smaller".split())


def compared_amounts(claim: str, passages: str, terms: KeyTerms) -> tuple[bool, str] | None:
    """Whether the passages' amounts bear out a comparison of two parties the claim makes
    ("Dell lost more than Ellison" where they say "Ellison en Dell zagen respectievelijk 22,6
    miljard en 13 miljard ... in rook opgaan"), with the amounts; None when they give no
    amount to one of the two. A party's amount comes from a "respectively" list, else from a
    sentence that names it with a single amount."""
    comparative = _COMPARATIVE.search(claim)
    if not comparative:
        return None
    names = [n for n in terms.names if is_party(n)]
    before = [n for n in names if claim.find(n) < comparative.start()]
    after = [n for n in names if claim.find(n) > comparative.end()]
    if not before or not after:
        return None
    sentences = split_sentences(passages, detect_language(passages))
    listed = next(filter(None, map(_respective_list, sentences)), None)

    def value(name: str) -> Decimal | None:
        if listed:
            return next((Decimal(n) for words, n in listed if any(name_matches(name, w) for w in words)), None)
        for sentence in sentences:
            values = list(amount_values(sentence).values())
            if len(values) == 1 and Evidence.of([sentence]).has_name(name):
                return values[0]
        return None

    one, other = value(before[-1]), value(after[0])
    if one is None or other is None or one == other:
        return None
    less = fold(comparative.group("word")) in _LESS
    return (one < other) == less, f"the passage gives {before[-1]} {one:g} and {after[0]} {other:g}"


def place_modifiers(text: str) -> list[tuple[int, str, str]]:
    """Each place word before a noun, as (its gazetteer group, the noun's first five letters,
    the words): "Chinese technologie" -> (group of China, "techn", "Chinese technologie")."""
    found = []
    for group, patterns in enumerate(PLACE_PATTERNS):
        for _, pattern in patterns:
            for m in pattern.finditer(text):
                noun = re.match(r"\s+([^\W\d_][\w-]*)", text[m.end():])
                if noun and len(noun.group(1)) >= 4 and fold(noun.group(1)) not in FUNCTION_WORDS:
                    found.append((group, fold(noun.group(1))[:5], f"{m.group(0)} {noun.group(1)}"))
    return found


_COPULA_END = re.compile(r"\b(?:is|was|are|were|zijn|waren)\s+(?:(?:a|an|een|de|het|the)\s+)?$", re.IGNORECASE)


def copula_subject(claim: str, words: str) -> list[str]:
    """The first five letters of the subject's nouns when `words` (a place and its noun) follow
    a copula: "The Stargate project ... is a Chinese initiative" -> "starg", "proje", ..."""
    at = claim.find(words)
    if at < 0 or not _COPULA_END.search(claim[:at]):
        return []
    subject = claim[: _COPULA_END.search(claim[:at]).start()]
    return [w[:5] for w in word_tokens(subject) if len(w) >= 4 and not w[0].isdigit() and w not in FUNCTION_WORDS]


def place_swap_clash(claim: str, sentence: str) -> str | None:
    """Places swapped between the things they qualify: "American companies ... Chinese
    technology" where the sentence says "Chinese bedrijven ... Amerikaanse technologie"."""
    stated = place_modifiers(sentence)
    groups = {group for group, _, _ in stated}
    for group, noun, said in place_modifiers(claim):
        same_noun = [(g, words) for g, n, words in stated if n == noun]
        if same_noun and group in groups and all(g != group for g, _ in same_noun):
            return f"place: the claim says {said}, the passage {same_noun[0][1]}"
    return None


_RESPECTIVELY = re.compile(r"\b(?:respectievelijk|respectively)\b", re.IGNORECASE)


def _owner(tokens: list[str], index: int, names: Sequence[str]) -> str | None:
    """The claim name nearest before position `index` in the same clause (after it when
    none precedes)."""
    for step in range(1, 12):
        before = index - step
        if before >= 0 and (match := next((n for n in names if name_matches(n, tokens[before])), None)):
            return match
    for step in range(1, 6):
        after = index + step
        if after < len(tokens) and (match := next((n for n in names if name_matches(n, tokens[after])), None)):
            return match
    return None


_LISTED_BEFORE = re.compile(r"\s*(?:,|en|and|&)\s*(?:[$€£]\s?)?", re.IGNORECASE)
_LIST_SEPARATOR = re.compile(r",|;|\s(?:en|and|&|als)\s", re.IGNORECASE)  # "zowel A als B"
_CAPITALISED = re.compile(r"\b[^\W\d_a-z][\w-]*")


def _respective_list(sentence: str) -> list[tuple[list[str], str]] | None:
    """"A en B zagen respectievelijk 22,6 en 13 miljard ..." (or "... 22.6 and 13 billion
    respectively") as [(the capitalised words of A, "22.6"), (those of B, "13")]; None
    when the sentence has no such list or its parts do not pair up."""
    keyword = _RESPECTIVELY.search(sentence)
    if not keyword:
        return None
    kinds = number_kinds(sentence)
    found = list(NUMBER.finditer(sentence))
    counted = [m for m in found if kinds.get(normalise_number(m.group(1)), set()) & {"amount", "percent"}]
    # "22,6 en 13 miljard": the unit of the last number counts for the ones listed before it.
    for m in reversed(found):
        later = next((c for c in counted if c.start() > m.end()), None)
        if m not in counted and later and _LISTED_BEFORE.fullmatch(sentence[m.end():later.start()]):
            counted.insert(counted.index(later), m)
    after = [m for m in counted if m.start() >= keyword.end()]
    before = [m for m in counted if m.end() <= keyword.start()]
    # Dutch puts the keyword before the numbers, English after them.
    numbers = after if after and sentence[keyword.end():after[0].start()].strip(" $€£") == "" else before
    if len(numbers) < 2:
        return None
    subject = sentence[: min(numbers[0].start(), keyword.start())]
    parts = [words for part in _LIST_SEPARATOR.split(subject) if (words := _party_words(part))][-len(numbers):]
    if len(parts) != len(numbers):
        return None
    return [(words, normalise_number(number.group(1))) for words, number in zip(parts, numbers)]


def _party_words(text: str) -> list[str]:
    """The capitalised words of a list part, hyphenated ones split ("Oracle-oprichter
    Larry Ellison" -> Oracle, Larry, Ellison), without capitalised function words ("Ook")."""
    return [
        part for word in _CAPITALISED.findall(text) for part in word.split("-")
        if part[:1].isupper() and fold(part) not in FUNCTION_WORDS
    ]


def _first_list(text: str) -> list[tuple[list[str], str]] | None:
    return next(filter(None, map(_respective_list, split_sentences(text, detect_language(text)))), None)


def _listed_owner(listed: Sequence[tuple[list[str], str]], number: str, names: Sequence[str]) -> str | None:
    """The name a "respectively" list gives `number`: the last of its part's `names`."""
    words = next((w for w, n in listed if n == number), [])
    return next((n for w in reversed(words) for n in names if name_matches(n, w)), None)


def respective_clash(claim: str, window: str, terms: KeyTerms) -> str | None:
    """Numbers given to the wrong party of a "respectively" list: "Ellison lost 13 billion
    and Dell 22.6 billion" where the passage says "Ellison en Dell zagen respectievelijk
    22,6 miljard en 13 miljard ..."; the claim may use such a list itself."""
    stated = _first_list(window)
    if not stated:
        return None
    claimed = _first_list(claim)
    names = [n for n in terms.names if not is_place(n)]
    claim_tokens = word_tokens(claim)

    def matches(owner: Sequence[str], words: Sequence[str]) -> bool:
        return any(name_matches(o, w) for o in owner for w in words)

    for index, (words, number) in enumerate(stated):
        if claimed:
            owner = next((w for w, n in claimed if n == number), None)
        elif number in claim_tokens:
            found = _owner(claim_tokens, claim_tokens.index(number), names)
            owner = [found] if found else None
        else:
            owner = None
        if not owner or matches(owner, words):
            continue
        if any(matches(owner, other) for i, (other, _) in enumerate(stated) if i != index):
            return f"number {number} belongs to {' '.join(words[-2:])} in the passage, not {' '.join(owner[-2:])}"
    return None


def binding_clash(claim: str, window: str, terms: KeyTerms) -> str | None:
    """Numbers given to the wrong names: "Ellison lost 13 billion and Dell 22.6 billion"
    where the passage has it the other way round. Needs two names and an amount or
    percentage each."""
    names = [n for n in terms.names if not is_place(n)]
    if _RESPECTIVELY.search(window) or _RESPECTIVELY.search(claim):
        return None  # "A and B lost 22.6 and 13 billion respectively": order, not nearness
    if len(names) < 2 or len(terms.numbers) < 2:
        return None
    claim_tokens, window_tokens = word_tokens(claim), word_tokens(window)
    counted = {n for n, kinds in number_kinds(claim).items() if kinds & {"amount", "percent"}}
    for number in terms.numbers:
        if number not in counted or number not in claim_tokens or number not in window_tokens:
            continue  # a year or a date belongs to no one
        said = _owner(claim_tokens, claim_tokens.index(number), names)
        stated = {
            _owner(window_tokens, i, names) for i, t in enumerate(window_tokens) if t == number
        } - {None}
        if said and stated and said not in stated:
            return f"number {number} belongs to {min(stated)} in the passage, not {said}"
    return None


_ROLE_NAME = {word: english[0] for english, dutch in ROLES for word in (*english, *dutch)}
_ROLE_WORD = "|".join(sorted((re.escape(w) for w in _ROLE_NAME), key=len, reverse=True))
_PERSON = r"[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)*"
_COMPANY = r"[A-Z][\w.&]*[\w&]"
_ORGANISATION = rf"{_COMPANY}(?:\s+{_COMPANY})*"  # after "van", "bij", "at": "La Financière"
# (company, role, person): "Oracle-oprichter Larry Ellison", "Dell founder Michael Dell",
# "Sam Altman, de CEO van OpenAI", "Viaene is professor digitale transformatie aan Vlerick
# Business School", "Sam Altman, OpenAI's chief executive", "topman Sam Altman van OpenAI".
_ROLE_BINDINGS = tuple(re.compile(pattern) for pattern in (
    rf"\b(?P<company>{_COMPANY})(?:-|\s+)(?i:(?P<role>{_ROLE_WORD}))\s+(?P<person>{_PERSON})",
    rf"\b(?P<person>{_PERSON})(?:,|\s+(?:is|was|wordt|werd))\s+(?i:(?:de|het|the|a|an|een)\s+)?(?:[a-z]+\s+)?"
    rf"(?i:(?P<role>{_ROLE_WORD}))(?:\s+[a-z]+){{0,2}}?\s+(?i:van|of|bij|at|aan)\s+(?P<company>{_ORGANISATION})",
    rf"\b(?P<person>{_PERSON}),\s+(?P<company>{_COMPANY})['’]s\s+(?i:(?P<role>{_ROLE_WORD}))\b",
    rf"\b(?i:(?P<role>{_ROLE_WORD}))\s+(?P<person>{_PERSON})\s+(?i:van|of|bij|at)\s+(?P<company>{_ORGANISATION})",
))


_SOLE_ROLES = frozenset({"ceo", "chairman"})  # one holder per company at a time


def _role_bindings(text: str) -> list[tuple[str, str, str]]:
    """Who holds which role at which company, as (company, role, person)."""
    found = []
    for pattern in _ROLE_BINDINGS:
        for m in pattern.finditer(text):
            company, person = m.group("company"), m.group("person")
            if fold(company) in FUNCTION_WORDS or is_place(company):
                continue  # "De oprichter", "Chinese founder"
            found.append((company, _ROLE_NAME[m.group("role").lower()], person))
    return found


def role_clash(claim: str, passages: str) -> str | None:
    """A role given at another company than the passages give it to the same person ("Dell
    founder Larry Ellison" where they say "Oracle-oprichter Larry Ellison"), or another role
    at the same company or elsewhere ("chief economist at La Financière" or "editor at
    Trends" for its "fondsmanager"; a founder may hold any other role too)."""
    stated = _role_bindings(passages)
    for company, role, person in _role_bindings(claim):
        theirs = [(c, r) for c, r, p in stated if name_matches(person.split()[-1], p.split()[-1])]
        # A role one person holds at a company, given to someone else: "OpenAI CEO Elon Musk"
        # where the passage says "Sam Altman, de CEO van OpenAI".
        holders = [p for c, r, p in stated if r == role and role in _SOLE_ROLES and name_matches(company, c)]
        if holders and not theirs:
            return f"role: the passage makes {holders[0]} {_title(role)} of {company}, not {person}"
        if any(r == role and name_matches(company, c) for c, r in theirs):
            continue
        elsewhere = [c for c, r in theirs if r == role]
        if elsewhere:
            return f"role: the passage makes {person} {_title(role)} of {elsewhere[0]}, not {company}"
        other_role = [r for c, r in theirs if name_matches(company, c) and "founder" not in (r, role)]
        if other_role:
            return f"role: the passage makes {person} {_title(other_role[0])} of {company}, not {_title(role)}"
        # Another role at another company: "an editor at Trends" for "fondsmanager bij La
        # Financière". A founder may hold a role elsewhere.
        other_job = [(c, r) for c, r in theirs if "founder" not in (r, role)]
        if other_job:
            theirs_at, theirs_as = other_job[0]
            return (f"role: the passage makes {person} {_title(theirs_as)} of {theirs_at}, "
                    f"not {_title(role)} of {company}")
    return None


# A title and the word that qualifies it: "Vice President Donald Trump" is not "president
# Donald Trump", nor is "voormalig CEO" the CEO.
_TITLE_QUALIFIERS = {
    **dict.fromkeys(("vice", "deputy", "adjunct", "onder"), "deputy"),
    **dict.fromkeys(("former", "ex", "voormalig", "voormalige", "oud"), "former"),
}
_TITLE_NAME = {**_ROLE_NAME, "president": "president", "presidents": "president",
               "premier": "prime minister", "prime minister": "prime minister"}
_QUALIFIED_TITLE = re.compile(
    r"(?i:\b(?P<qualifier>" + "|".join(_TITLE_QUALIFIERS) + r")[- ]?|\b)"  # "vicepresident" too
    r"(?i:(?P<title>" + "|".join(sorted(map(re.escape, _TITLE_NAME), key=len, reverse=True)) + r"))"
    rf"\s+(?P<person>{_PERSON})"
)


def _qualified_titles(text: str) -> list[tuple[str, str, str, str]]:
    """(qualifier, title, the person's last name, the words) for each title before a name."""
    return [
        (_TITLE_QUALIFIERS.get((m.group("qualifier") or "").lower(), ""),
         _TITLE_NAME[m.group("title").lower()], m.group("person").split()[-1],
         text[m.start() : m.start("person")].strip())
        for m in _QUALIFIED_TITLE.finditer(text)
    ]


def title_qualifier_clash(claim: str, passages: str) -> str | None:
    """The same title for the same person, qualified differently: "US Vice President Donald
    Trump" where the passage says "De Amerikaanse president Donald Trump"."""
    stated = _qualified_titles(passages)
    for qualifier, title, person, said in _qualified_titles(claim):
        theirs = {q: words for q, t, p, words in stated if t == title and name_matches(person, p)}
        if theirs and qualifier not in theirs:
            return f"role: the passage makes {person} {next(iter(theirs.values()))}, not {said}"
    return None


def _title(role: str) -> str:
    return role.upper() if len(role) <= 3 else role  # "CEO", "fund manager"


def claim_parties(claim: str, units: Sequence[PassageSentence], terms: KeyTerms) -> list[str]:
    """The persons and companies a claim names, with a name as its first word: "Meta's stock
    ...", or one the passages use as a name ("Apple leed ...")."""
    opening = _POSSESSIVE_START.match(claim) or _OPENING_WORD.match(claim)
    first = opening.group(1) if opening else None
    if first and not _POSSESSIVE_START.match(claim) and fold(first) not in used_as_names(units):
        first = None
    return [n for n in dict.fromkeys((*([first] if first else []), *terms.names)) if is_party(n)]


def amount_owner_clash(claim: str, units: Sequence[PassageSentence], terms: KeyTerms) -> str | None:
    """An amount or percentage the claim gives one party that the passage gives another:
    "Mark Zuckerberg verloor 20,1 miljard" where the passage's 20,1 miljard is Jensen Huang's
    ("Hij verloor ..." after the sentence that names him). The passage's owner is the nearest
    name before the amount in its sentence or the one before, else the first name there."""
    names = claim_parties(claim, units, terms)
    if not names:
        return None
    claim_tokens = word_tokens(claim)
    listed = _first_list(claim)  # "A en B ... respectievelijk X en Y": order, not nearness
    percents = {n for n, kinds in number_kinds(claim).items() if "percent" in kinds}
    for number in sorted({n for n, _ in amounts(claim)} | percents):
        if number not in claim_tokens:
            continue
        if listed:
            owner = _listed_owner(listed, number, names)
        else:
            owner = _owner(claim_tokens, claim_tokens.index(number), names)
        if not owner:
            continue
        # Each sentence with the amount, with the sentence before it ("... Jensen Huang. Hij
        # verloor 20,1 miljard"), and where the amount stands in that pair.
        holders = []
        for unit in units:
            unit_tokens = word_tokens(unit.text)
            if number in unit_tokens:
                before = [u.text for u in units if u.passage == unit.passage and u.sentence == unit.sentence - 1]
                holders.append(([*before, unit.text], len(word_tokens(" ".join(before))) + unit_tokens.index(number)))
        if not holders or any(Evidence.of(texts).has_name(owner) for texts, _ in holders):
            continue
        texts, position = holders[0]
        context = " ".join(texts)
        others = [n for n in names_in(context, used_as_names(units)) if is_party(n)]
        stated = _owner(word_tokens(context), position, others) or next(iter(others), None)
        # Outside a list, the passage's owner named elsewhere in the claim may be its owner
        # there too ("Apple, the company run by Tim Cook, gained 3 percent").
        also_named = not listed and fold(stated.split()[-1]) in claim_tokens if stated else False
        if stated and not name_matches(owner, stated) and not also_named:
            return f"number {number} belongs to {stated} in the passage, not {owner}"
    return None


def mid_sentence_names(units: Sequence[PassageSentence]) -> set[str]:
    """Folded words the passages use as names mid-sentence: "Meta" in "het aandeel van Meta"
    makes the "Meta" of "Meta-oprichter ..." at a sentence's start a name too."""
    return {fold(n) for u in units for n in key_terms(u.text).names}


def used_as_names(units: Sequence[PassageSentence]) -> set[str]:
    """Folded words the passages use as names mid-sentence, and capitalised words they never
    write in lower case that are no common words: a sentence starting with one ("Nvidia
    heeft ...") names it."""
    words = mid_sentence_names(units)
    lower = {w for u in units for w in WORD.findall(u.text) if w.islower()}
    return words | {
        fold(w) for u in units for w in WORD.findall(u.text)
        if w[0].isupper() and w.lower() not in lower and fold(w) not in FUNCTION_WORDS
    }


_POSSESSIVE_START = re.compile(r"^([A-Z][\w-]+)['’]s\b")
_OPENING_WORD = re.compile(r"^([A-Z][\w-]+)\b(?!['’])")


# A minister's portfolio, by concept: "minister van Industrie en Wetenschappen" is the
# "Industry and Science Minister", not the "Foreign Minister" nor "minister van Financiën".
_PORTFOLIOS = {
    "industry": ("industry", "industrie"),
    "science": ("science", "sciences", "wetenschap", "wetenschappen", "wetenschapsbeleid"),
    "foreign affairs": ("foreign affairs", "foreign", "buitenlandse zaken"),
    "finance": ("finance", "treasury", "financiën", "financien"),
    "health": ("health", "public health", "gezondheid", "volksgezondheid"),
    "defence": ("defence", "defense", "defensie"),
    "economy": ("economic affairs", "economy", "economie", "economische zaken"),
    "justice": ("justice", "justitie"),
    "education": ("education", "onderwijs"),
    "interior": ("home affairs", "interior", "home", "binnenlandse zaken"),
    "trade": ("trade", "foreign trade", "handel", "buitenlandse handel"),
    "digital": ("digital affairs", "digital", "digitalisering", "digitale zaken"),
    "energy": ("energy", "energie"),
    "climate": ("climate", "klimaat"),
    "environment": ("environment", "milieu"),
    "agriculture": ("agriculture", "landbouw"),
    "transport": ("transport", "infrastructure", "infrastructuur", "mobiliteit", "verkeer"),
    "communications": ("communications", "telecommunications", "communicatie", "telecom"),
    "labour": ("labour", "labor", "employment", "werk", "werkgelegenheid", "arbeid"),
    "technology": ("technology", "technologie"),
    "innovation": ("innovation", "innovatie"),
    "social affairs": ("social affairs", "sociale zaken"),
    "culture": ("culture", "cultuur"),
}
_PORTFOLIO_CONCEPT = {term: concept for concept, terms in _PORTFOLIOS.items() for term in terms}
_PORTFOLIO_TERM = "|".join(sorted(map(re.escape, _PORTFOLIO_CONCEPT), key=len, reverse=True))
_PORTFOLIO_LIST = rf"(?:{_PORTFOLIO_TERM})(?:\s*(?:,|\ben\b|\band\b|&)\s*(?:{_PORTFOLIO_TERM}))*"
_MINISTER = re.compile(
    rf"(?i:\bminister\s+(?:van|voor|of|for)\s+(?:the\s+)?(?P<after>{_PORTFOLIO_LIST})\b"
    rf"|\b(?P<before>{_PORTFOLIO_LIST})[\s-]+minister\b)"
)
_PORTFOLIO_WORD = re.compile(rf"(?i:\b(?:{_PORTFOLIO_TERM})\b)")


def _portfolios(text: str) -> set[str]:
    """The concepts of the ministers' portfolios a text names."""
    return {
        _PORTFOLIO_CONCEPT[fold(term.group(0))]
        for m in _MINISTER.finditer(text)
        for term in _PORTFOLIO_WORD.finditer(m.group("after") or m.group("before"))
    }


def portfolio_clash(claim: str, passages: str) -> str | None:
    """A minister given a portfolio the passages' ministers do not hold: "Foreign Minister Ed
    Husic" where they say "minister van Industrie en Wetenschappen"."""
    claimed, stated = _portfolios(claim), _portfolios(passages)
    if claimed and stated and not claimed & stated:
        theirs, ours = " and ".join(sorted(stated)), " and ".join(sorted(claimed))
        return f"portfolio: the passage's minister is for {theirs}, not {ours}"
    return None


def stated_portfolio(name: str, claim: str, passages: str) -> bool:
    """Whether a capitalised name of the claim is only a minister's portfolio the passages give
    too: "Science" in "Industry and Science Minister" for "minister van ... Wetenschappen"."""
    at = claim.find(name)
    if not any(m.start() <= at < m.end() for m in _MINISTER.finditer(claim)):
        return False
    words = [fold(word) for word in name.split()]
    stated = _portfolios(passages)
    return all(w in FUNCTION_WORDS or _PORTFOLIO_CONCEPT.get(w, "") in stated for w in words)


# Government offices: one person holds one of them in a passage ("premier Ed Husic" for
# "minister van Industrie en Wetenschappen Ed Husic").
_OFFICES = {"president": "president", "presidents": "president", "premier": "prime minister",
            "prime minister": "prime minister", "minister": "minister", "ministers": "minister"}
_OFFICE = re.compile(
    r"(?i:\b(?P<office>" + "|".join(sorted(map(re.escape, _OFFICES), key=len, reverse=True)) + r"))"
    rf"(?:\s+(?i:van|voor|of|for)\s+(?i:the\s+)?(?i:{_PORTFOLIO_LIST}))?\s+(?P<person>{_PERSON})"
)
_QUALIFIED_OFFICE = re.compile(r"(?i:\b(?:vice|deputy|former|ex|voormalig\w*|oud)[- ]?$)")


def office_clash(claim: str, passages: str) -> str | None:
    """Another office for the same person: "De Australische premier Ed Husic" where the
    passage says "minister van Industrie en Wetenschappen Ed Husic"."""
    stated = [(_OFFICES[m.group("office").lower()], m.group("person").split()[-1]) for m in _OFFICE.finditer(passages)]
    for m in _OFFICE.finditer(claim):
        office, person = _OFFICES[m.group("office").lower()], m.group("person").split()[-1]
        theirs = {o for o, p in stated if name_matches(person, p)}
        if theirs and office not in theirs and not _QUALIFIED_OFFICE.search(claim[max(0, m.start() - 12) : m.start()]):
            return f"role: the passage makes {person} {min(theirs)}, not {office}"
    return None


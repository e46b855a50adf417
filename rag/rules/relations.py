"""Claim rules about what is said of the terms: order and sequence, direction, negation
and its scope, denials, antonyms and quantifiers.
"""

from __future__ import annotations

import re
from typing import Collection, Sequence

from rag.citations import FUNCTION_WORDS, MONTHS, amounts, fold, key_terms, name_matches
from rag.rules.lexicon import (
    ABSENCE, CONTRACTED_NOT, NEGATORS, PARTICLES, folded_words, is_negated, without_non_negating,
    word_direction, word_stem, word_tokens,
)
from rag.rules.numbers import FRACTION, directional_qualifiers


def may_conflict(a: str, b: str) -> bool:
    """A cheap first look: could these two statements contradict each other by negation,
    direction, a qualifier, a fraction or a different amount? False rules it out."""
    if is_negated(a) != is_negated(b):
        return True
    if {word_direction(w) for w in folded_words(a)} - {0} and {word_direction(w) for w in folded_words(b)} - {0}:
        return True
    if set(directional_qualifiers(a).values()) | set(directional_qualifiers(b).values()):
        return True
    if FRACTION.search(a) and FRACTION.search(b):
        return True
    return bool(amounts(a)) and bool(amounts(b)) and amounts(a) != amounts(b)


def mixed_directions(text: str) -> bool:
    """Whether a text has words of both rising and falling."""
    return {word_direction(w) for w in folded_words(text)} >= {1, -1}


_SEQUENCE_WORDS = frozenset(
    "eerst aanvankelijk begon startte later daarna vervolgens uiteindelijk first initially began "
    "started then later afterwards finally subsequently".split()
)


def order_clash(claim: str, sentence: str, stem: int = 5, gap: int = 3) -> str | None:
    """Steps in the reverse order of the sentence's: "eerst in de auto-industrie, pas later in
    de textielsector" where it says "Aanvankelijk deed het dat met textiel, later in de
    industrie". Both must mark a sequence; the claim's words are matched to the sentence's
    words after its first sequence word by their `word_stem`, and words that follow each other
    within `gap` words in the sentence make one step. Names are who takes the steps, not
    steps."""
    names = {fold(n) for n in key_terms(claim).names + key_terms(sentence).names}
    claim_tokens, sentence_tokens = word_tokens(claim), word_tokens(sentence)
    starts = [i for i, t in enumerate(sentence_tokens) if t in _SEQUENCE_WORDS]
    claim_starts = [i for i, t in enumerate(claim_tokens) if t in _SEQUENCE_WORDS]
    if not starts or not claim_starts:
        return None
    claim_tokens = [t for t in claim_tokens[claim_starts[0] + 1:] if t not in names]
    steps = sentence_tokens[starts[0] + 1:]

    where = {}
    for position, token in enumerate(steps):
        if len(token) >= stem and not token[0].isdigit() and token not in FUNCTION_WORDS | _SEQUENCE_WORDS:
            where.setdefault(word_stem(token, stem), position)
    found = [(where[word_stem(t, stem)], t) for t in claim_tokens if len(t) >= stem and word_stem(t, stem) in where]
    items: list[tuple[int, str]] = []
    for position, token in found:
        if items and 0 <= position - items[-1][0] <= gap:
            continue  # the same step, said in more words
        items.append((position, token))
    if len(items) >= 2 and all(a[0] > b[0] for a, b in zip(items, items[1:])):
        (later, first), (earlier, last) = items[0], items[-1]
        return f"order: the claim puts {first} before {last}, the passage {steps[earlier]} before {steps[later]}"
    return None


# "X volgde op Y", "X after Y": X came second; "X before Y", "X voordat Y": X came first.
_AFTER = re.compile(r"\b(?:volgde op|volgt op|nadat|na(?! afloop)|after|following|followed)\b", re.IGNORECASE)
_BEFORE = re.compile(
    r"\b(?:voordat|alvorens|vóór|ging(?:en)? vooraf aan|before|preceded|prior to|ahead of)\b", re.IGNORECASE
)
_NOT_SEQUENCE = re.compile(
    r"\bop (?:één|een|twee) na\b|\bna (?:elkaar|verloop)\b|\bfollowed by\b", re.IGNORECASE
)


def _events(text: str) -> tuple[str, set[str], set[str]] | None:
    """The connective and the anchor words (`word_stem`s) of the earlier and the later of two
    events a text orders with it: "De daling volgde op het nieuws" -> ("volgde op", {nieuw},
    {dalin}); "Na X, Y" has X first."""
    text = _NOT_SEQUENCE.sub(" ", text)
    found = [(m, -1) for m in _AFTER.finditer(text)] + [(m, 1) for m in _BEFORE.finditer(text)]
    if len(found) != 1:
        return None
    match, sign = found[0]
    word = match.group(0)
    left, right = text[: match.start()], text[match.end():]
    if not left.strip(" ,"):  # "Na het nieuws, daalde het aandeel"
        clause, _, rest = right.partition(",")
        if not rest.strip():
            return None
        left, right = rest, clause

    def anchors(part: str) -> set[str]:
        return {word_stem(t) for t in word_tokens(part) if len(t) >= 5 and t not in FUNCTION_WORDS}

    first, second = (anchors(left), anchors(right)) if sign > 0 else (anchors(right), anchors(left))
    return word, first - second, second - first


def sequence_clash(claim: str, sentence: str) -> str | None:
    """Two events in the reverse order: "Nvidia's drop came before the news" where the
    sentence says "De daling volgde op het nieuws"."""
    claimed, stated = _events(claim), _events(sentence)
    if not claimed or not stated:
        return None
    (said, *claim_events), (stated_word, *stated_events) = claimed, stated
    same = (claim_events[0] & stated_events[0]) | (claim_events[1] & stated_events[1])
    crossed = (claim_events[0] & stated_events[1]) | (claim_events[1] & stated_events[0])
    if crossed and not same:
        return (
            f"order: the two events stand the other way round ({said!r} in the claim, "
            f"{stated_word!r} in the passage)"
        )
    return None


_EARLY = frozenset("vroeg vroege aanvankelijk aanvankelijke eerst early initially initial first".split())


_START_UP = re.compile(r"\bstart-up", re.IGNORECASE)  # no "up" in it


def _direction_tokens(text: str) -> list[str]:
    """`word_tokens` for reading directions: without phrases whose negator does not negate ("net
    geen") and without the "up" of "start-up"."""
    return word_tokens(_START_UP.sub("startup", without_non_negating(text)))


def first_direction(text: str, reach: int = 2) -> tuple[str, int] | None:
    """The direction word nearest to an "early" word: "na een vroege daling" -> fell first."""
    words = _direction_tokens(text)
    marks = [i for i, w in enumerate(words) if w in _EARLY]
    near = sorted(
        (abs(i - m), w) for m in marks for i, w in enumerate(words) if word_direction(w) and abs(i - m) <= reach
    )
    return (near[0][1], word_direction(near[0][1])) if near else None


def first_direction_clash(
    claim: str, sentence: str, claimed: tuple[str, int], stated: tuple[str, int]
) -> str | None:
    """"rose early in the session before falling" where the sentence says "na een vroege
    daling, sterk herstelde": the first move (a `first_direction`) reversed; or the move
    after it, when each text has one: "after an early dip, kept sliding" for "herstelde"."""
    if claimed[1] != stated[1]:
        return f"direction: the claim says first {claimed[0]}, the passage first {stated[0]}"
    claim_then = [w for w in _direction_tokens(claim) if word_direction(w) and w != claimed[0]]
    sentence_then = [w for w in _direction_tokens(sentence) if word_direction(w) and w != stated[0]]
    then = {word_direction(w) for w in claim_then}, {word_direction(w) for w in sentence_then}
    if all(len(moves) == 1 for moves in then) and then[0] != then[1]:
        return f"direction: the claim says then {claim_then[0]}, the passage {sentence_then[0]}"
    return None


def _scoped_words(tokens: Sequence[str], i: int, before: int, after: int) -> list[str]:
    """The content words around the negation at `tokens[i]`."""
    return [
        t for t in (*tokens[max(0, i - before) : i], *tokens[i + 1 : i + 1 + after])
        if len(t) >= 4 and not t[0].isdigit() and t not in FUNCTION_WORDS and t not in NEGATORS
    ]


def _negated_near(tokens: Sequence[str], words: Collection[str], reach: int = 3) -> bool:
    """Whether a negator stands before one of `words` in `tokens`, or right after it ("we
    zien nooit")."""
    return any(
        any(w in NEGATORS for w in tokens[max(0, j - reach) : j + 3])
        for j, w in enumerate(tokens)
        if w in words
    )


def negation_scope_clash(claim: str, window: str, reach: int = 3) -> str | None:
    """The claim negates words the passage states without a negation next to them: "nooit
    openbaar gemaakt" where the passage says "is openbaar gemaakt, maar we zien nooit de
    volledige datasets" (a negation elsewhere in the passage does not excuse it)."""
    claim_tokens = word_tokens(without_non_negating(claim))
    window_tokens = word_tokens(without_non_negating(window))
    for i, token in enumerate(claim_tokens):
        if token not in PARTICLES:
            continue
        found = [t for t in _scoped_words(claim_tokens, i, 0, reach) if t in window_tokens]
        if found and not _negated_near(window_tokens, found, reach):
            return f"negation: the claim says {token} {' '.join(found)}, the passage does not negate it"
    return None


def denied_statement_clash(claim: str, windows: Sequence[str], reach: int = 4) -> str | None:
    """One of `windows` negates two or more words a claim without any negation states:
    "volgde er een noemenswaardig herstel" where it says "volgde niet echt een noemenswaardig
    herstel". A claim that negates, or says the thing stayed away ("een echt herstel bleef
    uit"), is left to the other negation checks, and so is a window whose negation denies the
    claim's opposite."""
    if is_negated(claim) or ABSENCE.search(claim):
        return None
    claim_stems = {word_stem(t) for t in word_tokens(without_non_negating(claim))}  # "herstelde" for "herstel"
    for window in windows:
        if negated_opposite(window, claim):
            continue
        window_tokens = word_tokens(without_non_negating(window))
        for i, token in enumerate(window_tokens):
            if token not in PARTICLES:
                continue
            scoped = _scoped_words(window_tokens, i, 0, reach)
            found = list(dict.fromkeys(t for t in scoped if word_stem(t) in claim_stems))
            if len(found) >= 2:
                return f"negation: the passage says {token} … {' '.join(found)}, the claim does not negate it"
    return None


# "Veel vragen blijven onbeantwoord, met name ... of het auteursrecht is nageleefd": what
# follows the question word is asked, not stated.
_OPEN_QUESTION = re.compile(
    r"\b(?:vragen?|vraagtekens|onbeantwoord\w*|onduidelijk\w*|onzeker\w*|unclear|uncertain|unanswered|"
    r"questions?|unknown|onbekend)\b[^.;?]*?\b(?P<asked>(?:of|whether|welke|which|wie|who|hoe|how)\b"
    r"(?:(?!,\s*(?:maar|but)\b)[^.;?])*)",
    re.IGNORECASE,
)
_UNSURE = re.compile(
    r"\b(?:of|whether|onduidelijk\w*|unclear|onbekend|unknown|vraag\w*|question\w*|onbeantwoord\w*|"
    r"unanswered|misschien|mogelijk|perhaps|possibly|may|might|zou|would|could|kan|kunnen)\b",
    re.IGNORECASE,
)


def open_question(claim: str, sentence: str) -> str | None:
    """The claim states what the sentence only asks: "Deepseek heeft het auteursrecht
    geschonden" where it says "vragen blijven onbeantwoord, met name ... of het auteursrecht
    is nageleefd". A claim that keeps the doubt is left alone."""
    if _UNSURE.search(claim):
        return None
    claimed = {word_stem(t) for t in word_tokens(claim) if len(t) >= 4 and t not in FUNCTION_WORDS}
    for m in _OPEN_QUESTION.finditer(sentence):
        asked = [t for t in word_tokens(m.group("asked")) if len(t) >= 6 and t not in FUNCTION_WORDS]
        shared = list(dict.fromkeys(t for t in asked if word_stem(t) in claimed))
        if shared:
            return f"open question: the passage asks {m.group('asked').split()[0]} … {' '.join(shared)}"
    return None


def negation_touches(sentence: str, claim: str, before: int = 2, after: int = 4) -> bool:
    """Whether the claim holds a word the sentence's negation stands beside: "ontwikkeld
    zonder Nvidia's H100-chips" touches a claim about the chips, not one about the
    Silicon Valley narrative the next sentence gives (stems, so across languages too)."""
    tokens = word_tokens(without_non_negating(sentence))
    at = [i for i, t in enumerate(tokens) if t in NEGATORS]
    if not at:
        return True  # a contracted negation ("n't"): no scope to read
    claimed = {word_stem(t) for t in word_tokens(claim)}
    return any(word_stem(w) in claimed for i in at for w in _scoped_words(tokens, i, before, after))


def negation_held_elsewhere(claim: str, sentences: Sequence[str], reach: int = 3) -> bool:
    """Whether a negated sentence of the passage holds two or more of the words the claim's
    negation stands beside, as a summary's "de datasets zijn nooit te zien" for the quote
    "we zien nooit de volledige datasets" two sentences on."""
    claim_tokens = word_tokens(without_non_negating(claim))
    scoped = {
        w for i, t in enumerate(claim_tokens) if t in PARTICLES
        for w in _scoped_words(claim_tokens, i, reach, reach)
    }
    return any(
        is_negated(sentence) and len(scoped & set(word_tokens(sentence))) >= 2 for sentence in sentences
    )


_MONTH_WORDS = frozenset(name for month in MONTHS for name in month)


def direction_clash(claim: str, sentence: str, names: Sequence[str]) -> str | None:
    """The claim says something rose where the sentence says it fell, or the reverse.
    With names in both, each name's nearest direction word is compared; otherwise the
    sentence must have a single direction opposite to the claim's single direction."""
    claim_words, sentence_words = _direction_tokens(claim), _direction_tokens(sentence)
    # Amounts anchor directions; a day of the month ("op 27 januari herstelde") does not.
    days = {w for w, after in zip(claim_words, claim_words[1:]) if after in _MONTH_WORDS}
    for number in dict.fromkeys(w for w in claim_words if w[0].isdigit() and w not in days):
        in_claim = _nearest_direction(claim_words, number)
        in_sentence = _nearest_direction(sentence_words, number)
        if in_claim and in_sentence and in_claim[1] != in_sentence[1]:
            return f"direction: the claim says {in_claim[0]} for {number}, the passage {in_sentence[0]}"
    claim_directions = {_signed_direction(claim_words, i) for i in range(len(claim_words))} - {0}
    sentence_directions = {_signed_direction(sentence_words, i) for i in range(len(sentence_words))} - {0}
    if not claim_directions or not sentence_directions:
        return None
    for name in names:
        in_claim = _nearest_direction(claim_words, name)
        in_sentence = _nearest_direction(sentence_words, name)
        if in_claim and in_sentence and in_claim[1] != in_sentence[1]:
            return f"direction: the claim says {in_claim[0]} for {name}, the passage {in_sentence[0]}"
    if len(claim_directions) == 1 and len(sentence_directions) == 1 and claim_directions != sentence_directions:
        said = next(w for w in claim_words if word_direction(w))
        stated = next(w for w in sentence_words if word_direction(w))
        return f"direction: the claim says {said}, the passage {stated}"
    return None


def subject_direction_clash(claim: str, sentence: str, reach: int = 4) -> str | None:
    """Both texts move the same thing, each with one direction word the other lacks, the
    opposite way: "zal de concurrentie flink afnemen" where the sentence says "zal de
    concurrentie dus flink toenemen", whatever else both say fell or rose."""
    claim_words, sentence_words = _direction_tokens(claim), _direction_tokens(sentence)

    def own(words: list[str], others: list[str]) -> list[int]:
        stems = {word_stem(w) for w in others}
        return [i for i, w in enumerate(words) if word_direction(w) and word_stem(w) not in stems]

    said, stated = own(claim_words, sentence_words), own(sentence_words, claim_words)
    if len(said) != 1 or len(stated) != 1:
        return None
    i, j = said[0], stated[0]
    if _signed_direction(claim_words, i) * _signed_direction(sentence_words, j) >= 0:
        return None

    def moved(words: list[str], k: int) -> list[str]:
        return [w for w in words[max(0, k - reach) : k] if len(w) >= 5 and w not in FUNCTION_WORDS]

    stated_before = moved(sentence_words, j)
    shared = [w for w in moved(claim_words, i) if w in stated_before]  # the first is what moves
    if shared:
        return f"direction: the claim says {claim_words[i]} of {shared[0]}, the passage {sentence_words[j]}"
    return None


def _signed_direction(words: list[str], i: int, scope: int = 8) -> int:
    """The direction of word `i`, reversed after a negation in the same clause: "niet tot
    de techmiljardairs die geld verloren" does not say anything fell."""
    direction = word_direction(words[i])
    if not direction:
        return 0
    negated = any(w in PARTICLES for w in words[max(0, i - scope) : i]) or _absent_after(words, i)
    return -direction if negated else direction


def _absent_after(words: list[str], i: int, scope: int = 6) -> bool:
    """Whether the words after `words[i]` say it stayed away: "een herstel bleef de dagen
    nadien uit"."""
    return bool(ABSENCE.search(" ".join(words[i + 1 : i + 1 + scope])))


def _nearest_direction(words: list[str], anchor: str, reach: int = 6) -> tuple[str, int] | None:
    """The direction word nearest to `anchor` (a name or number), at most `reach` words away."""
    positions = [i for i, w in enumerate(words) if w == anchor or name_matches(anchor, w)]
    directed = [
        (distance, w)
        for i, w in enumerate(words)
        if word_direction(w) and (distance := min((abs(i - p) for p in positions), default=reach + 1)) <= reach
    ]
    if not directed:
        return None
    _, word = min(directed)
    return word, word_direction(word)


# Opposite qualities, Dutch and English forms together: a claim with a word of one side
# where the passage sentence has only words of the other says the opposite.
_ANTONYMS: tuple[tuple[frozenset[str], frozenset[str]], ...] = tuple(
    (frozenset(a.split()), frozenset(b.split()))
    for a, b in (
        (
            "groot grote groter grotere grootst grootste omvangrijk omvangrijke enorm enorme "
            "large larger largest big bigger biggest huge sizeable substantial heavily massive "
            "massively hefty widely wide breed brede",
            "klein kleine kleiner kleinere kleinst kleinste bescheiden gering geringe "
            "small smaller smallest modest modestly slight slightly",
        ),
        (
            "duur dure duurder duurdere duurst duurste expensive costly pricey",
            "goedkoop goedkope goedkoper goedkopere goedkoopst goedkoopste cheap cheaper cheapest inexpensive",
        ),
        ("meer more", "minder less fewer"),
        ("hoger hogere higher", "lager lagere lower"),
        (
            "bevestigt bevestigen bevestigde bevestigd confirms confirm confirmed reinforces reinforce "
            "reinforced",
            "ondermijnt ondermijnen ondermijnde ondermijnd weerlegt weerleggen weerlegd undermines "
            "undermine undermined refutes refute refuted",
        ),
        (
            "beantwoord answered duidelijk clear bekend known",
            "onbeantwoord unanswered onduidelijk unclear onbekend unknown",
        ),
        ("goed goede good", "slecht slechte bad"),
        ("voordeel voordelen advantage advantages", "nadeel nadelen disadvantage disadvantages drawback drawbacks"),
        ("winnaar winnaars winner winners", "verliezer verliezers loser losers"),
        (
            "concurrent concurrenten concurrentie competitor competitors rival rivals competition",
            "partner partners bondgenoot bondgenoten ally allies samenwerking cooperation",
        ),
        ("inflatoir inflatoire inflationary", "deflatoir deflatoire deflationary"),
        ("positief positieve positive", "negatief negatieve negative"),
        ("optimistisch optimistische optimistic", "pessimistisch pessimistische pessimistic"),
        ("toegestaan toegelaten allowed permitted", "verboden verbiedt verbieden banned forbidden prohibited"),
        ("openbaar openbare public", "geheim geheime secret"),
        (
            "uitsluitend solely exclusively",
            "hoofdzakelijk voornamelijk grotendeels mainly mostly largely primarily chiefly",
        ),
    )
)


# "onder meer" lists, "meer dan 3 procent" qualifies a number (the qualifier signal's part):
# neither compares a quality.
_NOT_COMPARED = re.compile(
    r"\bonder meer\b|\b(?:meer|minder|more|less|fewer)\s+(?:dan|than)\s+(?=[\d$€£])", re.IGNORECASE
)


def antonym_clash(claim: str, sentence: str) -> str | None:
    """"relatively large investments" where the sentence says "relatief bescheiden": a
    quality the claim states whose opposite, and only that, the sentence states. A negated
    word on either side ("niet groot") is left to the negation signals."""
    claim_words = word_tokens(_NOT_COMPARED.sub(" ", claim))
    sentence_words = word_tokens(_NOT_COMPARED.sub(" ", sentence))

    def plain(words: list[str], lexicon: frozenset[str]) -> list[str]:
        return [w for i, w in enumerate(words) if w in lexicon and not PARTICLES & set(words[max(0, i - 2) : i])]

    for one, other in _ANTONYMS:
        for said, opposite in ((one, other), (other, one)):
            claimed, stated = plain(claim_words, said), plain(sentence_words, opposite)
            if claimed and stated and not set(sentence_words) & said and not set(claim_words) & opposite:
                return f"antonym: the claim says {claimed[0]}, the passage {stated[0]}"
    return None


_NOT_ALL = re.compile(
    r"\b(?:niet (?:alle|allemaal|iedereen|elk|elke|ieder|iedere)|not (?:all|every|everyone|everybody))\b", re.IGNORECASE
)
_ALL = re.compile(
    r"\b(?:alle|allemaal|iedereen|geen enkele|niemand|all|every|everyone|everybody|none|no one|nobody)\b",
    re.IGNORECASE,
)


def not_all_agrees(claim: str, sentences: Sequence[str]) -> bool:
    """"Niet elk techaandeel ging onderuit" says some moved the other way: a sentence where
    something did ("andere techreuzen, zoals Apple en Meta, hun waarde stijgen") agrees."""
    said = _NOT_ALL.search(claim)
    if not said:
        return False
    moved = {word_direction(w) for w in _direction_tokens(claim[said.end():])} - {0}
    return len(moved) == 1 and any(-next(iter(moved)) in _directions(s) for s in sentences)


def quantifier_clash(claim: str, sentence: str) -> str | None:
    """"Alle techmiljardairs leden verlies" where the sentence says "Niet alle
    techmiljardairs kregen het zwaar te verduren"."""
    if not _NOT_ALL.search(sentence) or _NOT_ALL.search(claim):
        return None
    said, stated = _ALL.search(claim), _NOT_ALL.search(sentence)
    return f"quantifier: the claim says {said.group(0)}, the passage {stated.group(0)}" if said else None


_AS_GOOD = re.compile(
    r"\b(?:(?:even|net zo|minstens even|evenzeer) (?:goed|sterk) als|as (?:good|well|strong) as|evenaart|evenaren|"
    r"gelijkwaardig|on (?:a )?par with|kan tippen aan)\b",
    re.IGNORECASE,
)
_BETTER = re.compile(
    r"\b(?:beter dan|sterker dan|overtreft|overtreffen|overtrof|verslaat|verslaan|versloeg|better than|"
    r"outperforms?|outperformed|beats?|surpass(?:es|ed)?|superior to|outdoes|outdid|stronger than)\b",
    re.IGNORECASE,
)


def parity_clash(claim: str, sentence: str) -> str | None:
    """"Outperforms the best AI models" where the sentence says "presteert even goed als de
    beste AI-modellen", or the reverse."""
    for said, stated in ((_BETTER, _AS_GOOD), (_AS_GOOD, _BETTER)):
        claimed, given = said.search(claim), stated.search(sentence)
        if claimed and given and not said.search(sentence) and not stated.search(claim):
            return f"comparison: the claim says {claimed.group(0)}, the passage {given.group(0)}"
    return None


_BECAUSE = re.compile(r"\b(?:dankzij|vanwege|wegens|because of|thanks to|due to|owing to)\b", re.IGNORECASE)
_DESPITE = re.compile(r"\b(?:ondanks|in weerwil van|despite|in spite of|notwithstanding)\b", re.IGNORECASE)


def _cause_stems(pattern: re.Pattern[str], text: str, reach: int = 6) -> set[str]:
    """Stems of the content words right after each connective of `pattern` in `text`."""
    return {
        word_stem(w)
        for m in pattern.finditer(text)
        for w in word_tokens(text[m.end():])[:reach]
        if len(w) >= 4 and w not in FUNCTION_WORDS
    }


def concession_clash(claim: str, sentence: str, least_shared: int = 2) -> str | None:
    """"Dankzij de Amerikaanse exportbeperkingen" where the sentence says "ondanks de
    Amerikaanse beperkingen op de export", or "despite" where it says "because of"."""
    for said, stated, words in ((_BECAUSE, _DESPITE, ("because of", "despite")),
                                (_DESPITE, _BECAUSE, ("despite", "because of"))):
        if said.search(claim) and not said.search(sentence) and stated.search(sentence):
            if len(_cause_stems(said, claim) & _cause_stems(stated, sentence)) >= least_shared:
                return f"cause: the claim says {words[0]} what the passage says {words[1]}"
    return None


_ONLY = re.compile(r"\b(?:the only|the sole|de enige|het enige|als enige|als enigen)\b", re.IGNORECASE)


def _directions(text: str) -> set[int]:
    words = _direction_tokens(text)
    return {_signed_direction(words, i) for i in range(len(words))} - {0}


def exclusive_clash(claim: str, sentences: Sequence[str], parties: Sequence[str]) -> str | None:
    """"Apple was the only tech giant whose value rose" where a sentence lists Apple with
    another party moving the same way ("andere techreuzen, zoals Apple en Meta, hun waarde
    stijgen")."""
    claimed = _directions(claim)
    if not _ONLY.search(claim) or len(claimed) != 1:
        return None
    for party in parties:
        for sentence in sentences:
            beside = re.search(
                rf"\b{re.escape(party)}\s*(?:,|\ben\b|\band\b|&)\s*(?P<after>[A-Z][\w-]+)"
                rf"|\b(?P<before>[A-Z][\w-]+)\s*(?:,|\ben\b|\band\b|&)\s*{re.escape(party)}\b",
                sentence,
            )
            other = beside and (beside.group("after") or beside.group("before"))
            if other and fold(other) not in FUNCTION_WORDS and other not in claim and claimed <= _directions(sentence):
                return f"only: the passage names {other} beside {party}"
    return None


def negated_opposite(negated: str, plain: str, scope: int = 8) -> bool:
    """Whether each negation of `negated` denies a quality whose opposite `plain` states:
    "niet groot" where the other text says "bescheiden" says the same, and so does "not one
    of the billionaires who lost money" where it only says "boekte winst"."""
    words, plain_words = word_tokens(negated), set(word_tokens(plain))
    particles = [i for i, w in enumerate(words) if w in PARTICLES]
    plain_directions = {word_direction(w) for w in plain_words} - {0}

    def denies_opposite(i: int) -> bool:
        if any(
            w in said and plain_words & opposite
            for w in words[i + 1 : i + 3]
            for one, other in _ANTONYMS
            for said, opposite in ((one, other), (other, one))
        ):
            return True
        denied = next((d for w in words[i + 1 : i + 1 + scope] if (d := word_direction(w))), 0)
        return bool(denied) and plain_directions == {-denied}

    return bool(particles) and not CONTRACTED_NOT.search(negated) and all(map(denies_opposite, particles))

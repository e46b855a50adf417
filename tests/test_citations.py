"""Citations: marker parsing and mapping, key terms, the support check (fake and real e5)."""

import doctest
import re

import pytest

import rag.citations
from rag.citations import (
    DEFAULT_MIN_SIMILARITY,
    KeyTerms,
    check_answer,
    check_sentence,
    clean_markers,
    days_of_month,
    format_markers,
    key_terms,
    make_similarity,
    name_matches,
    normalise_number,
    split_answer,
    split_sentences,
)
from rag.embedding import VectorMemo
from rag.types import ArticleMeta, Chunk, Passage, SentenceCheck
from tests.fakes import FakeEmbedder


def passage(text: str, article_id: str = "trends") -> Passage:
    chunk = Chunk(f"{article_id}:{len(text)}", article_id, text, start=0, end=len(text))
    meta = ArticleMeta(id=article_id, title="Titel")
    return Passage(chunk=chunk, article=meta, score=1.0, retrievers=("dense",))


# Passages of the two articles in docs/, as the chunker cuts them (about 400 characters).
LOSS = passage(
    "Nvidia heeft maandag een nooit gezien verlies geleden op de beurs. Het aandeel verloor 589 "
    "miljard dollar (561,7 miljard euro) aan waarde, een record in de Amerikaanse "
    "beursgeschiedenis. De daling volgde op het nieuws dat de Chinese AI-start-up DeepSeek met "
    "beperkte middelen een concurrerend AI-model heeft ontwikkeld. Tegelijk zagen andere "
    "techreuzen, zoals Apple en Meta, hun waarde stijgen."
)
DROP = passage(
    "Het aandeel van Nvidia verloor maandag net geen 17 procent, de grootste daling sinds maart "
    "2020. Door zijn dominante positie op Wall Street had het verlies van Nvidia een breder effect "
    "op de Amerikaanse markten: de S&P 500-index sloot 1,5 procent lager, terwijl de Nasdaq een "
    "daling van 3 procent noteerde."
)
WORST_DAY = passage(
    "Dat maakte van 27 januari 2025 volgens Bloomberg een van de tien slechtste beursdagen ooit in "
    "de Verenigde Staten. Het nieuws over DeepSeek riep bij investeerders vragen op over de "
    "toekomst van de dominantie van Nvidia. Het nieuwe AI-model van DeepSeek werd ontwikkeld "
    "zonder Nvidia’s geavanceerde H100-chips en tegen slechts een fractie van de gebruikelijke "
    "kosten."
)
HUANG = passage(
    "Dat ondermijnt het huidige Silicon Valley-narratief dat enorme kapitaalinvesteringen "
    "essentieel zijn voor AI-innovatie. De klap voor Nvidia raakte ook de rijkste mensen ter "
    "wereld, onder wie oprichter Jensen Huang. Hij verloor maandag 20,1 miljard dollar, wat "
    "neerkomt op een vijfde van zijn vermogen."
)
WINNERS = passage(
    "Meta kondigde onlangs aan dit jaar 60 tot 65 miljard dollar uit te geven aan AI-projecten, "
    "wat een belangrijke impuls geeft aan het aandeel. Amazon-oprichter Jeff Bezos boekte eveneens "
    "winst, met een toename van 632 miljoen dollar. Tot de winnaars van maandag behoort ook Apple, "
    "dat met meer dan 3 procent in waarde steeg."
)
INFLATION = passage(
    "De Deepshift die zich nu voltrekt zou dus tegelijk een dempend effect kunnen hebben op de "
    "inflatie, die de centraal bankiers nog steeds met argusogen gadeslaan. Hij zou ook een turbo "
    "kunnen zetten op de productiviteitsgroei, net nu in grote delen van de wereld de potentiële "
    "groei afneemt.",
    article_id="lfde",
)
PASSAGES = [LOSS, DROP, WORST_DAY, HUANG, WINNERS]


# --- markers -----------------------------------------------------------------------------------


def test_format_markers():
    assert format_markers((1, 2)) == "[1][2]"
    assert format_markers(()) == ""


@pytest.mark.parametrize(
    "raw, n_passages, cleaned",
    [
        ("Apple steeg [1, 2].", 5, "Apple steeg [1][2]."),
        ("Apple steeg [1,2][3].", 5, "Apple steeg [1][2][3]."),
        ("Apple steeg [2] [1].", 5, "Apple steeg [2][1]."),
        ("Apple steeg [1][1].", 5, "Apple steeg [1]."),
        ("Apple steeg [7].", 5, "Apple steeg."),
        ("Apple steeg [0] en Meta [12] ook [3].", 5, "Apple steeg en Meta ook [3]."),
        ("Apple steeg [1, 9].", 5, "Apple steeg [1]."),
        ("Het feit.[1] Nog een feit.[2]", 5, "Het feit.[1] Nog een feit.[2]"),
        ("Geen markers.", 5, "Geen markers."),
        ("  Apple  steeg [ 1 ] .\n", 5, "Apple steeg [1]."),
        ("Regel een [6]\nRegel twee [1]", 5, "Regel een\nRegel twee [1]"),
    ],
)
def test_clean_markers(raw, n_passages, cleaned):
    assert clean_markers(raw, n_passages) == cleaned


@pytest.mark.parametrize(
    "raw, expected",
    [
        # inside, and directly after the sentence
        (
            "Nvidia verloor 589 miljard dollar [1]. Apple steeg [2, 3].",
            [("Nvidia verloor 589 miljard dollar.", (1,)), ("Apple steeg.", (2, 3))],
        ),
        # at the start of the next sentence: belongs to the previous one
        (
            "Nvidia verloor veel geld. [1] Apple steeg [2].",
            [("Nvidia verloor veel geld.", (1,)), ("Apple steeg.", (2,))],
        ),
        # glued to the full stop
        (
            "Nvidia verloor veel geld.[1] Apple steeg.[2][2]",
            [("Nvidia verloor veel geld.", (1,)), ("Apple steeg.", (2,))],
        ),
        # a trailing marker-only fragment merges into the last sentence
        (
            "Nvidia verloor 589 miljard dollar [1]. [3]",
            [("Nvidia verloor 589 miljard dollar.", (1, 3))],
        ),
        # a marker before the first sentence belongs to it
        ("[2] Apple steeg.", [("Apple steeg.", (2,))]),
        # inline markers of one sentence, in order, deduplicated
        ("Apple [2] en Meta [1] stegen [2].", [("Apple en Meta stegen.", (2, 1))]),
        # out of range and zero are dropped
        (
            "Apple steeg [0]. Meta steeg [12]. Amazon ook [7, 5].",
            [("Apple steeg.", ()), ("Meta steeg.", ()), ("Amazon ook.", (5,))],
        ),
        # no markers at all
        ("Dat staat er niet. Echt niet.", [("Dat staat er niet.", ()), ("Echt niet.", ())]),
        # no final full stop
        ("Apple steeg [1]", [("Apple steeg", (1,))]),
        # list items lose their bullets and numbers
        (
            "- Apple steeg [1]\n- Meta steeg [2]",
            [("Apple steeg", (1,)), ("Meta steeg", (2,))],
        ),
        (
            "1. Apple steeg [1].\n2. Meta steeg [2].",
            [("Apple steeg.", (1,)), ("Meta steeg.", (2,))],
        ),
        # a closing quote is no sentence of its own
        (
            'Hij zei: "Dat is veel." [1] Daarna niets [2].',
            [('Hij zei: "Dat is veel."', (1,)), ("Daarna niets.", (2,))],
        ),
        ("", []),
        ("[1]", []),
    ],
)
def test_split_answer(raw, expected):
    assert split_answer(raw, 5) == expected


@pytest.mark.parametrize(
    "raw, expected",
    [
        (
            "Het aandeel verloor 589 miljard dollar (561,7 miljard euro) [1]. De S&P 500 sloot 1,5 "
            "procent lager [2].",
            [
                "Het aandeel verloor 589 miljard dollar (561,7 miljard euro).",
                "De S&P 500 sloot 1,5 procent lager.",
            ],
        ),
        (
            "The S&P 500 fell 1.5 percent, e.g. in the U.S. market [2]. "
            "Mr. Huang lost 20.1 billion [3].",
            [
                "The S&P 500 fell 1.5 percent, e.g. in the U.S. market.",
                "Mr. Huang lost 20.1 billion.",
            ],
        ),
        (
            "Hij verloor o.a. 20,1 miljard dollar [3]. Dat is veel.",
            ["Hij verloor o.a. 20,1 miljard dollar.", "Dat is veel."],
        ),
        (
            "Het was 27 jan. 2025 [3]. Dat is lang geleden.",
            ["Het was 27 jan. 2025.", "Dat is lang geleden."],
        ),
    ],
)
def test_split_answer_keeps_decimals_and_abbreviations_whole(raw, expected):
    assert [sentence for sentence, _ in split_answer(raw, 5)] == expected


def test_split_sentences():
    assert split_sentences("Nvidia viel. Apple steeg!", "nl") == ["Nvidia viel.", "Apple steeg!"]
    assert split_sentences("", "en") == []


# --- key terms ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, normalised",
    [
        ("589", "589"),
        ("561,7", "561.7"),
        ("561.7", "561.7"),
        ("1,5", "1.5"),
        ("1.50", "1.5"),
        ("20,1", "20.1"),
        ("1.000", "1000"),
        ("1,000", "1000"),
        ("1.000.000", "1000000"),
        ("1.000,5", "1000.5"),
        ("0,125", "0.125"),
        ("01", "1"),
    ],
)
def test_normalise_number(raw, normalised):
    assert normalise_number(raw) == normalised


@pytest.mark.parametrize(
    "sentence, terms",
    [
        (
            "Het aandeel verloor 589 miljard dollar (561,7 miljard euro) aan waarde.",
            KeyTerms(numbers=("589", "561.7")),
        ),
        ("Nvidia lost 561.7 billion euros.", KeyTerms(numbers=("561.7",))),
        (
            "Het aandeel verloor 17% en de S&P 500 sloot 1,5 procent lager.",
            KeyTerms(numbers=("17", "500", "1.5"), names=("S&P",)),
        ),
        (
            "Jensen Huang verloor 20,1 miljard dollar, een vijfde van zijn vermogen.",
            KeyTerms(numbers=("20.1",), names=("Huang",)),
        ),
        ("Dat was op 27 januari 2025.", KeyTerms(numbers=("27", "2025"), dates=("january",))),
        ("That was on 27 January 2025.", KeyTerms(numbers=("27", "2025"), dates=("january",))),
        ("That was on the 27th of January.", KeyTerms(numbers=("27",), dates=("january",))),
        ("Chips as in the 1980s.", KeyTerms(numbers=("1980",))),  # a decade is a number, not a name
        ("De grootste daling sinds maart 2020.", KeyTerms(numbers=("2020",), dates=("march",))),
        (
            "It fell on Monday, said Husic on Tuesday.",
            KeyTerms(names=("Husic",), dates=("monday", "tuesday")),
        ),
        ("Hij verloor maandag veel.", KeyTerms(dates=("monday",))),
        ("We may march in May.", KeyTerms(dates=("may",))),  # lower-case English is no date
        (
            "DeepSeek trained R1 without Nvidia's H100 chips.",
            KeyTerms(names=("DeepSeek", "R1", "Nvidia", "H100")),
        ),
        ("Nvidia lost $589bn.", KeyTerms(numbers=("589",))),  # a first plain word is no name
        ("The CEO of Apple is Tim Cook.", KeyTerms(names=("Apple", "Tim", "Cook"), roles=("ceo",))),
        ("Ook Amazon-oprichter Jeff Bezos won.", KeyTerms(names=("Amazon", "Jeff", "Bezos"), roles=("founder",))),
        ("I think The Verge and De Tijd agree.", KeyTerms(names=("Verge", "Tijd"))),
        (
            "“Het is een indrukwekkend model”, zei Sam Altman van OpenAI.",
            KeyTerms(names=("Sam", "Altman", "OpenAI")),
        ),
        (
            "The United States restricted Chinese companies.",
            KeyTerms(names=("United States", "Chinese")),
        ),
        ("In de VS is AI populair.", KeyTerms(names=("VS", "AI"))),
        ("Ask us about the US.", KeyTerms(names=("US",))),
        ("Dat is een vijfde van zijn vermogen.", KeyTerms()),
    ],
)
def test_key_terms(sentence, terms):
    assert key_terms(sentence) == terms


@pytest.mark.parametrize(
    "name, word, matches",
    [
        ("Nvidia", "nvidia", True),
        ("DeepSeek", "deepseek", True),
        ("Clément", "clement", True),  # accents folded
        ("American", "amerikaanse", True),
        ("Australian", "australische", True),
        ("Tiananmen", "tiananmenprotest", True),
        ("Meta", "meta", True),
        ("Deepshift", "deepseek", False),
        ("Apple", "appel", False),
        ("AI", "aids", False),  # short names match whole words only
        ("R1", "r2", False),
        ("H100", "h100", True),
    ],
)
def test_name_matches(name, word, matches):
    assert name_matches(name, word) is matches


# --- check_sentence ----------------------------------------------------------------------------


def check(sentence, citations=(1,), passages=PASSAGES, question="", **kwargs) -> SentenceCheck:
    return check_sentence(sentence, citations, passages, question, **kwargs)


def test_supported_sentence():
    result = check("Het aandeel verloor 589 miljard dollar (561,7 miljard euro) aan waarde.")
    assert result == SentenceCheck(
        "Het aandeel verloor 589 miljard dollar (561,7 miljard euro) aan waarde.", (1,), True, None
    )


def test_no_citation():
    assert check("Nvidia verloor veel geld.", ()) == SentenceCheck(
        "Nvidia verloor veel geld.", (), False, "no citation"
    )


def test_wrong_number():
    result = check("Het aandeel verloor 600 miljard dollar.")
    assert not result.supported
    assert result.reason == "number 600 not in cited passages [1]"


def test_numbers_match_as_whole_tokens():
    passages = [passage("De omzet steeg met 170 procent.")]
    assert check("De omzet steeg met 17 procent.", passages=passages).reason == (
        "number 17 not in cited passages [1]"
    )
    assert check("De omzet steeg met 170%.", passages=passages).supported


def test_numbers_across_languages_and_spellings():
    assert check("Nvidia lost 561.7 billion euros.").supported
    assert check("Nvidia's shares fell almost 17%, the S&P 500 fell 1.5 percent.", (2,)).supported
    assert check("Huang lost 20.1 billion dollars.", (4,)).supported
    assert check("Huang lost 20.2 billion dollars.", (4,)).reason == (
        "number 20.2 not in cited passages [4]"
    )


def test_number_in_an_uncited_passage_does_not_count():
    assert check("Huang verloor 20,1 miljard dollar.", (1, 2)).reason == (
        "number 20.1 not in cited passages [1][2]"
    )
    assert check("Huang verloor 20,1 miljard dollar.", (1, 4)).supported


def test_numbers_from_the_question_are_allowed():
    sentence = "In 2025 verloor Huang een vijfde van zijn vermogen."
    assert check(sentence, (4,)).reason == "number 2025 not in cited passages [4]"
    assert check(sentence, (4,), question="Hoeveel verloor Huang in 2025?").supported


@pytest.mark.parametrize(
    "text, days",
    [
        ("Dat maakte van 27 januari 2025 een van de slechtste beursdagen.", {(27, "january")}),
        ("On January 28th and on 3rd of February.", {(28, "january"), (3, "february")}),
        ("de grootste daling sinds maart 2020", set()),  # a year, not a day
        ("Op 45 mei", set()),
        ("Prices may 3x; they march 2 steps", set()),  # English verbs, not months
        ("op 5 mei", {(5, "may")}),
    ],
)
def test_days_of_month(text, days):
    assert days_of_month(text) == days


def test_an_amount_or_percentage_from_the_question_cannot_replace_the_passages_own():
    # A false premise repeated by the model must not be confirmed by the passage it cites.
    asked = "Klopt het dat het aandeel 600 miljard dollar verloor?"
    assert check("Het aandeel verloor 600 miljard dollar.", question=asked).reason == (
        "amount 600 differs from cited passages [1] (589 or 561.7)"
    )
    asked = "Did Nvidia's share fall 25 percent on Monday?"
    assert check("Nvidia's share fell 25 percent on Monday.", (2,), question=asked).reason == (
        "percentage 25 differs from cited passages [2] (17 or 1.5 or 3)"
    )
    # The passage's own value beside the question's is a comparison, not a replacement.
    asked = "Verloor het aandeel meer dan 500 miljard dollar?"
    assert check("Het aandeel verloor 589 miljard dollar, meer dan 500 miljard.", question=asked).supported
    # A passage without an amount of its own has nothing the question's amount replaced.
    asked = "Wat gebeurde er op de dag dat Nvidia 589 miljard dollar verloor?"
    sentence = "Op de dag dat Nvidia 589 miljard dollar verloor, was het een van de slechtste beursdagen."
    assert check(sentence, (3,), question=asked).supported


def test_a_day_or_weekday_from_the_question_cannot_replace_the_one_the_passage_gives():
    # A false premise: the passage is about 27 January, the question asks about the 28th.
    asked = "What was Nvidia's share price at the close on 28 January?"
    for sentence in ("The share closed 17 percent lower on 28 January.",
                     "Op 28 januari sloot het aandeel 17 procent lager.",
                     "On January 28th the share closed 17 percent lower."):
        assert check(sentence, (2, 3), question=asked).reason == (
            "date 28 January differs from cited passages [2][3] (27 January)"
        )
    assert check("The share closed 17 percent lower on 27 January.", (2, 3), question=asked).supported
    # The same for a weekday: the passage is about Monday.
    asked = "Wat gebeurde er dinsdag met het aandeel van Nvidia?"
    assert check("Dinsdag verloor het aandeel net geen 17 procent.", (2,), question=asked).reason == (
        "weekday Tuesday differs from cited passages [2] (Monday)"
    )
    assert check("Maandag verloor het aandeel net geen 17 procent.", (2,), question=asked).supported


def test_wrong_company_name():
    result = check("Tegelijk zagen Microsoft en Meta hun waarde stijgen.")
    assert result.reason == "name Microsoft not in cited passages [1]"


def test_invented_founder():
    result = check("DeepSeek werd opgericht door Liang Wenfeng in Hangzhou.")
    assert result.reason == "name Liang not in cited passages [1]"


def test_names_from_the_question_are_allowed():
    sentence = "De artikelen zeggen niets over Liang en DeepSeek."
    assert check(sentence).reason == "name Liang not in cited passages [1]"
    assert check(sentence, question="Wat deed Liang bij DeepSeek?").supported


def test_a_role_must_be_in_the_cited_passage_whatever_the_question_assumes():
    # The real model's answer to "What is the name of DeepSeek's founder?": a name from the
    # passages (the fund manager who wrote the piece) in the role the question asks about.
    fund_manager = passage(
        "De Visie van Clément Inbona, fondsmanager bij La Financière de l’Echiquier. Het Chinese "
        "AI-bedrijf Deepseek, waarvan de chatbot tot dan alleen bij een kleine kring insiders "
        "enige bekendheid genoot, schoot naar de top van de downloads.",
        article_id="lfde",
    )
    founded = "DeepSeek was founded by Clément Inbona."
    assert check(founded, passages=[fund_manager], question="What is the name of DeepSeek's founder?").reason == (
        "role founder not in cited passages [1]"
    )
    # The role in the other language, and inside a Dutch compound, is the same role.
    assert check("Clément Inbona is a fund manager at La Financière de l’Echiquier.", passages=[fund_manager]).supported
    assert check("Jensen Huang, the founder, lost 20.1 billion dollars.", (4,)).supported
    assert check("Amazon founder Jeff Bezos gained 632 million dollars.", (5,)).supported
    assert check("Jeff Bezos, the CEO of Amazon, gained 632 million dollars.", (5,)).reason == (
        "role ceo not in cited passages [5]"
    )


def test_a_role_the_question_uses_may_refer_back_to_it():
    # "Welke positie had Nvidia volgens de fondsbeheerder ...?": the answer repeats "de
    # fondsbeheerder" for the piece's author, giving the role to no one new.
    monopoly = passage("Daarin had Nvidia een monopolie op de schaarse en dure grondstof.", "lfde")
    question = "Welke positie had Nvidia volgens de fondsbeheerder op de markt voor AI-chips?"
    sentence = "Volgens de fondsbeheerder had Nvidia een monopolie op de schaarse en dure grondstof."
    assert check(sentence, passages=[monopoly]).reason == "role fund manager not in cited passages [1]"
    assert check(sentence, passages=[monopoly], question=question).supported
    # ... but a new name in that role still needs the passage.
    named = "Volgens fondsbeheerder Jan Peeters had Nvidia een monopolie op de grondstof."
    assert check(named, passages=[monopoly], question=question).reason == (
        "name Jan not in cited passages [1]"
    )


@pytest.mark.parametrize(
    "sentence, citations",
    [
        ("It was a record in American stock market history.", (1,)),
        ("The Chinese start-up DeepSeek built a competitive model.", (1,)),
        ("Bloomberg called it one of the worst days in the United States.", (3,)),
        ("Bloomberg called it one of the worst days in the US.", (3,)),
        ("It was the worst day since March 2020 on Wall Street.", (2,)),
        ("According to Bloomberg, 27 January 2025 was one of the ten worst days.", (3,)),
        ("On Monday, Huang lost a fifth of his fortune.", (4,)),
        ("It undermines the Silicon Valley narrative.", (4,)),
        ("De Amerikaanse markten daalden.", (2,)),
    ],
)
def test_cross_lingual_names_and_dates(sentence, citations):
    assert check(sentence, citations).supported, check(sentence, citations).reason


def test_gazetteer_works_the_other_way_round():
    english = [passage("Bloomberg called it one of the worst trading days in the United States.")]
    assert check("Slechte dag in de Verenigde Staten, aldus Bloomberg.", passages=english).supported
    assert check("Een van de slechtste dagen in de VS.", passages=english).supported
    assert check("Een van de slechtste dagen in Europa.", passages=english).reason == (
        "name Europa not in cited passages [1]"
    )


def test_wrong_date_part():
    assert check("Het aandeel verloor op 27 februari 589 miljard dollar.", (3, 1)).reason == (
        "date February not in cited passages [3][1]"
    )
    assert check("Huang lost 20.1 billion dollars on Tuesday.", (4,)).reason == (
        "date Tuesday not in cited passages [4]"
    )


def test_numbers_are_checked_before_names():
    assert check("Microsoft verloor 600 miljard dollar aan Google.").reason == (
        "number 600 not in cited passages [1]"
    )


def test_markers_left_in_the_sentence_are_removed():
    result = check("Apple en Meta stegen [1].")
    assert result.text == "Apple en Meta stegen."
    assert result.supported


def test_citation_outside_the_passages():
    with pytest.raises(ValueError, match=re.escape("citation [6] is outside the 5 passages")):
        check("Apple steeg.", (6,))
    with pytest.raises(ValueError, match=re.escape("citation [0] is outside the 5 passages")):
        check("Apple steeg.", (0,))


def test_low_similarity_reason():
    calls = []

    def similarity(sentence, cited_texts):
        calls.append((sentence, list(cited_texts)))
        return 0.7149

    result = check("Apple en Meta stegen.", (1, 5), similarity=similarity, min_similarity=0.8)
    assert result.reason == "low similarity 0.71 to cited passages [1][5]"
    assert calls == [("Apple en Meta stegen.", [LOSS.chunk.text, WINNERS.chunk.text])]
    assert check("Apple en Meta stegen.", similarity=similarity, min_similarity=0.7).supported


def test_similarity_runs_only_after_the_lexical_checks_pass():
    def similarity(sentence, cited_texts):
        raise AssertionError("not called")

    assert check("Apple verloor 600 miljard.", similarity=similarity).reason == (
        "number 600 not in cited passages [1]"
    )
    assert check("Apple verloor veel.", (), similarity=similarity).reason == "no citation"


# --- make_similarity with the fake embedder ----------------------------------------------------


def test_similarity_takes_the_best_passage_sentence():
    embedder = FakeEmbedder()
    similarity = make_similarity(VectorMemo(embedder))
    sentence = "Tegelijk zagen andere techreuzen, zoals Apple en Meta, hun waarde stijgen."
    best = similarity(sentence, [LOSS.chunk.text])
    whole = float(embedder.embed_passages([LOSS.chunk.text])[0] @ embedder.embed_query(sentence))
    assert best == pytest.approx(1.0, abs=1e-5)  # the fake embeds a sentence identically
    assert whole < 0.9


def test_similarity_caches_passage_vectors_for_one_answer():
    embedder = FakeEmbedder()
    similarity = make_similarity(VectorMemo(embedder))
    similarity("Apple steeg.", [LOSS.chunk.text, WINNERS.chunk.text])
    first = list(embedder.calls)
    similarity("Meta steeg.", [WINNERS.chunk.text])
    assert first[-1] == ("query", 1)
    assert embedder.calls[len(first) :] == [("query", 1)]  # no passage embedded again
    assert sum(n for kind, n in first if kind == "passage") == 2 + 4 + 3  # passages + sentences


def test_similarity_of_nothing_is_zero():
    assert make_similarity(VectorMemo(FakeEmbedder()))("Apple steeg.", []) == 0.0


# --- check_answer ------------------------------------------------------------------------------


def test_check_answer_end_to_end():
    raw = (
        "Nvidia verloor op 27 januari 589 miljard dollar aan beurswaarde [1, 3]. "
        "De daling volgde op het nieuws over DeepSeek. [1] "
        "Het aandeel verloor 600 miljard dollar [7]. "
        "Ook Microsoft zag zijn waarde stijgen [1][1]. "
        "Jensen Huang verloor 20,1 miljard dollar, een vijfde van zijn vermogen [4]."
    )
    text, checks = check_answer(raw, PASSAGES, "Hoeveel verloor Nvidia?", similarity=None)
    assert text == (
        "Nvidia verloor op 27 januari 589 miljard dollar aan beurswaarde [1][3]. "
        "De daling volgde op het nieuws over DeepSeek [1]. "
        "Het aandeel verloor 600 miljard dollar. "
        "Ook Microsoft zag zijn waarde stijgen [1]. "
        "Jensen Huang verloor 20,1 miljard dollar, een vijfde van zijn vermogen [4]."
    )
    assert checks == [
        SentenceCheck(
            "Nvidia verloor op 27 januari 589 miljard dollar aan beurswaarde.", (1, 3), True
        ),
        SentenceCheck("De daling volgde op het nieuws over DeepSeek.", (1,), True),
        SentenceCheck("Het aandeel verloor 600 miljard dollar.", (), False, "no citation"),
        SentenceCheck(
            "Ook Microsoft zag zijn waarde stijgen.",
            (1,),
            False,
            "name Microsoft not in cited passages [1]",
        ),
        SentenceCheck(
            "Jensen Huang verloor 20,1 miljard dollar, een vijfde van zijn vermogen.", (4,), True
        ),
    ]


def test_check_answer_in_english_with_a_similarity():
    raw = "Apple and Meta rose [1]. Bezos gained 632 million dollars [5]."
    seen = []

    def similarity(sentence, cited_texts):
        seen.append(sentence)
        return 0.9 if "Apple" in sentence else 0.5

    text, checks = check_answer(raw, PASSAGES, "Which companies rose?", similarity, 0.8)
    assert text == raw
    assert [c.supported for c in checks] == [True, False]
    assert checks[1].reason == "low similarity 0.50 to cited passages [5]"
    assert set(seen) == {"Apple and Meta rose.", "Bezos gained 632 million dollars."}  # no markers


def test_check_answer_of_nothing():
    assert check_answer("", PASSAGES, "Wie?") == ("", [])


# --- the real packaged e5: the calibrated threshold --------------------------------------------


@pytest.fixture(scope="module")
def e5_similarity():
    from rag.embedding import E5NanoEmbedder

    return make_similarity(VectorMemo(E5NanoEmbedder()))


@pytest.mark.real
@pytest.mark.parametrize(
    "sentence, cited",
    [
        ("Het aandeel van Nvidia verloor 589 miljard dollar aan waarde.", LOSS),
        ("Nvidia's share fell almost 17 percent, its biggest drop since March 2020.", DROP),
        ("Meta plans to spend 60 to 65 billion dollars on AI projects this year.", WINNERS),
        ("The Deepshift could boost productivity growth.", INFLATION),
    ],
)
def test_real_e5_supports_paraphrases(e5_similarity, sentence, cited):
    assert e5_similarity(sentence, [cited.chunk.text]) >= DEFAULT_MIN_SIMILARITY + 0.02
    result = check_sentence(sentence, (1,), [cited], "", e5_similarity)
    assert result.supported, result.reason


@pytest.mark.real
@pytest.mark.parametrize(
    "sentence, cited",
    [
        # Nothing to check lexically: only the semantic check catches the wrong citation.
        ("Deepseek became the most downloaded app.", DROP),
        (
            "The quality of a large language model depends on data, computing power and the "
            "algorithm.",
            WINNERS,
        ),
        ("It could boost productivity growth.", DROP),
    ],
)
def test_real_e5_rejects_citations_of_unrelated_passages(e5_similarity, sentence, cited):
    score = e5_similarity(sentence, [cited.chunk.text])
    assert score <= DEFAULT_MIN_SIMILARITY - 0.02
    result = check_sentence(sentence, (1,), [cited], "", e5_similarity)
    assert result.reason == f"low similarity {score:.2f} to cited passages [1]"


@pytest.mark.real
def test_real_e5_on_topic_invention_is_caught_by_the_name_check(e5_similarity):
    sentence = "DeepSeek was founded by Liang Wenfeng in Hangzhou."
    assert e5_similarity(sentence, [LOSS.chunk.text]) < DEFAULT_MIN_SIMILARITY
    assert check_sentence(sentence, (1,), [LOSS], "", e5_similarity).reason == (
        "name Liang not in cited passages [1]"
    )


def test_a_sentence_without_a_marker_gets_the_passage_that_covers_it():
    raw = "Jensen Huang verloor 20,1 miljard dollar. Apple steeg [1]."
    text, checks = check_answer(raw, PASSAGES, "Wie verloor?", similarity=None)
    assert checks[0] == SentenceCheck(
        "Jensen Huang verloor 20,1 miljard dollar.", (4,), True, None, citation_added=True
    )
    assert checks[1].citation_added is False
    assert text.startswith("Jensen Huang verloor 20,1 miljard dollar [4]. ")


def test_the_added_citation_is_the_most_similar_covering_passage():
    raw = "Het nieuws over DeepSeek raakte Nvidia."  # LOSS [1] and WORST_DAY [3] name both

    def similarity(sentence, cited_texts):
        return 0.95 if cited_texts == [WORST_DAY.chunk.text] else 0.85

    _, checks = check_answer(raw, PASSAGES, "", similarity, 0.8)
    assert checks[0].citations == (3,)
    assert checks[0].supported and checks[0].citation_added


def test_a_marker_on_a_clearly_less_similar_passage_is_moved():
    raw = "Het nieuws over DeepSeek raakte Nvidia [1]."  # LOSS [1] and WORST_DAY [3] cover it

    def similarity(sentence, cited_texts):
        return 0.95 if cited_texts == [WORST_DAY.chunk.text] else 0.86

    text, checks = check_answer(raw, PASSAGES, "", similarity, 0.8)
    assert checks[0].citations == (3,) and checks[0].cited_by_model == (1,)
    assert checks[0].supported and not checks[0].citation_added
    assert text == "Het nieuws over DeepSeek raakte Nvidia [3]."
    assert checks[0].to_dict()["cited_by_model"] == [1]


def test_a_marker_is_kept_when_another_passage_is_only_a_little_more_similar():
    raw = "Het nieuws over DeepSeek raakte Nvidia [1]."

    def similarity(sentence, cited_texts):
        return 0.88 if cited_texts == [WORST_DAY.chunk.text] else 0.86

    _, checks = check_answer(raw, PASSAGES, "", similarity, 0.8)
    assert checks[0].citations == (1,) and checks[0].cited_by_model == ()


def test_a_marker_is_never_moved_to_a_passage_lacking_the_sentence_s_numbers():
    raw = "Het nieuws over DeepSeek raakte Nvidia voor 589 miljard dollar [1]."

    def similarity(sentence, cited_texts):  # WORST_DAY [3] lacks the amount
        return 0.99 if cited_texts == [WORST_DAY.chunk.text] else 0.86

    _, checks = check_answer(raw, PASSAGES, "", similarity, 0.8)
    assert checks[0].citations == (1,) and checks[0].cited_by_model == ()


def test_a_sentence_failing_with_its_own_marker_is_not_rescued_by_moving_it():
    """The model cited a passage that lacks the sentence's number: it mixed facts up, and
    another passage that happens to hold the number does not make the sentence true."""
    raw = "Nvidia verloor 589 miljard dollar [2]."  # only LOSS [1] has the amount

    def similarity(sentence, cited_texts):
        return 0.99 if cited_texts == [LOSS.chunk.text] else 0.86

    _, checks = check_answer(raw, PASSAGES, "", similarity, 0.8)
    assert checks[0].citations == (2,) and checks[0].cited_by_model == ()
    assert checks[0].reason == "number 589 not in cited passages [2]"


def test_real_e5_moves_a_wrong_marker_to_the_passage_that_says_it(e5_similarity):
    raw = ("The narrative from Silicon Valley that DeepSeek's success undermines is that large "
           "capital investments are essential for AI innovation [1].")
    question = "Which narrative from Silicon Valley does DeepSeek's success undermine?"
    text, checks = check_answer(raw, PASSAGES, question, e5_similarity)
    assert checks[0].citations == (4,) and checks[0].cited_by_model == (1,)
    assert checks[0].supported and text.endswith("innovation [4].")


@pytest.mark.parametrize(
    "sentence, supported",
    [
        ("Nvidia lost 589 billion dollars in market value.", True),
        ("Nvidia lost 589 million dollars in market value.", False),
        ("Nvidia verloor 589 miljoen dollar.", False),
        ("Nvidia verloor 589 mld dollar.", True),
    ],
)
def test_an_amount_with_the_wrong_magnitude_is_caught(sentence, supported):
    n = next(i for i, p in enumerate(PASSAGES, 1) if "589 miljard" in p.chunk.text)
    check = check_sentence(sentence, (n,), PASSAGES, "", None)
    assert check.supported is supported
    if not supported:
        assert check.reason == f"amount 589e6 differs from cited passages [{n}]"


def test_similarity_embeds_each_passage_once_across_answers():
    from tests.fakes import FakeEmbedder

    embedder = FakeEmbedder()
    similarity = make_similarity(VectorMemo(embedder))
    similarity("Nvidia verloor 589 miljard dollar.", [LOSS.chunk.text])
    passages_embedded = sum(n for kind, n in embedder.calls if kind == "passage")
    similarity("Het aandeel verloor 589 miljard.", [LOSS.chunk.text])
    assert sum(n for kind, n in embedder.calls if kind == "passage") == passages_embedded


def test_the_examples_in_the_docstrings_hold():
    assert doctest.testmod(rag.citations).failed == 0

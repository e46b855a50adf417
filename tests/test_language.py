"""detect_language: the eval questions, very short follow-ups, names only, ties."""

import pytest

from rag.config import ROOT
from rag.evaluation import load_questions
from rag.language import detect_language, language_score


@pytest.mark.parametrize(
    "question, language",
    [(q.question, q.lang) for q in load_questions(ROOT / "eval" / "questions.jsonl")],
)
def test_eval_questions(question, language):
    assert detect_language(question) == language
    assert detect_language(question, default="en" if language == "nl" else "nl") == language


@pytest.mark.parametrize(
    "text, language",
    [
        ("En Meta?", "nl"),
        ("What about Apple?", "en"),
        ("Wie is de CEO?", "nl"),
        ("Who is the CEO?", "en"),
        ("And Meta?", "en"),
        ("En Apple dan?", "nl"),
        ("Hoeveel?", "nl"),
        ("How much?", "en"),
        ("Waarom?", "nl"),
        ("Why?", "en"),
        ("Is dat zo?", "nl"),  # "is" is both languages' word; "dat" decides
        ("Is that so?", "en"),
        ("Vertel meer", "nl"),
        ("Tell me more", "en"),
        ("Meer details graag", "nl"),
        ("More details please", "en"),
        ("Welke bedrijven stegen?", "nl"),
        ("Which companies rose?", "en"),
        ("Jensen Huang verloor geld", "nl"),  # letter patterns only: "verloor"
        ("Jensen Huang lost money", "en"),
        ("Oké, en Oracle?", "nl"),
        ("OK, and Oracle?", "en"),
        ("really?", "en"),  # a lone lower-case word: "-ly"
    ],
)
def test_short_questions(text, language):
    assert detect_language(text) == language
    assert detect_language(text, default="en" if language == "nl" else "nl") == language


@pytest.mark.parametrize(
    "text",
    ["Nvidia?", "DeepSeek?", "Zuckerberg?", "Tim Cook?", "Really?", "H100?", "", " ", "?!", "589"],
)
def test_names_numbers_and_nothing_give_the_default(text):
    # A lone capitalised word is taken for a name, even "Really?": names are far more common
    # as one-word follow-ups.
    assert language_score(text) == 0
    assert detect_language(text) == "nl"
    assert detect_language(text, default="en") == "en"


def test_names_do_not_count_as_evidence():
    # "Wall Street" and "Silicon Valley" carry English letter patterns; as names they are ignored.
    assert detect_language("Wat gebeurde er op Wall Street en in Silicon Valley?") == "nl"
    assert detect_language("Wat deed Shenzhen?") == "nl"


def test_function_words_outweigh_letter_patterns():
    # One English function word against one long Dutch-looking word.
    assert language_score("the waarschijnlijkheid") < 0

"""Sentence splitting and chunking (rag/chunking.py)."""

from __future__ import annotations

import doctest
import hashlib
import random
import re
from pathlib import Path

import pytest

import rag.chunking
from rag.chunking import chunk_article, chunk_corpus, chunk_id, split_sentences
from rag.corpus import load_corpus
from rag.types import Article, ArticleMeta

DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.fixture(scope="module")
def seed_articles() -> list[Article]:
    articles, skipped = load_corpus(DOCS)
    assert skipped == []
    return articles


def make_article(text: str, id: str = "t") -> Article:
    return Article(meta=ArticleMeta(id=id, title=id), text=text, path=f"{id}.txt", content_hash="0")


def sentences(text: str) -> list[str]:
    return [text[start:end] for start, end in split_sentences(text)]


def non_space(text: str) -> str:
    return re.sub(r"\s+", "", text)


# --- split_sentences ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Hij zei o.a. dat Nvidia verloor.",
        "Dat is bv. een grote daling.",
        "M.a.w. het model is goedkoper.",
        "Dhr. Huang verloor 20,1 miljard dollar.",
        "Prof. Viaene en mevr. De Vries twijfelen.",
        "R1 (het taalmodel van de chatbot, nvdr) is getraind.",
        "R1 (het taalmodel, nvdr.) is getraind.",
        "Het aandeel verloor 589 miljard dollar (561,7 miljard euro) aan waarde.",
        "De S&P 500-index sloot 1,5 procent lager.",
        "Versie 1.5 kost 1.500 euro.",
    ],
)
def test_abbreviations_and_numbers_do_not_end_a_sentence(text):
    assert sentences(f"{text} Volgende zin.") == [text, "Volgende zin."]


def test_paragraphs_are_hard_boundaries():
    text = "Een kop\n\nDe eerste zin, zonder punt\n\n\nNog een zin."
    assert sentences(text) == ["Een kop", "De eerste zin, zonder punt", "Nog een zin."]


def test_headline_lines_are_their_own_sentence_and_wrapped_lines_are_not():
    text = (
        "Sebastien Marien\nRedacteur bij Trends\n"
        "Het aandeel verloor\nmaandag 17 procent. Dat is veel."
    )
    assert sentences(text) == [
        "Sebastien Marien",
        "Redacteur bij Trends",
        "Het aandeel verloor\nmaandag 17 procent.",
        "Dat is veel.",
    ]


def test_spans_exclude_surrounding_whitespace():
    text = "  \n Eerste zin.   Tweede zin!\t\n\n  Derde?  \n"
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == ["Eerste zin.", "Tweede zin!", "Derde?"]
    assert all(not text[s].isspace() and not text[e - 1].isspace() for s, e in spans)


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            'Klik op "Cookie-instellingen" a.u.b." Daarna niets.',
            ['Klik op "Cookie-instellingen" a.u.b."', "Daarna niets."],
        ),
        ("Hij zei het. ” Daarna niets.", ["Hij zei het. ”", "Daarna niets."]),
        ("Hij zei het. ... Daarna niets.", ["Hij zei het. ...", "Daarna niets."]),
    ],
)
def test_stray_closing_quotes_and_punctuation_join_their_sentence(text, expected):
    assert sentences(text) == expected


def test_long_paragraph_is_split_whole_with_abbreviations_across_pysbd_windows():
    text = " ".join(f"Dhr. Jansen zei zin nummer {i} over de beurs van vandaag." for i in range(60))
    found = sentences(text)
    assert len(found) == 60
    assert all(s.startswith("Dhr. Jansen zei zin nummer") for s in found)


def test_quotes_in_a_long_paragraph_do_not_swallow_sentences(seed_articles):
    one = re.sub(r"\s+", " ", seed_articles[1].text)  # one paragraph with quotes in it
    record = "Het aandeel verloor 589 miljard dollar (561,7 miljard euro) aan waarde, een record"
    found = sentences(" ".join([one] * 8))
    assert sum(s.startswith(record) for s in found) == 8
    assert len(found) > 8 * 35


def test_empty_text_has_no_sentences():
    assert split_sentences("") == []
    assert split_sentences(" \n\n \t") == []


def test_real_articles_split_into_whole_sentences(seed_articles):
    nvidia = seed_articles[1]
    found = sentences(nvidia.text)
    assert found[:3] == [
        nvidia.meta.title,
        "Sebastien Marien Redacteur bij Trends",
        "Nvidia heeft maandag een nooit gezien verlies geleden op de beurs.",
    ]
    assert (
        "Het aandeel verloor 589 miljard dollar (561,7 miljard euro) aan waarde, een record in "
        "de Amerikaanse beursgeschiedenis."
    ) in found
    assert any(s.startswith("“De methode waarmee R1 (het taalmodel van de chatbot, nvdr) is") and
               s.endswith("die DeepSeek heeft gebruikt.”") for s in found)
    # a quotation stays whole
    assert found[-1].startswith("“DeepSeek’s R1 is een indrukwekkend model")
    assert found[-1].endswith("”, stelde hij op X.")
    assert len(found) == 41


@pytest.mark.parametrize("index", [0, 1])
def test_sentences_cover_every_character_once_in_order(seed_articles, index):
    text = seed_articles[index].text
    spans = split_sentences(text)
    assert "".join(non_space(text[s:e]) for s, e in spans) == non_space(text)
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:]))


def test_segmenter_is_built_once():
    assert rag.chunking._segmenter() is rag.chunking._segmenter()


# --- chunk_article -----------------------------------------------------------------------


def word_at(text: str, position: int) -> str:
    """The run of non-space characters around `position`."""
    return re.search(r"\S*$", text[:position])[0] + re.match(r"\S*", text[position:])[0]


def check_chunks(article: Article, size: int, overlap: int) -> None:
    chunks = chunk_article(article, size, overlap)
    text = article.text
    spans = split_sentences(text)
    sentence_starts = {s for s, _ in spans}
    sentence_ends = {e for _, e in spans}
    assert chunks, "an article always has a chunk"
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.article_id == article.id
        assert chunk.id == chunk_id(article.id, chunk.start, chunk.text)
        assert len(chunk.text) <= 3 * size
        assert chunk.text == chunk.text.strip()
    # whole sentences (long ones may be cut at whitespace, not mid-word)
    for chunk in chunks:
        assert chunk.start in sentence_starts or text[chunk.start - 1].isspace() or (
            len(word_at(text, chunk.start)) > size
        )
        assert chunk.end in sentence_ends or text[chunk.end].isspace() or (
            len(word_at(text, chunk.end)) > size
        )
    # progress, and every character is in some chunk
    assert all(a.start < b.start and a.end < b.end for a, b in zip(chunks, chunks[1:]))
    assert chunks[0].start == spans[0][0]
    assert chunks[-1].end == spans[-1][1]
    for a, b in zip(chunks, chunks[1:]):
        assert non_space(text[a.end : b.start]) == ""  # no gap with text in it
    if overlap == 0:
        assert all(a.end <= b.start for a, b in zip(chunks, chunks[1:]))
    assert len({c.id for c in chunks}) == len(chunks)


@pytest.mark.parametrize("size", [50, 120, 400, 1000])
@pytest.mark.parametrize("overlap", [0, 1, 2, 5])
def test_chunk_invariants_on_the_real_articles(seed_articles, size, overlap):
    for article in seed_articles:
        check_chunks(article, size, overlap)


def test_chunks_respect_size_unless_one_sentence_is_longer(seed_articles):
    article = seed_articles[1]
    spans = split_sentences(article.text)
    for chunk in chunk_article(article, 400, 1):
        inside = [(s, e) for s, e in spans if chunk.start <= s and e <= chunk.end]
        assert len(chunk.text) <= 400 or len(inside) == 1


TEN = " ".join(f"Zin nummer {i} gaat over Nvidia en DeepSeek." for i in range(10))  # 42-43 chars


def test_overlap_repeats_the_last_sentence_of_the_previous_chunk():
    article = make_article(TEN)
    chunks = chunk_article(article, 140, 1)
    assert [c.text.count("Zin nummer") for c in chunks] == [3, 3, 3, 3, 2]
    for a, b in zip(chunks, chunks[1:]):
        last_sentence = sentences(a.text)[-1]
        assert b.text.startswith(last_sentence)
        assert a.text.endswith(last_sentence)


def test_no_overlap_shares_nothing():
    chunks = chunk_article(make_article(TEN), 140, 0)
    assert [c.text.count("Zin nummer") for c in chunks] == [3, 3, 3, 1]
    assert "".join(non_space(c.text) for c in chunks) == non_space(TEN)


def test_overlap_never_repeats_the_whole_previous_chunk():
    chunks = chunk_article(make_article(TEN), 140, 50)
    for a, b in zip(chunks, chunks[1:]):
        assert b.start > a.start
        assert b.end > a.end
    assert chunks[-1].text.endswith("Zin nummer 9 gaat over Nvidia en DeepSeek.")


def test_overlap_shrinks_when_it_leaves_no_room():
    first = "Een lange eerste zin over de koersval van Nvidia op maandag 27 januari."  # 72
    text = f"{first} Kort. {'Een zin die de chunk bijna vult en dus geen ruimte laat.' + ' Nog.'}"
    chunks = chunk_article(make_article(text), 85, 2)
    assert all(len(c.text) <= 85 for c in chunks)


def test_prefers_a_paragraph_break_once_half_full():
    para_a = "Eerste alinea, eerste zin hier. Eerste alinea, tweede zin hier."  # 63 chars
    para_b = "Tweede alinea met een zin. En nog een korte zin erbij."
    article = make_article(f"{para_a}\n\n{para_b}")
    chunks = chunk_article(article, 120, 0)
    assert [c.text for c in chunks] == [para_a, para_b]


def test_crosses_a_paragraph_break_when_less_than_half_full():
    article = make_article("De winnaars\n\nMeta-oprichter Zuckerberg zag zijn fortuin toenemen.")
    chunks = chunk_article(article, 120, 0)
    assert [c.text for c in chunks] == [article.text]


def test_long_sentence_is_its_own_chunk():
    long = "Dit is een lange zin " + "met veel woorden " * 15 + "die eindigt."  # ~290 chars
    text = f"Korte zin. {long} Nog een korte zin."
    chunks = chunk_article(make_article(text), 120, 0)
    assert [c.text for c in chunks] == ["Korte zin.", long, "Nog een korte zin."]


def test_very_long_sentence_is_cut_at_whitespace():
    words = [f"woord{i}" for i in range(400)]
    text = "Begin. " + " ".join(words) + " einde. Slot."
    chunks = chunk_article(make_article(text), 100, 1)
    assert all(len(c.text) <= 100 for c in chunks)
    assert all(c.text.split()[0] in text.split() for c in chunks)  # no word cut in half
    rebuilt = set()
    for c in chunks:
        rebuilt.update(c.text.split())
    assert rebuilt == set(text.split())
    check_chunks(make_article(text), 100, 1)


def test_one_enormous_word_is_cut_hard():
    text = "x" * 1000
    chunks = chunk_article(make_article(text), 100, 0)
    assert [len(c.text) for c in chunks] == [100] * 10
    assert "".join(c.text for c in chunks) == text


def test_chunk_ids_are_stable_and_readable(seed_articles):
    article = seed_articles[0]
    first = chunk_article(article, 400, 1)
    again = chunk_article(article, 400, 1)
    assert first == again
    assert all(re.fullmatch(rf"{article.id}:\d+:[0-9a-f]{{8}}", c.id) for c in first)
    assert first[0].id == f"{article.id}:0:{chunk_id(article.id, 0, first[0].text).split(':')[2]}"


def test_chunk_id_depends_on_article_start_and_text():
    base = chunk_id("a", 0, "Tekst.")
    assert base == "a:0:" + hashlib.sha256(b"Tekst.").hexdigest()[:8]
    assert base != chunk_id("b", 0, "Tekst.")
    assert base != chunk_id("a", 1, "Tekst.")
    assert base != chunk_id("a", 0, "Tekst!")


def test_chunk_corpus_is_every_article_in_order(seed_articles):
    chunks = chunk_corpus(seed_articles, 400, 1)
    expected = [c for a in seed_articles for c in chunk_article(a, 400, 1)]
    assert chunks == expected
    assert {c.article_id for c in chunks} == {a.id for a in seed_articles}


@pytest.mark.parametrize(
    "size, overlap, message",
    [
        (49, 0, "chunk size must be at least 50 characters, got 49"),
        (0, 1, "chunk size must be at least 50 characters, got 0"),
        (400, -1, "chunk overlap must be 0 or more sentences, got -1"),
    ],
)
def test_invalid_arguments_are_refused(size, overlap, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        chunk_article(make_article("Een zin."), size, overlap)
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        chunk_corpus([], size, overlap)


# --- randomised invariants (no hypothesis in this environment: a seeded generator) --------

PIECES = [
    "Nvidia", "verloor", "589", "miljard", "dollar", "(561,7", "euro)", "o.a.", "bv.", "Dhr.",
    "m.a.w.", "nvdr", "S&P", "500-index", "1.5", "procent.", "DeepSeek!", "Waarom?",
    "“Citaat.”",
    "zei", "hij.", "\n", "\n\n", "\n\n\n", "  ", "Kop", "—", "x" * 130, "één", "café",
]


@pytest.mark.parametrize("seed", range(40))
def test_random_texts_keep_every_invariant(seed):
    rng = random.Random(seed)
    text = " ".join(rng.choice(PIECES) for _ in range(rng.randint(1, 120)))
    if not text.strip():
        text = "Kop"
    article = make_article(text)
    spans = split_sentences(text)
    assert "".join(non_space(text[s:e]) for s, e in spans) == non_space(text)
    for size, overlap in [(50, 0), (60, 2), (200, 1)]:
        check_chunks(article, size, overlap)


def test_docstring_examples():
    assert doctest.testmod(rag.chunking).failed == 0

"""Reading, cleaning and describing article files (rag/corpus.py)."""

from __future__ import annotations

import doctest
import logging
import re
import shutil
from pathlib import Path

import pytest

import rag.corpus
from rag.corpus import FURNITURE, clean_text, content_hash, load_corpus, read_article
from rag.errors import ArticleError
from rag.types import ArticleMeta

DOCS = Path(__file__).resolve().parent.parent / "docs"
DEEPSHIFT = "000_9043bc16fa9d2180"
NVIDIA = "001_b0eb7229f3d36237"
NVIDIA_TITLE = (
    "Nvidia verliest 589 miljard dollar in één dag: waarom deze techreuzen wel vooruitgingen "
    "na het nieuws over DeepSeek"
)
EXPECTED_TYPES = "expected one of .txt, .md, .html, .htm"
GOOD_TEXT = "Kop\n\nNvidia verloor maandag 589 miljard dollar aan beurswaarde.\n"


def copy_seed(tmp_path: Path, stem: str, sidecar: bool) -> Path:
    shutil.copyfile(DOCS / f"{stem}.txt", tmp_path / f"{stem}.txt")
    if sidecar:
        shutil.copyfile(DOCS / f"{stem}.meta.json", tmp_path / f"{stem}.meta.json")
    return tmp_path / f"{stem}.txt"


# --- the seed articles -------------------------------------------------------------------


def test_seed_articles_metadata_from_sidecars(tmp_path):
    for stem in (DEEPSHIFT, NVIDIA):
        copy_seed(tmp_path, stem, sidecar=True)
    articles, skipped = load_corpus(tmp_path)
    assert skipped == []
    assert [a.meta for a in articles] == [
        ArticleMeta(
            id=DEEPSHIFT,
            title="Deepshift",
            author="Clément Inbona",
            source="La Financière de l'Echiquier (LFDE)",
            date="2025-02",
        ),
        ArticleMeta(id=NVIDIA, title=NVIDIA_TITLE, author="Sebastien Marien", source="Trends"),
    ]


def test_seed_articles_metadata_from_file_conventions(tmp_path):
    for stem in (DEEPSHIFT, NVIDIA):
        copy_seed(tmp_path, stem, sidecar=False)
    articles, skipped = load_corpus(tmp_path)
    assert skipped == []
    # The parenthetical after the author in the date line is the affiliation: it becomes the
    # source; only the sidecar knows its full name.
    assert [a.meta for a in articles] == [
        ArticleMeta(
            id=DEEPSHIFT, title="Deepshift", author="Clément Inbona", source="LFDE", date="2025-02"
        ),
        ArticleMeta(id=NVIDIA, title=NVIDIA_TITLE, author="Sebastien Marien", source="Trends"),
    ]


def test_sidecar_changes_metadata_and_hash_but_not_text(tmp_path):
    with_sidecar = read_article(copy_seed(tmp_path, DEEPSHIFT, sidecar=True), 10**6)
    (tmp_path / f"{DEEPSHIFT}.meta.json").unlink()
    without = read_article(tmp_path / f"{DEEPSHIFT}.txt", 10**6)
    assert with_sidecar.text == without.text
    assert with_sidecar.content_hash != without.content_hash


def test_repository_docs_load_cleanly():
    articles, skipped = load_corpus(DOCS)
    assert skipped == []
    assert [a.id for a in articles] == [DEEPSHIFT, NVIDIA]
    assert all(a.path.endswith(".txt") for a in articles)


def test_date_line_is_removed_from_the_text(tmp_path):
    article = read_article(copy_seed(tmp_path, DEEPSHIFT, sidecar=False), 10**6)
    assert article.text.startswith("589 miljard dollar. Zoveel beurswaarde zag Nvidia")
    assert "date 2025-02" not in article.text
    assert "Deepshift’" not in article.text


def test_headline_and_byline_stay_in_the_text(tmp_path):
    article = read_article(copy_seed(tmp_path, NVIDIA, sidecar=False), 10**6)
    assert article.text.startswith(NVIDIA_TITLE + "\n\nSebastien Marien Redacteur bij Trends\n\n")
    assert article.text.count("Sebastien Marien") == 1  # the scraped duplicate name is dropped


NVIDIA_FURNITURE = [
    "©",
    "Getty Images",
    "Tim Cook, CEO van Apple tijdens de lancering",
    "Er zijn meerdere verklaring voor de winst van Apple maandag",
    "cookie",
    "geblokkeerd",
    "Klik hier",
    "Je kan jouw keuzes",
    "Fout opgemerkt",
    "Meld het hier",
    "Partner Content",
    "\xa0",
]


def test_furniture_is_stripped_from_the_real_article(tmp_path):
    text = read_article(copy_seed(tmp_path, NVIDIA, sidecar=False), 10**6).text
    for furniture in NVIDIA_FURNITURE:
        assert furniture.lower() not in text.lower(), furniture
    assert text.endswith("We komen binnenkort met een aantal releases”, stelde hij op X.")


def test_every_real_paragraph_survives_cleaning(tmp_path):
    raw = (DOCS / f"{NVIDIA}.txt").read_text(encoding="utf-8")
    text = read_article(copy_seed(tmp_path, NVIDIA, sidecar=False), 10**6).text
    paragraphs = [p.strip() for p in raw.split("\n\n") if p.strip()]
    real = [p for p in paragraphs if not any(f.lower() in p.lower() for f in NVIDIA_FURNITURE)]
    assert len(real) == len(paragraphs) - 4  # caption+byline block, cookie notice, 2 trailers
    for paragraph in real:
        assert paragraph in text
    assert "Sam Altman, de CEO van OpenAI, prijsde zijn nieuwe Chinese concurrent." in text
    assert (
        "De Australische minister van Industrie en Wetenschappen Ed Husic gaat een stap verder. "
        "Hij roept op voorzichtig te zijn bij gebruik van de app, zei hij dinsdag bij ABC News. "
        "Er zijn veel vragen te stellen over de kwaliteit van de verstrekte informatie en het "
        "beheer van data en privégegevens, meent Husic."
    ) in text


# --- clean_text --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "furniture",
    [
        "Tim Cook tijdens de lancering. © David Paul Morris/Bloomberg via Getty Images",
        "Foto: Reuters",
        "Jensen Huang op het podium. Beeld: ANP",
        "De inhoud op deze pagina wordt momenteel geblokkeerd om jouw cookie-keuzes te "
        "respecteren.",
        "Klik hier om jouw cookie-voorkeuren aan te passen en de inhoud te bekijken.",
        'Je kan jouw keuzes wijzigen door onderaan de site op "Cookie-instellingen" te klikken."',
        "Fout opgemerkt of meer nieuws? Meld het hier",
        "Partner Content",
        "Lees ook: Nvidia verliest 589 miljard dollar",
        "Advertentie",
        "Schrijf je in voor onze nieuwsbrief en mis niets.",
        "Deel dit artikel",
        "Facebook Twitter LinkedIn WhatsApp",
    ],
)
def test_clean_text_strips_each_kind_of_furniture(furniture):
    text = f"Eerste echte zin.\n{furniture}\nTweede echte zin."
    assert clean_text(text) == "Eerste echte zin.\nTweede echte zin."


def test_partner_content_glued_to_the_end_is_stripped():
    assert clean_text("Dat zei hij op X.Partner Content") == "Dat zei hij op X."
    assert clean_text("Dat zei hij op X.\n\nPartner Content  \n") == "Dat zei hij op X."


@pytest.mark.parametrize(
    "sentence",
    [
        "Nvidia in beeld: de cijfers van maandag",
        "Het beeld: een crash van 17 procent.",
        "De foto van Jensen Huang ging de wereld rond.",
        "Wie advertenties verkoopt, verdient aan AI.",
        "Lees de cijfers van Bloomberg er maar op na.",
        "Twitter-oprichter Jack Dorsey reageerde.",
    ],
)
def test_clean_text_keeps_sentences_that_only_resemble_furniture(sentence):
    assert clean_text(sentence) == sentence


def test_furniture_patterns_are_one_tuple_of_compiled_regexes():
    assert isinstance(FURNITURE, tuple)
    assert all(isinstance(p, re.Pattern) for p in FURNITURE)


def test_clean_text_normalises_whitespace_and_unicode():
    raw = "  Kop\r\n\r\n\r\n\r\nCafe\u0301  met\u200b\u00a0de\tkoffie\x07.\rTwee\u00addelig  \n\n\n"
    assert clean_text(raw) == "Kop\n\nCafé met de koffie.\nTweedelig"


def test_clean_text_of_only_whitespace_is_empty():
    assert clean_text(" \n\t\r\n\u200b ") == ""


# --- broken files are skipped, the rest loads --------------------------------------------


@pytest.mark.parametrize(
    "name, content, reason",
    [
        ("latin1.txt", "café\n".encode("latin-1"), "not UTF-8 text: invalid byte at offset 3"),
        ("binary.txt", b"Kop\n\x00\x01\x02 data", "binary file: contains NUL bytes"),
        ("empty.txt", b"", "empty file"),
        ("blank.md", b"  \n\t\r\n  \n", "no article text left after cleaning"),
        ("furniture.txt", b"Partner Content\nAdvertentie\n", "no article text left after cleaning"),
        ("huge.txt", b"Een zin. " * 30, "file too large: 270 bytes, the limit is 200"),
        ("notes.pdf", b"%PDF-1.4", f"unsupported file type '.pdf': {EXPECTED_TYPES}"),
        ("README", b"Lees mij", f"unsupported file type '(none)': {EXPECTED_TYPES}"),
        ("empty.html", b"<html><body></body></html>", "no article text found in the HTML"),
    ],
)
def test_broken_file_is_skipped_with_its_reason(tmp_path, caplog, name, content, reason):
    (tmp_path / "good.txt").write_text(GOOD_TEXT, encoding="utf-8")
    (tmp_path / name).write_bytes(content)
    with caplog.at_level(logging.WARNING, logger="rag.corpus"):
        articles, skipped = load_corpus(tmp_path, max_bytes=200)
    assert [a.id for a in articles] == ["good"]
    assert [(Path(s.path).name, s.reason) for s in skipped] == [(name, reason)]
    assert f"skipped {tmp_path / name}: {reason}" in caplog.text


def test_broken_file_read_directly_raises_article_error(tmp_path):
    (tmp_path / "binary.txt").write_bytes(b"\x00\x00")
    with pytest.raises(ArticleError, match="^binary file: contains NUL bytes$"):
        read_article(tmp_path / "binary.txt", 1000)


def test_unreadable_file_is_skipped(tmp_path, monkeypatch):
    (tmp_path / "good.txt").write_text(GOOD_TEXT, encoding="utf-8")
    (tmp_path / "locked.txt").write_text(GOOD_TEXT, encoding="utf-8")
    real_read_bytes = Path.read_bytes

    def read_bytes(path: Path) -> bytes:
        if path.name == "locked.txt":
            raise PermissionError(13, "Permission denied")
        return real_read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    articles, skipped = load_corpus(tmp_path)
    assert [a.id for a in articles] == ["good"]
    assert [s.reason for s in skipped] == ["cannot read file: Permission denied"]


def test_duplicate_stem_keeps_the_first_by_name(tmp_path):
    (tmp_path / "a.md").write_text("# Uit markdown\n\nEen zin.\n", encoding="utf-8")
    (tmp_path / "a.txt").write_text("Uit tekst\n\nEen zin.\n", encoding="utf-8")
    articles, skipped = load_corpus(tmp_path)
    assert [(a.id, a.meta.title) for a in articles] == [("a", "Uit markdown")]
    assert [(Path(s.path).name, s.reason) for s in skipped] == [
        ("a.txt", "duplicate article id 'a': already loaded from a.md")
    ]


def test_duplicate_stem_of_a_skipped_file_still_loads(tmp_path):
    (tmp_path / "a.md").write_bytes(b"")
    (tmp_path / "a.txt").write_text("Uit tekst\n\nEen zin.\n", encoding="utf-8")
    articles, skipped = load_corpus(tmp_path)
    assert [a.path for a in articles] == [str(tmp_path / "a.txt")]
    assert [s.reason for s in skipped] == ["empty file"]


SIDECAR = r"invalid sidecar good\.meta\.json: "


@pytest.mark.parametrize(
    "sidecar, reason",
    [
        (
            '{"title": "Kop",}',
            SIDECAR + "Expecting property name enclosed in double quotes at line 1 column 17",
        ),
        ('["Kop"]', SIDECAR + "expected a JSON object"),
        (
            '{"titel": "Kop"}',
            SIDECAR + r"unknown key\(s\) titel; allowed: title, author, source, date",
        ),
        ('{"date": 2025}', SIDECAR + "'date' must be a string or null"),
        (
            '{"date": "27 januari 2025"}',
            SIDECAR + "date '27 januari 2025' is not YYYY, YYYY-MM or YYYY-MM-DD",
        ),
    ],
)
def test_invalid_sidecar_skips_the_article(tmp_path, sidecar, reason):
    (tmp_path / "good.txt").write_text(GOOD_TEXT, encoding="utf-8")
    (tmp_path / "good.meta.json").write_text(sidecar, encoding="utf-8")
    (tmp_path / "other.txt").write_text(GOOD_TEXT, encoding="utf-8")
    articles, skipped = load_corpus(tmp_path)
    assert [a.id for a in articles] == ["other"]
    assert len(skipped) == 1
    assert re.fullmatch(reason, skipped[0].reason)
    with pytest.raises(ArticleError, match=f"^{reason}$"):
        read_article(tmp_path / "good.txt", 1000)


def test_sidecar_null_overrides_the_file_and_missing_keys_keep_it(tmp_path):
    (tmp_path / "a.txt").write_text(
        "date 2025-01-28 Jan Janssens: Chips\n\nEen zin.\n", encoding="utf-8"
    )
    (tmp_path / "a.meta.json").write_text('{"date": null, "source": "De Tijd"}', encoding="utf-8")
    meta = read_article(tmp_path / "a.txt", 1000).meta
    assert meta == ArticleMeta(id="a", title="Chips", author="Jan Janssens", source="De Tijd")


def test_hidden_files_sidecars_and_directories_are_ignored(tmp_path):
    (tmp_path / "good.txt").write_text(GOOD_TEXT, encoding="utf-8")
    (tmp_path / ".hidden.txt").write_bytes(b"\x00")
    (tmp_path / "orphan.meta.json").write_text("{", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "nested.txt").write_text(GOOD_TEXT, encoding="utf-8")
    articles, skipped = load_corpus(tmp_path)
    assert [a.id for a in articles] == ["good"]
    assert skipped == []


def test_files_load_in_name_order(tmp_path):
    for name in ("c.txt", "a.md", "b.txt"):
        (tmp_path / name).write_text(GOOD_TEXT, encoding="utf-8")
    articles, _ = load_corpus(tmp_path)
    assert [a.id for a in articles] == ["a", "b", "c"]


def test_missing_docs_dir_raises(tmp_path):
    missing = tmp_path / "nope"
    message = f"^articles directory not found: {re.escape(str(missing))}$"
    with pytest.raises(ArticleError, match=message):
        load_corpus(missing)


# --- .txt conventions --------------------------------------------------------------------


def test_txt_date_line_with_full_date_and_plain_author(tmp_path):
    (tmp_path / "a.txt").write_text(
        'date 2025-01-28 Jan Janssens: "Chips en AI"\nEen zin.\n', encoding="utf-8"
    )
    article = read_article(tmp_path / "a.txt", 1000)
    assert article.meta == ArticleMeta(
        id="a", title="Chips en AI", author="Jan Janssens", date="2025-01-28"
    )
    assert article.text == "Een zin."


def test_txt_without_headline_falls_back_to_the_id(tmp_path):
    (tmp_path / "a.txt").write_text("Een heel lange eerste regel. " * 10, encoding="utf-8")
    assert read_article(tmp_path / "a.txt", 1000).meta.title == "a"


def test_txt_without_conventions_has_no_author_source_or_date(tmp_path):
    (tmp_path / "a.txt").write_text(GOOD_TEXT, encoding="utf-8")
    assert read_article(tmp_path / "a.txt", 1000).meta == ArticleMeta(id="a", title="Kop")


# --- .md ---------------------------------------------------------------------------------

MARKDOWN = """---
title: "Chips en *AI*"
author: Jan Janssens
source: De Tijd
date: 2025-01-28T10:00:00
tags: [ai, chips]
---

# Kop van het stuk

![Een foto van een chip](https://example.com/chip.png)

Nvidia verloor **589 miljard dollar** aan _beurswaarde_, zie [het bericht](https://example.com/x).
De variabele snake_case_name blijft staan, net als 2 * 3 * 4.

## Tussenkop ##

> Een citaat van *iemand*.
"""


def test_markdown_front_matter_and_markup(tmp_path):
    (tmp_path / "m.md").write_text(MARKDOWN, encoding="utf-8")
    article = read_article(tmp_path / "m.md", 10_000)
    assert article.meta == ArticleMeta(
        id="m", title="Chips en AI", author="Jan Janssens", source="De Tijd", date="2025-01-28"
    )
    assert article.text == (
        "Kop van het stuk\n\n"
        "Nvidia verloor 589 miljard dollar aan beurswaarde, zie het bericht.\n"
        "De variabele snake_case_name blijft staan, net als 2 * 3 * 4.\n\n"
        "Tussenkop\n\n"
        "Een citaat van iemand."
    )


def test_markdown_heading_is_the_title_without_front_matter(tmp_path):
    (tmp_path / "n.md").write_text("Intro.\n\n# De *echte* kop\n\nTekst.\n", encoding="utf-8")
    assert read_article(tmp_path / "n.md", 1000).meta == ArticleMeta(id="n", title="De echte kop")


def test_markdown_without_heading_falls_back_to_the_id(tmp_path):
    (tmp_path / "n.md").write_text("Alleen tekst, geen kop.\n", encoding="utf-8")
    assert read_article(tmp_path / "n.md", 1000).meta.title == "n"


# --- .html -------------------------------------------------------------------------------

HTML = """<!DOCTYPE html><html lang="nl"><head><title>Chips en AI | De Tijd</title>
<meta name="author" content="Jan Janssens"><meta property="og:site_name" content="De Tijd">
<meta property="article:published_time" content="2025-01-28T10:00:00Z">
<style>.x{color:red} body { font-family: GEHEIMSTYLE; }</style>
<script>var secret = "GEHEIMSCRIPT";</script></head>
<body><nav><a href="/">Home</a> <a href="/x">Economie</a></nav>
<article><h1>Chips en AI</h1>
<p>Nvidia verloor maandag 589 miljard dollar aan beurswaarde, een record in de Amerikaanse
beursgeschiedenis.</p>
<div style="display: none">GEHEIMVERBORGEN tekst die niemand mag zien, ook al staat ze in het
artikel.</div>
<p hidden>GEHEIMHIDDEN tekst die ook in het artikel staat maar verborgen is.</p>
<p style="Visibility: Hidden">GEHEIMVISIBILITY tekst die ook in het artikel staat.</p>
<p>De daling volgde op het nieuws dat de Chinese AI-start-up DeepSeek met beperkte middelen een
concurrerend model had ontwikkeld.</p>
<script>document.write("GEHEIMSCRIPT2")</script>
<noscript>GEHEIMNOSCRIPT zet javascript aan</noscript>
<p>Apple en Meta zagen hun waarde juist stijgen, omdat hun investeringen in AI bescheidener
waren dan die van de concurrenten.</p>
</article><footer>Cookie-instellingen</footer></body></html>
"""


@pytest.mark.parametrize("suffix", [".html", ".htm"])
def test_html_text_and_metadata(tmp_path, suffix):
    (tmp_path / f"page{suffix}").write_text(HTML, encoding="utf-8")
    article = read_article(tmp_path / f"page{suffix}", 10_000)
    assert article.meta == ArticleMeta(
        id="page", title="Chips en AI", author="Jan Janssens", source="De Tijd", date="2025-01-28"
    )
    assert "GEHEIM" not in article.text  # no script, style, noscript or hidden text
    assert article.text.split("\n\n") == [
        "Chips en AI",
        "Nvidia verloor maandag 589 miljard dollar aan beurswaarde, een record in de "
        "Amerikaanse beursgeschiedenis.",
        "De daling volgde op het nieuws dat de Chinese AI-start-up DeepSeek met beperkte "
        "middelen een concurrerend model had ontwikkeld.",
        "Apple en Meta zagen hun waarde juist stijgen, omdat hun investeringen in AI "
        "bescheidener waren dan die van de concurrenten.",
    ]


# --- content hash ------------------------------------------------------------------------


def test_content_hash_covers_metadata_and_text():
    meta = ArticleMeta(id="a", title="Kop")
    digest = content_hash(meta, "Tekst.")
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert digest == content_hash(ArticleMeta(id="a", title="Kop"), "Tekst.")
    assert digest != content_hash(meta, "Tekst!")
    assert digest != content_hash(ArticleMeta(id="a", title="Kop", date="2025"), "Tekst.")


def test_loading_twice_gives_identical_articles(tmp_path):
    copy_seed(tmp_path, NVIDIA, sidecar=True)
    assert load_corpus(tmp_path) == load_corpus(tmp_path)


def test_docstring_examples():
    assert doctest.testmod(rag.corpus).failed == 0

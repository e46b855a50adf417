"""Newsroom briefings: extraction of figures, quotes and dates; the notes cache; merging
several articles; disagreements; the English path; inert Markdown; and the real models on
the two real articles."""

from __future__ import annotations

import re

import pytest

from rag.briefing import Briefer, content_key, extract_notes, make_briefer
from rag.errors import QuestionError
from rag.types import ArticleMeta, Chunk
from rag.citations import Evidence, key_terms
from rag.verifier import SignalVerifier, Verdict, Verifier
from tests.fakes import FakeEmbedder, ScriptedGenerator

BEURS = (
    "Nvidia heeft maandag een nooit gezien verlies geleden. Het aandeel verloor 589 miljard dollar "
    "(561,7 miljard euro) aan waarde. Het aandeel van Nvidia verloor net geen 17 procent op 27 januari 2025. "
    "Ook Oracle-oprichter Larry Ellison en Dell-oprichter Michael Dell zagen respectievelijk 22,6 miljard "
    "en 13 miljard dollar in rook opgaan. Topman Sam Altman van OpenAI prees het model. "
    "“DeepSeek’s R1 is een indrukwekkend model, zeker voor die prijs”, stelde hij op sociale media. "
    "Het model van DeepSeek werd ontwikkeld zonder de voorraad Nvidia H100-chips. De grootste daling sinds maart 2020."
)
VISIE = (
    "Het aandeel van Nvidia verloor net geen 17 procent op 27 januari 2025. "
    "Het model van DeepSeek werd toch ontwikkeld met de voorraad Nvidia H100-chips. "
    "Stijn Viaene is professor aan Vlerick Business School. "
    "Viaene is kritisch. “We zien nooit de volledige datasets die DeepSeek heeft gebruikt.” "
    "Dinsdag reageerde de Australische minister."
)
MARKT = "Het Stargate-project van 500 miljard dollar kwam van de Amerikaanse techreuzen. Apple steeg met 3 procent."


def chunks_of(article_id: str, text: str, size: int = 2) -> list[Chunk]:
    """The text in chunks of `size` sentences (by ". "), with exact offsets."""
    sentences = re.findall(r".+?(?:\. |$)", text)
    chunks, start = [], 0
    for i in range(0, len(sentences), size):
        piece = "".join(sentences[i : i + size]).rstrip()
        begin = text.index(piece, start)
        chunks.append(Chunk(f"{article_id}:{i}", article_id, piece, begin, begin + len(piece)))
        start = begin + 1
    return chunks


class NumbersVerifier(Verifier):
    """Supported when every number of the claim is in the passages (a stand-in for the
    cross-lingual check the fake embedder cannot do)."""

    def verify(self, claim, passages):
        found = Evidence.of(passages).numbers
        missing = [n for n in key_terms(claim).numbers if n not in found]
        return Verdict("not_enough_info", 1.0, f"{missing}") if missing or not key_terms(claim).numbers else Verdict("supported", 1.0)


def briefer_over(texts: dict[str, str], tmp_path, generator=None, embedder=None, verifier=None) -> Briefer:
    embedder = embedder or FakeEmbedder(dim=256)
    chunks = [c for article_id, text in texts.items() for c in chunks_of(article_id, text)]
    articles = {a: ArticleMeta(a, f"Titel {a}", "Auteur", "Bron", "2025-01-28") for a in texts}
    verifier = verifier or SignalVerifier(embedder, min_similarity=0.5, on_topic_similarity=0.45)
    # The fake embedder's cosines run lower than e5's.
    return Briefer(chunks, articles, embedder, verifier, tmp_path / "notes", generator=generator, min_pair_similarity=0.45)


def test_figures_carry_their_amount_unit_and_who():
    notes = extract_notes("beurs", chunks_of("beurs", BEURS), FakeEmbedder())
    rows = {(f.amount, f.unit, f.who) for f in notes.figures}
    assert ("589 miljard", "dollar", "Nvidia") in rows
    assert ("561,7 miljard", "euro", "Nvidia") in rows
    assert ("net geen 17", "procent", "Nvidia") in rows
    # "respectievelijk": the amounts go to the names in order
    assert ("22,6 miljard", "dollar", "Larry Ellison") in rows
    assert ("13 miljard", "dollar", "Michael Dell") in rows


def test_quotes_get_their_speaker_through_a_pronoun_or_the_sentence_before():
    beurs = extract_notes("beurs", chunks_of("beurs", BEURS), FakeEmbedder())
    assert [(q.speaker, q.text[:15]) for q in beurs.quotes] == [("Sam Altman", "DeepSeek’s R1 i")]
    visie = extract_notes("visie", chunks_of("visie", VISIE), FakeEmbedder())
    assert [q.speaker for q in visie.quotes] == ["Stijn Viaene"]  # "Viaene is kritisch." before it


def test_dates_are_resolved_against_the_articles_own_dates():
    notes = extract_notes("visie", chunks_of("visie", VISIE), FakeEmbedder())
    assert [(e.date, e.sentence[:8]) for e in notes.events] == [
        ("2025-01-27", "Het aand"),
        ("2025-01-28", "Dinsdag "),  # the Tuesday after Monday 27 January 2025
    ]
    beurs = extract_notes("beurs", chunks_of("beurs", BEURS), FakeEmbedder())
    assert "2020-03" in {e.date for e in beurs.events}


def test_notes_are_cached_by_content_and_redone_when_the_article_changes(tmp_path):
    embedder = FakeEmbedder()
    briefer = briefer_over({"beurs": BEURS}, tmp_path, embedder=embedder)
    briefer.notes(["beurs"])
    calls = len(embedder.calls)
    assert len(list((tmp_path / "notes").glob("*.json"))) == 1
    Briefer(briefer.chunks, briefer.articles, embedder, briefer.verifier, tmp_path / "notes").notes(["beurs"])
    assert len(embedder.calls) == calls  # read from the cache, nothing embedded

    changed = chunks_of("beurs", BEURS.replace("589", "590"))
    assert content_key(changed) != content_key(briefer.chunks)
    Briefer(changed, briefer.articles, embedder, briefer.verifier, tmp_path / "notes").notes(["beurs"])
    assert len(embedder.calls) > calls
    assert len(list((tmp_path / "notes").glob("*.json"))) == 2


def test_a_damaged_cache_file_is_rebuilt(tmp_path):
    briefer = briefer_over({"beurs": BEURS}, tmp_path)
    briefer.notes(["beurs"])
    (cached,) = (tmp_path / "notes").glob("*.json")
    cached.write_text("{not json")
    assert briefer.notes(["beurs"])[0].figures


def test_three_articles_merge_into_one_briefing_with_valid_citations(tmp_path):
    briefer = briefer_over({"beurs": BEURS, "visie": VISIE, "markt": MARKT}, tmp_path)
    steps = []
    briefing = briefer.brief(progress=lambda share, step: steps.append((share, step)))

    assert [s for _, s in steps][:3] == ["notes: Titel beurs", "notes: Titel markt", "notes: Titel visie"]
    assert steps[-1] == (1.0, "done")
    sources = {s.n: s for s in briefing.sources}
    assert sorted(sources) == list(range(1, len(sources) + 1))
    for figure in briefing.figures:
        number = re.findall(r"\d+(?:,\d+)?", figure.amount)[-1]
        assert number in sources[figure.citation].chunk.text, figure
    for quote in briefing.quotes:
        assert quote.text in sources[quote.citation].chunk.text
    assert {("500 miljard", "Stargate")} <= {(f.amount, f.who) for f in briefing.figures}
    assert {"beurs", "visie", "markt"} == {s.chunk.article_id for s in briefing.sources}
    # the same figure in two articles is listed once
    assert sum(f.amount == "net geen 17" for f in briefing.figures) == 1


def test_the_h100_contradiction_between_articles_is_found(tmp_path):
    briefing = briefer_over({"beurs": BEURS, "visie": VISIE}, tmp_path).brief()
    pairs = [(d.first.text, d.second.text) for d in briefing.disagreements]
    assert any("zonder de voorraad" in a + b and "met de voorraad" in a + b for a, b in pairs), pairs
    assert all("Stargate" not in a + b for a, b in pairs)


def test_articles_that_give_another_figure_for_the_same_thing_differ(tmp_path):
    other = "Het aandeel verloor 600 miljard dollar (561,7 miljard euro) aan waarde. Apple steeg met 3 procent."
    briefing = briefer_over({"beurs": BEURS, "ander": other}, tmp_path).brief()
    reasons = {d.reason for d in briefing.disagreements}
    assert any("600" in r and "589" in r for r in reasons), reasons
    # one article's different numbers for different things are not a disagreement
    assert not [d for d in briefing.disagreements if "Ellison" in d.first.text + d.second.text]


def test_unknown_articles_are_refused_with_the_known_ids(tmp_path):
    with pytest.raises(QuestionError, match="unknown article id nope; indexed: beurs"):
        briefer_over({"beurs": BEURS}, tmp_path).brief(["nope"])


def test_an_english_briefing_keeps_only_translations_the_verifier_confirms(tmp_path):
    def translate(messages):
        dutch = messages[-1].content
        if "589 miljard" in dutch:
            return "The share lost 589 billion dollars (561.7 billion euros) in value."
        return "Something else entirely happened in Paris."  # fails the check: stays Dutch

    briefer = briefer_over({"beurs": BEURS}, tmp_path, generator=ScriptedGenerator(translate), verifier=NumbersVerifier())
    briefing = briefer.brief(language="en")
    facts = {p.text: p for p in briefing.key_facts}
    assert "The share lost 589 billion dollars (561.7 billion euros) in value." in facts
    kept = [p for p in briefing.key_facts if p.flagged]
    assert kept and all("Paris" not in p.text for p in kept)
    assert all(p.reason == "translation not confirmed; Dutch kept" for p in kept)
    markdown = briefing.to_markdown()
    assert "## Key facts" in markdown and "⚠ not confirmed by the check" in markdown


def test_markdown_is_inert_and_lists_every_source(tmp_path):
    hostile = BEURS + " Zie <script>alert(1)</script> en ![x](https://evil.example/p.png) voor 3 procent."
    briefing = briefer_over({"beurs": hostile}, tmp_path).brief()
    markdown = briefing.to_markdown()
    assert "<script>" not in markdown and "](https://" not in markdown
    assert "\\<script\\>" in markdown
    for source in briefing.sources:
        assert f"[{source.n}] Titel beurs (Bron, Auteur, 2025-01-28), beurs, characters {source.chunk.start}–" in markdown


@pytest.mark.real
def test_a_briefing_of_the_two_real_articles(real_pipeline):
    briefing = make_briefer(real_pipeline).brief()
    sources = {s.n: s.chunk.text for s in briefing.sources}
    figures = {(f.amount, f.unit): f for f in briefing.figures}

    assert ("589 miljard", "dollar") in figures
    assert ("net geen 17", "procent") in figures
    assert ("500 miljard", "dollar") in figures and "Stargate" in figures[("500 miljard", "dollar")].measures
    assert not [f for f in briefing.figures if f.flagged]  # 0 unsupported figures
    for figure in briefing.figures:
        number = re.findall(r"\d+(?:,\d+)?", figure.amount)[-1]
        assert number in sources[figure.citation]

    speakers = {q.speaker: q for q in briefing.quotes}
    assert "indrukwekkend model" in speakers["Sam Altman"].text
    assert "volledige datasets" in speakers["Stijn Viaene"].text
    for quote in briefing.quotes:
        assert quote.text in sources[quote.citation] and not quote.flagged

    assert any("H100" in d.first.text and "H100" in d.second.text for d in briefing.disagreements)
    assert "2025-01-27" in {e.date for e in briefing.timeline}

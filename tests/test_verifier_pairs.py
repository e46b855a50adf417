"""The hand-labelled claim/passage pairs for the claim-support verifier (eval/verifier_pairs.jsonl).

Pure file checks: no models, no index. Every passage must be an exact substring of a raw article
file, and the set must be large and balanced enough to tune on ``dev`` and report on ``test``.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAIRS = ROOT / "eval" / "verifier_pairs.jsonl"
DOCS = ROOT / "docs"

FIELDS = {"id", "lang", "claim", "passages", "label", "kind", "split"}
LANGS = {"nl", "en"}
LABELS = {"supported", "contradicted", "not_enough_info"}
SPLITS = {"dev", "test"}
KINDS_BY_LABEL = {
    "supported": {"paraphrase", "translation"},
    "contradicted": {
        "wrong_number",
        "wrong_magnitude",
        "wrong_company",
        "reversed_direction",
        "wrong_date",
        "wrong_speaker",
        "negation",
        "wrong_relation",
    },
    "not_enough_info": {"invented_detail", "unrelated_passage", "not_covered"},
}
MAIN_CONTRADICTIONS = (
    "wrong_number",
    "wrong_company",
    "reversed_direction",
    "wrong_date",
    "wrong_speaker",
    "negation",
)
# Two sentences glued together: sentence end, space, then a capital letter or opening quote.
SECOND_SENTENCE = re.compile(r"[.!?]\s+[A-Z\u201c\"]")


def load_pairs(path: Path = PAIRS) -> list[dict]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def article_texts() -> dict[str, str]:
    # Raw bytes, decoded without newline translation: passages must match the files exactly.
    return {path.name: path.read_bytes().decode("utf-8") for path in sorted(DOCS.glob("*.txt"))}


@pytest.fixture(scope="module")
def pairs() -> list[dict]:
    return load_pairs()


def test_every_line_is_a_json_object() -> None:
    for number, line in enumerate(PAIRS.read_text(encoding="utf-8").splitlines(), 1):
        assert line.strip(), f"blank line {number}"
        assert isinstance(json.loads(line), dict), f"line {number} is not an object"


def test_fields_and_values(pairs: list[dict]) -> None:
    for pair in pairs:
        where = pair.get("id", pair)
        assert set(pair) == FIELDS, where
        assert re.fullmatch(r"p\d{3,}", pair["id"]), where
        assert pair["lang"] in LANGS, where
        assert pair["label"] in LABELS, where
        assert pair["split"] in SPLITS, where
        assert pair["kind"] in KINDS_BY_LABEL[pair["label"]], where
        if pair["kind"] == "translation":
            assert pair["lang"] == "en", where
        if pair["kind"] == "paraphrase":
            assert pair["lang"] == "nl", where
        passages = pair["passages"]
        assert isinstance(passages, list) and 1 <= len(passages) <= 2, where
        assert all(isinstance(p, str) for p in passages), where
        assert len(set(passages)) == len(passages), where


def test_ids_are_unique(pairs: list[dict]) -> None:
    ids = Counter(pair["id"] for pair in pairs)
    assert [i for i, n in ids.items() if n > 1] == []


def test_pairs_are_unique(pairs: list[dict]) -> None:
    keys = Counter((pair["lang"], pair["claim"], tuple(pair["passages"])) for pair in pairs)
    assert [k for k, n in keys.items() if n > 1] == []


def test_passages_are_exact_article_substrings(pairs: list[dict]) -> None:
    texts = article_texts()
    assert len(texts) >= 2
    for pair in pairs:
        for passage in pair["passages"]:
            assert 100 <= len(passage) <= 700, (pair["id"], len(passage))
            assert passage == passage.strip(), pair["id"]
            homes = [name for name, text in texts.items() if passage in text]
            assert homes, f"{pair['id']}: passage is not in any article: {passage[:60]!r}"


def test_claims_are_single_sentences(pairs: list[dict]) -> None:
    for pair in pairs:
        claim = pair["claim"]
        assert isinstance(claim, str) and claim.strip(), pair["id"]
        assert claim == claim.strip() and len(claim) < 400, pair["id"]
        assert "\n" not in claim, pair["id"]
        assert claim[-1] in ".!?", pair["id"]
        assert not SECOND_SENTENCE.search(claim), pair["id"]


def test_claims_are_not_copies_of_a_passage(pairs: list[dict]) -> None:
    for pair in pairs:
        assert all(pair["claim"] not in passage for passage in pair["passages"]), pair["id"]


def test_size_and_language_balance(pairs: list[dict]) -> None:
    assert len(pairs) >= 120
    per_lang = Counter(pair["lang"] for pair in pairs)
    for lang in LANGS:
        assert per_lang[lang] >= 60, per_lang


def test_label_mix_per_language(pairs: list[dict]) -> None:
    for lang in LANGS:
        labels = Counter(pair["label"] for pair in pairs if pair["lang"] == lang)
        total = sum(labels.values())
        assert set(labels) == LABELS, (lang, labels)
        # Roughly 40 / 35 / 25, with some slack.
        assert 0.33 <= labels["supported"] / total <= 0.47, (lang, labels)
        assert 0.28 <= labels["contradicted"] / total <= 0.42, (lang, labels)
        assert 0.18 <= labels["not_enough_info"] / total <= 0.32, (lang, labels)


def test_contradiction_kinds_per_language(pairs: list[dict]) -> None:
    for lang in LANGS:
        kinds = Counter(
            pair["kind"] for pair in pairs if pair["lang"] == lang and pair["label"] == "contradicted"
        )
        for kind in MAIN_CONTRADICTIONS:
            assert kinds[kind] >= 3, (lang, kind, kinds)
        assert kinds["wrong_magnitude"] >= 1, (lang, kinds)
        assert kinds["wrong_relation"] >= 1, (lang, kinds)


def test_splits_cover_every_language_and_label(pairs: list[dict]) -> None:
    cells = Counter((pair["lang"], pair["label"], pair["split"]) for pair in pairs)
    for lang in LANGS:
        for label in LABELS:
            dev, test = cells[(lang, label, "dev")], cells[(lang, label, "test")]
            assert dev and test, (lang, label, dev, test)
            assert abs(dev - test) <= 2, (lang, label, dev, test)


def test_both_articles_are_used(pairs: list[dict]) -> None:
    texts = article_texts()
    used = Counter(
        name for pair in pairs for passage in pair["passages"] for name, text in texts.items() if passage in text
    )
    assert set(used) == set(texts), used


@pytest.mark.parametrize("name", sorted(path.name for path in (ROOT / "eval").glob("verifier_holdout*.jsonl")))
def test_held_out_sets_are_balanced_and_cut_from_the_articles(name: str) -> None:
    rows = load_pairs(ROOT / "eval" / name)
    texts = article_texts().values()
    assert len({row["id"] for row in rows}) == len(rows) >= 80
    for row in rows:
        assert set(row) == FIELDS and row["lang"] in LANGS and row["label"] in LABELS, row["id"]
        for passage in row["passages"]:
            assert any(passage in text for text in texts), (row["id"], passage[:60])
    cells = Counter((row["lang"], row["label"]) for row in rows)
    for lang in LANGS:
        assert cells[(lang, "contradicted")] >= 10 and cells[(lang, "supported")] >= 10, cells
        assert cells[(lang, "not_enough_info")] >= 5, cells

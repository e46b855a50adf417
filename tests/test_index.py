"""The on-disk index: build, load, incremental updates, integrity checks, lock, search."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import sys
import types
from pathlib import Path

import numpy as np
import pytest

import rag.index as index_module
from rag.analysis import ANALYZER_ID, tokenize
from rag.config import Settings
from rag.errors import ArticleError, IndexCorruptError, IndexLockedError, IndexMismatchError
from rag.index import BuildReport, Index, ensure_index, index_lock
from rag.types import Article, ArticleMeta, Chunk, SkippedFile
from tests.fakes import FakeEmbedder

TEXTS = {
    "nvidia": (
        "Nvidia verloor maandag 589 miljard dollar aan beurswaarde. "
        "Dat is het grootste verlies ooit voor een bedrijf op één dag. "
        "De aandelen daalden 17 procent na het nieuws over DeepSeek."
    ),
    "deepseek": (
        "Het Chinese bedrijf DeepSeek bracht een goedkoop AI-model uit. "
        "Het model zou voor minder dan 6 miljoen dollar zijn getraind. "
        "Amerikaanse techbedrijven schrokken van de prestaties."
    ),
    "weer": (
        "Het weer blijft deze week wisselvallig. "
        "Er valt veel regen in het zuiden van het land. "
        "Het KNMI verwacht pas zondag droger weer."
    ),
}


def make_article(article_id: str, text: str, title: str | None = None) -> Article:
    title = title or article_id.capitalize()
    digest = hashlib.sha256(f"{title}\0{text}".encode()).hexdigest()
    return Article(
        meta=ArticleMeta(id=article_id, title=title, source="NOS", date="2025-01-28"),
        text=text,
        path=f"docs/{article_id}.txt",
        content_hash=digest,
    )


def sentence_chunks(articles: list[Article], size: int) -> list[Chunk]:
    """Stand-in chunker: whole sentences, packed up to `size` characters, exact offsets."""
    chunks = []
    for article in articles:
        spans = [m.span() for m in re.finditer(r"[^.!?]+[.!?]?", article.text) if m.group().strip()]
        group: list[tuple[int, int]] = []
        for span in spans + [None]:
            if group and (span is None or span[1] - group[0][0] > size):
                start, end = group[0][0], group[-1][1]
                while article.text[start].isspace():
                    start += 1
                text = article.text[start:end]
                chunk_id = hashlib.sha256(f"{article.id}:{start}:{text}".encode()).hexdigest()[:16]
                chunks.append(Chunk(chunk_id, article.id, text, start, end))
                group = []
            if span is not None:
                group.append(span)
    return chunks


def chunker_for(settings: Settings):
    return lambda articles: sentence_chunks(articles, settings.chunk_size)


def articles(*ids: str) -> list[Article]:
    return [make_article(i, TEXTS[i]) for i in ids]


def passage_texts_embedded(embedder: FakeEmbedder) -> int:
    return sum(n for kind, n in embedder.calls if kind == "passage")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(index_dir=tmp_path / "index", chunk_size=80, chunk_overlap=0)


def build(settings: Settings, embedder: FakeEmbedder, arts: list[Article], **kwargs):
    return ensure_index(settings, embedder, arts, chunker=chunker_for(settings), **kwargs)


def rewrite_manifest(index_dir: Path, **file_digests: str) -> None:
    path = index_dir / "manifest.json"
    data = json.loads(path.read_text())
    data["files"].update(file_digests)
    path.write_text(json.dumps(data))


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- build and load -----------------------------------------------------------------------


def test_first_build_writes_every_file_and_loads_back(settings):
    embedder = FakeEmbedder()
    arts = articles("nvidia", "deepseek", "weer")
    index, report = build(settings, embedder, arts, skipped=[SkippedFile("docs/x.pdf", "not text")])

    assert report.reason == "no index"
    assert report.added == ("nvidia", "deepseek", "weer")
    assert report.changed == report.removed == report.unchanged == ()
    assert report.skipped == (SkippedFile("docs/x.pdf", "not text"),)
    expected_chunks = sentence_chunks(arts, 80)
    assert report.chunks == len(index) == len(expected_chunks) > 3
    assert report.embedded == len(expected_chunks) and report.reused == 0
    assert report.summary().startswith("Index built: 3 added, 0 changed, 0 removed, 0 unchanged; ")

    d = settings.index_dir
    for name in ["vectors.faiss", "chunks.jsonl", "articles.json", "bm25/params.index.json",
                 "embeddings.npz", "manifest.json", ".lock"]:
        assert (d / name).is_file(), name
    assert not list(d.glob(".*.tmp-*"))

    manifest = json.loads((d / "manifest.json").read_text())
    assert manifest["format"] == 1
    assert manifest["embedder"] == {"id": "fake-bow-64", "dim": 64}
    assert manifest["chunker"] == {"chunk_size": 80, "chunk_overlap": 0}
    assert manifest["counts"] == {"articles": 3, "chunks": len(expected_chunks)}
    assert manifest["articles"] == {a.id: a.content_hash for a in arts}
    assert manifest["analyzer"] == ANALYZER_ID
    assert set(manifest["libraries"]) == {"faiss", "bm25s", "numpy"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", manifest["built_at"])
    assert "embeddings.npz" not in manifest["files"]  # a cache, not part of the index
    for name, digest in manifest["files"].items():
        assert sha(d / name) == digest

    lines = (d / "chunks.jsonl").read_text().splitlines()
    assert json.loads(lines[0]) == {
        "id": expected_chunks[0].id, "article_id": "nvidia", "text": expected_chunks[0].text,
        "start": expected_chunks[0].start, "end": expected_chunks[0].end,
    }
    assert json.loads((d / "articles.json").read_text())[0] == {
        "id": "nvidia", "title": "Nvidia", "author": None, "source": "NOS",
        "date": "2025-01-28", "path": "docs/nvidia.txt", "content_hash": arts[0].content_hash,
    }

    loaded = Index.load(d, FakeEmbedder())
    assert loaded.chunks == tuple(expected_chunks) == index.chunks
    assert loaded.articles == {a.id: a.meta for a in arts}
    query = embedder.embed_query("Nvidia beurswaarde")
    assert loaded.search_dense(query, 3) == index.search_dense(query, 3)


def test_second_run_is_up_to_date_and_embeds_nothing(settings):
    embedder = FakeEmbedder()
    arts = articles("nvidia", "deepseek")
    first, _ = build(settings, embedder, arts)
    calls = list(embedder.calls)

    index, report = build(settings, embedder, arts)

    assert report.reason == "up to date" and not report.rebuilt
    assert report.unchanged == ("nvidia", "deepseek")
    assert report.embedded == 0 and report.chunks == len(first)
    assert embedder.calls == calls
    assert index.chunks == first.chunks
    assert re.fullmatch(r"Index up to date: 2 articles, \d+ chunks; checked in \d+\.\d s", report.summary())


def test_index_loads_without_the_embedding_cache(settings):
    build(settings, FakeEmbedder(), articles("nvidia"))
    (settings.index_dir / "embeddings.npz").unlink()
    assert len(Index.load(settings.index_dir, FakeEmbedder())) > 0


def test_incremental_update_embeds_only_new_and_changed_chunks(settings):
    embedder = FakeEmbedder()
    old = articles("nvidia", "deepseek", "weer")
    build(settings, embedder, old)
    old_texts = {c.text for c in sentence_chunks(old, 80)}
    before = passage_texts_embedded(embedder)

    changed = make_article("deepseek", TEXTS["deepseek"].replace("6 miljoen", "5,6 miljoen"))
    added = make_article("voetbal", "Ajax won zondag met 3-1 van Feyenoord. Trainer Farioli was tevreden.")
    new = [make_article("nvidia", TEXTS["nvidia"]), changed, added]
    index, report = build(settings, embedder, new)

    new_chunks = sentence_chunks(new, 80)
    fresh = {c.text for c in new_chunks} - old_texts
    assert report.reason == "articles changed"
    assert (report.added, report.changed, report.removed, report.unchanged) == (
        ("voetbal",), ("deepseek",), ("weer",), ("nvidia",)
    )
    assert 0 < report.embedded == len(fresh) < len(new_chunks)
    assert passage_texts_embedded(embedder) - before == len(fresh)
    assert report.reused == len(new_chunks) - len(fresh)
    assert report.summary().startswith("Index updated: 1 added, 1 changed, 1 removed, 1 unchanged; ")
    assert [c.article_id for c in index.chunks].count("weer") == 0
    assert set(Index.load(settings.index_dir, FakeEmbedder()).articles) == {"nvidia", "deepseek", "voetbal"}


def test_summary_lines():
    report = BuildReport(
        reason="articles changed", added=("x",), changed=("y",), unchanged=("a", "b"),
        chunks=37, embedded=5, reused=32, seconds=1.23,
    )
    assert report.summary() == (
        "Index updated: 1 added, 1 changed, 0 removed, 2 unchanged; "
        "37 chunks (5 embedded, 32 reused) in 1.2 s"
    )
    rebuilt = BuildReport(
        reason="settings changed: chunk_size 400 -> 300", unchanged=("a",), chunks=3,
        reused=3, seconds=0.04, skipped=(SkippedFile("b.pdf", "not text"),),
    )
    assert rebuilt.summary() == (
        "Index rebuilt (settings changed: chunk_size 400 -> 300): 0 added, 0 changed, "
        "0 removed, 1 unchanged; 3 chunks (0 embedded, 3 reused) in 0.0 s; 1 file skipped"
    )
    fresh = BuildReport(reason="up to date", unchanged=("a", "b"), chunks=9, seconds=0.01)
    assert fresh.summary() == "Index up to date: 2 articles, 9 chunks; checked in 0.0 s"


def test_chunk_size_change_rebuilds_with_the_reason(settings):
    embedder = FakeEmbedder()
    arts = articles("nvidia", "weer")
    build(settings, embedder, arts)

    bigger = settings.replace(chunk_size=400)
    index, report = ensure_index(bigger, embedder, arts, chunker=chunker_for(bigger))

    assert report.reason == "settings changed: chunk_size 80 -> 400"
    assert report.unchanged == ("nvidia", "weer") and report.added == ()
    assert len(index) == 2  # one chunk per article now
    assert report.summary().startswith("Index rebuilt (settings changed: chunk_size 80 -> 400): ")
    assert Index.load(settings.index_dir, embedder).manifest.chunk_size == 400


def test_analyzer_change_rebuilds(settings, monkeypatch):
    build(settings, FakeEmbedder(), articles("nvidia"))
    monkeypatch.setattr(index_module, "ANALYZER_ID", "nl-other/2")
    _, report = build(settings, FakeEmbedder(), articles("nvidia"))
    assert report.reason == f"settings changed: analyzer {ANALYZER_ID!r} -> 'nl-other/2'"
    assert report.embedded == 0


def test_other_embedder_is_a_mismatch_and_triggers_a_full_rebuild(settings):
    build(settings, FakeEmbedder(), articles("nvidia"))

    with pytest.raises(
        IndexMismatchError,
        match=re.escape("index was built with embedder 'fake-bow-64' (dim 64), not 'other' (dim 64)"),
    ):
        Index.load(settings.index_dir, FakeEmbedder(id="other"))
    with pytest.raises(
        IndexMismatchError,
        match=re.escape("index was built with embedder 'fake-bow-64' (dim 64), not 'fake-bow-64' (dim 32)"),
    ):
        Index.load(settings.index_dir, FakeEmbedder(dim=32))

    other = FakeEmbedder(dim=32, id="other")
    index, report = build(settings, other, articles("nvidia"))
    assert report.reason == "settings changed: embedder 'fake-bow-64' -> 'other', dim 64 -> 32"
    assert report.embedded == len(index) and report.reused == 0  # the cache held the old embedder
    assert Index.load(settings.index_dir, other).dim == 32


def corrupt_truncate_vectors(d: Path) -> str:
    path = d / "vectors.faiss"
    path.write_bytes(path.read_bytes()[:100])
    return re.escape(f"{path} does not match its sha256 in manifest.json")


def corrupt_garbage_chunks(d: Path) -> str:
    (d / "chunks.jsonl").write_text("this is not json\n")
    return re.escape(f"{d / 'chunks.jsonl'} does not match its sha256 in manifest.json")


def corrupt_missing_articles(d: Path) -> str:
    (d / "articles.json").unlink()
    return re.escape(f"missing index file {d / 'articles.json'}")


def corrupt_missing_bm25_file(d: Path) -> str:
    (d / "bm25" / "vocab.index.json").unlink()
    return re.escape(f"missing index file {d / 'bm25' / 'vocab.index.json'}")


def corrupt_manifest_checksum(d: Path) -> str:
    rewrite_manifest(d, **{"chunks.jsonl": "0" * 64})
    return re.escape(f"{d / 'chunks.jsonl'} does not match its sha256 in manifest.json")


def corrupt_manifest_json(d: Path) -> str:
    (d / "manifest.json").write_text('{"format": 1, "embedder": ')
    return re.escape(f"{d / 'manifest.json'} is unreadable: ")


@pytest.mark.parametrize(
    "corrupt",
    [corrupt_truncate_vectors, corrupt_garbage_chunks, corrupt_missing_articles,
     corrupt_missing_bm25_file, corrupt_manifest_checksum, corrupt_manifest_json],
)
def test_damaged_index_fails_to_load_and_is_rebuilt_from_the_cache(settings, corrupt):
    embedder = FakeEmbedder()
    arts = articles("nvidia", "deepseek")
    original, _ = build(settings, embedder, arts)
    message = corrupt(settings.index_dir)

    with pytest.raises(IndexCorruptError, match=message):
        Index.load(settings.index_dir, embedder)

    index, report = build(settings, embedder, arts)
    assert report.reason.startswith("index corrupt: ")
    assert report.embedded == 0 and report.reused == len(original)
    assert Index.load(settings.index_dir, embedder).chunks == original.chunks == index.chunks


def test_corrupt_index_rebuild_logs_a_warning(settings, caplog):
    embedder = FakeEmbedder()
    build(settings, embedder, articles("nvidia"))
    corrupt_truncate_vectors(settings.index_dir)
    with caplog.at_level(logging.INFO, logger="rag.index"):
        build(settings, embedder, articles("nvidia"))
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        f"Rebuilding the index in {settings.index_dir}: index corrupt: "
        f"{settings.index_dir / 'vectors.faiss'} does not match its sha256 in manifest.json"
    ]
    assert any(r.getMessage().startswith("Index rebuilt (index corrupt: ") for r in caplog.records)


def test_truncated_faiss_file_with_matching_checksum_is_corrupt_not_a_crash(settings):
    build(settings, FakeEmbedder(), articles("nvidia"))
    path = settings.index_dir / "vectors.faiss"
    path.write_bytes(path.read_bytes()[:60])
    rewrite_manifest(settings.index_dir, **{"vectors.faiss": sha(path)})
    with pytest.raises(IndexCorruptError, match=re.escape(f"{path} is unreadable: ")):
        Index.load(settings.index_dir, FakeEmbedder())


def test_garbage_chunks_with_matching_checksum_is_corrupt(settings):
    build(settings, FakeEmbedder(), articles("nvidia"))
    path = settings.index_dir / "chunks.jsonl"
    path.write_text('{"id": "x"}\n')
    rewrite_manifest(settings.index_dir, **{"chunks.jsonl": sha(path)})
    with pytest.raises(IndexCorruptError, match=re.escape(f"{path} is unreadable: line 1: ")):
        Index.load(settings.index_dir, FakeEmbedder())


def test_counts_that_disagree_are_corrupt(settings):
    index, _ = build(settings, FakeEmbedder(), articles("nvidia"))
    path = settings.index_dir / "chunks.jsonl"
    path.write_text("".join(path.read_text().splitlines(keepends=True)[:-1]))
    rewrite_manifest(settings.index_dir, **{"chunks.jsonl": sha(path)})
    n = len(index)
    with pytest.raises(
        IndexCorruptError,
        match=re.escape(
            f"index in {settings.index_dir} is inconsistent: {n} vectors, {n - 1} chunks, "
            f"{n} BM25 documents, {n} chunks in the manifest"
        ),
    ):
        Index.load(settings.index_dir, FakeEmbedder())


def test_missing_or_foreign_manifest(settings):
    with pytest.raises(
        IndexCorruptError, match=re.escape(f"no index in {settings.index_dir}: manifest.json is missing")
    ):
        Index.load(settings.index_dir, FakeEmbedder())

    build(settings, FakeEmbedder(), articles("nvidia"))
    path = settings.index_dir / "manifest.json"
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "format": 99}))
    with pytest.raises(IndexMismatchError, match=r"^index format 99 is not supported \(expected 1\)$"):
        Index.load(settings.index_dir, FakeEmbedder())
    _, report = build(settings, FakeEmbedder(), articles("nvidia"))
    assert report.reason == "settings changed: index format 99 is not supported (expected 1)"


def test_build_that_dies_before_the_manifest_is_detected_and_repaired(settings, monkeypatch):
    embedder = FakeEmbedder()
    build(settings, embedder, articles("nvidia"))
    write = index_module._write_atomic

    def crash_on_manifest(path: Path, data: bytes) -> str:
        if path.name == "manifest.json":
            raise KeyboardInterrupt  # the process is killed here
        return write(path, data)

    monkeypatch.setattr(index_module, "_write_atomic", crash_on_manifest)
    with pytest.raises(KeyboardInterrupt):
        build(settings, embedder, articles("nvidia", "weer"))
    monkeypatch.undo()

    with pytest.raises(IndexCorruptError, match="does not match its sha256 in manifest.json"):
        Index.load(settings.index_dir, embedder)
    before = passage_texts_embedded(embedder)
    index, report = build(settings, embedder, articles("nvidia", "weer"))
    assert report.reason == "articles changed"  # the old manifest still lists only nvidia
    assert passage_texts_embedded(embedder) == before  # the dead build had cached its vectors
    assert report.embedded == 0 and report.reused == len(index)


def test_leftover_files_without_manifest_count_as_corrupt(settings):
    build(settings, FakeEmbedder(), articles("nvidia"))
    (settings.index_dir / "manifest.json").unlink()
    _, report = build(settings, FakeEmbedder(), articles("nvidia"))
    assert report.reason == f"index corrupt: missing index file {settings.index_dir / 'manifest.json'}"


def test_unreadable_embedding_cache_is_ignored_with_a_warning(settings, caplog):
    embedder = FakeEmbedder()
    arts = articles("nvidia")
    build(settings, embedder, arts)
    cache = settings.index_dir / "embeddings.npz"
    cache.write_bytes(cache.read_bytes()[:50])

    with caplog.at_level(logging.WARNING, logger="rag.index"):
        index, report = build(settings, embedder, arts, force=True)

    assert report.reason == "forced rebuild"
    assert report.embedded == len(index) and report.reused == 0
    assert any(
        r.getMessage().startswith(f"Embedding cache {cache} is unreadable (")
        and r.getMessage().endswith("): ignoring it, re-embedding")
        for r in caplog.records
    )
    # the rebuilt cache is whole again
    _, again = build(settings, embedder, arts, force=True)
    assert again.embedded == 0 and again.reused == len(index)


def test_a_second_builder_gets_index_locked_error(settings):
    with index_lock(settings.index_dir) as lock:
        with pytest.raises(
            IndexLockedError,
            match=re.escape(f"index is being built by another process (lock: {lock})"),
        ):
            build(settings, FakeEmbedder(), articles("nvidia"))
        with pytest.raises(IndexLockedError):
            with index_lock(settings.index_dir):
                pass
    _, report = build(settings, FakeEmbedder(), articles("nvidia"))  # released
    assert report.reason == "no index"


def test_up_to_date_index_loads_while_locked(settings):
    build(settings, FakeEmbedder(), articles("nvidia"))
    with index_lock(settings.index_dir):
        _, report = build(settings, FakeEmbedder(), articles("nvidia"))
    assert report.reason == "up to date"


def test_bad_article_sets_are_refused(settings):
    twice = [make_article("nvidia", "Een."), make_article("nvidia", "Twee.")]
    with pytest.raises(
        ArticleError,
        match=re.escape("two articles have the id 'nvidia': docs/nvidia.txt and docs/nvidia.txt"),
    ):
        build(settings, FakeEmbedder(), twice)
    with pytest.raises(ArticleError, match=r"^nothing to index: the articles produced no chunks$"):
        build(settings, FakeEmbedder(), [])


def test_default_chunker_is_rag_chunking_with_the_settings(settings, monkeypatch):
    seen = []

    def chunk_corpus(arts, size, overlap):
        seen.append((size, overlap))
        return sentence_chunks(arts, size)

    monkeypatch.setitem(sys.modules, "rag.chunking", types.SimpleNamespace(chunk_corpus=chunk_corpus))
    index, _ = ensure_index(settings, FakeEmbedder(), articles("nvidia"))
    assert seen == [(80, 0)] and len(index) > 0


# --- search -------------------------------------------------------------------------------


def test_dense_and_bm25_search(settings):
    embedder = FakeEmbedder()
    index, _ = build(settings, embedder, articles("nvidia", "deepseek", "weer"))

    dense = index.search_dense(embedder.embed_query("Nvidia verloor 589 miljard dollar beurswaarde"), 3)
    assert len(dense) == 3
    assert index.chunks[dense[0][0]].article_id == "nvidia"
    assert [s for _, s in dense] == sorted((s for _, s in dense), reverse=True)
    assert index.search_dense(embedder.embed_query("x"), 100)[-1][0] >= 0  # k > size is fine

    hits = index.search_bm25(tokenize("Hoeveel daalden de aandelen van Nvidia?"), 10)
    assert hits and all(score > 0 for _, score in hits)
    assert {index.chunks[i].article_id for i, _ in hits} == {"nvidia"}
    assert index.search_bm25(tokenize("aandeel"), 10)[0][0] == hits[0][0]  # stemmed both ways
    assert index.search_bm25([], 10) == []
    assert index.search_bm25(["onbekendwoord"], 10) == []

    position = dense[0][0]
    cosine = index.similarity(embedder.embed_query("Nvidia"), [position])[0]
    stored = embedder.embed_passages([index.chunks[position].text])[0]
    assert cosine == pytest.approx(float(stored @ embedder.embed_query("Nvidia")), abs=1e-5)
    with pytest.raises(ValueError, match="query vector has dimension 3, the index has 64"):
        index.search_dense(np.zeros(3, np.float32), 1)


def test_chunks_without_any_bm25_token_still_index(settings):
    arts = [make_article("leeg", "De het een. En of maar.")]
    index, _ = build(settings, FakeEmbedder(), arts)
    assert index.search_bm25(["leeg"], 5) == []
    assert len(Index.load(settings.index_dir, FakeEmbedder())) == len(index)

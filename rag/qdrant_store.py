"""Chunk vectors in a Qdrant collection (`vector_store = "qdrant"`).

`QdrantStore` is the `VectorStore` for collections that outgrow one machine. It talks to the
Qdrant server at `qdrant_url` (with `qdrant_api_key`), or, when the URL is empty, to Qdrant's
embedded local mode in `index_dir/qdrant`. One collection (`qdrant_collection`) holds one
index: point id = chunk position (0..n-1), no payload (chunks and metadata stay in the index
directory), distance DOT. The rows are L2-normalised, so DOT is cosine and the scores are the
inner products FAISS gives.

Building drops and recreates the collection, then upserts the rows in batches, waiting for
each. Opening checks that the collection exists, holds vectors of the index's dimension and
distance, and counts its points (`len`), so `rag.index` notices a collection that lost or
gained points. A search or lookup that meets a point that is not a chunk position, or misses
one, raises IndexCorruptError.

Errors: a server that cannot be reached or refuses the request is a ConfigError (the URL or
the API key is wrong, or the server is down), not corruption. The local mode lets one process
at a time open its folder (Qdrant locks it): another process gets IndexLockedError.
In one process, every store on the same folder shares one client.

This module does not start, configure or back up a Qdrant server, and adds no payload
indexes or filters. The local mode keeps every vector in memory and scans them all
(brute force, pure Python/numpy): it is for tests and single-process use; above ~20,000
chunks use a server. A server searches exactly below its indexing threshold and with HNSW
(Qdrant's defaults) beyond, like FAISS's "auto".
"""

from __future__ import annotations

import atexit
import shutil
import threading
import weakref
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any, ContextManager, Iterator, Sequence

import numpy as np

from rag.errors import ConfigError, IndexCorruptError, IndexLockedError
from rag.vectorstore import StoreInfo, VectorStore

if TYPE_CHECKING:
    from qdrant_client import QdrantClient

    from rag.config import Settings

LOCAL_DIR = "qdrant"  # the local mode's folder inside the index directory
UPSERT_BATCH = 256  # rows per upsert request (Qdrant suggests 64-256)
_INSTALL = "install qdrant-client to use RAG_VECTOR_STORE=qdrant: pip install -r requirements.txt"
_LOCKED = "already accessed by another instance"  # qdrant_client's message for a locked folder


def _qdrant() -> Any:
    """The qdrant_client package, or ConfigError when it is not installed."""
    try:
        import qdrant_client
    except ImportError:
        raise ConfigError(_INSTALL) from None
    return qdrant_client


class _Connection:
    """One client and where it points. Calls on a local-mode client are serialised (it is
    neither thread-safe nor shareable between clients on the same folder)."""

    def __init__(self, client: "QdrantClient", where: str, local: bool):
        self.client = client
        self.where = where  # for messages: the URL or the local folder
        self._lock = threading.Lock() if local else None

    def guard(self) -> ContextManager[None]:
        return self._lock if self._lock is not None else nullcontext()


# Local-mode connections by resolved folder: a second client on a folder would fail on
# Qdrant's lock, so stores in one process share one. Weak values: the client (and the
# folder's lock) goes when the last store using it does.
_local: "weakref.WeakValueDictionary[str, _Connection]" = weakref.WeakValueDictionary()
_local_guard = threading.Lock()


@atexit.register
def _close_local() -> None:
    """Close what is still open while Python can (a client collected at shutdown cannot)."""
    for connection in list(_local.values()):
        connection.client.close()


def _connect_local(folder: Path) -> _Connection:
    """The process's connection to the local-mode storage in `folder` (created if absent).
    Raises IndexLockedError when another process holds the folder, IndexCorruptError when
    its files cannot be read."""
    qdrant_client = _qdrant()
    key = str(folder.resolve())
    with _local_guard:
        connection = _local.get(key)
        if connection is not None and (folder / "meta.json").is_file():
            return connection
        # none yet, or its folder was deleted under it (a new client takes a new lock)
        try:
            client = qdrant_client.QdrantClient(
                path=key, force_disable_check_same_thread=True  # calls go through guard()
            )
        except RuntimeError as exc:
            if _LOCKED in str(exc):
                raise IndexLockedError(
                    f"the Qdrant local store {folder} is in use by another process (its local "
                    "mode lets one process open it); stop that process, or run a Qdrant server "
                    "and set RAG_QDRANT_URL"
                ) from None
            raise IndexCorruptError(f"the Qdrant local store {folder} is unreadable: {exc}") from exc
        except Exception as exc:  # json, pydantic, sqlite and OS errors alike
            raise IndexCorruptError(f"the Qdrant local store {folder} is unreadable: {exc}") from exc
        connection = _Connection(client, str(folder), local=True)
        _local[key] = connection
        return connection


def _connect_remote(url: str, api_key: str) -> _Connection:
    qdrant_client = _qdrant()
    try:
        client = qdrant_client.QdrantClient(
            url=url,
            api_key=api_key or None,
            check_compatibility=False,  # a background request whose failure only warns
        )
    except ValueError as exc:  # malformed URL
        raise ConfigError(f"RAG_QDRANT_URL={url!r} is not a Qdrant URL: {exc}") from None
    return _Connection(client, url, local=False)


def _connect(index_dir: Path, url: str, api_key: str) -> _Connection:
    return _connect_remote(url, api_key) if url else _connect_local(Path(index_dir) / LOCAL_DIR)


@contextmanager
def _calls(connection: _Connection) -> Iterator[None]:
    """Serialise local calls; turn a server that cannot be reached or refuses into
    ConfigError (configuration, not corruption)."""
    from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

    with connection.guard():
        try:
            yield
        except ResponseHandlingException as exc:
            reason = exc.source if getattr(exc, "source", None) is not None else exc
            raise ConfigError(
                f"cannot reach the Qdrant server at {connection.where} (RAG_QDRANT_URL): {reason}"
            ) from None
        except UnexpectedResponse as exc:
            hint = " (check RAG_QDRANT_API_KEY)" if exc.status_code in (401, 403) else ""
            detail = exc.content.decode("utf-8", errors="replace")[:200]
            raise ConfigError(
                f"the Qdrant server at {connection.where} answered {exc.status_code} "
                f"{exc.reason_phrase}{hint}: {detail}"
            ) from None


class QdrantStore(VectorStore):
    """Chunk vectors in the Qdrant collection `info.collection`; see the module docstring."""

    def __init__(self, connection: _Connection, info: StoreInfo, dim: int, count: int):
        self._connection = connection
        self._client = connection.client
        self.info = info
        self.dim = dim
        # Counted when opened (or built): `len` is asked on every search, a count is a request.
        self._count = count

    def __len__(self) -> int:
        return self._count

    @property
    def _name(self) -> str:
        return self.info.collection

    def _where(self) -> str:
        return f"Qdrant collection {self._name!r} at {self._connection.where}"

    @classmethod
    def build(cls, index_dir: Path, settings: "Settings", matrix: np.ndarray) -> "QdrantStore":
        """(Re)create `settings.qdrant_collection` and store the rows of `matrix` (float32,
        L2-normalised) under their positions."""
        models = _qdrant().models
        matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        n, dim = matrix.shape
        index_dir = Path(index_dir)
        try:
            connection = _connect(index_dir, settings.qdrant_url, settings.qdrant_api_key)
        except IndexCorruptError:  # unreadable local files: they are ours to replace
            shutil.rmtree(index_dir / LOCAL_DIR, ignore_errors=True)
            connection = _connect(index_dir, settings.qdrant_url, settings.qdrant_api_key)
        name = settings.qdrant_collection
        with _calls(connection):
            client = connection.client
            if client.collection_exists(name):
                client.delete_collection(name)
            client.create_collection(
                name, vectors_config=models.VectorParams(size=dim, distance=models.Distance.DOT)
            )
            for start in range(0, n, UPSERT_BATCH):
                rows = matrix[start:start + UPSERT_BATCH]
                client.upsert(
                    name,
                    points=models.Batch(
                        ids=list(range(start, start + len(rows))), vectors=rows.tolist()
                    ),
                    wait=True,  # applied before the manifest says the index is complete
                )
        info = StoreInfo(
            store="qdrant", index="qdrant", location=settings.qdrant_url, collection=name
        )
        return cls(connection, info, dim, n)

    @classmethod
    def open(cls, index_dir: Path, info: StoreInfo, dim: int,
             settings: "Settings | None" = None) -> "QdrantStore":
        """Connect to the collection the manifest names. Raises IndexCorruptError when it is
        missing or holds other vectors, ConfigError when the server cannot be reached,
        IndexLockedError when another process holds the local folder."""
        if not info.collection:
            raise IndexCorruptError(f"the manifest in {index_dir} names no Qdrant collection")
        api_key = settings.qdrant_api_key if settings is not None else ""
        folder = Path(index_dir) / LOCAL_DIR
        if not info.location and not folder.is_dir():
            raise IndexCorruptError(f"the Qdrant local store {folder} is missing")
        connection = _connect(Path(index_dir), info.location, api_key)
        models = _qdrant().models
        where = f"Qdrant collection {info.collection!r} at {connection.where}"
        with _calls(connection):
            client = connection.client
            if not client.collection_exists(info.collection):
                raise IndexCorruptError(f"{where} does not exist")
            params = client.get_collection(info.collection).config.params.vectors
            if not isinstance(params, models.VectorParams):
                raise IndexCorruptError(f"{where} has named vectors, not one unnamed vector")
            if params.size != dim or params.distance != models.Distance.DOT:
                raise IndexCorruptError(
                    f"{where} holds {params.size}-dimensional {params.distance.value} vectors, "
                    f"the index needs {dim}-dimensional Dot vectors"
                )
            count = client.count(info.collection, exact=True).count
        return cls(connection, info, dim, count)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        models = _qdrant().models
        queries = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self.dim)
        scores = np.full((len(queries), max(k, 0)), -np.inf, dtype=np.float32)
        ids = np.full((len(queries), max(k, 0)), -1, dtype=np.int64)
        if k < 1 or len(queries) == 0:
            return scores, ids
        requests = [
            models.QueryRequest(query=row.tolist(), limit=k, with_payload=False, with_vector=False)
            for row in queries
        ]
        with _calls(self._connection):
            responses = self._client.query_batch_points(self._name, requests=requests)
        for row, response in enumerate(responses):
            for col, point in enumerate(response.points[:k]):
                ids[row, col] = self._position(point.id)
                scores[row, col] = point.score
        return scores, ids

    def vectors(self, positions: Sequence[int]) -> np.ndarray:
        wanted = [int(p) for p in positions]
        if not wanted:
            return np.zeros((0, self.dim), dtype=np.float32)
        with _calls(self._connection):
            records = self._client.retrieve(
                self._name, ids=sorted(set(wanted)), with_payload=False, with_vectors=True
            )
        found = {self._position(r.id): r.vector for r in records}
        missing = [p for p in wanted if p not in found]
        if missing:
            raise IndexCorruptError(
                f"{self._where()} lacks the vectors of chunk positions {missing[:5]}: "
                "it changed since the index was built; rebuild it (python -m rag build)"
            )
        rows = np.asarray([found[p] for p in wanted], dtype=np.float32)
        if rows.shape != (len(wanted), self.dim):
            raise IndexCorruptError(f"{self._where()} returned vectors of shape {rows.shape}")
        return rows

    def _position(self, point_id: object) -> int:
        """A point id as a chunk position; IndexCorruptError for a point the build did not
        write (a UUID, or an id beyond the chunks)."""
        if isinstance(point_id, int) and 0 <= point_id < self._count:
            return point_id
        raise IndexCorruptError(
            f"{self._where()} holds point {point_id!r}, which is not a chunk position "
            f"(0..{self._count - 1}): it changed since the index was built; rebuild it "
            "(python -m rag build)"
        )

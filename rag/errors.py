"""The project's exceptions. They carry exact messages; the CLI and UI turn them into
user-facing text at the edge and never show a stack trace."""


class RagError(Exception):
    """Base class of every error this project raises on purpose."""


class ConfigError(RagError):
    """A setting or environment variable is invalid."""


class ArticleError(RagError):
    """An article file cannot be read or is not an article."""


class IndexCorruptError(RagError):
    """An index file is missing, truncated or does not match the manifest."""


class IndexMismatchError(RagError):
    """The index was built with other settings (embedder, dimension, chunker)."""


class IndexLockedError(RagError):
    """Another process is building the index."""


class ModelError(RagError):
    """A model cannot be found, verified or loaded."""


class DigestMismatchError(ModelError):
    """A model file's sha256 differs from the expected digest."""


class GenerationError(RagError):
    """The generator failed while answering (endpoint down, timeout, ...)."""


class QuestionError(RagError):
    """The question is empty, too long or otherwise unusable."""

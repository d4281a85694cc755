"""One exception family for everything a user should read.

Each error carries a message written for people and, where there is one, the next thing to try
(``hint``). The CLI prints ``Error: <message>`` plus the hint and exits non-zero; ``--debug``
shows the traceback instead.
"""

from __future__ import annotations

from openbook.agents.kit.errors import OpenbookError

__all__ = [
    "OpenbookError",
    "ConfigError",
    "DatabaseError",
    "EmbeddingMismatchError",
    "EmbeddingError",
    "IngestError",
    "NotFoundError",
]


class ConfigError(OpenbookError):
    """Settings that cannot be used: bad TOML, bad values."""


class DatabaseError(OpenbookError):
    """The database cannot be reached, started, or is missing something (pgvector)."""


class EmbeddingMismatchError(DatabaseError):
    """The store was built with another embedding model or dimension."""


class EmbeddingError(OpenbookError):
    """The embedding model could not be loaded or failed."""


class IngestError(OpenbookError):
    """Ingestion cannot start (no such path, nothing to ingest)."""


class NotFoundError(OpenbookError):
    """A named thing (document, trace, session) does not exist."""

"""Advisory locks that keep concurrent ingests from doing the same work twice.

An ingest holds a *shared* lock on its library while it runs (so a chat can tell that one is
running: ``ingests_running``), and an exclusive lock on each document source from the moment it
decides to (re)parse it until that document is written. A second ingest that finds a source
locked leaves it for last, then waits for the lock and re-reads the stored fingerprint: the file
is usually already there, unchanged, and is reported so — never embedded twice.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from typing import Any

import psycopg

from . import run


def key(schema: str, name: str) -> int:
    """A signed 64-bit advisory-lock key for ``name`` in ``schema``."""
    raw = int.from_bytes(hashlib.sha256(f"openbook\x00{schema}\x00{name}".encode()).digest()[:8], "big")
    return raw - (1 << 64) if raw >= 1 << 63 else raw


def _split(k: int) -> dict[str, int]:
    unsigned = k & ((1 << 64) - 1)
    return {"hi": unsigned >> 32, "lo": unsigned & 0xFFFFFFFF}


RUNNING = "ingest-running"


class IngestLocks:
    """Session-level locks on one connection, all released when the ingest ends."""

    def __init__(self, conn: psycopg.Connection[Any], schema: str) -> None:
        self.conn, self.schema = conn, schema
        self.held: set[str] = set()

    def _key(self, source: str) -> dict[str, int]:
        return {"key": key(self.schema, f"source\x00{source}")}

    def try_source(self, source: str) -> bool:
        got = bool(run(self.conn, "try_lock", self._key(source))[0]["got"])
        if got:
            self.held.add(source)
        return got

    def wait_source(self, source: str) -> None:
        run(self.conn, "lock", self._key(source))
        self.held.add(source)

    def release(self, source: str) -> None:
        if source in self.held:
            run(self.conn, "unlock", self._key(source))
            self.held.discard(source)


@contextlib.contextmanager
def ingest_locks(conn: psycopg.Connection[Any], schema: str) -> Iterator[IngestLocks]:
    """Mark an ingest as running in ``schema`` for the duration; release everything at the end."""
    run(conn, "lock_shared", {"key": key(schema, RUNNING)})
    try:
        yield IngestLocks(conn, schema)
    finally:
        run(conn, "unlock_all")


def ingests_running(conn: psycopg.Connection[Any], schema: str) -> int:
    """How many other sessions are ingesting into ``schema`` now."""
    return int(run(conn, "lock_holders", _split(key(schema, RUNNING)))[0]["holders"])

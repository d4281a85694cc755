"""The library as the application sees it: documents and chunks, over ``db.documents`` and
``db.chunks`` (which own the SQL)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from openbook.agents.kit.evidence import Hit
from openbook.db import chunks as chunk_rows
from openbook.db import documents as doc_rows
from openbook.db import locks, meta

from .errors import NotFoundError
from .ingest.parse import ParsedFile
from .store import Store


@dataclass(frozen=True)
class Fingerprint:
    content_hash: str
    signature: str


def fingerprints(store: Store) -> dict[str, Fingerprint]:
    return {
        r["source"]: Fingerprint(r["content_hash"], r["ingest_signature"])
        for r in doc_rows.fingerprints(store)
    }


def fingerprint_of(store: Store, source: str) -> Fingerprint | None:
    row = doc_rows.by_source(store, source)
    return Fingerprint(row["content_hash"], row["ingest_signature"]) if row else None


@contextlib.contextmanager
def ingest_locks(store: Store) -> Iterator[locks.IngestLocks]:
    """Locks for one ingest on a connection of its own (see ``db.locks``)."""
    with store.connection() as conn, locks.ingest_locks(conn, store.schema) as held:
        yield held


def ingests_running(store: Store) -> int:
    """How many ingests (other than this process's) are writing to this library now."""
    with store.connection() as conn:
        return locks.ingests_running(conn, store.schema)


BUSY = "An ingest is running in another openbook process: answers may be slow until it finishes."


def busy_notice(store: Store) -> str | None:
    """What to tell a user about to ask while the library is being written to, if anything."""
    return BUSY if ingests_running(store) else None


def embedding_text(title: str, chunk_text: str, metadata: dict[str, Any]) -> str:
    """What gets embedded for a chunk: its document title and section give it context."""
    head = title if not metadata.get("section") else f"{title} — {metadata['section']}"
    return f"{head}\n\n{chunk_text}"


def write_document(store: Store, parsed: ParsedFile, source: str, signature: str, vectors: np.ndarray) -> int:
    """Insert or replace one document and all its chunks in a single transaction."""
    doc = {
        "source": source,
        "title": parsed.title,
        "kind": parsed.kind,
        "content_hash": parsed.content_hash,
        "size_bytes": parsed.size_bytes,
        "mtime": parsed.mtime,
        "ingest_signature": signature,
        "metadata": parsed.metadata,
    }
    return doc_rows.write(store, doc, [(c.text, c.metadata) for c in parsed.chunks], vectors)


def delete_documents(store: Store, ids: list[int]) -> list[str]:
    """Delete documents (and their chunks) in one transaction; returns their sources."""
    return doc_rows.delete(store, ids)


def sources_under(store: Store, root: str) -> list[dict[str, Any]]:
    prefix = root.rstrip("/").replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return doc_rows.under(store, root, prefix + "/%")


def list_documents(store: Store) -> list[dict[str, Any]]:
    return doc_rows.list_all(store)


def find_document(store: Store, ref: str) -> dict[str, Any]:
    """A document by id or by source path (absolute or relative to the working directory)."""
    row = doc_rows.by_id(store, int(ref)) if ref.isdigit() else None
    if row is None:
        row = doc_rows.by_source(store, os.path.abspath(ref))
    if row is None:
        raise NotFoundError(
            f"No document {ref!r} in the library", hint="see `openbook docs list` for ids and paths"
        )
    return row


def chunks_of(store: Store, doc_id: int) -> list[dict[str, Any]]:
    return doc_rows.chunks_of(store, doc_id)


def has_chunks(store: Store) -> bool:
    """Cheap check for the hot path (every turn): is there anything to search?"""
    return doc_rows.has_chunks(store)


def stats(store: Store) -> dict[str, Any]:
    row = doc_rows.stats(store, store.schema)
    return {
        "documents": int(row["documents"]),
        "chunks": int(row["chunks"]),
        "source_bytes": int(row["source_bytes"]),
        "database_bytes": int(row["database_bytes"]),
        "corpus_generation": int(meta.get(store, "corpus_generation") or 0),
    }


def nearest(store: Store, vector: np.ndarray, k: int) -> list[dict[str, Any]]:
    """The k chunks closest to ``vector`` (cosine distance, HNSW)."""
    return chunk_rows.nearest(store, vector, k)


def document_hits(store: Store, name: str, limit: int) -> list[Hit]:
    """The first ``limit`` chunks of the document named by path, title or file name."""
    doc = doc_rows.by_name(store, name)
    if doc is None:
        return []
    return [
        Hit(
            chunk_id=int(c["id"]),
            document_id=int(doc["id"]),
            source=doc["source"],
            title=doc["title"],
            ordinal=int(c["ordinal"]),
            text=c["text"],
            metadata=c["metadata"] or {},
            rank=i,
            fused_score=0.0,
        )
        for i, c in enumerate(doc_rows.chunks_of(store, int(doc["id"]))[:limit], 1)
    ]

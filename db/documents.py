"""Documents and their chunks as written by ingestion: the only place that writes them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
from psycopg.types.json import Jsonb

from . import Transactional, execute, query, run


def fingerprints(store: Transactional) -> list[dict[str, Any]]:
    return execute(store, "document_fingerprints")


def write(
    store: Transactional, doc: dict[str, Any], chunks: list[tuple[str, dict[str, Any]]], vectors: np.ndarray
) -> int:
    """Insert or replace one document and all its chunks in a single transaction.

    ``doc``: source, title, kind, content_hash, size_bytes, mtime (epoch s), ingest_signature,
    metadata; ``chunks``: (text, metadata) in order, one vector each."""
    assert len(vectors) == len(chunks)
    params = {
        **doc,
        "mtime": dt.datetime.fromtimestamp(doc["mtime"], tz=dt.UTC),
        "chunk_count": len(chunks),
        "metadata": Jsonb(doc["metadata"]),
    }
    with store.transaction() as conn:
        (row,) = run(conn, "upsert_document", params)
        doc_id = int(row["id"])
        run(conn, "delete_chunks_of_document", {"document_id": doc_id})
        with conn.cursor() as cur, cur.copy(query("copy_chunks")) as copy:
            copy.set_types(["int8", "int4", "text", "jsonb", "vector"])
            for ordinal, ((text, meta), vector) in enumerate(zip(chunks, vectors, strict=True)):
                copy.write_row([doc_id, ordinal, text.replace("\x00", ""), Jsonb(meta), vector])
        run(conn, "bump_generation")
    return doc_id


def touch(store: Transactional, params: dict[str, Any]) -> None:
    execute(store, "touch_document", params)


def delete(store: Transactional, ids: list[int]) -> list[str]:
    """Delete documents (and their chunks) in one transaction; returns their sources."""
    removed: list[str] = []
    with store.transaction() as conn:
        for doc_id in ids:
            removed.extend(r["source"] for r in run(conn, "delete_document", {"id": doc_id}))
        if removed:
            run(conn, "bump_generation")
    return removed


def under(store: Transactional, root: str, prefix_pattern: str) -> list[dict[str, Any]]:
    return execute(store, "sources_under", {"root": root, "prefix": prefix_pattern})


def list_all(store: Transactional) -> list[dict[str, Any]]:
    return execute(store, "list_documents")


def by_id(store: Transactional, doc_id: int) -> dict[str, Any] | None:
    rows = execute(store, "get_document_by_id", {"id": doc_id})
    return rows[0] if rows else None


def by_source(store: Transactional, source: str) -> dict[str, Any] | None:
    rows = execute(store, "get_document_by_source", {"source": source})
    return rows[0] if rows else None


def by_name(store: Transactional, name: str) -> dict[str, Any] | None:
    """By exact path, title (any case) or trailing path (a file name)."""
    suffix = "%/" + name.strip().lstrip("/").replace("%", "\\%").replace("_", "\\_")
    rows = execute(store, "find_document_by_name", {"name": name.strip(), "suffix": suffix})
    return rows[0] if rows else None


def chunks_of(store: Transactional, doc_id: int) -> list[dict[str, Any]]:
    return execute(store, "chunks_of_document", {"document_id": doc_id})


def filter_ids(store: Transactional, ids: list[int], prefixes: list[str]) -> list[int]:
    return [int(r["id"]) for r in execute(store, "filter_document_ids", {"ids": ids, "prefixes": prefixes})]


def has_chunks(store: Transactional) -> bool:
    return bool(execute(store, "has_chunks")[0]["present"])


def stats(store: Transactional, schema: str) -> dict[str, Any]:
    row = execute(store, "library_stats")[0]
    size = execute(store, "schema_size", {"schema": schema})[0]["bytes"]
    return {**row, "database_bytes": int(size)}

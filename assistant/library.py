"""Documents and chunks in the store: the only place that writes them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
from psycopg.types.json import Jsonb

from openbook.agents.kit.evidence import Hit
from openbook.db import query

from .errors import NotFoundError
from .ingest.parse import ParsedFile
from .store import Store, run


@dataclass(frozen=True)
class Fingerprint:
    content_hash: str
    signature: str


def fingerprints(store: Store) -> dict[str, Fingerprint]:
    rows = store.execute("document_fingerprints")
    return {r["source"]: Fingerprint(r["content_hash"], r["ingest_signature"]) for r in rows}


def embedding_text(title: str, chunk_text: str, metadata: dict[str, Any]) -> str:
    """What gets embedded for a chunk: its document title and section give it context."""
    head = title if not metadata.get("section") else f"{title} — {metadata['section']}"
    return f"{head}\n\n{chunk_text}"


def write_document(store: Store, parsed: ParsedFile, source: str, signature: str, vectors: np.ndarray) -> int:
    """Insert or replace one document and all its chunks in a single transaction."""
    assert len(vectors) == len(parsed.chunks)
    with store.transaction() as conn:
        (row,) = run(
            conn,
            "upsert_document",
            {
                "source": source,
                "title": parsed.title,
                "kind": parsed.kind,
                "content_hash": parsed.content_hash,
                "size_bytes": parsed.size_bytes,
                "mtime": dt.datetime.fromtimestamp(parsed.mtime, tz=dt.UTC),
                "ingest_signature": signature,
                "chunk_count": len(parsed.chunks),
                "metadata": Jsonb(parsed.metadata),
            },
        )
        doc_id = int(row["id"])
        run(conn, "delete_chunks_of_document", {"document_id": doc_id})
        with conn.cursor() as cur, cur.copy(query("copy_chunks")) as copy:  # type: ignore[arg-type]
            copy.set_types(["int8", "int4", "text", "jsonb", "vector"])
            for ordinal, (chunk, vector) in enumerate(zip(parsed.chunks, vectors, strict=True)):
                copy.write_row(
                    [doc_id, ordinal, chunk.text.replace("\x00", ""), Jsonb(chunk.metadata), vector]
                )
        run(conn, "bump_generation")
    return doc_id


def delete_documents(store: Store, ids: list[int]) -> list[str]:
    """Delete documents (and their chunks) in one transaction; returns their sources."""
    removed: list[str] = []
    with store.transaction() as conn:
        for doc_id in ids:
            rows = run(conn, "delete_document", {"id": doc_id})
            removed.extend(r["source"] for r in rows)
        if removed:
            run(conn, "bump_generation")
    return removed


def sources_under(store: Store, root: str) -> list[dict[str, Any]]:
    prefix = root.rstrip("/").replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return store.execute("sources_under", {"root": root, "prefix": prefix + "/%"})


def list_documents(store: Store) -> list[dict[str, Any]]:
    return store.execute("list_documents")


def find_document(store: Store, ref: str) -> dict[str, Any]:
    """A document by id or by source path (absolute or relative to the working directory)."""
    import os

    rows: list[dict[str, Any]] = []
    if ref.isdigit():
        rows = store.execute("get_document_by_id", {"id": int(ref)})
    if not rows:
        rows = store.execute("get_document_by_source", {"source": os.path.abspath(ref)})
    if not rows:
        raise NotFoundError(
            f"No document {ref!r} in the library", hint="see `openbook docs list` for ids and paths"
        )
    return rows[0]


def chunks_of(store: Store, doc_id: int) -> list[dict[str, Any]]:
    return store.execute("chunks_of_document", {"document_id": doc_id})


def has_chunks(store: Store) -> bool:
    """Cheap check for the hot path (every turn): is there anything to search?"""
    return bool(store.execute("has_chunks")[0]["present"])


def stats(store: Store) -> dict[str, Any]:
    row = store.execute("library_stats")[0]
    size = store.execute("schema_size", {"schema": store.schema})[0]["bytes"]
    generation = store.execute("get_meta", {"key": "corpus_generation"})
    return {
        "documents": int(row["documents"]),
        "chunks": int(row["chunks"]),
        "source_bytes": int(row["source_bytes"]),
        "database_bytes": int(size),
        "corpus_generation": int(generation[0]["value"]) if generation else 0,
    }


def nearest(store: Store, vector: np.ndarray, k: int) -> list[dict[str, Any]]:
    """The k chunks closest to ``vector`` (cosine distance, HNSW)."""
    return store.execute("nearest_chunks", {"embedding": vector, "k": k})


def document_hits(store: Store, name: str, limit: int) -> list[Hit]:
    """The first ``limit`` chunks of the document named by path, title or file name."""
    suffix = "%/" + name.strip().lstrip("/").replace("%", "\\%").replace("_", "\\_")
    rows = store.execute("find_document_by_name", {"name": name.strip(), "suffix": suffix})
    if not rows:
        return []
    doc = rows[0]
    chunks = store.execute("chunks_of_document", {"document_id": doc["id"]})[:limit]
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
        for i, c in enumerate(chunks, 1)
    ]

"""Chunks: reading them for retrieval (BM25 corpus, vector search, by id) and re-embedding."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from . import Transactional, execute, query, run


def generation(store: Transactional) -> int:
    return int(execute(store, "corpus_snapshot")[0]["generation"])


def bm25_corpus(store: Transactional) -> tuple[int, list[dict[str, Any]]]:
    """The corpus generation and every chunk's text, read in one snapshot."""
    with store.transaction() as conn:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        gen = int(run(conn, "corpus_snapshot")[0]["generation"])
        return gen, run(conn, "bm25_corpus")


def ids_of_documents(store: Transactional, document_ids: list[int]) -> list[int]:
    return [int(r["id"]) for r in execute(store, "chunk_ids_of_documents", {"document_ids": document_ids})]


def by_ids(store: Transactional, ids: list[int]) -> dict[int, dict[str, Any]]:
    return {int(r["id"]): r for r in execute(store, "chunks_by_ids", {"ids": ids})}


def distances(store: Transactional, vectors: Iterable[np.ndarray], ids: list[int]) -> dict[int, float]:
    """Each chunk's smallest cosine distance to any of the vectors."""
    best: dict[int, float] = {}
    with store.transaction() as conn:
        for vector in vectors:
            for r in run(conn, "chunk_distances", {"embedding": vector, "ids": ids}):
                d = float(r["distance"])
                best[int(r["id"])] = min(d, best.get(int(r["id"]), d))
    return best


def all_for_tuning(store: Transactional) -> list[dict[str, Any]]:
    """Every chunk's id, document, ordinal and text (pseudo-queries for calibration)."""
    return execute(store, "chunks_for_tuning")


def count(store: Transactional) -> int:
    return int(execute(store, "chunk_count")[0]["n"])


def sources(store: Transactional) -> dict[int, str]:
    """Each chunk's document source."""
    return {int(r["id"]): r["source"] for r in execute(store, "chunk_sources")}


def vector_search(
    store: Transactional,
    vectors: Iterable[np.ndarray],
    depth: int,
    ef_search: int,
    document_ids: list[int] | None,
) -> list[list[tuple[int, float]]]:
    """Per vector, the ``depth`` nearest chunks as (id, cosine distance), nearest first."""
    out = []
    with store.transaction() as conn:
        conn.execute(f"SET LOCAL hnsw.ef_search = {int(max(ef_search, depth))}")
        if document_ids is not None:
            conn.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
        for vector in vectors:
            if document_ids is None:
                rows = run(conn, "vector_search", {"embedding": vector, "k": depth})
            else:
                rows = run(
                    conn,
                    "vector_search_filtered",
                    {"embedding": vector, "k": depth, "document_ids": document_ids},
                )
            out.append(sorted(((int(r["id"]), float(r["distance"])) for r in rows), key=lambda h: h[1]))
    return out


def nearest(store: Transactional, vector: np.ndarray, k: int) -> list[dict[str, Any]]:
    return execute(store, "nearest_chunks", {"embedding": vector, "k": k})


def texts_for_reembed(store: Transactional) -> list[dict[str, Any]]:
    return execute(store, "all_chunk_texts_for_reembed")


def swap_vectors(
    store: Transactional, ids: list[int], vectors: np.ndarray, dim: int, identity: dict[str, Any]
) -> None:
    """Replace every chunk's vector (and the column's dimension) in one transaction."""
    from . import meta

    with store.transaction() as conn:
        conn.execute(query("reembed_drop_index"))
        conn.execute(query("reembed_retype").replace("{dim}", str(dim)))
        conn.execute(query("reembed_temp").replace("{dim}", str(dim)))
        with conn.cursor() as cur, cur.copy(query("reembed_copy")) as copy:
            copy.set_types(["int8", "vector"])
            for chunk_id, vector in zip(ids, vectors, strict=True):
                copy.write_row([chunk_id, vector])
        conn.execute(query("reembed_apply"))
        conn.execute(query("reembed_not_null"))
        conn.execute(query("create_hnsw_index"))
        meta.put_in(conn, "embedding", identity)
        run(conn, "bump_generation")


def with_vectors(store: Transactional) -> list[dict[str, Any]]:
    """Every chunk with its stored vector (id, text, embedding, source, title)."""
    return execute(store, "chunks_with_vectors")

"""Re-embed the whole library with the configured embedder (model or dimension change).

Every new vector is computed first; then one transaction swaps them in (retyping the column and
rebuilding the HNSW index when the dimension changes). A failure or Ctrl-C at any point leaves
the library exactly as it was.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from openbook.db import query

from . import library
from .embeddings import Embedder
from .store import Store, _write_identity, run


def reembed(store: Store, embedder: Embedder, on_progress: Callable[[int, int], None] | None = None) -> int:
    rows = store.execute("all_chunk_texts_for_reembed")
    texts = [library.embedding_text(r["title"], r["text"], r["metadata"]) for r in rows]
    batch = 256
    parts: list[np.ndarray] = []
    for start in range(0, len(texts), batch):
        parts.append(embedder.embed_batch(texts[start : start + batch]))
        if on_progress:
            on_progress(min(start + batch, len(texts)), len(texts))
    dim = embedder.identity.dimension
    vectors = np.concatenate(parts) if parts else np.zeros((0, dim), dtype=np.float32)
    with store.transaction() as conn:
        conn.execute(query("reembed_drop_index"))  # type: ignore[arg-type]
        conn.execute(query("reembed_retype").replace("{dim}", str(dim)))  # type: ignore[arg-type]
        conn.execute(query("reembed_temp").replace("{dim}", str(dim)))  # type: ignore[arg-type]
        with conn.cursor() as cur, cur.copy(query("reembed_copy")) as copy:  # type: ignore[arg-type]
            copy.set_types(["int8", "vector"])
            for row, vector in zip(rows, vectors, strict=True):
                copy.write_row([row["id"], vector])
        conn.execute(query("reembed_apply"))  # type: ignore[arg-type]
        conn.execute(query("reembed_not_null"))  # type: ignore[arg-type]
        conn.execute(query("create_hnsw_index"))  # type: ignore[arg-type]
        _write_identity(conn, embedder.identity)
        run(conn, "bump_generation")
    return len(rows)

"""Re-embed the whole library with the configured embedder (model or dimension change).

Every new vector is computed first; then one transaction swaps them in (retyping the column and
rebuilding the HNSW index when the dimension changes). A failure or Ctrl-C at any point leaves
the library exactly as it was.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from openbook.db import chunks as chunk_rows

from . import library
from .embeddings import Embedder
from .store import Store


def reembed(store: Store, embedder: Embedder, on_progress: Callable[[int, int], None] | None = None) -> int:
    rows = chunk_rows.texts_for_reembed(store)
    texts = [library.embedding_text(r["title"], r["text"], r["metadata"]) for r in rows]
    batch = 256
    parts: list[np.ndarray] = []
    for start in range(0, len(texts), batch):
        parts.append(embedder.embed_batch(texts[start : start + batch]))
        if on_progress:
            on_progress(min(start + batch, len(texts)), len(texts))
    identity = embedder.identity
    vectors = np.concatenate(parts) if parts else np.zeros((0, identity.dimension), dtype=np.float32)
    chunk_rows.swap_vectors(
        store,
        [r["id"] for r in rows],
        vectors,
        identity.dimension,
        {"model": identity.model, "dimension": identity.dimension},
    )
    return len(rows)

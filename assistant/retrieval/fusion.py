"""Weighted reciprocal rank fusion.

Each ranked list (one per leg per query) adds ``weight / (k + rank)`` to every chunk it holds
(rank starts at 1). Unlike LlamaIndex's RRF, the per-leg weights really apply. A chunk found by
several lists is counted once per list and kept once (dedup by chunk id); it remembers its best
rank and score in each leg, and which queries found it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RankedList:
    leg: str  # "bm25" or "vector"
    query_index: int
    hits: list[tuple[int, float]]  # (chunk id, bm25 score or cosine distance), best first


@dataclass
class Fused:
    chunk_id: int
    score: float = 0.0
    bm25_rank: int | None = None
    bm25_score: float | None = None
    vector_rank: int | None = None
    vector_distance: float | None = None
    queries: set[int] = field(default_factory=set)


def rrf(lists: list[RankedList], weights: dict[str, float], k: int = 60) -> list[Fused]:
    fused: dict[int, Fused] = {}
    for ranked in lists:
        weight = weights.get(ranked.leg, 1.0)
        for rank, (chunk_id, value) in enumerate(ranked.hits, start=1):
            item = fused.setdefault(chunk_id, Fused(chunk_id))
            item.score += weight / (k + rank)
            item.queries.add(ranked.query_index)
            if ranked.leg == "bm25":
                if item.bm25_rank is None or rank < item.bm25_rank:
                    item.bm25_rank, item.bm25_score = rank, value
            elif item.vector_rank is None or rank < item.vector_rank:
                item.vector_rank, item.vector_distance = rank, value
    # Ties: the better best-rank in any leg first, then the lower chunk id (stable, repeatable).
    return sorted(
        fused.values(),
        key=lambda f: (-f.score, min(f.bm25_rank or 10**9, f.vector_rank or 10**9), f.chunk_id),
    )

"""Fusion of ranked lists (one per leg per query): weighted reciprocal rank fusion, and the
normalised-score convex combination of Bruch et al., "An Analysis of Fusion Functions for Hybrid
Retrieval" (TOIS 2023).

- ``rrf``: each list adds ``weight / (k + rank)`` to every chunk it holds (rank starts at 1).
  Unlike LlamaIndex's RRF, the per-leg weights really apply.
- ``convex``: each list's scores are normalised to [0, 1] (theoretical min-max: the list's best
  score is 1, the score's lowest possible value 0), and a chunk gets
  ``alpha * bm25 + (1 - alpha) * vector`` per query, summed over queries; a chunk a leg did not
  return gets that leg's minimum, 0. Scores keep how *much* better the top hits are, which ranks
  throw away.
- ``absolute``: the same convex mix of scores normalised without looking at the other hits — a
  BM25 score over the query's own score (what the query would score as a chunk of this corpus:
  every term matched; capped at 1), and the cosine similarity itself; a chunk missing from a
  vector list gets that list's lowest similarity (it is at most that close). Min-max scaling
  makes a leg's best hit 1 even when it is poor; here a leg that matched weakly *stays* weak, so
  each query leans on whichever leg is sure of itself — BM25 when the query's rare words are in a
  chunk, the vectors when they are not. With equal weights it is the safe default (docs/benchmarks.md:
  "Fusion").

A chunk found by several lists is counted once per list and kept once (dedup by chunk id); it
remembers its best rank and score in each leg, and which queries found it.

``Fusion`` is one choice of function and parameters (the settings' default, or a library's
calibrated one); ``anchored`` keeps the original question's own top hit from being demoted by the
lists of its rewrites, and ``keep_anchor`` from being demoted by the reranker; ``Choices`` is the
fusion in force for a library's searches, resolved once per turn.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal, NamedTuple, TypeVar

from pydantic import BaseModel, ConfigDict, Field

ORDER_K = 60  # ``reordered``'s RRF constant
T = TypeVar("T")


@dataclass
class RankedList:
    leg: str  # "bm25" or "vector"
    query_index: int
    hits: list[tuple[int, float]]  # (chunk id, bm25 score or cosine distance), best first
    weight: float = 1.0  # this list's say in fusion (the question's lists 1, rewrites' lists less)
    scale: float = 0.0  # BM25: the query's own score (``absolute``'s normaliser); 0 when unknown


@dataclass
class Fused:
    chunk_id: int
    score: float = 0.0
    bm25_rank: int | None = None
    bm25_score: float | None = None
    vector_rank: int | None = None
    vector_distance: float | None = None
    queries: set[int] = field(default_factory=set)


def _note(item: Fused, ranked: RankedList, rank: int, value: float) -> None:
    item.queries.add(ranked.query_index)
    if ranked.leg == "bm25":
        if item.bm25_rank is None or rank < item.bm25_rank:
            item.bm25_rank, item.bm25_score = rank, value
    elif item.vector_rank is None or rank < item.vector_rank:
        item.vector_rank, item.vector_distance = rank, value


def _ordered(fused: dict[int, Fused]) -> list[Fused]:
    # Ties: the better best-rank in any leg first, then the lower chunk id (stable, repeatable).
    return sorted(
        fused.values(),
        key=lambda f: (-f.score, min(f.bm25_rank or 10**9, f.vector_rank or 10**9), f.chunk_id),
    )


def rrf(lists: list[RankedList], weights: dict[str, float], k: int = 60) -> list[Fused]:
    fused: dict[int, Fused] = {}
    for ranked in lists:
        weight = weights.get(ranked.leg, 1.0) * ranked.weight
        for rank, (chunk_id, value) in enumerate(ranked.hits, start=1):
            item = fused.setdefault(chunk_id, Fused(chunk_id))
            item.score += weight / (k + rank)
            _note(item, ranked, rank, value)
    return _ordered(fused)


def normalised(ranked: RankedList) -> list[float]:
    """The list's scores in [0, 1], higher better, by theoretical min-max (Bruch et al.): the
    observed maximum maps to 1 and the score's theoretical minimum to 0 — 0 for BM25, and cosine
    similarity -1 (distance 2) for vectors. Unlike min-max over the list, a leg whose hits are all
    about as good stays about as good, instead of being stretched over [0, 1]."""
    if ranked.leg == "bm25":
        top = max((v for _c, v in ranked.hits), default=0.0)
        return [v / top if top > 0 else 0.0 for _c, v in ranked.hits]
    nearest = min((d for _c, d in ranked.hits), default=0.0)
    return [(2.0 - d) / (2.0 - nearest) if nearest < 2.0 else 0.0 for _c, d in ranked.hits]


def convex(lists: list[RankedList], alpha: float = 0.5) -> list[Fused]:
    """``alpha`` is the BM25 leg's share (0: vector alone, 1: BM25 alone)."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be within [0, 1], not {alpha}")
    fused: dict[int, Fused] = {}
    for ranked in lists:
        weight = (alpha if ranked.leg == "bm25" else 1.0 - alpha) * ranked.weight
        for rank, ((chunk_id, value), norm) in enumerate(
            zip(ranked.hits, normalised(ranked), strict=True), 1
        ):
            item = fused.setdefault(chunk_id, Fused(chunk_id))
            item.score += weight * norm
            _note(item, ranked, rank, value)
    return _ordered(fused)


def absolute(lists: list[RankedList], alpha: float = 0.5) -> list[Fused]:
    """``alpha`` is the BM25 leg's share (0: vector alone, 1: BM25 alone)."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be within [0, 1], not {alpha}")
    fused: dict[int, Fused] = {}
    floors: list[tuple[float, set[int]]] = []
    for ranked in lists:
        if ranked.leg == "bm25":
            weight = alpha * ranked.weight
            top = ranked.scale or max((v for _c, v in ranked.hits), default=0.0)
            norms = [min(1.0, v / top) if top > 0 else 0.0 for _c, v in ranked.hits]
        else:
            weight = (1.0 - alpha) * ranked.weight
            norms = [1.0 - d for _c, d in ranked.hits]
            if norms:
                floors.append((weight * norms[-1], {c for c, _d in ranked.hits}))
        for rank, ((chunk_id, value), norm) in enumerate(zip(ranked.hits, norms, strict=True), 1):
            item = fused.setdefault(chunk_id, Fused(chunk_id))
            item.score += weight * norm
            _note(item, ranked, rank, value)
    for floor, present in floors:
        for chunk_id, item in fused.items():
            if chunk_id not in present:
                item.score += floor
    return _ordered(fused)


class Fusion(BaseModel):
    """A fusion function and its parameters."""

    model_config = ConfigDict(frozen=True)

    method: Literal["rrf", "convex", "absolute"] = "rrf"
    rrf_k: int = Field(60, ge=1)
    bm25_weight: float = Field(1.0, ge=0)
    vector_weight: float = Field(1.0, ge=0)
    alpha: float = Field(0.5, ge=0, le=1)  # convex, absolute: the BM25 leg's share

    def fuse(self, lists: list[RankedList]) -> list[Fused]:
        if self.method == "convex":
            return convex(lists, self.alpha)
        if self.method == "absolute":
            return absolute(lists, self.alpha)
        return rrf(lists, {"bm25": self.bm25_weight, "vector": self.vector_weight}, self.rrf_k)

    def label(self) -> str:
        if self.method in ("convex", "absolute"):
            return f"{self.method} alpha={self.alpha:g}"
        return f"rrf k={self.rrf_k} bm25={self.bm25_weight:g} vector={self.vector_weight:g}"


def reordered(fused: list[Fused], order: list[int], weight: float, k: int = ORDER_K) -> list[Fused]:
    """``fused`` re-sorted by reciprocal rank fusion of its own order (weight 1) and ``order``
    (``weight``): a reading rewriter's ranking of the hits it read, the one it finds the question
    most likely under first. A chunk it did not read counts as ranked just after those it did,
    so a hit that only the rewrites found is not pushed below all of them."""
    if not order or weight <= 0:
        return fused
    at = {chunk_id: i for i, chunk_id in enumerate(dict.fromkeys(order), 1)}
    after = len(at) + 1

    def score(i: int, f: Fused) -> float:
        return 1 / (k + i) + weight / (k + at.get(f.chunk_id, after))

    scored = sorted(enumerate(fused, 1), key=lambda x: (-score(*x), x[0]))
    return [f for _i, f in scored]


def anchored(
    fusion: Fusion,
    lists: list[RankedList],
    originals: int,
    rank: int,
    rewrite_weight: float = 1.0,
    order: list[int] | None = None,
    order_weight: float = 0.0,
) -> list[Fused]:
    """Fuse every list — a rewrite's lists (query index >= ``originals``) weighted by
    ``rewrite_weight`` against the question's — and, given a reading rewriter's ``order``, fuse
    that in at ``order_weight`` (``reordered``); then make sure the top hit of the question's own
    lists ranks no lower than ``rank``: rewrites may add hits above it, but they cannot outvote
    what the question itself found best. ``rank`` 0 turns the anchor off."""
    lists = [r if r.query_index < originals else replace(r, weight=r.weight * rewrite_weight) for r in lists]
    fused = reordered(fusion.fuse(lists), order or [], order_weight)
    own = [r for r in lists if r.query_index < originals]
    moved = len(own) < len(lists) or (bool(order) and order_weight > 0)
    if rank <= 0 or not own or not moved:
        return fused
    top = fusion.fuse(own)
    if not top:
        return fused
    at = next(i for i, f in enumerate(fused) if f.chunk_id == top[0].chunk_id)
    if at >= rank:
        fused.insert(rank - 1, fused.pop(at))
    return fused


def keep_anchor(
    order: list[T],
    own: Any,
    anchor_rank: int,
    margin: float,
    score: Callable[[T], Any],
    ident: Callable[[T], Any],
) -> list[T]:
    """``order`` (by reranker ``score``) with the item whose ``ident`` is ``own`` moved up to rank
    ``anchor_rank`` unless items scoring at least ``margin`` above it fill the ranks before that."""
    pos = next((i for i, h in enumerate(order) if ident(h) == own), None)
    if pos is None or pos < anchor_rank:
        return order
    floor = score(order[pos]) + margin
    sure = sum(1 for h in order if score(h) >= floor)
    target = max(anchor_rank - 1, sure)
    if target >= pos:
        return order
    moved = order[:pos] + order[pos + 1 :]
    moved.insert(target, order[pos])
    return moved


class Reading(NamedTuple):
    """A reading rewriter's settings in force for a library (``Retriever.reading``)."""

    read_hits: int
    anchor_rank: int
    order_weight: float
    source: str  # "set", "chosen at install", "default" or "set, else default"


@dataclass(frozen=True)
class Choices:
    """How a library's searches are fused, resolved once (per turn, or per evaluation run):
    the fusion in force and where it comes from, the anchor rank and weight of ordinary
    rewrites, and a reading rewriter's settings (``Reading``) with the weight of its texts."""

    fusion: Fusion
    fusion_from: str
    anchor_rank: int
    rewrite_weight: float
    reading: Reading
    read_rewrite_weight: float

    def mix(self, read: bool) -> tuple[int, float, float]:
        """(anchor rank, rewrite weight, order weight) for a search whose rewrites came from a
        reading rewriter (``read``) or from any other."""
        if read:
            return self.reading.anchor_rank, self.read_rewrite_weight, self.reading.order_weight
        return self.anchor_rank, self.rewrite_weight, 0.0

    def note(self, read: bool) -> str:
        """How a search was fused, for the trace."""
        rank, weight, order = self.mix(read)
        chosen = read and self.reading.source == "chosen at install"
        return (
            f"fusion: {self.fusion.label()} ({self.fusion_from}); rewrites weighted {weight:g}"
            + (f", the reading rewriter's order of its hits weighted {order:g}" if order else "")
            + f", the question's top hit kept at rank <= {rank}"
            + (" (reading settings chosen for this library at install)" if chosen else "")
        )

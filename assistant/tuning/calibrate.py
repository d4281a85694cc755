"""Score fusion choices on queries with known answers, and pick one.

The legs of every query are computed once (``Case``); each candidate ``Fusion`` only re-fuses
them, so a sweep over dozens of candidates costs little more than one retrieval per query. Used by
``openbook tune retrieval`` (pseudo-queries of a library) and ``bench/tune_fusion.py`` (dev
corpora with real questions).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..evaluation.metrics import ndcg_at
from ..retrieval.fusion import Fused, Fusion, RankedList

RRF_K = (1, 2, 3, 5, 10, 20, 40, 60, 100)
BM25_WEIGHTS = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0)
ALPHAS = tuple(round(a * 0.05, 2) for a in range(21))


@dataclass
class Case:
    """One query's ranked lists (every leg) and its relevant keys (chunk ids or document ids)."""

    lists: list[RankedList]
    relevant: dict[str, int]


def grid() -> list[Fusion]:
    rrfs = [Fusion(method="rrf", rrf_k=k, bm25_weight=w) for k in RRF_K for w in BM25_WEIGHTS]
    return rrfs + [Fusion(method=m, alpha=a) for m in ("convex", "absolute") for a in ALPHAS]


def leg_only(leg: str) -> Fusion:
    """A single leg, ranked by itself (the other leg weighted 0)."""
    if leg == "bm25":
        return Fusion(method="rrf", rrf_k=60, bm25_weight=1.0, vector_weight=0.0)
    return Fusion(method="rrf", rrf_k=60, bm25_weight=0.0, vector_weight=1.0)


def top_keys(fused: Iterable[Fused], key: Callable[[int], str], n: int) -> list[str]:
    """The first ``n`` distinct keys (documents, or chunks) of a fused order."""
    out: dict[str, None] = {}
    for f in fused:
        out.setdefault(key(f.chunk_id), None)
        if len(out) >= n:
            break
    return list(out)


def ranked_keys(fusion: Fusion, lists: list[RankedList], key: Callable[[int], str], n: int) -> list[str]:
    """The first ``n`` distinct keys of ``fusion``'s order (a leg it weighs 0 left out)."""
    return top_keys(fusion.fuse([r for r in lists if _weight(fusion, r.leg) > 0]), key, n)


def _weight(fusion: Fusion, leg: str) -> float:
    if fusion.method in ("convex", "absolute"):
        return fusion.alpha if leg == "bm25" else 1.0 - fusion.alpha
    return fusion.bm25_weight if leg == "bm25" else fusion.vector_weight


def per_case(fusion: Fusion, cases: list[Case], key: Callable[[int], str], n: int = 10) -> list[float]:
    """nDCG@n of every case under ``fusion``."""
    return [ndcg_at(ranked_keys(fusion, c.lists, key, n), c.relevant, n) for c in cases]


def sweep(
    cases: list[Case], key: Callable[[int], str], fusions: Iterable[Fusion], n: int = 10
) -> dict[Fusion, list[float]]:
    return {f: per_case(f, cases, key, n) for f in fusions}


def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def gain_interval(
    better: list[float], base: list[float], rounds: int = 1000, seed: int = 0
) -> tuple[float, float, float]:
    """Mean paired gain of ``better`` over ``base`` and its 95% bootstrap interval."""
    diffs = [b - a for b, a in zip(better, base, strict=True)]
    if not diffs:
        return 0.0, 0.0, 0.0
    rng = random.Random(seed)
    n = len(diffs)
    means = sorted(sum(diffs[rng.randrange(n)] for _ in range(n)) / n for _ in range(rounds))
    return mean(diffs), means[int(0.025 * rounds)], means[int(0.975 * rounds) - 1]


def choose(scores: dict[Fusion, list[float]], default: Fusion) -> tuple[Fusion, dict[str, float]]:
    """The best-scoring fusion if its gain over ``default`` is surely above zero (the lower end of
    the 95% paired bootstrap interval), else ``default``: a calibration must not trade the safe
    default for noise."""
    base = scores[default] if default in scores else None
    if base is None:
        raise ValueError("the default fusion must be among the scored ones")
    best = max(scores, key=lambda f: (mean(scores[f]), f == default))
    gain, low, high = gain_interval(scores[best], base)
    chosen = best if low > 0 else default
    return chosen, {
        "default_ndcg": round(mean(base), 4),
        "best_ndcg": round(mean(scores[best]), 4),
        "chosen_ndcg": round(mean(scores[chosen]), 4),
        "gain": round(gain, 4),
        "gain_low": round(low, 4),
        "gain_high": round(high, 4),
    }

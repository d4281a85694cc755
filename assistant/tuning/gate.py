"""The evidence gate's threshold, calibrated to one library.

The gate (``pipeline.gate = "question"``) turns a piece away when the library's nearest chunk to
its question is farther than ``max_distance``. How far "far" is depends on the embedding model
and on the corpus (informal comments sit farther from any question than encyclopedia prose), so
``openbook tune retrieval`` measures it: the distance from each masked pseudo-query to its
nearest chunk, and the gate is set where ``QUANTILE`` of them pass (masked whatever kind
calibrates fusion: they need no model, and a 135M teacher keeps too few questions).
For a masked pseudo-query the held-out sentence is not in its chunk any more (``tune.cases_for``
re-scores the chunk without it), so its nearest chunk is as far as a real question's would be:
on the four SQuAD-Shifts libraries these distances follow their real training questions' within
a few points at every threshold (docs/benchmarks.md, "Calibrating the evidence gate").

Only questions the library can answer are at hand, so the quantile is a promise about them, not
a tuned trade-off, and a lenient one: a question turned away is an answer lost, while one let
through that the library cannot answer is mostly still declined by the answer step (on new_wiki
a gate at the 98th percentile cost 4.9 F1 and declined no more unanswerable questions).
"""

from __future__ import annotations

from typing import Any

from .calibrate import Case

QUANTILE = 0.995  # the least that lets >= 99% of real training questions pass on all four dev libraries
QUERIES = 200  # masked pseudo-queries measured when fusion is calibrated on another kind
FLOOR, CEILING = 0.2, 1.2  # a threshold outside these says the pseudo-queries were degenerate


def nearest(case: Case) -> float | None:
    """The case's nearest chunk by the vector leg (its first query's list), or None."""
    for ranked in case.lists:
        if ranked.leg == "vector" and ranked.query_index == 0 and ranked.hits:
            return float(ranked.hits[0][1])
    return None


def quantile(values: list[float], q: float) -> float:
    """The ``q`` quantile by linear interpolation between order statistics."""
    v = sorted(values)
    if not v:
        raise ValueError("no values")
    at = q * (len(v) - 1)
    lo = int(at)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (at - lo)


def calibrate(cases: list[Case], q: float = QUANTILE) -> dict[str, Any] | None:
    """The gate's threshold from the cases' nearest distances, with the figures behind it; None
    when too few cases have a vector leg (BM25-only libraries have no gate)."""
    distances = [d for d in (nearest(c) for c in cases) if d is not None]
    if len(distances) < 10:
        return None
    value = min(max(quantile(distances, q), FLOOR), CEILING)
    return {
        "max_distance": round(value, 3),
        "quantile": q,
        "queries": len(distances),
        "median": round(quantile(distances, 0.5), 3),
        "q90": round(quantile(distances, 0.9), 3),
    }

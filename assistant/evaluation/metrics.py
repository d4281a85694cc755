"""Ranking metrics over document ids (binary or graded relevance)."""

from __future__ import annotations

import math


def hit_at(ranked: list[str], relevant: dict[str, int], n: int) -> float:
    return 1.0 if any(d in relevant for d in ranked[:n]) else 0.0


def recall_at(ranked: list[str], relevant: dict[str, int], n: int) -> float:
    return sum(1 for d in ranked[:n] if d in relevant) / len(relevant) if relevant else 0.0


def mrr_at(ranked: list[str], relevant: dict[str, int], n: int = 10) -> float:
    for i, d in enumerate(ranked[:n], start=1):
        if d in relevant:
            return 1.0 / i
    return 0.0


def ndcg_at(ranked: list[str], relevant: dict[str, int], n: int = 10) -> float:
    dcg = sum((2 ** relevant.get(d, 0) - 1) / math.log2(i + 1) for i, d in enumerate(ranked[:n], 1))
    ideal = sorted(relevant.values(), reverse=True)[:n]
    idcg = sum((2**g - 1) / math.log2(i + 1) for i, g in enumerate(ideal, 1))
    return dcg / idcg if idcg else 0.0


def all_metrics(ranked: list[str], relevant: dict[str, int], k: int) -> dict[str, float]:
    return {
        "hit@1": hit_at(ranked, relevant, 1),
        "hit@5": hit_at(ranked, relevant, 5),
        "hit@10": hit_at(ranked, relevant, 10),
        f"recall@{k}": recall_at(ranked, relevant, k),
        "mrr@10": mrr_at(ranked, relevant, 10),
        "ndcg@10": ndcg_at(ranked, relevant, 10),
    }

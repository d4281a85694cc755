"""The reading rewriter's fusion settings, chosen per library on held-out questions.

How much the reading rewriter's own ranking of the hits it read should count
(``retrieval.read_order_weight``), and where the question's top hit is anchored
(``read_anchor_rank``), differs by library: the ranking paid +4 points of hit@5 on
amazon_reviews and nothing or -1 on reddit and nq-wiki (README "Its order of the hits it
read"). ``finetune rewriter`` therefore scores each candidate on the same held-out questions as
its check (one search per question, one fusion per candidate) and ``choose`` keeps the default
unless a candidate finds the right document in the top 5 for at least ``MARGIN`` more of them.
``--install`` stores the choice with the library (``Retriever.reading_choice``); settings given
by the user still win.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..settings import Mix, RetrievalSettings

# (anchor rank, order weight): the settings the sweeps (bench/read_order.py) found worth trying
CANDIDATES: tuple[tuple[int, float], ...] = ((1, 0.0), (1, 1.0), (1, 2.0), (2, 0.0), (2, 1.0), (2, 2.0))
MARGIN = 2  # held-out questions of hit@5 a candidate must gain over the default to be chosen


def mixes(settings: RetrievalSettings) -> list[Mix]:
    """The default mix (as the settings give it with no choice stored), then each candidate's:
    (anchor rank, rewrite weight, order weight)."""
    default = settings.mix(True)
    return [default] + [(rank, settings.read_rewrite_weight, order) for rank, order in CANDIDATES]


class Tally:
    """Sums of hit@5 and nDCG@10 per mix over the held-out questions."""

    def __init__(self, mixes: Sequence[Mix]) -> None:
        self.mixes = list(mixes)
        self.sums = [[0.0, 0.0] for _ in self.mixes]
        self.n = 0

    def add(self, scores: Sequence[tuple[float, float]]) -> None:
        for total, (hit, ndcg) in zip(self.sums, scores, strict=True):
            total[0] += hit
            total[1] += ndcg
        self.n += 1

    def rows(self) -> list[dict[str, Any]]:
        n = max(self.n, 1)
        return [
            {"anchor_rank": r, "order_weight": o, "hit@5": round(h / n, 4), "ndcg@10": round(g / n, 4)}
            for (r, _w, o), (h, g) in zip(self.mixes, self.sums, strict=True)
        ]


def choose(tally: Tally) -> dict[str, Any]:
    """The best candidate by hit@5 (then nDCG@10) if it beats the default (the first row) by at
    least ``MARGIN`` questions of hit@5, else the default; with every candidate's figures."""
    rows = tally.rows()
    default, candidates = rows[0], rows[1:]
    best = max(candidates, key=lambda r: (r["hit@5"], r["ndcg@10"]))
    gain = round((best["hit@5"] - default["hit@5"]) * tally.n)
    chosen = best if gain >= MARGIN else default
    why = (
        f"{gain:+d} of {tally.n} held-out questions with the right document in the top 5 over "
        f"the default (anchor rank {default['anchor_rank']}, order weight {default['order_weight']:g})"
        + ("" if chosen is best else f"; at least +{MARGIN} needed to change it")
    )
    return {
        "anchor_rank": chosen["anchor_rank"],
        "order_weight": chosen["order_weight"],
        "hit@5": chosen["hit@5"],
        "ndcg@10": chosen["ndcg@10"],
        "questions": tally.n,
        "why": why,
        "default": default,
        "candidates": candidates,
    }

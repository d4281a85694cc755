"""The reading rewriter's settings, chosen per library on held-out questions.

How many of the question's hits the reading rewriter reads (``pipeline.read_hits``), how much
its own ranking of them should count (``retrieval.read_order_weight``), and where the question's
top hit is anchored (``read_anchor_rank``) differ by library: reading 10 hits, the ranking paid
+4 points of hit@5 on amazon_reviews and nothing or -1 on reddit and nq-wiki; reading 20 it paid
+5 more on reddit (docs/benchmarks.md, "Fine-tuning for retrieval"). ``finetune rewriter`` therefore
scores each candidate on the same held-out questions as its check (one read per number of hits,
one search per question and rewrite, one fusion per candidate) and ``choose`` keeps the default
unless a candidate finds the right document in the top 5 for at least ``MARGIN`` more of them.
``--install`` stores the choice with the library (``Retriever.reading_choice``); settings given
by the user still win.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from ..settings import Mix, PipelineSettings, RetrievalSettings

# (anchor rank, order weight): the settings the sweeps found worth trying (docs/benchmarks.md,
# "Fine-tuning for retrieval")
CANDIDATES: tuple[tuple[int, float], ...] = ((1, 0.0), (1, 1.0), (1, 2.0), (2, 0.0), (2, 1.0), (2, 2.0))
# hits read: 20 reaches the right document where it ranks 11-20 (reddit: +6 points of hit@5 with
# the order at 2, against +1 reading 10), at twice the scoring; a tie keeps the fewer
DEPTHS: tuple[int, ...] = (10, 20)
MARGIN = 2  # held-out questions of hit@5 a candidate must gain over the default to be chosen


class Candidate(NamedTuple):
    read_hits: int
    mix: Mix  # (anchor rank, rewrite weight, order weight)


def candidates(settings: RetrievalSettings, pipeline: PipelineSettings) -> list[Candidate]:
    """The default (as the settings give it with no choice stored), then each candidate: every
    number of hits to read times every (anchor rank, order weight)."""
    default = Candidate(pipeline.hits_to_read(), settings.mix(True))
    return [default] + [
        Candidate(hits, (rank, settings.read_rewrite_weight, order))
        for hits in DEPTHS
        for rank, order in CANDIDATES
    ]


def depths(cands: Sequence[Candidate]) -> list[int]:
    """The numbers of hits to read for ``cands``, fewest first (the scorer remembers the scores
    of the first hits, so reading more after fewer scores only the extra ones)."""
    return sorted({c.read_hits for c in cands})


class Tally:
    """Sums of hit@5 and nDCG@10 per candidate over the held-out questions."""

    def __init__(self, cands: Sequence[Candidate]) -> None:
        self.cands = list(cands)
        self.sums = [[0.0, 0.0] for _ in self.cands]
        self.n = 0

    def add(self, scores: Sequence[tuple[float, float]]) -> None:
        for total, (hit, ndcg) in zip(self.sums, scores, strict=True):
            total[0] += hit
            total[1] += ndcg
        self.n += 1

    def rows(self) -> list[dict[str, Any]]:
        n = max(self.n, 1)
        return [
            {
                "read_hits": c.read_hits,
                "anchor_rank": c.mix[0],
                "order_weight": c.mix[2],
                "hit@5": round(h / n, 4),
                "ndcg@10": round(g / n, 4),
            }  # fmt: skip
            for c, (h, g) in zip(self.cands, self.sums, strict=True)
        ]


def choose(tally: Tally) -> dict[str, Any]:
    """The best candidate by hit@5, then nDCG@10, then fewer hits read, if it beats the default
    (the first row) by at least ``MARGIN`` questions of hit@5, else the default; with every
    candidate's figures."""
    rows = tally.rows()
    default, cands = rows[0], rows[1:]
    best = max(cands, key=lambda r: (r["hit@5"], r["ndcg@10"], -r["read_hits"]))
    gain = round((best["hit@5"] - default["hit@5"]) * tally.n)
    chosen = best if gain >= MARGIN else default
    why = (
        f"{gain:+d} of {tally.n} held-out questions with the right document in the top 5 over "
        f"the default (reading {default['read_hits']} hits, anchor rank {default['anchor_rank']}, "
        f"order weight {default['order_weight']:g})"
        + ("" if chosen is best else f"; at least +{MARGIN} needed to change it")
    )
    return {
        "read_hits": chosen["read_hits"],
        "anchor_rank": chosen["anchor_rank"],
        "order_weight": chosen["order_weight"],
        "hit@5": chosen["hit@5"],
        "ndcg@10": chosen["ndcg@10"],
        "questions": tally.n,
        "why": why,
        "default": default,
        "candidates": cands,
    }

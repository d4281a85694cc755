"""The reading rewriter's settings chosen per library on held-out questions
(``finetune/reading.py``): the best candidate only when it is surely better than the default."""

from __future__ import annotations

from openbook.assistant.finetune import reading
from openbook.assistant.settings import PipelineSettings, RetrievalSettings

Key = tuple[int, int, float]  # (hits read, anchor rank, order weight)


def _tally(hits: dict[Key, int], n: int = 20, ndcg: dict[Key, float] | None = None) -> reading.Tally:
    """n questions; ``hits``: how many of them each (hits read, anchor rank, order weight) finds
    in the top 5 (the default, (10, 1, 0), unless given: 10); ``ndcg``: a found one's nDCG@10
    (0.5 unless given)."""
    cands = reading.candidates(RetrievalSettings(), PipelineSettings())
    tally = reading.Tally(cands)
    for i in range(n):
        keys = [(c.read_hits, c.mix[0], c.mix[2]) for c in cands]
        found = [i < hits.get(k, 10) for k in keys]
        tally.add([(float(f), (ndcg or {}).get(k, 0.5) * f) for f, k in zip(found, keys, strict=True)])
    return tally


def _key(choice: dict) -> Key:
    return choice["read_hits"], choice["anchor_rank"], choice["order_weight"]


def test_the_default_comes_first_and_every_candidate_follows():
    s = RetrievalSettings(read_rewrite_weight=0.5)
    cands = reading.candidates(s, PipelineSettings())
    assert cands[0] == (10, (1, 0.5, 0.0))  # unset settings: 10 hits, anchor rank 1, order weight 0
    assert cands[1:] == [(d, (r, 0.5, o)) for d in reading.DEPTHS for r, o in reading.CANDIDATES]
    assert reading.depths(cands) == [10, 20]
    users = reading.candidates(RetrievalSettings(read_order_weight=4.0), PipelineSettings(read_hits=15))
    assert users[0] == (15, (1, 0.25, 4.0)) and reading.depths(users) == [10, 15, 20]  # the user's


def test_the_best_candidate_is_chosen_only_by_a_margin():
    choice = reading.choose(_tally({(10, 2, 1.0): 13, (10, 1, 1.0): 12}))
    assert _key(choice) == (10, 2, 1.0) and choice["hit@5"] == 0.65
    assert choice["default"]["hit@5"] == 0.5 and choice["questions"] == 20
    assert choice["why"].startswith("+3 of 20 held-out questions")
    assert len(choice["candidates"]) == len(reading.CANDIDATES) * len(reading.DEPTHS)

    kept = reading.choose(_tally({(10, 1, 2.0): 11}))  # one question better: not enough to change
    assert _key(kept) == (10, 1, 0.0) and kept["hit@5"] == 0.5
    assert "+1 of 20" in kept["why"] and f"at least +{reading.MARGIN} needed" in kept["why"]

    rest = [(d, r, o) for d in reading.DEPTHS for r, o in reading.CANDIDATES if (d, r, o) != (10, 1, 0.0)]
    worse = reading.choose(_tally({k: 8 for k in rest}))  # the rest worse
    assert _key(worse) == (10, 1, 0.0) and worse["hit@5"] == 0.5


def test_reading_more_hits_is_chosen_when_it_pays_and_fewer_on_a_tie():
    deeper = reading.choose(_tally({(20, 1, 2.0): 14, (10, 1, 2.0): 11}))
    assert _key(deeper) == (20, 1, 2.0) and "+4 of 20" in deeper["why"]
    tie = reading.choose(_tally({(20, 2, 1.0): 13, (10, 2, 1.0): 13}))  # as good: half the scoring
    assert _key(tie) == (10, 2, 1.0)
    ranked = reading.choose(_tally({(20, 2, 1.0): 13, (10, 2, 1.0): 13}, ndcg={(20, 2, 1.0): 0.7}))
    assert _key(ranked) == (20, 2, 1.0)  # the same hit@5, a better nDCG@10

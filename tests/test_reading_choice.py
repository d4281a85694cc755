"""The reading rewriter's settings chosen per library on held-out questions
(``finetune/reading.py``): the best candidate only when it is surely better than the default."""

from __future__ import annotations

from openbook.assistant.finetune import reading
from openbook.assistant.settings import RetrievalSettings


def _tally(hits: dict[tuple[int, float], int], n: int = 20) -> reading.Tally:
    """n questions; ``hits``: how many of them each (anchor rank, order weight) finds in the top 5
    (the default, (1, 0), unless given: 10)."""
    mixes = reading.mixes(RetrievalSettings())
    tally = reading.Tally(mixes)
    for i in range(n):
        found = [i < hits.get((r, o), 10) for r, _w, o in mixes]
        tally.add([(float(f), 0.5 * f) for f in found])
    return tally


def test_the_default_comes_first_and_every_candidate_follows():
    s = RetrievalSettings(read_rewrite_weight=0.5)
    mixes = reading.mixes(s)
    assert mixes[0] == (1, 0.5, 0.0)  # unset settings: anchor rank 1, order weight 0
    assert mixes[1:] == [(r, 0.5, o) for r, o in reading.CANDIDATES]
    assert reading.mixes(RetrievalSettings(read_order_weight=4.0))[0] == (1, 0.25, 4.0)  # the user's


def test_the_best_candidate_is_chosen_only_by_a_margin():
    choice = reading.choose(_tally({(2, 1.0): 13, (1, 1.0): 12}))
    assert (choice["anchor_rank"], choice["order_weight"]) == (2, 1.0) and choice["hit@5"] == 0.65
    assert choice["default"]["hit@5"] == 0.5 and choice["questions"] == 20
    assert choice["why"].startswith("+3 of 20 held-out questions")
    assert len(choice["candidates"]) == len(reading.CANDIDATES)

    kept = reading.choose(_tally({(1, 2.0): 11}))  # one question better: not enough to change
    assert (kept["anchor_rank"], kept["order_weight"]) == (1, 0.0) and kept["hit@5"] == 0.5
    assert "+1 of 20" in kept["why"] and f"at least +{reading.MARGIN} needed" in kept["why"]

    worse = reading.choose(_tally({c: 8 for c in reading.CANDIDATES if c != (1, 0.0)}))  # the rest worse
    assert (worse["anchor_rank"], worse["order_weight"]) == (1, 0.0) and worse["hit@5"] == 0.5

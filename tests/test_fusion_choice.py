"""Fusion choices: the Fusion type, the rewrite anchor, and picking a fusion from scored cases."""

import random

import pytest

from openbook.assistant.retrieval.fusion import (
    Fused,
    Fusion,
    RankedList,
    absolute,
    anchored,
    convex,
    reordered,
    rrf,
)
from openbook.assistant.tuning import calibrate


def test_fusion_dispatches_to_its_function():
    lists = [
        RankedList("bm25", 0, [(1, 9.0), (2, 5.0)]),
        RankedList("vector", 0, [(2, 0.1), (3, 0.5)]),
    ]
    f = Fusion(method="rrf", rrf_k=5, bm25_weight=2.0)
    assert [x.chunk_id for x in f.fuse(lists)] == [x.chunk_id for x in rrf(lists, {"bm25": 2.0}, 5)]
    c = Fusion(method="convex", alpha=0.3)
    assert [x.score for x in c.fuse(lists)] == [x.score for x in convex(lists, 0.3)]
    assert f.label() == "rrf k=5 bm25=2 vector=1" and c.label() == "convex alpha=0.3"
    with pytest.raises(ValueError):
        Fusion(method="convex", alpha=1.5)


def test_absolute_scores_by_hand():
    vector = RankedList("vector", 0, [(2, 0.2), (3, 0.3)])  # similarities 0.8, 0.7 (the floor)
    sure = RankedList("bm25", 0, [(1, 8.0), (2, 4.0)], scale=10.0)  # 0.8, 0.4 of the query's own
    fused = absolute([sure, vector], 0.5)
    # 1: 0.5*0.8 + 0.5*0.7 (not in the vector list: its floor); 2: 0.5*0.4 + 0.5*0.8; 3: 0.5*0.7
    assert [(f.chunk_id, round(f.score, 6)) for f in fused] == [(1, 0.75), (2, 0.6), (3, 0.35)]
    # The same BM25 ranks, but a weak match (a tenth of the query's own score): vectors decide.
    weak = RankedList("bm25", 0, [(1, 8.0), (2, 4.0)], scale=80.0)
    fused = absolute([weak, vector], 0.5)
    assert [(f.chunk_id, round(f.score, 6)) for f in fused] == [(2, 0.425), (1, 0.4), (3, 0.35)]
    # Min-max scaling cannot tell the two apart: both BM25 lists scale to 1, 0.5.
    assert [f.chunk_id for f in convex([sure, vector], 0.5)] == [
        f.chunk_id for f in convex([weak, vector], 0.5)
    ]
    # A score above the query's own is capped at 1; unknown scale: the list's best is 1.
    over = RankedList("bm25", 0, [(1, 30.0)], scale=10.0)
    assert absolute([over], 1.0)[0].score == 1.0
    assert absolute([RankedList("bm25", 0, [(1, 6.0), (2, 3.0)])], 1.0)[1].score == 0.5
    assert Fusion(method="absolute", alpha=0.5).label() == "absolute alpha=0.5"


def _question_and_rewrites():
    # The question alone: chunk 1 first in both legs. Three rewrites all prefer 9, then 8, then 7.
    lists = [RankedList("bm25", 0, [(1, 5.0), (9, 4.0)]), RankedList("vector", 0, [(1, 0.2), (8, 0.3)])]
    for q in (1, 2, 3):
        lists.append(RankedList("bm25", q, [(9, 6.0), (8, 5.0), (7, 4.0)]))
        lists.append(RankedList("vector", q, [(9, 0.1), (8, 0.15), (7, 0.2)]))
    return lists


def test_rewrites_outvote_the_question_without_the_anchor():
    fused = anchored(Fusion(rrf_k=60), _question_and_rewrites(), originals=1, rank=0)
    # By hand, k=60: chunk 9 = 1/62 (q0 bm25) + 6/61; chunk 8 = 1/62 + 6/62; chunk 1 = 2/61.
    assert [f.chunk_id for f in fused][:3] == [9, 8, 7]
    assert [f.chunk_id for f in fused].index(1) == 3


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_the_anchor_keeps_the_questions_top_hit_at_the_stated_rank(rank):
    fused = anchored(Fusion(rrf_k=60), _question_and_rewrites(), originals=1, rank=rank)
    order = [f.chunk_id for f in fused]
    assert order.index(1) == rank - 1
    assert sorted(order) == [1, 7, 8, 9]  # nothing lost or duplicated


def test_no_rewrite_can_demote_the_top_hit_below_the_stated_rank_random_lists():
    rng = random.Random(7)
    for trial in range(300):
        fusion = rng.choice(calibrate.grid())
        n_rewrites = rng.randint(0, 4)
        lists = []
        for q in range(1 + n_rewrites):
            for leg in ("bm25", "vector"):
                ids = rng.sample(range(40), rng.randint(1, 12))
                values = sorted((rng.uniform(0.05, 9) for _ in ids), reverse=leg == "bm25")
                lists.append(RankedList(leg, q, list(zip(ids, values, strict=True))))
        rank = rng.randint(1, 5)
        own_top = fusion.fuse([r for r in lists if r.query_index == 0])[0].chunk_id
        read = rng.sample(range(40), rng.randint(0, 10))  # a reading rewriter's order, or none
        weight = rng.choice([1.0, 0.5, 0.0])
        order = [
            f.chunk_id for f in anchored(fusion, lists, 1, rank, weight, read, rng.choice([0.0, 1.0, 50.0]))
        ]
        assert order.index(own_top) < rank, (trial, fusion)
        assert len(order) == len(set(order))


def test_rewrite_weight_scales_the_rewrites_say():
    lists = _question_and_rewrites()
    # By hand, k=60, rewrites at 0.1: chunk 1 = 2/61 = 0.0328; chunk 9 = 1/62 + 0.1 * 6/61 = 0.0260;
    # chunk 8 = 1/62 + 0.1 * 6/62 = 0.0258; chunk 7 = 0.1 * 6/63. (At 1 they were 9, 8, 7, 1.)
    fused = anchored(Fusion(rrf_k=60), lists, originals=1, rank=0, rewrite_weight=0.1)
    assert [f.chunk_id for f in fused] == [1, 9, 8, 7]
    assert fused[1].score == pytest.approx(1 / 62 + 0.1 * 6 / 61)
    # At 0, rewrites only add chunks after the question's own: its order stands.
    fused = anchored(Fusion(rrf_k=60), lists, originals=1, rank=0, rewrite_weight=0.0)
    assert [f.chunk_id for f in fused][:3] == [1, 9, 8] and fused[3].chunk_id == 7


def test_a_reading_rewriters_order_is_fused_with_the_hits_order_by_hand():
    fused = [Fused(c) for c in (1, 9, 8, 7)]
    # k=60; 9 was not read, so it counts as ranked just after the two that were (3rd).
    # Weight 1: 1 = 1/61 + 1/63 = .03227, 7 = 1/64 + 1/61 = .03202, 9 = 1/62 + 1/63 = .03200,
    # 8 = 1/63 + 1/62, the same (a tie keeps ``fused``'s order: 9 before 8).
    assert [f.chunk_id for f in reordered(fused, [7, 8], 1.0)] == [1, 7, 9, 8]
    # Weight 2: 7 = 1/64 + 2/61 = .048141, 1 = 1/61 + 2/63 = .048139, 8 = .048131, 9 = .047874.
    assert [f.chunk_id for f in reordered(fused, [7, 8], 2.0)] == [7, 1, 8, 9]
    assert reordered(fused, [7, 8], 0.0) == fused and reordered(fused, [], 2.0) == fused


def test_the_anchor_holds_against_a_reading_rewriters_order_without_rewrites():
    lists = [RankedList("bm25", 0, [(1, 5.0), (2, 4.0), (3, 3.0)])]
    plain = anchored(Fusion(rrf_k=60), lists, 1, 0, 1.0, [3, 2], 50.0)  # no anchor: 3 comes first
    assert [f.chunk_id for f in plain] == [3, 2, 1]
    held = anchored(Fusion(rrf_k=60), lists, 1, 1, 1.0, [3, 2], 50.0)
    assert [f.chunk_id for f in held] == [1, 3, 2]


def _cases(n, gold_bm25_rank, gold_vector_rank, seed=0):
    """Synthetic queries: the gold chunk g sits at the given rank of each leg among decoys."""
    rng = random.Random(seed)
    cases = []
    for q in range(n):
        gold = 1000 + q
        decoys = rng.sample(range(1000), 20)
        bm = decoys[:]
        bm.insert(gold_bm25_rank - 1, gold)
        vec = decoys[::-1]
        vec.insert(gold_vector_rank - 1, gold)
        lists = [
            RankedList("bm25", 0, [(c, 20.0 - i) for i, c in enumerate(bm)]),
            RankedList("vector", 0, [(c, 0.1 + 0.02 * i) for i, c in enumerate(vec)]),
        ]
        cases.append(calibrate.Case(lists, {str(gold): 1}))
    return cases


def test_choose_moves_off_the_default_only_for_a_sure_gain():
    key = str
    default = Fusion(rrf_k=3, bm25_weight=3.0)
    # The vector leg has the gold first, BM25 has it 8th: the BM25-heavy default loses, surely.
    cases = _cases(60, gold_bm25_rank=8, gold_vector_rank=1)
    chosen, figures = calibrate.choose(calibrate.sweep(cases, key, [*calibrate.grid(), default]), default)
    assert calibrate.mean(calibrate.per_case(chosen, cases, key)) == pytest.approx(1.0)
    assert figures["gain_low"] > 0 and figures["chosen_ndcg"] == 1.0
    # Both legs agree: nothing to gain, the default stays.
    cases = _cases(60, gold_bm25_rank=1, gold_vector_rank=1)
    chosen, figures = calibrate.choose(calibrate.sweep(cases, key, [*calibrate.grid(), default]), default)
    assert chosen == default and figures["gain"] == 0


def test_leg_only_ranks_by_one_leg():
    cases = _cases(5, gold_bm25_rank=1, gold_vector_rank=3)
    assert calibrate.mean(calibrate.per_case(calibrate.leg_only("bm25"), cases, str)) == 1.0
    assert calibrate.mean(calibrate.per_case(calibrate.leg_only("vector"), cases, str)) == pytest.approx(0.5)

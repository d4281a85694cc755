"""Hybrid retrieval on a small real corpus: real database, real embeddings."""

import pytest

from openbook.assistant import library
from openbook.assistant.ingest.pipeline import ingest
from openbook.assistant.retrieval.fusion import RankedList, rrf
from openbook.assistant.retrieval.retriever import QUERY_VECTORS, Filters, Retriever
from openbook.assistant.settings import IngestSettings, RetrievalSettings


def test_rrf_order_weights_and_dedup():
    lists = [
        RankedList("bm25", 0, [(1, 9.0), (2, 5.0), (3, 1.0)]),
        RankedList("vector", 0, [(3, 0.1), (2, 0.2), (4, 0.3)]),
    ]
    fused = rrf(lists, {"bm25": 1.0, "vector": 1.0}, k=60)
    assert [f.chunk_id for f in fused] == [3, 2, 1, 4]  # 2 and 3 are in both lists
    assert fused[0].score == pytest.approx(1 / 63 + 1 / 61)
    two = fused[1]
    assert two.score == pytest.approx(1 / 62 + 1 / 62)
    assert (two.bm25_rank, two.bm25_score, two.vector_rank, two.vector_distance) == (2, 5.0, 2, 0.2)
    # Weights really apply: with the vector leg weighted up, its order wins.
    fused = rrf(lists, {"bm25": 1.0, "vector": 3.0}, k=60)
    assert [f.chunk_id for f in fused] == [3, 2, 4, 1]
    fused = rrf(lists, {"bm25": 3.0, "vector": 1.0}, k=60)
    assert [f.chunk_id for f in fused] == [2, 3, 1, 4]
    # A weight of zero removes a leg's influence on the order.
    fused = rrf(lists, {"bm25": 0.0, "vector": 1.0}, k=60)
    assert [f.chunk_id for f in fused][:3] == [3, 2, 4]


def test_rrf_multi_query_keeps_best_rank_and_queries():
    lists = [
        RankedList("bm25", 0, [(5, 2.0), (6, 1.0)]),
        RankedList("bm25", 1, [(6, 4.0)]),
    ]
    fused = {f.chunk_id: f for f in rrf(lists, {}, k=60)}
    assert fused[6].bm25_rank == 1 and fused[6].bm25_score == 4.0 and fused[6].queries == {0, 1}
    assert fused[6].score == pytest.approx(1 / 62 + 1 / 61)


@pytest.fixture
def solar(store, embedder, tmp_path):
    from openbook.assistant import paths

    root = tmp_path / "solar"
    root.mkdir()
    for name in (
        "venus.md",
        "mars.md",
        "phobos-and-deimos.md",
        "neptune.md",
        "titan.md",
        "saturn-rings.md",
        "tides.md",
        "jupiter.md",
    ):
        (root / name).write_text((paths.sample_docs_dir() / name).read_text())
    ingest(store, embedder, [root], IngestSettings())
    return root


def _retriever(store, embedder, tmp_path, **kw):
    """Fusion as it is: these tests hold the legs and their fusion (the reranker: test_reranker)."""
    kw.setdefault("rerank", False)
    return Retriever(store, embedder, RetrievalSettings(**kw), cache_dir=tmp_path / "cache")


def test_hybrid_finds_the_right_document_and_reports_both_legs(store, embedder, solar, tmp_path):
    r = _retriever(store, embedder, tmp_path)
    hits = r.retrieve("Who found Neptune by calculation?", 3)
    assert hits[0].source.endswith("neptune.md")
    assert hits[0].bm25_rank is not None and hits[0].vector_rank is not None
    assert [h.rank for h in hits] == [1, 2, 3]
    assert hits[0].fused_score >= hits[1].fused_score >= hits[2].fused_score
    bm25_only = r.retrieve("Olympus Mons volcano", 3, mode="bm25")
    assert bm25_only[0].source.endswith("mars.md") and bm25_only[0].vector_rank is None
    vec_only = r.retrieve("the tallest mountain on the red planet", 3, mode="vector")
    assert vec_only[0].bm25_rank is None and vec_only[0].vector_distance is not None


def test_multi_query_dedups_chunks(store, embedder, solar, tmp_path):
    r = _retriever(store, embedder, tmp_path)
    hits = r.retrieve(["moons of Mars", "Phobos and Deimos", "moons of Mars"], 10)
    ids = [h.chunk_id for h in hits]
    assert len(ids) == len(set(ids))
    assert any(h.matched_queries == [0, 1] for h in hits)  # the duplicate query is searched once


def test_leg_weights_change_the_fused_order(store, embedder, solar, tmp_path):
    query = "a storm bigger than Earth"
    bm25 = _retriever(store, embedder, tmp_path, fusion="rrf", vector_weight=0.0).retrieve(query, 5)
    vector = _retriever(store, embedder, tmp_path, fusion="rrf", bm25_weight=0.0).retrieve(query, 5)
    assert [h.chunk_id for h in _retriever(store, embedder, tmp_path, alpha=1.0).retrieve(query, 5)] == [
        h.chunk_id for h in bm25
    ]
    only_bm25 = _retriever(store, embedder, tmp_path).retrieve(query, 5, mode="bm25")
    only_vec = _retriever(store, embedder, tmp_path).retrieve(query, 5, mode="vector")
    assert [h.chunk_id for h in bm25] == [h.chunk_id for h in only_bm25]
    assert [h.chunk_id for h in vector] == [h.chunk_id for h in only_vec]
    assert [h.chunk_id for h in bm25] != [h.chunk_id for h in vector]


def test_filters_by_document_and_path(store, embedder, solar, tmp_path):
    r = _retriever(store, embedder, tmp_path)
    titan = library.find_document(store, str(solar / "titan.md"))
    hits = r.retrieve("moons and rings", 5, filters=Filters(document_ids=[titan["id"]]))
    assert hits and {h.document_id for h in hits} == {titan["id"]}
    hits = r.retrieve("planet", 20, filters=Filters(path_prefixes=[str(solar / "ma")]))
    assert {h.source.rsplit("/", 1)[1] for h in hits} == {"mars.md"}
    assert r.retrieve("planet", 5, filters=Filters(path_prefixes=["/nowhere"])) == []


def test_index_is_built_once_not_per_query(store, embedder, solar, tmp_path):
    r = _retriever(store, embedder, tmp_path)
    for q in ["Venus", "Mars", "tides", "Titan lakes", "Jupiter storm"]:
        r.retrieve(q, 3)
    assert r.builds == 1
    # A new process (new retriever) loads the cached index instead of rebuilding.
    again = _retriever(store, embedder, tmp_path)
    again.retrieve("Venus", 3)
    assert (again.builds, again.loads) == (0, 1)


def test_index_invalidated_after_ingest(store, embedder, solar, tmp_path):
    r = _retriever(store, embedder, tmp_path)
    assert r.retrieve("Quaoar", 3, mode="bm25") == []
    (solar / "quaoar.md").write_text("# Quaoar\n\nQuaoar is a Kuiper belt object with a ring.\n")
    ingest(store, embedder, [solar], IngestSettings())
    hits = r.retrieve("Quaoar", 3, mode="bm25")
    assert hits and hits[0].source.endswith("quaoar.md")
    assert r.builds == 2
    (solar / "quaoar.md").unlink()
    ingest(store, embedder, [solar], IngestSettings(), prune=True)
    assert r.retrieve("Quaoar", 3, mode="bm25") == []
    assert r.builds == 3


def test_convex_combination_of_normalised_scores_by_hand():
    from openbook.assistant.retrieval.fusion import convex, normalised

    bm25 = RankedList("bm25", 0, [(1, 12.0), (2, 6.0), (3, 2.0)])  # score / best: 1, 1/2, 1/6
    vector = RankedList("vector", 0, [(3, 0.2), (1, 0.4), (4, 0.7)])  # (2 - d) / 1.8: 1, 8/9, 13/18
    assert normalised(bm25) == pytest.approx([1.0, 0.5, 1 / 6])
    assert normalised(vector) == pytest.approx([1.0, 8 / 9, 13 / 18])
    fused = convex([bm25, vector], alpha=0.5)
    # 1: (1 + 8/9) / 2; 3: (1/6 + 1) / 2; 4: (13/18) / 2; 2: (1/2) / 2
    expected = [(1, (1 + 8 / 9) / 2), (3, (1 / 6 + 1) / 2), (4, 13 / 36), (2, 0.25)]
    assert [f.chunk_id for f in fused] == [c for c, _ in expected]
    assert [f.score for f in fused] == pytest.approx([v for _, v in expected])
    assert fused[0].bm25_rank == 1 and fused[0].vector_rank == 2 and fused[0].vector_distance == 0.4
    assert [f.chunk_id for f in convex([bm25, vector], alpha=1.0)][:3] == [1, 2, 3]  # BM25 alone
    assert [f.chunk_id for f in convex([bm25, vector], alpha=0.0)][:3] == [3, 1, 4]  # vector alone
    # a BM25 leg that is far more confident on its top hit keeps it, where rank fusion would not
    sure = RankedList("bm25", 0, [(1, 30.0), (2, 3.0), (3, 2.0)])
    unsure = RankedList("vector", 0, [(2, 0.50), (3, 0.51), (1, 0.52)])
    assert convex([sure, unsure], alpha=0.5)[0].chunk_id == 1
    assert rrf([sure, unsure], {}, k=60)[0].chunk_id == 2
    with pytest.raises(ValueError, match="alpha"):
        convex([bm25], alpha=1.5)
    assert normalised(RankedList("bm25", 0, [(5, 3.0), (6, 3.0)])) == [1.0, 1.0]
    assert normalised(RankedList("bm25", 0, [(5, 0.0)])) == [0.0]  # no term matched


def test_hits_only_bm25_found_get_their_vector_distance(store, embedder, solar, tmp_path):
    # The vector leg finds nothing (as when the gold chunk is past its candidates): every fused
    # hit comes from BM25 alone, and still gets its exact distance to the nearest query.
    query = "Olympus Mons volcano"
    r = _retriever(store, embedder, tmp_path)
    r.vector_leg = lambda vectors, depth, ids=None: [RankedList("vector", i, []) for i in range(len(vectors))]
    hits = r.retrieve(query, 5)
    assert hits and all(h.vector_rank is None and h.vector_distance is not None for h in hits)
    exact = {
        h.chunk_id: h.vector_distance
        for h in _retriever(store, embedder, tmp_path).retrieve(query, 50, mode="vector")
    }
    for h in hits:
        assert h.vector_distance == pytest.approx(exact[h.chunk_id], abs=1e-5)
    assert all(h.vector_distance is None for h in r.retrieve(query, 5, mode="bm25"))


def test_nearest_distance_is_the_question_to_its_nearest_chunk(store, embedder, solar, tmp_path):
    r = _retriever(store, embedder, tmp_path)
    query = "Why is Venus so hot?"
    best = r.retrieve(query, 50, mode="vector")[0]
    assert r.nearest_distance(query) == pytest.approx(best.vector_distance, abs=1e-5)
    tides = library.find_document(store, str(solar / "tides.md"))
    within = r.nearest_distance(query, Filters(document_ids=[tides["id"]]))
    assert within is not None and within > best.vector_distance + 0.05  # only the tides document
    assert r.nearest_distance(query, Filters(path_prefixes=["/nowhere"])) is None
    assert _retriever(store, embedder, tmp_path, mode="bm25").nearest_distance(query) is None


class _Counting:
    """The real embedder, recording the texts it is asked to embed."""

    def __init__(self, inner):
        self.inner, self.texts = inner, []
        self.identity = inner.identity

    def embed_batch(self, texts):
        self.texts += texts
        return self.inner.embed_batch(texts)


def test_the_gate_reuses_the_vector_legs_embedding_of_the_question(store, embedder, solar, tmp_path):
    counting = _Counting(embedder)
    r = _retriever(store, counting, tmp_path)
    query = "Why is Venus so hot?"
    best = r.retrieve([query, "Venus greenhouse"], 5)[0]
    assert best.source.endswith("venus.md")
    assert counting.texts == [query, "Venus greenhouse"]
    distance = r.nearest_distance(query)
    assert counting.texts == [query, "Venus greenhouse"]  # not embedded a second time
    assert distance == pytest.approx(_retriever(store, embedder, tmp_path).nearest_distance(query), abs=1e-4)
    for n in range(QUERY_VECTORS):  # the cache is bounded: the oldest query goes first
        r.embed([f"query {n}"])
    r.nearest_distance(query)
    assert counting.texts[-1] == query
    # No text at all (a rewriter that wrote nothing): no rows, no lists, no call to the embedder.
    calls = len(counting.texts)
    assert r.embed([]).shape == (0, embedder.identity.dimension)
    assert r.legs([], "hybrid") == ([], {}) and len(counting.texts) == calls

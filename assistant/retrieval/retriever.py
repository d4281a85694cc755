"""``Retriever.retrieve(queries, k)``: every query through BM25 and pgvector, fused — with the
library's calibrated fusion when it has one (``openbook tune retrieval``), else the settings'
safe default — and the first query (the question itself) anchored against its rewrites."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from openbook.agents.kit import cancel
from openbook.agents.kit.evidence import Filters, Hit
from openbook.agents.retrieve import DEFAULT_MAX_DISTANCE
from openbook.db import chunks as chunk_rows
from openbook.db import documents as doc_rows
from openbook.db import meta

from .. import library, paths
from ..embeddings import Embedder
from ..models.cross_encoder import blended, resolve_reranker
from ..settings import PipelineSettings, RetrievalSettings
from ..store import Store
from . import bm25
from .fusion import Choices, Fusion, RankedList, Reading, anchored, keep_anchor

Mode = Literal["hybrid", "bm25", "vector"]


CALIBRATION_KEY = "fusion_calibration"  # meta key of `openbook tune retrieval`'s result
READING_KEY = "reading_choice"  # meta key of the reading settings chosen at `finetune rewriter --install`


STALE_RATIO = 0.5  # a calibration stops applying when the chunk count moved by more than this

QUERY_VECTORS = 64  # recent query embeddings kept: the gate re-asks for the question's nearest chunk


def stale(calibration: dict | None, chunks: int) -> bool:
    """True when the corpus has changed size by more than ``STALE_RATIO`` since calibration."""
    if not calibration or not calibration.get("chunks"):
        return False
    return abs(chunks - calibration["chunks"]) > STALE_RATIO * calibration["chunks"]


# Retrieval returns the agents' evidence type.
RetrievedChunk = Hit


class Retriever:
    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        settings: RetrievalSettings,
        cache_dir: Path | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self._cache = bm25.cache_path(cache_dir or paths.cache_dir(), f"{store.where()}|{store.schema}")
        self._index: bm25.BM25Index | None = None
        self._lock = threading.Lock()
        self.builds = 0  # full BM25 builds by this retriever (loads from the cache do not count)
        self.loads = 0
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()  # query text -> embedding
        self._vectors_lock = threading.Lock()
        self.reranker, self.reranker_label = resolve_reranker(
            settings.rerank, settings.reranker, settings.rerank_precision
        )

    def warm(self, index: bool = True) -> None:
        """Load what a first search would, so that the first question does not wait for it: the
        embedding model, the BM25 index (``index``: the library has chunks) and the reranker."""
        self.embedder.embed_batch(["warm up"])
        if index:
            self.bm25_index()
        if self.reranker is not None:
            self.reranker.load()

    # -- the BM25 index ------------------------------------------------------------------------
    def generation(self) -> int:
        return chunk_rows.generation(self.store)

    def bm25_index(self) -> bm25.BM25Index:
        """The current index: in memory, else the disk cache, else built (then cached)."""
        generation = self.generation()
        with self._lock:
            s = self.settings
            if self._index is not None and self._index.generation == generation:
                return self._index
            index = bm25.load(self._cache, generation, s.bm25_k1, s.bm25_b)
            if index is not None:
                self.loads += 1
            else:
                index = self._build()
                bm25.save(self._cache, index)
            self._index = index
            return index

    def _build(self) -> bm25.BM25Index:
        generation, rows = chunk_rows.bm25_corpus(self.store)
        texts = [library.embedding_text(r["title"], r["text"], r["metadata"]) for r in rows]
        self.builds += 1
        return bm25.BM25Index.build(
            [r["id"] for r in rows], texts, generation, self.settings.bm25_k1, self.settings.bm25_b
        )

    # -- legs -----------------------------------------------------------------------------------
    def embed(self, texts: list[str]) -> np.ndarray:
        """The queries' embeddings, the last ``QUERY_VECTORS`` kept: a turn's evidence gate asks
        for the nearest chunk to a question the vector leg has just embedded."""
        if not texts:
            return np.zeros((0, self.embedder.identity.dimension), dtype=np.float32)
        with self._vectors_lock:
            known = {t: self._vectors[t] for t in texts if t in self._vectors}
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        if missing:
            known |= dict(zip(missing, self.embedder.embed_batch(missing), strict=True))
        with self._vectors_lock:
            for text, vector in known.items():
                self._vectors[text] = vector
                self._vectors.move_to_end(text)
            while len(self._vectors) > QUERY_VECTORS:
                self._vectors.popitem(last=False)
        return np.stack([known[t] for t in texts])

    def _filter_documents(self, filters: Filters | None) -> list[int] | None:
        if filters is None or not filters.active():
            return None
        prefixes = [
            p.rstrip("/").replace("%", "\\%").replace("_", "\\_") + "%" for p in filters.path_prefixes
        ]
        return doc_rows.filter_ids(self.store, filters.document_ids, prefixes)

    def bm25_leg(
        self, queries: list[str], depth: int, document_ids: list[int] | None = None
    ) -> list[RankedList]:
        index = self.bm25_index()
        allowed = None
        if document_ids is not None:
            ids = chunk_rows.ids_of_documents(self.store, document_ids)
            allowed = index.mask_for(np.asarray(ids, dtype=np.int64))
        return [
            RankedList("bm25", i, index.search(q, depth, allowed), scale=index.score_text(q, q))
            for i, q in enumerate(queries)
        ]

    def vector_leg(
        self, vectors: np.ndarray, depth: int, document_ids: list[int] | None = None
    ) -> list[RankedList]:
        found = chunk_rows.vector_search(self.store, vectors, depth, self.settings.ef_search, document_ids)
        return [RankedList("vector", i, hits) for i, hits in enumerate(found)]

    def legs(
        self,
        queries: list[str],
        mode: Mode,
        *,
        filters: Filters | None = None,
        vectors: np.ndarray | None = None,
        depth: int | None = None,
    ) -> tuple[list[RankedList], dict[str, float]]:
        """Each query's ranked list per leg, and the milliseconds each leg took."""
        depth = depth or self.settings.candidates
        document_ids = self._filter_documents(filters)
        timings: dict[str, float] = {}
        lists: list[RankedList] = []
        if document_ids == [] or not queries:
            return lists, timings
        if mode in ("hybrid", "bm25"):
            t0 = time.perf_counter()
            lists += self.bm25_leg(queries, depth, document_ids)
            timings["bm25_ms"] = (time.perf_counter() - t0) * 1000
            cancel.check()
        if mode in ("hybrid", "vector"):
            t0 = time.perf_counter()
            if vectors is None:
                vectors = self.embed(queries)
            timings["embed_ms"] = (time.perf_counter() - t0) * 1000
            cancel.check()
            t1 = time.perf_counter()
            lists += self.vector_leg(vectors, depth, document_ids)
            timings["vector_ms"] = (time.perf_counter() - t1) * 1000
        return lists, timings

    def nearest_distance(self, text: str, filters: Filters | None = None) -> float | None:
        """Cosine distance from ``text`` to its nearest chunk (within ``filters``); None in BM25
        mode or when no chunk qualifies."""
        if self.settings.mode == "bm25":
            return None
        document_ids = self._filter_documents(filters)
        if document_ids == []:
            return None
        found = self.vector_leg(self.embed([text]), 1, document_ids)
        return found[0].hits[0][1] if found and found[0].hits else None

    def gate(self, setting: float | None = None) -> tuple[float, str]:
        """The evidence gate's threshold for this library and where it comes from: "set" (the
        ``pipeline.max_distance`` given as ``setting``), "calibrated" (`openbook tune retrieval`,
        same embedding model, corpus about the same size) or "default"."""
        if setting is not None:
            return setting, "set"
        if self.settings.calibrated:
            stored = meta.get(self.store, CALIBRATION_KEY)
            calibrated = (stored or {}).get("gate")
            if calibrated and stored and stored.get("embedding") == self.embedder.identity.model:
                if not stale(stored, chunk_rows.count(self.store)):
                    return float(calibrated["max_distance"]), "calibrated"
        return DEFAULT_MAX_DISTANCE, "default"

    # -- fused ----------------------------------------------------------------------------------
    def fusion(self) -> tuple[Fusion, str]:
        """The fusion in force, and where it comes from: "calibrated", "default", or "default
        (calibration stale: …)" when the library has changed size a lot since it was tuned."""
        if self.settings.calibrated:
            stored = meta.get(self.store, CALIBRATION_KEY)
            if stored and stored.get("fusion"):
                now = chunk_rows.count(self.store)
                if not stale(stored, now):
                    return Fusion.model_validate(stored["fusion"]), "calibrated"
                return self.settings.default_fusion(), (
                    f"default (calibration stale: {stored['chunks']} chunks then, {now} now; "
                    "rerun openbook tune retrieval)"
                )
        return self.settings.default_fusion(), "default"

    def reading_choice(self) -> dict | None:
        """The reading rewriter's anchor rank and order weight chosen for this library on
        held-out questions when it was installed (``finetune rewriter --install``), if any."""
        if not self.settings.calibrated:
            return None
        return meta.get(self.store, READING_KEY) or None

    def reading(self, pipeline: PipelineSettings | None = None) -> Reading:
        """A reading rewriter's settings in force: the hits it reads (``pipeline.read_hits``),
        its anchor rank and order weight, and where they come from: "set" (all given),
        "chosen at install" (``reading_choice``, for those unset), or "default". Without
        ``pipeline``, the source is that of the anchor rank and order weight alone."""
        s, p, chosen = self.settings, pipeline or PipelineSettings(), self.reading_choice()
        given = [v is not None for v in (s.read_anchor_rank, s.read_order_weight)]
        if pipeline is not None:
            given.append(p.read_hits is not None)
        if all(given):
            source = "set"
        elif chosen:
            source = "chosen at install"
        else:
            source = "set, else default" if any(given) else "default"
        rank, _weight, order = s.mix(True, chosen)
        return Reading(p.hits_to_read(chosen), rank, order, source)

    def choices(self, pipeline: PipelineSettings | None = None) -> Choices:
        """The fusion and reading settings in force now (a turn resolves them once)."""
        fusion, source = self.fusion()
        s = self.settings
        return Choices(
            fusion, source, s.anchor_rank, s.rewrite_weight, self.reading(pipeline), s.read_rewrite_weight
        )

    def fuse(
        self,
        lists: list[RankedList],
        k: int,
        originals: int = 1,
        read: Sequence[int] = (),
        choices: Choices | None = None,
    ) -> list[RetrievedChunk]:
        """``originals``: how many leading queries are the question itself (not rewrites);
        ``read`` (not empty): the rewrites came from a reading rewriter (``Choices.mix``), and
        this is its order of the hits it read, fused in at its order weight."""
        c = choices or self.choices()
        rank, weight, order = c.mix(bool(read))
        fused = anchored(c.fusion, lists, originals, rank, weight, list(read), order)[:k]
        if not fused:
            return []
        rows = chunk_rows.by_ids(self.store, [f.chunk_id for f in fused])
        out = []
        for rank, f in enumerate((f for f in fused if f.chunk_id in rows), start=1):
            r = rows[f.chunk_id]
            out.append(
                RetrievedChunk(
                    chunk_id=f.chunk_id,
                    document_id=r["document_id"],
                    source=r["source"],
                    title=r["title"],
                    ordinal=r["ordinal"],
                    text=r["text"],
                    metadata=r["metadata"],
                    rank=rank,
                    fused_score=f.score,
                    bm25_rank=f.bm25_rank,
                    bm25_score=f.bm25_score,
                    vector_rank=f.vector_rank,
                    vector_distance=f.vector_distance,
                    matched_queries=sorted(f.queries),
                )
            )
        return out

    def retrieve(
        self,
        queries: list[str] | str,
        k: int | None = None,
        *,
        mode: Mode | None = None,
        filters: Filters | None = None,
        read: Sequence[int] = (),
        choices: Choices | None = None,
        rerank: bool = True,
    ) -> list[RetrievedChunk]:
        """Fuse the results of every query (question, rewrites, HyDE passages) in every leg, then
        rerank the top ``rerank_candidates`` by the question (the first query) when a reranker
        is in force and ``rerank``; ``read``: the rewrites came from a reading rewriter;
        ``choices``: the fusion resolved for this turn (else resolved now). A stopped turn
        (``kit.cancel``) stops between legs."""
        if isinstance(queries, str):
            queries = [queries]
        queries = [q for q in dict.fromkeys(q.strip() for q in queries) if q]
        if not queries:
            return []
        mode = mode or self.settings.mode
        cancel.check()
        vectors = self.embed(queries) if mode != "bm25" else None
        cancel.check()
        lists, _ = self.legs(queries, mode, filters=filters, vectors=vectors)
        cancel.check()
        k = k or self.settings.k
        reranking = rerank and self.reranker is not None
        depth = max(k, self.settings.rerank_candidates) if reranking else k
        c = choices or self.choices()
        hits = self.fuse(lists, depth, read=read, choices=c)
        missing = [h.chunk_id for h in hits if h.vector_distance is None]
        if vectors is not None and missing:
            # A chunk only BM25 found still gets its distance to the nearest query, so that the
            # evidence gate judges it instead of dropping it for want of one.
            found = chunk_rows.distances(self.store, vectors, missing)
            for h in hits:
                if h.vector_distance is None and h.chunk_id in found:
                    h.vector_distance = found[h.chunk_id]
        if not reranking or not hits:
            return hits
        cancel.check()
        own = None
        if len(queries) > 1:  # rewrites searched too: the question's own top hit is anchored
            alone = c.fusion.fuse([r for r in lists if r.query_index == 0])
            own = alone[0].chunk_id if alone else None
        return self.rerank(queries[0], hits, k, own, c.mix(bool(read))[0])

    def rerank(
        self, question: str, hits: list[RetrievedChunk], k: int, own: int | None = None, anchor_rank: int = 0
    ) -> list[RetrievedChunk]:
        """``hits`` (in fused order) reordered by the reranker's score of each against
        ``question`` blended with their fused rank (``blended``), the first ``k``. ``own`` (the
        question's own top hit, when rewrites were searched too) stays at rank <= ``anchor_rank``
        unless that many hits score ``rerank_margin`` above it."""
        assert self.reranker is not None
        prior = self.prior()
        scores = self.reranker.score(question, [h.text for h in hits])
        key: dict[int, float] = {}
        for fused_rank, (h, score) in enumerate(zip(hits, scores, strict=True), start=1):
            h.rerank_score, h.fused_rank = round(score, 4), fused_rank
            key[h.chunk_id] = blended(score, fused_rank, prior)
        order = sorted(hits, key=lambda h: -key[h.chunk_id])
        if own is not None and anchor_rank >= 1:
            margin = self.settings.rerank_margin
            order = keep_anchor(
                order, own, anchor_rank, margin, lambda h: key[h.chunk_id], lambda h: h.chunk_id
            )
        for rank, h in enumerate(order, start=1):
            h.rank = rank
        return order[:k]

    def prior(self) -> float:
        """The fused order's weight in a reranked order: the setting, else the reranker's own."""
        s = self.settings.rerank_prior
        return s if s is not None else (self.reranker.prior if self.reranker else 0.0)

    def rerank_note(self) -> str:
        """What the reranker did, for the trace."""
        if self.reranker is None:
            return f"reranker: {self.reranker_label}"
        return (
            f"reranked the top {self.settings.rerank_candidates} fused hits with "
            f"{self.reranker_label}, {self.reranker.precision}, blended with the "
            f"fused order at weight {self.prior():g}"
        )

"""``openbook eval retrieval``: BM25, vector and hybrid retrieval measured on a dataset.

The dataset goes into its own schema (``eval_<fingerprint>``) of the same database, so the
user's library is never touched; a second run on the same dataset and settings reuses it.
Every query's legs are computed once and fused per mode, so the modes see identical candidates.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from openbook.agents.rewriter import QueryLikelihood
from openbook.db import chunks as chunk_rows

from ..embeddings import Embedder
from ..retrieval.fusion import anchored
from ..retrieval.retriever import Retriever
from ..settings import Settings
from ..store import Store
from .datasets import RetrievalDataset
from .metrics import all_metrics
from .rewrites import Rewritten, rewrites_for
from .schemas import eval_schema, ingest_dataset, isolated_settings

MODES = ("bm25", "vector", "hybrid")


def question_ids(
    ds: RetrievalDataset, split: str = "all", limit: int | None = None, seed: int = 0
) -> list[str]:
    """The questions ``evaluate`` asks: those of ``split`` ("all", or the articles of "train" /
    "test" as `eval qa` splits them), a seeded sample of ``limit`` of them."""
    qids = sorted(ds.qrels)
    if split != "all":
        from .qa_data import split_of

        qids = [q for q in qids if split_of(ds.name, ds.groups.get(q, q)) == split]
    if limit and limit < len(qids):
        qids = sorted(random.Random(seed).sample(qids, limit))
    return qids


def evaluate(
    ds: RetrievalDataset,
    settings: Settings,
    embedder: Embedder,
    *,
    modes: tuple[str, ...] = MODES,
    limit: int | None = None,
    k: int = 10,
    seed: int = 0,
    rewriter: Any = None,
    split: str = "all",
    say: Callable[[str], None] = lambda _m: None,
) -> dict[str, Any]:
    """With a ``rewriter`` model, also hybrid retrieval of the question plus its rewrites (the
    rewrite step's keywords and HyDE passage), with the anchor off and at ``anchor_rank``."""
    schema = eval_schema(ds, settings, embedder)
    eval_settings = isolated_settings(settings, schema)
    qids = question_ids(ds, split, limit, seed)
    rewritten: dict[str, Rewritten] = {}
    rewriter_id = None
    with Store(eval_settings, embedding=embedder.identity) as store:
        store.check_embedding(embedder.identity)
        ingest_dataset(store, embedder, ds, eval_settings, say)
        retriever = Retriever(store, embedder, eval_settings.retrieval)
        if rewriter is not None:
            from .. import paths
            from ..turn import LibraryAccess

            questions = {q: ds.queries[q] for q in qids}
            rewritten, rewriter_id = rewrites_for(
                rewriter, questions, paths.cache_dir(), say, LibraryAccess(store, retriever),
                f"{schema}|{retriever.fusion()[0].label()}|{chunk_rows.count(store)}",
                settings.pipeline.read_hits,
            )  # fmt: skip
            modes = (*modes, "rewrites", "anchored")
        if "hybrid" in modes and retriever.reranker is not None:
            modes = (*modes, "hybrid+rerank")
            if rewritten:  # as a turn searches: the anchored fusion, reranked, its anchor kept
                modes = (*modes, "anchored+rerank")
        doc_of = {cid: src.split(":", 1)[1] for cid, src in chunk_rows.sources(store).items()}
        retriever.bm25_index()
        say(f"Embedding {len(qids)} queries…")
        t0 = time.perf_counter()
        vectors = embedder.embed_batch([ds.queries[q] for q in qids])
        embed_s = time.perf_counter() - t0
        s = eval_settings.retrieval
        fusion, source = retriever.fusion()
        # a reading rewriter's rewrites are weighed as a turn weighs them (settings.mix)
        rank, weight, order_weight = s.mix(isinstance(rewriter, QueryLikelihood))
        depth = max(s.candidates, 3 * k)
        sums: dict[str, dict[str, float]] = {m: {} for m in modes}
        leg_ms = {"bm25": 0.0, "vector": 0.0, "rerank": 0.0}
        say(f"Retrieving for {len(qids)} queries…")
        for i, qid in enumerate(qids):
            lists, timing = retriever.legs(
                [ds.queries[qid]], "hybrid", vectors=vectors[i : i + 1], depth=depth
            )
            leg_ms["bm25"] += timing.get("bm25_ms", 0.0)
            leg_ms["vector"] += timing.get("vector_ms", 0.0)
            if rewritten:
                extra, _ = retriever.legs(rewritten[qid].texts, "hybrid", depth=depth)
                for r in extra:
                    r.query_index += 1
                rewrite_lists = lists + extra
            for mode in modes:
                if mode == "anchored+rerank":
                    read = rewritten[qid].order if isinstance(rewriter, QueryLikelihood) else []
                    top = retriever.fuse(rewrite_lists, max(k, s.rerank_candidates), read=read)
                    alone = fusion.fuse(lists)
                    own = alone[0].chunk_id if alone else None
                    reranked = retriever.rerank(ds.queries[qid], top, max(k, s.rerank_candidates), own, rank)
                    chunk_ids = [h.chunk_id for h in reranked]
                elif mode == "hybrid+rerank":
                    t1 = time.perf_counter()
                    top = retriever.fuse(lists, s.rerank_candidates)
                    chunk_ids = [
                        h.chunk_id for h in retriever.rerank(ds.queries[qid], top, s.rerank_candidates)
                    ]
                    leg_ms["rerank"] += (time.perf_counter() - t1) * 1000
                else:
                    if mode == "rewrites":
                        fused = anchored(fusion, rewrite_lists, 1, 0)
                    elif mode == "anchored":
                        order = rewritten[qid].order
                        fused = anchored(fusion, rewrite_lists, 1, rank, weight, order, order_weight)
                    else:
                        fused = fusion.fuse([r for r in lists if mode == "hybrid" or r.leg == mode])
                    chunk_ids = [f.chunk_id for f in fused]
                ranked = list(dict.fromkeys(doc_of[c] for c in chunk_ids))[: max(k, 10)]
                for name, value in all_metrics(ranked, ds.qrels[qid], k).items():
                    sums[mode][name] = sums[mode].get(name, 0.0) + value
    n = max(len(qids), 1)
    return {
        "dataset": ds.name,
        "documents": len(ds.docs),
        "queries": len(qids),
        "split": split,
        "schema": schema,
        "settings": {
            "fusion": fusion.model_dump(),
            "fusion_source": source,
            "rewriter": rewriter_id,
            "anchor_rank": rank,
            "rewrite_weight": weight,
            "read_order_weight": order_weight,
            "candidates": depth,
            "ef_search": s.ef_search,
            "reranker": retriever.reranker_label,
            "rerank_candidates": s.rerank_candidates,
            "rerank_precision": retriever.reranker.precision if retriever.reranker else None,
            "rerank_margin": s.rerank_margin,
        },
        "metrics": {m: {name: round(v / n, 4) for name, v in sums[m].items()} for m in modes},
        "mean_ms": {
            "embed_query": round(embed_s * 1000 / n, 2),
            "bm25": round(leg_ms["bm25"] / n, 2),
            "vector": round(leg_ms["vector"] / n, 2),
            "rerank": round(leg_ms["rerank"] / n, 2),
        },
    }


def as_table(result: dict[str, Any]) -> str:
    metrics = result["metrics"]
    names = list(next(iter(metrics.values())).keys())
    lines = [
        f"{result['dataset']}: {result['queries']} queries ({result.get('split', 'all')}), "
        f"{result['documents']} documents",
        f"{'mode':<14}" + "".join(f"{n:>11}" for n in names),
    ]
    for mode, values in metrics.items():
        lines.append(f"{mode:<14}" + "".join(f"{values[n]:>11.4f}" for n in names))
    if result["settings"].get("rewriter"):
        lines.append(
            f"rewrites: hybrid of the question plus {result['settings']['rewriter']}'s rewrites; "
            f"anchored: rewrites weighted {result['settings']['rewrite_weight']:g}, the question's own "
            f"top hit kept at rank <= {result['settings']['anchor_rank']}"
            + (
                f"; the reading rewriter's order of its hits fused at weight {w:g}"
                if (w := result["settings"].get("read_order_weight"))
                else ""
            )
            + (
                f"; anchored+rerank: the anchored fusion reranked, the question's own top hit kept at "
                f"that rank unless outscored by {m:g}"
                if "anchored+rerank" in metrics and (m := result["settings"].get("rerank_margin")) is not None
                else ""
            )
        )
    return "\n".join(lines)


__all__ = ["evaluate", "as_table", "MODES", "np"]

"""Tune fusion on retrieval datasets: compute each query's legs once, then score many
(rrf_k, bm25_weight, vector_weight) settings by nDCG@10.

    .venv/bin/python bench/tune_fusion.py DATASET... [--limit 2000]

Datasets are ingested into their isolated eval schemas the same way `openbook eval retrieval`
does it (and reused by it afterwards).
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

from openbook.assistant.embeddings import make_embedder
from openbook.assistant.evaluation import retrieval_eval as ev
from openbook.assistant.evaluation.datasets import load
from openbook.assistant.evaluation.metrics import ndcg_at
from openbook.assistant.retrieval.fusion import rrf
from openbook.assistant.retrieval.retriever import Retriever
from openbook.assistant.settings import load_settings
from openbook.assistant.store import Store
from openbook.db import chunks as chunk_rows

GRID = {"rrf_k": [60, 20, 5], "bm25_weight": [1.0, 1.5, 2.0, 3.0], "vector_weight": [1.0]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("datasets", nargs="+", type=Path)
    ap.add_argument("--limit", type=int, default=2000)
    ap.add_argument("--rrf-k", type=int, nargs="+", default=GRID["rrf_k"])
    ap.add_argument("--bm25-weight", type=float, nargs="+", default=GRID["bm25_weight"])
    ap.add_argument("--vector-weight", type=float, nargs="+", default=GRID["vector_weight"])
    args = ap.parse_args()
    grid = [args.rrf_k, args.bm25_weight, args.vector_weight]
    settings = load_settings()
    embedder = make_embedder(settings.embedding, settings.ollama)
    table: dict[tuple, list[float]] = {}
    for path in args.datasets:
        ds = load(path)
        schema = ev.eval_schema(ds, settings, embedder)
        eval_settings = load_settings({"database": {"db_schema": schema}})
        qids = sorted(ds.qrels)[: args.limit] if args.limit else sorted(ds.qrels)
        import random

        if args.limit and args.limit < len(ds.qrels):
            qids = sorted(random.Random(0).sample(sorted(ds.qrels), args.limit))
        with Store(eval_settings, embedding=embedder.identity) as store:
            ev._ensure_ingested(store, embedder, ds, eval_settings, print)
            retriever = Retriever(store, embedder, eval_settings.retrieval)
            doc_of = {cid: src.split(":", 1)[1] for cid, src in chunk_rows.sources(store).items()}
            vectors = embedder.embed_batch([ds.queries[q] for q in qids])
            legs = [
                retriever.legs([ds.queries[q]], "hybrid", vectors=vectors[i : i + 1], depth=50)[0]
                for i, q in enumerate(qids)
            ]
        row = [f"{ds.name:<24}"]
        for mode in ("bm25", "vector"):
            score = sum(
                ndcg_at(
                    list(
                        dict.fromkeys(
                            doc_of[f.chunk_id] for f in rrf([r for r in lists if r.leg == mode], {}, 60)
                        )
                    )[:10],
                    ds.qrels[q],
                )
                for q, lists in zip(qids, legs, strict=True)
            ) / len(qids)
            row.append(f"{mode} {score:.4f}")
        print("  ".join(row))
        for combo in itertools.product(*grid):
            rk, wb, wv = combo
            score = sum(
                ndcg_at(
                    list(
                        dict.fromkeys(doc_of[f.chunk_id] for f in rrf(lists, {"bm25": wb, "vector": wv}, rk))
                    )[:10],
                    ds.qrels[q],
                )
                for q, lists in zip(qids, legs, strict=True)
            ) / len(qids)
            table.setdefault(combo, []).append(score)
            print(f"   rrf_k={rk:<3} bm25={wb:<4} vector={wv:<4} hybrid nDCG@10 {score:.4f}")


if __name__ == "__main__":
    main()

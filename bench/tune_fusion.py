"""Fusion on the dev corpora: each query's legs are computed once (and cached), then every
candidate of ``calibrate.grid()`` (weighted RRF over k and BM25 weight; normalised-score convex
combination over alpha) re-fuses them and is scored by nDCG@10.

    .venv/bin/python bench/tune_fusion.py DATASET... [--limit 2000] [--json OUT]

Prints, per corpus, BM25 alone, vector alone, RRF(k=60), the current default and the best
candidate; then the candidates that meet the safe-default rule on *every* corpus (nDCG@10 ≥ the
better leg − 0.01 and ≥ RRF(k=60) − 0.005), best mean first. Datasets are ingested into their
isolated eval schemas exactly as `openbook eval retrieval` does it (and reused by it).
"""

from __future__ import annotations

import argparse
import json
import pickle
import random
from pathlib import Path

from openbook.assistant.embeddings import make_embedder
from openbook.assistant.evaluation import retrieval_eval as ev
from openbook.assistant.evaluation.datasets import load
from openbook.assistant.retrieval.fusion import Fusion
from openbook.assistant.retrieval.retriever import Retriever
from openbook.assistant.settings import load_settings
from openbook.assistant.store import Store
from openbook.assistant.tuning import calibrate
from openbook.db import chunks as chunk_rows

RRF60 = Fusion(method="rrf", rrf_k=60)


def cases_of(path: Path, limit: int, cache: Path) -> tuple[str, list[calibrate.Case], dict[int, str]]:
    settings = load_settings()
    embedder = make_embedder(settings.embedding, settings.ollama)
    ds = load(path)
    schema = ev.eval_schema(ds, settings, embedder)
    stored = cache / f"{schema}-{limit}-v2.pickle"  # v2: BM25 lists carry the query's own score
    if stored.exists():
        return pickle.loads(stored.read_bytes())
    eval_settings = load_settings({"database": {"db_schema": schema}})
    qids = sorted(ds.qrels)
    if limit and limit < len(qids):
        qids = sorted(random.Random(0).sample(qids, limit))
    with Store(eval_settings, embedding=embedder.identity) as store:
        ev.ingest_dataset(store, embedder, ds, eval_settings, print)
        retriever = Retriever(store, embedder, eval_settings.retrieval)
        doc_of = {cid: src.split(":", 1)[1] for cid, src in chunk_rows.sources(store).items()}
        vectors = embedder.embed_batch([ds.queries[q] for q in qids])
        cases = [
            calibrate.Case(
                retriever.legs([ds.queries[q]], "hybrid", vectors=vectors[i : i + 1], depth=50)[0],
                ds.qrels[q],
            )
            for i, q in enumerate(qids)
        ]
    out = (ds.name, cases, doc_of)
    cache.mkdir(parents=True, exist_ok=True)
    stored.write_bytes(pickle.dumps(out))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("datasets", nargs="+", type=Path)
    ap.add_argument("--limit", type=int, default=2000)
    ap.add_argument("--cache", type=Path, default=Path("build/fusion-legs"))
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    s = load_settings().retrieval
    default = s.default_fusion()
    fusions = list(dict.fromkeys([*calibrate.grid(), RRF60, default]))
    table: dict[str, dict[str, float]] = {}
    for path in args.datasets:
        name, cases, doc_of = cases_of(path, args.limit, args.cache)
        key = doc_of.__getitem__
        legs = {
            leg: calibrate.mean(calibrate.per_case(calibrate.leg_only(leg), cases, key))
            for leg in ("bm25", "vector")
        }
        scores = {f.label(): calibrate.mean(v) for f, v in calibrate.sweep(cases, key, fusions).items()}
        table[name] = {**{f"leg {k}": v for k, v in legs.items()}, **scores, "queries": len(cases)}
        best = max(scores, key=scores.__getitem__)
        print(
            f"{name:<28} n={len(cases):<5} bm25 {legs['bm25']:.4f}  vector {legs['vector']:.4f}  "
            f"rrf60 {scores[RRF60.label()]:.4f}  default {scores[default.label()]:.4f}  "
            f"best {scores[best]:.4f} ({best})"
        )
    safe = []
    for f in fusions:
        label = f.label()
        margins = [
            (row[label] - max(row["leg bm25"], row["leg vector"]), row[label] - row[RRF60.label()])
            for row in table.values()
        ]
        if all(a >= -0.01 and b >= -0.005 for a, b in margins):
            safe.append((calibrate.mean([row[label] for row in table.values()]), label, margins))
    print(f"\n{len(safe)} of {len(fusions)} candidates are safe on every corpus; best mean first:")
    for avg, label, margins in sorted(safe, reverse=True)[:15]:
        worst_leg = min(a for a, _ in margins)
        worst_rrf = min(b for _, b in margins)
        print(f"  {avg:.4f}  {label:<32} worst vs better leg {worst_leg:+.4f}, vs rrf60 {worst_rrf:+.4f}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"limit": args.limit, "corpora": table}, indent=1))


if __name__ == "__main__":
    main()

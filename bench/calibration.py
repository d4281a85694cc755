"""Does per-library calibration pay? For each dev corpus: calibrate as `openbook tune retrieval`
does (without storing) on pseudo-queries made from the corpus itself (``masked``, ``generated``),
then score the safe default and the calibrated choice on the corpus's *real* questions (the same
legs as bench/tune_fusion.py, which must have run first: it caches them). ``questions``:
calibrate on real questions of the training articles (`--kind questions --questions FILE`, as a
user with a few dozen known questions would) and score on the held-out articles' questions.

    .venv/bin/python bench/calibration.py DATASET... [--kind masked|generated|questions] [--queries 200]
        [--json bench/figures/fusion/calibration-masked.json]
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from tune_fusion import cases_of

from openbook.assistant.embeddings import make_embedder
from openbook.assistant.evaluation import retrieval_eval as ev
from openbook.assistant.evaluation.datasets import load
from openbook.assistant.evaluation.qa_data import split_of
from openbook.assistant.retrieval import calibrate, tune
from openbook.assistant.retrieval.fusion import Fusion
from openbook.assistant.retrieval.retriever import Retriever
from openbook.assistant.settings import load_settings
from openbook.assistant.store import Store
from openbook.db import chunks as chunk_rows


def _split(ds, split: str, limit: int) -> list[str]:  # type: ignore[no-untyped-def]
    qids = [q for q in sorted(ds.qrels) if split_of(ds.name, ds.groups.get(q, q)) == split]
    return sorted(random.Random(0).sample(qids, limit)) if limit and limit < len(qids) else qids


def _questions_file(ds, split: str, n: int, path: Path) -> Path:  # type: ignore[no-untyped-def]
    """Questions of one split as `tune retrieval --questions` reads them (gold: the stored source)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        json.dumps({"question": ds.queries[q], "gold_doc": f"{ds.name}:{min(ds.qrels[q])}"})
        for q in _split(ds, split, n)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("datasets", nargs="+", type=Path)
    ap.add_argument("--kind", choices=["masked", "generated", "questions"], default="masked")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--limit", type=int, default=2000, help="real questions (as tune_fusion.py)")
    ap.add_argument("--cache", type=Path, default=Path("build/fusion-legs"))
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    settings = load_settings()
    embedder = make_embedder(settings.embedding, settings.ollama)
    teacher = None
    if args.kind == "generated":
        from openbook.assistant.models.resolve import resolve

        teacher = resolve(settings, "teacher").model
    rows = {}
    for path in args.datasets:
        ds = load(path)
        schema = ev.eval_schema(ds, settings, embedder)
        eval_settings = load_settings({"database": {"db_schema": schema}})
        with Store(eval_settings, embedding=embedder.identity) as store:
            retriever = Retriever(store, embedder, eval_settings.retrieval)
            qfile = None
            if args.kind == "questions":
                qfile = _questions_file(ds, "train", args.queries, args.cache / f"{schema}-train.jsonl")
            result = tune.run(
                retriever,
                args.kind,
                args.queries,
                teacher=teacher,
                questions=qfile,
                say=print,  # type: ignore[arg-type]
            )
            if args.kind == "questions":
                qids = _split(ds, "test", args.limit)
                sources = {cid: src.split(":", 1)[1] for cid, src in chunk_rows.sources(store).items()}
                vectors = embedder.embed_batch([ds.queries[q] for q in qids])
                legs = retriever.legs
                cases = [
                    calibrate.Case(
                        legs([ds.queries[q]], "hybrid", vectors=vectors[i : i + 1], depth=50)[0], ds.qrels[q]
                    )
                    for i, q in enumerate(qids)
                ]
                name, doc_of = ds.name, sources
        if args.kind != "questions":
            name, cases, doc_of = cases_of(path, args.limit, args.cache)
        default = settings.retrieval.default_fusion()
        chosen = Fusion.model_validate(result["fusion"])
        real = {
            label: calibrate.per_case(f, cases, doc_of.__getitem__)
            for label, f in (("default", default), ("calibrated", chosen))
        }
        gain, low, high = calibrate.gain_interval(real["calibrated"], real["default"])
        rows[name] = {
            "pseudo": result["figures"] | {"queries": result["queries"], "seconds": result["seconds"]},
            "chosen": result["label"],
            "real_default": round(calibrate.mean(real["default"]), 4),
            "real_calibrated": round(calibrate.mean(real["calibrated"]), 4),
            "real_gain": round(gain, 4),
            "real_gain_ci": [round(low, 4), round(high, 4)],
            "real_queries": len(cases),
        }
        r = rows[name]
        print(
            f"{name:<28} chose {r['chosen']:<26} real nDCG@10 default {r['real_default']:.4f} "
            f"calibrated {r['real_calibrated']:.4f} gain {gain:+.4f} ({low:+.4f}..{high:+.4f})",
            flush=True,
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps({"kind": args.kind, "queries": args.queries, "corpora": rows}, indent=1)
        )


if __name__ == "__main__":
    main()

"""Does per-library calibration pay? For each dev corpus: calibrate on pseudo-queries made from
the corpus itself (as `openbook tune retrieval` does, without storing), then score the safe
default and the calibrated choice on the corpus's *real* questions (the same legs as
bench/tune_fusion.py, which must have run first: it caches them).

    .venv/bin/python bench/calibration.py DATASET... [--kind masked|generated] [--queries 200]
        [--json bench/figures/fusion/calibration-masked.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tune_fusion import cases_of

from openbook.assistant.embeddings import make_embedder
from openbook.assistant.evaluation import retrieval_eval as ev
from openbook.assistant.evaluation.datasets import load
from openbook.assistant.retrieval import calibrate, tune
from openbook.assistant.retrieval.fusion import Fusion
from openbook.assistant.retrieval.retriever import Retriever
from openbook.assistant.settings import load_settings
from openbook.assistant.store import Store


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("datasets", nargs="+", type=Path)
    ap.add_argument("--kind", choices=["masked", "generated"], default="masked")
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
            result = tune.run(retriever, args.kind, args.queries, teacher=teacher, say=print)  # type: ignore[arg-type]
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

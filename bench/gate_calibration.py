"""Calibrating the evidence gate: does the distance from masked pseudo-queries to their nearest
chunk follow the real questions' distances closely enough to set the gate per library?

For each SQuAD-Shifts set (the `openbook eval qa` library, which must exist: run eval qa once):
the gate threshold `openbook tune retrieval --kind masked` would store (``gate.calibrate`` on
the same pseudo-queries that calibrate fusion), then each real question's distance to its
nearest chunk, for the training articles' questions (300), the held-out questions eval qa asks
(the first 100), and 100 held-out questions of the next set (unanswerable here). Reported per
threshold (the fixed default and the calibrated one): the share of answerable questions the gate
lets through, and the share of unanswerable ones it turns away. No model runs.

    .venv/bin/python bench/gate_calibration.py [--json bench/figures/gate/calibration.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from openbook.assistant.embeddings import SentenceTransformerEmbedder
from openbook.assistant.evaluation.qa_data import load_qa, select, unanswerable
from openbook.assistant.evaluation.qa_eval import isolated_settings
from openbook.assistant.evaluation.retrieval_eval import eval_schema
from openbook.assistant.retrieval import gate, tune
from openbook.assistant.retrieval.retriever import Retriever
from openbook.assistant.settings import load_settings
from openbook.assistant.store import Store
from openbook.db import chunks as chunk_rows

SETS = ["new_wiki", "nyt", "reddit", "amazon_reviews"]
DATA = Path.home() / ".cache/openbook/datasets/squad_shifts"


def distances(retriever: Retriever, questions: list[str]) -> list[float]:
    vectors = retriever.embedder.embed_batch(questions)
    return [r.hits[0][1] for r in retriever.vector_leg(vectors, 1) if r.hits]


def share(values: list[float], keep: Any) -> float:
    return round(sum(1 for v in values if keep(v)) / len(values), 3)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--fixed", type=float, default=0.7)
    ap.add_argument("--quantile", type=float, default=gate.QUANTILE)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    embedder = SentenceTransformerEmbedder("all-MiniLM-L6-v2")
    out: dict[str, Any] = {}
    for i, name in enumerate(SETS):
        ds = load_qa(args.data / f"{name}_v1.0.json")
        other = load_qa(args.data / f"{SETS[(i + 1) % len(SETS)]}_v1.0.json")
        settings = isolated_settings(
            load_settings(), eval_schema(ds.as_retrieval(), load_settings(), embedder)
        )
        with Store(settings) as store:
            retriever = Retriever(store, embedder, settings.retrieval)
            pseudo = tune.masked_queries(chunk_rows.all_for_tuning(store), args.queries)
            cases = tune.cases_for(retriever, pseudo, settings.retrieval.candidates)
            calibrated = gate.calibrate(cases, args.quantile)
            assert calibrated is not None
            real = {
                "train": distances(retriever, [q.question for q in select(ds, "train", 300)]),
                "test": distances(retriever, [q.question for q in select(ds, "test", 100)]),
                "unanswerable": distances(retriever, [q.question for q in unanswerable(other, "test", 100)]),
            }
        row: dict[str, Any] = {"calibrated": calibrated}
        for label, t in (("fixed", args.fixed), ("calibrated", calibrated["max_distance"])):
            row[f"{label}_gate"] = {
                "max_distance": t,
                "train_passed": share(real["train"], lambda d, t=t: d <= t),
                "test_passed": share(real["test"], lambda d, t=t: d <= t),
                "unanswerable_blocked": share(real["unanswerable"], lambda d, t=t: d > t),
            }
        row["real_median"] = {k: round(gate.quantile(v, 0.5), 3) for k, v in real.items()}
        out[name] = row
        c, f = row["calibrated_gate"], row["fixed_gate"]
        print(
            f"{name:15s} calibrated {c['max_distance']:.3f}: passed train {c['train_passed']:.0%} "
            f"test {c['test_passed']:.0%}, unanswerable blocked {c['unanswerable_blocked']:.0%} | "
            f"fixed {f['max_distance']}: train {f['train_passed']:.0%} test {f['test_passed']:.0%} "
            f"blocked {f['unanswerable_blocked']:.0%}",
            flush=True,
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()

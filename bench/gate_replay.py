"""What the evidence gate of an `openbook eval qa` run turned away (from its notes), and what
the old gate ("nearest": the nearest *retrieved* chunk to any search text, the rewrites' too)
saw: read back from the run's retrieve spans, the smallest distance among each question's
retrieved chunks, and how many answerable questions it let through and unanswerable ones it
turned away at each threshold. No model runs.

    .venv/bin/python bench/gate_replay.py RUN_DIR DATASET.json [--json out.json]

RUN_DIR is an `eval qa --out` folder of an agent configuration; DATASET the file it asked.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from eval_traces import records_with_spans

from openbook.assistant.embeddings import SentenceTransformerEmbedder
from openbook.assistant.evaluation.qa_data import load_qa

THRESHOLDS = (0.6, 0.65, 0.7, 0.75, 0.8)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("run", type=Path)
    ap.add_argument("dataset", type=Path)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    ds = load_qa(args.dataset)
    near: dict[bool, list[float]] = {True: [], False: []}
    away: dict[bool, int] = {True: 0, False: 0}  # a piece turned away by the run's own gate (notes)
    for r, spans in records_with_spans(args.run, ds, SentenceTransformerEmbedder("all-MiniLM-L6-v2")):
        distances = [
            h["vector_distance"]
            for s in spans
            if s["name"] == "retrieve"
            for h in s["chunks"] or []
            if h.get("vector_distance") is not None
        ]
        if distances:
            near[r["answerable"]].append(min(distances))
        notes = [n for s in spans if s["name"] == "retrieve" for n in s["notes"] or []]
        away[r["answerable"]] += any(n.startswith("evidence gate") and ("(> " in n or "farther" in n)
                                     for n in notes)  # fmt: skip
    out: dict[str, Any] = {
        "run": str(args.run),
        "answerable": len(near[True]),
        "unanswerable": len(near[False]),
    }
    out["run_gate"] = {"answerable_passed": len(near[True]) - away[True], "unanswerable_blocked": away[False]}
    print(f"the run's own gate turned a piece away: of answerable {away[True]}, unanswerable {away[False]}")
    for t in THRESHOLDS:
        passed = sum(d <= t for d in near[True])
        blocked = sum(d > t for d in near[False])
        out[str(t)] = {"answerable_passed": passed, "unanswerable_blocked": blocked}
        print(
            f"{t}: answerable passed {passed}/{len(near[True])}, "
            f"unanswerable turned away {blocked}/{len(near[False])}"
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()

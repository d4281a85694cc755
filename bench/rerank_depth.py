"""How many fused hits must the reranker read? nDCG@10 of held-out questions when only the top
DEPTH of each question's 30 candidates are reranked (the rest can no longer reach the top 10),
for several depths, with one adapter's scores (int8 as served, blended at its card's weight).

    .venv/bin/python bench/rerank_depth.py [--data build/reranker/l6/data] [--adapter FILE]
        [--depths 10,15,20,25,30] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from openbook.assistant.evaluation.metrics import all_metrics
from openbook.assistant.evaluation.qa_metrics import bootstrap_ci
from openbook.assistant.finetune.reranker import read_rows, score_rows
from openbook.assistant.models.cross_encoder import CrossEncoder, blended, shipped_reranker


def per_question(rows: list[dict], scores: list[list[float]], depth: int, prior: float) -> list[float]:
    out = []
    for r, s in zip(rows, scores, strict=True):
        head = sorted(range(min(depth, len(s))), key=lambda j: -blended(s[j], j + 1, prior))
        order = head + list(range(len(head), len(r["candidates"])))
        docs = list(dict.fromkeys(r["candidates"][j]["doc"] for j in order))
        out.append(all_metrics(docs[:10], r["relevant"], 10)["ndcg@10"])
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=Path("build/reranker/l6/data"))
    ap.add_argument("--adapter", type=Path, default=shipped_reranker())
    ap.add_argument("--depths", default="10,15,20,25,30")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    rows = read_rows(args.data / "val.jsonl")
    enc = CrossEncoder(args.adapter)
    scores = score_rows(enc.score, rows)
    full = per_question(rows, scores, 30, enc.prior)
    result: dict = {"adapter": str(args.adapter), "questions": len(rows), "prior": enc.prior, "depths": {}}
    for d in (int(x) for x in args.depths.split(",")):
        these = per_question(rows, scores, d, enc.prior)
        diff = [a - b for a, b in zip(these, full, strict=True)]
        lo, hi = bootstrap_ci(diff, n=2000)
        result["depths"][d] = {
            "ndcg10": round(sum(these) / len(these), 4),
            "minus_depth30": round(sum(diff) / len(diff), 4),
            "ci95": [round(lo, 4), round(hi, 4)],
        }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()

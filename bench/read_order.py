"""How much should a reading rewriter's *order* of the hits it read count? A sweep, from cache.

The reading rewriter scores the question's first hits to pick one (agents/rewriter.py); its whole
ranking of them can also be fused with the hits' order (``retrieval.read_order_weight``,
``fusion.reordered``), under the anchor. This runs `openbook eval retrieval --rewrites
--rewriter ADAPTER` on a dataset's held-out questions once per setting in one process; the
rewrites and the order are cached per adapter and library, so only the first run scores
passages (about 11 s a question on 2 cores) and each further setting costs a minute.

    .venv/bin/python bench/read_order.py DATASET ADAPTER [--limit 200] [--out FILE.json]
        [--grid 0.25:1:0,0.25:1:1,...]   (rewrite weight : anchor rank : order weight)
        [--read-hits 20]                  (how many of the question's hits it reads; default 10)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from openbook.assistant.embeddings import make_embedder
from openbook.assistant.evaluation.datasets import load
from openbook.assistant.evaluation.retrieval_eval import evaluate
from openbook.assistant.models.resolve import learned_role, resolve
from openbook.assistant.settings import load_settings

GRID = (
    "0.25:1:0,0.25:1:0.5,0.25:1:1,0.25:1:2,0.25:1:4,0.25:1:100,"
    "0.25:2:1,0.25:2:2,0.25:2:100,0.25:0:100,0.5:2:0,0.5:2:1,0.5:1:1"
)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("dataset", type=Path)
    p.add_argument("adapter", type=Path)
    p.add_argument("--limit", type=int, default=200)
    p.add_argument("--grid", default=GRID)
    p.add_argument("--read-hits", type=int, help="how many hits the rewriter reads (pipeline.read_hits)")
    p.add_argument("--out", type=Path)
    a = p.parse_args(argv)
    settings = load_settings()
    if a.read_hits:
        settings.pipeline.read_hits = a.read_hits
    settings.models.rewriter = learned_role(a.adapter)
    model = resolve(settings, "rewriter").model
    embedder = make_embedder(settings.embedding, settings.ollama)
    ds = load(a.dataset)
    rows = []
    for cell in a.grid.split(","):
        weight, rank, order = cell.split(":")
        s = settings.model_copy(deep=True)
        s.retrieval.read_rewrite_weight = float(weight)
        s.retrieval.read_anchor_rank = int(rank)
        s.retrieval.read_order_weight = float(order)
        t0 = time.time()
        say = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
        r = evaluate(ds, s, embedder, modes=("hybrid",), limit=a.limit, split="test", rewriter=model, say=say)
        alone, read = r["metrics"]["hybrid"], r["metrics"]["anchored"]
        row = {
            "rewrite_weight": float(weight),
            "anchor_rank": int(rank),
            "order_weight": float(order),
            **{f"alone_{m}": alone[m] for m in ("hit@1", "hit@5", "ndcg@10")},
            **{m: read[m] for m in ("hit@1", "hit@5", "hit@10", "ndcg@10")},
            "hit@5_points": round(100 * (read["hit@5"] - alone["hit@5"]), 1),
        }
        rows.append(row)
        print(json.dumps(row) + f"  ({time.time() - t0:.0f} s)", flush=True)
    result = {"dataset": ds.name, "adapter": r["settings"]["rewriter"], "questions": r["queries"]}
    result["read_hits"] = settings.pipeline.read_hits
    result["rows"] = rows
    if a.out:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()

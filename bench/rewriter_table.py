"""The rewriter comparison table (markdown) from two `eval retrieval --rewrites --json` outputs:
the base model's rewrites and the learned rewriter's, on the same held-out questions.

    .venv/bin/python bench/rewriter_table.py EVAL_BASE.json EVAL_LEARNED.json
"""

from __future__ import annotations

import json
import sys


def main() -> None:
    base, learned = (json.loads(open(p).read()) for p in sys.argv[1:3])
    by_name = {r["dataset"]: r for r in learned}
    head = ["corpus (held-out questions)", "question alone", "+ base rewrite", "+ learned rewrite"]
    print("| " + " | ".join([*head, "learned − alone"]) + " |")
    print("|---|---|---|---|---|")
    for b in base:
        lrn = by_name.get(b["dataset"])
        if lrn is None:
            continue
        assert lrn["queries"] == b["queries"], "the two runs must use the same questions"
        alone = b["metrics"]["hybrid"]
        mode = "anchored"
        cells = [f"{alone['hit@5']:.3f} / {alone['ndcg@10']:.3f}"]
        for run in (b, lrn):
            m = run["metrics"][mode]
            cells.append(f"{m['hit@5']:.3f} / {m['ndcg@10']:.3f}")
        m = lrn["metrics"][mode]
        hit = 100 * (m["hit@5"] - alone["hit@5"])
        delta = f"{hit:+.1f} pts hit@5, {m['ndcg@10'] - alone['ndcg@10']:+.4f} nDCG"
        print(f"| {b['dataset']} ({b['queries']}) | " + " | ".join(cells) + f" | {delta} |")
    print("\nCells: hit@5 / nDCG@10 of hybrid retrieval; rewrites as turns search them (anchored, weighted).")


if __name__ == "__main__":
    main()

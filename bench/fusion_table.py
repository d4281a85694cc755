"""The README's fusion table (markdown) from bench/tune_fusion.py's --json output.

.venv/bin/python bench/fusion_table.py bench/figures/fusion/sweep.json
"""

from __future__ import annotations

import json
import sys

SHOWN = {
    "RRF k=60": "rrf k=60 bm25=1 vector=1",
    "old default (RRF k=3, BM25×3)": "rrf k=3 bm25=3 vector=1",
    "convex (min-max) α=0.5": "convex alpha=0.5",
    "**absolute α=0.5 (default)**": "absolute alpha=0.5",
}


def main() -> None:
    corpora = json.loads(open(sys.argv[1]).read())["corpora"]
    head = ["corpus (questions)", "BM25", "vector", *SHOWN, "best in grid"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for name, row in corpora.items():
        better = max(row["leg bm25"], row["leg vector"])
        cells = [f"{row['leg bm25']:.4f}", f"{row['leg vector']:.4f}"]
        for label in SHOWN.values():
            mark = (
                "" if row[label] >= better - 0.01 and row[label] >= row[SHOWN["RRF k=60"]] - 0.005 else " ✗"
            )
            cells.append(f"{row[label]:.4f}{mark}")
        grid = {k: v for k, v in row.items() if not k.startswith("leg ") and k != "queries"}
        best = max(grid, key=grid.__getitem__)
        cells.append(f"{grid[best]:.4f} ({best})")
        print(f"| {name} ({row['queries']}) | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()

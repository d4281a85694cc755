"""The README's calibration table (markdown) from bench/calibration.py's JSON files, one per kind.

.venv/bin/python bench/calibration_table.py bench/figures/fusion/calibration-{masked,generated,questions}.json
"""

from __future__ import annotations

import json
import sys


def main() -> None:
    runs = [json.loads(open(p).read()) for p in sys.argv[1:]]
    head = ["corpus"] + [f"{r['kind']}: chose → real nDCG@10 gain (95% CI)" for r in runs]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for name in runs[0]["corpora"]:
        cells = []
        for r in runs:
            c = r["corpora"][name]
            low, high = c["real_gain_ci"]
            n = c["pseudo"]["queries"]
            cells.append(f"{c['chosen']} ({n} q) → {c['real_gain']:+.4f} ({low:+.4f}..{high:+.4f})")
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()

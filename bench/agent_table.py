"""The README's table of `bench/agent_ablation.sh`: one row per set and variant.

.venv/bin/python bench/agent_table.py bench/figures/qa/agent-reader
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

VARIANTS = [
    "rag",
    "old",
    "chunk-k6",
    "chunk-nofilter-k6",
    "passages-k6",
    "note-k6",
    "blend-note-k6",
    "passages-k6-learned-rewriter",
    "no-support",
    "support-then-reread",
    "nearest-gate",
    "question-gate",
    "defaults",
    "calibrated-gate-q0.98",
    "calibrated-gate-q0.995",
]
SETS = ["new_wiki", "nyt", "reddit", "amazon_reviews"]


def pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}"


def main() -> None:
    root = Path(sys.argv[1])
    print("| set | variant | F1 (95% CI) | EM | gold@k | declines ans. / unans. | tokens in | p50 s |")
    print("|---|---|---|---|---|---|---|---|")
    for s in SETS:
        for v in VARIANTS:
            f = root / f"{s}-{v}" / "summary.json"
            if not f.exists():
                continue
            (c,) = json.loads(f.read_text())["configs"].values()
            lo, hi = c["f1_ci95"]
            print(
                f"| {s} ({c['answerable']}+{c['unanswerable']}) | {v} "
                f"| **{pct(c['f1'])}** ({pct(lo)}–{pct(hi)}) "
                f"| {pct(c['em'])} | {pct(c['gold_hit'])} | {pct(c['decline_answerable'])} / "
                f"{pct(c['decline_unanswerable'])} | {c['tokens_in']:.0f} | {c['latency_p50_s']:.2f} |"
            )


if __name__ == "__main__":
    main()

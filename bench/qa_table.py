"""The README's answer-quality table from ``openbook eval qa`` summaries.

.venv/bin/python bench/qa_table.py [bench/figures/qa | bench/results/qa]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tables import header, pct, row

COLUMNS = (
    "set", "config", "F1 (95% CI)", "EM", "contains", "cite P", "cite R", "gold@k",
    "declines (ans. / unans.)", "p50 / p95 s", "tokens in / out", "wall s",
)  # fmt: skip


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "bench/figures/qa")
    # bench/figures/qa/<set>.summary.json (committed, merged) or bench/results/qa/<set>/summary.json
    found = {p.name.removesuffix(".summary.json"): p for p in root.glob("*.summary.json")}
    found = found or {p.parent.name: p for p in root.glob("*/summary.json")}
    print("\n".join(header(COLUMNS)))
    for name, summary_path in sorted(found.items()):
        s = json.loads(summary_path.read_text())
        for config, c in s["configs"].items():
            lo, hi = c["f1_ci95"]
            unans = pct(c["decline_unanswerable"]) if c["unanswerable"] else "—"
            print(
                row(
                    [
                        f"{name} ({c['answerable']}+{c['unanswerable']})", config,
                        f"**{pct(c['f1'])}** ({pct(lo)}–{pct(hi)})", pct(c["em"]), pct(c["contained"]),
                        pct(c["cite_precision"]), pct(c["cite_recall"]), pct(c["gold_hit"]),
                        f"{pct(c['decline_answerable'])} / {unans}",
                        f"{c['latency_p50_s']:.2f} / {c['latency_p95_s']:.2f}",
                        f"{c['tokens_in'] or 0:.0f} / {c['tokens_out'] or 0:.0f}", c.get("wall_s", "—"),
                    ]
                )
            )  # fmt: skip


if __name__ == "__main__":
    main()

"""The README's corpus fine-tuning table from bench/corpus_experiment.sh's two `eval qa` runs.

.venv/bin/python bench/corpus_table.py [bench/figures/corpus/new_wiki]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

CONFIGS = ("base", "ft", "rag", "ft-rag")
PARTS = {"same-articles": "same articles, other questions", "unseen-articles": "unseen articles"}


def pct(v: float | None) -> str:
    return "—" if v is None else f"{100 * v:.1f}"


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "bench/figures/corpus/new_wiki")
    print(
        "| test questions | " + " | ".join(f"{c} F1 (95% CI)" for c in CONFIGS) + " | ft-rag EM / contains |"
    )
    print("|---|" + "---|" * (len(CONFIGS) + 1))
    for part, label in PARTS.items():
        path = root / f"{part}.summary.json"
        if not path.exists():
            continue
        s = json.loads(path.read_text())
        cells = []
        for name in CONFIGS:
            c = s["configs"].get(name)
            cells.append(
                "—" if c is None else f"**{pct(c['f1'])}** ({pct(c['f1_ci95'][0])}–{pct(c['f1_ci95'][1])})"
            )
        ft = s["configs"].get("ft-rag") or {}
        print(
            f"| {label} ({s['questions']}) | " + " | ".join(cells)
            + f" | {pct(ft.get('em'))} / {pct(ft.get('contained'))} |"
        )  # fmt: skip


if __name__ == "__main__":
    main()

"""Fold the configurations of a later `openbook eval qa` run (for example the fine-tuned ones)
into a set's committed summary, keeping each configuration's own wall time, and redraw its chart.
The answerable questions must be the same (eval qa's first N of the test split); a later run may
have asked unanswerable ones too, which its rows count.

    .venv/bin/python bench/merge_qa_summary.py bench/results/qa/nyt/summary.json \
        bench/figures/qa/nyt.summary.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from openbook.assistant.evaluation.qa_run import png_chart


def main() -> None:
    new, into = Path(sys.argv[1]), Path(sys.argv[2])
    fresh = json.loads(new.read_text())
    merged = json.loads(into.read_text()) if into.exists() else {**fresh, "configs": {}}
    # the same answerable questions; a run may add unanswerable ones (each row says how many)
    answerable = {c["answerable"] for c in [*merged["configs"].values(), *fresh["configs"].values()]}
    if merged["dataset"] != fresh["dataset"] or len(answerable) > 1:
        raise SystemExit(f"{new} and {into} do not hold the same questions")
    merged["configs"].update(fresh["configs"])
    into.write_text(json.dumps(merged, indent=2))
    png_chart(merged, into.with_name(into.name.replace(".summary.json", ".png")))
    print(f"{into}: {', '.join(merged['configs'])}")


if __name__ == "__main__":
    main()

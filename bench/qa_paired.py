"""Two `openbook eval qa` runs of the same questions, paired: does B answer better than A?

    .venv/bin/python bench/qa_paired.py A/answers.jsonl B/answers.jsonl [--config agent] [--json]

Per configuration present in both: mean F1 of each on the answerable questions they share, the
paired difference B − A with its 95% bootstrap interval (the project's ``bootstrap_ci``), how many
questions each answered better, and how often the gold passage reached the answerer in one run
and not the other (with what that did to F1). Used for "answer F1 with the learned rewriter ≥
without" (README, "reddit, end to end by the command")."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from openbook.assistant.evaluation.qa_eval import Record, load_done
from openbook.assistant.evaluation.qa_metrics import bootstrap_ci


def by_config(path: Path, config: str | None) -> dict[str, dict[str, Record]]:
    """A run's answerable questions, per configuration, by question id."""
    out: dict[str, dict[str, Record]] = {}
    for (qid, c), r in load_done(path).items():
        if r.answerable and config in (None, c):
            out.setdefault(c, {})[qid] = r
    return out


def compare(a: dict[str, Record], b: dict[str, Record]) -> dict:
    ids = sorted(a.keys() & b.keys())
    if not ids:
        raise SystemExit("the two runs share no answerable question (same dataset, split and limit?)")
    f1 = lambda r: r.f1 or 0.0  # noqa: E731
    gold = lambda r: r.gold_hit or 0.0  # noqa: E731
    diff = [f1(b[i]) - f1(a[i]) for i in ids]
    lo, hi = bootstrap_ci(diff, n=2000)
    gained = [i for i in ids if gold(b[i]) > gold(a[i])]
    lost = [i for i in ids if gold(b[i]) < gold(a[i])]
    mean = lambda xs: round(sum(xs) / len(xs), 4) if xs else None  # noqa: E731
    return {
        "questions": len(ids),
        "f1_a": mean([f1(a[i]) for i in ids]),
        "f1_b": mean([f1(b[i]) for i in ids]),
        "f1_b_minus_a": mean(diff),
        "f1_b_minus_a_ci95": [round(lo, 4), round(hi, 4)],
        "b_better": sum(d > 0 for d in diff),
        "b_worse": sum(d < 0 for d in diff),
        "same": sum(d == 0 for d in diff),
        "gold_a": mean([gold(a[i]) for i in ids]),
        "gold_b": mean([gold(b[i]) for i in ids]),
        "gold_gained": len(gained),
        "gold_lost": len(lost),
        "f1_change_where_gold_gained": mean([f1(b[i]) - f1(a[i]) for i in gained]),
        "f1_change_where_gold_same": mean([f1(b[i]) - f1(a[i]) for i in ids if gold(b[i]) == gold(a[i])]),
    }


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("a", type=Path)
    p.add_argument("b", type=Path)
    p.add_argument("--config", help="only this configuration (default: each one in both runs)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    a, b = by_config(args.a, args.config), by_config(args.b, args.config)
    report = {c: compare(a[c], b[c]) for c in sorted(a.keys() & b.keys())}
    if args.json:
        print(json.dumps(report, indent=1))
        return
    for c, r in report.items():
        lo, hi = r["f1_b_minus_a_ci95"]
        print(
            f"{c}: {r['questions']} questions; F1 {100 * r['f1_a']:.1f} -> {100 * r['f1_b']:.1f} "
            f"(B - A {100 * r['f1_b_minus_a']:+.1f}, 95% CI {100 * lo:+.1f} to {100 * hi:+.1f}); "
            f"B better on {r['b_better']}, worse on {r['b_worse']}, same on {r['same']}; "
            f"gold passage {100 * r['gold_a']:.1f}% -> {100 * r['gold_b']:.1f}% "
            f"(+{r['gold_gained']} / -{r['gold_lost']})"
        )


if __name__ == "__main__":
    main()

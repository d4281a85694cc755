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

from openbook.assistant.evaluation.qa_metrics import bootstrap_ci


def rows(path: Path, config: str | None) -> dict[str, dict]:
    out = {}
    for line in path.read_text().splitlines():
        r = json.loads(line)
        if r.get("answerable") and (config is None or r["config"] == config):
            out[f"{r['config']}|{r['id']}"] = r
    return out


def compare(a: dict[str, dict], b: dict[str, dict]) -> dict:
    ids = sorted(a.keys() & b.keys())
    if not ids:
        raise SystemExit("the two runs share no answerable question (same dataset, split and limit?)")
    diff = [b[i]["f1"] - a[i]["f1"] for i in ids]
    lo, hi = bootstrap_ci(diff, n=2000)
    gained = [i for i in ids if b[i]["gold_hit"] > a[i]["gold_hit"]]
    lost = [i for i in ids if b[i]["gold_hit"] < a[i]["gold_hit"]]
    mean = lambda xs: round(sum(xs) / len(xs), 4) if xs else None  # noqa: E731
    return {
        "questions": len(ids),
        "f1_a": mean([a[i]["f1"] for i in ids]),
        "f1_b": mean([b[i]["f1"] for i in ids]),
        "f1_b_minus_a": mean(diff),
        "f1_b_minus_a_ci95": [round(lo, 4), round(hi, 4)],
        "b_better": sum(d > 0 for d in diff),
        "b_worse": sum(d < 0 for d in diff),
        "same": sum(d == 0 for d in diff),
        "gold_a": mean([a[i]["gold_hit"] for i in ids]),
        "gold_b": mean([b[i]["gold_hit"] for i in ids]),
        "gold_gained": len(gained),
        "gold_lost": len(lost),
        "f1_change_where_gold_gained": mean([b[i]["f1"] - a[i]["f1"] for i in gained]),
        "f1_change_where_gold_same": mean(
            [b[i]["f1"] - a[i]["f1"] for i in ids if b[i]["gold_hit"] == a[i]["gold_hit"]]
        ),
    }


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("a", type=Path)
    p.add_argument("b", type=Path)
    p.add_argument("--config", help="only this configuration (default: each one in both runs)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    a, b = rows(args.a, args.config), rows(args.b, args.config)
    configs = sorted({k.split("|")[0] for k in a} & {k.split("|")[0] for k in b})
    report = {
        c: compare(
            {k: v for k, v in a.items() if k.startswith(c + "|")},
            {k: v for k, v in b.items() if k.startswith(c + "|")},
        )
        for c in configs
    }
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

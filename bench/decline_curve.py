"""Choose ``pipeline.decline_below`` for a reader: what each threshold does to its answers.

    OPENBOOK_PIPELINE__DECLINE_BELOW=1 openbook eval qa --dataset … --split train --sample 60 \
        --unanswerable-from … --unanswerable 15 --configs ft-agent --out RUN/SET
    .venv/bin/python bench/decline_curve.py RUN/*/answers.jsonl [--config ft-agent] [--json]

With the threshold at 1 every decline the last reading begins is answered again from the reader's
next most likely first token, and its answers file records the probability the decline had
(``decline_p``). A threshold t keeps the declines begun with probability ≥ t and the second
answers of the others, so one run gives the whole curve: per t, F1 and containment of the
answerable questions, declines of the answerable (and of those whose gold passage reached the
reader), declines of the unanswerable, containment of the explanatory ones, and how often the
quoted support of an answered question holds a gold answer. Use questions
of training articles (``--split train``): the threshold is chosen there, never on the test split."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tables import markdown, pct

from openbook.assistant.evaluation.qa_eval import Record, load_done

THRESHOLDS = (0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
COLUMNS = [
    ("decline_below", "threshold"), ("F1", "f1"), ("contained", "contained"),
    ("declines (answerable)", "declines_answerable"), ("… gold reached", "declines_gold_reached"),
    ("declines (unanswerable)", "declines_unanswerable"), ("explanatory contained", "explanatory_contained"),
    ("support ∋ gold", "support_contains"),
]  # fmt: skip
FORMATS = [str, *[pct] * (len(COLUMNS) - 1)]


def at(r: Record, t: float) -> tuple[bool, float, float]:
    """(declined, F1, contained) of a record had the threshold been ``t``."""
    if r.decline_p is not None and (r.decline_p >= t or r.second_choice is None):
        return True, 0.0, 0.0
    return r.declined, r.f1 or 0.0, r.contained or 0.0


def mean(xs: list[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None


def curve(records: list[Record], thresholds: tuple[float, ...] = THRESHOLDS) -> list[dict]:
    answerable = [r for r in records if r.answerable]
    reached = [r for r in answerable if r.gold_hit]
    explaining = [r for r in answerable if r.question_type == "explanatory"]
    others = [r for r in records if not r.answerable]
    rows = []
    for t in thresholds:
        rows.append(
            {
                "threshold": t,
                "f1": mean([at(r, t)[1] for r in answerable]),
                "contained": mean([at(r, t)[2] for r in answerable]),
                "declines_answerable": mean([float(at(r, t)[0]) for r in answerable]),
                "declines_gold_reached": mean([float(at(r, t)[0]) for r in reached]),
                "declines_unanswerable": mean([float(at(r, t)[0]) for r in others]),
                "explanatory_contained": mean([at(r, t)[2] for r in explaining]),
                "support_contains": mean(
                    [
                        r.support_contains or 0.0
                        for r in answerable
                        if not at(r, t)[0] and r.support_contains is not None
                    ]
                ),
            }
        )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("answers", nargs="+", type=Path, help="answers.jsonl of eval qa runs at threshold 1")
    ap.add_argument("--config", default="ft-agent")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    records = [r for p in args.answers for (_, c), r in load_done(p).items() if c == args.config]
    if not records:
        raise SystemExit(f"no {args.config} answers in {', '.join(map(str, args.answers))}")
    if not any(r.decline_p is not None for r in records):
        raise SystemExit("no answer records decline_p: run eval qa with OPENBOOK_PIPELINE__DECLINE_BELOW=1")
    rows = curve(records)
    if args.json:
        print(json.dumps({"questions": len(records), "curve": rows}, indent=2))
        return
    n = sum(r.answerable for r in records)
    print(f"{len(records)} questions ({n} answerable), {args.config}")
    print(
        markdown(
            [label for label, _ in COLUMNS],
            ([fmt(row[key]) for (_, key), fmt in zip(COLUMNS, FORMATS, strict=True)] for row in rows),
        )
    )


if __name__ == "__main__":
    main()

"""Agent pipeline benchmark on the sample corpus with the bundled model: per-step and total turn
time for the full pipeline vs ``--plain``, and the answer accuracy of both on the shipped
question set (``assistant/evaluation/sample_questions.jsonl``).

    .venv/bin/python bench/pipeline.py [--limit N] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from openbook.assistant import paths, tracing
from openbook.assistant.embeddings import SentenceTransformerEmbedder
from openbook.assistant.evaluation.answers import is_correct, sample_questions
from openbook.assistant.ingest.pipeline import ingest
from openbook.assistant.models.resolve import resolve_roles
from openbook.assistant.settings import load_settings
from openbook.assistant.store import Store
from openbook.assistant.turn import Turn


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", type=Path)
    ap.add_argument("--limit", type=int, help="only the first N questions (a smoke run)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="openbook-bench-pipeline-"))
    settings = load_settings({"database": {"data_dir": str(work / "pg"), "db_schema": "bench"}})
    embedder = SentenceTransformerEmbedder("all-MiniLM-L6-v2")
    models, reasons = resolve_roles(settings)
    questions = sample_questions()[: args.limit]
    out: dict = {"models": reasons["answerer"], "questions": len(questions), "modes": {}}
    with Store(settings, embedding=embedder.identity) as store:
        ingest(store, embedder, [paths.sample_docs_dir()], settings.ingest)
        turn = Turn(store, embedder, settings, models)
        turn.ask("warm up: what is the Sun?", plain=True)  # load models, build the BM25 index
        for mode in ("plain", "full"):
            totals, steps, rows = [], defaultdict(list), []
            for q in questions:
                t0 = time.perf_counter()
                r = turn.ask(q.question, plain=(mode == "plain"))
                totals.append(time.perf_counter() - t0)
                _, spans = tracing.load(store, r.trace_id)
                for s in spans:
                    if s["parent_id"] is None or s["name"] in ("split", "rewrite", "retrieve", "filter"):
                        steps[s["name"]].append((s["duration_ms"] or 0) / 1000)
                ok = is_correct(q, r.answer)
                cites_source = q.source is None or any(c.source.endswith(q.source) for c in r.sources)
                rows.append(
                    {
                        "question": q.question,
                        "correct": ok,
                        "declined": r.declined,
                        "source_retrieved": cites_source,
                        "answer": r.answer[:200],
                        "seconds": round(totals[-1], 2),
                    }
                )
            answerable = [x for x, q in zip(rows, questions, strict=True) if q.answerable]
            out["modes"][mode] = {
                "correct": sum(x["correct"] for x in rows),
                "correct_answerable": sum(x["correct"] for x in answerable),
                "declined_unanswerable": sum(
                    x["correct"] for x, q in zip(rows, questions, strict=True) if not q.answerable
                ),
                "right_source_given": sum(x["source_retrieved"] for x in answerable),
                "turn_s_mean": round(statistics.mean(totals), 2),
                "turn_s_p50": round(statistics.median(totals), 2),
                "step_s_mean": {k: round(statistics.mean(v), 2) for k, v in steps.items()},
                "rows": rows,
            }
    out["full_vs_plain_turn_time"] = round(
        out["modes"]["full"]["turn_s_mean"] / out["modes"]["plain"]["turn_s_mean"], 2
    )
    summary = {k: v for k, v in out.items() if k != "modes"}
    for mode, m in out["modes"].items():
        summary[mode] = {k: v for k, v in m.items() if k != "rows"}
    print(json.dumps(summary, indent=2))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()

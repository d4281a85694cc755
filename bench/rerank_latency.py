"""What reranking adds to a search: the reranker scoring a question's candidates, on CPU.

    .venv/bin/python bench/rerank_latency.py [--dataset FILE] [--questions 60] [--candidates 30]
        [--threads 2] [--adapter FILE] [--precision auto|bf16|int8|fp32] [--json out.json]

Each question of a SQuAD-style set is scored against ``--candidates`` of the set's paragraphs (its
own and others: the length of real chunks, cut to the reranker's input by the same focus step as
at run time), as the retrieve step does for one piece. Reports p50/p95 milliseconds of the whole
call (focus, tokenizer, model), after one warm-up call, and the model's load time.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from pathlib import Path

from openbook.assistant import paths
from openbook.assistant.models.cross_encoder import PRECISIONS, CrossEncoder, shipped_reranker

DEFAULT = paths.cache_dir() / "datasets" / "squad_shifts" / "new_wiki_v1.0.json"


def cases(path: Path, n: int, candidates: int, seed: int = 0) -> list[tuple[str, list[str]]]:
    data = json.loads(path.read_text())["data"]
    paragraphs = [(p["context"], [q["question"] for q in p["qas"]]) for a in data for p in a["paragraphs"]]
    rng = random.Random(seed)
    out = []
    for context, questions in rng.sample(paragraphs, n):
        others = [c for c, _q in rng.sample(paragraphs, candidates - 1)]
        out.append((questions[0], [context, *others]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", type=Path, default=DEFAULT)
    ap.add_argument("--questions", type=int, default=60)
    ap.add_argument("--candidates", type=int, default=30)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--adapter", type=Path, default=shipped_reranker())
    ap.add_argument("--precision", choices=PRECISIONS, default="auto", help="as retrieval.rerank_precision")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    work = cases(args.dataset, args.questions, args.candidates)
    model = CrossEncoder(args.adapter, threads=args.threads, precision=args.precision)
    t0 = time.perf_counter()
    model.load()
    load_s = time.perf_counter() - t0
    model.score(*work[0])  # warm-up
    times = []
    for question, passages in work:
        t = time.perf_counter()
        model.score(question, passages)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    result = {
        "adapter": args.adapter.name,
        "layers": model.layers,
        "max_length": model.max_length,
        "precision": model.precision,
        "threads": args.threads,
        "questions": len(times),
        "candidates": args.candidates,
        "load_s": round(load_s, 2),
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[int(0.95 * (len(times) - 1))], 1),
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()

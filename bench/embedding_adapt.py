"""Fine-tuning for retrieval, the embedding side: does adapting the bundled MiniLM to one library
pay? Contrastive training (in-batch negatives, sentence-transformers' MultipleNegativesRanking
loss) on pairs from the library, then `eval retrieval` of the held-out articles' questions with
the base and the adapted model (the corpus re-embedded by each), vector leg and hybrid. DATASET:
a SQuAD-format file or a BEIR folder, as `eval retrieval` reads them.

Pairs, two kinds (``--pairs``):
- ``questions``: questions of the *training* articles and the paragraph that answers them (a user
  with questions about their own documents; never a test article's);
- ``masked``: masked pseudo-queries of the library (a sentence and its chunk without it, as
  `openbook tune retrieval` makes them; no labels, no model).

    .venv/bin/python bench/embedding_adapt.py DATASET [--pairs questions|masked] [--n 1000]
        [--json bench/figures/embedding/NAME.json]

No hub downloads: it starts from the bundled model and writes the adapted one under build/.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path
from typing import Any

from openbook.assistant.embeddings import SentenceTransformerEmbedder, bundled_model_dir
from openbook.assistant.evaluation import retrieval_eval as ev
from openbook.assistant.evaluation.datasets import load
from openbook.assistant.evaluation.qa_data import split_of
from openbook.assistant.evaluation.qa_eval import isolated_settings
from openbook.assistant.retrieval import tune
from openbook.assistant.settings import load_settings
from openbook.assistant.store import Store
from openbook.db import chunks as chunk_rows


def question_pairs(path: Path, n: int, seed: int) -> list[tuple[str, str]]:
    """Training-split questions and the text of a document that answers each (SQuAD: the
    paragraph; BEIR: the relevant passage)."""
    ds = load(path)
    qids = [q for q in sorted(ds.qrels) if split_of(ds.name, ds.groups.get(q, q)) == "train"]
    pairs = set()
    for q in qids:
        doc = max(ds.qrels[q], key=ds.qrels[q].__getitem__)
        if doc in ds.docs and ds.docs[doc][1]:
            pairs.add((ds.queries[q], ds.docs[doc][1]))
    return random.Random(seed).sample(sorted(pairs), min(n, len(pairs)))


def masked_pairs(
    path: Path, n: int, seed: int, embedder: SentenceTransformerEmbedder
) -> list[tuple[str, str]]:
    settings = load_settings()
    schema = ev.eval_schema(load(path), settings, embedder)
    with Store(isolated_settings(settings, schema)) as store:
        pseudo = tune.masked_queries(chunk_rows.all_for_tuning(store), n, seed)
    return [(p.query, p.masked or "") for p in pseudo]


def train(
    pairs: list[tuple[str, str]], out: Path, epochs: int, batch: int, lr: float, seed: int
) -> dict[str, Any]:
    import torch
    from sentence_transformers import SentenceTransformer, losses

    torch.manual_seed(seed)
    model = SentenceTransformer(str(bundled_model_dir()), device="cpu")
    loss_fn = losses.MultipleNegativesRankingLoss(model)
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    rng = random.Random(seed)
    steps, losses_seen, t0 = 0, [], time.perf_counter()
    model.train()
    for _ in range(epochs):
        order = rng.sample(pairs, len(pairs))
        for i in range(0, len(order) - batch + 1, batch):
            chunk = order[i : i + batch]
            features = [model.tokenize([a for a, _ in chunk]), model.tokenize([b for _, b in chunk])]
            loss = loss_fn(features, None)
            loss.backward()
            opt.step()
            opt.zero_grad()
            steps += 1
            losses_seen.append(float(loss))
    model.save(str(out))
    first, last = losses_seen[: max(1, steps // 10)], losses_seen[-max(1, steps // 10) :]
    return {
        "pairs": len(pairs),
        "steps": steps,
        "seconds": round(time.perf_counter() - t0, 1),
        "loss_first_tenth": round(sum(first) / len(first), 4),
        "loss_last_tenth": round(sum(last) / len(last), 4),
    }


def evaluate(path: Path, embedder: SentenceTransformerEmbedder, limit: int) -> dict[str, Any]:
    ds = load(path)
    result = ev.evaluate(ds, load_settings(), embedder, split="test", limit=limit)
    return {
        mode: {k: round(v, 4) for k, v in m.items() if k in ("hit@5", "ndcg@10")}
        for mode, m in result["metrics"].items()
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("dataset", type=Path)
    ap.add_argument("--pairs", choices=["questions", "masked"], default="questions")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-5)
    ap.add_argument("--limit", type=int, default=200, help="held-out questions to evaluate on")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--reuse", action="store_true", help="evaluate the model an earlier run trained")
    args = ap.parse_args()
    base = SentenceTransformerEmbedder("all-MiniLM-L6-v2")
    if args.pairs == "questions":
        pairs = question_pairs(args.dataset, args.n, args.seed)
    else:
        pairs = masked_pairs(args.dataset, args.n, args.seed, base)
    out = Path("build/embedding") / f"{args.dataset.stem or args.dataset.name}-{args.pairs}-{args.n}"
    trained_file = out / "openbook-training.json"
    if args.reuse and trained_file.exists():
        trained = json.loads(trained_file.read_text())
    else:
        trained = train(pairs, out, args.epochs, args.batch, args.lr, args.seed)
        trained_file.write_text(json.dumps(trained) + "\n")
    print(f"trained: {trained}", flush=True)
    report: dict[str, Any] = {"dataset": args.dataset.stem, "pairs_kind": args.pairs, "training": trained}
    report["base"] = evaluate(args.dataset, base, args.limit)
    print(f"base: {report['base']}", flush=True)
    report["adapted"] = evaluate(args.dataset, SentenceTransformerEmbedder(str(out)), args.limit)
    print(f"adapted: {report['adapted']}", flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()

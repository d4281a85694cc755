"""Does a rewriter know the library? hit@5 / hit@10 of its rewrites *alone* (keywords and passage,
without the question) on a dataset's held-out questions, from `eval retrieval --rewrites`' cache.

    .venv/bin/python bench/rewrite_alone.py DATASET EVAL.json [EVAL.json ...]

EVAL: an `eval retrieval --rewrites --json` output on DATASET; its rewriter's cache
(~/.cache/openbook/rewrites/<id>.jsonl) holds the rewrites. Only questions every cache holds count.
"""

from __future__ import annotations

import hashlib
import json
import sys
from contextlib import ExitStack
from pathlib import Path

from openbook.assistant.embeddings import make_embedder
from openbook.assistant.evaluation import retrieval_eval as ev
from openbook.assistant.evaluation.datasets import load
from openbook.assistant.evaluation.qa_data import split_of
from openbook.assistant.evaluation.qa_eval import isolated_settings
from openbook.assistant.retrieval.calibrate import top_keys
from openbook.assistant.retrieval.retriever import Retriever
from openbook.assistant.settings import load_settings
from openbook.assistant.store import Store
from openbook.db import chunks as chunk_rows


def main() -> None:
    ds = load(Path(sys.argv[1]))
    from openbook.assistant import paths

    names = [json.loads(Path(p).read_text())[0]["settings"]["rewriter"] for p in sys.argv[2:]]
    folder = paths.cache_dir() / "rewrites"
    files = [folder / (hashlib.sha256(n.encode()).hexdigest()[:16] + ".jsonl") for n in names]
    caches = [{r["question"]: r["texts"] for r in map(json.loads, f.read_text().splitlines())} for f in files]
    test = {ds.queries[q]: q for q in ds.qrels if split_of(ds.name, ds.groups.get(q, q)) == "test"}
    questions = [t for t in test if all(t in c for c in caches)]
    settings = load_settings()
    embedder = make_embedder(settings.embedding, settings.ollama)
    with ExitStack() as stack:
        s = isolated_settings(settings, ev.eval_schema(ds, settings, embedder))
        store = stack.enter_context(Store(s, embedding=embedder.identity))
        retriever = Retriever(store, embedder, s.retrieval)
        doc_of = {cid: src.split(":", 1)[1] for cid, src in chunk_rows.sources(store).items()}
        fusion, _ = retriever.fusion()
        for name, cache in zip(names, caches, strict=True):
            hit = found = 0
            for text in questions:
                relevant = ds.qrels[test[text]]
                lists, _ = retriever.legs(cache[text], "hybrid", depth=50)
                top = top_keys(fusion.fuse(lists), doc_of.__getitem__, 10) if lists else []
                hit += any(k in relevant for k in top[:5])
                found += any(k in relevant for k in top)
            n = max(len(questions), 1)
            print(f"{ds.name} {name}: {len(questions)} questions, rewrite alone hit@5 "
                  f"{hit / n:.3f}, hit@10 {found / n:.3f}")  # fmt: skip


if __name__ == "__main__":
    main()

"""A rewriter that knows the library: training data whose rewrites are drawn from the library itself.

`openbook finetune rewriter` samples rewrites from the current model, and a 135M model's samples
rarely beat the question alone (25 of 360 in round 1: README, "does a learned rewriter pay?").
Here the candidate rewrites come from the document that answers each question instead, in the
rewrite step's own output shape (keywords + a two-sentence passage), and retrieval feedback picks
among them exactly as the command does (nDCG@10 of the question plus the rewrite, searched as a
turn searches; kept only if no worse than the question alone and on target by itself):

- candidates: the document's lead, or the sentence that best matches the question with the one
  after it, each with the document's rarest words that the question lacks as keywords;
- questions: the human questions of the set's *training* articles (split as `eval qa` splits),
  and pseudo-queries of *every* document of the library (a sentence of it with a span cut out,
  as a masked cloze): the library is the user's to learn, its held-out *questions* are not.

  .venv/bin/python bench/rewriter_library.py DATASET OUT [--human 1000] [--pseudo 1500] [--seed 0]

Writes OUT/records.jsonl (every scored candidate), OUT/data/{train,val}.jsonl (the rewrite step's
messages and the kept target, split by article) and OUT/summary.json. Never SQuAD v1.1 dev.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from openbook.assistant.evaluation import retrieval_eval as ev
from openbook.assistant.evaluation.datasets import load
from openbook.assistant.evaluation.qa_data import split_of
from openbook.assistant.evaluation.qa_eval import isolated_settings
from openbook.assistant.finetune import rewriter as rw
from openbook.assistant.settings import load_settings

WORD = re.compile(r"[A-Za-z][A-Za-z0-9'-]+|\d[\d,.]*")
SENT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'])")
STOP = set(
    """a an the and or but of to in on at for from by with as is are was were be been being it its this
    that these those he she they them his her their we you i me my our your not no so if then than there
    here what who whom which when where why how do does did has have had will would can could should may
    might must also just very about into over after before up down out more most some any all each other
    such only own same too s t""".split()
)
PASSAGE_CHARS = 440  # RewriteOutput.hypothetical_answer holds 500
KEYWORDS = 6


def words(text: str) -> list[str]:
    return [w.lower().strip(".,'") for w in WORD.findall(text)]


def sentences(text: str) -> list[str]:
    return [s.strip() for s in SENT.split(" ".join(text.split())) if len(s.split()) >= 4]


def clip(text: str, limit: int = PASSAGE_CHARS) -> str:
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0]


class Library:
    """Document frequencies of the library's words, to pick a document's rarest words."""

    def __init__(self, docs: dict[str, tuple[str, str]]) -> None:
        self.docs = docs
        self.df: Counter[str] = Counter()
        for _title, text in docs.values():
            self.df.update(set(words(text)))
        self.n = max(len(docs), 1)

    def keywords(self, doc: str, question: str) -> str:
        have = set(words(question))
        seen: dict[str, float] = {}
        for w in words(self.docs[doc][1]):
            if w in STOP or w in have or len(w) < 3 or w in seen:
                continue
            seen[w] = math.log(self.n / (1 + self.df[w]))
        return " ".join(sorted(seen, key=lambda w: -seen[w])[:KEYWORDS])

    def candidates(self, doc: str, question: str) -> list[tuple[str, str, str]]:
        """(kind, keywords, passage): the lead, and the best-matching sentence with the next."""
        title, text = self.docs[doc]
        sents = sentences(text) or [text]
        keys = self.keywords(doc, question)
        out = [("lead", keys, clip(" ".join(sents[:2])))]
        q = set(words(question)) - STOP
        overlap = [len(q & set(words(s))) for s in sents]
        best = max(range(len(sents)), key=lambda i: (overlap[i], -i))
        if best > 0:
            out.append(("match", keys, clip(" ".join(sents[best : best + 2]))))
        return out


def pseudo_query(text: str, rng: random.Random) -> str | None:
    """A sentence of the document with a span of one to four words cut out (a masked cloze)."""
    sents = [s for s in sentences(text) if 8 <= len(s.split()) <= 40]
    if not sents:
        return None
    toks = rng.choice(sents).rstrip(".!?").split()
    n = rng.randint(1, min(4, len(toks) // 4))
    at = rng.randrange(0, len(toks) - n + 1)
    return " ".join(toks[:at] + toks[at + n :]) + "?"


@contextmanager
def library_scorer(ds: Any, settings: Any, say: Callable[[str], None]) -> Iterator[rw.Scorer]:
    """A scorer over ``ds`` ingested as `eval retrieval` ingests it (its own schema, made once)."""
    from openbook.assistant.embeddings import make_embedder
    from openbook.assistant.retrieval.retriever import Retriever
    from openbook.assistant.store import Store
    from openbook.db import chunks as chunk_rows

    embedder = make_embedder(settings.embedding, settings.ollama)
    eval_settings = isolated_settings(settings, ev.eval_schema(ds, settings, embedder))
    with Store(eval_settings, embedding=embedder.identity) as store:
        ev._ensure_ingested(store, embedder, ds, eval_settings, say)
        retriever = Retriever(store, embedder, eval_settings.retrieval)
        doc_of = {cid: src.split(":", 1)[1] for cid, src in chunk_rows.sources(store).items()}
        yield rw.Scorer(retriever, doc_of.__getitem__)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("dataset", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--human", type=int, default=1000, help="training-article questions (0: none)")
    p.add_argument("--pseudo", type=int, default=1500, help="documents to draw a pseudo-query from")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    if "squaddev" in a.dataset.name.lower():
        sys.exit("SQuAD v1.1 dev stays unseen: never trained on.")
    settings = load_settings()
    ds = load(a.dataset)
    lib = Library(ds.docs)
    rng = random.Random(a.seed)
    questions: list[rw.Question] = []
    train_q = [q for q in sorted(ds.qrels) if split_of(ds.name, ds.groups.get(q, q)) == "train"]
    for q in sorted(rng.sample(train_q, min(a.human, len(train_q)))):
        questions.append(rw.Question(f"{ds.name}/{q}", ds.queries[q], ds.qrels[q], ds.groups.get(q, q)))
    doc_group = {d: ds.groups.get(q, q) for q, rel in ds.qrels.items() for d in rel}
    for d in sorted(rng.sample(sorted(ds.docs), min(a.pseudo, len(ds.docs)))):
        pq = pseudo_query(ds.docs[d][1], rng)
        if pq:
            # A pseudo-query's group is its document's article: validation never sees an article
            # trained on. Test articles' documents only ever appear here, never their questions.
            group = "pseudo:" + doc_group.get(d, d)
            questions.append(rw.Question(f"{ds.name}/pseudo/{d}", pq, {d: 1}, group))
    say = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    say(f"{ds.name}: {len(questions)} questions ({len(train_q)} training-article questions in the set)")
    records: list[rw.Record] = []
    t0 = time.time()
    with library_scorer(ds, settings, say) as scorer:
        retriever = scorer.retriever
        kinds: Counter[str] = Counter()
        for n, q in enumerate(questions, 1):
            case = scorer.question(q)
            rec = rw.Record(q.id, q.text, q.group, scorer.alone(case))
            doc = next(iter(q.relevant))
            for _kind, keys, passage in lib.candidates(doc, q.text):
                s = rw.Scored(keys, passage, 0.0)
                s.ndcg, s.own = scorer.with_texts(case, s.texts(q.text))
                rec.candidates.append(s)
            records.append(rec)
            if (u := rec.usable()) is not None:
                kinds["lead" if u is rec.candidates[0] else "match"] += 1
            if n % 200 == 0 or n == len(questions):
                took = time.time() - t0
                say(f"  {n}/{len(questions)} {json.dumps(rw.round_summary(records))} {took:.0f} s")
    rw.save_records(records, a.out / "records.jsonl")
    exs = rw.examples(records)
    counts = rw.write_data(exs, a.out / "data", seed=a.seed)
    summary = {
        "dataset": ds.name,
        "questions": len(questions),
        "human": sum(1 for q in questions if "/pseudo/" not in q.id),
        "pseudo": sum(1 for q in questions if "/pseudo/" in q.id),
        "scored": rw.round_summary(records),
        "kept_kind": dict(kinds),
        "examples": counts,
        "seconds": round(time.time() - t0),
        "scoring": {"fusion": scorer.fusion.label(), "anchor_rank": retriever.settings.anchor_rank,
                    "rewrite_weight": retriever.settings.rewrite_weight},
    }  # fmt: skip
    (a.out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()

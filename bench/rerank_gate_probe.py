"""One-off: the reranker's top score as an evidence signal. For each SQuAD-Shifts library, 300
answerable training-article questions the reranker never saw, and 300 training-article questions
of the next set (unanswerable there): top reranked score, nearest distance, gold in top 6."""
import json, random, sys
from pathlib import Path
from openbook.assistant.settings import load_settings
from openbook.assistant.embeddings import make_embedder
from openbook.assistant.evaluation.datasets import load
from openbook.assistant.evaluation.qa_data import split_of
from openbook.assistant.evaluation.schemas import eval_schema, ingest_dataset, isolated_settings
from openbook.assistant.retrieval.retriever import Retriever
from openbook.assistant.store import Store
from openbook.db import chunks as chunk_rows

data = Path.home() / ".cache/openbook/datasets/squad_shifts"
sets = ["new_wiki", "nyt", "reddit", "amazon_reviews"]
seen = set()
for f in ("train.jsonl", "val.jsonl"):
    for line in open(f"/work/main/build/reranker/fp1/data/{f}"):
        seen.add(json.loads(line)["id"])
N = int(sys.argv[1]) if len(sys.argv) > 1 else 300
only = sys.argv[2:] or sets
settings = load_settings({})
embedder = make_embedder(settings.embedding, settings.ollama)
dss = {s: load(data / f"{s}_v1.0.json") for s in sets}

def pick(ds, n, seed):
    q = [x for x in sorted(ds.qrels) if split_of(ds.name, ds.groups.get(x, x)) == "train"
         and f"{ds.name}/{x}" not in seen]
    return sorted(random.Random(seed).sample(q, n))

for i, s in enumerate(sets):
    if s not in only:
        continue
    ds, other = dss[s], dss[sets[(i + 1) % 4]]
    schema = eval_schema(ds, settings, embedder)
    es = isolated_settings(settings, schema)
    out = []
    with Store(es, embedding=embedder.identity) as store:
        ingest_dataset(store, embedder, ds, es, print)
        r = Retriever(store, embedder, es.retrieval)
        r.reranker.load()
        r.bm25_index()
        doc_of = {cid: src.split(":", 1)[1] for cid, src in chunk_rows.sources(store).items()}
        s_ = es.retrieval
        qs = [(q, ds.queries[q], True, ds.qrels[q]) for q in pick(ds, N, 0)]
        qs += [(q, other.queries[q], False, {}) for q in pick(other, N, 1)]
        for n, (qid, text, ans, rel) in enumerate(qs):
            lists, _ = r.legs([text], "hybrid", depth=s_.candidates)
            top = r.fuse(lists, s_.rerank_candidates)
            vec = [l for l in lists if l.leg == "vector"]
            nearest = vec[0].hits[0][1] if vec and vec[0].hits else None
            rr = r.rerank(text, top, s_.rerank_candidates)
            scores = [h.rerank_score for h in rr]
            docs6 = [doc_of[h.chunk_id] for h in rr[:6]]
            out.append({"id": qid, "answerable": ans, "top": scores[0], "max": max(scores),
                        "top6": scores[:6], "nearest": nearest,
                        "gold6": any(d in rel for d in docs6) if ans else None,
                        "gold1": (docs6[0] in rel) if ans and docs6 else None})
            if n % 100 == 0:
                print(s, n, flush=True)
    Path(f"/tmp/probe/{s}.json").write_text(json.dumps(out))
    print("done", s, flush=True)

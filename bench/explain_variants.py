"""One-off (removed after its decision: docs/benchmarks.md, "Explanatory questions"): sentence choices for explanatory answers, on recorded eval qa runs (train split)."""
import json, sys
from pathlib import Path
from openbook.assistant import tracing
from openbook.assistant.settings import load_settings
from openbook.assistant.evaluation.schemas import isolated_settings
from openbook.assistant.evaluation.qa_data import load_qa
from openbook.assistant.evaluation.qa_metrics import contains
from openbook.assistant.store import Store
from openbook.assistant.models.cross_encoder import shared, shipped_reranker
from openbook.agents.kit.evidence import sentences_of
from openbook.agents.kit.words import tokenize
from openbook.agents.answerer import CAUSAL, MAX_EXPLANATION_WORDS
from openbook.db import chunks as chunk_rows

ce = shared(shipped_reranker())
def two(sents, i):
    chosen=[sents[i]]
    if i+1 < len(sents) and not CAUSAL.search(sents[i]) and len((sents[i]+" "+sents[i+1]).split()) <= MAX_EXPLANATION_WORDS:
        chosen.append(sents[i+1])
    return " ".join(chosen)
tot = {}
for run, ds_path in [(a, b) for a, b in zip(sys.argv[1::2], sys.argv[2::2])]:
    out = Path(run)
    summary = json.loads((out / "summary.json").read_text())
    st = isolated_settings(load_settings(), summary["schema"])
    ds = load_qa(Path(ds_path))
    gold = {i.id: i.answers for i in ds.items}
    with Store(st) as store:
        for l in (out / "answers.jsonl").read_text().splitlines():
            r = json.loads(l)
            if not r["answerable"]: continue
            _, spans = tracing.load(store, r["trace_id"])
            ret = [s for s in spans if s["name"] == "retrieve"]
            ids = ret[-1]["output"]["chunks"][:6] if ret else []
            rows = chunk_rows.by_ids(store, ids)
            texts = [rows[i]["text"] for i in ids if i in rows]
            cands = []
            for pi, t in enumerate(texts):
                ss = sentences_of(t) or [t]
                for si in range(len(ss)):
                    cands.append((pi, si, ss))
            if not cands: continue
            q = r["question"]
            scores = ce.score(q, [c[2][c[1]] for c in cands])
            qw = set(tokenize(q))
            lex = [len(qw & set(tokenize(c[2][c[1]]))) for c in cands]
            best = max(range(len(cands)), key=lambda k: scores[k])
            bestlex = max(range(len(cands)), key=lambda k: (lex[k], scores[k]))
            # scoring the sentence with its next, as the answer would be
            scores2 = ce.score(q, [two(c[2], c[1]) for c in cands])
            best2 = max(range(len(cands)), key=lambda k: scores2[k])
            g = gold[r["id"]]
            import math
            def pick(score):
                k = max(range(len(cands)), key=score)
                return contains(two(cands[k][2], cands[k][1]), g)
            g = gold[r["id"]]
            extra = {
                f"ce_prior{w}": pick(lambda k, w=w: scores[k] - w * math.log(cands[k][0] + 1)) for w in (1, 2, 4)
            }
            extra["lex_prior2"] = pick(lambda k: lex[k] - 2 * math.log(cands[k][0] + 1) + 0.01 * scores[k])
            extra["top1_lex"] = pick(lambda k: (cands[k][0] == 0, lex[k], scores[k]))
            extra["ce+lex"] = pick(lambda k: scores[k] + 2 * lex[k] - 2 * math.log(cands[k][0] + 1))
            dec = r["declined"]
            extra["lexical|answered"] = 0.0 if dec else contains(two(cands[bestlex][2], cands[bestlex][1]), g)
            extra["lex_prior2|answered"] = 0.0 if dec else extra["lex_prior2"]
            extra["lex_prior1|answered"] = 0.0 if dec else pick(lambda k: lex[k] - 1 * math.log(cands[k][0] + 1) + 0.01 * scores[k])
            extra["ce+lex|answered"] = 0.0 if dec else extra["ce+lex"]
            # the reader's cited passage first: the sentence with most question words in the passage it cited
            import re as _re
            cited = [int(x) for x in _re.findall(r"\[(\d+)\]", r["answer"])]
            extra["lex_rank|answered"] = 0.0 if dec else pick(lambda k: (lex[k], -cands[k][0], -cands[k][1]))
            extra["lex_rank"] = pick(lambda k: (lex[k], -cands[k][0], -cands[k][1]))
            norm = lambda x: " ".join(x.split())
            mine = [norm(c[2][c[1]]) in norm(r["answer"]) for c in cands]
            extra["lex_reader|answered"] = 0.0 if dec else pick(lambda k: (lex[k], mine[k], -cands[k][0], -cands[k][1]))
            extra["reader_unless_fewer|answered"] = 0.0 if dec else pick(lambda k: (lex[k] + (1 if mine[k] else 0), -cands[k][0], -cands[k][1]))
            res = {**extra,
                "current": contains(r["answer"], g) if not r["declined"] else 0.0,
                "ce_sentence": contains(two(cands[best][2], cands[best][1]), g),
                "ce_pair": contains(two(cands[best2][2], cands[best2][1]), g),
                "lexical": contains(two(cands[bestlex][2], cands[bestlex][1]), g),
                "any_sentence": max(contains(two(c[2], c[1]), g) for c in cands),
                "top1_passage_ce": contains(two(*max(((c[2], c[1]) for k, c in enumerate(cands) if c[0]==0), key=lambda x: scores[cands.index((0, x[1], x[0]))])), g) if any(c[0]==0 for c in cands) else 0.0,
            }
            for k, v in res.items():
                tot.setdefault(k, []).append(v)
for k, v in tot.items():
    print(f"{k:18s} {sum(v)/len(v):.3f}  (n={len(v)})")

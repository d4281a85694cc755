"""One-off (removed after its decision): the shipped explain() and its support share on recorded explanatory runs (train split)."""
import json, re, sys
from pathlib import Path
from openbook.assistant import tracing
from openbook.assistant.settings import load_settings
from openbook.assistant.evaluation.schemas import isolated_settings
from openbook.assistant.evaluation.qa_data import load_qa
from openbook.assistant.evaluation.qa_metrics import contains
from openbook.assistant.store import Store
from openbook.agents.kit.evidence import Passage
from openbook.agents import answerer
from openbook.db import chunks as chunk_rows
tot = {}
for run, ds_path in zip(sys.argv[1::2], sys.argv[2::2]):
    out = Path(run); summary = json.loads((out / "summary.json").read_text())
    st = isolated_settings(load_settings(), summary["schema"]); ds = load_qa(Path(ds_path))
    gold = {i.id: i.answers for i in ds.items}
    with Store(st) as store:
        for l in (out / "answers.jsonl").read_text().splitlines():
            r = json.loads(l)
            _, spans = tracing.load(store, r["trace_id"])
            ret = [s for s in spans if s["name"] == "retrieve"]
            ids = ret[-1]["output"]["chunks"][:6] if ret else []
            rows = chunk_rows.by_ids(store, ids)
            ps = [Passage(n=k + 1, text=rows[i]["text"]) for k, i in enumerate(ids) if i in rows]
            span = r["answer"]
            for s in spans:
                for n in s.get("notes") or []:
                    m = re.search(r"reader's (?:answer was )?'(.*)'$", n) or re.search(r"around the reader's '(.*)'", n)
                    if m: span = m.group(1)
            g = gold[r["id"]]
            text, _ = answerer.explain(r["question"], span + " [1]", ps)
            share = answerer.explained_share(text, r["question"])
            dec = r["declined"]
            res = {
                "recorded": 0.0 if dec else contains(r["answer"], g),
                "explain|answered": 0.0 if dec else contains(text, g),
                "explain+share|answered": 0.0 if dec or (share is not None and share < 0.3) else contains(text, g),
                "share<0.3": float(share is not None and share < 0.3),
            }
            for k, v in res.items(): tot.setdefault((run, k), []).append(v)
for (run, k), v in tot.items():
    print(f"{run:32s} {k:24s} {sum(v)/len(v):.3f} (n={len(v)})")

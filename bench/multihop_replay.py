"""One-off (round 5): replay ``compose`` over the hops an ``eval qa`` run recorded in its traces,
with no model call — v0: the reader's values only; v1: a piece not found is read from its note;
v2: also a value not said of the piece's entity. Usage:
    python bench/multihop_replay.py DATASET_DIR EVAL_OUT_DIR EVAL_SCHEMA"""
import json, re, subprocess, sys
from openbook.agents import compose as C
from openbook.agents.kit.shapes import Shape
from openbook.assistant.evaluation.qa_metrics import f1

ds, out, schema = sys.argv[1], sys.argv[2], sys.argv[3]
gold = {json.loads(l)["id"]: json.loads(l) for l in open(f"{ds}/questions.jsonl")}
rows = [json.loads(l) for l in open(f"{out}/answers.jsonl") if json.loads(l)["config"] == "ft-agent"]
from openbook.assistant.settings import load_settings
from openbook.assistant.store import Store
from openbook.assistant import tracing
settings = load_settings({"database": {"db_schema": schema}})
orig = C.compose
def v(kind):
    def run(q, shape, hops):
        if kind == 0 or not (shape.kind == "comparison" and shape.value in ("date", "number")):
            return C._compose(q, shape, hops)
        hs = [h if C.found(h) and (kind == 1 or C.says_it(h)) else C.read_from_note(h, shape.value) or h for h in hops]
        return C._compose(q, shape, hs)
    return run
res = {0: [], 1: [], 2: []}; yn = {0: [], 1: [], 2: []}; changed = []
with Store(settings) as store:
    for r in rows:
        spans = tracing.load(store, r["trace_id"])[1]
        dec = next((s for s in spans if s["name"] == "decompose"), None)
        g = gold[r["id"]]["answers"]
        hops = [C.HopAnswer(**s["output"]) for s in spans if s["kind"] == "hop"]
        if dec is None or not hops:
            for k in res: res[k].append(r["f1"])
            continue
        shape = Shape(**dec["output"])
        outs = {k: v(k)(r["question"], shape, hops).text for k in res}
        for k in res:
            res[k].append(f1(outs[k], g))
            if shape.yes_no: yn[k].append(bool(re.match(r"\s*(yes|no)\b", outs[k], re.I)))
        if len(set(outs.values())) > 1: changed.append((r["question"], g, outs))
for k in res:
    print(f"v{k}: F1 {100*sum(res[k])/len(res[k]):.1f}  yes/no said {sum(yn[k])}/{len(yn[k])}")
for q, g, o in changed: print(q, g, "|", " || ".join(x[:70] for x in o.values()))

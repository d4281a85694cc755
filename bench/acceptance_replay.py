"""One-off (removed after this round's report: docs/benchmarks.md, "Round 3 acceptance"). Exact replay at decline_below = 0 of a run at 0.4: a forced answer becomes the decline text, scored as eval qa scores it."""
import sys
from pathlib import Path
from openbook.assistant.evaluation.qa_eval import load_done
from openbook.assistant.evaluation.qa_data import load_qa
from openbook.assistant.evaluation.qa_metrics import f1, contains, bootstrap_ci
from openbook.prompts import text
D = Path.home() / ".cache/openbook/datasets/squad_shifts"
DEC = text("decline")
def pc(v): return "—" if v is None else f"{100*v:.1f}"
def mean(x): return sum(x) / len(x) if x else None
def replay(path, ds_names, cfg, t):
    golds = {}
    for n in ds_names:
        for i in load_qa(D / f"{n}_v1.0.json").items: golds[i.id] = i.answers
    out = []
    for (_, c), r in load_done(path).items():
        if c != cfg: continue
        tt = (0.4 if r.question_type == "explanatory" else 0.0) if t == "shipped" else t
        forced = r.decline_p is not None and r.decline_p >= tt
        if forced:
            g = golds.get(r.id, [])
            out.append(dict(r=r, declined=True, f1=f1(DEC, g) if r.answerable else None, contained=contains(DEC, g) if r.answerable else None, supp=None))
        else:
            out.append(dict(r=r, declined=r.declined, f1=r.f1, contained=r.contained, supp=r.support_contains))
    return out
sets = ["new_wiki", "nyt", "reddit", "amazon_reviews"]
for kind, root, cfgs in (("std", "bench/figures/qa/round3/acceptance", ("ft-agent", "ft-oracle")), ("expl", "bench/figures/qa/round3/acceptance", ("ft-agent",))):
    for cfg in cfgs:
        for k, s in enumerate(sets):
            p = Path(f"{root}/{s}.answers.jsonl" if kind == "std" else f"{root}/{s}.explanatory.answers.jsonl")
            if not p.exists(): continue
            for t in ("shipped", 0.4):
                rows = replay(p, [s, sets[(k + 1) % 4]], cfg, t)
                ans = [x for x in rows if x["r"].answerable]; un = [x for x in rows if not x["r"].answerable]
                gold = [x for x in ans if x["r"].gold_hit]
                lo, hi = bootstrap_ci([x["f1"] or 0 for x in ans], n=2000)
                print(f"| {kind} | {s} | {cfg} | {t} | {len(ans)}+{len(un)} | {pc(mean([x['f1'] or 0 for x in ans]))} ({pc(lo)}–{pc(hi)}) | {pc(mean([x['contained'] or 0 for x in ans]))} | {pc(mean([float(x['declined']) for x in ans]))} | {pc(mean([float(x['declined']) for x in gold]))} | {pc(mean([float(x['declined']) for x in un]))} | {pc(mean([x['supp'] for x in ans if not x['declined'] and x['supp'] is not None]))} |")

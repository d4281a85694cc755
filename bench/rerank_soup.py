"""One-off: a uniform soup of reranker adapters (their LoRA deltas averaged, heads averaged),
scored on the 300 held-out rows as export scores an adapter."""
import json, sys, shutil
from pathlib import Path
import torch
from safetensors.torch import load_file, save_file
from openbook.assistant.finetune.reranker import read_rows, score_rows, ndcg, PRIORS
from openbook.assistant.models.cross_encoder import CrossEncoder

out = Path(sys.argv[1]); srcs = [Path(p) for p in sys.argv[2:]]
cards = [json.loads(p.with_suffix(".json").read_text()) for p in srcs]
scales = [c["config"]["alpha"] / c["config"]["rank"] for c in cards]
ts = [load_file(str(p)) for p in srcs]
w = 1.0 / len(srcs)
soup = {}
for key in ts[0]:
    if key.startswith("head."):
        soup[key] = sum(t[key].float() for t in ts) * w
    elif key.endswith(".lora_A"):
        name = key.removesuffix(".lora_A")
        soup[key] = torch.cat([t[key].float() for t in ts], 0).contiguous()
        # scale s_i * w folded into B so the soup's card scale is 1
        soup[f"{name}.lora_B"] = torch.cat([t[f"{name}.lora_B"].float() * s * w for t, s in zip(ts, scales)], 1).contiguous()
rank = soup[next(k for k in soup if k.endswith(".lora_A"))].shape[0]
out.parent.mkdir(parents=True, exist_ok=True)
save_file(soup, str(out))
card = json.loads(json.dumps(cards[0]))
card["name"] = out.stem; card["config"]["rank"] = rank; card["config"]["alpha"] = rank
card["soup_of"] = [str(p) for p in srcs]
out.with_suffix(".json").write_text(json.dumps(card, indent=2))
rows = read_rows(Path("/work/main/build/reranker/fp1/data/val.jsonl"))
res = {}
for label, q in (("int8", True), ("fp32", False)):
    enc = CrossEncoder(out, threads=2, quantize=q)
    sc = score_rows(enc.score, rows)
    res[label] = {str(p): round(ndcg(rows, sc, prior=p), 4) for p in PRIORS}
    res[label + "_alone"] = round(ndcg(rows, sc), 4)
    json.dump(sc, open(out.with_suffix(f".{label}.scores.json"), "w"))
print(json.dumps(res))
out.with_suffix(".heldout.json").write_text(json.dumps(res, indent=2))

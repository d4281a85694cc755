"""In-process runtime benchmark: our interface vs calling llama_cpp directly.

    .venv/bin/python bench/runtime.py [--runs 5] [--max-tokens 128]

Same process, same GGUF (the bundled SmolLM2-135M-Instruct), same settings (n_ctx, threads,
batch, greedy decoding, same prompts), KV cache reset before every run. Reports time to first
token and generation tokens/s for both, and the ratio.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from openbook.assistant.models.base import ChatOptions, Message
from openbook.assistant.models.llamacpp_backend import LlamaCppChat, bundled_gguf, load, physical_cores

PROMPTS = [
    "Explain in a few sentences why Venus is hotter than Mercury.",
    "Write a short paragraph about the rings of Saturn.",
    "Describe how tides work, briefly.",
    "What did the Voyager probes discover? Answer in a paragraph.",
    "Summarise how the solar system formed.",
]


def raw_run(llm, prompt: str, max_tokens: int) -> tuple[float, float, int]:  # noqa: ANN001
    llm.reset()
    t0 = time.perf_counter()
    first = None
    pieces = []
    for chunk in llm.create_chat_completion(
        messages=[{"role": "user", "content": prompt}],
        stream=True,
        max_tokens=max_tokens,
        temperature=0.0,
        seed=1,
    ):
        piece = chunk["choices"][0].get("delta", {}).get("content") or ""
        if piece:
            first = first or time.perf_counter()
            pieces.append(piece)
    end = time.perf_counter()
    n = len(llm.tokenize("".join(pieces).encode(), add_bos=False))
    return (first - t0) * 1000, n / (end - first), n


def ours_run(model: LlamaCppChat, prompt: str, max_tokens: int) -> tuple[float, float, int]:
    llm = load(model.path, None, model.n_ctx)[0]
    llm.reset()
    r = model.chat(
        [Message(role="user", content=prompt)],
        options=ChatOptions(temperature=0.0, seed=1, max_tokens=max_tokens),
    )
    return r.usage.prompt_ms, r.usage.tokens_per_second, r.usage.completion_tokens


def main() -> None:
    from llama_cpp import Llama

    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--max-tokens", type=int, default=128)
    args = ap.parse_args()
    path = bundled_gguf()
    n_ctx = 2048
    ours = LlamaCppChat(path, n_ctx=n_ctx)
    ours.preload()
    raw = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=physical_cores(), n_batch=512, verbose=False)
    rows = {"raw": [], "ours": []}
    for _ in range(args.runs):
        for prompt in PROMPTS:  # alternate so drift hits both equally
            rows["raw"].append(raw_run(raw, prompt, args.max_tokens))
            rows["ours"].append(ours_run(ours, prompt, args.max_tokens))
    out = {}
    for name, values in rows.items():
        out[name] = {
            "ttft_ms_p50": round(statistics.median(v[0] for v in values), 1),
            "gen_tok_s_p50": round(statistics.median(v[1] for v in values), 1),
            "gen_tok_s_mean": round(statistics.mean(v[1] for v in values), 1),
            "tokens_mean": round(statistics.mean(v[2] for v in values), 1),
        }
    out["ours_vs_raw_gen_tok_s"] = round(out["ours"]["gen_tok_s_p50"] / out["raw"]["gen_tok_s_p50"], 3)
    out["threads"] = physical_cores()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()

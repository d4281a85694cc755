"""Did fine-tuning make the model forget? Perplexity before and after, on text it never trained on.

Two measures, both computed on the PyTorch model with the adapter off (before) and on (after):

- **general text**: the sample library's documents (encyclopaedic prose about the solar system,
  which no training set here contains), in windows of ``window`` tokens;
- **chat**: the base model's own greedy replies to a few everyday chat prompts, scored under
  both — the base's perplexity on its own replies is low; if the fine-tune has forgotten how to
  chat, it finds them unlikely. The fine-tuned replies are kept for a reader to compare.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

CHAT_PROMPTS = (
    "Hello! How are you today?",
    "Write a short poem about the sea.",
    "What is the capital of France?",
    "Give me three tips for sleeping better.",
    "Explain what a computer is to a child.",
    "Translate 'good morning' into Spanish.",
)


def general_texts(limit: int) -> list[str]:
    folder = Path(__file__).resolve().parent.parent / "sample_docs"
    return [p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.md"))[:limit]]


def _nll(model: Any, ids: list[int], labels: list[int]) -> tuple[float, int]:
    import torch

    x = torch.tensor([ids], device=model.device)
    y = torch.tensor([labels], device=model.device)
    n = sum(label != -100 for label in labels[1:])
    with torch.no_grad():
        return float(model(input_ids=x, labels=y).loss) * n, n


def perplexity(model: Any, pieces: list[tuple[list[int], list[int]]]) -> float:
    total, count = 0.0, 0
    for ids, labels in pieces:
        nll, n = _nll(model, ids, labels)
        total, count = total + nll, count + n
    return round(math.exp(total / max(count, 1)), 3)


def _reply(model: Any, tok: Any, prompt_ids: list[int], max_new_tokens: int) -> list[int]:
    import torch

    ids = torch.tensor([prompt_ids], device=model.device)
    with torch.no_grad():
        out = model.generate(
            ids, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=tok.eos_token_id
        )
    return [int(t) for t in out[0, len(prompt_ids) :]]


def check(
    model: Any, tok: Any, *, docs: int = 8, window: int = 256, max_new_tokens: int = 48
) -> dict[str, Any]:
    """``model`` is a peft model; its adapter is switched off for the "before" figures."""
    model.eval()
    general = []
    for doc in general_texts(docs):
        ids = tok(doc, add_special_tokens=False)["input_ids"][:window]
        general.append((ids, list(ids)))
    chats, prompts = [], []
    for prompt in CHAT_PROMPTS:
        text = tok.apply_chat_template(
            [{"role": "user", "content": prompt}], add_generation_prompt=True, tokenize=False
        )
        prompts.append(tok(text, add_special_tokens=False)["input_ids"])
    with model.disable_adapter():
        before_general = perplexity(model, general)
        base_replies = [_reply(model, tok, p, max_new_tokens) for p in prompts]
        chats = [(p + r, [-100] * len(p) + r) for p, r in zip(prompts, base_replies, strict=True)]
        before_chat = perplexity(model, chats)
    after_general = perplexity(model, general)
    after_chat = perplexity(model, chats)
    tuned_replies = [_reply(model, tok, p, max_new_tokens) for p in prompts]
    model.train()
    return {
        "general_text": {"docs": len(general), "tokens": sum(len(i) for i, _ in general),
                         "ppl_before": before_general, "ppl_after": after_general},
        "chat": {"prompts": len(prompts), "ppl_of_base_replies_before": before_chat,
                 "ppl_of_base_replies_after": after_chat},
        "replies": [
            {"prompt": q, "base": tok.decode(b, skip_special_tokens=True).strip(),
             "tuned": tok.decode(t, skip_special_tokens=True).strip()}
            for q, b, t in zip(CHAT_PROMPTS, base_replies, tuned_replies, strict=True)
        ],
    }  # fmt: skip

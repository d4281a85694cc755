"""Does the exported adapter answer like the PyTorch model did? Greedy answers to a fixed probe
set, from the trained PyTorch model and from llama.cpp (base GGUF + adapter GGUF), compared."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..evaluation.qa_metrics import normalize
from .examples import Example


def torch_answers(model: Any, tok: Any, probes: list[Example], max_new_tokens: int = 32) -> list[str]:
    import torch

    out = []
    model.eval()
    for ex in probes:
        prompt = tok.apply_chat_template(ex.messages, add_generation_prompt=True, tokenize=False)
        ids = tok(prompt, add_special_tokens=False, return_tensors="pt")["input_ids"].to(model.device)
        with torch.no_grad():
            gen = model.generate(
                ids, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=tok.eos_token_id
            )
        out.append(tok.decode(gen[0, ids.shape[1] :], skip_special_tokens=True).strip())
    return out


def gguf_answers(
    base: Path, adapter: Path | None, probes: list[Example], max_new_tokens: int = 32
) -> list[str]:
    """llama.cpp's greedy answers: ``base`` + ``adapter``, or ``base`` alone (a merged file)."""
    from ..models.base import ChatOptions, Message
    from ..models.llamacpp_backend import LlamaCppChat

    chat = LlamaCppChat(base, lora=adapter, n_ctx=2048)
    opts = ChatOptions(temperature=0.0, seed=0, max_tokens=max_new_tokens)
    return [
        chat.chat(
            [Message(role=m["role"], content=m["content"]) for m in ex.messages], options=opts
        ).text.strip()
        for ex in probes
    ]


def agreement(a: list[str], b: list[str]) -> float:
    same = sum(normalize(x) == normalize(y) for x, y in zip(a, b, strict=True))
    return same / len(a) if a else 0.0

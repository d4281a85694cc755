"""Held-out answers of the PyTorch model right after training: greedy replies to validation
examples (articles never trained on), scored like ``eval qa`` scores answers — F1 of the answer
against the target's span on answerable examples, declines on the rest. Cheap where training
is (on the GPU, beside it), so recipe variants (answer-only vs quote-then-answer, decline mixes)
can be compared on the same examples before any of them is exported."""

from __future__ import annotations

from typing import Any

from openbook.agents.answerer import split_quote

from ..evaluation.qa_metrics import declined, f1, strip_citations
from .examples import Example


def gold_span(ex: Example) -> str:
    """The answer a target gives (either target format), without its citation."""
    answer, _quote = split_quote(ex.target)
    return strip_citations(answer).strip()


def generate(
    model: Any, tok: Any, examples: list[Example], device: str, batch: int, max_new: int
) -> list[str]:
    import torch

    side, tok.padding_side = tok.padding_side, "left"  # restored below: training pads on the right
    if tok.pad_token is None:  # some transformers versions load the GGUF tokenizer without one
        tok.pad_token = tok.eos_token
    pad_id = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    stop = tok.convert_tokens_to_ids("<|im_end|>")
    replies: list[str] = []
    model.eval()
    for i in range(0, len(examples), batch):
        prompts = [
            tok.apply_chat_template(e.messages, add_generation_prompt=True, tokenize=False)
            for e in examples[i : i + batch]
        ]
        enc = tok(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(device)
        with torch.no_grad():
            out = model.generate(
                **enc, max_new_tokens=max_new, do_sample=False, eos_token_id=stop, pad_token_id=pad_id
            )
        replies += tok.batch_decode(out[:, enc["input_ids"].shape[1] :], skip_special_tokens=True)
    model.train()
    tok.padding_side = side
    return [r.strip() for r in replies]


def score(examples: list[Example], replies: list[str]) -> dict[str, Any]:
    answerable = [(e, r) for e, r in zip(examples, replies, strict=True) if e.answerable]
    other = [r for e, r in zip(examples, replies, strict=True) if not e.answerable]
    answers = [(e, split_quote(r)[0]) for e, r in answerable]
    n = max(len(answers), 1)
    return {
        "examples": len(examples),
        "answerable": len(answers),
        "f1": round(sum(f1(a, [gold_span(e)]) for e, a in answers if not declined(a)) / n, 4),
        "declines_answerable": round(sum(declined(a) for _e, a in answers) / n, 4),
        "declines_unanswerable": round(sum(declined(r) for r in other) / max(len(other), 1), 4)
        if other
        else None,
        "samples": [{"target": e.target, "reply": r} for e, r in answerable[:5]],
    }


def heldout_answers(
    model: Any, tok: Any, examples: list[Example], device: str, limit: int, batch: int = 16, max_new: int = 96
) -> dict[str, Any]:
    chosen = examples[:limit]
    return score(chosen, generate(model, tok, chosen, device, batch, max_new))

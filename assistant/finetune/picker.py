"""The rewriter that reads the first hits: which hit to copy is picked by query likelihood.

docs/benchmarks.md ("Fine-tuning for retrieval") records that a rewrite built from one of the
question's first 10 hits pays when the right hit is picked, and that the bundled base model's
query likelihood (how likely it finds the question after the passage: Sachan et al.,
"Improving Passage Retrieval with Zero-Shot Question Generation", 2022) already picks well
zero-shot. The pick is learned by fine-tuning that
likelihood: a LoRA on the bundled base, trained with the shared trainer to write a library's
questions from the document that answers them (``examples``). This module holds the picker's
prompt (``prompts/picker.md``), its training rows, and its scorer in each runtime: PyTorch
(``TorchLikelihood``, for training-time checks and the bench) and llama.cpp over the GGUF base and
exported adapter (``GgufLikelihood``, what a turn would use). Both score the same tokens.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from ..models.picker import PICKER_NAME, chat_prompt, mean_logprob, messages
from .examples import Example

__all__ = ["PICKER_NAME", "Pair", "TorchLikelihood", "chat_prompt", "examples", "mean_logprob", "messages"]


@dataclass
class Pair:
    """A question and the text of the document that answers it."""

    id: str
    question: str
    passage: str
    group: str  # the article/document: train and validation never share one


def examples(pairs: list[Pair], n: int, val: int, seed: int = 0) -> dict[str, list[Example]]:
    """Up to ``n`` training rows and about ``val`` validation rows (whole groups), seeded."""
    rng = random.Random(seed)
    groups = sorted({p.group for p in pairs})
    rng.shuffle(groups)
    size: dict[str, int] = {}
    for p in pairs:
        size[p.group] = size.get(p.group, 0) + 1
    val_groups: set[str] = set()
    held = 0
    for g in groups:
        if held >= val:
            break
        val_groups.add(g)
        held += size[g]
    rows: dict[str, list[Example]] = {"train": [], "val": []}
    for p in pairs:
        ex = Example(
            messages=messages(p.passage), target=p.question.strip(), id=p.id, group=p.group,
            format="picker", oracle=True, answerable=True,
        )  # fmt: skip
        rows["val" if p.group in val_groups else "train"].append(ex)
    rng.shuffle(rows["train"])
    rows["train"] = rows["train"][:n]
    return rows


class TorchLikelihood:
    """The same scores in PyTorch (dequantised base, adapter from a training run's ``adapter.pt``),
    every passage of one question in one batch."""

    def __init__(self, base: Path, run: Path | None = None, threads: int = 2) -> None:
        import torch
        from peft import set_peft_model_state_dict

        from .train import load_base, run_config, with_lora

        torch.set_num_threads(threads)
        model, self.tok = load_base(base, "cpu")
        if run is not None:
            cfg = run_config(run)
            cfg.grad_checkpointing = False
            model = with_lora(model, cfg)
            set_peft_model_state_dict(model, torch.load(run / "adapter.pt", map_location="cpu"))
        self.model = model.eval()

    def tokens(self, passage: str, question: str) -> tuple[list[int], list[int]]:
        prompt = self.tok.apply_chat_template(messages(passage), add_generation_prompt=True, tokenize=False)
        return (
            self.tok(prompt, add_special_tokens=False)["input_ids"],
            self.tok(question.strip(), add_special_tokens=False)["input_ids"],
        )

    def scores(self, passages: list[str], question: str) -> list[float]:
        import torch

        rows = [self.tokens(p, question) for p in passages]
        width = max(len(a) + len(b) for a, b in rows)
        pad = self.tok.pad_token_id if self.tok.pad_token_id is not None else self.tok.eos_token_id
        ids = torch.tensor([a + b + [pad] * (width - len(a) - len(b)) for a, b in rows])
        mask = torch.tensor([[1] * (len(a) + len(b)) + [0] * (width - len(a) - len(b)) for a, b in rows])
        with torch.no_grad():
            logits = self.model(input_ids=ids, attention_mask=mask).logits
        return [
            mean_logprob(logits[i, len(a) - 1 : len(a) + len(b) - 1].numpy(), b)
            for i, (a, b) in enumerate(rows)
        ]

"""The reading rewriter's scorer at run time: how likely the picker (the bundled base plus the
adapter ``openbook finetune rewriter --method pick`` trains) finds a question after each passage,
in llama.cpp over the GGUF base and the exported adapter (``GgufLikelihood``), served as a model
(``PickerModel``). Training rows and the PyTorch scorer live in ``finetune/picker.py``; both score
the same tokens (``messages``, ``chat_prompt``)."""

from __future__ import annotations

import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

from openbook.prompts import render

from .llamacpp_backend import LlamaCppChat

PICKER_NAME = "openbook-picker"  # a learned reading rewriter
PASSAGE_WORDS = 160  # a passage's head: longer documents cost more to score than they help pick
N_CTX = 1024  # a passage's head and a question; a longer question is scored by its start
MEMO = 4096  # (question, passage) scores a served picker remembers
QUESTION_TOKENS = 256  # room kept for the question when a passage's head is very long
SYSTEM = "You write the question that a reader asks about a passage."


def messages(passage: str) -> list[dict[str, str]]:
    head = " ".join(passage.split()[:PASSAGE_WORDS])
    return [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": render("picker", {"passage": head}).strip()},
    ]


def chat_prompt(msgs: list[dict[str, str]]) -> str:
    """The bundled base's chat template (ChatML) up to the assistant's turn, as text: what
    ``apply_chat_template(..., add_generation_prompt=True)`` gives (tests hold the two equal)."""
    body = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in msgs)
    return body + "<|im_start|>assistant\n"


def mean_logprob(logits: Any, target: list[int]) -> float:
    """Mean log-probability of ``target`` given the logits at the positions that predict it."""
    import numpy as np

    x = np.asarray(logits, dtype=np.float64)
    x = x - x.max(axis=1, keepdims=True)
    logp = x - np.log(np.exp(x).sum(axis=1, keepdims=True))
    return float(np.mean(logp[np.arange(len(target)), target]))


class GgufLikelihood:
    """The picker's scores in llama.cpp: the GGUF base plus, if given, the exported adapter,
    loaded (once per process) by the in-process runtime with every position's logits."""

    def __init__(self, base: Path, adapter: Path | None = None) -> None:
        from .llamacpp_backend import load

        self.llm, self.lock, _ = load(base, adapter, N_CTX, logits_all=True)
        self.evaluated = 0  # tokens the last ``scores`` ran through the model

    def tokens(self, passage: str, question: str) -> tuple[list[int], list[int]]:
        """The prompt's and the question's tokens, within the context: a passage whose head is
        too many tokens (no spaces to count words by, say) is cut shorter, a very long question
        is scored by its start."""
        target = self.llm.tokenize(question.strip().encode(), add_bos=False, special=False)
        budget = N_CTX - min(len(target), QUESTION_TOKENS)
        while True:
            prompt = self.llm.tokenize(chat_prompt(messages(passage)).encode(), add_bos=False, special=True)
            if len(prompt) <= budget or not passage:
                break
            passage = passage[: len(passage) * 2 // 3]
        return prompt, target[: max(N_CTX - len(prompt), 0)]

    def scores(self, passages: list[str], question: str) -> list[float]:
        out = []
        self.evaluated = 0  # tokens run through the model by this call
        for passage in passages:
            prompt, target = self.tokens(passage, question)
            if not target:  # nothing to score (an empty question): no passage is preferred
                out.append(0.0)
                continue
            tokens = prompt + target
            self.evaluated += len(tokens)
            self.llm.reset()
            self.llm.eval(tokens)
            out.append(mean_logprob(self.llm.scores[len(prompt) - 1 : len(tokens) - 1], target))
        return out


class PickerModel(LlamaCppChat):
    """A reading rewriter in the in-process runtime: the GGUF base and the picker's adapter,
    loaded with every position's logits (``scores``) on first use. Ollama's API returns no
    prompt log-probabilities, so a reading rewriter always runs in-process. Still a chat model
    (``chat`` answers with the same weights), so any code that lists or preloads models can."""

    def __init__(self, base: Path, adapter: Path, threads: int | None = None) -> None:
        super().__init__(base, name=PICKER_NAME, lora=adapter, n_ctx=N_CTX, threads=threads)
        self._likelihood: GgufLikelihood | None = None
        # The same question over the same hits (asked again, or by another configuration of
        # `eval qa`) is scored once: the scores are deterministic.
        self._memo: OrderedDict[tuple[str, str], float] = OrderedDict()
        self.last_tokens = 0  # tokens the last ``scores`` ran through the model (0: all remembered)

    def _loaded(self) -> GgufLikelihood:
        if self._likelihood is None:  # the runtime's loader: its checks, errors and cache
            self._likelihood = GgufLikelihood(self.path, self.lora)
        return self._likelihood

    def preload(self) -> float:
        started = time.perf_counter()
        self._loaded()
        return time.perf_counter() - started

    def scores(self, passages: list[str], question: str) -> list[float]:
        from .base import ModelError

        likelihood = self._loaded()
        with likelihood.lock:
            todo = [p for p in dict.fromkeys(passages) if (question, p) not in self._memo]
            try:
                fresh = likelihood.scores(todo, question) if todo else []
                self.last_tokens = likelihood.evaluated if todo else 0
            except (ValueError, RuntimeError) as exc:  # llama.cpp refused the tokens
                raise ModelError(f"{self.name} could not score the passages: {exc}") from exc
            for p, score in zip(todo, fresh, strict=True):
                self._memo[(question, p)] = score
            out = [self._memo[(question, p)] for p in passages]
            while len(self._memo) > MEMO:
                self._memo.popitem(last=False)
            return out

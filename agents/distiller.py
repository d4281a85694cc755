"""Turn the kept passages into a short note of facts, each tagged with the passage it came from."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
from pydantic import BaseModel, Field

from openbook.assistant.models.base import ChatModel
from openbook.assistant.tracing import Span

from .passages import Passage
from .step import run_structured


class DistillInput(BaseModel):
    question: str
    passages: list[Passage]


class Fact(BaseModel):
    fact: str = Field(min_length=3, max_length=300)
    source: int


class DistillOutput(BaseModel):
    facts: list[Fact] = Field(max_length=8)


def _fallback(inp: DistillInput) -> DistillOutput:
    """The passages' first sentences, each cited to its passage."""
    facts = []
    for p in inp.passages:
        text = " ".join(p.text.split())
        text = re.sub(r"^#+\s*[^.]*?\s(?=[A-Z])", "", text)  # drop a leading markdown heading
        first = re.split(r"(?<=[.!?])\s", text, maxsplit=2)
        facts.append(Fact(fact=" ".join(first[:2])[:300], source=p.n))
    return DistillOutput(facts=facts[:8])


def _sentences(text: str) -> list[str]:
    lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith("#")]
    flat = " ".join(" ".join(lines).split())
    return [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z0-9])", flat) if len(s) > 15]


def distill_extractive(
    embed: Callable[[list[str]], np.ndarray], inp: DistillInput, max_facts: int = 5
) -> DistillOutput:
    """The sentences of the passages closest to the question (cosine of normalised
    embeddings), at most two per passage, kept in reading order. Nothing is paraphrased, so a
    small answer model copies facts, names and numbers as the documents state them."""
    candidates = [(p.n, i, s) for p in inp.passages for i, s in enumerate(_sentences(p.text))]
    if not candidates:
        return _fallback(inp)
    vectors = embed([inp.question] + [s for _, _, s in candidates])
    sims = vectors[1:] @ vectors[0]
    chosen: list[int] = []
    per_passage: dict[int, int] = {}
    for idx in np.argsort(-sims):
        n = candidates[idx][0]
        if per_passage.get(n, 0) < 2:
            chosen.append(int(idx))
            per_passage[n] = per_passage.get(n, 0) + 1
        if len(chosen) == max_facts:
            break
    chosen.sort(key=lambda i: (candidates[i][0], candidates[i][1]))
    return DistillOutput(facts=[Fact(fact=candidates[i][2][:300], source=candidates[i][0]) for i in chosen])


def distill(model: ChatModel, inp: DistillInput, span: Span | None = None) -> DistillOutput:
    out = run_structured("distiller", model, inp, DistillOutput, span, max_tokens=300)
    if out is None:
        return _fallback(inp)
    known = {p.n for p in inp.passages}
    facts = [f for f in out.facts if f.source in known]
    if not facts:
        if span is not None:
            span.fallback("no facts citing a given passage")
        return _fallback(inp)
    return DistillOutput(facts=facts)

"""Turn the kept passages into a short note of facts, each tagged with the passage it came from.

``distill_mode = "extractive"`` (the default) picks the passages' sentences closest to the
question by embedding, with no model call; ``"model"`` asks the distiller model."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
from pydantic import BaseModel, Field

from .kit.evidence import Passage, looks_like_instruction
from .kit.step import Step, StepContext, StepSettings, TurnState


class DistillInput(BaseModel):
    question: str
    passages: list[Passage]


class Fact(BaseModel):
    fact: str = Field(min_length=3, max_length=300)
    source: int


class DistillOutput(BaseModel):
    facts: list[Fact] = Field(max_length=8)


class DistillSettings(StepSettings):
    distill_mode: str = "extractive"
    max_facts: int = 5
    max_tokens: int = 300


def first_sentences(inp: DistillInput) -> DistillOutput:
    """The passages' first sentences, each cited to its passage (the fallback)."""
    facts = []
    for p in inp.passages:
        text = " ".join(p.text.split())
        text = re.sub(r"^#+\s*[^.]*?\s(?=[A-Z])", "", text)  # drop a leading markdown heading
        first = re.split(r"(?<=[.!?])\s", text, maxsplit=2)
        facts.append(Fact(fact=" ".join(first[:2])[:300], source=p.n))
    return DistillOutput(facts=facts[:8])


def _sentences(text: str) -> list[str]:
    """The sentences of a passage, without headings, without a line that poses as a chat turn
    (all of it), and without sentences that address the assistant."""
    lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith(("#", "(quoted "))]
    flat = " ".join(" ".join(lines).split())
    sentences = re.split(r"(?<=[.!?])\s+(?=[A-Z0-9])", flat)
    return [s for s in sentences if len(s) > 15 and not looks_like_instruction(s)]


def extract(embed: Callable[[list[str]], np.ndarray], inp: DistillInput, max_facts: int = 5) -> DistillOutput:
    """The sentences of the passages closest to the question (cosine of normalised
    embeddings), at most two per passage, kept in reading order. Nothing is paraphrased, so a
    small answer model copies facts, names and numbers as the documents state them."""
    candidates = [(p.n, i, s) for p in inp.passages for i, s in enumerate(_sentences(p.text))]
    if not candidates:
        return first_sentences(inp)
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


class Distill(Step[DistillInput, DistillOutput]):
    name = "distill"
    prompt = "distiller"
    role = "distiller"
    switches = ("distill",)
    Input, Output, Settings = DistillInput, DistillOutput, DistillSettings

    def read(self, state: TurnState, ctx: StepContext) -> DistillInput:
        return DistillInput(question=state.query, passages=state.passages)

    def skip(self, state: TurnState, inp: DistillInput) -> tuple[str, DistillOutput] | None:
        return ("no passages to distill", DistillOutput(facts=[])) if not inp.passages else None

    def run(self, ctx: StepContext, inp: DistillInput) -> DistillOutput:
        s = DistillSettings.of(ctx)
        if s.distill_mode == "extractive":
            assert ctx.library is not None, "extractive distilling needs the embedder"
            ctx.note("extractive: sentences closest to the question")
            return extract(ctx.library.embed, inp, s.max_facts)
        out = self.ask(ctx, inp, DistillOutput, s.max_tokens)
        if out is None:
            return first_sentences(inp)
        known = {p.n for p in inp.passages}
        facts = [f for f in out.facts if f.source in known]
        if not facts:
            ctx.fallback("no facts citing a given passage")
            return first_sentences(inp)
        return DistillOutput(facts=facts)

    def write(self, state: TurnState, out: DistillOutput, ctx: StepContext) -> None:
        if out.facts:
            state.evidence = [Passage(n=f.source, text=f.fact) for f in out.facts]

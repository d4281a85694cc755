"""Turn the kept passages into a short note of facts, each tagged with the passage it came from.

``distill_mode = "extractive"`` (the default) picks the passages' sentences closest to the
question by embedding, with no model call; ``"model"`` asks the distiller model."""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import numpy as np
from pydantic import BaseModel, Field

from .kit.evidence import Passage, sentences_of
from .kit.step import Step, StepContext, StepSettings, TurnState


class DistillInput(BaseModel):
    question: str
    passages: list[Passage]


class Fact(BaseModel):
    fact: str = Field(min_length=3, max_length=300)
    source: int


class DistillOutput(BaseModel):
    facts: list[Fact] = Field(max_length=12)


class DistillSettings(StepSettings):
    distill_mode: str = "extractive"
    max_facts: int = 5
    lexical_weight: float = 0.3  # extractive: share of word overlap in a sentence's closeness
    per_passage: int = 3  # extractive: most sentences from one passage
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


CONTINUES = re.compile(r"(It|Its|This|These|They|Their|He|His|She|Her|That|Those|There)\b")


def lexical_scores(question: str, sentences: list[str]) -> np.ndarray:
    """Each sentence's share of the question's words (BM25 tokens: stemmed, no stopwords),
    weighted by how rare each word is among these sentences (0..1)."""
    from .kit.words import tokenize

    q = set(tokenize(question))
    bags = [set(tokenize(s)) for s in sentences]
    n = len(sentences)
    df = {w: sum(w in b for b in bags) for w in q}
    idf = {w: math.log(1 + n / df[w]) if df[w] else math.log(1 + n) for w in q}
    total = sum(idf.values()) or 1.0
    return np.array([sum(idf[w] for w in q & b) / total for b in bags], dtype=np.float32)


def extract(
    embed: Callable[[list[str]], np.ndarray],
    inp: DistillInput,
    max_facts: int = 5,
    lexical_weight: float = 0.3,
    per_passage: int = 3,
    follow: bool = True,
) -> DistillOutput:
    """The sentences of the passages closest to the question, at most ``per_passage`` from a
    passage, kept in reading order. Closeness blends the cosine of normalised embeddings with
    the share of the question's words a sentence holds (``lexical_weight``): embeddings alone
    miss the sentence that names the thing asked about in other words (on the agent ablation's
    questions the blend kept the gold answer in the note for 256 of 300 questions whose
    passages held it, against 228; docs/benchmarks.md, "The agent pipeline and the reader").
    A chosen sentence's successor that opens with a pronoun comes along. Nothing is paraphrased,
    so a small answer model copies facts, names and numbers as the documents state them."""
    candidates = [(p.n, i, s) for p in inp.passages for i, s in enumerate(sentences_of(p.text))]
    if not candidates:
        return first_sentences(inp)
    texts = [s for _, _, s in candidates]
    vectors = embed([inp.question] + texts)
    sims = vectors[1:] @ vectors[0]
    if lexical_weight:
        sims = (1 - lexical_weight) * sims + lexical_weight * lexical_scores(inp.question, texts)
    chosen: list[int] = []
    per: dict[int, int] = {}
    for idx in np.argsort(-sims, kind="stable"):
        n = candidates[idx][0]
        if per.get(n, 0) < per_passage:
            chosen.append(int(idx))
            per[n] = per.get(n, 0) + 1
        if len(chosen) == max_facts:
            break
    # A chosen sentence's successor that opens with a pronoun continues it ("Venus has the hottest
    # surface… Its thick atmosphere… traps heat"): without it the note keeps a claim and drops
    # its explanation.
    successors = [
        i + 1
        for i in chosen
        if follow
        and i + 1 < len(candidates)
        and candidates[i + 1][0] == candidates[i][0]
        and i + 1 not in chosen
        and CONTINUES.match(candidates[i + 1][2])
    ]
    chosen = sorted(set(chosen + successors), key=lambda i: (candidates[i][0], candidates[i][1]))
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
            return extract(ctx.library.embed, inp, s.max_facts, s.lexical_weight, s.per_passage)
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

"""Rewrite a (sub-)question into better search text: keywords, and a HyDE-style hypothetical
answer passage. The original text is always searched as well.

Two kinds of rewriter fill the same output. A *writing* rewriter (a chat model: the prompt
``prompts/rewriter.md``, or a LoRA from ``openbook finetune rewriter --method generate``) writes
both from the question alone. A *reading* rewriter (``--method pick``: a model that scores
passages, ``QueryLikelihood``) searches the question first, picks the hit under which the
question is most likely, and rewrites from that hit (``agents/reading.py``). The trace names the
rewriter that ran and, for a reading one, the hit it picked."""

from __future__ import annotations

import time
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, Field

from . import reading
from .kit.evidence import Filters
from .kit.llm import ChatResult, ModelError, Usage
from .kit.step import Step, StepContext, StepSettings, TurnState


@runtime_checkable
class QueryLikelihood(Protocol):
    """A reading rewriter's model: how likely it finds ``question`` after each passage."""

    name: str
    backend: str

    def scores(self, passages: list[str], question: str) -> list[float]: ...


class RewriteInput(BaseModel):
    question: str
    # A reading rewriter's first search keeps the turn's filters (not part of the prompt).
    filters: Filters | None = Field(default=None, exclude=True)


class RewriteOutput(BaseModel):
    keywords: str = Field(default="", max_length=200)
    hypothetical_answer: str = Field(default="", max_length=500)
    picked_chunk: int | None = None  # a reading rewriter: the hit it rewrote from
    # a reading rewriter: the hits it read, the one it finds the question most likely under first
    read_order: list[int] = Field(default_factory=list)


class RewriteSettings(StepSettings):
    max_tokens: int = 200
    read_hits: int = 10  # a reading rewriter picks among the question's first this many hits


class Rewrite(Step[RewriteInput, RewriteOutput]):
    name = "rewrite"
    prompt = "rewriter"
    role = "rewriter"
    switches = ("rewrite", "hyde")
    Input, Output, Settings = RewriteInput, RewriteOutput, RewriteSettings

    def read(self, state: TurnState, ctx: StepContext) -> RewriteInput:
        return RewriteInput(question=state.piece.text, filters=state.filters)

    def run(self, ctx: StepContext, inp: RewriteInput) -> RewriteOutput:
        model = ctx.model(self.role)
        if isinstance(model, QueryLikelihood):
            return self.read_hits(ctx, inp, model)
        out = self.ask(ctx, inp, RewriteOutput, RewriteSettings.of(ctx).max_tokens)
        return (
            out
            if out is not None
            else RewriteOutput.model_construct(keywords=inp.question, hypothetical_answer="")
        )

    def read_hits(self, ctx: StepContext, inp: RewriteInput, model: Any) -> RewriteOutput:
        """Search the question, pick the hit the model finds it most likely under, rewrite
        from that hit. Nothing to read, or the model failing, adds nothing (recorded)."""
        if ctx.library is None:
            ctx.fallback("a reading rewriter needs the library; nothing added")
            return RewriteOutput()
        ctx.check_cancelled()
        hits = ctx.library.search([inp.question], RewriteSettings.of(ctx).read_hits, inp.filters).hits
        if not hits:
            ctx.note(f"reading rewriter {model.name}: the question found nothing to read")
            return RewriteOutput()
        started = time.perf_counter()
        try:
            scores = model.scores([h.text for h in hits], inp.question)
        except ModelError as exc:
            ctx.fallback(f"reading rewriter {model.name} failed: {exc.message}; nothing added")
            return RewriteOutput()
        order = sorted(range(len(hits)), key=lambda i: (-scores[i], i))
        best = order[0]
        hit = hits[best]
        if ctx.span is not None:
            took = (time.perf_counter() - started) * 1000
            # the tokens it read to score the hits (a scorer that does not count them: 0)
            read = getattr(model, "last_tokens", 0)
            usage = Usage(prompt_tokens=read, prompt_ms=took, total_ms=took)
            ctx.span.record_call(ChatResult(text="", model=model.name, backend=model.backend, usage=usage))
        ctx.note(
            f"reading rewriter {model.name}: rewrote from hit {best + 1} of {len(hits)} "
            f"({hit.title or hit.source}, chunk {hit.chunk_id}), the one under which the question "
            f"is most likely (mean log-prob {scores[best]:.2f}; first hit {scores[0]:.2f})"
        )
        rarity = ctx.library.rarity
        return RewriteOutput(
            keywords=reading.keywords_from(hit.text, inp.question, rarity),
            hypothetical_answer=reading.passage_from(hit.text, inp.question),
            picked_chunk=hit.chunk_id,
            read_order=[hits[i].chunk_id for i in order],
        )

    def write(self, state: TurnState, out: RewriteOutput, ctx: StepContext) -> None:
        piece = state.piece
        before = len(piece.queries)
        if ctx.switches.get("rewrite", True) and out.keywords.strip():
            piece.queries.append(out.keywords)
        if ctx.switches.get("hyde", True) and out.hypothetical_answer.strip():
            piece.queries.append(out.hypothetical_answer)
        if len(piece.queries) > before and out.picked_chunk is not None:
            # retrieval weighs rewrites copied from a picked hit its own way, with its order
            piece.read = list(out.read_order or [out.picked_chunk])

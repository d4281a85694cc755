"""Judge each retrieved passage's relevance to its (sub-)question: a score per passage, kept
when the score reaches ``filter_threshold``. Batched: one call scores every passage of a piece."""

from __future__ import annotations

from pydantic import BaseModel, Field

from .kit.evidence import Passage, number
from .kit.step import Step, StepContext, StepSettings, TurnState

PREVIEW = 400  # characters of each passage shown to the judge


class FilterInput(BaseModel):
    question: str
    passages: list[Passage]


class FilterOutput(BaseModel):
    scores: list[float] = Field(max_length=30)  # one per passage, in order, 0..1

    def kept(self, passages: list[Passage], threshold: float = 0.5) -> list[int]:
        return [p.n for p, s in zip(passages, self.scores, strict=False) if s >= threshold]


class FilterSettings(StepSettings):
    filter_threshold: float = 0.5
    max_tokens: int = 20  # plus 8 per passage


class Filter(Step[FilterInput, FilterOutput]):
    """Fallback (model failed, or a wrong number of scores): keep every passage (top-k)."""

    name = "filter"
    prompt = "filter"
    role = "filter"
    switches = ("filter",)
    Input, Output, Settings = FilterInput, FilterOutput, FilterSettings

    def read(self, state: TurnState, ctx: StepContext) -> FilterInput:
        return FilterInput(question=state.piece.text, passages=number(state.piece.hits))

    def skip(self, state: TurnState, inp: FilterInput) -> tuple[str, FilterOutput] | None:
        return ("nothing to judge", FilterOutput(scores=[])) if not inp.passages else None

    def run(self, ctx: StepContext, inp: FilterInput) -> FilterOutput:
        shown = FilterInput(
            question=inp.question,
            passages=[p.model_copy(update={"text": p.text[:PREVIEW]}) for p in inp.passages],
        )
        budget = FilterSettings.of(ctx).max_tokens + 8 * len(inp.passages)
        out = self.ask(ctx, shown, FilterOutput, budget)
        keep_all = FilterOutput(scores=[1.0] * len(inp.passages))
        if out is None:
            return keep_all
        if len(out.scores) != len(inp.passages):
            ctx.fallback(f"{len(out.scores)} scores for {len(inp.passages)} passages; kept all")
            return keep_all
        return FilterOutput(scores=[min(max(s, 0.0), 1.0) for s in out.scores])

    def write(self, state: TurnState, out: FilterOutput, ctx: StepContext) -> None:
        threshold = FilterSettings.of(ctx).filter_threshold
        state.piece.hits = [h for h, s in zip(state.piece.hits, out.scores, strict=True) if s >= threshold]

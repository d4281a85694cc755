"""Judge each retrieved passage's relevance to its (sub-)question: a score per passage, kept
when the score reaches the threshold. Batched: one call scores every passage of a piece."""

from __future__ import annotations

from pydantic import BaseModel, Field

from openbook.assistant.models.base import ChatModel
from openbook.assistant.tracing import Span

from .passages import Passage
from .step import run_structured

PREVIEW = 400  # characters of each passage shown to the judge


class FilterInput(BaseModel):
    question: str
    passages: list[Passage]


class FilterOutput(BaseModel):
    scores: list[float] = Field(max_length=30)  # one per passage, in order, 0..1

    def kept(self, passages: list[Passage], threshold: float = 0.5) -> list[int]:
        return [p.n for p, s in zip(passages, self.scores, strict=False) if s >= threshold]


def filter_passages(model: ChatModel, inp: FilterInput, span: Span | None = None) -> FilterOutput:
    """Fallback (model failed, or a wrong number of scores): keep every passage (top-k)."""
    shown = FilterInput(
        question=inp.question,
        passages=[p.model_copy(update={"text": p.text[:PREVIEW]}) for p in inp.passages],
    )
    out = run_structured("filter", model, shown, FilterOutput, span, max_tokens=20 + 8 * len(inp.passages))
    keep_all = FilterOutput(scores=[1.0] * len(inp.passages))
    if out is None:
        return keep_all
    if len(out.scores) != len(inp.passages):
        if span is not None:
            span.fallback(f"{len(out.scores)} scores for {len(inp.passages)} passages; kept all")
        return keep_all
    return FilterOutput(scores=[min(max(s, 0.0), 1.0) for s in out.scores])

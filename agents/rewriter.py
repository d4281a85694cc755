"""Rewrite a (sub-)question into better search text: keywords, and a HyDE-style hypothetical
answer passage. The original text is always searched as well."""

from __future__ import annotations

from pydantic import BaseModel, Field

from .kit.step import Step, StepContext, StepSettings, TurnState


class RewriteInput(BaseModel):
    question: str


class RewriteOutput(BaseModel):
    keywords: str = Field(default="", max_length=200)
    hypothetical_answer: str = Field(default="", max_length=500)


class RewriteSettings(StepSettings):
    max_tokens: int = 200


class Rewrite(Step[RewriteInput, RewriteOutput]):
    name = "rewrite"
    prompt = "rewriter"
    role = "rewriter"
    switches = ("rewrite", "hyde")
    Input, Output, Settings = RewriteInput, RewriteOutput, RewriteSettings

    def read(self, state: TurnState, ctx: StepContext) -> RewriteInput:
        return RewriteInput(question=state.piece)

    def run(self, ctx: StepContext, inp: RewriteInput) -> RewriteOutput:
        out = self.ask(ctx, inp, RewriteOutput, RewriteSettings.of(ctx).max_tokens)
        return (
            out
            if out is not None
            else RewriteOutput.model_construct(keywords=inp.question, hypothetical_answer="")
        )

    def write(self, state: TurnState, out: RewriteOutput, ctx: StepContext) -> None:
        if ctx.switches.get("rewrite", True) and out.keywords.strip():
            state.queries.append(out.keywords)
        if ctx.switches.get("hyde", True) and out.hypothetical_answer.strip():
            state.queries.append(out.hypothetical_answer)

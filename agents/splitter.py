"""Split a question into 1..N self-contained sub-questions, each retrieved on its own."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, Field

from .kit.step import Step, StepContext, StepSettings, TurnState
from .kit.words import tokenize


class SplitInput(BaseModel):
    question: str
    max_parts: int = 3


class SplitOutput(BaseModel):
    sub_questions: list[Annotated[str, Field(min_length=3, max_length=300)]] = Field(
        min_length=1, max_length=6
    )


class SplitSettings(StepSettings):
    max_tokens: int = 200
    max_parts: int = 2


_COMPOUND = re.compile(r"\band\b|;|\balso\b|\bversus\b|\bvs\.?\b|\bcompare", re.I)


def looks_compound(question: str) -> bool:
    """Whether a question may ask more than one thing; a single question skips the model call."""
    return bool(_COMPOUND.search(question)) or question.count("?") > 1


def of_the_question(part: str, question: str) -> bool:
    """Whether a sub-question is a piece of ``question``: at least two search words, most of
    them the question's. A small model copies the prompt's "..." placeholder, cuts a name out
    alone ("Arrokoth"), or writes an answer instead ("Solar power is a technology that …");
    searched in place of the question, each of those loses it."""
    words = set(tokenize(part))
    return len(words) >= 2 and len(words & set(tokenize(question))) / len(words) >= 0.5


def as_is(questions: list[str]) -> SplitOutput:
    """Questions passed through unsplit (the length limits bind the model's output only)."""
    return SplitOutput.model_construct(sub_questions=list(questions))


class Split(Step[SplitInput, SplitOutput]):
    name = "split"
    prompt = "splitter"
    role = "splitter"
    switches = ("split",)
    Input, Output, Settings = SplitInput, SplitOutput, SplitSettings

    def read(self, state: TurnState, ctx: StepContext) -> SplitInput:
        return SplitInput(question=state.query, max_parts=SplitSettings.of(ctx).max_parts)

    def skip(self, state: TurnState, inp: SplitInput) -> tuple[str, SplitOutput] | None:
        if len(state.pieces) > 1:
            return f"the planner asked {len(state.pieces)} queries: not split", as_is(state.pieces)
        if not looks_compound(inp.question):
            return "one question (no 'and', ';' or second '?'): not split", as_is([inp.question])
        return None

    def run(self, ctx: StepContext, inp: SplitInput) -> SplitOutput:
        s = SplitSettings.of(ctx)
        out = self.ask(ctx, inp, SplitOutput, s.max_tokens)
        if out is None:
            return as_is([inp.question])
        given = list(dict.fromkeys(q.strip() for q in out.sub_questions if q.strip()))
        parts = [q for q in given if of_the_question(q, inp.question)][: inp.max_parts]
        if len(parts) < len(given):
            dropped = [q for q in given if q not in parts]
            ctx.note(f"dropped sub-questions not made of the question's words: {dropped}")
        if not parts:
            ctx.fallback("no usable sub-questions: searched the question as asked")
            return as_is([inp.question])
        return SplitOutput(sub_questions=parts)

    def write(self, state: TurnState, out: SplitOutput, ctx: StepContext) -> None:
        state.pieces = list(out.sub_questions)

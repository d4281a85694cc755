"""Answer from the model's own knowledge, with no documents: the ``base`` and ``ft`` baselines
of ``openbook eval qa`` (what a model knows without retrieval)."""

from __future__ import annotations

from pydantic import BaseModel

from .answerer import AnswerOutput, AnswerSettings, refuse_partial
from .kit.llm import ChatOptions
from .kit.step import Step, StepContext, TurnState


class ClosedBookInput(BaseModel):
    question: str


class ClosedBook(Step[ClosedBookInput, AnswerOutput]):
    name = "answer"
    prompt = "closed_book"
    role = "answerer"
    Input, Output, Settings = ClosedBookInput, AnswerOutput, AnswerSettings

    def read(self, state: TurnState, ctx: StepContext) -> ClosedBookInput:
        return ClosedBookInput(question=state.question)

    def run(self, ctx: StepContext, inp: ClosedBookInput) -> AnswerOutput:
        prompt, messages = self.messages(inp)
        result = ctx.model("answerer").chat(
            messages,
            options=ChatOptions(temperature=0.0, seed=0, max_tokens=AnswerSettings.of(ctx).answer_max_tokens),
            on_token=ctx.on_token,
        )
        if ctx.span is not None:
            ctx.span.record_call(result, prompt)
        refuse_partial(result)
        return AnswerOutput(text=result.text.strip())

    def write(self, state: TurnState, out: AnswerOutput, ctx: StepContext) -> None:
        state.answer = out.text

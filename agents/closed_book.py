"""Answer from the model's own knowledge, with no documents: the ``base`` and ``ft`` baselines
of ``openbook eval qa`` (what a model knows without retrieval)."""

from __future__ import annotations

from pydantic import BaseModel

from .answerer import AnswerOutput, AnswerSettings, stream_answer
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
        return AnswerOutput(text=stream_answer(self, ctx, inp).text.strip())

    def write(self, state: TurnState, out: AnswerOutput, ctx: StepContext) -> None:
        state.answer = out.text

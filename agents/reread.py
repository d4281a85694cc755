"""Answer again from the whole passages when the answer model declined from the distilled note.

The note keeps a few sentences; when the sentence that answers is not among them, a reader that
was trained to decline without evidence says so. Reading the passages the note came from then
recovers the answer (docs/benchmarks.md, "The agent pipeline and the reader"). The pipeline runs
it only when the answer declined from the note without reaching the user (``When(reread_due)``);
the first decline was held back, so the user sees one answer: this one."""

from __future__ import annotations

from .answerer import Answer, AnswerInput
from .kit.step import StepContext, TurnState


class Reread(Answer):
    name = "reread"
    switches = ("reread",)

    def read(self, state: TurnState, ctx: StepContext) -> AnswerInput:
        return AnswerInput(question=state.query or state.question, passages=state.passages)

    def reread_follows(self, state: TurnState, ctx: StepContext) -> bool:
        return False  # this is the reread: its decline is the answer

"""Recognise a compound question's shape (``kit/shapes.py``): a comparison, a "same …" or
"both …" question, or a bridge. The turn then answers each piece on its own evidence (``EachHop``)
and composes the whole (``compose.py``); any other question takes the ordinary path, having paid
nothing here (rules, no model call)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from .kit.shapes import Shape, shape_of
from .kit.step import HistoryTurn, Step, StepContext, TurnState
from .planner import looks_follow_up


class DecomposeInput(BaseModel):
    question: str
    history: list[HistoryTurn] = Field(default_factory=list)


class Decompose(Step[DecomposeInput, Shape]):
    name = "decompose"
    switches = ("split",)
    Input, Output = DecomposeInput, Shape

    @staticmethod
    def applies(state: TurnState) -> bool:
        """Whether the turn takes the compound path: a compound shape, in a question that does
        not lean on the conversation (a follow-up is made self-contained by the planner first)."""
        if state.history and looks_follow_up(state.question):
            return False
        return shape_of(state.question).compound

    def read(self, state: TurnState, ctx: StepContext) -> DecomposeInput:
        return DecomposeInput(question=state.question, history=state.history)

    def run(self, ctx: StepContext, inp: DecomposeInput) -> Shape:
        shape = shape_of(inp.question)
        ctx.note(f"shape: {shape.kind}" + (f" ({len(shape.hops)} pieces)" if shape.compound else ""))
        return shape

    def write(self, state: TurnState, out: Shape, ctx: StepContext) -> None:
        state.shape = out
        if out.compound:
            state.query = state.question

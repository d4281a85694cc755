"""Recognise a compound question's shape (``kit/shapes.py``): a comparison, a "same …" or
"both …" question, a bridge or an intersection. The turn then answers each piece on its own
evidence (``EachHop``) and composes the whole (``compose.py``); any other question takes the
ordinary path, having paid nothing here (rules, no model call).

A question the rules call single but that may be compound (``may_be_compound``: "or", "and",
"same", a comparative …) is put to the planner model when Ollama serves it (``DecomposeByModel``):
one call offering the tool ``answer_in_pieces``, whose arguments are the shape. A model that does
not call it leaves the question single; arguments that do not make a usable shape (one piece, a
bridge whose second piece does not use the first's answer, a comparison without what it
compares) are noted in the trace and the question stays single. The bundled 135M base is never
asked: it cannot do this reliably, and every turn would pay for the call."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from openbook.prompts import text as prompt_text

from .kit.llm import ChatOptions, ModelError, Tool
from .kit.shapes import SINGLE, Hop, Shape, may_be_compound, shape_of
from .kit.step import HistoryTurn, Step, StepContext, StepSettings, TurnState
from .planner import looks_follow_up


class DecomposeInput(BaseModel):
    question: str
    history: list[HistoryTurn] = Field(default_factory=list)


def _self_contained(state: TurnState) -> bool:
    """A follow-up is made self-contained by the planner first: it takes the ordinary path."""
    return not (state.history and looks_follow_up(state.question))


class Decompose(Step[DecomposeInput, Shape]):
    name = "decompose"
    switches = ("split",)
    Input, Output = DecomposeInput, Shape

    @staticmethod
    def applies(state: TurnState) -> bool:
        """Whether the turn takes the compound path by rule: a compound shape, in a question that
        does not lean on the conversation."""
        return _self_contained(state) and shape_of(state.question).compound

    def read(self, state: TurnState, ctx: StepContext) -> DecomposeInput:
        return DecomposeInput(question=state.question, history=state.history)

    def run(self, ctx: StepContext, inp: DecomposeInput) -> Shape:
        shape = shape_of(inp.question)
        ctx.note(f"shape: {shape.kind}" + (f" ({len(shape.hops)} pieces)" if shape.compound else ""))
        return shape

    def write(self, state: TurnState, out: Shape, ctx: StepContext) -> None:
        take(state, out)


def take(state: TurnState, shape: Shape) -> None:
    state.shape = shape
    if shape.compound:
        state.query = state.question


class Piece(BaseModel):
    question: str = Field(
        description="A self-contained question; a bridge's second uses {0} for the first's answer"
    )
    entity: str = Field("", description="Whom or what this piece asks about")


class PiecesArgs(BaseModel):
    """The arguments of ``answer_in_pieces``: the shape, as a model states it."""

    kind: Literal["comparison", "same", "both", "bridge", "intersection"]
    pieces: list[Piece] = Field(min_length=2, max_length=2)
    compare: Literal["date", "number", "text"] = Field(
        "text", description="comparison: what each piece's answer is compared by"
    )
    winner: Literal["smaller", "larger", ""] = Field(
        "", description="comparison: whose value answers (smaller: earlier / older / fewer)"
    )
    yes_no: bool = Field(False, description="whether the question is answered yes or no")
    subject: str = Field("", description="what is compared or asked, e.g. 'older', 'nationality', 'American'")

    def shape(self) -> Shape:
        bridge = self.kind == "bridge"
        if bridge and "{0}" not in self.pieces[1].question:
            raise ValueError("a bridge's second piece must use {0}, the first piece's answer")
        if self.kind == "comparison" and (self.compare == "text" or not self.winner):
            raise ValueError("a comparison needs compare (date or number) and winner")
        if self.kind == "both" and not self.subject.strip():
            raise ValueError("a 'both' question needs the subject both must be")
        hops = [
            Hop(text=p.question.strip(), entity=p.entity.strip(), needs=0 if bridge and i == 1 else None)
            for i, p in enumerate(self.pieces)
        ]
        pick = {"smaller": "min", "larger": "max", "": ""}[self.winner]
        return Shape(
            kind=self.kind, hops=hops, value=self.compare, pick=pick, yes_no=self.yes_no, subject=self.subject
        )


TOOL = "answer_in_pieces"


class AskInput(BaseModel):
    question: str


class DecomposeModelSettings(StepSettings):
    max_tokens: int = 200


class DecomposeByModel(Step[AskInput, Shape]):
    """The planner model's own tool call for a question the rules call single."""

    name = "decompose"
    prompt = "decompose"
    role = "planner"
    switches = ("split",)
    Input, Output, Settings = AskInput, Shape, DecomposeModelSettings

    @staticmethod
    def applies(state: TurnState) -> bool:
        """After ``Decompose``: the rules left the question single (``state.shape``), and its
        words suggest it may be compound."""
        return _self_contained(state) and not state.shape.compound and may_be_compound(state.question)

    def enabled(self, ctx: StepContext) -> bool:
        return super().enabled(ctx) and getattr(ctx.model("planner"), "backend", "") == "ollama"

    def read(self, state: TurnState, ctx: StepContext) -> AskInput:
        return AskInput(question=state.question)

    def run(self, ctx: StepContext, inp: AskInput) -> Shape:
        prompt, messages = self.messages(inp)
        tool = Tool(
            name=TOOL, description=prompt_text(f"tool_{TOOL}"), parameters=PiecesArgs.model_json_schema()
        )
        options = ChatOptions(temperature=0.0, seed=0, max_tokens=DecomposeModelSettings.of(ctx).max_tokens)
        try:
            result = ctx.model(self.role).chat(messages, tools=[tool], options=options)
        except ModelError as exc:
            if ctx.span is not None:
                ctx.span.prompt = prompt
            ctx.fallback(f"model error: {exc.message}; the question is answered whole")
            return SINGLE
        if ctx.span is not None:
            ctx.span.record_call(result, prompt)
        call = next((c for c in result.tool_calls if c.name == TOOL), None)
        if call is None:
            ctx.note("the planner model did not call answer_in_pieces: one question")
            return SINGLE
        try:
            shape = PiecesArgs.model_validate(call.arguments).shape()
        except (ValidationError, ValueError) as exc:
            ctx.fallback(f"unusable pieces ({str(exc).splitlines()[0]}): the question is answered whole")
            return SINGLE
        ctx.note(f"shape by the planner model: {shape.kind} ({len(shape.hops)} pieces)")
        return shape

    def write(self, state: TurnState, out: Shape, ctx: StepContext) -> None:
        take(state, out)

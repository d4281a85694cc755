"""The one step interface.

A step is a class with a pydantic ``Input`` and ``Output``, declared ``Settings`` (thresholds,
token budgets: each default in this one place), the model ``role`` it uses and the ``prompt``
file it renders, and one method: ``run(ctx, inp) -> Output``. ``read`` builds its input from the
turn's state, ``write`` puts its output back and ``skip`` says when it need not run. The runner
(``kit/runner.py``) is the only thing that runs a step: it opens its span, applies the switches,
checks for cancellation and records what happened; loops and conditions are constructs of the
runner, declared in ``agents/pipeline.py``, never a step's own code. A step never sees the
database or a model client: only ``StepContext``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Generic, Literal, NamedTuple, Protocol, Self, TypeVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from openbook.prompts import render, text

from . import cancel
from .evidence import Filters, Hit, Passage, number
from .llm import ChatModel, ChatOptions, Message, ModelError, SchemaError, TokenCallback, Tool, structured
from .shapes import Shape
from .trace import NullTracer, Span, Tracer

InT = TypeVar("InT", bound=BaseModel)
OutT = TypeVar("OutT", bound=BaseModel)
T = TypeVar("T", bound=BaseModel)


class Search(Protocol):
    def __call__(self, queries: list[str], k: int, filters: Filters | None = None) -> list[Hit]: ...


class Found(NamedTuple):
    """What a search returns: the fused hits, and how they were fused (for the trace)."""

    hits: list[Hit]
    note: str = ""
    rerank: str = ""  # whether and how the hits were reranked (for the trace)


class Library(Protocol):
    """Read access to the library that tools need."""

    def search(
        self, queries: list[str], k: int, filters: Filters | None = None, read: Sequence[int] = ()
    ) -> Found:
        """The fused hits of ``queries`` (the question first), with a note on how they were
        fused; ``read`` (not empty): the rest were copied from a hit by a reading rewriter,
        which weighs them its own way, and this is its order of the hits it read (chunk ids, the
        one it finds the question most likely under first)."""
        ...

    def open_document(self, name: str, limit: int) -> list[Hit]: ...

    def nearest_distance(self, text: str, filters: Filters | None = None) -> float | None:
        """Cosine distance from ``text`` to its nearest chunk (None: nothing is embedded)."""
        ...

    def embed(self, texts: list[str]) -> np.ndarray: ...

    def rarity(self, tokens: list[str]) -> dict[str, float]:
        """The library's idf of each BM25 token (``kit.words.tokenize``) it has; others are left out."""
        ...


class HistoryTurn(BaseModel):
    role: Literal["user", "assistant"]
    content: str
    about: str = ""  # an answer's: the title of the document it cited first


class Piece(BaseModel):
    """One sub-question while the runner's per-piece loop (``EachPiece``) searches it."""

    text: str  # the sub-question
    queries: list[str] = Field(default_factory=list)  # its search texts, itself first
    # its rewrites came from a hit a reading rewriter picked: its order of the hits it read
    read: list[int] = Field(default_factory=list)
    hits: list[Hit] = Field(default_factory=list)  # its evidence so far

    @classmethod
    def of(cls, text: str) -> Piece:
        return cls(text=text, queries=[text])


class TurnState(BaseModel):
    """What a turn knows so far; steps read their input from it and write their output to it."""

    model_config = ConfigDict(validate_assignment=False)

    question: str  # as asked (after trimming)
    history: list[HistoryTurn] = Field(default_factory=list)
    query: str = ""  # the self-contained question being searched and answered
    filters: Filters | None = None
    pieces: list[str] = Field(default_factory=list)  # sub-questions
    piece: Piece = Field(default_factory=lambda: Piece(text=""))  # the one being searched
    tool_results: list[str] = Field(default_factory=list)  # what the planner's tool calls found
    found: dict[int, Hit] = Field(default_factory=dict)  # evidence merged over pieces and tools
    chunks: list[Hit] = Field(default_factory=list)  # evidence given to the answerer, in [n] order
    passages: list[Passage] = Field(default_factory=list)  # ``chunks`` numbered [1..N]
    evidence: list[Passage] = Field(default_factory=list)  # what the answerer reads
    answer: str = ""
    declined: bool = False
    support: list[Any] = Field(default_factory=list)  # the quotes the answer rests on (``support``)
    supported: bool = True  # the quotes hold the answer's words
    reread_due: bool = False  # the answer declined from the note: the reread step answers again
    done: bool = False  # the planner replied itself: no more steps
    shape: Shape = Field(default_factory=Shape)  # a compound question's pieces (``decompose``)
    hops: list[Any] = Field(default_factory=list)  # each piece answered (``EachHop``: HopAnswer)

    def merge(self, hits: list[Hit]) -> None:
        """Add hits to the evidence found; a chunk found twice keeps its best rank."""
        for h in hits:
            if h.chunk_id not in self.found or h.rank < self.found[h.chunk_id].rank:
                self.found[h.chunk_id] = h

    def collect(self, max_passages: int) -> None:
        """Evidence found so far becomes the numbered passages of the answer."""
        ordered = sorted(self.found.values(), key=lambda h: (h.rank, -h.fused_score))
        self.chunks = ordered[:max_passages]
        self.passages = number(self.chunks)
        self.evidence = list(self.passages)


@dataclass
class StepContext:
    """What a step may use: models by role, the library (through tools), the switches and
    settings of this turn, the span it writes to, and the streaming callback."""

    models: Mapping[str, ChatModel]
    library: Library | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)  # pipeline settings, by name
    switches: Mapping[str, bool] = field(default_factory=dict)
    tracer: Tracer = field(default_factory=NullTracer)
    span: Span | None = None
    on_token: TokenCallback | None = None
    tools: list[Tool] = field(default_factory=list)  # the planner's tools (set by the runner)

    @staticmethod
    def check_cancelled() -> None:
        """Raise ``cancel.Cancelled`` when the user stopped this turn (``cancel.scope``)."""
        cancel.check()

    def model(self, role: str) -> ChatModel:
        return self.models.get(role) or self.models["default"]

    def within(self, span: Span) -> StepContext:
        return replace(self, span=span)

    def note(self, text: str) -> None:
        if self.span is not None:
            self.span.notes.append(text)

    def fallback(self, reason: str) -> None:
        if self.span is not None:
            self.span.fallback(reason)


class StepSettings(BaseModel):
    """A step's own settings; values of the same name in the pipeline settings override them."""

    model_config = ConfigDict(extra="forbid")
    max_tokens: int = 256

    @classmethod
    def of(cls, ctx: StepContext) -> Self:
        """These settings as this turn has them (pipeline settings of the same name win)."""
        return cls.within(ctx.settings)

    @classmethod
    def within(cls, settings: Mapping[str, Any]) -> Self:
        """These settings with the values of the same name in ``settings`` (None: unset)."""
        return cls.model_validate({k: settings[k] for k in cls.model_fields if settings.get(k) is not None})


class Step(Generic[InT, OutT]):
    name: ClassVar[str]  # span name
    kind: ClassVar[str] = "step"
    prompt: ClassVar[str | None] = None  # prompts/<prompt>.md
    role: ClassVar[str | None] = None  # which model role it calls
    switches: ClassVar[tuple[str, ...]] = ()  # runs when any of these is on (none: always)
    Input: type[InT]
    Output: type[OutT]
    Settings: ClassVar[type[StepSettings]] = StepSettings

    # -- the interface ---------------------------------------------------------------------------
    def read(self, state: TurnState, ctx: StepContext) -> InT:
        raise NotImplementedError

    def run(self, ctx: StepContext, inp: InT) -> OutT:
        raise NotImplementedError

    def write(self, state: TurnState, out: OutT, ctx: StepContext) -> None:
        """Put the output into the state (default: nothing)."""

    def skip(self, state: TurnState, inp: InT) -> tuple[str, OutT] | None:
        """(why, output) when the step need not run, e.g. nothing to filter."""
        return None

    # -- helpers for model-backed steps -----------------------------------------------------------
    def render(self, inp: BaseModel) -> str:
        assert self.prompt is not None, f"{self.name} has no prompt"
        return render(self.prompt, inp.model_dump())

    def messages(self, inp: BaseModel) -> tuple[str, list[Message]]:
        prompt = self.render(inp)
        return prompt, [Message(role="system", content=text("system")), Message(role="user", content=prompt)]

    def ask(self, ctx: StepContext, inp: BaseModel, out_type: type[T], max_tokens: int) -> T | None:
        """The model's validated ``out_type``, or None when it failed (the caller falls back);
        either way recorded in the span."""
        assert self.role is not None
        prompt, messages = self.messages(inp)
        options = ChatOptions(temperature=0.0, seed=0, max_tokens=max_tokens)
        try:
            value, result = structured(ctx.model(self.role), messages, out_type, options=options)
        except SchemaError as exc:
            if ctx.span is not None:
                if exc.result is not None:
                    ctx.span.record_call(exc.result, prompt)
                ctx.span.fallback(f"invalid output: {exc.message}")
            return None
        except ModelError as exc:
            if ctx.span is not None:
                ctx.span.prompt = prompt
                ctx.span.fallback(f"model error: {exc.message}")
            return None
        if ctx.span is not None:
            ctx.span.record_call(result, prompt)
        return value

    def enabled(self, ctx: StepContext) -> bool:
        return not self.switches or any(ctx.switches.get(s, True) for s in self.switches)

    def __repr__(self) -> str:
        return f"<step {self.name}>"

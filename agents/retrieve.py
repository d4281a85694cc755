"""Hybrid retrieval of the current piece's search texts, then the evidence gate. With ``gate =
"question"`` (the default) the piece keeps its top-k when the library's nearest chunk to the
piece's own question (not its rewrites) is within ``max_distance`` (cosine), and nothing otherwise
(the answerer then declines); with ``"nearest"`` the same test is on the nearest of the retrieved
chunks to any search text; with ``"chunk"`` each chunk farther than that from every search text
is dropped."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from .kit.evidence import Filters, Hit
from .kit.runner import RunnerSettings
from .kit.step import Step, StepContext, StepSettings, TurnState


class RetrieveInput(BaseModel):
    queries: list[str]
    filters: Filters | None = None
    # the rewrites among ``queries`` came from a reading rewriter: its order of the hits it read
    read: list[int] = Field(default_factory=list)


class RetrieveOutput(BaseModel):
    hits: list[Hit] = Field(default_factory=list, exclude=True)
    chunks: list[int] = Field(default_factory=list)  # ids kept, for the trace


DEFAULT_MAX_DISTANCE = 0.7  # the gate of a library that has not measured its own


class RetrieveSettings(StepSettings):
    k_per_piece: int = 6
    max_distance: float | None = None  # None: the default (a turn fills in the library's own)
    gate: Literal["question", "nearest", "chunk"] = "question"


class Retrieve(Step[RetrieveInput, RetrieveOutput]):
    """``plain=True``: the baseline's retrieval, ``max_passages`` chunks and no gate."""

    name = "retrieve"
    kind = "retrieval"
    Input, Output, Settings = RetrieveInput, RetrieveOutput, RetrieveSettings

    def __init__(self, *, plain: bool = False) -> None:
        self.plain = plain

    def read(self, state: TurnState, ctx: StepContext) -> RetrieveInput:
        return RetrieveInput(
            queries=list(state.piece.queries), filters=state.filters, read=list(state.piece.read)
        )

    def run(self, ctx: StepContext, inp: RetrieveInput) -> RetrieveOutput:
        assert ctx.library is not None, "retrieval needs a library"
        s = RetrieveSettings.of(ctx)
        if s.max_distance is None:
            s.max_distance = DEFAULT_MAX_DISTANCE
        k = RunnerSettings.of(ctx).max_passages if self.plain else s.k_per_piece
        found = ctx.library.search(inp.queries, k, inp.filters, read=inp.read)
        hits = found.hits
        if ctx.span is not None:
            ctx.span.chunks = hits
        for note in (found.note, found.rerank):
            if note:
                ctx.note(note)
        if self.plain:
            return RetrieveOutput(hits=hits, chunks=[h.chunk_id for h in hits])
        if s.gate == "question":
            return self._question_gate(ctx, inp, hits, s.max_distance)
        # A hit with no distance (BM25-only retrieval: nothing was embedded) cannot be judged: kept.
        near = [h for h in hits if h.vector_distance is None or h.vector_distance <= s.max_distance]
        if s.gate == "nearest":
            if hits and not near:
                ctx.note(f"evidence gate: even the nearest chunk is farther than {s.max_distance}")
            kept = hits if near else []
            return RetrieveOutput(hits=kept, chunks=[h.chunk_id for h in kept])
        if len(near) < len(hits):
            ctx.note(
                f"evidence gate dropped {len(hits) - len(near)} chunk(s) "
                f"farther than {s.max_distance} from every query"
            )
        return RetrieveOutput(hits=near, chunks=[h.chunk_id for h in near])

    @staticmethod
    def _question_gate(
        ctx: StepContext, inp: RetrieveInput, hits: list[Hit], max_distance: float
    ) -> RetrieveOutput:
        assert ctx.library is not None
        distance = ctx.library.nearest_distance(inp.queries[0], inp.filters) if hits else None
        if distance is None:  # nothing to judge by (BM25 mode): kept
            return RetrieveOutput(hits=hits, chunks=[h.chunk_id for h in hits])
        if distance > max_distance:
            ctx.note(f"evidence gate: the question's nearest chunk is {distance:.3f} away (> {max_distance})")
            return RetrieveOutput()
        ctx.note(f"evidence gate: the question's nearest chunk is {distance:.3f} away (<= {max_distance})")
        return RetrieveOutput(hits=hits, chunks=[h.chunk_id for h in hits])

    def write(self, state: TurnState, out: RetrieveOutput, ctx: StepContext) -> None:
        state.piece.hits = out.hits

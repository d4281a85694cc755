"""The ``search_documents`` tool: split the query, then per piece rewrite → retrieve → filter,
and merge what survives. Also ``EachPiece``, the loop that runs steps once per sub-question."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from .kit.evidence import Filters, Hit
from .kit.step import Step, StepContext, StepSettings, TurnState, run_steps


class EachPiece(Step[BaseModel, BaseModel]):
    """Runs ``steps`` once per piece of ``state.pieces`` (the piece's own queries and hits),
    merges each piece's hits into ``state.found``, then numbers the best ``max_passages``."""

    name = "each_piece"

    def __init__(self, steps: list[Step[Any, Any]]) -> None:
        self.steps = steps

    def execute(self, state: TurnState, ctx: StepContext) -> None:
        for piece in state.pieces or [state.query]:
            state.piece, state.queries, state.hits, state.read = piece, [piece], [], []
            run_steps(self.steps, state, ctx)
            state.merge(state.hits)
        state.collect(int(ctx.settings.get("max_passages", 6)))


class SearchArgs(BaseModel):
    """Arguments of ``search_documents``."""

    queries: list[str] = Field(
        min_length=1, max_length=3, description="self-contained questions or search texts"
    )
    path_prefixes: list[str] = Field(
        default_factory=list, max_length=5, description="only documents under these paths"
    )


class SearchResult(BaseModel):
    hits: list[Hit] = Field(default_factory=list, exclude=True)
    kept_chunks: list[int] = Field(default_factory=list)

    def summary(self) -> str:
        if not self.hits:
            return "nothing relevant found"
        return "\n".join(f"- {h.title or h.source}: {' '.join(h.text.split())[:160]}" for h in self.hits)


class SearchDocuments(Step[SearchArgs, SearchResult]):
    """A tool: its input comes from the planner's call, and it runs its own small pipeline."""

    name = "search_documents"
    kind = "tool"
    Input, Output, Settings = SearchArgs, SearchResult, StepSettings

    def __init__(self, steps: list[Step[Any, Any]]) -> None:
        self.steps = steps

    def run(self, ctx: StepContext, inp: SearchArgs) -> SearchResult:
        queries = [q.strip()[:2000] for q in inp.queries if q.strip()]
        sub = TurnState(
            question=queries[0],
            query=queries[0],
            pieces=queries,
            filters=Filters(path_prefixes=inp.path_prefixes) if inp.path_prefixes else None,
        )
        run_steps(self.steps, sub, ctx)
        return SearchResult(hits=sub.chunks, kept_chunks=[h.chunk_id for h in sub.chunks])

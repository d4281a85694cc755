"""The ``search_documents`` tool: its arguments become the state of a sub-pipeline (``SEARCH`` in
``agents/pipeline.py``: split, then per piece rewrite → retrieve → filter), and what survives is
its result."""

from __future__ import annotations

from pydantic import BaseModel, Field

from .kit.evidence import Filters, Hit
from .kit.step import Step, StepSettings, TurnState


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
    """A tool whose work is a pipeline: ``start`` builds its state from the planner's arguments
    (each query a piece, the first the question searched), ``finish`` reads the result back."""

    name = "search_documents"
    kind = "tool"
    Input, Output, Settings = SearchArgs, SearchResult, StepSettings

    @staticmethod
    def start(args: SearchArgs) -> TurnState:
        queries = [q.strip()[:2000] for q in args.queries if q.strip()]
        return TurnState(
            question=queries[0],
            query=queries[0],
            pieces=queries,
            filters=Filters(path_prefixes=args.path_prefixes) if args.path_prefixes else None,
        )

    @staticmethod
    def finish(sub: TurnState) -> SearchResult:
        return SearchResult(hits=sub.chunks, kept_chunks=[h.chunk_id for h in sub.chunks])

    @staticmethod
    def as_asked(state: TurnState) -> dict[str, list[str]]:
        """The arguments used when the planner's are invalid: the question as asked."""
        return {"queries": [state.question]}

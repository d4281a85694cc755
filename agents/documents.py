"""The ``open_document`` tool: read the start of one document by its title or path."""

from __future__ import annotations

from pydantic import BaseModel, Field

from .kit.runner import RunnerSettings
from .kit.step import Step, StepContext
from .search import SearchResult


class OpenArgs(BaseModel):
    document: str = Field(min_length=1, max_length=500, description="a document's title or path")


class OpenDocument(Step[OpenArgs, SearchResult]):
    """Its passages are as many as the answerer is given (``max_passages``)."""

    name = "open_document"
    kind = "tool"
    Input, Output, Settings = OpenArgs, SearchResult, RunnerSettings

    def run(self, ctx: StepContext, inp: OpenArgs) -> SearchResult:
        assert ctx.library is not None, "open_document needs a library"
        hits = ctx.library.open_document(inp.document, RunnerSettings.of(ctx).max_passages)
        if not hits:
            ctx.note(f"no document matches {inp.document!r}")
        return SearchResult(hits=hits, kept_chunks=[h.chunk_id for h in hits])

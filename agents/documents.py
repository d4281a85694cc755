"""The ``open_document`` tool: read the start of one document by its title or path."""

from __future__ import annotations

from pydantic import BaseModel, Field

from .kit.step import Step, StepContext, StepSettings
from .search import SearchResult


class OpenArgs(BaseModel):
    document: str = Field(min_length=1, max_length=500, description="a document's title or path")


class OpenSettings(StepSettings):
    max_passages: int = 6


class OpenDocument(Step[OpenArgs, SearchResult]):
    name = "open_document"
    kind = "tool"
    Input, Output, Settings = OpenArgs, SearchResult, OpenSettings

    def run(self, ctx: StepContext, inp: OpenArgs) -> SearchResult:
        assert ctx.library is not None, "open_document needs a library"
        hits = ctx.library.open_document(inp.document, OpenSettings.of(ctx).max_passages)
        if not hits:
            ctx.note(f"no document matches {inp.document!r}")
        return SearchResult(hits=hits, kept_chunks=[h.chunk_id for h in hits])

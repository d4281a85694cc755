"""The library as tools for other agents: what ``openbook mcp`` serves, without MCP in it.

One ``LibraryTools`` per server: the database, the embedder, the retriever and (from the first
``ask``) the models are opened once and reused. Calls run one at a time — a call made while
another runs waits for it (queued, not failed). The server records every call (tool, arguments,
duration, size of the result, the trace of an ``ask``) in ``tool_calls`` through ``record``;
``openbook traces calls`` lists them. Bad arguments raise ``OpenbookError`` with a message
written for the calling model.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field

from openbook.agents.kit.evidence import Filters
from openbook.db import documents as doc_rows
from openbook.db import tools as call_rows

from .. import library
from ..errors import NotFoundError, OpenbookError
from ..settings import Settings

Mode = Literal["hybrid", "bm25", "vector"]
MAX_K = 50
MAX_READ = 100_000
R = TypeVar("R", bound=BaseModel)


# -- results --------------------------------------------------------------------------------------
class SearchHit(BaseModel):
    rank: int
    text: str
    document: str = Field(description="the document's path")
    title: str
    location: str = Field("", description="section / page within the document")
    chunk_id: int
    document_id: int
    fused_score: float
    bm25_rank: int | None = Field(None, description="rank in the keyword (BM25) leg; null: not found there")
    vector_rank: int | None = Field(None, description="rank in the vector leg; null: not found there")
    rerank_score: float | None = Field(
        None, description="the cross-encoder reranker's score (higher: more relevant); null: not reranked"
    )
    fused_rank: int | None = Field(None, description="rank before reranking; null: not reranked")


class SearchResult(BaseModel):
    query: str
    mode: Mode
    results: list[SearchHit]


class CitedSource(BaseModel):
    n: int = Field(description="the [n] the answer cites")
    document: str
    title: str
    location: str = ""
    chunk_id: int
    quotes: list[str] = Field(
        default_factory=list, description="sentences of this source the answer rests on"
    )
    snippet: str = Field("", description="the passage's first 200 characters")


class AskResult(BaseModel):
    question: str
    answer: str
    declined: bool = Field(description="true: the library did not hold an answer")
    citations: list[CitedSource]
    supported: bool = Field(description="false: the answer's words are not in its quotes; check them")
    trace_id: int = Field(description="`openbook traces show ID` shows every step")
    pieces: list[dict[str, str]] = Field(
        default_factory=list,
        description="a compound question's pieces: each question and its answer (and, when the "
        "reader's answer was set aside, the sentence it was read again from)",
    )
    session: str | None = None
    notes: list[str] = Field(default_factory=list)


class DocumentInfo(BaseModel):
    id: int
    document: str = Field(description="the document's path")
    title: str
    kind: str
    chunks: int
    size_bytes: int
    updated_at: datetime


class DocumentList(BaseModel):
    documents: list[DocumentInfo]
    total: int = Field(description="documents matching, of which the first `limit` are listed")


class DocumentText(BaseModel):
    id: int
    document: str
    title: str
    start: int
    end: int
    total_chars: int
    text: str
    next_start: int | None = Field(description="pass as `start` to read on; null at the end")


class IngestResult(BaseModel):
    added: list[str]
    updated: list[str]
    unchanged: int
    failed: list[dict[str, str]]
    chunks_written: int


class RemoveResult(BaseModel):
    removed: list[str]


# -- the tools ------------------------------------------------------------------------------------
class LibraryTools:
    def __init__(self, settings: Settings) -> None:
        from ..embeddings import make_embedder
        from ..retrieval.retriever import Retriever
        from ..store import Store

        self.settings = settings
        self.embedder = make_embedder(settings.embedding, settings.ollama)
        self.store = Store(settings, embedding=self.embedder.identity).__enter__()
        self.store.check_embedding(self.embedder.identity)
        self.retriever = Retriever(self.store, self.embedder, settings.retrieval)
        self._turn: Any = None
        self._lock = threading.Lock()

    def close(self) -> None:
        self.store.__exit__(None, None, None)

    def warm(self) -> None:
        """Load what a first search would (the embedding model, the BM25 index, the reranker)."""
        with self._lock:
            self.retriever.warm(index=library.has_chunks(self.store))

    def call(self, fn: Callable[[], R]) -> R:
        """Run one tool call, after any call already running (queued, not refused)."""
        with self._lock:
            return fn()

    def queue(self) -> threading.Lock:
        """The lock calls take turns on (a folder watcher's syncs take it too)."""
        return self._lock

    def record(
        self,
        tool: str,
        arguments: dict[str, Any],
        *,
        client: str | None,
        error: str | None,
        result_chars: int,
        duration_ms: float,
        trace_id: int | None,
    ) -> None:
        """Keep what another agent asked of the library (``openbook traces calls``)."""
        call_rows.record_call(
            self.store,
            client=client,
            tool=tool,
            arguments=arguments,
            status="ok" if error is None else "error",
            error=error,
            result_chars=result_chars,
            duration_ms=duration_ms,
            trace_id=trace_id,
        )

    def search(
        self, query: str, k: int = 8, path_prefix: str | None = None, mode: Mode = "hybrid"
    ) -> SearchResult:
        text = query.strip()
        if not text:
            raise OpenbookError("The query is empty", hint="pass the words or question to search for")
        if not 1 <= k <= MAX_K:
            raise OpenbookError(f"k must be between 1 and {MAX_K}, not {k}")
        filters = Filters(path_prefixes=[os.path.abspath(path_prefix)]) if path_prefix else None
        hits = self.retriever.retrieve(text, k, mode=mode, filters=filters)
        return SearchResult(
            query=text,
            mode=mode,
            results=[
                SearchHit(
                    rank=h.rank,
                    text=h.text,
                    document=h.source,
                    title=h.title,
                    location=h.location(),
                    chunk_id=h.chunk_id,
                    document_id=h.document_id,
                    fused_score=h.fused_score,
                    bm25_rank=h.bm25_rank,
                    vector_rank=h.vector_rank,
                    rerank_score=h.rerank_score,
                    fused_rank=h.fused_rank,
                )
                for h in hits
            ],
        )

    def ask(self, question: str, session: str | None = None) -> AskResult:
        if not question.strip():
            raise OpenbookError("The question is empty", hint="pass the question to answer")
        result = self.turn().ask(question, session=session, via="mcp")
        quotes: dict[int, list[str]] = {}
        for e in result.support:
            quotes.setdefault(e.n, []).append(e.quote)
        return AskResult(
            question=result.question,
            answer=result.answer,
            declined=result.declined,
            citations=[
                CitedSource(
                    n=c.n,
                    document=c.source,
                    title=c.title,
                    location=c.location,
                    chunk_id=c.chunk_id,
                    quotes=quotes.get(c.n, []),
                    snippet=c.snippet,
                )
                for c in result.citations
            ],
            supported=result.supported,
            trace_id=result.trace_id,
            pieces=[
                {"question": p.question, "answer": p.answer}
                | ({"read_again_from": p.read_again_from} if p.read_again_from else {})
                for p in result.pieces
            ],
            session=session,
            notes=result.notes,
        )

    def turn(self) -> Any:
        """The turn runner, with the configured models (loaded on the first ``ask``, then kept)."""
        if self._turn is None:
            from ..models.resolve import resolve_roles
            from ..turn import Turn

            models, _ = resolve_roles(self.settings)
            self._turn = Turn(self.store, self.embedder, self.settings, models)
            self._turn.retriever = self.retriever  # one BM25 index for searches and turns
        return self._turn

    def list_documents(self, path_prefix: str | None = None, limit: int = 50) -> DocumentList:
        if not 1 <= limit <= 1000:
            raise OpenbookError(f"limit must be between 1 and 1000, not {limit}")
        rows = library.list_documents(self.store)
        if path_prefix:
            under = {r["id"] for r in library.sources_under(self.store, os.path.abspath(path_prefix))}
            rows = [r for r in rows if r["id"] in under]
        return DocumentList(
            documents=[
                DocumentInfo(
                    id=r["id"],
                    document=r["source"],
                    title=r["title"],
                    kind=r["kind"],
                    chunks=r["chunk_count"],
                    size_bytes=r["size_bytes"],
                    updated_at=r["updated_at"],
                )
                for r in rows[:limit]
            ],
            total=len(rows),
        )

    def read_document(self, document: str, start: int = 0, max_chars: int = 8000) -> DocumentText:
        if start < 0:
            raise OpenbookError(f"start must be 0 or more, not {start}")
        if not 1 <= max_chars <= MAX_READ:
            raise OpenbookError(f"max_chars must be between 1 and {MAX_READ}, not {max_chars}")
        doc = self.find(document)
        text = join_chunks([c["text"] for c in library.chunks_of(self.store, int(doc["id"]))])
        if start > len(text):
            raise OpenbookError(f"start {start} is past the end of {doc['source']} ({len(text)} characters)")
        end = min(len(text), start + max_chars)
        return DocumentText(
            id=doc["id"],
            document=doc["source"],
            title=doc["title"],
            start=start,
            end=end,
            total_chars=len(text),
            text=text[start:end],
            next_start=end if end < len(text) else None,
        )

    def find(self, ref: str) -> dict[str, Any]:
        """A document by id, path, title or file name (its id, source and title at least)."""
        ref = ref.strip()
        if not ref:
            raise OpenbookError("The document is empty", hint="pass an id or a path from list_documents")
        try:
            return library.find_document(self.store, ref)
        except NotFoundError:
            row = doc_rows.by_name(self.store, ref)
            if row is None:
                raise NotFoundError(
                    f"No document {ref!r} in the library", hint="list_documents gives the ids and paths"
                ) from None
            return row

    def ingest(self, paths: list[str]) -> IngestResult:
        from ..ingest.pipeline import ingest

        if not paths:
            raise OpenbookError("No paths given", hint="pass files or folders to add")
        missing = [p for p in paths if not os.path.exists(p)]
        if missing:
            raise OpenbookError(f"No such file or folder: {', '.join(missing)}")
        report = ingest(self.store, self.embedder, [Path(p) for p in paths], self.settings.ingest)
        return IngestResult(
            added=report.added,
            updated=report.updated,
            unchanged=report.unchanged,
            failed=[{"path": p.path, "reason": p.reason} for p in report.failed],
            chunks_written=report.chunks,
        )

    def remove_document(self, document: str) -> RemoveResult:
        doc = self.find(document)
        return RemoveResult(removed=library.delete_documents(self.store, [int(doc["id"])]))


def join_chunks(texts: list[str]) -> str:
    """A document's text from its chunks, the overlap between neighbours kept once."""
    out = ""
    for text in texts:
        n = overlap(out, text) if out else 0
        out += text[n:] if n or not out else "\n\n" + text
    return out


def overlap(before: str, after: str, shortest: int = 12) -> int:
    """The length of the longest end of ``before`` that ``after`` starts with (0: none, or one
    shorter than ``shortest`` characters, which would be chance)."""
    limit = min(len(before), len(after))
    probe = after[:shortest]
    if len(probe) < shortest:
        return 0
    at = before.find(probe, len(before) - limit)
    while at != -1:
        if after.startswith(before[at:]):
            return len(before) - at
        at = before.find(probe, at + 1)
    return 0

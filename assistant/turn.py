"""One turn of the conversation: plan → split → rewrite → retrieve → filter → distill → answer,
every step a span, every fallback recorded. ``plain=True`` is our own baseline: retrieve top-k
with the question as asked and answer from those chunks."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from psycopg.types.json import Jsonb
from pydantic import BaseModel, Field

from openbook.agents import answerer, distiller, planner, rewriter, splitter
from openbook.agents import filter as filter_step
from openbook.agents.passages import Passage

from . import library, tracing
from .embeddings import Embedder
from .errors import OpenbookError
from .models.base import ChatModel
from .retrieval.retriever import RetrievedChunk, Retriever
from .settings import PipelineSettings, Settings
from .store import Store

_CITE = re.compile(r"\[(\d{1,3})\]")


class TurnCancelled(Exception):
    """Raised from a token callback to stop a running turn (the trace says "cancelled")."""


class Citation(BaseModel):
    n: int
    chunk_id: int
    source: str
    title: str
    location: str = ""
    snippet: str = ""


class TurnResult(BaseModel):
    question: str
    answer: str
    citations: list[Citation] = Field(default_factory=list)  # the sources the answer cites
    sources: list[Citation] = Field(default_factory=list)  # every passage given to the answerer
    trace_id: int
    declined: bool = False
    notes: list[str] = Field(default_factory=list)


class Turn:
    """Everything a turn needs; build once per session and call ``ask`` per question."""

    def __init__(
        self, store: Store, embedder: Embedder, settings: Settings, models: dict[str, ChatModel]
    ) -> None:
        self.store = store
        self.settings = settings
        self.models = models
        self.retriever = Retriever(store, embedder, settings.retrieval)

    def ask(
        self,
        question: str,
        *,
        session: str | None = None,
        pipeline: PipelineSettings | None = None,
        plain: bool = False,
        on_token: Callable[[str], None] | None = None,
        on_trace: Callable[[int], None] | None = None,
    ) -> TurnResult:
        question = question.strip()
        if not question:
            raise OpenbookError("The question is empty", hint='openbook ask "your question"')
        if not library.has_chunks(self.store):
            raise OpenbookError("Your library is empty", hint="add documents first: openbook ingest PATH")
        p = pipeline or self.settings.pipeline
        trimmed_note = None
        if len(question) > p.max_question_chars:
            trimmed_note = (
                f"the question was trimmed from {len(question)} to {p.max_question_chars} "
                "characters to fit the model's context"
            )
            question = question[: p.max_question_chars]
        session_id, history = self._session(session)
        meta = {
            "plain": plain,
            "pipeline": p.model_dump(),
            "models": {r: f"{m.name} ({m.backend})" for r, m in self.models.items()},
        }
        trace = tracing.start_trace(self.store, question, session_id=session_id, metadata=meta)
        if on_trace:
            on_trace(trace.id)
        try:
            result = self._run(trace, question, history, p, plain, on_token)
        except TurnCancelled:
            trace.finish("cancelled")
            raise
        except BaseException:
            trace.finish("error")
            raise
        if trimmed_note:
            result.notes.insert(0, trimmed_note)
        trace.finish("ok", result.answer)
        if session_id is not None:
            self._remember(session_id, result)
        return result

    # -- steps ----------------------------------------------------------------------------------
    def _run(
        self,
        trace: tracing.Trace,
        question: str,
        history: list[planner.Turn],
        p: PipelineSettings,
        plain: bool,
        on_token: Callable[[str], None] | None,
    ) -> TurnResult:
        notes: list[str] = []
        if plain:
            with trace.span("retrieve", kind="retrieval", input={"queries": [question]}) as span:
                chunks = self.retriever.retrieve([question], p.max_passages)
                span.chunks, span.output = chunks, {"chunks": len(chunks)}
            passages = _number(chunks)
            return self._answer(trace, question, passages, chunks, passages, p, on_token, notes)
        with trace.span("plan", input=planner.PlanInput(question=question, history=history)) as span:
            decision = planner.plan(
                self.models["planner"], planner.PlanInput(question=question, history=history), span
            )
            span.output = decision
        if decision.action == "reply":
            if on_token:
                on_token(decision.reply)
            return TurnResult(question=question, answer=decision.reply, trace_id=trace.id)
        with trace.span("search_documents", kind="tool", input={"query": decision.query}) as tool:
            chunks = self._search(tool, decision.query, p)
            tool.output = {"kept_chunks": [c.chunk_id for c in chunks]}
        passages = _number(chunks)
        notes_for_answer = passages
        if p.distill and passages:
            inp = distiller.DistillInput(question=decision.query, passages=passages)
            with trace.span("distill", input=inp) as span:
                if p.distill_mode == "extractive":
                    out = distiller.distill_extractive(self.retriever.embedder.embed_batch, inp)
                    span.notes.append("extractive: sentences closest to the question")
                else:
                    out = distiller.distill(self.models["distiller"], inp, span)
                span.output = out
            notes_for_answer = [Passage(n=f.source, text=f.fact) for f in out.facts]
        return self._answer(
            trace, decision.query, notes_for_answer, chunks, passages, p, on_token, notes, asked=question
        )

    def _search(self, tool: tracing.Span, query: str, p: PipelineSettings) -> list[RetrievedChunk]:
        pieces = [query]
        if p.split:
            inp = splitter.SplitInput(question=query, max_parts=p.max_parts)
            with tool.child("split", input=inp) as span:
                if splitter.looks_compound(query):
                    pieces = splitter.split(self.models["splitter"], inp, span).sub_questions
                else:
                    span.notes.append("one question (no 'and', ';' or second '?'): not split")
                span.output = {"sub_questions": pieces}
        kept: dict[int, RetrievedChunk] = {}
        for piece in pieces:
            queries = [piece]
            if p.rewrite or p.hyde:
                inp = rewriter.RewriteInput(question=piece)
                with tool.child("rewrite", input=inp) as span:
                    out = rewriter.rewrite(self.models["rewriter"], inp, span)
                    span.output = out
                if p.rewrite and out.keywords.strip():
                    queries.append(out.keywords)
                if p.hyde and out.hypothetical_answer.strip():
                    queries.append(out.hypothetical_answer)
            with tool.child("retrieve", kind="retrieval", input={"queries": queries}) as span:
                chunks = self.retriever.retrieve(queries, p.k_per_piece)
                span.chunks = chunks
                near = [
                    c for c in chunks if c.vector_distance is not None and c.vector_distance <= p.max_distance
                ]
                if len(near) < len(chunks):
                    span.notes.append(
                        f"evidence gate dropped {len(chunks) - len(near)} chunk(s) "
                        f"farther than {p.max_distance} from every query"
                    )
                span.output = {"chunks": [c.chunk_id for c in near]}
            if p.filter and near:
                passages = _number(near)
                inp = filter_step.FilterInput(question=piece, passages=passages)
                with tool.child("filter", input=inp) as span:
                    verdict = filter_step.filter_passages(self.models["filter"], inp, span)
                    span.output = verdict
                keep = set(verdict.kept(passages))
                near = [c for c, ps in zip(near, passages, strict=True) if ps.n in keep]
            for c in near:
                if c.chunk_id not in kept or c.rank < kept[c.chunk_id].rank:
                    kept[c.chunk_id] = c
        ordered = sorted(kept.values(), key=lambda c: (c.rank, -c.fused_score))
        return ordered[: p.max_passages]

    def _answer(
        self,
        trace: tracing.Trace,
        question: str,
        notes_for_answer: list[Passage],
        chunks: list[RetrievedChunk],
        passages: list[Passage],
        p: PipelineSettings,
        on_token: Callable[[str], None] | None,
        notes: list[str],
        asked: str | None = None,
    ) -> TurnResult:
        inp = answerer.AnswerInput(question=question, notes=notes_for_answer)
        with trace.span("answer", input=inp) as span:
            if not notes_for_answer:
                text, declined = answerer.DECLINE, True
                span.notes.append("no evidence survived retrieval and filtering: declined")
                if on_token:
                    on_token(text)
            else:
                result = answerer.answer(self.models["answerer"], inp, span, on_token, p.answer_max_tokens)
                text, declined = result.text.strip(), False
            text, removed = _check_citations(text, {ps.n for ps in passages})
            if removed:
                span.notes.append(f"removed invalid citation(s): {sorted(removed)}")
            if not declined and not _CITE.search(text):
                text, added = _attribute(text, notes_for_answer)
                if added:
                    span.notes.append(f"the answer cited nothing; attributed [n] by word overlap: {added}")
            span.output = {"answer": text}
        by_n = {ps.n: c for ps, c in zip(passages, chunks, strict=True)}
        cited = sorted({int(n) for n in _CITE.findall(text)} & set(by_n))
        citations = [_citation(n, by_n[n]) for n in cited]
        sources = [] if declined else [_citation(n, c) for n, c in sorted(by_n.items())]
        return TurnResult(
            question=asked or question,
            answer=text,
            citations=citations,
            sources=sources,
            trace_id=trace.id,
            declined=declined,
            notes=notes,
        )

    # -- sessions -------------------------------------------------------------------------------
    def _session(self, name: str | None) -> tuple[int | None, list[planner.Turn]]:
        if not name:
            return None, []
        row = self.store.execute("create_session", {"name": name})[0]
        rows = self.store.execute(
            "recent_messages", {"session_id": row["id"], "limit": self.settings.pipeline.history_turns}
        )
        return int(row["id"]), [planner.Turn(role=r["role"], content=r["content"]) for r in rows]

    def _remember(self, session_id: int, result: TurnResult) -> None:
        for role, content, cites in (
            ("user", result.question, []),
            ("assistant", result.answer, [c.model_dump() for c in result.citations]),
        ):
            self.store.execute(
                "add_message",
                {
                    "session_id": session_id,
                    "role": role,
                    "content": content,
                    "citations": Jsonb(cites),
                    "trace_id": result.trace_id,
                },
            )


def _number(chunks: list[RetrievedChunk]) -> list[Passage]:
    return [Passage(n=i, text=c.text[:4000], source=c.source) for i, c in enumerate(chunks, 1)]


def _check_citations(text: str, valid: set[int]) -> tuple[str, set[int]]:
    """Remove [n] that point at no passage given to the answerer."""
    removed: set[int] = set()

    def keep(m: re.Match[str]) -> str:
        n = int(m.group(1))
        if n in valid:
            return m.group(0)
        removed.add(n)
        return ""

    return re.sub(r"\s?" + _CITE.pattern, keep, text), removed


def _attribute(text: str, notes: list[Passage], min_overlap: float = 0.5) -> tuple[str, list[int]]:
    """Small models often copy from the notes without citing them: give each answer sentence
    the [n] of the note that shares most of its words (at least ``min_overlap`` of them)."""
    from .retrieval.tokenize import tokenize

    note_tokens = [(p.n, set(tokenize(p.text))) for p in notes]
    out, added = [], []
    for sentence in re.split(r"(?<=[.!?])\s+", text.strip()):
        words = set(tokenize(sentence))
        best = max(note_tokens, key=lambda nt: len(words & nt[1]), default=None)
        if words and best and len(words & best[1]) / len(words) >= min_overlap:
            sentence = re.sub(r"([.!?]?)$", lambda m, n=best[0]: f" [{n}]{m.group(1)}", sentence, count=1)
            added.append(best[0])
        out.append(sentence)
    return " ".join(out), sorted(set(added))


def _citation(n: int, c: RetrievedChunk) -> Citation:
    snippet = " ".join(c.text.split())
    return Citation(
        n=n, chunk_id=c.chunk_id, source=c.source, title=c.title, location=c.location(), snippet=snippet[:200]
    )


def resolve_models(settings: Settings) -> tuple[dict[str, ChatModel], dict[str, str]]:
    """The chat model of every role, and why each was chosen."""
    from .models.resolve import OllamaProbe, resolve
    from .settings import ROLES

    probe = OllamaProbe(settings.ollama.host)
    models: dict[str, Any] = {}
    reasons: dict[str, str] = {}
    for role in ROLES:
        r = resolve(settings, role, probe)
        models[role], reasons[role] = r.model, r.reason
    return models, reasons

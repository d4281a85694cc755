"""One turn of the conversation, wired: check the question, load the session's history, open
the trace, run a declared pipeline (``agents/pipeline.py``) over the library, store the answer.

The steps themselves, their order and their fallbacks live in ``agents/``; this module only
connects them to the store, the retriever, the models and the trace."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from openbook.agents.kit import cancel
from openbook.agents.kit.evidence import Filters, Hit
from openbook.agents.kit.runner import Node, RunnerSettings, run
from openbook.agents.kit.step import Found, HistoryTurn, StepContext, TurnState
from openbook.agents.pipeline import PLAIN, SWITCHES, TURN
from openbook.agents.planner import PlannerSettings
from openbook.db import sessions

from . import library, tracing
from .embeddings import Embedder
from .errors import OpenbookError
from .models.base import ChatModel, PartialAnswer
from .retrieval.fusion import Choices
from .retrieval.retriever import Retriever
from .settings import PipelineSettings, Settings
from .store import Store


def step_switches(p: PipelineSettings, models: dict[str, ChatModel]) -> dict[str, bool]:
    """Each step switch as it applies to a turn answered by ``models``. Unset (their defaults):
    ``filter`` is on except for a fine-tuned reader — the shipped one, or any LoRA adapter on the
    answerer (what ``openbook finetune`` trains) — which was trained with distractors among its
    passages and gains nothing from a relevance judge in front of it; ``rewrite`` and ``hyde`` are
    on except when the rewriter is the bundled base model, whose rewrites lose to the question
    alone (docs/benchmarks.md, "The agent pipeline and the reader", "Rewrites")."""
    from .models.resolve import BUNDLED_ALIASES, READER_NAME

    def model_of(role: str) -> object:
        return models.get(role) or models.get("default")

    def name_of(role: str) -> str:
        return str(getattr(model_of(role), "name", "")).lower()

    reader = name_of("answerer") == READER_NAME.lower() or getattr(model_of("answerer"), "lora", None)
    unset = {
        "filter": not reader,
        "rewrite": name_of("rewriter") not in BUNDLED_ALIASES,
        "hyde": name_of("rewriter") not in BUNDLED_ALIASES,
    }
    return {name: unset.get(name, True) if (on := getattr(p, name)) is None else on for name in SWITCHES}


TurnCancelled = cancel.Cancelled  # a stopped turn: the trace, and the span it was in, say "cancelled"


def history_turn(message: dict[str, Any]) -> HistoryTurn:
    """A stored message as the planner sees it; an answer with the title it cited first (what
    a follow-up's "it" is read as when the planner leaves it: ``agents/kit/follow_up.py``)."""
    about = next((c.get("title", "") for c in message.get("citations") or [] if c.get("title")), "")
    return HistoryTurn(role=message["role"], content=message["content"], about=about)


class Citation(BaseModel):
    n: int
    chunk_id: int
    source: str
    title: str
    location: str = ""
    snippet: str = ""

    @classmethod
    def of(cls, n: int, hit: Hit) -> Citation:
        snippet = " ".join(hit.text.split())[:200]
        return cls(
            n=n,
            chunk_id=hit.chunk_id,
            source=hit.source,
            title=hit.title,
            location=hit.location(),
            snippet=snippet,
        )


class Evidence(BaseModel):
    """A sentence the answer rests on, quoted verbatim from the passage it cites."""

    n: int
    quote: str
    document: str  # the document's path
    title: str = ""
    location: str = ""  # its section / page
    chunk_id: int
    holds: float  # share of the words of the answer's sentences citing [n] that the quote holds


class PieceAnswer(BaseModel):
    """One piece of a compound question, answered on its own evidence (citations as the turn's)."""

    question: str
    answer: str
    declined: bool = False
    # the sentence its answer was read from by rule, when its reader's answer was set aside
    read_again_from: str = ""


class TurnResult(BaseModel):
    question: str
    answer: str
    citations: list[Citation] = Field(default_factory=list)  # the sources the answer cites
    sources: list[Citation] = Field(default_factory=list)  # every passage given to the answerer
    support: list[Evidence] = Field(default_factory=list)  # the quoted evidence under the answer
    supported: bool = True  # False: the answer's words are not in its quotes (check it)
    pieces: list[PieceAnswer] = Field(default_factory=list)  # a compound question's pieces, answered
    trace_id: int
    declined: bool = False
    notes: list[str] = Field(default_factory=list)


class LibraryAccess:
    """The agents' view of the library (``kit.step.Library``) for one turn: the fusion and
    reading settings are resolved once, when the turn starts (``choices``)."""

    def __init__(self, store: Store, retriever: Retriever, choices: Choices | None = None) -> None:
        self.store, self.retriever = store, retriever
        self.choices = choices or retriever.choices()

    def search(
        self, queries: list[str], k: int, filters: Filters | None = None, read: Sequence[int] = ()
    ) -> Found:
        hits = self.retriever.retrieve(queries, k, filters=filters, read=read, choices=self.choices)
        return Found(hits, self.choices.note(bool(read)), self.retriever.rerank_note())

    def nearest_distance(self, text: str, filters: Filters | None = None) -> float | None:
        return self.retriever.nearest_distance(text, filters)

    def open_document(self, name: str, limit: int) -> list[Hit]:
        return library.document_hits(self.store, name, limit)

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.retriever.embedder.embed_batch(texts)

    def rarity(self, tokens: list[str]) -> dict[str, float]:
        return self.retriever.bm25_index().rarity(tokens)


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
        on_span: tracing.SpanListener | None = None,
        stop: cancel.CancelToken | None = None,
        via: str | None = None,
    ) -> TurnResult:
        """Answer ``question``; ``stop``: set it (from any thread) to stop the turn at whatever
        step it is in (``TurnCancelled``: the session keeps the question, with no answer);
        ``via``: who asked, when not a person (``"mcp"``), kept in the trace."""
        question = question.strip()
        if not question:
            raise OpenbookError("The question is empty", hint='openbook ask "your question"')
        if not library.has_chunks(self.store):
            raise OpenbookError("Your library is empty", hint="add documents first: openbook ingest PATH")
        p = pipeline or self.settings.pipeline
        given = p.model_dump()
        notes = []
        limit = RunnerSettings.within(given).max_question_chars
        if len(question) > limit:
            notes.append(
                f"the question was trimmed from {len(question)} to {limit} characters "
                "to fit the model's context"
            )
            question = question[:limit]
        session_id = sessions.open_session(self.store, session) if session else None
        turns = PlannerSettings.within(given).history_turns
        history = (
            [history_turn(m) for m in sessions.recent_messages(self.store, session_id, turns)]
            if session_id is not None
            else []
        )
        state = TurnState(question=question, history=history)
        if plain:
            state.query, state.pieces = question, [question]
        try:
            result = self.run(
                PLAIN if plain else TURN,
                state,
                pipeline=p,
                session_id=session_id,
                metadata={"plain": plain, **({"via": via} if via else {})},
                on_token=on_token,
                on_trace=on_trace,
                on_span=on_span,
                stop=stop,
            )
        except TurnCancelled as exc:
            if session_id is not None:  # the question stays in the session; no half answer does
                sessions.add_question(self.store, session_id, question, getattr(exc, "trace_id", None))
            raise
        result.notes[:0] = notes
        if session_id is not None:
            sessions.add_exchange(
                self.store,
                session_id,
                result.question,
                result.answer,
                [c.model_dump() for c in result.citations],
                result.trace_id,
            )
        return result

    def run(
        self,
        steps: list[Node],
        state: TurnState,
        *,
        pipeline: PipelineSettings | None = None,
        session_id: int | None = None,
        metadata: dict[str, Any] | None = None,
        on_token: Callable[[str], None] | None = None,
        on_trace: Callable[[int], None] | None = None,
        on_span: tracing.SpanListener | None = None,
        stop: cancel.CancelToken | None = None,
    ) -> TurnResult:
        """Run a declared pipeline over ``state`` inside one trace; the trace ends ``ok``,
        ``cancelled`` or ``error``. ``ask`` and the evaluation's configurations use this. The
        library's choices (gate, fusion, reading settings) are resolved once, here."""
        p = pipeline or self.settings.pipeline
        value, gate_from = self.retriever.gate(p.max_distance)
        choices = self.retriever.choices(p)
        # the hits a reading rewriter reads: the setting, else this library's choice, else 10
        p = p.model_copy(update={"max_distance": value, "read_hits": choices.reading.read_hits})
        switches = step_switches(p, self.models)
        meta = {
            **(metadata or {}),
            "gate": gate_from,
            "pipeline": {**p.model_dump(), **switches},
            "models": {r: f"{m.name} ({m.backend})" for r, m in self.models.items()},
        }
        trace = tracing.start_trace(
            self.store, state.question, session_id=session_id, metadata=meta, listener=on_span
        )
        if on_trace:
            on_trace(trace.id)
        ctx = StepContext(
            models=self.models,
            library=LibraryAccess(self.store, self.retriever, choices),
            settings={k: v for k, v in p.model_dump().items() if v is not None},
            switches=switches,
            tracer=trace,
            on_token=on_token,
        )
        try:
            with cancel.scope(stop or cancel.CancelToken()):
                run(steps, state, ctx)
        except (TurnCancelled, KeyboardInterrupt) as exc:
            trace.finish("cancelled")
            if isinstance(exc, TurnCancelled):
                exc.trace_id = trace.id  # type: ignore[attr-defined]
            raise
        except PartialAnswer as exc:
            trace.finish("error", exc.text)  # what arrived stays readable in the trace
            raise
        except BaseException:
            trace.finish("error")
            raise
        result = self._result(state, trace.id)
        trace.finish("ok", result.answer)
        return result

    @staticmethod
    def _result(state: TurnState, trace_id: int) -> TurnResult:
        from openbook.agents.kit.evidence import CITE

        by_n = {p.n: h for p, h in zip(state.passages, state.chunks, strict=True)}
        cited = sorted({int(n) for n in CITE.findall(state.answer)} & set(by_n))
        return TurnResult(
            question=state.question,
            answer=state.answer,
            citations=[Citation.of(n, by_n[n]) for n in cited],
            # what the answerer was given, also when it declined from it; none when nothing was
            sources=[]
            if state.done or not state.evidence
            else [Citation.of(n, h) for n, h in sorted(by_n.items())],
            support=[
                Evidence(
                    n=q.n,
                    quote=q.quote,
                    document=by_n[q.n].source,
                    title=by_n[q.n].title,
                    location=by_n[q.n].location(),
                    chunk_id=by_n[q.n].chunk_id,
                    holds=q.holds,
                )
                for q in state.support
                if q.n in by_n
            ],
            supported=state.supported,
            pieces=[
                PieceAnswer(
                    question=h.question,
                    answer=h.answer,
                    declined=h.declined,
                    read_again_from=getattr(h, "read_from_note", ""),
                )
                for h in state.hops
            ],
            trace_id=trace_id,
            declined=state.declined,
        )

"""``openbook eval qa``: the same questions answered by several configurations — no context
(``base``), the gold document (``oracle``), top-k retrieval (``rag``), the full agent pipeline
(``agent``), a LlamaIndex peer (``llamaindex``) and the fine-tuned reader (``ft``, ``ft-oracle``,
``ft-rag``, ``ft-agent``) — each answer scored, every one a trace.

The dataset goes into its own schema (shared with ``eval retrieval``), so the user's library is
never touched. Each answer is appended to ``answers.jsonl`` under the output folder as soon as
it is scored; a second run skips what is there (resume after an interruption).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from openbook.agents.kit.evidence import Hit, Passage, fence
from openbook.agents.kit.questions import question_type
from openbook.agents.kit.shapes import shape_of
from openbook.agents.kit.step import TurnState
from openbook.agents.pipeline import CLOSED_BOOK, GIVEN_EVIDENCE
from openbook.db import chunks as chunk_rows

from .. import tracing
from ..embeddings import Embedder
from ..errors import OpenbookError
from ..models.base import ChatModel
from ..settings import Settings
from ..store import Store
from ..turn import Turn, TurnResult
from . import qa_metrics as m
from .qa_data import QADataset, QAItem

Kind = Literal["closed_book", "oracle", "rag", "agent", "llamaindex"]
READER = "openbook-reader"  # the fine-tuned answer model (models.resolve.READER_NAME)


@dataclass(frozen=True)
class Config:
    name: str
    kind: Kind
    model: str | None = None  # the answer model, when not the configured one


CONFIGS = {
    c.name: c
    for c in (
        Config("base", "closed_book"),
        Config("oracle", "oracle"),
        Config("rag", "rag"),
        Config("agent", "agent"),
        Config("llamaindex", "llamaindex"),
        Config("ft", "closed_book", READER),
        Config("ft-oracle", "oracle", READER),
        Config("ft-rag", "rag", READER),
        Config("ft-agent", "agent", READER),
    )
}
DEFAULT_CONFIGS = ("base", "oracle", "rag", "agent", "llamaindex")


class Record(BaseModel):
    id: str
    config: str
    question: str
    answer: str
    trace_id: int | None
    model: str
    answerable: bool
    em: float | None = None
    f1: float | None = None
    contained: float | None = None
    declined: bool = False
    cite_precision: float | None = None
    cite_recall: float | None = None
    gold_hit: float | None = None  # a passage from the gold document was given to the answerer
    k: int = 0  # passages given
    question_type: str = "factoid"  # agents/kit/questions.py
    shape: str = "single"  # agents/kit/shapes.py: comparison, same, both, bridge, single
    gold_all: float | None = None  # multi-hop: a passage of every gold document reached the answerer
    yes_no: float | None = None  # gold yes/no: the answer says yes or no (not declined, not a name)
    support: list[dict[str, Any]] = Field(default_factory=list)  # the quoted evidence shown
    supported: bool | None = None  # the quotes hold the answer's words
    support_contains: float | None = None  # the quotes hold a gold answer (answered, answerable)
    latency_s: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0
    decline_p: float | None = None  # the reader began a decline with this probability…
    second_choice: str | None = None  # …and answered from this first token instead (decline_below)


@dataclass
class Outcome:
    """What one configuration did for one question, before scoring."""

    answer: str
    trace_id: int | None
    latency: float
    tokens_in: int
    tokens_out: int
    cited: list[str] | None  # texts of the cited passages (None: the answer cannot cite)
    given: list[str]  # texts of the passages given to the answerer
    gold_hit: float | None
    k: int
    support: list[dict[str, Any]] = field(default_factory=list)
    supported: bool | None = None
    gold_all: float | None = None


def parse_configs(text: str) -> list[Config]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in CONFIGS]
    if unknown or not names:
        raise OpenbookError(
            f"Unknown configuration(s): {', '.join(unknown) or '(none given)'}",
            hint=f"choose from: {', '.join(CONFIGS)}",
        )
    return [CONFIGS[n] for n in names]


def load_done(path: Path) -> dict[tuple[str, str], Record]:
    done: dict[tuple[str, str], Record] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                r = Record.model_validate_json(line)
            except ValueError:
                continue  # a line cut off by an interruption
            done[(r.id, r.config)] = r
    return done


class Runner:
    """Answers one question in one configuration and scores it. Models load once per run."""

    def __init__(
        self,
        ds: QADataset,
        store: Store,
        embedder: Embedder,
        settings: Settings,
        models: dict[str, ChatModel],
        resolve_answerer: Callable[[str], ChatModel],
    ) -> None:
        self.ds, self.store, self.embedder, self.settings = ds, store, embedder, settings
        self.models = models
        self.resolve_answerer = resolve_answerer
        self._turns: dict[str | None, Turn] = {}
        self._peers: dict[str | None, Any] = {}

    def turn(self, model: str | None) -> Turn:
        if model not in self._turns:
            models = dict(self.models)
            if model is not None:
                models["answerer"] = self.resolve_answerer(model)
            self._turns[model] = Turn(self.store, self.embedder, self.settings, models)
        return self._turns[model]

    def answer(self, config: Config, item: QAItem) -> Record:
        turn = self.turn(config.model)
        t0 = time.perf_counter()
        if config.kind == "llamaindex":
            return self._peer(config, item, turn)
        if config.kind == "rag" or config.kind == "agent":
            result = turn.ask(item.question, plain=config.kind == "rag")
        elif config.kind == "closed_book":
            result = turn.run(CLOSED_BOOK, TurnState(question=item.question), metadata={"eval": config.name})
        else:
            result = turn.run(GIVEN_EVIDENCE, self._oracle_state(item), metadata={"eval": config.name})
        latency = time.perf_counter() - t0
        tokens_in, tokens_out, doubt = self._from_trace(result.trace_id)
        record = self._score(config, item, turn, result, latency, tokens_in, tokens_out)
        return record.model_copy(update=doubt)

    def _oracle_state(self, item: QAItem) -> TurnState:
        text = self.ds.gold_text(item) or ""
        state = TurnState(question=item.question, query=item.question)
        if text:
            hit = Hit(
                chunk_id=-1, document_id=-1, source=item.gold_doc or "", title=self.ds.gold_title(item),
                ordinal=0, text=text[:4000], metadata={}, rank=1, fused_score=1.0,
            )  # fmt: skip
            state.chunks = [hit]
            state.passages = [Passage(n=1, text=fence(text[:4000]), source=hit.source)]
            state.evidence = list(state.passages)
        return state

    def _from_trace(self, trace_id: int) -> tuple[int, int, dict[str, Any]]:
        """Tokens in and out over the turn's model calls, and the last reading's doubtful
        decline (``decline_p``, ``second_choice``) when it began one."""
        _, spans = tracing.load(self.store, trace_id)
        usage = [s["usage"] for s in spans if s.get("usage")]
        doubt: dict[str, Any] = {}
        for s in spans:
            out = s.get("output")
            if isinstance(out, dict) and out.get("decline_p") is not None:
                doubt = {"decline_p": out["decline_p"], "second_choice": out.get("second_choice")}
        tokens_in = sum(u.get("prompt_tokens", 0) for u in usage)
        return tokens_in, sum(u.get("completion_tokens", 0) for u in usage), doubt

    def _texts(self, chunk_ids: list[int]) -> dict[int, dict[str, Any]]:
        return chunk_rows.by_ids(self.store, [c for c in chunk_ids if c >= 0])

    def _score(
        self,
        config: Config,
        item: QAItem,
        turn: Turn,
        result: TurnResult,
        latency: float,
        t_in: int,
        t_out: int,
    ) -> Record:
        given_ids = [c.chunk_id for c in result.sources]
        rows = self._texts(given_ids)
        gold_text = self.ds.gold_text(item) or ""

        def text_of(chunk_id: int) -> str:
            return gold_text if chunk_id == -1 else rows.get(chunk_id, {}).get("text", "")

        def doc_of(chunk_id: int) -> str | None:
            if chunk_id == -1:
                return item.gold_doc
            row = rows.get(chunk_id)
            return self.ds.doc_of_source(row["source"]) if row else None

        cited = [text_of(c.chunk_id) for c in result.citations]
        given = [text_of(c) for c in given_ids]
        hit = gold_all = None
        if item.gold_doc is not None and config.kind != "closed_book":
            hit = float(any(doc_of(c) == item.gold_doc for c in given_ids))
        if item.gold_docs and config.kind != "closed_book":
            reached = {doc_of(c) for c in given_ids}
            gold_all = float(all(g in reached for g in item.gold_docs))
        outcome = Outcome(
            result.answer, result.trace_id, latency, t_in, t_out, cited, given, hit, len(given_ids),
            support=[e.model_dump() for e in result.support], supported=result.supported, gold_all=gold_all,
        )  # fmt: skip
        return self._record(config, item, turn, outcome)

    def _peer(self, config: Config, item: QAItem, turn: Turn) -> Record:
        from .llamaindex_peer import LlamaIndexPeer

        if config.model not in self._peers:
            from openbook.agents.answerer import AnswerSettings
            from openbook.agents.kit.runner import RunnerSettings

            sizes = self.settings.pipeline.model_dump()  # the same sizes as the pipeline's
            self._peers[config.model] = LlamaIndexPeer(
                self.store,
                self.embedder,
                turn.models["answerer"],
                RunnerSettings.within(sizes).max_passages,
                AnswerSettings.within(sizes).answer_max_tokens,
            )
        out = self._peers[config.model].ask(item.question)
        rows = self._texts(out.chunk_ids)
        trace = tracing.start_trace(self.store, item.question, metadata={"eval": config.name})
        with trace.span("llamaindex_query", kind="peer", input={"question": item.question}) as span:
            span.output = {"answer": out.text, "chunks": out.chunk_ids}
        trace.finish("ok", out.text)
        hit = None
        if item.gold_doc is not None:
            hit = float(any(self.ds.doc_of_source(r["source"]) == item.gold_doc for r in rows.values()))
        given = [r["text"] for r in rows.values()]
        u, k = out.usage, len(out.chunk_ids)
        outcome = Outcome(
            out.text, trace.id, out.seconds, u.prompt_tokens, u.completion_tokens, None, given, hit, k
        )
        return self._record(config, item, turn, outcome)

    def _record(self, config: Config, item: QAItem, turn: Turn, o: Outcome) -> Record:
        rec = Record(
            id=item.id,
            config=config.name,
            question=item.question,
            answer=o.answer,
            trace_id=o.trace_id,
            model=turn.models["answerer"].name,
            answerable=item.answerable,
            declined=m.declined(o.answer),
            gold_hit=o.gold_hit,
            k=o.k,
            latency_s=round(o.latency, 4),
            tokens_in=o.tokens_in,
            tokens_out=o.tokens_out,
            question_type=question_type(item.question),
            shape=shape_of(item.question).kind,
            gold_all=o.gold_all,
            support=o.support,
            supported=o.supported if o.support or o.supported is False else None,
        )
        if item.answerable and {a.lower() for a in item.answers} <= {"yes", "no"}:
            rec.yes_no = float(bool(re.match(r"\s*(yes|no)\b", o.answer, re.I)))
        if item.answerable:
            rec.em, rec.f1 = m.exact_match(o.answer, item.answers), m.f1(o.answer, item.answers)
            rec.contained = m.contains(o.answer, item.answers)
            if o.support and not rec.declined:
                rec.support_contains = m.contains(" ".join(q["quote"] for q in o.support), item.answers)
            if o.cited is not None:
                rec.cite_precision, rec.cite_recall = m.citation_scores(o.cited, o.given, item.answers)
        return rec


def summarize(records: list[Record], wall_s: float | None = None) -> dict[str, Any]:
    """Every metric of one configuration over its records."""

    def mean(values: list[float | None]) -> float | None:
        vals = [v for v in values if v is not None]
        return round(sum(vals) / len(vals), 4) if vals else None

    answerable = [r for r in records if r.answerable]
    unanswerable = [r for r in records if not r.answerable]
    f1s = [r.f1 or 0.0 for r in answerable]
    lo, hi = m.bootstrap_ci(f1s)
    lat = [r.latency_s for r in records]
    out: dict[str, Any] = {
        "questions": len(records),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "em": mean([r.em for r in answerable]),
        "f1": mean([r.f1 for r in answerable]),
        "f1_ci95": [round(lo, 4), round(hi, 4)],
        "contained": mean([r.contained for r in answerable]),
        "cite_precision": mean([r.cite_precision for r in answerable]),
        "cite_recall": mean([r.cite_recall for r in answerable]),
        "gold_hit": mean([r.gold_hit for r in answerable]),
        "decline_answerable": mean([float(r.declined) for r in answerable]),
        # declines of answerable questions whose gold passage reached the answerer: the reader's own
        "decline_answerable_gold": mean([float(r.declined) for r in answerable if r.gold_hit == 1.0]),
        "decline_unanswerable": mean([float(r.declined) for r in unanswerable]),
        "support_contains": mean([r.support_contains for r in answerable if not r.declined]),
        "latency_p50_s": round(m.percentile(lat, 0.5), 3),
        "latency_p95_s": round(m.percentile(lat, 0.95), 3),
        "tokens_in": mean([float(r.tokens_in) for r in records]),
        "tokens_out": mean([float(r.tokens_out) for r in records]),
        "answer_s": round(sum(lat), 2),
    }

    def breakdown(rs: list[Record]) -> dict[str, Any]:
        return {
            "answerable": len(rs),
            "f1": mean([r.f1 for r in rs]),
            "contained": mean([r.contained for r in rs]),
            "decline_answerable": mean([float(r.declined) for r in rs]),
            "support_contains": mean([r.support_contains for r in rs if not r.declined]),
            "gold_all": mean([r.gold_all for r in rs]),
            "yes_no": mean([r.yes_no for r in rs]),
        }

    out["gold_all"] = mean([r.gold_all for r in answerable])
    out["yes_no"] = mean([r.yes_no for r in answerable])
    out["by_type"] = {
        kind: breakdown(rs)
        for kind in ("factoid", "explanatory", "yes-no")
        if (rs := [r for r in answerable if r.question_type == kind])
    }
    out["by_shape"] = {
        kind: breakdown(rs)
        for kind in ("single", "comparison", "same", "both", "bridge")
        if (rs := [r for r in answerable if r.shape == kind])
    }
    if wall_s is not None:
        out["wall_s"] = round(wall_s, 2)
        out["overhead"] = round(max(wall_s - sum(lat), 0.0) / wall_s, 4) if wall_s else 0.0
    return out


def append(path: Path, record: Record) -> None:
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(record.model_dump()) + "\n")

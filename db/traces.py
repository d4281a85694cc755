"""Traces and their spans, as rows: a trace per turn, a span per step, model call or tool call."""

from __future__ import annotations

from typing import Any

from psycopg.types.json import Jsonb
from pydantic import BaseModel

from . import Transactional, execute


def as_json(value: Any) -> Any:
    """A value for a jsonb column: pydantic models (and lists of them) dumped, None kept."""
    if value is None:
        return None
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    elif isinstance(value, list) and value and isinstance(value[0], BaseModel):
        value = [v.model_dump(mode="json") for v in value]
    return Jsonb(value)


def insert_trace(
    store: Transactional, question: str, session_id: int | None, metadata: dict[str, Any]
) -> int:
    row = execute(
        store, "insert_trace", {"session_id": session_id, "question": question, "metadata": Jsonb(metadata)}
    )[0]
    return int(row["id"])


def finish_trace(store: Transactional, trace_id: int, status: str, answer: str | None) -> None:
    execute(store, "finish_trace", {"id": trace_id, "status": status, "answer": answer})


def insert_span(
    store: Transactional, trace_id: int, parent_id: int | None, name: str, kind: str, input: Any
) -> int:
    row = execute(
        store,
        "insert_span",
        {"trace_id": trace_id, "parent_id": parent_id, "name": name, "kind": kind, "input": as_json(input)},
    )[0]
    return int(row["id"])


def finish_span(store: Transactional, span_id: int, fields: dict[str, Any]) -> None:
    """``fields``: status, output, prompt, model, backend, usage, chunks, notes, error."""
    json_cols = ("output", "usage", "chunks", "notes")
    params = {k: (as_json(v) if k in json_cols else v) for k, v in fields.items()}
    execute(store, "finish_span", {"id": span_id, **params})


def list_traces(store: Transactional, limit: int) -> list[dict[str, Any]]:
    return execute(store, "list_traces", {"limit": limit})


def get_trace(store: Transactional, trace_id: int) -> dict[str, Any] | None:
    rows = execute(store, "get_trace", {"id": trace_id})
    return rows[0] if rows else None


def spans(store: Transactional, trace_id: int) -> list[dict[str, Any]]:
    return execute(store, "spans_of_trace", {"trace_id": trace_id})


def latest_id(store: Transactional) -> int | None:
    value = execute(store, "latest_trace_id")[0]["id"]
    return int(value) if value is not None else None

"""Calls other agents made to the library's tools (``openbook mcp``), and the folders kept in
sync by a watcher (``ingest --watch``)."""

from __future__ import annotations

from typing import Any

from psycopg.types.json import Jsonb

from . import Transactional, execute


def record_call(
    store: Transactional,
    *,
    client: str | None,
    tool: str,
    arguments: dict[str, Any],
    status: str,
    error: str | None,
    result_chars: int,
    duration_ms: float,
    trace_id: int | None,
) -> int:
    row = execute(
        store,
        "insert_tool_call",
        {
            "client": client,
            "tool": tool,
            "arguments": Jsonb(arguments),
            "status": status,
            "error": error,
            "result_chars": result_chars,
            "duration_ms": duration_ms,
            "trace_id": trace_id,
        },
    )[0]
    return int(row["id"])


def recent_calls(store: Transactional, limit: int) -> list[dict[str, Any]]:
    return execute(store, "list_tool_calls", {"limit": limit})


def watch_started(store: Transactional, path: str, host: str, pid: int) -> None:
    execute(store, "watch_started", {"path": path, "host": host, "pid": pid})


def watch_synced(store: Transactional, path: str, change: dict[str, Any]) -> None:
    execute(store, "watch_synced", {"path": path, "change": Jsonb(change)})


def watch_stopped(store: Transactional, path: str, host: str, pid: int) -> None:
    execute(store, "watch_stopped", {"path": path, "host": host, "pid": pid})


def watched(store: Transactional) -> list[dict[str, Any]]:
    return execute(store, "list_watched")

"""Chat sessions and their messages."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from . import Transactional, execute, meta


def open_session(store: Transactional, name: str) -> int:
    """The session's id, created on first use."""
    return int(execute(store, "create_session", {"name": name})[0]["id"])


def find(store: Transactional, name: str) -> int | None:
    rows = execute(store, "get_session", {"name": name})
    return int(rows[0]["id"]) if rows else None


def recent_messages(store: Transactional, session_id: int, limit: int) -> list[dict[str, Any]]:
    """The last ``limit`` messages, oldest first: ``role``, ``content``, ``citations``."""
    return execute(store, "recent_messages", {"session_id": session_id, "limit": limit})


def add_exchange(
    store: Transactional,
    session_id: int,
    question: str,
    answer: str,
    citations: list[dict[str, Any]],
    trace_id: int,
) -> None:
    """The user's question and the answer, in one transaction."""
    from . import run

    with store.transaction() as conn:
        for role, content, cites in (("user", question, []), ("assistant", answer, citations)):
            run(
                conn,
                "add_message",
                {
                    "session_id": session_id,
                    "role": role,
                    "content": content,
                    "citations": Jsonb(cites),
                    "trace_id": trace_id,
                },
            )


def add_question(store: Transactional, session_id: int, question: str, trace_id: int | None) -> None:
    """A question whose turn was stopped before it answered: kept, with no answer."""
    execute(
        store,
        "add_message",
        {
            "session_id": session_id,
            "role": "user",
            "content": question,
            "citations": Jsonb([]),
            "trace_id": trace_id,
        },
    )


def list_sessions(store: Transactional) -> list[dict[str, Any]]:
    return execute(store, "list_sessions")


def messages(store: Transactional, name: str) -> list[dict[str, Any]]:
    return execute(store, "session_messages", {"name": name})


class NameTaken(Exception):
    pass


def rename(store: Transactional, old: str, new: str) -> None:
    try:
        execute(store, "rename_session", {"old": old, "new": new})
    except psycopg.errors.UniqueViolation as exc:
        raise NameTaken(new) from exc


def delete(store: Transactional, name: str) -> None:
    execute(store, "delete_session", {"name": name})


def last(store: Transactional) -> str:
    value = meta.get(store, "last_session")
    return str(value) if value else "default"


def remember_last(store: Transactional, name: str) -> None:
    meta.put(store, "last_session", name)

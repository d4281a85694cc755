"""Key/value facts about a store (embedding identity, corpus generation, last session)."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from . import Transactional, execute, run


def get(store: Transactional, key: str) -> Any | None:
    rows = execute(store, "get_meta", {"key": key})
    return rows[0]["value"] if rows else None


def put(store: Transactional, key: str, value: Any) -> None:
    execute(store, "set_meta", {"key": key, "value": Jsonb(value)})


def get_in(conn: psycopg.Connection[Any], key: str) -> Any | None:
    rows = run(conn, "get_meta", {"key": key})
    return rows[0]["value"] if rows else None


def put_in(conn: psycopg.Connection[Any], key: str, value: Any) -> None:
    run(conn, "set_meta", {"key": key, "value": Jsonb(value)})

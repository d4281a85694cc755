"""SQL lives here: numbered migrations (``migrations/NNNN_name.sql``), named queries
(``queries/*.sql``, each statement introduced by a ``-- name: <name>`` line), and one module per
entity (``sessions``, ``traces``, ``documents``, ``chunks``, ``meta``) that owns its queries and
their JSON encoding. Nothing outside this package runs a named query.

Both may use ``{schema}`` and ``{dim}`` placeholders, filled in when they are loaded; named
queries use psycopg's ``%(param)s`` placeholders for values.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Protocol

import psycopg

_NAME = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$", re.M)


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


@cache
def migrations() -> tuple[Migration, ...]:
    out = []
    for entry in resources.files(__name__).joinpath("migrations").iterdir():
        m = re.fullmatch(r"(\d{4})_([a-z0-9_]+)\.sql", entry.name)
        if m:
            out.append(Migration(int(m.group(1)), m.group(2), entry.read_text(encoding="utf-8")))
    out.sort(key=lambda mig: mig.version)
    versions = [mig.version for mig in out]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"duplicate migration numbers in db/migrations: {versions}")
    return tuple(out)


@cache
def queries() -> dict[str, str]:
    """All named queries from ``db/queries/*.sql``."""
    found: dict[str, str] = {}
    for entry in resources.files(__name__).joinpath("queries").iterdir():
        if not entry.name.endswith(".sql"):
            continue
        parts = _NAME.split(entry.read_text(encoding="utf-8"))
        for name, body in zip(parts[1::2], parts[2::2], strict=True):
            if name in found:
                raise RuntimeError(f"query {name!r} is defined twice in db/queries")
            found[name] = body.strip().rstrip(";")
    return found


def query(name: str) -> str:
    try:
        return queries()[name]
    except KeyError:
        raise KeyError(f"no query named {name!r} in db/queries") from None


class Transactional(Protocol):
    """What the data modules need of the store: a connection inside one transaction."""

    def transaction(self) -> contextlib.AbstractContextManager[psycopg.Connection[Any]]: ...


def run(
    conn: psycopg.Connection[Any], name: str, params: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Run a named query on ``conn``; rows as dicts (empty for statements without results)."""
    from psycopg.rows import dict_row

    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query(name), params or {})
        return cur.fetchall() if cur.description else []


def execute(store: Transactional, name: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Run one named query in its own transaction. For the data modules of this package only."""
    with store.transaction() as conn:
        return run(conn, name, params)

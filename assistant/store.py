"""The database: connection pool, pgvector, migrations, and the store's embedding identity.

Agents never import psycopg. The SQL is in ``db/``: numbered migrations, applied in order here,
and one data module per entity (``db.sessions``, ``db.traces``, ``db.documents``, ``db.chunks``,
``db.meta``) that runs its named queries on this store's connections.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool

from openbook.db import meta, migrations

from .embedded_pg import EmbeddedServer, server_for
from .errors import DatabaseError, EmbeddingMismatchError
from .settings import Settings, mask_url

log = logging.getLogger(__name__)
MIN_SERVER_VERSION = 140000


@dataclass(frozen=True)
class EmbeddingIdentity:
    model: str
    dimension: int


class Store:
    """Open with ``with Store(settings) as store:``; migrations run on open."""

    def __init__(self, settings: Settings, *, embedding: EmbeddingIdentity | None = None) -> None:
        self.settings = settings
        self.schema = settings.database.db_schema
        self._expected = embedding
        self._pool: ConnectionPool | None = None
        self._server: EmbeddedServer | None = None
        self.conninfo = ""

    # -- lifecycle ------------------------------------------------------------------------------
    def __enter__(self) -> Store:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        db = self.settings.database
        if db.external:
            self.conninfo = db.url.get_secret_value() if db.url is not None else ""
        else:
            self._server = server_for(db.embedded_data_dir())
            self.conninfo = self._server.acquire()
        try:
            self._bootstrap()
            self._pool = ConnectionPool(
                self.conninfo,
                min_size=1,
                max_size=db.pool_size,
                timeout=db.connect_timeout,
                configure=self._configure,
                kwargs={"connect_timeout": int(db.connect_timeout)},
                open=True,
                name="openbook",
            )
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        if self._server is not None:
            self._server.release()
            self._server = None

    @property
    def embedded(self) -> bool:
        """Whether this store runs on the embedded server (not a user's own)."""
        return self._server is not None

    def where(self) -> str:
        """Where the database is, for people (password masked)."""
        if self._server is not None:
            return f"embedded PostgreSQL at {self._server.data_dir}"
        if self.conninfo:
            return mask_url(self.conninfo)
        return "external PostgreSQL via libpq environment (PGHOST, ...)"

    # -- connections ------------------------------------------------------------------------------
    def _connect_raw(self) -> psycopg.Connection[Any]:
        try:
            return psycopg.connect(
                self.conninfo,
                autocommit=True,
                connect_timeout=int(self.settings.database.connect_timeout),
            )
        except psycopg.OperationalError as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DatabaseError(
                f"Cannot connect to PostgreSQL ({self.where()}): {reason}",
                hint="check database.url / DATABASE_URL, or unset it to use the embedded database",
            ) from exc

    def _configure(self, conn: psycopg.Connection[Any]) -> None:
        from pgvector.psycopg import register_vector

        register_vector(conn)
        conn.execute(sql.SQL("SET search_path TO {}, public").format(sql.Identifier(self.schema)))
        conn.commit()

    @contextlib.contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        if self._pool is None:
            raise RuntimeError("Store is not open")
        with self._pool.connection() as conn:
            yield conn

    @contextlib.contextmanager
    def transaction(self) -> Iterator[psycopg.Connection[Any]]:
        """A connection inside one transaction: committed on success, rolled back otherwise."""
        with self.connection() as conn, conn.transaction():
            yield conn

    # -- bootstrap ------------------------------------------------------------------------------
    def _bootstrap(self) -> None:
        with self._connect_raw() as conn:
            version = conn.info.server_version
            if version < MIN_SERVER_VERSION:
                raise DatabaseError(
                    f"PostgreSQL {conn.info.parameter_status('server_version')} is too old; "
                    "Openbook needs 14 or newer with pgvector"
                )
            with conn.transaction():
                # One process at a time creates the extension, the schema and runs migrations.
                conn.execute("SELECT pg_advisory_xact_lock(hashtext('openbook-migrate'))")
                self._ensure_vector_extension(conn)
                conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema)))
                conn.execute(
                    sql.SQL("SET LOCAL search_path TO {}, public").format(sql.Identifier(self.schema))
                )
                self._migrate(conn)

    def _ensure_vector_extension(self, conn: psycopg.Connection[Any]) -> None:
        have = conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'").fetchone()
        if have:
            return
        available = conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'").fetchone()
        if not available:
            raise DatabaseError(
                f"The pgvector extension is not installed on this server ({self.where()})",
                hint="install pgvector (https://github.com/pgvector/pgvector#installation) "
                "or unset DATABASE_URL to use the embedded database, which includes it",
            )
        try:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        except psycopg.errors.InsufficientPrivilege as exc:
            raise DatabaseError(
                "pgvector is installed but not enabled, and this user may not enable it",
                hint="ask an administrator to run: CREATE EXTENSION vector;",
            ) from exc

    def _migrate(self, conn: psycopg.Connection[Any]) -> None:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, "
            "name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        applied = {r[0] for r in conn.execute("SELECT version FROM schema_migrations")}
        pending = [m for m in migrations() if m.version not in applied]
        if not pending:
            return
        identity = self._expected
        if not applied:  # a new store takes the configured embedder's identity
            if identity is None:
                raise DatabaseError(
                    "This library has not been created yet",
                    hint="ingest documents first: openbook ingest PATH",
                )
            conn.execute("CREATE TABLE IF NOT EXISTS store_meta (key text PRIMARY KEY, value jsonb NOT NULL)")
        dim = identity.dimension if identity else self._stored_dimension(conn)
        for mig in pending:
            log.debug("applying migration %04d_%s", mig.version, mig.name)
            text = mig.sql.replace("{dim}", str(int(dim))).replace("{schema}", self.schema)
            conn.execute(text)
            conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                (mig.version, mig.name),
            )
        if not applied and identity is not None:
            _write_identity(conn, identity)

    def _stored_dimension(self, conn: psycopg.Connection[Any]) -> int:
        value = meta.get_in(conn, "embedding")
        return int(value["dimension"]) if value else 384

    # -- embedding identity -----------------------------------------------------------------------
    def embedding_identity(self) -> EmbeddingIdentity | None:
        value = meta.get(self, "embedding")
        return EmbeddingIdentity(value["model"], int(value["dimension"])) if value else None

    def check_embedding(self, identity: EmbeddingIdentity) -> None:
        """A clear error when the configured embedder is not the one the store was built with."""
        stored = self.embedding_identity()
        if stored is None:
            with self.transaction() as conn:
                _write_identity(conn, identity)
            return
        if stored != identity:
            raise EmbeddingMismatchError(
                f"This library was embedded with {stored.model} (dimension {stored.dimension}), "
                f"but the configured embedding model is {identity.model} "
                f"(dimension {identity.dimension})",
                hint="re-embed the library with `openbook reembed`, or set embedding.model back "
                f"to {stored.model}",
            )


def _write_identity(conn: psycopg.Connection[Any], identity: EmbeddingIdentity) -> None:
    meta.put_in(conn, "embedding", {"model": identity.model, "dimension": identity.dimension})

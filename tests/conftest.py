"""Test fixtures: a real embedded PostgreSQL (one server per test session, one schema per test),
the real bundled embedding model, and no network beyond loopback."""

from __future__ import annotations

import ipaddress
import os
import socket
import uuid
from pathlib import Path

import pytest

from openbook.assistant.embedded_pg import server_for
from openbook.assistant.settings import LIBPQ_VARS, Settings, load_settings
from openbook.assistant.store import Store

# --- no network beyond loopback -----------------------------------------------------------------
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _check_address(sock: socket.socket, address: object) -> None:
    if sock.family == getattr(socket, "AF_UNIX", None):
        return
    host = address[0] if isinstance(address, tuple) else address
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        if host == "localhost":
            return
    raise RuntimeError(f"tests must not use the network: connection to {address!r} blocked")


def _guarded_connect(self: socket.socket, address: object) -> None:
    _check_address(self, address)
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: object) -> int:
    _check_address(self, address)
    return _real_connect_ex(self, address)


socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]


# --- environment isolation -----------------------------------------------------------------------
@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in list(os.environ):
        if var.startswith("OPENBOOK_") or var in LIBPQ_VARS or var in ("DATABASE_URL", "OLLAMA_HOST"):
            monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


# --- database -------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def pg_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One embedded server for the whole session (started here, stopped at the end)."""
    data_dir = tmp_path_factory.mktemp("pg") / "data"
    server = server_for(data_dir)
    server.acquire()
    yield data_dir
    server.release()


@pytest.fixture
def schema() -> str:
    return f"t_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def overrides(pg_data_dir: Path, schema: str) -> dict:
    return {"database": {"data_dir": str(pg_data_dir), "db_schema": schema}}


@pytest.fixture
def settings(overrides: dict) -> Settings:
    return load_settings(overrides)


@pytest.fixture(scope="session")
def embedder():
    from openbook.assistant.embeddings import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder("all-MiniLM-L6-v2")


@pytest.fixture
def store(settings: Settings, embedder):
    with Store(settings, embedding=embedder.identity) as s:
        yield s
        with s.connection() as conn:
            conn.execute(f'DROP SCHEMA "{s.schema}" CASCADE')
            conn.commit()


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A small real corpus of markdown files."""
    root = tmp_path / "corpus"
    root.mkdir()
    (root / "mars.md").write_text(
        "# Mars\n\nMars is the fourth planet. Its red colour comes from iron oxide.\n\n"
        "## Moons\n\nMars has two moons, Phobos and Deimos.\n"
    )
    (root / "venus.md").write_text(
        "# Venus\n\nVenus is the hottest planet because of a runaway greenhouse effect.\n"
    )
    sub = root / "notes"
    sub.mkdir()
    (sub / "tides.txt").write_text("Tides are caused mainly by the Moon's gravity.\n")
    return root


# --- scripted models and a turn runner over the test corpus ------------------------------------
@pytest.fixture
def models() -> dict:
    """A scripted ``FakeChat`` per model role."""
    from openbook.assistant.settings import ROLES
    from tests.fakes import FakeChat

    return {role: FakeChat(f"fake-{role}") for role in ROLES}


@pytest.fixture
def turn(store, embedder, settings, corpus, models):  # noqa: ANN001, ANN201
    """A ``Turn`` over the ingested test corpus with the scripted models."""
    from openbook.assistant.ingest.pipeline import ingest
    from openbook.assistant.settings import IngestSettings
    from openbook.assistant.turn import Turn

    ingest(store, embedder, [corpus], IngestSettings())
    return Turn(store, embedder, settings, models)

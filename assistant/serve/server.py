"""``openbook mcp``: the library's tools over the Model Context Protocol (the official ``mcp``
SDK's ``MCPServer``, called FastMCP before mcp 2).

stdio by default — the SDK points file descriptor 1 at stderr while it serves, so nothing but
JSON-RPC reaches stdout even if a library prints — or streamable HTTP with ``--http``, on loopback
unless ``--allow-remote`` (which then needs a bearer token from ``OPENBOOK_MCP_TOKEN``).
"""

from __future__ import annotations

import contextlib
import functools
import hmac
import ipaddress
import json
import sys
import threading
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field

from ..errors import OpenbookError
from ..settings import Settings
from .tools import (
    MAX_K,
    MAX_READ,
    AskResult,
    DocumentList,
    DocumentText,
    IngestResult,
    LibraryTools,
    Mode,
    RemoveResult,
    SearchResult,
)

TOKEN_VAR = "OPENBOOK_MCP_TOKEN"
INSTRUCTIONS = (
    "Openbook searches and answers from the user's own local documents, offline. Use `search` "
    "for passages to read yourself, `ask` for a cited answer from Openbook's own pipeline, "
    "`list_documents` and `read_document` to browse."
)
READ_ONLY = ToolAnnotations(readOnlyHint=True, openWorldHint=False)


class Library:
    """The server's one ``LibraryTools``, opened on first use (the stdio server opens it as it
    starts; every HTTP session shares it), and the watcher of ``ingest.watch``'s folders, whose
    syncs take turns with the tool calls."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._tools: LibraryTools | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None

    def get(self) -> LibraryTools:
        with self._lock:
            if self._tools is None:
                self._tools = LibraryTools(self.settings)
                threading.Thread(target=self._tools.warm, name="openbook-warm", daemon=True).start()
                if self.settings.ingest.watch:
                    self._watch(self._tools)
            return self._tools

    def _watch(self, tools: LibraryTools) -> None:
        from ..ingest.watch import FolderWatcher, Sync

        def said(sync: Sync) -> None:
            print(f"openbook mcp: library synced: {sync.line()}", file=sys.stderr)

        watcher = FolderWatcher(
            tools.store, tools.embedder, list(self.settings.ingest.watch), self.settings.ingest,
            on_sync=said, guard=tools.queue,
        )  # fmt: skip
        self._watcher = threading.Thread(
            target=watcher.run, args=(self._stop,), name="openbook-watch", daemon=True
        )
        self._watcher.start()

    def close(self) -> None:
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=10)
        with self._lock:
            if self._tools is not None:
                self._tools.close()
                self._tools = None


def _client(ctx: Any) -> str | None:
    with contextlib.suppress(Exception):
        info = ctx.session.client_params.client_info
        return f"{info.name} {info.version}".strip()
    return None


class Recorder:
    """Server middleware: every ``tools/call`` — answered, failed, or refused before it ran
    (bad arguments, unknown tool) — is a row of ``tool_calls``."""

    def __init__(self, lib: Library) -> None:
        self.lib = lib

    async def __call__(self, ctx: Any, call_next: Any) -> Any:
        if ctx.method != "tools/call":
            return await call_next(ctx)
        import time

        import anyio.to_thread

        params = dict(ctx.params or {})
        started = time.perf_counter()
        data: dict[str, Any] = {}
        error: str | None = None
        try:
            result = await call_next(ctx)
            data = (
                result.model_dump(mode="json", by_alias=True, exclude_none=True)
                if isinstance(result, BaseModel)
                else dict(result or {})
            )
            if data.get("isError"):
                error = " ".join(str(c.get("text", "")) for c in data.get("content", []))
            return result
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            tools = None
            with contextlib.suppress(OpenbookError):  # no library: its error was the answer
                tools = self.lib.get()
            if tools is not None:
                record = functools.partial(
                    tools.record,
                    str(params.get("name")),
                    dict(params.get("arguments") or {}),
                    client=_client(ctx),
                    error=error,
                    result_chars=len(json.dumps(data)) if error is None else 0,
                    duration_ms=(time.perf_counter() - started) * 1000,
                    trace_id=(data.get("structuredContent") or {}).get("trace_id"),
                )
                await anyio.to_thread.run_sync(record)


def build(settings: Settings, *, allow_write: bool = False) -> tuple[MCPServer, Library]:
    """The server and its library (the caller closes the library when the server stops)."""
    lib = Library(settings)

    @contextlib.asynccontextmanager
    async def lifespan(_server: MCPServer) -> AsyncIterator[None]:
        import anyio.to_thread

        try:  # the database and embedder, once, at start
            await anyio.to_thread.run_sync(lib.get)
        except OpenbookError as exc:  # keep serving: each call answers with what is wrong
            print(f"openbook mcp: {exc.message}{' — ' + exc.hint if exc.hint else ''}", file=sys.stderr)
        yield

    server: MCPServer = MCPServer(
        "openbook",
        instructions=INSTRUCTIONS,
        lifespan=lifespan,
        log_level="WARNING",
        middleware=[Recorder(lib)],
    )

    def run(fn: Callable[[LibraryTools], Any]) -> Any:
        try:
            tools = lib.get()
            return tools.call(lambda: fn(tools))
        except OpenbookError as exc:
            raise ToolError(exc.message + (f" ({exc.hint})" if exc.hint else "")) from exc

    @server.tool(annotations=READ_ONLY)
    def search(
        query: Annotated[str, Field(description="words or a question to search for")],
        k: Annotated[int, Field(ge=1, le=MAX_K, description="how many chunks")] = 8,
        path_prefix: Annotated[str | None, Field(description="only documents under this path")] = None,
        mode: Annotated[Mode, Field(description="hybrid (keywords + meaning), bm25 or vector")] = "hybrid",
    ) -> SearchResult:
        """Search the user's documents: the best-matching passages, with their document path,
        section/page, chunk id, fused score and rank in the keyword and vector searches."""
        return run(lambda t: t.search(query, k, path_prefix, mode))

    @server.tool(annotations=READ_ONLY)
    def ask(
        question: Annotated[str, Field(description="the question, in full")],
        session: Annotated[str | None, Field(description="a conversation name, to ask follow-ups")] = None,
    ) -> AskResult:
        """Answer a question from the user's documents with Openbook's local model: the answer,
        the sources it cites with the sentences quoted from them, whether it declined (the
        documents do not say), and a trace id. Slower than search (seconds)."""
        return run(lambda t: t.ask(question, session))

    @server.tool(annotations=READ_ONLY)
    def list_documents(
        path_prefix: Annotated[str | None, Field(description="only documents under this path")] = None,
        limit: Annotated[int, Field(ge=1, le=1000, description="at most this many")] = 50,
    ) -> DocumentList:
        """The documents in the library: id, path, title, kind, chunks, size, last update."""
        return run(lambda t: t.list_documents(path_prefix, limit))

    @server.tool(annotations=READ_ONLY)
    def read_document(
        document: Annotated[str, Field(description="an id or path from list_documents, or a title")],
        start: Annotated[int, Field(ge=0, description="character offset to start at")] = 0,
        max_chars: Annotated[
            int, Field(ge=1, le=MAX_READ, description="at most this many characters")
        ] = 8000,
    ) -> DocumentText:
        """A document's text as stored in the library, a window at a time (next_start reads on)."""
        return run(lambda t: t.read_document(document, start, max_chars))

    if allow_write:

        @server.tool(annotations=ToolAnnotations(readOnlyHint=False, destructiveHint=False))
        def ingest(
            paths: Annotated[list[str], Field(min_length=1, description="files or folders to add or update")],
        ) -> IngestResult:
            """Add or update documents from files and folders on this machine."""
            return run(lambda t: t.ingest(paths))

        @server.tool(annotations=ToolAnnotations(readOnlyHint=False, destructiveHint=True))
        def remove_document(
            document: Annotated[str, Field(description="an id or path from list_documents")],
        ) -> RemoveResult:
            """Remove a document and its chunks from the library (not the file)."""
            return run(lambda t: t.remove_document(document))

    return server, lib


# -- HTTP -----------------------------------------------------------------------------------------
class Bind(BaseModel):
    host: str
    port: int

    @property
    def loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


def parse_bind(value: str) -> Bind:
    """``PORT``, ``HOST:PORT`` or ``[IPv6]:PORT``; the host defaults to 127.0.0.1."""
    host, sep, port = value.rpartition(":")
    host = host.strip("[]") if sep else "127.0.0.1"
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise OpenbookError(f"Not a port: {value!r}", hint="--http 8765 or --http 127.0.0.1:8765")
    return Bind(host=host or "127.0.0.1", port=int(port))


class BearerAuth:
    """Every HTTP request must carry ``Authorization: Bearer <token>``."""

    def __init__(self, app: Any, token: str) -> None:
        self.app, self.expected = app, f"Bearer {token}".encode()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            given = dict(scope.get("headers") or []).get(b"authorization", b"")
            if not hmac.compare_digest(given, self.expected):
                body = json.dumps({"error": f"missing or wrong bearer token (see {TOKEN_VAR})"}).encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer")],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def serve_http(server: MCPServer, bind: Bind, token: str | None, on_ready: Callable[[str], None]) -> None:
    """Serve streamable HTTP at ``http://HOST:PORT/mcp`` until interrupted."""
    import anyio
    import uvicorn
    from mcp.server.transport_security import TransportSecuritySettings

    security = None if bind.loopback else TransportSecuritySettings(enable_dns_rebinding_protection=False)
    app: Any = server.streamable_http_app(host=bind.host, transport_security=security)
    if token:
        app = BearerAuth(app, token)
    config = uvicorn.Config(app, host=bind.host, port=bind.port, log_level="warning", lifespan="on")
    http = uvicorn.Server(config)

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(http.serve)
            while not http.started:
                await anyio.sleep(0.05)
            host = f"[{bind.host}]" if ":" in bind.host else bind.host
            on_ready(f"http://{host}:{bind.port}/mcp")

    anyio.run(main)

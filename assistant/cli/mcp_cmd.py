"""``openbook mcp``: the library as tools for other agents (Claude, IDE agents, any MCP client)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from .common import AppContext, err, pass_app, watch_option, watched


@click.command()
@click.option(
    "--http",
    "bind",
    metavar="[HOST:]PORT",
    help="Serve streamable HTTP at http://HOST:PORT/mcp instead of stdio (host: 127.0.0.1).",
)
@click.option(
    "--allow-remote",
    is_flag=True,
    help="Let --http listen on an address other machines can reach; needs a bearer token in "
    "OPENBOOK_MCP_TOKEN.",
)
@click.option("--allow-write", is_flag=True, help="Also offer the ingest and remove_document tools.")
@watch_option("serving")
@pass_app
def mcp(
    app: AppContext, bind: str | None, allow_remote: bool, allow_write: bool, folders: tuple[Path, ...] = ()
) -> None:
    """Serve your library over the Model Context Protocol: search, ask, list_documents,
    read_document (and ingest, remove_document with --allow-write).

    Clients start it as a command: {"command": "openbook", "args": ["mcp"]}. Logs go to stderr;
    every call is recorded (`openbook traces calls`)."""
    from ..serve.server import TOKEN_VAR, build, parse_bind, serve_http

    settings = app.settings(watched(folders))
    token = os.environ.get(TOKEN_VAR) or None
    if bind is None:
        if allow_remote:
            raise click.UsageError("--allow-remote only applies to --http.")
        server, library = build(settings, allow_write=allow_write)
        try:
            server.run("stdio")
        finally:
            library.close()
        return
    where = parse_bind(bind)
    if not where.loopback:
        if not allow_remote:
            raise click.UsageError(
                f"Refusing to listen on {where.host}: other machines could reach your library there. "
                f"Use 127.0.0.1 (the default), or pass --allow-remote with a token in {TOKEN_VAR}."
            )
        if not token or len(token) < 16:
            raise click.UsageError(
                f"--allow-remote needs a bearer token of 16 characters or more in {TOKEN_VAR} "
                f"(e.g. export {TOKEN_VAR}=$(openssl rand -hex 24)); clients send it as "
                "'Authorization: Bearer <token>'."
            )
    server, library = build(settings, allow_write=allow_write)
    library.get()  # the database and embedder before the first client, not during its call
    try:
        serve_http(server, where, token, lambda url: err(f"Openbook MCP server at {url} (Ctrl-C stops)."))
    finally:
        library.close()

"""``openbook mcp``: the server driven by the MCP SDK's own client, over stdio and HTTP, against a
test library in the real database; its tools' logic, the recording of calls, the binding rules."""

from __future__ import annotations

import json
import os
import socket
import subprocess

import anyio
import pytest

from openbook.assistant.ingest.pipeline import ingest
from openbook.assistant.serve.server import parse_bind
from openbook.assistant.serve.tools import join_chunks, overlap
from openbook.assistant.settings import IngestSettings
from openbook.db import tools as call_rows
from tests.helpers import openbook_cmd

READ_TOOLS = {"search", "ask", "list_documents", "read_document"}


def server_params(database: dict, *args: str):  # noqa: ANN201
    from mcp import StdioServerParameters

    argv = openbook_cmd(database, "mcp", *args)
    return StdioServerParameters(command=argv[0], args=argv[1:], env=dict(os.environ))


def run_client(params, body) -> None:  # noqa: ANN001
    """Run ``body(session)`` in a ``ClientSession`` over ``stdio_client`` (the SDK's own)."""
    from mcp import ClientSession, stdio_client

    async def main() -> None:
        with open(os.devnull, "w") as quiet:
            async with stdio_client(params, errlog=quiet) as (read, write):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    await body(session)

    anyio.run(main)


def text_of(result) -> str:  # noqa: ANN001
    return " ".join(c.text for c in result.content if getattr(c, "text", None))


@pytest.mark.slow
def test_stdio_server_serves_the_library_and_survives_bad_arguments(
    store, embedder, corpus, overrides, capsys
):
    ingest(store, embedder, [corpus], IngestSettings())
    venus = str(corpus / "venus.md")
    seen: dict = {}

    async def body(session) -> None:  # noqa: ANN001
        listed = (await session.list_tools()).tools
        seen["tools"] = {t.name: t for t in listed}

        found = await session.call_tool("search", {"query": "red colour of Mars", "k": 3})
        assert not found.is_error, text_of(found)
        seen["search"] = found.structured_content

        # calls made together are queued, not failed
        together = await gather(
            session.call_tool("search", {"query": "tides", "k": 2, "mode": "bm25"}),
            session.call_tool("list_documents", {"path_prefix": str(corpus / "notes")}),
            session.call_tool("read_document", {"document": venus, "max_chars": 20}),
        )
        assert not any(r.is_error for r in together), [text_of(r) for r in together]
        seen["together"] = [r.structured_content for r in together]

        bad = {
            "empty query": await session.call_tool("search", {"query": "  "}),
            "k out of range": await session.call_tool("search", {"query": "moons", "k": 0}),
            "unknown document": await session.call_tool("read_document", {"document": "/nowhere.md"}),
            "past the end": await session.call_tool("read_document", {"document": venus, "start": 10_000}),
            "unknown tool": await session.call_tool("ingest", {"paths": [str(corpus)]}),
        }
        seen["bad"] = {what: (r.is_error, text_of(r)) for what, r in bad.items()}

        # still serving after the errors
        again = await session.call_tool("list_documents", {})
        seen["after"] = again.structured_content

        answered = await session.call_tool("ask", {"question": "Why is Venus so hot?"})
        assert not answered.is_error, text_of(answered)
        seen["ask"] = answered.structured_content

    run_client(server_params(overrides["database"]), body)

    tools = seen["tools"]
    assert set(tools) == READ_TOOLS  # no write tools without --allow-write
    for tool in tools.values():
        assert tool.description and tool.input_schema["type"] == "object"
    search_schema = tools["search"].input_schema["properties"]
    assert set(search_schema) == {"query", "k", "path_prefix", "mode"}
    assert search_schema["k"]["maximum"] == 50 and search_schema["mode"]["enum"] == [
        "hybrid",
        "bm25",
        "vector",
    ]

    top = seen["search"]["results"][0]
    assert top["document"] == str(corpus / "mars.md")
    assert "iron oxide" in top["text"]
    assert {"chunk_id", "location", "fused_score", "bm25_rank", "vector_rank"} <= set(top)
    tides, notes, window = seen["together"]
    assert tides["mode"] == "bm25" and tides["results"][0]["document"].endswith("tides.txt")
    assert [d["document"] for d in notes["documents"]] == [str(corpus / "notes" / "tides.txt")]
    assert window["text"] == "# Venus\n\nVenus is th" and window["next_start"] == 20

    bad = seen["bad"]
    assert all(is_error for is_error, _ in bad.values()), bad
    assert "The query is empty" in bad["empty query"][1]
    assert "greater than or equal to 1" in bad["k out of range"][1]
    assert "No document '/nowhere.md'" in bad["unknown document"][1]
    assert "past the end" in bad["past the end"][1]
    assert "ingest" in bad["unknown tool"][1]
    assert seen["after"]["total"] == 3

    ask = seen["ask"]
    assert ask["answer"].strip() and isinstance(ask["declined"], bool)
    if not ask["declined"]:
        assert ask["citations"] and ask["citations"][0]["document"] == venus
    # the ask is a normal trace, marked as coming from another agent
    from openbook.assistant import tracing

    trace, spans = tracing.load(store, ask["trace_id"])
    assert trace["status"] == "ok" and trace["metadata"]["via"] == "mcp" and spans

    # every call was recorded: tool, arguments, duration, result size, the ask's trace
    calls = call_rows.recent_calls(store, 50)
    by_tool = {}
    for c in calls:
        by_tool.setdefault(c["tool"], []).append(c)
    assert len(by_tool["search"]) == 4 and len(by_tool["read_document"]) == 3 and by_tool["ingest"]
    refused = next(c for c in by_tool["search"] if c["arguments"].get("k") == 0)
    assert refused["status"] == "error" and "greater than or equal to 1" in refused["error"]
    first = by_tool["search"][-1]
    assert first["arguments"]["query"] == "red colour of Mars" and first["status"] == "ok"
    assert first["result_chars"] > 100 and first["duration_ms"] > 0
    assert any(c["status"] == "error" and "The query is empty" in c["error"] for c in by_tool["search"])
    assert by_tool["ask"][0]["trace_id"] == ask["trace_id"]

    # and a person can read them
    listed = cli(capsys, overrides, "traces", "calls", "-n", "3")
    assert "ask" in listed and f"trace {ask['trace_id']}" in listed and "list_documents" in listed
    assert len(json.loads(cli(capsys, overrides, "traces", "calls", "--json", "-n", "100"))) == len(calls)


def cli(capsys, overrides, *args: str) -> str:  # noqa: ANN001
    from openbook.assistant.cli.main import main

    db = overrides["database"]
    main(["--data-dir", db["data_dir"], "--schema", db["db_schema"], *args])
    return capsys.readouterr().out


async def gather(*calls):  # noqa: ANN002, ANN201
    results: list = [None] * len(calls)

    async def one(i: int, call) -> None:  # noqa: ANN001
        results[i] = await call

    async with anyio.create_task_group() as tg:
        for i, call in enumerate(calls):
            tg.start_soon(one, i, call)
    return results


@pytest.mark.slow
def test_write_tools_only_with_allow_write(store, embedder, corpus, overrides, tmp_path):
    ingest(store, embedder, [corpus], IngestSettings())
    new = tmp_path / "extra" / "jupiter.md"
    new.parent.mkdir()
    new.write_text("# Jupiter\n\nJupiter's Great Red Spot is a storm larger than Earth.\n")
    seen: dict = {}

    async def body(session) -> None:  # noqa: ANN001
        seen["tools"] = {t.name for t in (await session.list_tools()).tools}
        seen["ingest"] = (await session.call_tool("ingest", {"paths": [str(new.parent)]})).structured_content
        found = await session.call_tool("search", {"query": "Great Red Spot storm", "k": 1})
        seen["found"] = found.structured_content["results"][0]["document"]
        seen["missing"] = await session.call_tool("ingest", {"paths": [str(tmp_path / "nope")]})
        removed = await session.call_tool("remove_document", {"document": str(new)})
        seen["removed"] = removed.structured_content
        seen["after"] = (await session.call_tool("list_documents", {})).structured_content["total"]

    run_client(server_params(overrides["database"], "--allow-write"), body)
    assert seen["tools"] == READ_TOOLS | {"ingest", "remove_document"}
    assert seen["ingest"]["added"] == [str(new)] and seen["ingest"]["chunks_written"] == 1
    assert seen["found"] == str(new)
    assert seen["missing"].is_error and "No such file or folder" in text_of(seen["missing"])
    assert seen["removed"] == {"removed": [str(new)]} and seen["after"] == 3


@pytest.mark.slow
def test_stdout_carries_only_json_rpc(store, embedder, corpus, overrides):
    """The raw protocol: every line the server writes to stdout is a JSON-RPC message."""
    ingest(store, embedder, [corpus], IngestSettings())
    messages = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "raw-test", "version": "1"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "search", "arguments": {"query": "moons"}},
        },
    ]
    child = subprocess.Popen(
        openbook_cmd(overrides["database"], "mcp"),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[dict] = []
    try:
        for message in messages:
            child.stdin.write(json.dumps(message) + "\n")
            child.stdin.flush()
            if "id" in message:
                while True:
                    line = child.stdout.readline()
                    assert line, child.stderr.read()
                    lines.append(json.loads(line))  # not JSON: a stray print reached stdout
                    if lines[-1].get("id") == message["id"]:
                        break
    finally:
        child.stdin.close()
        child.wait(timeout=60)
    assert all(m["jsonrpc"] == "2.0" for m in lines)
    result = lines[-1]["result"]
    assert not result.get("isError") and result["structuredContent"]["results"]
    assert call_rows.recent_calls(store, 1)[0]["client"] == "raw-test 1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_http_transport_on_loopback_with_a_token(store, embedder, corpus, overrides):
    import httpx

    ingest(store, embedder, [corpus], IngestSettings())
    port = free_port()
    env = {**os.environ, "OPENBOOK_MCP_TOKEN": "s3cret-token-for-tests"}
    child = subprocess.Popen(
        openbook_cmd(overrides["database"], "mcp", "--http", f"127.0.0.1:{port}"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        ready = child.stderr.readline()
        assert url in ready, ready + child.stderr.read()
        denied = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
        assert denied.status_code == 401

        seen: dict = {}

        async def main() -> None:
            import httpx2
            from mcp import ClientSession
            from mcp.client.streamable_http import streamable_http_client

            headers = {"Authorization": "Bearer s3cret-token-for-tests"}
            async with httpx2.AsyncClient(headers=headers, timeout=120) as client:
                async with streamable_http_client(url, http_client=client) as (read, write, *_):
                    async with ClientSession(read, write) as session:
                        await session.initialize()
                        found = await session.call_tool("search", {"query": "Phobos and Deimos", "k": 2})
                        seen["search"] = found.structured_content

        anyio.run(main)
        assert seen["search"]["results"][0]["document"] == str(corpus / "mars.md")
    finally:
        child.terminate()
        child.wait(timeout=30)


def test_http_refuses_other_hosts_without_allow_remote(overrides):
    cmd = openbook_cmd(overrides["database"], "mcp", "--http", f"0.0.0.0:{free_port()}")
    refused = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "Refusing to listen on 0.0.0.0" in refused.stderr
    no_token = subprocess.run([*cmd, "--allow-remote"], capture_output=True, text=True, timeout=120)
    assert no_token.returncode == 2 and "OPENBOOK_MCP_TOKEN" in no_token.stderr


def test_parse_bind():
    assert parse_bind("8765").model_dump() == {"host": "127.0.0.1", "port": 8765}
    assert parse_bind("localhost:9").loopback and parse_bind("[::1]:9").loopback
    assert parse_bind("[::1]:9").host == "::1"
    assert not parse_bind("0.0.0.0:9").loopback and not parse_bind("192.168.1.4:9").loopback
    with pytest.raises(Exception, match="Not a port"):
        parse_bind("127.0.0.1:http")


def test_document_text_from_overlapping_chunks():
    chunks = ["The first sentence. The second one is shared.", "The second one is shared. And a third."]
    assert join_chunks(chunks) == "The first sentence. The second one is shared. And a third."
    assert join_chunks(["no overlap here at all", "Something else entirely."]) == (
        "no overlap here at all\n\nSomething else entirely."
    )
    assert overlap("ends with abc", "abc starts") == 0  # too short to be more than chance


def test_search_and_reading_through_the_tools(settings, store, embedder, corpus):
    from openbook.assistant.errors import OpenbookError
    from openbook.assistant.serve.tools import LibraryTools

    ingest(store, embedder, [corpus], IngestSettings())
    tools = LibraryTools(settings)
    try:
        hits = tools.call(lambda: tools.search("Phobos", k=2, path_prefix=str(corpus)))
        assert hits.results[0].document == str(corpus / "mars.md")
        assert (
            tools.search("Phobos", path_prefix=str(corpus / "notes"))
            .results[0]
            .document.endswith("tides.txt")
        )
        doc = tools.read_document("mars.md")  # by file name, as the planner's open_document
        assert doc.text.startswith("# Mars") and doc.next_start is None and doc.end == doc.total_chars
        with pytest.raises(OpenbookError, match="between 1 and 50"):
            tools.search("moons", k=51)
        assert call_rows.recent_calls(store, 5) == []  # the server records calls, not the tools
    finally:
        tools.close()


@pytest.mark.slow
def test_a_server_that_cannot_open_the_library_says_why_on_every_call(overrides):
    from tests.helpers import closed_port_host

    seen: list = []

    async def body(session) -> None:  # noqa: ANN001
        seen.append(await session.call_tool("search", {"query": "moons"}))
        seen.append(await session.call_tool("list_documents", {}))

    db = overrides["database"]
    params = server_params(db)
    params.args[params.args.index("mcp") : params.args.index("mcp")] = [
        "--embedding-provider", "ollama", "--ollama-host", closed_port_host(),
    ]  # fmt: skip
    run_client(params, body)
    assert all(r.is_error and "Ollama is not reachable" in text_of(r) for r in seen)


@pytest.mark.slow
def test_a_server_that_watches_a_folder_serves_what_was_just_written(
    store, embedder, corpus, overrides, tmp_path
):
    ingest(store, embedder, [corpus], IngestSettings())
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    seen: dict = {}

    async def body(session) -> None:  # noqa: ANN001
        (inbox / "ceres.md").write_text("# Ceres\n\nCeres is the largest object in the asteroid belt.\n")
        for _ in range(600):  # until the watcher has synced it (at most 30 s)
            found = await session.call_tool(
                "search", {"query": "largest object in the asteroid belt", "k": 1}
            )
            if found.structured_content["results"][0]["document"] == str(inbox / "ceres.md"):
                seen["found"] = True
                return
            await anyio.sleep(0.05)

    run_client(server_params(overrides["database"], "--watch", str(inbox)), body)
    assert seen.get("found"), "the file written while serving never became searchable"

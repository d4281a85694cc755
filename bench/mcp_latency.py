"""`openbook mcp` latency: a warm server's `search` against `openbook search` itself.

    .venv/bin/python bench/mcp_latency.py [--chunks 3000] [--queries 40] [--json out.json]

Builds a synthetic library (bench/ingest.py's corpus) in a fresh embedded database, then times
the same queries three ways, each after one warm-up query:

1. `openbook search` as a user runs it: a new process per query (start-up included);
2. the search itself, in process (`Retriever.retrieve`, what `openbook search` spends once
   started: embedding the query, both legs, fusion);
3. `search` through `openbook mcp` (stdio) called by the MCP SDK's own client: JSON-RPC both ways,
   argument validation, the call queue and the recording of the call.

The server's overhead is (3) - (2); the issue's bar is (3) <= (2) + ~50 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anyio
from ingest import build_corpus

from openbook.assistant.embeddings import SentenceTransformerEmbedder
from openbook.assistant.ingest.pipeline import ingest
from openbook.assistant.retrieval.retriever import Retriever
from openbook.assistant.settings import load_settings
from openbook.assistant.store import Store


def queries(corpus: Path, n: int, seed: int = 3) -> list[str]:
    rng = random.Random(seed)
    words = [
        w.strip(".,") for f in sorted(corpus.glob("*.md"))[:50] for w in f.read_text().split() if w.isalpha()
    ]
    return [" ".join(rng.sample(words, 5)) for _ in range(n)]


def ms(values: list[float]) -> dict[str, float]:
    values = sorted(values)
    return {
        "p50_ms": round(statistics.median(values) * 1000, 1),
        "p95_ms": round(values[int(0.95 * (len(values) - 1))] * 1000, 1),
    }


def over_mcp(db: dict, texts: list[str]) -> list[float]:
    from mcp import ClientSession, StdioServerParameters, stdio_client

    argv = [sys.executable, "-c", "from openbook.assistant.cli.main import main; main()"]
    params = StdioServerParameters(
        command=argv[0], args=[*argv[1:], "--data-dir", db["data_dir"], "--schema", db["db_schema"], "mcp"]
    )
    times: list[float] = []

    async def main() -> None:
        with open(os.devnull, "w") as quiet:
            async with stdio_client(params, errlog=quiet) as (read, write):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    await session.call_tool("search", {"query": "warm up", "k": 8})
                    for q in texts:
                        started = time.perf_counter()
                        result = await session.call_tool("search", {"query": q, "k": 8})
                        times.append(time.perf_counter() - started)
                        assert not result.is_error and result.structured_content["results"]

    anyio.run(main)
    return times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--chunks", type=int, default=3000)
    ap.add_argument("--queries", type=int, default=40)
    ap.add_argument("--cli-runs", type=int, default=3, help="`openbook search` processes to time")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="openbook-bench-mcp-"))
    corpus = work / "corpus"
    corpus.mkdir()
    build_corpus(corpus, args.chunks)
    db = {"data_dir": str(work / "pg"), "db_schema": "bench"}
    settings = load_settings({"database": db})
    embedder = SentenceTransformerEmbedder("all-MiniLM-L6-v2")
    texts = queries(corpus, args.queries)
    with Store(settings, embedding=embedder.identity) as store:
        report = ingest(store, embedder, [corpus], settings.ingest)
        retriever = Retriever(store, embedder, settings.retrieval)
        retriever.retrieve("warm up", 8)
        in_process = []
        for q in texts:
            started = time.perf_counter()
            retriever.retrieve(q, 8)
            in_process.append(time.perf_counter() - started)

        command = []
        for q in texts[: args.cli_runs]:
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-c", "from openbook.assistant.cli.main import main; main()",
                 "--data-dir", db["data_dir"], "--schema", db["db_schema"], "search", q],
                check=True, capture_output=True,
            )  # fmt: skip
            command.append(time.perf_counter() - started)
        mcp = over_mcp(db, texts)

    result = {
        "chunks": report.chunks,
        "queries": len(texts),
        "openbook_search_process": ms(command),
        "search_in_process": ms(in_process),
        "mcp_search_warm": ms(mcp),
    }
    result["mcp_overhead_p50_ms"] = round(
        result["mcp_search_warm"]["p50_ms"] - result["search_in_process"]["p50_ms"], 1
    )
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()

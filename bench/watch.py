"""`openbook ingest --watch` on a folder of many files: how soon an edit is searchable, and what
the watcher costs while nothing changes.

    .venv/bin/python bench/watch.py [--files 1000] [--edits 5] [--idle 30] [--json out.json]

Builds a folder of ``--files`` small markdown notes, starts `openbook ingest FOLDER --watch` in
its own process on a fresh embedded database, and waits for its first sync. Then:

1. idle CPU: the watcher's user + system CPU time over ``--idle`` seconds with no change, as a
   share of one core (from /proc);
2. edit latency, ``--edits`` times: one file gets a sentence with a new word; the time from the
   write until a hybrid search in this process (its own retriever, as `openbook search` or a chat
   turn would) returns that file first for the word.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from openbook.assistant.embeddings import SentenceTransformerEmbedder
from openbook.assistant.retrieval.retriever import Retriever
from openbook.assistant.settings import load_settings
from openbook.assistant.store import Store

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def build(root: Path, n: int) -> None:
    for i in range(n):
        (root / f"note{i:04}.md").write_text(
            f"# Note {i}\n\nObservation log {i}: the comet's tail pointed away from the Sun at dusk, "
            f"its coma bright over station {i % 17}.\n\n## Follow-up\n\nSpectra {i} show ice and dust.\n"
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--edits", type=int, default=5)
    ap.add_argument("--idle", type=float, default=30.0)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="openbook-bench-watch-"))
    folder = work / "notes"
    folder.mkdir()
    build(folder, args.files)
    db = {"data_dir": str(work / "pg"), "db_schema": "bench"}
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-c", "from openbook.assistant.cli.main import main; main()",
         "--data-dir", db["data_dir"], "--schema", db["db_schema"], "ingest", str(folder), "--watch"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        first = child.stdout.readline().strip()
        first_sync_s = time.perf_counter() - started
        settings = load_settings({"database": db})
        embedder = SentenceTransformerEmbedder("all-MiniLM-L6-v2")
        with Store(settings, embedding=embedder.identity) as store:
            retriever = Retriever(store, embedder, settings.retrieval)
            retriever.retrieve("warm up", 1)

            before = cpu_seconds(child.pid)
            time.sleep(args.idle)
            idle_share = (cpu_seconds(child.pid) - before) / args.idle

            latencies = []
            for i in range(args.edits):
                target = folder / f"note{(i * 97) % args.files:04}.md"
                word = f"zephyrine{i}x"
                wrote = time.perf_counter()
                with target.open("a") as f:
                    f.write(f"\nA new sighting: the {word} nebula glowed faintly.\n")
                while True:
                    hits = retriever.retrieve(word, 1)
                    if hits and hits[0].source == str(target) and word in hits[0].text:
                        break
                    if time.perf_counter() - wrote > 60:
                        raise SystemExit(f"edit {i} not searchable after 60 s")
                    time.sleep(0.05)
                latencies.append(time.perf_counter() - wrote)
    finally:
        child.terminate()
        child.wait(timeout=60)
    result = {
        "files": args.files,
        "first_sync": first,
        "first_sync_s": round(first_sync_s, 1),
        "idle_seconds": args.idle,
        "idle_cpu_percent_of_one_core": round(100 * idle_share, 2),
        "edit_searchable_s": {
            "median": round(statistics.median(latencies), 2),
            "max": round(max(latencies), 2),
            "each": [round(x, 2) for x in latencies],
        },
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""A rich progress bar for ingestion: files, chunks, and their rates."""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

BIG_GROUP = 1000  # chunks: about half a minute of embedding on two cores


class IngestProgress:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.chunks = 0
        self.files = 0
        self._t0 = time.perf_counter()
        self._bar = Progress(
            TextColumn("[bold]Ingesting"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[unit]}"),
            TextColumn("{task.fields[rates]}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=False,
            disable=not enabled,
        )
        self._task: TaskID | None = None
        self._group: TaskID | None = None  # a big group's embedding, chunk by chunk

    def __enter__(self) -> IngestProgress:
        self._bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.__exit__(*exc)  # type: ignore[arg-type]

    def start(self, total_files: int) -> None:
        self._t0 = time.perf_counter()
        self._task = self._bar.add_task("ingest", total=total_files, rates="", unit="files")

    def embedding(self, chunks: int, sources: list[str]) -> None:
        """A group big enough to take a while gets a bar of its own (progress within a file)."""
        if self._group is not None:
            self._bar.remove_task(self._group)
            self._group = None
        if chunks >= BIG_GROUP:
            name = Path(sources[0]).name if len(sources) == 1 else f"{len(sources)} files"
            self._group = self._bar.add_task("embed", total=chunks, rates=f"embedding {name}", unit="chunks")

    def advance(self, files: int = 0, chunks: int = 0) -> None:
        if self._group is not None and chunks:
            self._bar.update(self._group, advance=chunks)
        self.files += files
        self.chunks += chunks
        elapsed = max(time.perf_counter() - self._t0, 1e-6)
        rates = (
            f"{self.chunks} chunks · {self.files / elapsed:.1f} files/s · "
            f"{self.chunks / elapsed:.1f} chunks/s"
        )
        if self._task is not None:
            self._bar.update(self._task, advance=files, rates=rates)

"""A rich progress bar for ingestion: files, chunks, and their rates."""

from __future__ import annotations

import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn


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
            TextColumn("files"),
            TextColumn("{task.fields[rates]}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=False,
            disable=not enabled,
        )
        self._task: TaskID | None = None

    def __enter__(self) -> IngestProgress:
        self._bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.__exit__(*exc)  # type: ignore[arg-type]

    def start(self, total_files: int) -> None:
        self._t0 = time.perf_counter()
        self._task = self._bar.add_task("ingest", total=total_files, rates="")

    def advance(self, files: int = 0, chunks: int = 0) -> None:
        self.files += files
        self.chunks += chunks
        elapsed = max(time.perf_counter() - self._t0, 1e-6)
        rates = (
            f"{self.chunks} chunks · {self.files / elapsed:.1f} files/s · "
            f"{self.chunks / elapsed:.1f} chunks/s"
        )
        if self._task is not None:
            self._bar.update(self._task, advance=files, rates=rates)

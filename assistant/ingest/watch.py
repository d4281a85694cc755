"""Keep folders in sync with the library: ``openbook ingest PATH --watch`` and ``chat --watch``.

File events come from ``watchfiles`` (inotify / FSEvents / ReadDirectoryChangesW, no polling
loop of ours). A batch of events is applied as one sync: new and changed files are ingested
(once they are stable — a file still being written waits for the next round), deleted files and
folders moved away are pruned. Every document is written or removed in its own transaction, as
by ``ingest``, so a crash or ``kill -9`` at any point leaves each document whole or absent; the
next start's first sync (an ``ingest --prune`` of the folders) catches up with whatever changed
while no one watched.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from openbook.db import tools as rows

from ..embeddings import Embedder
from ..errors import IngestError
from ..settings import IngestSettings
from ..store import Store
from .discover import SKIP_DIRS, Problem, kind_of
from .pipeline import IngestReport, ingest, prune_missing

# How long a changed file's size and modification time must stay the same before it is read.
SETTLE_S = 0.3
# While files wait to settle, the watcher wakes this often to look at them again.
RECHECK_MS = 1_000


@dataclass
class Sync:
    """What one sync did (a watcher's first sync, or one batch of file events)."""

    report: IngestReport
    waiting: list[str] = field(default_factory=list)  # still being written: the next round
    at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def changed(self) -> bool:
        r = self.report
        return bool(r.added or r.updated or r.removed)

    def summary(self) -> dict[str, int]:
        r = self.report
        return {
            "added": len(r.added),
            "updated": len(r.updated),
            "removed": len(r.removed),
            "failed": len(r.failed),
            "waiting": len(self.waiting),
        }

    def line(self) -> str:
        s = self.summary()
        parts = [f"{s[k]} {k}" for k in ("added", "updated", "removed", "failed") if s[k]]
        if s["waiting"]:
            parts.append(f"{s['waiting']} still being written")
        return ", ".join(parts) or "no change"


def _hidden_or_skipped(path: str, roots: list[str]) -> bool:
    root = next((r for r in roots if path == r or path.startswith(r + os.sep)), None)
    rel = path[len(root) :].strip(os.sep) if root else path
    return any(part.startswith(".") or part in SKIP_DIRS for part in rel.split(os.sep) if part)


def _signature(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


class FolderWatcher:
    """Watches ``roots`` and applies their changes to the library until ``stop`` is set.

    ``guard``: held around each sync's writes (the chat passes the lock its turns hold, so a
    turn never sees a library half-way through a sync). ``on_sync``: called after the first
    sync, and after every later one that changed something or failed on a file."""

    def __init__(
        self,
        store: Store,
        embedder: Embedder,
        roots: list[Path],
        settings: IngestSettings,
        *,
        globs: list[str] | None = None,
        on_sync: Callable[[Sync], None] | None = None,
        guard: Callable[[], contextlib.AbstractContextManager[object]] | None = None,
        settle_s: float = SETTLE_S,
    ) -> None:
        missing = [str(p) for p in roots if not Path(p).is_dir()]
        if missing:
            raise IngestError(
                f"Only folders can be watched: {', '.join(missing)}",
                hint="give the folder that holds the files (`openbook ingest FOLDER --watch`)",
            )
        self.store, self.embedder, self.settings = store, embedder, settings
        self.roots = [Path(os.path.abspath(p)) for p in roots]
        self.globs = list(globs or [])
        self.on_sync = on_sync
        self.guard = guard or contextlib.nullcontext
        self.settle_s = settle_s
        self.waiting: set[str] = set()
        self.host, self.pid = socket.gethostname(), os.getpid()

    # -- the loop ---------------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        """The first sync, then one sync per batch of events, until ``stop`` is set."""
        import watchfiles

        with self._registered():
            roots = [str(r) for r in self.roots]
            events = watchfiles.watch(
                *roots,
                stop_event=stop,
                rust_timeout=RECHECK_MS,
                yield_on_timeout=True,
                raise_interrupt=False,
                watch_filter=lambda _change, path: not _hidden_or_skipped(path, roots),
            )
            # The folders are watched from the generator's first step on, so the first sync runs
            # only after it: a file written while it runs (a large library's first sync takes
            # minutes) arrives as the next batch instead of being missed.
            if next(events, None) is None or stop.is_set():
                return
            if self._done(self.sync_all(), first=True):
                return
            for changes in events:
                if stop.is_set():
                    break
                paths = {path for _change, path in changes} | self.waiting
                if paths and self._done(self.apply(paths)):
                    return

    @contextlib.contextmanager
    def _registered(self) -> Iterator[None]:
        for root in self.roots:
            rows.watch_started(self.store, str(root), self.host, self.pid)
        try:
            yield
        finally:
            for root in self.roots:
                rows.watch_stopped(self.store, str(root), self.host, self.pid)

    def _done(self, sync: Sync, first: bool = False) -> bool:
        """Record and report a sync (the first always, later ones when they changed something or
        failed on a file); True when it was interrupted (Ctrl-C): stop watching."""
        for root in self.roots:
            rows.watch_synced(self.store, str(root), sync.summary())
        if self.on_sync is not None and (first or sync.changed or sync.report.failed):
            self.on_sync(sync)
        return sync.report.interrupted

    # -- syncs ------------------------------------------------------------------------------------
    def sync_all(self) -> Sync:
        """Bring the library up to date with the folders (what changed while no one watched)."""
        with self.guard():
            report = ingest(
                self.store, self.embedder, list(self.roots), self.settings, globs=self.globs, prune=True
            )
        return Sync(report)

    def apply(self, paths: set[str]) -> Sync:
        """One batch of changed paths: ingest what exists (once settled), prune what is gone."""
        present = [p for p in sorted(paths) if os.path.exists(p)]
        gone = [p for p in sorted(paths) if not os.path.exists(p)]
        wanted = [p for p in present if os.path.isdir(p) or self._wanted(p)]
        settled, unsettled = self._settled(wanted)
        self.waiting = set(unsettled)
        report = IngestReport()
        with self.guard():
            if settled:
                try:
                    report = ingest(
                        self.store, self.embedder, [Path(p) for p in settled], self.settings, globs=self.globs
                    )
                except IngestError as exc:  # e.g. a folder moved in that holds nothing we read
                    report.failed.append(Problem(", ".join(settled), exc.message))
            report.removed = prune_missing(self.store, [Path(p) for p in gone]) if gone else []
        return Sync(report, waiting=sorted(unsettled))

    def _wanted(self, path: str) -> bool:
        p = Path(path)
        if kind_of(p) is None:
            return False
        return not self.globs or any(p.match(g) for g in self.globs)

    def _settled(self, paths: list[str]) -> tuple[list[str], list[str]]:
        """Split ``paths`` into files that stopped changing and files still being written."""
        files = [p for p in paths if not os.path.isdir(p)]
        before = {p: _signature(p) for p in files}
        newest = max((s[1] for s in before.values() if s), default=0) / 1e9
        wait = self.settle_s - (time.time() - newest)
        if files and wait > 0:
            time.sleep(min(wait, self.settle_s))
        moving = {p for p in files if _signature(p) != before[p]}
        return [p for p in paths if p not in moving], sorted(moving)


def watched(store: Store) -> list[dict[str, Any]]:
    """The watched folders and their last sync, with whether a watcher still runs for each."""
    host = socket.gethostname()
    out = []
    for row in rows.watched(store):
        if row["stopped_at"] is not None:
            state = "stopped"
        elif row["host"] == host and not _alive(int(row["pid"])):
            state = "not running (its watcher exited without stopping)"
        else:
            state = f"watching (pid {row['pid']}{'' if row['host'] == host else ' on ' + row['host']})"
        out.append({**row, "state": state})
    return out


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

"""Between the chat's widgets and the rest of Openbook: runs turns (off the UI thread), holds
the streamed text and the turn's state, and does what the palette and dialogs ask (sessions,
ingest, model switch, trace export). It knows nothing of Textual, so it can be tested alone."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from openbook.agents.kit.cancel import CancelToken
from openbook.agents.pipeline import SWITCHES
from openbook.db import chunks as chunk_rows
from openbook.db import sessions

from .. import library, tracing
from ..errors import OpenbookError
from ..ingest.pipeline import IngestReport
from ..ingest.watch import FolderWatcher, Sync
from ..settings import PipelineSettings, Settings
from ..turn import TurnResult
from .backend import Backend

NameTaken = sessions.NameTaken


class ChatController:
    def __init__(self, settings: Settings, session: str) -> None:
        self.settings = settings
        self.backend: Backend | None = None
        self.session = session
        self.pipeline: PipelineSettings = settings.pipeline
        self.running = False
        self.stop = CancelToken()
        self.trace_id: int | None = None
        self._pieces: list[str] = []
        # held by a turn while it reads the library and by a folder watcher's sync while it
        # writes: a turn never sees a document half-way through an update
        self.library_lock = threading.Lock()

    # -- turns ------------------------------------------------------------------------------------
    def start(self) -> None:
        self.running, self.stop, self.trace_id, self._pieces = True, CancelToken(), None, []

    @property
    def cancelled(self) -> bool:
        return self.stop.cancelled

    def ask(self, question: str, on_span: tracing.SpanListener | None = None) -> TurnResult:
        """Run one turn (call from a worker thread); raises TurnCancelled after ``cancel()``,
        at whatever step the turn is in."""
        assert self.backend is not None
        stop = self.stop

        def on_token(piece: str) -> None:
            stop.check()
            self._pieces.append(piece)

        def on_trace(trace_id: int) -> None:
            self.trace_id = trace_id

        try:
            with self.library_lock:
                return self.backend.turn.ask(
                    question,
                    session=self.session,
                    on_token=on_token,
                    on_trace=on_trace,
                    on_span=on_span,
                    pipeline=self.pipeline,
                    stop=stop,
                )
        finally:
            self.running = False

    def busy(self) -> str | None:
        """A notice when another process is ingesting into this library (answers will be slow)."""
        return library.busy_notice(self.backend.store) if self.backend is not None else None

    def cancel(self) -> bool:
        """Stop the running turn (from the UI thread); False when none runs."""
        if self.running:
            self.stop.cancel()
        return self.running

    @property
    def streamed(self) -> str:
        return "".join(self._pieces)

    def trace(self, trace_id: int | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        tid = trace_id if trace_id is not None else self.trace_id
        if self.backend is None or tid is None:
            return None
        return tracing.load(self.backend.store, tid)

    def export_trace(self, folder: Path) -> Path | None:
        loaded = self.trace()
        if loaded is None:
            return None
        row, spans = loaded
        path = folder / f"openbook-trace-{row['id']}.json"
        path.write_text(json.dumps({"trace": row, "spans": spans}, indent=2, default=str))
        return path

    def chunk_text(self, chunk_id: int) -> str:
        assert self.backend is not None
        rows = chunk_rows.by_ids(self.backend.store, [chunk_id])
        return rows[chunk_id]["text"] if chunk_id in rows else "(this chunk is no longer in the library)"

    # -- pipeline and models ----------------------------------------------------------------------
    def toggle(self, step: str) -> bool:
        if step not in SWITCHES:
            raise ValueError(f"no step switch {step!r}")
        value = not self.switches()[step]
        self.pipeline = self.pipeline.model_copy(update={step: value})
        return value

    def switches(self) -> dict[str, bool]:
        """The step switches as the next turn applies them (``filter`` unset follows the answer model)."""
        from ..turn import step_switches

        return step_switches(self.pipeline, self.backend.turn.models if self.backend else {})

    def switch_answer_model(self, name: str) -> str:
        """Use another answer model; returns how it is served and why (OpenbookError if not)."""
        from ..models.resolve import resolve

        assert self.backend is not None
        settings = self.settings.model_copy(deep=True)
        settings.models.answerer = settings.models.default.model_copy(update={"model": name})
        resolved = resolve(settings, "answerer")
        self.backend.turn.models["answerer"] = resolved.model
        self.backend.reasons["answerer"] = resolved.reason
        return f"{resolved.label}: {resolved.reason}"

    def models_by_role(self) -> list[str]:
        if self.backend is None:
            return []
        out = []
        for role, model in self.backend.turn.models.items():
            why = self.backend.reasons.get(role, "")
            out.append(f"{role:<10} {model.name} ({model.backend}){'  — ' + why if why else ''}")
        return out

    # -- library ----------------------------------------------------------------------------------
    def ingest(self, path: Path, on_files: Callable[[int, int], None]) -> IngestReport:
        from ..ingest.pipeline import QuietProgress, ingest

        assert self.backend is not None
        if not path.exists():
            raise OpenbookError(f"No such file or folder: {path}")

        class Progress(QuietProgress):
            total = done = 0

            def start(self, total_files: int) -> None:
                self.total = total_files

            def advance(self, files: int = 0, chunks: int = 0) -> None:
                self.done += files
                if files:
                    on_files(self.done, self.total)

        turn = self.backend.turn
        with self.library_lock:
            return ingest(
                self.backend.store, turn.retriever.embedder, [path], self.settings.ingest, progress=Progress()
            )

    def watcher(self, on_sync: Callable[[Sync], None]) -> FolderWatcher | None:
        """A watcher for the folders the settings name (none: None); its syncs wait for turns."""
        from ..ingest.watch import FolderWatcher

        if self.backend is None or not self.settings.ingest.watch:
            return None
        return FolderWatcher(
            self.backend.store,
            self.backend.turn.retriever.embedder,
            list(self.settings.ingest.watch),
            self.settings.ingest,
            on_sync=on_sync,
            guard=lambda: self.library_lock,
        )

    # -- sessions ---------------------------------------------------------------------------------
    def sessions(self) -> list[dict[str, Any]]:
        assert self.backend is not None
        return sessions.list_sessions(self.backend.store)

    def open_session(self, name: str) -> list[dict[str, Any]]:
        """Switch to a session (created on first use); its messages, oldest first."""
        assert self.backend is not None
        store = self.backend.store
        sessions.open_session(store, name)
        sessions.remember_last(store, name)
        self.session = name
        return sessions.messages(store, name)

    def rename_session(self, old: str, new: str) -> None:
        assert self.backend is not None
        sessions.rename(self.backend.store, old, new)

    def delete_session(self, name: str) -> None:
        assert self.backend is not None
        sessions.delete(self.backend.store, name)

    def last_session(self) -> str:
        assert self.backend is not None
        return sessions.last(self.backend.store)

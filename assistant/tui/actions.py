"""The app's palette actions and sessions, kept apart from the chat loop in ``app.py``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work

from openbook.db import sessions

from .. import tracing
from ..errors import OpenbookError
from .screens import PromptScreen, SessionsScreen
from .widgets import AnswerMessage, ChatLog, UserMessage

if TYPE_CHECKING:
    from .app import OpenbookApp


class ActionsMixin:
    # -- pipeline switches --------------------------------------------------------------------
    def toggle_step(self: OpenbookApp, step: str) -> None:
        value = not getattr(self.pipeline, step)
        self.pipeline = self.pipeline.model_copy(update={step: value})
        self.notify(f"{step} is now {'on' if value else 'off'}", title="Pipeline")

    # -- trace export, copy -------------------------------------------------------------------
    def action_export_trace(self: OpenbookApp) -> None:
        if self.backend is None or self._trace_id is None:
            self.notify("No trace to export yet.", title="Export", severity="warning")
            return
        row, spans = tracing.load(self.backend.store, self._trace_id)
        path = Path.cwd() / f"openbook-trace-{self._trace_id}.json"
        path.write_text(json.dumps({"trace": row, "spans": spans}, indent=2, default=str))
        self.notify(str(path), title="Trace exported")

    def action_copy_answer(self: OpenbookApp) -> None:
        answers = [a for a in self.query(AnswerMessage) if a.text]
        if not answers:
            self.notify("No answer yet.", title="Copy", severity="warning")
            return
        self.copy_to_clipboard(answers[-1].text)
        self.notify("The last answer is on the clipboard.", title="Copied")

    # -- models -------------------------------------------------------------------------------
    def action_switch_model(self: OpenbookApp) -> None:
        def chosen(name: str | None) -> None:
            if name and self.backend is not None:
                self._switch_model(name)

        self.push_screen(
            PromptScreen(
                "Answer model (an Ollama model, the bundled smollm2-135m-instruct, or a .gguf path):"
            ),
            chosen,
        )

    def _switch_model(self: OpenbookApp, name: str) -> None:
        from ..models.resolve import resolve

        settings = self.settings.model_copy(deep=True)
        settings.models.answerer = settings.models.default.model_copy(update={"model": name})
        try:
            resolved = resolve(settings, "answerer")
        except OpenbookError as exc:
            self.notify(f"{exc.message}\n{exc.hint or ''}", title="Model unavailable", severity="error")
            return
        assert self.backend is not None
        self.backend.turn.models["answerer"] = resolved.model
        self.backend.reasons["answerer"] = resolved.reason
        self.sub_title = self.backend.describe()
        self.notify(f"{resolved.label}: {resolved.reason}", title="Answer model")

    # -- ingest -------------------------------------------------------------------------------
    def action_ingest(self: OpenbookApp) -> None:
        def chosen(path: str | None) -> None:
            if path:
                self.ingest_path(path)

        self.push_screen(PromptScreen("Path to ingest (file or folder):"), chosen)

    @work(thread=True, exclusive=True, group="ingest")
    def ingest_path(self: OpenbookApp, raw: str) -> None:
        from ..ingest.pipeline import ingest

        path = Path(raw).expanduser()
        if not path.exists() or self.backend is None:
            self.call_from_thread(
                self.notify, f"No such file or folder: {path}", title="Ingest", severity="error"
            )
            return
        app = self

        class Bar:
            total = 0
            done = 0

            def start(self, total_files: int) -> None:
                self.total = total_files

            def advance(self, files: int = 0, chunks: int = 0) -> None:
                self.done += files
                if files:
                    app.call_from_thread(
                        setattr, app, "sub_title", f"ingesting {self.done}/{self.total} files…"
                    )

        turn = self.backend.turn
        try:
            report = ingest(
                self.backend.store, turn.retriever.embedder, [path], self.settings.ingest, progress=Bar()
            )
        except OpenbookError as exc:
            self.call_from_thread(
                self.notify, f"{exc.message}\n{exc.hint or ''}", title="Ingest failed", severity="error"
            )
            return
        finally:
            self.call_from_thread(setattr, self, "sub_title", self.backend.describe())
        failed = "".join(f"\n{p.path}: {p.reason}" for p in report.failed[:5])
        self.call_from_thread(
            self.notify,
            f"Added {len(report.added)}, updated {len(report.updated)}, unchanged "
            f"{report.unchanged}; {report.chunks} chunks." + (f"\nSkipped:{failed}" if failed else ""),
            title="Ingested",
            timeout=10,
        )

    # -- sessions -----------------------------------------------------------------------------
    def action_sessions(self: OpenbookApp) -> None:
        if self.backend is None:
            return
        rows = sessions.list_sessions(self.backend.store)
        self.push_screen(SessionsScreen(rows, self.session), self._session_action)

    def _session_action(self: OpenbookApp, choice: tuple[str, str] | None) -> None:
        if choice is None or self.backend is None:
            return
        action, name = choice
        store = self.backend.store
        if action == "open":
            self.open_session(name)
        elif action == "new":
            self.push_screen(
                PromptScreen("Name of the new session:"), lambda n: self.open_session(n) if n else None
            )
        elif action == "rename":

            def renamed(new: str | None) -> None:
                if new and new != name:
                    try:
                        sessions.rename(store, name, new)
                    except sessions.NameTaken:
                        self.notify(f"A session named {new!r} exists.", title="Rename", severity="error")
                        return
                    if self.session == name:
                        self.open_session(new)

            self.push_screen(PromptScreen(f"Rename {name!r} to:", name), renamed)
        elif action == "delete":
            sessions.delete(store, name)
            self.notify(f"Deleted {name!r}.", title="Sessions")
            if self.session == name:
                self.open_session("default")

    def open_session(self: OpenbookApp, name: str) -> None:
        """Switch the chat to a session (created on first use) and show its messages."""
        if self.backend is None:
            return
        store = self.backend.store
        sessions.open_session(store, name)
        sessions.remember_last(store, name)
        self.session = name
        chat = self.query_one(ChatLog)
        chat.remove_children()
        for m in sessions.messages(store, name):
            if m["role"] == "user":
                chat.mount(UserMessage(m["content"], markup=False))
            else:
                answer = AnswerMessage(m["content"])
                answer.trace_id = m["trace_id"]
                chat.mount(answer)
        self.title = f"Openbook — {name}"
        chat.scroll_end(animate=False)

    def last_session(self: OpenbookApp) -> str:
        assert self.backend is not None
        return sessions.last(self.backend.store)

"""The app's palette actions and sessions, kept apart from the chat loop in ``app.py``. The work
is the controller's; these methods ask with dialogs and report with notifications."""

from __future__ import annotations

from pathlib import Path

from textual import work
from textual.app import App
from textual.binding import Binding

from ..errors import OpenbookError
from ..settings import Settings
from .controller import ChatController, NameTaken
from .dialogs import PromptScreen, SessionsScreen
from .widgets import AnswerMessage, ChatLog, EmptyHint, UserMessage


class ActionsMixin(App[None]):
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit"),
        Binding("escape", "cancel", "Cancel turn"),
        Binding("ctrl+o", "show_sources", "Sources"),
        Binding("ctrl+t", "show_trace", "Trace"),
        Binding("ctrl+l", "focus_input", "Ask"),
        Binding("ctrl+s", "sessions", "Sessions"),
        Binding("f1", "help", "Help"),
    ]
    controller: ChatController
    settings: Settings

    # -- pipeline switches --------------------------------------------------------------------
    def toggle_step(self, step: str) -> None:
        value = self.controller.toggle(step)
        self.notify(f"{step} is now {'on' if value else 'off'}", title="Pipeline")

    # -- trace export, copy -------------------------------------------------------------------
    def action_export_trace(self) -> None:
        path = self.controller.export_trace(Path.cwd())
        if path is None:
            self.notify("No trace to export yet.", title="Export", severity="warning")
        else:
            self.notify(str(path), title="Trace exported")

    def action_copy_answer(self) -> None:
        answers = [a for a in self.query(AnswerMessage) if a.text]
        if not answers:
            self.notify("No answer yet.", title="Copy", severity="warning")
            return
        self.copy_to_clipboard(answers[-1].text)
        self.notify("The last answer is on the clipboard.", title="Copied")

    # -- models -------------------------------------------------------------------------------
    def action_switch_model(self) -> None:
        def chosen(name: str | None) -> None:
            if name and self.controller.backend is not None:
                self.switch_model(name)

        self.push_screen(
            PromptScreen(
                "Answer model (an Ollama model, the bundled smollm2-135m-instruct, or a .gguf path):"
            ),
            chosen,
        )

    def switch_model(self, name: str) -> None:
        try:
            how = self.controller.switch_answer_model(name)
        except OpenbookError as exc:
            self.notify(f"{exc.message}\n{exc.hint or ''}", title="Model unavailable", severity="error")
            return
        if self.controller.backend is not None:
            self.sub_title = self.controller.backend.describe()
        self.notify(how, title="Answer model")

    # -- ingest -------------------------------------------------------------------------------
    def action_ingest(self) -> None:
        def chosen(path: str | None) -> None:
            if path:
                self.ingest_path(path)

        self.push_screen(PromptScreen("Path to ingest (file or folder):"), chosen)

    @work(thread=True, exclusive=True, group="ingest")
    def ingest_path(self, raw: str) -> None:
        backend = self.controller.backend
        if backend is None:
            return

        def on_files(done: int, total: int) -> None:
            self.call_from_thread(setattr, self, "sub_title", f"ingesting {done}/{total} files…")

        try:
            report = self.controller.ingest(Path(raw).expanduser(), on_files)
        except OpenbookError as exc:
            self.call_from_thread(
                self.notify, f"{exc.message}\n{exc.hint or ''}", title="Ingest", severity="error"
            )
            return
        finally:
            self.call_from_thread(setattr, self, "sub_title", backend.describe())
        failed = "".join(f"\n{p.path}: {p.reason}" for p in report.failed[:5])
        self.call_from_thread(
            self.notify,
            f"Added {len(report.added)}, updated {len(report.updated)}, unchanged "
            f"{report.unchanged}; {report.chunks} chunks." + (f"\nSkipped:{failed}" if failed else ""),
            title="Ingested",
            timeout=10,
        )

    # -- sessions -----------------------------------------------------------------------------
    def action_sessions(self) -> None:
        if self.controller.backend is not None:
            self.push_screen(
                SessionsScreen(self.controller.sessions(), self.controller.session), self._session_action
            )

    def _session_action(self, choice: tuple[str, str] | None) -> None:
        if choice is None or self.controller.backend is None:
            return
        action, name = choice
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
                        self.controller.rename_session(name, new)
                    except NameTaken:
                        self.notify(f"A session named {new!r} exists.", title="Rename", severity="error")
                        return
                    if self.controller.session == name:
                        self.open_session(new)

            self.push_screen(PromptScreen(f"Rename {name!r} to:", name), renamed)
        elif action == "delete":
            self.controller.delete_session(name)
            self.notify(f"Deleted {name!r}.", title="Sessions")
            if self.controller.session == name:
                self.open_session("default")

    def open_session(self, name: str) -> None:
        """Switch the chat to a session (created on first use) and show its messages."""
        if self.controller.backend is None:
            return
        chat = self.query_one(ChatLog)
        chat.remove_children()
        messages = self.controller.open_session(name)
        if not messages:
            chat.mount(EmptyHint(self.controller.backend.first_questions()))
        for m in messages:
            if m["role"] == "user":
                chat.mount(UserMessage(m["content"], markup=False))
            else:
                answer = AnswerMessage(m["content"])
                answer.trace_id = m["trace_id"]
                chat.mount(answer)
        self.title = f"Openbook — {name}"
        chat.scroll_end(animate=False)

"""The Openbook chat: answers streamed with citations, the sources they came from, and the
agents' trace filling in live — side by side. Widgets talk to a ``ChatController``; the
dialogs live in ``dialogs/`` and the palette's actions in ``actions.py``."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.notifications import SeverityLevel
from textual.widgets import Footer, Header, ListView, Static, TabbedContent, TabPane, Tree

from .. import trace_view, tracing
from ..errors import OpenbookError
from ..ingest.watch import Sync
from ..models.base import PartialAnswer
from ..settings import Settings
from ..turn import TurnCancelled, TurnResult
from .actions import ActionsMixin
from .backend import Backend, open_backend
from .commands import OpenbookCommands
from .controller import ChatController
from .dialogs import ChunkScreen, HelpScreen
from .widgets import (
    AnswerMessage,
    ChatLog,
    EmptyHint,
    EvidenceBox,
    EvidenceItem,
    HistoryInput,
    SourceItem,
    SourcesPane,
    TracePane,
    UserMessage,
)

MAX_INPUT = 10_000


class OpenbookApp(ActionsMixin):
    CSS_PATH = "openbook.tcss"
    TITLE = "Openbook"
    COMMANDS = ActionsMixin.COMMANDS | {OpenbookCommands}

    def __init__(
        self,
        settings: Settings,
        backend: Backend | None = None,
        session: str | None = None,
        show_timings: bool = True,
        opener: Callable[[Settings], Backend] = open_backend,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.controller = ChatController(settings, session or "default")
        self._opener = opener  # how the backend is opened when none is given
        self._owns_backend = backend is None and opener is open_backend  # close only what it opened
        self._given_backend = backend
        self.show_timings = show_timings
        self._restore_session = session is None
        self.starting = True
        self.queued: list[str] = []  # questions sent while starting, asked when ready
        self.notices: list[tuple[str, str]] = []  # (title, message) of every notification
        self.turns_shown = 0  # turns whose end (answer, cancel or error) the chat shows
        self._shown = ""
        self._answer: AnswerMessage | None = None
        self._turn_open = False  # from asking until the chat shows the turn's end
        self._watch_stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self.synced: Sync | None = None  # the watched folders' last sync that changed something

    @property
    def backend(self) -> Backend | None:
        return self.controller.backend

    @property
    def running(self) -> bool:
        """A turn is under way, until the chat shows how it ended: the worker finishes before the
        UI thread shows its result, and a question asked in between must not take its place."""
        return self.controller.running or self._turn_open

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        self.notices.append((title, message))
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def fail(self, title: str, exc: Exception, timeout: float = 15) -> None:
        """An error as a titled notification: the message and what to do about it."""
        if isinstance(exc, OpenbookError):
            text = f"{exc.message}\n{exc.hint or ''}"
        else:
            text = f"{type(exc).__name__}: {exc}"
        self.notify(text, title=title, severity="error", timeout=timeout)

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield ChatLog(id="chat")
                yield HistoryInput(placeholder="Ask about your documents…", id="ask", max_length=MAX_INPUT)
            with TabbedContent(id="right", initial="trace-tab"):
                with TabPane("Sources", id="sources-tab"):
                    yield SourcesPane(id="sources")
                with TabPane("Trace", id="trace-tab"):
                    trace = TracePane("(no turn yet)", id="trace")
                    trace.show_timings = self.show_timings
                    yield trace
                    with VerticalScroll(id="span-detail-box"):
                        yield Static(
                            "Select a step to see what went in and out.", id="span-detail", markup=False
                        )
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "starting…"
        self.set_interval(0.1, self._refresh)
        self.query_one(ChatLog).anchor()  # follow the newest text as it streams
        self.query_one(HistoryInput).focus()
        if self._given_backend is None:
            self.connect()
        else:
            self._backend_ready(self._given_backend)

    # -- start-up ---------------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="connect")
    def connect(self) -> None:
        try:
            backend = self._opener(self.settings)
        except OpenbookError as exc:
            self.call_from_thread(self._failed_to_start, exc)
            return
        self.call_from_thread(self._backend_ready, backend)

    def _failed_to_start(self, exc: OpenbookError) -> None:
        self.starting = False
        self.sub_title = "not connected"
        self.fail("Openbook cannot start", exc, timeout=60)
        if self.queued:
            self.notify(f"{len(self.queued)} queued question(s) were not asked.", title="Not ready")
            self.queued.clear()

    def _backend_ready(self, backend: Backend) -> None:
        self.controller.backend = backend
        self.starting = False
        self.sub_title = backend.describe()
        self.open_session(
            self.controller.last_session() if self._restore_session else self.controller.session
        )
        if self.settings.ingest.watch:
            self.watch_folders()
        if backend.ingested_samples:
            self.notify(
                f"Added {backend.ingested_samples} sample documents about the solar "
                "system. Add your own with: openbook ingest PATH",
                title="First run",
            )
        if self.queued:
            self._ask(self.queued.pop(0))

    # -- watched folders --------------------------------------------------------------------------
    def watch_folders(self) -> None:
        """Keep ``ingest.watch`` in sync on a thread of its own; its syncs wait for a running
        turn (and a turn for a sync), and the status line says when the library changed."""
        try:
            watcher = self.controller.watcher(lambda sync: self.call_from_thread(self._library_changed, sync))
        except OpenbookError as exc:
            self.fail("Cannot watch", exc)
            return
        if watcher is None:
            return
        folders = ", ".join(str(r) for r in watcher.roots)
        self.sub_title = f"{self.backend.describe() if self.backend else ''} · syncing {folders}…"

        def run() -> None:
            try:
                watcher.run(self._watch_stop)
            except Exception as exc:  # the chat goes on without it, and says so
                if not self._watch_stop.is_set():
                    self.call_from_thread(self.fail, "Stopped watching", exc)

        self._watcher = threading.Thread(target=run, name="openbook-watch", daemon=True)
        self._watcher.start()

    def _library_changed(self, sync: Sync) -> None:
        if self.backend is None:
            return
        self.synced = sync
        when = f"{sync.at.astimezone():%H:%M:%S}"
        self.sub_title = f"{self.backend.describe()} · watching, library synced {when} ({sync.line()})"
        if sync.report.failed:
            problems = "\n".join(f"{p.path}: {p.reason}" for p in sync.report.failed[:5])
            self.notify(problems, title="Some watched files could not be read", severity="warning")

    # -- a turn -----------------------------------------------------------------------------------
    @on(HistoryInput.Submitted)
    def submit(self, event: HistoryInput.Submitted) -> None:
        question = event.value.strip()
        if not question:
            return
        if self.running:
            self.notify("A turn is running; press Esc to cancel it.", title="Busy")
            return
        box = self.query_one(HistoryInput)
        if self.backend is None:
            if not self.starting:
                self.notify(
                    "Openbook could not start; see the error above.", title="Not ready", severity="warning"
                )
                return
            box.remember(question)
            box.value = ""
            self.queued.append(question)
            self.notify(
                "Still starting (database, models): your question will be asked when ready.", title="Queued"
            )
            return
        box.remember(question)
        box.value = ""
        self._ask(question)

    def _ask(self, question: str) -> None:
        chat = self.query_one(ChatLog)
        chat.query(EmptyHint).remove()
        shown = question if len(question) <= 500 else question[:500] + f"… ({len(question)} chars)"
        chat.mount(UserMessage(shown, markup=False))
        self._answer = AnswerMessage()
        chat.mount(self._answer)
        chat.scroll_end(animate=False)
        self._shown = ""
        self._turn_open = True
        self.controller.start()
        self.run_turn(question)

    @work(thread=True, exclusive=True, group="turn")
    def run_turn(self, question: str) -> None:
        def on_span(event: tracing.SpanEvent) -> None:
            # Pushed by the tracer as each span starts and ends: the trace tree follows the turn.
            self.call_from_thread(self._show_trace)

        try:
            busy = self.controller.busy()
            if busy:
                self.call_from_thread(self.notify, busy, title="Database busy", severity="warning")
            result = self.controller.ask(question, on_span=on_span)
        except TurnCancelled:
            self.call_from_thread(self._done, None, "cancelled")
        except PartialAnswer as exc:
            self.call_from_thread(self._done, None, "partial")
            self.call_from_thread(self.fail, "Partial answer", exc)
        except OpenbookError as exc:
            self.call_from_thread(self._done, None, "error")
            self.call_from_thread(self.fail, "Could not answer", exc)
        except Exception as exc:
            self.call_from_thread(self._done, None, "error")
            if "PYTEST_CURRENT_TEST" in os.environ:
                raise  # under tests, a bug fails the test instead of becoming a notification
            self.call_from_thread(self.fail, "Unexpected error", exc)
        else:
            self.call_from_thread(self._done, result, "ok")

    def _done(self, result: TurnResult | None, status: str) -> None:
        try:
            self._show_end(result, status)
        finally:
            self._turn_open = False
        if self.queued and self.backend is not None:
            self._ask(self.queued.pop(0))  # the next question typed while Openbook was starting

    def _show_end(self, result: TurnResult | None, status: str) -> None:
        if self._answer is None:
            return
        if result is not None:
            self._answer.text = result.answer
            self._answer.show(result.answer)
            self._answer.trace_id = result.trace_id
            cited = {c.n for c in result.citations}
            self.query_one(SourcesPane).show(result.sources, cited)
            if result.support or result.pieces or (not result.supported and not result.declined):
                self.query_one(ChatLog).mount(EvidenceBox(result), after=self._answer)
            for note in result.notes:
                self.notify(note, title="Note")
        else:
            mark = {"cancelled": "*(cancelled)*", "partial": "*(partial: the model stopped mid-answer)*"}.get(
                status, "*(failed)*"
            )
            self._answer.show((self.controller.streamed + "\n\n" + mark).strip())
        self._show_trace()
        chat = self.query_one(ChatLog)
        self.call_after_refresh(chat.scroll_end, animate=False)
        self.turns_shown += 1

    def _refresh(self) -> None:
        if not self.running or self._answer is None:
            return
        self.query_one(TracePane).tick()
        text = self.controller.streamed
        if text != self._shown:
            self._shown = text
            self._answer.show(text)
            self.query_one(ChatLog).scroll_end(animate=False)

    def _show_trace(self) -> None:
        loaded = self.controller.trace()
        if loaded is not None:
            row, spans = loaded
            self.query_one(TracePane).show(row["question"], spans)

    # -- keys ---------------------------------------------------------------------------------------
    def action_cancel(self) -> None:
        if self.controller.cancel():
            self.notify("Cancelling the running turn…", title="Cancel")

    def action_show_sources(self) -> None:
        self.query_one(TabbedContent).active = "sources-tab"
        self.query_one(SourcesPane).focus()

    def action_show_trace(self) -> None:
        self.query_one(TabbedContent).active = "trace-tab"
        self.query_one(TracePane).focus()

    def action_focus_input(self) -> None:
        self.query_one(HistoryInput).focus()

    def action_help(self) -> None:
        keys = [(b.key, b.description) for b in self.BINDINGS if not isinstance(b, tuple)]
        self.push_screen(HelpScreen(keys, self.controller.models_by_role()))

    @on(ListView.Selected, "#sources")
    @on(ListView.Selected, ".evidence-list")
    def open_source(self, event: ListView.Selected) -> None:
        item = event.item
        if isinstance(item, SourceItem | EvidenceItem) and self.backend is not None:
            self.push_screen(ChunkScreen(item.citation, self.controller.chunk_text(item.citation.chunk_id)))

    @on(Tree.NodeHighlighted, "#trace")
    @on(Tree.NodeSelected, "#trace")
    def open_span(self, event: Any) -> None:
        data = event.node.data
        if data:
            self.query_one("#span-detail", Static).update(trace_view.detail_text(data))

    def show_answer_trace(self, answer: AnswerMessage) -> None:
        """An earlier answer was clicked: open its trace."""
        if answer.trace_id is not None and self.backend is not None:
            self.controller.trace_id = answer.trace_id
            self._show_trace()
            self.action_show_trace()

    def on_unmount(self) -> None:
        self._watch_stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=10)  # it finishes the document it is writing
        if self.backend is not None and self._owns_backend:
            self.backend.close()

"""The Openbook chat: answers streamed with citations, the sources they came from, and the
agents' trace filling in live — side by side."""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Header, ListView, Static, TabbedContent, TabPane, Tree

from openbook.db import chunks as chunk_rows

from .. import trace_view, tracing
from ..errors import OpenbookError
from ..settings import Settings
from ..turn import TurnCancelled, TurnResult
from .actions import ActionsMixin
from .backend import Backend, open_backend
from .commands import OpenbookCommands
from .widgets import (
    AnswerMessage,
    ChatLog,
    ChunkScreen,
    HistoryInput,
    SourceItem,
    SourcesPane,
    TracePane,
    UserMessage,
)

MAX_INPUT = 10_000


class HelpScreen(ModalScreen[None]):
    BINDINGS = [("escape", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        lines = ["Openbook — keys", ""]
        for b in OpenbookApp.BINDINGS:
            if isinstance(b, Binding):
                lines.append(f"  {b.key:<10} {b.description}")
        lines += [
            "  up/down    previous / next question",
            "  enter      send, or open the selected source / span",
            "  click      an earlier answer opens its trace",
            "  ctrl+p     palette: ingest, switch model, toggle steps, export trace, copy answer",
            "",
        ]
        backend = getattr(self.app, "backend", None)
        if backend is not None:
            lines.append("Models per role:")
            for role, model in backend.turn.models.items():
                why = backend.reasons.get(role, "")
                lines.append(f"  {role:<10} {model.name} ({model.backend}){'  — ' + why if why else ''}")
            lines.append("")
        lines.append("Esc closes this help.")
        with VerticalScroll(id="help-box"):
            yield Static("\n".join(lines), markup=False)


class OpenbookApp(ActionsMixin, App[None]):
    CSS_PATH = "openbook.tcss"
    TITLE = "Openbook"
    COMMANDS = App.COMMANDS | {OpenbookCommands}
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit"),
        Binding("escape", "cancel", "Cancel turn"),
        Binding("ctrl+o", "show_sources", "Sources"),
        Binding("ctrl+t", "show_trace", "Trace"),
        Binding("ctrl+l", "focus_input", "Ask"),
        Binding("ctrl+s", "sessions", "Sessions"),
        Binding("f1", "help", "Help"),
    ]

    def __init__(
        self,
        settings: Settings,
        backend: Backend | None = None,
        session: str | None = None,
        show_timings: bool = True,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.backend = backend
        self._owns_backend = backend is None  # close only what the app opened itself
        self.show_timings = show_timings
        self.session = session or "default"
        self._restore_session = session is None
        self.pipeline = settings.pipeline
        self.running = False
        self._cancelled = False
        self._buffer: list[str] = []
        self._shown = ""
        self._answer: AnswerMessage | None = None
        self._trace_id: int | None = None
        self._question = ""

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
        if self.backend is None:
            self.connect()
        else:
            self._backend_ready(self.backend)

    # -- start-up ---------------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="connect")
    def connect(self) -> None:
        try:
            backend = open_backend(self.settings)
        except OpenbookError as exc:
            self.call_from_thread(
                self.notify,
                f"{exc.message}\n{exc.hint or ''}",
                title="Openbook cannot start",
                severity="error",
                timeout=60,
            )
            self.call_from_thread(setattr, self, "sub_title", "not connected")
            return
        self.call_from_thread(self._backend_ready, backend)

    def _backend_ready(self, backend: Backend) -> None:
        self.backend = backend
        self.sub_title = backend.describe()
        self.open_session(self.last_session() if self._restore_session else self.session)
        if backend.ingested_samples:
            self.notify(
                f"Added {backend.ingested_samples} sample documents about the solar "
                "system. Add your own with: openbook ingest PATH",
                title="First run",
            )

    # -- a turn -----------------------------------------------------------------------------------
    @on(HistoryInput.Submitted)
    def submit(self, event: HistoryInput.Submitted) -> None:
        question = event.value.strip()
        if not question:
            return
        if self.running:
            self.notify("A turn is running; press Esc to cancel it.", title="Busy")
            return
        if self.backend is None:
            self.notify(
                "Still starting (database, models)… try again in a moment.",
                title="Not ready",
                severity="warning",
            )
            return
        box = self.query_one(HistoryInput)
        box.remember(question)
        box.value = ""
        chat = self.query_one(ChatLog)
        shown = question if len(question) <= 500 else question[:500] + f"… ({len(question)} chars)"
        chat.mount(UserMessage(shown, markup=False))
        self._answer = AnswerMessage()
        chat.mount(self._answer)
        chat.scroll_end(animate=False)
        self.running, self._cancelled = True, False
        self._buffer, self._shown, self._trace_id, self._question = [], "", None, question
        self.run_turn(question)

    @work(thread=True, exclusive=True, group="turn")
    def run_turn(self, question: str) -> None:
        assert self.backend is not None

        def on_token(piece: str) -> None:
            if self._cancelled:
                raise TurnCancelled()
            self._buffer.append(piece)

        def on_trace(trace_id: int) -> None:
            self._trace_id = trace_id

        def on_span(event: tracing.SpanEvent) -> None:
            # Pushed by the tracer as each span starts and ends: the trace tree follows the turn.
            self.call_from_thread(self._show_trace)

        try:
            result = self.backend.turn.ask(
                question,
                session=self.session,
                on_token=on_token,
                on_trace=on_trace,
                on_span=on_span,
                pipeline=self.pipeline,
            )
        except TurnCancelled:
            self.call_from_thread(self._done, None, "cancelled")
        except OpenbookError as exc:
            self.call_from_thread(self._done, None, "error")
            self.call_from_thread(
                self.notify,
                f"{exc.message}\n{exc.hint or ''}",
                title="Could not answer",
                severity="error",
                timeout=15,
            )
        except Exception as exc:  # noqa: BLE001 - the app must survive anything a turn does
            self.call_from_thread(self._done, None, "error")
            self.call_from_thread(
                self.notify,
                f"{type(exc).__name__}: {exc}",
                title="Unexpected error",
                severity="error",
                timeout=15,
            )
        else:
            self.call_from_thread(self._done, result, "ok")

    def _done(self, result: TurnResult | None, status: str) -> None:
        if self._answer is None:
            return
        if result is not None:
            self._answer.text = result.answer
            self._answer.update(result.answer)
            self._answer.trace_id = result.trace_id
            cited = {c.n for c in result.citations}
            self.query_one(SourcesPane).show(result.sources, cited)
            for note in result.notes:
                self.notify(note, title="Note")
        elif status == "cancelled":
            self._answer.update(("".join(self._buffer) + "\n\n*(cancelled)*").strip())
        else:
            self._answer.update(("".join(self._buffer) + "\n\n*(failed)*").strip())
        self.running = False
        self._show_trace()
        chat = self.query_one(ChatLog)
        self.call_after_refresh(chat.scroll_end, animate=False)

    def _refresh(self) -> None:
        if not self.running or self._answer is None:
            return
        text = "".join(self._buffer)
        if text != self._shown:
            self._shown = text
            self._answer.update(text)
            self.query_one(ChatLog).scroll_end(animate=False)

    def _show_trace(self) -> None:
        if self.backend is None or self._trace_id is None:
            return
        row, spans = tracing.load(self.backend.store, self._trace_id)
        self.query_one(TracePane).show(row["question"], spans)

    # -- actions ----------------------------------------------------------------------------------
    def action_cancel(self) -> None:
        if self.running:
            self._cancelled = True
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
        self.push_screen(HelpScreen())

    @on(ListView.Selected, "#sources")
    def open_source(self, event: ListView.Selected) -> None:
        item = event.item
        if not isinstance(item, SourceItem) or self.backend is None:
            return
        rows = list(chunk_rows.by_ids(self.backend.store, [item.citation.chunk_id]).values())
        text = rows[0]["text"] if rows else "(this chunk is no longer in the library)"
        self.push_screen(ChunkScreen(item.citation, text))

    @on(Tree.NodeHighlighted, "#trace")
    @on(Tree.NodeSelected, "#trace")
    def open_span(self, event: Any) -> None:
        data = event.node.data
        if data:
            self.query_one("#span-detail", Static).update(trace_view.detail_text(data))

    def show_answer_trace(self, answer: AnswerMessage) -> None:
        """An earlier answer was clicked: open its trace."""
        if answer.trace_id is not None and self.backend is not None:
            self._trace_id = answer.trace_id
            self._show_trace()
            self.action_show_trace()

    def on_unmount(self) -> None:
        if self.backend is not None and self._owns_backend:
            self.backend.close()

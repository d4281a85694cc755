"""The app's panes: chat messages, the sources list, the live trace tree."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Collapsible, Input, ListItem, ListView, Markdown, Static, Tree

from .. import trace_view
from ..turn import Citation, Evidence, TurnResult


class HistoryInput(Input):
    """An input that remembers what was sent (up/down to browse)."""

    BINDINGS = [("up", "older", "Previous"), ("down", "newer", "Next")]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.history: list[str] = []
        self._pos = 0

    def remember(self, text: str) -> None:
        if text and (not self.history or self.history[-1] != text):
            self.history.append(text)
        self._pos = len(self.history)

    def action_older(self) -> None:
        if self.history and self._pos > 0:
            self._pos -= 1
            self.value = self.history[self._pos]

    def action_newer(self) -> None:
        if self._pos < len(self.history) - 1:
            self._pos += 1
            self.value = self.history[self._pos]
        else:
            self._pos = len(self.history)
            self.value = ""


class UserMessage(Static):
    pass


class EmptyHint(Static):
    """What an empty chat shows: how to begin, and questions to try on the sample documents."""

    def __init__(self, questions: list[str]) -> None:
        lines = ["Ask a question about your documents below."]
        if questions:
            lines += ["", "The sample library is about the solar system; try:"]
            lines += [f"  • {q}" for q in questions]
        lines += ["", "Esc cancels a turn · Ctrl+T shows what the agents did · F1 help"]
        super().__init__("\n".join(lines), markup=False)


class AnswerMessage(Markdown):
    def __init__(self, text: str = "", **kwargs: Any) -> None:
        super().__init__(text or "…", **kwargs)
        self.text = text  # the final answer (empty while streaming, or after a failure)
        self.shown = text or "…"  # what the message displays now
        self.trace_id: int | None = None

    def show(self, markdown: str) -> None:
        self.shown = markdown
        self.update(markdown)

    def on_click(self) -> None:
        show = getattr(self.app, "show_answer_trace", None)
        if show is not None:
            show(self)


class ChatLog(VerticalScroll):
    pass


class EvidenceItem(ListItem):
    """One quoted sentence under an answer; Enter opens the whole passage."""

    def __init__(self, evidence: Evidence) -> None:
        self.evidence = evidence
        where = f"{evidence.title} — {evidence.location}" if evidence.location else evidence.title
        super().__init__(Static(f'[{evidence.n}] "{evidence.quote}"\n    {where}', markup=False))

    @property
    def citation(self) -> Citation:
        e = self.evidence
        return Citation(
            n=e.n, chunk_id=e.chunk_id, source=e.document, title=e.title, location=e.location, snippet=e.quote
        )


class EvidenceBox(Collapsible):
    """The sentences an answer rests on, quoted, beneath it (dim, collapsible), and a warning
    when the answer's words are not in them."""

    def __init__(self, result: TurnResult) -> None:
        self.result = result
        children: list[Any] = [ListView(*(EvidenceItem(e) for e in result.support), classes="evidence-list")]
        if result.pieces:  # a compound question: what each piece found, then the quotes
            worked = "\n".join(
                f"{p.question} → {p.answer.strip()}"
                + (" (read again from the sentence that says it)" if p.read_again_from else "")
                for p in result.pieces
            )
            children.insert(0, Static(worked, classes="evidence-pieces", markup=False))
        if not result.supported:
            children.insert(
                0,
                Static(
                    "! The answer's words are not in these passages: check them before relying on it.",
                    classes="evidence-warning",
                ),
            )
        title = "Evidence" if result.supported else "Evidence (does not hold the answer)"
        super().__init__(*children, title=title, collapsed=False)


class SourceItem(ListItem):
    def __init__(self, citation: Citation, cited: bool) -> None:
        self.citation = citation
        mark = "*" if cited else " "
        where = f" — {citation.location}" if citation.location else ""
        super().__init__(
            Static(f"[{citation.n}]{mark} {citation.title}{where}\n    {citation.snippet}", markup=False)
        )


class SourcesPane(ListView):
    def show(self, sources: list[Citation], cited: set[int]) -> None:
        self.clear()
        for c in sources:
            self.append(SourceItem(c, c.n in cited))


def span_label(s: dict[str, Any], timings: bool = True) -> Text:
    style = trace_view.STATUS_STYLE.get(s["status"], "cyan")
    return Text.assemble(f"{s['name']}  ", (f"[{s['status']}]", style), f"  {trace_view.took(s, timings)}")


class TracePane(Tree[dict]):
    """The span tree of one trace, rebuilt from the rows as they arrive."""

    show_timings = True
    _live_nodes: list[Any] = []  # nodes of spans not yet ended

    @property
    def live_nodes(self) -> list[Any]:
        """The nodes of spans that have not ended yet."""
        return self._live_nodes

    def tick(self) -> None:
        """Move the elapsed time of the steps still running."""
        for node in self._live_nodes:
            node.set_label(span_label(node.data, self.show_timings))

    def show(self, question: str, spans: list[dict[str, Any]]) -> None:
        self._live_nodes: list[Any] = []
        self.clear()
        self.root.set_label(Text(question[:60]))
        nodes: dict[int, Any] = {}
        parents = {s["parent_id"] for s in spans}
        for s in spans:
            parent = nodes.get(s["parent_id"], self.root)
            nodes[s["id"]] = parent.add(
                span_label(s, self.show_timings), data=s, expand=True, allow_expand=s["id"] in parents
            )
            if s.get("duration_ms") is None:
                self._live_nodes.append(nodes[s["id"]])
        self.root.expand()

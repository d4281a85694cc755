"""The full text of a cited chunk."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from ...turn import Citation


class ChunkScreen(ModalScreen[None]):
    """The full text of a cited chunk."""

    BINDINGS = [("escape", "dismiss", "Close")]

    def __init__(self, citation: Citation, text: str) -> None:
        super().__init__()
        self.citation, self.text = citation, text

    def compose(self) -> ComposeResult:
        where = f" — {self.citation.location}" if self.citation.location else ""
        with VerticalScroll(id="chunk-box"):
            yield Static(
                f"[{self.citation.n}] {self.citation.title}{where}\n{self.citation.source}", id="chunk-title"
            )
            yield Static(self.text, id="chunk-text", markup=False)

"""Keys, and which model serves each role (and why)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

EXTRA_KEYS = [
    ("up/down", "previous / next question"),
    ("enter", "send, or open the selected source / span"),
    ("click", "an earlier answer opens its trace"),
    ("ctrl+p", "palette: ingest, switch model, toggle steps, export trace, copy answer"),
]


class HelpScreen(ModalScreen[None]):
    BINDINGS = [("escape", "dismiss", "Close")]

    def __init__(self, keys: list[tuple[str, str]], models: list[str]) -> None:
        super().__init__()
        self.keys, self.models = keys + EXTRA_KEYS, models

    def compose(self) -> ComposeResult:
        lines = ["Openbook — keys", ""]
        lines += [f"  {key:<10} {what}" for key, what in self.keys]
        lines.append("")
        if self.models:
            lines += ["Models per role:", *(f"  {m}" for m in self.models), ""]
        lines.append("Esc closes this help.")
        with VerticalScroll(id="help-box"):
            yield Static("\n".join(lines), markup=False)

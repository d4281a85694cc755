"""Command palette entries (ctrl+p)."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual.command import Hit, Hits, Provider

from openbook.agents.pipeline import SWITCHES

if TYPE_CHECKING:
    from .app import OpenbookApp


class OpenbookCommands(Provider):
    def _commands(self) -> list[tuple[str, str, object]]:
        app: OpenbookApp = self.app  # type: ignore[assignment]
        items: list[tuple[str, str, object]] = [
            ("Ingest a path…", "Add files or a folder to the library", app.action_ingest),
            ("Sessions…", "Create, switch, rename or delete conversations", app.action_sessions),
            ("Export current trace", "Write the shown trace as JSON", app.action_export_trace),
            ("Copy last answer", "Copy the last answer to the clipboard", app.action_copy_answer),
            ("Switch answer model…", "Use another model for answers", app.action_switch_model),
        ]
        switches = app.controller.switches()
        for step in SWITCHES:
            state = "on" if switches[step] else "off"
            if getattr(app.controller.pipeline, step) is None:
                state += ", by the answer model"
            items.append(
                (
                    f"Toggle {step} (now {state})",
                    f"Turn the {step} step on or off",
                    partial(app.toggle_step, step),
                )
            )
        return items

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)  # type: ignore[arg-type]

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield Hit(1.0, name, callback, help=help_text)  # type: ignore[arg-type]

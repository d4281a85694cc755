"""The sessions dialog: enter opens, n new, r rename, d delete."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import ListItem, ListView, Static


class SessionItem(ListItem):
    def __init__(self, row: dict[str, Any], current: bool) -> None:
        self.name_ = row["name"]
        mark = "●" if current else " "
        super().__init__(
            Static(
                f"{mark} {row['name']}  ({row['messages']} messages, {row['updated_at']:%Y-%m-%d %H:%M})",
                markup=False,
            )
        )


class SessionsScreen(ModalScreen[tuple[str, str] | None]):
    """Conversations: enter opens, n new, r rename, d delete. Returns (action, name)."""

    BINDINGS = [
        ("escape", "dismiss(None)", "Close"),
        ("n", "new", "New"),
        ("r", "rename", "Rename"),
        ("d", "delete", "Delete"),
    ]

    def __init__(self, rows: list[dict[str, Any]], current: str) -> None:
        super().__init__()
        self.rows, self.current = rows, current

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="sessions-box"):
            yield Static("Sessions — enter: open · n: new · r: rename · d: delete · esc: close")
            yield ListView(*[SessionItem(r, r["name"] == self.current) for r in self.rows], id="sessions")

    def _selected(self) -> str | None:
        item = self.query_one(ListView).highlighted_child
        return item.name_ if isinstance(item, SessionItem) else None

    def on_list_view_selected(self, event: ListView.Selected) -> None:
        if isinstance(event.item, SessionItem):
            self.dismiss(("open", event.item.name_))

    def action_new(self) -> None:
        self.dismiss(("new", ""))

    def action_rename(self) -> None:
        name = self._selected()
        if name:
            self.dismiss(("rename", name))

    def action_delete(self) -> None:
        name = self._selected()
        if name:
            self.dismiss(("delete", name))

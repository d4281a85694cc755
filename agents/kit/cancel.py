"""Stopping a running turn: the user presses Esc (or Ctrl-C), and whatever step the turn is in
ends within a second.

A turn runs with a ``CancelToken`` in force (``scope``). The runner checks it between steps,
between pieces and between tool calls; long work checks it too: retrieval between its legs, and
the model backends while they process a prompt (llama.cpp's abort callback) and between streamed
tokens. A check that finds the token set raises ``Cancelled``; the span it was raised in, and the
trace, end ``cancelled``."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar


class Cancelled(Exception):
    """The turn was stopped by the user; nothing it had not finished is kept."""

    def __init__(self, message: str = "cancelled by the user") -> None:
        super().__init__(message)


class CancelToken:
    """Set from any thread (the UI's); read by the thread running the turn."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._hooks: list[Callable[[], None]] = []

    def cancel(self) -> None:
        with self._lock:
            self._event.set()
            hooks, self._hooks = self._hooks, []
        for hook in hooks:
            hook()

    def on_cancel(self, hook: Callable[[], None]) -> Callable[[], None]:
        """Call ``hook`` (from the cancelling thread) when the token is set, at once if it is
        already: how a backend that blocks on I/O (a prompt being processed by a server) is
        interrupted. Returns the function that removes the hook."""
        with self._lock:
            if not self._event.is_set():
                self._hooks.append(hook)

                def remove() -> None:
                    with self._lock:
                        if hook in self._hooks:
                            self._hooks.remove(hook)

                return remove
        hook()
        return lambda: None

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        if self._event.is_set():
            raise Cancelled()


NEVER = CancelToken()  # in force outside any turn: never set

_current: ContextVar[CancelToken] = ContextVar("openbook_cancel", default=NEVER)


def current() -> CancelToken:
    """The token of the turn running in this thread (``NEVER`` outside a turn)."""
    return _current.get()


def check() -> None:
    """Raise ``Cancelled`` when the turn running in this thread was stopped."""
    _current.get().check()


@contextmanager
def scope(token: CancelToken) -> Iterator[CancelToken]:
    """Put ``token`` in force for the code run inside (in this thread)."""
    reset = _current.set(token)
    try:
        yield token
    finally:
        _current.reset(reset)

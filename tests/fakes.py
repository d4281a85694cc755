"""A scripted chat model behind the real interface: ``FakeChat().enqueue(...)``."""

from __future__ import annotations

import json
from typing import Any

from openbook.assistant.models.base import ChatResult, Message, Usage


class FakeChat:
    backend = "fake"

    def __init__(self, name: str = "fake-model") -> None:
        self.name = name
        self.queue: list[Any] = []
        self.calls: list[dict[str, Any]] = []

    def enqueue(self, *replies: Any) -> FakeChat:
        """Each reply: a string, a dict (sent as JSON), or an exception to raise."""
        self.queue.extend(replies)
        return self

    def chat(
        self, messages: list[Message], *, schema=None, tools=None, options=None, on_token=None
    ) -> ChatResult:
        self.calls.append({"messages": messages, "schema": schema, "options": options})
        if not self.queue:
            raise AssertionError(f"FakeChat: no scripted reply left for {messages[-1].content[:80]!r}")
        reply = self.queue.pop(0)
        if isinstance(reply, BaseException):
            raise reply
        text = json.dumps(reply) if isinstance(reply, dict) else str(reply)
        if on_token:
            for i in range(0, len(text), 5):
                on_token(text[i : i + 5])
        return ChatResult(
            text=text,
            model=self.name,
            backend=self.backend,
            usage=Usage(prompt_tokens=10, completion_tokens=5),
        )

"""A scripted chat model behind the real interface: ``FakeChat().enqueue(...)``."""

from __future__ import annotations

import json
from typing import Any

from openbook.agents.kit.evidence import Hit, Passage
from openbook.assistant.models.base import ChatResult, Message, ToolCall, Usage


class FakeChat:
    backend = "fake"

    def __init__(self, name: str = "fake-model") -> None:
        self.name = name
        self.queue: list[Any] = []
        self.calls: list[dict[str, Any]] = []

    def enqueue(self, *replies: Any) -> FakeChat:
        """Each reply: a string, a dict (sent as JSON), or an exception to raise. When the call
        offers tools, ``{"tool": NAME, "arguments": {...}}`` is a tool call and ``{"answer": TEXT}``
        a plain reply, as the in-process runtime's tool grammar returns them. A ``ChatResult`` is
        returned as it is (its text streamed): a reply with ``first_token`` choices."""
        self.queue.extend(replies)
        return self

    def chat(
        self, messages: list[Message], *, schema=None, tools=None, options=None, on_token=None
    ) -> ChatResult:
        self.calls.append({"messages": messages, "schema": schema, "options": options, "tools": tools})
        if not self.queue:
            raise AssertionError(f"FakeChat: no scripted reply left for {messages[-1].content[:80]!r}")
        reply = self.queue.pop(0)
        if isinstance(reply, BaseException):
            raise reply
        if isinstance(reply, ChatResult):
            if on_token:
                on_token(reply.text)
            return reply
        calls: list[ToolCall] = []
        if tools and isinstance(reply, dict) and "tool" in reply:
            calls, reply = [ToolCall(name=reply["tool"], arguments=reply.get("arguments", {}))], ""
        elif tools and isinstance(reply, dict) and "answer" in reply:
            reply = reply["answer"]
        text = json.dumps(reply) if isinstance(reply, dict) else str(reply)
        if on_token:
            for i in range(0, len(text), 5):
                on_token(text[i : i + 5])
        return ChatResult(
            text=text,
            tool_calls=calls,
            model=self.name,
            backend=self.backend,
            usage=Usage(prompt_tokens=10, completion_tokens=5),
        )


def hits_for(passages: list[Passage]) -> list[Hit]:
    return [
        Hit(
            chunk_id=p.n,
            document_id=p.n,
            source=f"doc{p.n}.md",
            title=f"doc {p.n}",
            ordinal=0,
            text=p.text,
            metadata={},
            rank=p.n,
            fused_score=1.0 / p.n,
            vector_distance=0.1,
        )
        for p in passages
    ]

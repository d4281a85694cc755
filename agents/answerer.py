"""Write the final answer from the note, citing passages as [n]; decline when there is no
evidence instead of guessing."""

from __future__ import annotations

from pydantic import BaseModel

from openbook.assistant.models.base import ChatModel, ChatOptions, ChatResult, Message, TokenCallback
from openbook.assistant.tracing import Span

from .passages import Passage
from .step import SYSTEM, prompt_for

DECLINE = "I could not find the answer to that in your documents."


class AnswerInput(BaseModel):
    question: str
    notes: list[Passage]  # facts or passages, numbered as they are cited


def answer(
    model: ChatModel,
    inp: AnswerInput,
    span: Span | None = None,
    on_token: TokenCallback | None = None,
    max_tokens: int = 200,
) -> ChatResult:
    prompt = prompt_for("answerer", inp)
    messages = [Message(role="system", content=SYSTEM), Message(role="user", content=prompt)]
    result = model.chat(
        messages,
        options=ChatOptions(temperature=0.0, seed=0, max_tokens=max_tokens),
        on_token=on_token,
    )
    if span is not None:
        span.record_call(result, prompt)
    return result

"""The one interface every agent uses to talk to a language model.

``ChatModel.chat(messages, ...)`` takes chat messages and returns a ``ChatResult`` (text, tool
calls, usage and timings). Given ``schema=<pydantic model>``, the runtime constrains decoding to
that model's JSON schema (Ollama ``format``, llama.cpp grammar); ``structured()`` validates the
output, retries once with the validation error, then raises ``SchemaError`` for the caller's
fallback. ``on_token`` streams text as it is generated.

Two things a step may ask of the reply: ``ChatOptions.top_logprobs`` (> 0) returns the first
reply token's most likely choices with their log-probabilities (``ChatResult.first_token``), and
a final ``assistant`` message is a prefill: the reply continues it (``text`` is what follows).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Literal, Protocol, TypeVar

from pydantic import BaseModel, Field, ValidationError

from openbook.prompts import render, text

from .errors import OpenbookError

T = TypeVar("T", bound=BaseModel)
Role = Literal["system", "user", "assistant", "tool"]


class Message(BaseModel):
    role: Role
    content: str
    tool_calls: list[ToolCall] = Field(default_factory=list)
    name: str | None = None  # tool name, for role == "tool"


class ToolCall(BaseModel):
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class Tool(BaseModel):
    """A function the model may call: name, description, JSON schema of its arguments."""

    name: str
    description: str
    parameters: dict[str, Any]

    def as_ollama(self) -> dict[str, Any]:
        return {"type": "function", "function": self.model_dump()}


class ChatOptions(BaseModel):
    temperature: float | None = None
    seed: int | None = None
    max_tokens: int | None = 512
    num_ctx: int | None = None  # context window; None: the model's/setting's default
    stop: list[str] = Field(default_factory=list)
    repeat_penalty: float | None = None
    top_logprobs: int = 0  # > 0: the first reply token's most likely choices (ChatResult.first_token)


class TokenChoice(BaseModel):
    token: str
    logprob: float


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    load_ms: float = 0.0
    prompt_ms: float = 0.0  # prompt evaluation (time to first token, minus load)
    generation_ms: float = 0.0
    total_ms: float = 0.0

    @property
    def tokens_per_second(self) -> float:
        return self.completion_tokens / (self.generation_ms / 1000) if self.generation_ms else 0.0


class ChatResult(BaseModel):
    text: str
    tool_calls: list[ToolCall] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    model: str
    backend: str
    finish_reason: str | None = None  # "stop", "length", "interrupted"
    partial: bool = False  # the stream broke off; ``text`` is what arrived
    notes: list[str] = Field(default_factory=list)  # visible remarks, e.g. "trimmed 2 messages"
    # with ``top_logprobs``: the first token's choices, most likely first (empty: the runtime gave none)
    first_token: list[TokenChoice] = Field(default_factory=list)


class ModelError(OpenbookError):
    """A model call failed in a way the user can act on."""


class ModelUnavailable(ModelError):
    """The runtime cannot be reached (Ollama not running) or cannot load the model."""


class ModelNotFound(ModelError):
    pass


class ContextOverflow(ModelError):
    pass


class PartialAnswer(ModelError):
    """The model's stream broke off (server killed, connection dropped, no final message):
    ``text`` is what arrived. The turn fails visibly; the partial text is kept in the trace."""

    def __init__(self, message: str, *, text: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.text = text


class SchemaError(ModelError):
    """Output still did not match the schema after constrained decoding and one repair."""

    def __init__(self, message: str, *, raw: str, result: ChatResult | None = None) -> None:
        super().__init__(message)
        self.raw = raw
        self.result = result


TokenCallback = Callable[[str], None]


class ChatModel(Protocol):
    name: str
    backend: str

    def chat(
        self,
        messages: list[Message],
        *,
        schema: dict[str, Any] | None = None,
        tools: list[Tool] | None = None,
        options: ChatOptions | None = None,
        on_token: TokenCallback | None = None,
    ) -> ChatResult: ...


def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema()


def structured(
    chat_model: ChatModel,
    messages: list[Message],
    schema: type[T],
    *,
    options: ChatOptions | None = None,
) -> tuple[T, ChatResult]:
    """A validated ``schema`` instance: constrained decoding, one repair retry, then SchemaError."""
    result = chat_model.chat(messages, schema=json_schema(schema), options=options)
    try:
        return schema.model_validate_json(result.text), result
    except ValidationError as first:
        cut = result.finish_reason == "length"
        problem = (
            text("repair_cut_off") if cut else render("repair_schema", {"problem": _brief(first)}).strip()
        )
        repair = [
            *messages,
            Message(role="assistant", content=result.text),
            Message(role="user", content=problem),
        ]
        # Runaway repetition is the usual way a small model breaks the JSON: penalise it.
        opts = options or ChatOptions()
        retry_opts = opts.model_copy(update={"repeat_penalty": max(opts.repeat_penalty or 1.0, 1.2)})
        retry = chat_model.chat(repair, schema=json_schema(schema), options=retry_opts)
        retry.usage = _add(result.usage, retry.usage)
        retry.notes.append("schema repair retry")
        try:
            return schema.model_validate_json(retry.text), retry
        except ValidationError as second:
            raise SchemaError(
                f"{chat_model.name} did not produce valid {schema.__name__} JSON: {_brief(second)}",
                raw=retry.text,
                result=retry,
            ) from second


def _brief(exc: ValidationError) -> str:
    errs = exc.errors()[:3]
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'root'}: {e['msg']}" for e in errs)


def _add(a: Usage, b: Usage) -> Usage:
    return Usage(**{k: getattr(a, k) + getattr(b, k) for k in Usage.model_fields})


def parse_tool_arguments(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw or "{}")
    except json.JSONDecodeError:
        return {"_raw": raw}
    return value if isinstance(value, dict) else {"_value": value}


Message.model_rebuild()

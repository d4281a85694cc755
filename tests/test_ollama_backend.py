"""The Ollama backend against a loopback server speaking Ollama's wire format."""

import pytest
from pydantic import BaseModel, Field

from openbook.assistant.models.base import (
    ChatOptions,
    Message,
    ModelError,
    ModelNotFound,
    ModelUnavailable,
    SchemaError,
    Tool,
    structured,
)
from openbook.assistant.models.ollama_backend import OllamaChat, list_models, show_model
from tests.helpers import closed_port_host
from tests.ollama_fake import FakeOllama, chat_chunks

MSGS = [Message(role="system", content="Be brief."), Message(role="user", content="Hi?")]


class Answer(BaseModel):
    answer: str = Field(max_length=100)
    confidence: float


@pytest.fixture
def fake():
    with FakeOllama() as server:
        yield server


def test_streamed_chat_sends_the_documented_request(fake):
    fake.script.append({"chunks": chat_chunks("Hello there, friend.")})
    model = OllamaChat("qwen3:0.6b", fake.host, keep_alive="5m", num_ctx=2048)
    pieces = []
    result = model.chat(
        MSGS, options=ChatOptions(temperature=0.2, seed=7, max_tokens=64), on_token=pieces.append
    )
    assert result.text == "Hello there, friend." and "".join(pieces) == result.text
    assert len(pieces) > 1  # really streamed
    assert result.backend == "ollama" and result.finish_reason == "stop" and not result.partial
    u = result.usage
    assert (u.prompt_tokens, u.completion_tokens) == (12, 7)
    assert (u.load_ms, u.prompt_ms, u.generation_ms, u.total_ms) == (100, 200, 500, 900)
    assert u.tokens_per_second == pytest.approx(14.0)
    (req,) = fake.chat_requests()
    assert req == {
        "model": "qwen3:0.6b",
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi?"}],
        "stream": True,
        "options": {"num_ctx": 2048, "temperature": 0.2, "seed": 7, "num_predict": 64},
        "keep_alive": "5m",
        "tools": [],  # the official client always sends the key
    }


def test_first_token_choices_and_a_prefilled_reply(fake):
    """The first token's choices (Ollama's ``logprobs``/``top_logprobs``, documented since 0.12.11)
    and a final assistant message sent as it is, for Ollama to continue."""
    chunks = chat_chunks("Paris [1]")
    chunks[0]["logprobs"] = [
        {
            "token": "Par",
            "logprob": -0.4,
            "top_logprobs": [{"token": "I", "logprob": -1.6}, {"token": "Par", "logprob": -0.4}],
        },  # fmt: skip
    ]
    fake.script.append({"chunks": chunks})
    fake.script.append({"chunks": chat_chunks("is [1]")})
    model = OllamaChat("qwen3:0.6b", fake.host, num_ctx=2048)
    result = model.chat(MSGS, options=ChatOptions(max_tokens=64, top_logprobs=5))
    assert [(c.token, c.logprob) for c in result.first_token] == [("Par", -0.4), ("I", -1.6)]
    prefilled = [*MSGS, Message(role="assistant", content="Par")]
    continued = model.chat(prefilled, options=ChatOptions(max_tokens=64))
    assert continued.text == "is [1]" and continued.first_token == []
    first, second = fake.chat_requests()
    assert first["logprobs"] is True and first["top_logprobs"] == 5
    assert "logprobs" not in second or second["logprobs"] is None
    assert second["messages"][-1] == {"role": "assistant", "content": "Par"}


def test_schema_is_sent_as_format_and_validated(fake):
    fake.script.append({"chunks": chat_chunks('{"answer": "Mars", "confidence": 0.9}')})
    value, result = structured(OllamaChat("qwen3:0.6b", fake.host), MSGS, Answer)
    assert value == Answer(answer="Mars", confidence=0.9)
    assert fake.chat_requests()[0]["format"] == Answer.model_json_schema()


def test_schema_repair_retry_then_typed_error(fake):
    fake.script += [
        {"chunks": chat_chunks('{"answer": "Mars"}')},
        {"chunks": chat_chunks('{"answer": "Mars", "confidence": 1}')},
    ]
    value, result = structured(OllamaChat("qwen3:0.6b", fake.host), MSGS, Answer)
    assert value.confidence == 1 and "schema repair retry" in result.notes
    retry = fake.chat_requests()[1]["messages"]
    assert retry[-2]["role"] == "assistant" and "did not match" in retry[-1]["content"]
    assert fake.chat_requests()[1]["options"]["repeat_penalty"] == 1.2
    assert "repeat_penalty" not in fake.chat_requests()[0]["options"]
    fake.script += [{"chunks": chat_chunks("nope")}, {"chunks": chat_chunks("still nope")}]
    with pytest.raises(SchemaError) as info:
        structured(OllamaChat("qwen3:0.6b", fake.host), MSGS, Answer)
    assert info.value.raw == "still nope"


def test_tools_and_tool_calls(fake):
    call = {"name": "search_documents", "arguments": {"query": "moons of Mars"}}
    fake.script.append({"chunks": chat_chunks("", tool_calls=[call])})
    tool = Tool(
        name="search_documents",
        description="Search the library",
        parameters={"type": "object", "properties": {"query": {"type": "string"}}},
    )
    result = OllamaChat("qwen3:0.6b", fake.host).chat(MSGS, tools=[tool])
    assert [(c.name, c.arguments) for c in result.tool_calls] == [
        ("search_documents", {"query": "moons of Mars"})
    ]
    assert fake.chat_requests()[0]["tools"] == [{"type": "function", "function": tool.model_dump()}]


def test_connection_dropped_mid_stream_keeps_partial_text(fake):
    fake.script.append({"chunks": chat_chunks("The answer is forty-two."), "drop_after": 3})
    result = OllamaChat("qwen3:0.6b", fake.host).chat(MSGS)
    assert result.partial and result.finish_reason == "interrupted"
    assert result.text == "The answer i"  # three 4-character chunks arrived
    assert any("partial answer" in n for n in result.notes)


def test_timeout_is_a_clear_error(fake):
    fake.script.append({"chunks": chat_chunks("late"), "delay": 2.0})
    with pytest.raises(ModelError, match="did not answer within the timeout"):
        OllamaChat("qwen3:0.6b", fake.host, timeout=0.5).chat(MSGS)


def test_model_not_found_says_how_to_pull(fake):
    with pytest.raises(ModelNotFound) as info:
        OllamaChat("llama9:70b", fake.host).chat(MSGS)
    assert "ollama pull llama9:70b" in info.value.hint


def test_daemon_not_running():
    host = closed_port_host()  # nothing listens here
    with pytest.raises(ModelUnavailable, match="Ollama is not running"):
        OllamaChat("qwen3:0.6b", host).chat(MSGS)
    with pytest.raises(ModelUnavailable):
        list_models(host)


def test_list_and_show(fake):
    assert [m["name"] for m in list_models(fake.host)] == ["qwen3:0.6b"]
    assert show_model(fake.host, "qwen3:0.6b")["context_length"] == 40960
    with pytest.raises(ModelNotFound):
        show_model(fake.host, "nope")


def test_context_overflow_trims_with_a_note(fake):
    fake.script.append({"chunks": chat_chunks("ok")})
    history = [Message(role="system", content="sys")] + [
        Message(role="user" if i % 2 == 0 else "assistant", content="x" * 600) for i in range(10)
    ]
    result = OllamaChat("qwen3:0.6b", fake.host, num_ctx=1024).chat(
        history, options=ChatOptions(max_tokens=200)
    )
    sent = fake.chat_requests()[0]["messages"]
    assert sent[0]["content"] == "sys" and len(sent) < len(history)
    assert any("dropped" in n for n in result.notes)


def test_a_stopped_turn_closes_the_request_while_the_server_processes_the_prompt(fake):
    """Ollama processes a prompt before its first chunk; stopping then closes the connection
    (so the server stops too) instead of waiting for it, and the next call works."""
    import threading

    from openbook.agents.kit import cancel

    fake.script.append({"delay": 30, "chunks": chat_chunks("never seen")})  # a long prompt
    fake.script.append({"chunks": chat_chunks("Paris.")})
    chat = OllamaChat("qwen3:0.6b", fake.host, timeout=60)
    token, done = cancel.CancelToken(), threading.Event()
    outcome: list[object] = []

    def ask() -> None:
        with cancel.scope(token):
            try:
                outcome.append(chat.chat([Message(role="user", content="q")]))
            except cancel.Cancelled as exc:
                outcome.append(exc)
        done.set()

    threading.Thread(target=ask, daemon=True).start()
    for _ in range(200):  # the request reached the server, which is still "processing"
        if fake.chat_requests():
            break
        threading.Event().wait(0.02)
    token.cancel()
    assert done.wait(5.0), "the call did not stop while the server was processing the prompt"
    assert isinstance(outcome[0], cancel.Cancelled)
    assert chat.chat([Message(role="user", content="q")]).text == "Paris."

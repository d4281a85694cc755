"""A model server that dies mid-answer: the turn fails visibly (trace ``error`` with the partial
text kept), and ``openbook ask`` exits non-zero within seconds (real HTTP server, real DB)."""

import time

import pytest

from openbook.assistant import tracing
from openbook.assistant.models.base import PartialAnswer
from openbook.assistant.models.ollama_backend import OllamaChat
from openbook.db import traces
from tests.ollama_fake import FakeOllama, chat_chunks
from tests.test_cli import cleanup_schema, run  # noqa: F401, F811 - a fixture, used below

ANSWER = "Mars has two moons, Phobos and Deimos, both small [1]."


def script_turn(fake, answer_step):
    fake.script += [
        {"chunks": chat_chunks('{"keywords": "Mars moons", "hypothetical_answer": ""}')},
        {"chunks": chat_chunks('{"scores": [1, 1, 1, 1]}')},
        answer_step,
    ]


@pytest.mark.parametrize(
    "step",
    [
        {"chunks": chat_chunks(ANSWER), "drop_after": 4},  # the connection drops (server killed)
        {"chunks": chat_chunks(ANSWER)[:-1]},  # the stream ends without its final message
    ],
    ids=["dropped", "no-final-message"],
)
def test_a_broken_stream_fails_the_turn_and_keeps_the_partial_text(turn, models, store, step):
    with FakeOllama(models=["qwen3:0.6b"]) as fake:
        for role in ("rewriter", "filter", "answerer"):
            turn.models[role] = OllamaChat("qwen3:0.6b", fake.host)
        script_turn(fake, step)
        tokens = []
        with pytest.raises(PartialAnswer) as info:
            turn.ask("What are the moons of Mars?", on_token=tokens.append)
    partial = "".join(tokens)
    assert partial and ANSWER.startswith(partial)  # all or part of it; either way not "ok"
    assert "broke off" in info.value.message and info.value.text == partial
    row, spans = tracing.load(store, traces.latest_id(store))
    assert row["status"] == "error" and row["answer"] == partial
    answer = next(s for s in spans if s["name"] == "answer")
    assert answer["status"] == "error" and "broke off" in answer["error"]


def test_ask_exits_non_zero_quickly_when_the_server_dies_mid_answer(
    capsys,
    overrides,
    corpus,
    cleanup_schema,  # noqa: F811
    monkeypatch,
):
    assert run(capsys, overrides, "ingest", str(corpus))[0] == 0
    with FakeOllama(models=["qwen3:0.6b"]) as fake:
        monkeypatch.setenv("OLLAMA_HOST", fake.host)
        monkeypatch.setenv("OPENBOOK_MODELS__DEFAULT__BACKEND", "ollama")
        monkeypatch.setenv("OPENBOOK_MODELS__DEFAULT__MODEL", "qwen3:0.6b")
        script_turn(fake, {"chunks": chat_chunks(ANSWER), "drop_after": 4})
        started = time.perf_counter()
        code, out, err = run(capsys, overrides, "ask", "What are the moons of Mars?")
        took = time.perf_counter() - started
    assert code != 0 and "broke off" in err and "ask again" in err
    assert out.strip() and ANSWER.startswith(out.strip())  # what streamed stays on screen
    assert took < 5

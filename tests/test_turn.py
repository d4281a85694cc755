"""A whole turn with scripted models on the real database and embedder: steps, fallbacks,
citations, traces, sessions, bad input."""

import pytest

from openbook.assistant import tracing
from openbook.assistant.errors import OpenbookError
from openbook.assistant.turn import Turn
from openbook.db import sessions


def test_full_turn_records_every_step_and_checks_citations(turn, models, store):
    models["rewriter"].enqueue(
        {"keywords": "Mars moons Phobos Deimos", "hypothetical_answer": "Mars has two moons."}
    )
    models["filter"].enqueue({"scores": [0.9, 0.8, 0.1, 0.1][:4]})
    models["answerer"].enqueue("Mars has two moons, Phobos and Deimos [1]. See also [9].")
    tokens = []
    r = turn.ask("What are the moons of Mars?", on_token=tokens.append)
    assert "Phobos" in r.answer and "[9]" not in r.answer and "".join(tokens).startswith("Mars")
    assert [c.n for c in r.citations] == [1] and r.citations[0].source.endswith("mars.md")
    assert r.sources and not r.declined
    row, spans = tracing.load(store, r.trace_id)
    assert row["status"] == "ok" and row["answer"] == r.answer
    names = [s["name"] for s in spans]
    assert names[:2] == ["plan", "search_documents"]
    assert {"split", "rewrite", "retrieve", "filter", "distill", "answer"} <= set(names)
    by = {s["name"]: s for s in spans}
    assert by["split"]["parent_id"] == by["search_documents"]["id"]
    assert by["answer"]["model"] == "fake-answerer" and by["answer"]["prompt"]
    assert by["retrieve"]["chunks"][0]["bm25_rank"] is not None
    # The trace says how the question and its rewrites were fused.
    note = "fusion: absolute alpha=0.5 (default); rewrites weighted 0.25, the question's top hit kept"
    assert f"{note} at rank <= 1" in by["retrieve"]["notes"]
    assert any("removed invalid citation(s): [9]" in n for n in by["answer"]["notes"])
    retrieve_in = by["retrieve"]["input"]["queries"]
    assert retrieve_in == ["What are the moons of Mars?", "Mars moons Phobos Deimos", "Mars has two moons."]


class _ReadingRewriter:
    """A reading rewriter's model: prefers the passage that mentions greenhouse."""

    name, backend = "test-picker", "in-process"

    def scores(self, passages, question):
        return [-1.0 if "greenhouse" in p.lower() else -3.0 for p in passages]


def test_a_reading_rewriters_texts_are_weighed_as_its_settings_say(turn, models, store):
    models["rewriter"] = _ReadingRewriter()
    s = turn.retriever.settings
    s.read_anchor_rank, s.read_rewrite_weight = 3, 0.5  # set apart from a writing rewriter's
    s.read_order_weight = 2.0
    models["filter"].enqueue("junk", "junk")  # kept as found (a fallback): not what this tests
    models["answerer"].enqueue("Venus is hot [1].")
    r = turn.ask("Why is Venus so hot?")
    by = {s["name"]: s for s in tracing.load(store, r.trace_id)[1]}
    assert by["rewrite"]["model"] == "test-picker"
    order = by["rewrite"]["output"]["read_order"]  # the hits it read, the greenhouse one first
    assert order and by["retrieve"]["input"]["read"] == order
    assert order[0] == by["rewrite"]["output"]["picked_chunk"]
    note = (
        "rewrites weighted 0.5, the reading rewriter's order of its hits weighted 2, "
        "the question's top hit kept at rank <= 3"
    )
    assert note in " ".join(by["retrieve"]["notes"])


def test_a_librarys_reading_choice_counts_where_the_settings_leave_it_unset(turn, models, store):
    """``finetune rewriter --install`` stores the reading settings chosen on held-out questions
    with the library; a turn uses them unless the user set them, and its trace says so."""
    from openbook.assistant.retrieval.retriever import READING_KEY
    from openbook.db import chunks as chunk_rows
    from openbook.db import meta

    models["rewriter"] = _ReadingRewriter()
    meta.put(store, READING_KEY, {"read_hits": 2, "anchor_rank": 3, "order_weight": 2.0, "why": "test"})
    s, p = turn.retriever.settings, turn.settings.pipeline
    assert (p.read_hits, s.read_anchor_rank, s.read_order_weight) == (None, None, None)  # unset
    assert turn.retriever.reading(p) == (2, 3, 2.0, "chosen at install")  # as `openbook status` shows

    def note() -> str:
        models["filter"].enqueue("junk", "junk")
        models["answerer"].enqueue("Venus is hot [1].")
        r = turn.ask("Why is Venus so hot?")
        by = {s["name"]: s for s in tracing.load(store, r.trace_id)[1]}
        assert by["retrieve"]["input"]["read"]  # a reading rewrite, searched with its order
        read.append(len(by["retrieve"]["input"]["read"]))  # the hits it read
        return " ".join(by["retrieve"]["notes"])

    read: list[int] = []
    chosen = note()
    assert read == [2]  # the library's choice of how many hits to read
    assert "order of its hits weighted 2, the question's top hit kept at rank <= 3" in chosen
    assert "(reading settings chosen for this library at install)" in chosen
    p.read_hits, s.read_anchor_rank, s.read_order_weight = 3, 1, 0.0  # the user's settings win
    assert turn.retriever.reading(p) == (3, 1, 0.0, "set")
    given = note()
    assert "order of its hits" not in given and "rank <= 1" in given and "chosen" not in given
    assert read[-1] == 3
    p.read_hits = s.read_anchor_rank = s.read_order_weight = None
    s.calibrated = False  # the library's own values switched off: the defaults
    assert "order of its hits" not in note() and turn.retriever.reading(p) == (10, 1, 0.0, "default")
    assert read[-1] == min(10, chunk_rows.count(store))  # 10, or all the test library has


def test_fallbacks_are_recorded(turn, models, store):
    models["splitter"].enqueue("junk", "junk")
    models["rewriter"].enqueue("junk", "junk")
    models["filter"].enqueue({"scores": []})
    models["answerer"].enqueue("Venus is hot [1].")
    r = turn.ask("Why is Venus hot and what is its air made of?")
    _, spans = tracing.load(store, r.trace_id)
    status = {s["name"]: s["status"] for s in spans}
    assert status["split"] == status["rewrite"] == status["filter"] == "fallback"
    assert "Venus" in r.answer


def test_ablation_switches_and_plain(turn, models, store, settings):
    models["answerer"].enqueue("Tides come from the Moon [1].", "Plain answer [1].")
    p = settings.pipeline.model_copy(
        update={"split": False, "rewrite": False, "hyde": False, "filter": False, "distill": False}
    )
    r = turn.ask("What causes tides?", pipeline=p)
    names = {s["name"] for s in tracing.load(store, r.trace_id)[1]}
    assert not names & {"split", "rewrite", "filter", "distill"}
    plain = turn.ask("What causes tides?", plain=True)
    assert [s["name"] for s in tracing.load(store, plain.trace_id)[1]] == ["retrieve", "answer", "support"]
    assert models["splitter"].calls == []


def test_no_evidence_declines_without_calling_the_answerer(turn, models, settings):
    models["rewriter"].enqueue({"keywords": "football world cup 1998", "hypothetical_answer": ""})
    r = turn.ask("Who won the 1998 football World Cup?")
    assert r.declined and "could not find" in r.answer and r.sources == []
    assert models["answerer"].calls == []


def test_bad_input(turn, store, embedder, settings, models):
    with pytest.raises(OpenbookError, match="empty"):
        turn.ask("   ")
    from openbook.assistant.settings import load_settings
    from openbook.assistant.store import Store

    empty = load_settings(
        {"database": {**settings.database.model_dump(mode="json"), "db_schema": store.schema + "_empty"}}
    )
    with Store(empty, embedding=embedder.identity) as s2:
        try:
            with pytest.raises(OpenbookError) as info:
                Turn(s2, embedder, empty, models).ask("Why?")
            assert "library is empty" in info.value.message and "openbook ingest" in info.value.hint
        finally:
            with s2.connection() as conn:
                conn.execute(f'DROP SCHEMA "{s2.schema}" CASCADE')
                conn.commit()


def test_sessions_keep_history_for_follow_ups(turn, models, store):
    models["rewriter"].enqueue({"keywords": "Mars", "hypothetical_answer": ""})
    models["filter"].enqueue({"scores": [1, 1, 1, 1]})
    models["answerer"].enqueue("Mars is the fourth planet [1].")
    turn.ask("What is Mars like", session="astro")
    models["planner"].enqueue(
        {"tool": "search_documents", "arguments": {"queries": ["What are the moons of Mars?"]}}
    )
    models["rewriter"].enqueue({"keywords": "Mars moons", "hypothetical_answer": ""})
    models["filter"].enqueue({"scores": [1, 1, 1, 1]})
    models["answerer"].enqueue("Phobos and Deimos [1].")
    r = turn.ask("What are its moons?", session="astro")
    planner_prompt = models["planner"].calls[0]["messages"][-1].content
    assert "What is Mars like" in planner_prompt and "Mars is the fourth planet" in planner_prompt
    assert r.question == "What are its moons?"
    msgs = sessions.recent_messages(store, sessions.find(store, "astro"), 10)
    assert [m["role"] for m in msgs] == ["user", "assistant", "user", "assistant"]


def test_overlong_question_is_trimmed_with_a_note(turn, models, store):
    models["answerer"].enqueue("Mars [1].")
    r = turn.ask("Tell me about Mars. " + "blah " * 1000, plain=True)
    assert r.notes and "trimmed from 5019 to 2000 characters" in r.notes[0]
    row, _ = tracing.load(store, r.trace_id)
    assert len(row["question"]) == 2000


def test_single_questions_are_not_split(turn, models, store):
    models["rewriter"].enqueue({"keywords": "tides", "hypothetical_answer": ""})
    models["filter"].enqueue({"scores": [1, 1, 1, 1]})
    models["answerer"].enqueue("The Moon [1].")
    r = turn.ask("What causes tides?")
    split = next(s for s in tracing.load(store, r.trace_id)[1] if s["name"] == "split")
    assert models["splitter"].calls == [] and "not split" in split["notes"][0]
    assert split["output"] == {"sub_questions": ["What causes tides?"]}


def test_a_fine_tuned_reader_gets_no_relevance_filter_unless_set(turn, models, store, settings):
    from openbook.assistant.models.resolve import READER_NAME
    from openbook.assistant.turn import step_switches
    from tests.fakes import FakeChat

    p = settings.pipeline
    assert p.filter is None  # unset: the answer model decides
    assert step_switches(p, models) == {name: True for name in step_switches(p, models)}
    reader = FakeChat(READER_NAME)
    switches = step_switches(p, {**models, "answerer": reader})
    assert not switches["filter"] and switches["distill"] and switches["split"] and switches["rewrite"]
    forced = p.model_copy(update={"filter": True})
    assert step_switches(forced, {**models, "answerer": reader})["filter"] is True
    own = FakeChat("my-reader")  # a reader the user trained: any LoRA adapter on the answerer
    own.lora = "my-reader.gguf"
    assert not step_switches(p, {**models, "answerer": own})["filter"]

    turn.models["answerer"] = reader.enqueue("Tides come from the Moon [1].")
    r = turn.ask("What causes tides?", pipeline=p.model_copy(update={"rewrite": False, "hyde": False}))
    row, spans = tracing.load(store, r.trace_id)
    names = {s["name"] for s in spans}
    assert "filter" not in names and "distill" in names
    assert models["filter"].calls == []
    assert row["metadata"]["pipeline"]["filter"] is False  # the trace records what applied


def test_the_bundled_base_rewriter_is_not_asked_unless_set(turn, models, store, settings):
    from openbook.assistant.models.resolve import BUNDLED_NAME, REWRITER_NAME
    from openbook.assistant.turn import step_switches
    from tests.fakes import FakeChat

    p = settings.pipeline
    assert p.rewrite is None and p.hyde is None  # unset: the rewriter model decides
    base = {**models, "rewriter": FakeChat(BUNDLED_NAME)}
    switches = step_switches(p, base)
    assert not switches["rewrite"] and not switches["hyde"] and switches["split"] and switches["distill"]
    assert step_switches(p.model_copy(update={"rewrite": True}), base)["rewrite"] is True
    assert step_switches(p, {**models, "rewriter": FakeChat(REWRITER_NAME)})["rewrite"] is True  # learned
    # A turn with the base rewriter searches the question alone, and the trace says so.
    turn.models["rewriter"] = base["rewriter"]
    models["filter"].enqueue({"scores": [0.9] * 6})
    models["answerer"].enqueue("Tides come from the Moon [1].")
    r = turn.ask("What causes tides?")
    row, spans = tracing.load(store, r.trace_id)
    assert "rewrite" not in {s["name"] for s in spans} and base["rewriter"].calls == []
    assert [s["input"]["queries"] for s in spans if s["name"] == "retrieve"] == [["What causes tides?"]]
    assert row["metadata"]["pipeline"]["rewrite"] is False and not r.declined


DECLINE = "I could not find the answer to that in your documents."


def no_rewrites(settings, **update):  # noqa: ANN001, ANN201
    base = {"rewrite": False, "hyde": False, "filter": False}
    return settings.pipeline.model_copy(update={**base, **update})


def test_a_decline_from_the_note_is_held_back_and_the_passages_are_reread(turn, models, store, settings):
    models["answerer"].enqueue(DECLINE, "Phobos and Deimos [1].")
    tokens: list[str] = []
    r = turn.ask("What are the moons of Mars?", pipeline=no_rewrites(settings), on_token=tokens.append)
    assert r.answer == "Phobos and Deimos [1]." and not r.declined
    assert "".join(tokens) == r.answer  # the user never saw the decline
    _, spans = tracing.load(store, r.trace_id)
    by = {s["name"]: s for s in spans}
    assert [s["name"] for s in spans][-4:] == ["distill", "answer", "reread", "support"]
    assert any("held back" in n for n in by["answer"]["notes"])
    note = [p["text"] for p in by["answer"]["input"]["passages"]]
    whole = [p["text"] for p in by["reread"]["input"]["passages"]]
    assert whole != note and any("Phobos" in t for t in whole)
    assert whole[0] in models["answerer"].calls[1]["messages"][-1].content


def test_without_reread_or_note_a_decline_stands_and_streams(turn, models, store, settings):
    for update in ({"reread": False}, {"distill": False}):
        models["answerer"].enqueue(DECLINE)
        tokens: list[str] = []
        r = turn.ask(
            "What are the moons of Mars?", pipeline=no_rewrites(settings, **update), on_token=tokens.append
        )
        assert r.declined and "".join(tokens) == DECLINE
        assert r.sources  # what it read and declined from stays listed
        names = [s["name"] for s in tracing.load(store, r.trace_id)[1]]
        assert names[-2:] == ["answer", "support"] and "reread" not in names
    assert not models["answerer"].queue


def test_an_answer_from_the_note_is_not_reread_and_a_reread_decline_streams(turn, models, store, settings):
    models["answerer"].enqueue("Phobos and Deimos [1].")
    r = turn.ask("What are the moons of Mars?", pipeline=no_rewrites(settings))
    assert "reread" not in {s["name"] for s in tracing.load(store, r.trace_id)[1]}
    models["answerer"].enqueue(DECLINE, DECLINE)
    tokens: list[str] = []
    r = turn.ask("What are the moons of Mars?", pipeline=no_rewrites(settings), on_token=tokens.append)
    assert r.declined and "".join(tokens) == DECLINE  # once: the reread's


def test_a_copied_answer_from_an_unrelated_sentence_is_declined_and_plain_keeps_it(
    turn, models, store, settings
):
    p = no_rewrites(settings, distill=False)
    models["answerer"].enqueue("a runaway greenhouse effect [1]", "a runaway greenhouse effect [1]")
    tokens: list[str] = []
    r = turn.ask("What raises the tides?", pipeline=p, on_token=tokens.append)
    assert r.declined and r.answer == DECLINE and "".join(tokens) == DECLINE
    by = {s["name"]: s for s in tracing.load(store, r.trace_id)[1]}
    assert any(n.startswith("declined 'a runaway greenhouse effect [") for n in by["answer"]["notes"])
    plain = turn.ask("What raises the tides?", pipeline=p, plain=True)
    assert plain.answer.startswith("a runaway greenhouse effect") and not plain.declined
    off = p.model_copy(update={"support": 0.0})
    models["answerer"].enqueue("a runaway greenhouse effect [1]")
    assert not turn.ask("What raises the tides?", pipeline=off).declined


def test_an_unsupported_copy_from_the_note_is_declined_without_a_reread(turn, models, store, settings):
    models["answerer"].enqueue("a runaway greenhouse effect [2]")
    tokens: list[str] = []
    r = turn.ask("What raises the tides?", pipeline=no_rewrites(settings), on_token=tokens.append)
    assert r.declined and "".join(tokens) == DECLINE and not models["answerer"].queue
    row, spans = tracing.load(store, r.trace_id)
    by = {s["name"]: s for s in spans}
    assert "reread" not in by and by["answer"]["output"]["unsupported"].startswith("a runaway greenhouse")
    assert any("greenhouse" in p["text"] for p in by["answer"]["input"]["passages"])  # it was in the note


def test_an_explanatory_question_is_answered_from_its_sentence_not_the_readers_wrong_copy(
    turn, models, store, settings
):
    """The same wrong copy for "What causes tides?" (explanatory): the answer is the sentence that
    shares most of the question's words, which the support check then passes."""
    models["answerer"].enqueue("a runaway greenhouse effect [2]")
    r = turn.ask("What causes tides?", pipeline=no_rewrites(settings))
    assert r.answer.startswith("Tides are caused mainly by the Moon's gravity.") and not r.declined
    by = {s["name"]: s for s in tracing.load(store, r.trace_id)[1]}
    assert any("the reader's answer was 'a runaway greenhouse effect'" in n for n in by["answer"]["notes"])
    assert r.support and "Moon's gravity" in r.support[0].quote


def test_the_gate_is_the_librarys_calibrated_one_unless_set(turn, models, store, settings):
    from openbook.assistant.retrieval.retriever import CALIBRATION_KEY
    from openbook.db import chunks as chunk_rows
    from openbook.db import meta

    def ask(pipeline=None):
        models["rewriter"].enqueue({"keywords": "tides Moon", "hypothetical_answer": ""})
        models["filter"].enqueue({"scores": [0.9] * 6})
        models["answerer"].enqueue("The Moon's gravity pulls the oceans [1].")
        r = turn.ask("What causes the tides on Earth?", pipeline=pipeline)
        for m in models.values():
            m.queue.clear()  # a turned-away question leaves the filter's and answer's replies
        row, spans = tracing.load(store, r.trace_id)
        notes = [n for s in spans if s["name"] == "retrieve" for n in s["notes"] if "evidence gate" in n]
        return r, row["metadata"], notes

    r, metadata, notes = ask()
    assert not r.declined and metadata["gate"] == "default" and metadata["pipeline"]["max_distance"] == 0.7
    assert notes and "(<= 0.7)" in notes[0]
    # `openbook tune retrieval` stored a gate for this library: turns use it (here, so strict
    # that the question is turned away, and the answer model is not asked).
    identity = turn.retriever.embedder.identity.model
    calibration = {"gate": {"max_distance": 0.05}, "chunks": chunk_rows.count(store), "embedding": identity}
    meta.put(store, CALIBRATION_KEY, calibration)
    calls = len(models["answerer"].calls)
    r, metadata, notes = ask()
    assert r.declined and metadata["gate"] == "calibrated" and metadata["pipeline"]["max_distance"] == 0.05
    assert "(> 0.05)" in notes[0] and len(models["answerer"].calls) == calls
    # An explicit setting wins over the library's value.
    r, metadata, _ = ask(settings.pipeline.model_copy(update={"max_distance": 0.9}))
    assert not r.declined and metadata["gate"] == "set"
    # A calibration measured with another embedding model's distances does not apply.
    meta.put(store, CALIBRATION_KEY, {**calibration, "embedding": "another-model"})
    r, metadata, _ = ask()
    assert not r.declined and metadata["gate"] == "default"


def test_a_short_answer_whose_citation_is_moved_streams_once_as_checked(turn, models, store, settings):
    """The reader cites a passage that lacks its words: the user sees the answer with the
    citation of the passage that holds them, not the reader's number and then a correction."""
    p = no_rewrites(settings, distill=False)
    models["answerer"].enqueue("Phobos and Deimos [1].")
    r = turn.ask("What are the moons of Mars?", pipeline=p)
    passages = {s["name"]: s for s in tracing.load(store, r.trace_id)[1]}["answer"]["input"]["passages"]
    moons = next(x["n"] for x in passages if "Phobos" in x["text"])
    other = next(x["n"] for x in passages if "Phobos" not in x["text"])
    models["answerer"].enqueue(f"Phobos and Deimos [{other}]")
    tokens: list[str] = []
    r = turn.ask("What are the moons of Mars?", pipeline=p, on_token=tokens.append)
    assert r.answer == f"Phobos and Deimos [{moons}]" and "".join(tokens) == r.answer
    notes = {s["name"]: s for s in tracing.load(store, r.trace_id)[1]}["answer"]["notes"]
    assert f"citation [{other}] → [{moons}]: the answer's words are in passage {moons}" in notes

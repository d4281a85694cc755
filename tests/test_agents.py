"""Each agent step with a scripted model: valid output, junk output, and the fallback; the
step interface itself (prompts match inputs, every step declared the same way)."""

from dataclasses import replace

import numpy as np
import pytest

from openbook.agents import answerer, distiller, planner, rewriter, splitter
from openbook.agents import filter as filter_step
from openbook.agents.kit.evidence import Passage
from openbook.agents.kit.runner import execute, steps_of
from openbook.agents.kit.step import Found, HistoryTurn, Piece, Step, StepContext, TurnState
from openbook.agents.kit.trace import NullTracer
from openbook.agents.pipeline import CLOSED_BOOK, GIVEN_EVIDENCE, ORDINARY, PLAIN, SEARCH, TURN
from openbook.assistant.models.base import ModelUnavailable
from openbook.prompts import source, text, variables
from tests.fakes import FakeChat, hits_for

STEPS = {
    "splitter": splitter.SplitInput,
    "rewriter": rewriter.RewriteInput,
    "filter": filter_step.FilterInput,
    "distiller": distiller.DistillInput,
    "answerer": answerer.AnswerInput,
    "planner": planner.PlanInput,
}
PASSAGES = [
    Passage(n=1, text="Mars has two moons, Phobos and Deimos."),
    Passage(n=2, text="Venus is very hot. Its air is thick."),
]


def ctx_for(role: str, fake: FakeChat, **settings) -> StepContext:
    tracer = NullTracer()
    return StepContext(models={role: fake}, settings=settings, tracer=tracer)


def run_step(step: Step, ctx: StepContext, inp):
    """Run one step inside a span, as the runner does; (output, span)."""
    with ctx.tracer.span(step.name, input=inp) as span:
        out = step.run(ctx.within(span), inp)
    return out, span


def prompt_fields(model):
    """The input's fields a prompt sees: a field excluded from the dump (the rewrite step's
    filters) is for the step, not the prompt."""
    return {n for n, f in model.model_fields.items() if not f.exclude}


@pytest.mark.parametrize("name", sorted(STEPS))
def test_prompt_variables_match_the_input_model(name):
    assert variables(source(name)) == prompt_fields(STEPS[name])


def test_every_declared_step_has_its_parts():
    seen = list(steps_of(TURN + PLAIN + SEARCH + CLOSED_BOOK + GIVEN_EVIDENCE))
    assert {s.name for s in seen} >= {
        "plan",
        "search_documents",
        "open_document",
        "split",
        "rewrite",
        "retrieve",
        "filter",
        "distill",
        "answer",
        "reread",
    }
    for step in seen:
        assert step.Input is not None and step.Output is not None and step.Settings is not None
        if step.prompt is not None:
            assert variables(source(step.prompt)) == prompt_fields(step.Input), step


def test_splitter_caps_and_dedups():
    moons, rings, tides = "Which moons has Mars?", "Which rings has Saturn?", "What tides has Earth?"
    fake = FakeChat().enqueue({"sub_questions": [moons, moons, rings, tides]})
    out, _ = run_step(
        splitter.Split(),
        ctx_for("splitter", fake),
        splitter.SplitInput(question="Which moons has Mars and rings Saturn and tides Earth?", max_parts=2),
    )
    assert out.sub_questions == [moons, rings]
    assert fake.calls[0]["schema"] == splitter.SplitOutput.model_json_schema()


@pytest.mark.parametrize(
    "junk",
    [
        ["..."],  # the prompt's placeholder, copied
        ["Arrokoth", "2006"],  # single words cut out of the question
        ["Solar power is a technology that uses solar energy to generate electricity."],  # an answer
    ],
)
def test_sub_questions_not_made_of_the_questions_words_are_dropped(junk):
    question = "Which spacecraft was launched in 2006 and flew past Arrokoth?"
    fake = FakeChat().enqueue({"sub_questions": junk})
    out, span = run_step(splitter.Split(), ctx_for("splitter", fake), splitter.SplitInput(question=question))
    assert out.sub_questions == [question] and span.status == "fallback"
    assert any("not made of the question's words" in n for n in span.notes)
    kept = FakeChat().enqueue({"sub_questions": ["Which spacecraft was launched in 2006?", *junk]})
    out, _ = run_step(splitter.Split(), ctx_for("splitter", kept), splitter.SplitInput(question=question))
    assert out.sub_questions == ["Which spacecraft was launched in 2006?"]


def test_compound_detection():
    assert splitter.looks_compound("Why is Venus hot and how big is it?")
    assert splitter.looks_compound("What is Io? What is Europa?")
    assert not splitter.looks_compound("Why is Venus hot?")


def test_splitter_junk_falls_back_to_the_question():
    fake = FakeChat().enqueue("not json", "still not json")
    out, span = run_step(
        splitter.Split(), ctx_for("splitter", fake), splitter.SplitInput(question="Why is Venus hot?")
    )
    assert out.sub_questions == ["Why is Venus hot?"] and len(fake.calls) == 2  # one repair
    assert span.status == "fallback" and "invalid output" in span.notes[-1]


def test_rewriter_model_down_falls_back():
    fake = FakeChat().enqueue(ModelUnavailable("Ollama is not running"))
    out, span = run_step(
        rewriter.Rewrite(), ctx_for("rewriter", fake), rewriter.RewriteInput(question="moons of Mars")
    )
    assert out.keywords == "moons of Mars" and out.hypothetical_answer == ""
    assert span.status == "fallback" and "Ollama is not running" in span.notes[-1]


def test_filter_scores_threshold_and_wrong_count_fallback():
    inp = filter_step.FilterInput(question="moons of Mars?", passages=PASSAGES)
    out, _ = run_step(
        filter_step.Filter(), ctx_for("filter", FakeChat().enqueue({"scores": [0.9, 0.1]})), inp
    )
    assert out.kept(PASSAGES) == [1]
    fake = FakeChat().enqueue({"scores": [0.9]})
    out, span = run_step(filter_step.Filter(), ctx_for("filter", fake), inp)
    assert out.kept(PASSAGES) == [1, 2] and span.status == "fallback"  # one score for two: keep top-k
    assert fake.calls[0]["options"].max_tokens == 20 + 8 * 2  # the declared budget


def test_filter_threshold_is_a_setting():
    step, fake = filter_step.Filter(), FakeChat().enqueue({"scores": [0.9, 0.3]})
    ctx = ctx_for("filter", fake, filter_threshold=0.2)
    state = TurnState(question="q", piece=Piece.of("q"))
    state.piece.hits = hits_for(PASSAGES)
    execute(step, state, ctx)
    assert [h.chunk_id for h in state.piece.hits] == [1, 2]


def test_distiller_drops_facts_citing_unknown_passages():
    inp = distiller.DistillInput(question="moons?", passages=PASSAGES)
    fake = FakeChat().enqueue(
        {"facts": [{"fact": "Mars has Phobos.", "source": 1}, {"fact": "Made up.", "source": 7}]},
        {"facts": [{"fact": "Made up.", "source": 7}]},
    )
    ctx = ctx_for("distiller", fake, distill_mode="model")
    out, _ = run_step(distiller.Distill(), ctx, inp)
    assert [(f.fact, f.source) for f in out.facts] == [("Mars has Phobos.", 1)]
    out, span = run_step(distiller.Distill(), ctx, inp)
    assert [f.source for f in out.facts] == [1, 2] and span.status == "fallback"  # first sentences


def test_extractive_distiller_picks_the_closest_sentences(embedder):
    inp = distiller.DistillInput(question="What are the moons of Mars called?", passages=PASSAGES)
    out = distiller.extract(embedder.embed_batch, inp, max_facts=1)
    assert [(f.fact, f.source) for f in out.facts] == [("Mars has two moons, Phobos and Deimos.", 1)]


def plan(fake: FakeChat, inp: planner.PlanInput) -> planner.PlanOutput:
    step = planner.Planner()
    skipped = step.skip(TurnState(question=inp.question, history=inp.history), inp)
    return skipped[1] if skipped else run_step(step, ctx_for("planner", fake), inp)[0]


def test_planner_small_talk_and_first_question_need_no_model():
    fake = FakeChat()
    thanks = plan(fake, planner.PlanInput(question="thanks!"))
    assert thanks.reply == text("reply_thanks") and not thanks.tool_calls
    first = plan(fake, planner.PlanInput(question="Why is Venus hot?"))
    assert [(c.name, c.arguments) for c in first.tool_calls] == [
        ("search_documents", {"queries": ["Why is Venus hot?"]})
    ]
    assert first.decided_by == "rule" and fake.calls == []


HISTORY = [
    HistoryTurn(role="user", content="Tell me about Mars."),
    HistoryTurn(role="assistant", content="Mars is the fourth planet."),
]


def test_planner_calls_tools_to_make_follow_ups_self_contained():
    fake = FakeChat().enqueue(
        {"tool": "search_documents", "arguments": {"queries": ["What are the moons of Mars?"]}}
    )
    step = planner.Planner()
    ctx = replace(ctx_for("planner", fake), tools=[t.spec() for t in ORDINARY[0].tools])
    out, span = run_step(step, ctx, planner.PlanInput(question="What are its moons?", history=HISTORY))
    assert out.tool_calls[0].arguments == {"queries": ["What are the moons of Mars?"]}
    assert "Mars is the fourth planet." in fake.calls[0]["messages"][-1].content
    assert {t.name for t in fake.calls[0]["tools"]} == {"search_documents", "open_document"}
    assert span.prompt and span.status == "ok"


def test_a_planner_reply_without_a_search_is_never_the_answer():
    made_up = "The answer to this question is: Cassini [7][1] was launched in October 1997."
    out = plan(
        FakeChat().enqueue(made_up),
        planner.PlanInput(question="How does a comet get its tail?", history=HISTORY),
    )
    assert out.reply == "" and out.decided_by == "fallback"
    assert out.tool_calls[0].arguments == {"queries": ["How does a comet get its tail?"]}


def test_planner_without_a_tool_call_or_reply_searches_the_follow_up_read_by_rule_or_as_asked():
    out = plan(FakeChat().enqueue(""), planner.PlanInput(question="What are its moons?", history=HISTORY))
    assert out.tool_calls[0].arguments == {"queries": ["What are Mars's moons?"]}  # "Tell me about Mars."
    assert out.decided_by == "fallback"
    out = plan(FakeChat().enqueue(""), planner.PlanInput(question="What are their moons?", history=HISTORY))
    assert out.tool_calls[0].arguments == {"queries": ["What are their moons?"]}  # only "it" is read


def test_evidence_is_one_fenced_format():
    step = answerer.Answer()
    prompt = step.render(answerer.AnswerInput(question="q", passages=PASSAGES))
    assert '<passage n="1">Mars has two moons' in prompt
    assert "<passage>" in text("system") and "never instructions" in text("system")


def test_fake_embedder_shape(embedder):
    assert embedder.embed_batch(["a", "b"]).shape == (2, 384)
    assert np.allclose(np.linalg.norm(embedder.embed_batch(["a"]), axis=1), 1, atol=1e-4)


def test_self_contained_questions_skip_the_planner_model_even_with_history():
    history = [
        HistoryTurn(role="user", content="Tell me about Venus."),
        HistoryTurn(role="assistant", content="Venus is hot."),
    ]
    fake = FakeChat()
    out = plan(fake, planner.PlanInput(question="Who discovered Pluto?", history=history))
    assert out.tool_calls[0].arguments == {"queries": ["Who discovered Pluto?"]}
    assert fake.calls == []
    assert planner.looks_follow_up("What are its moons?") and planner.looks_follow_up("Why?")


def test_a_quote_then_answer_reply_keeps_the_answer_and_the_quote_for_the_trace():
    from openbook.agents.answerer import split_quote

    assert split_quote('Quote [2]: "Titan is the largest."\nAnswer: Titan [2]') == (
        "Titan [2]",
        '[2] "Titan is the largest."',
    )
    for other in ("Titan [2]", 'Quote [2]: "Titan is the largest."', "Answer: Titan [2]"):
        assert split_quote(other) == (other, None)  # anything else is left as it is


class _Shelf:
    """A library whose search returns the given hits."""

    def __init__(self, hits, nearest=None):
        self.hits, self.nearest, self.asked = hits, nearest, []

    def search(self, queries, k, filters=None, read=False):
        return Found(self.hits[:k], "fusion: test")

    def nearest_distance(self, text, filters=None):
        self.asked.append(text)
        return self.nearest


def test_evidence_gate_drops_far_chunks_and_keeps_those_it_cannot_judge():
    from openbook.agents.retrieve import Retrieve

    passages = [Passage(n=i, text=f"passage {i}") for i in (1, 2, 3)]
    hits = hits_for(passages)
    hits[1].vector_distance, hits[2].vector_distance = 0.9, None  # far; no distance (BM25 mode)
    ctx = StepContext(
        models={}, settings={"max_distance": 0.65, "gate": "chunk"}, tracer=NullTracer(), library=_Shelf(hits)
    )
    state = TurnState(question="q", piece=Piece.of("q"))
    execute(Retrieve(), state, ctx)
    assert [h.chunk_id for h in state.piece.hits] == [1, 3]
    state = TurnState(question="q", piece=Piece.of("q"))
    execute(Retrieve(plain=True), state, ctx)
    assert [h.chunk_id for h in state.piece.hits] == [1, 2, 3]  # the plain baseline has no gate


def test_nearest_gate_keeps_a_piece_whole_or_drops_it_whole():
    from openbook.agents.retrieve import Retrieve

    hits = hits_for([Passage(n=i, text=f"passage {i}") for i in (1, 2)])
    hits[0].vector_distance, hits[1].vector_distance = 0.6, 0.9
    state = TurnState(question="q", piece=Piece.of("q"))
    settings = {"max_distance": 0.65, "gate": "nearest"}
    execute(
        Retrieve(),
        state,
        StepContext(models={}, settings=settings, tracer=NullTracer(), library=_Shelf(hits)),
    )
    assert [h.chunk_id for h in state.piece.hits] == [1, 2]  # the nearest is close enough: both kept
    hits[0].vector_distance = 0.7
    state = TurnState(question="q", piece=Piece.of("q"))
    execute(
        Retrieve(),
        state,
        StepContext(models={}, settings=settings, tracer=NullTracer(), library=_Shelf(hits)),
    )
    assert state.piece.hits == []


def test_question_gate_judges_the_question_not_its_rewrites_nor_the_retrieved_chunks():
    from openbook.agents.retrieve import Retrieve

    hits = hits_for([Passage(n=i, text=f"passage {i}") for i in (1, 2)])
    hits[0].vector_distance, hits[1].vector_distance = 0.3, 0.9  # near a rewrite: not what counts

    def run(nearest):
        shelf = _Shelf(hits, nearest)
        state = TurnState(question="q", piece=Piece(text="why?", queries=["why?", "keywords", "a passage"]))
        ctx = StepContext(models={}, settings={"max_distance": 0.65, "gate": "question"},
                          tracer=NullTracer(), library=shelf)  # fmt: skip
        execute(Retrieve(), state, ctx)
        return shelf.asked, [h.chunk_id for h in state.piece.hits]

    assert run(0.6) == (["why?"], [1, 2])  # the question is near the library: the piece keeps all
    assert run(0.7) == (["why?"], [])  # far from the question, however near a rewrite came
    assert run(None) == (["why?"], [1, 2])  # nothing embedded (BM25 mode): cannot judge, kept


def test_a_held_decline_is_dropped_and_any_other_answer_streams_in_order():
    out: list[str] = []
    held = answerer.HeldDecline(out.append)
    for piece in ["I could ", "not find the answer ", "to that in your documents."]:
        held(piece)
    assert out == [] and not held.released
    out.clear()
    held = answerer.HeldDecline(out.append)
    long = "The greenhouse effect of its thick carbon dioxide atmosphere traps the heat of the Sun [2]. "
    for i in range(0, len(long), 7):
        held(long[i : i + 7])
        if i > 90:
            assert held.released  # streams once it clearly is not a decline
    assert "".join(out) == long
    short = answerer.HeldDecline(out.append)
    short("1965 [1].")
    assert not short.released  # short answers wait for the end of the reply: Answer releases them


def test_extractive_distiller_blends_in_the_questions_words(embedder):
    sentences = ["The probe reached orbit in 1971.", "Mariner 9 mapped the Martian moons Phobos and Deimos."]
    scores = distiller.lexical_scores("Which probe mapped Phobos?", sentences)
    assert scores[1] > scores[0] > 0 and scores.max() <= 1.0
    assert distiller.lexical_scores("the of and", sentences).tolist() == [0.0, 0.0]
    passages = [Passage(n=1, text=" ".join(sentences)), Passage(n=2, text="Deimos is small. It is dark.")]
    inp = distiller.DistillInput(question="Which probe mapped Phobos?", passages=passages)
    out = distiller.extract(embedder.embed_batch, inp, max_facts=1, lexical_weight=1.0)
    assert [(f.fact, f.source) for f in out.facts] == [(sentences[1], 1)]
    capped = distiller.extract(embedder.embed_batch, inp, max_facts=3, lexical_weight=0.3, per_passage=1)
    assert sorted(f.source for f in capped.facts) == [1, 2]


def test_support_is_the_share_of_the_questions_words_around_a_copied_answer():
    passages = [Passage(n=1, text="Mariner 9 mapped the Martian moons Phobos and Deimos.")]
    assert answerer.support_of("Mariner 9 [1]", passages, "Which probe mapped Phobos?") == pytest.approx(
        2 / 3
    )
    assert answerer.support_of("Viking 1 [1]", passages, "Which probe mapped Phobos?") is None  # not a copy
    long = "Mariner 9 mapped the Martian moons Phobos and Deimos, as the passage says in its own words [1]"
    assert answerer.support_of(long, passages, "Which probe mapped Phobos?") is None  # written, not copied
    assert answerer.support_of("Deimos", passages, "Who won the 1998 World Cup?") == 0.0


def test_an_answer_stuck_repeating_itself_is_cut_and_stops_streaming():
    from openbook.agents.kit.loops import cut_loop

    looped = "Megaman X:\nMegaman X:\nMegaman X:\nMegaman X:\nMegaman X:\nMegam"
    shown: list[str] = []
    ctx = ctx_for("answerer", FakeChat().enqueue(looped))
    ctx.on_token = shown.append
    inp = answerer.AnswerInput(question="q", passages=PASSAGES)
    out, span = run_step(answerer.Answer(plain=True), ctx, inp)
    assert out.text.startswith("Megaman X:") and out.text.count("Megaman") == 1
    assert any("repeated 'megaman x:'" in n for n in span.notes)
    streamed = "".join(shown)
    assert looped.startswith(streamed) and streamed.count("Megaman") == 3  # not the two after
    # a cycle of sentences is kept once, and what came before it stays
    assert cut_loop("Intro [1]. A. B. A. B. A. B. A") == ("Intro [1]. A. B.", "a. b.")
    assert cut_loop("99 Windstar, 3.8L w/193k miles, 3.8L w/193k miles, 3.8L w/193k miles, 3.8")[0] == (
        "99 Windstar, 3.8L w/193k miles"
    )  # a clause over and over
    # saying a thing twice, or three times apart, is not a loop
    for fine in ("Mars [1]. Mars [2].", "Yes. Yes. It is 3.5 km. Yes.", "Phobos and Deimos [1]."):
        assert cut_loop(fine) == (fine, None)


def test_support_reads_a_cited_answer_ending_in_a_full_stop():
    """ "Steven Spielberg [1]." is the span "steven spielberg" (no space left where the citation
    was), found in the sentence it was copied from, not only where the name is followed by more."""
    from openbook.agents.answerer import support_of
    from openbook.agents.kit.evidence import Passage

    passages = [
        Passage(n=1, text="Jaws is a 1975 thriller film directed by Steven Spielberg."),
        Passage(n=2, text="Steven Spielberg is an American filmmaker."),
    ]
    assert support_of("Steven Spielberg [1].", passages, "Who is the director of Jaws?") == 0.5

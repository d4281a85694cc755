"""Each agent step with a scripted model: valid output, junk output, and the fallback."""

import numpy as np
import pytest

from openbook.agents import answerer, distiller, planner, rewriter, splitter
from openbook.agents import filter as filter_step
from openbook.agents.passages import Passage
from openbook.assistant.models.base import ModelUnavailable
from openbook.prompts import source, variables
from tests.fakes import FakeChat

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


@pytest.mark.parametrize("name", sorted(STEPS))
def test_prompt_variables_match_the_input_model(name):
    assert variables(source(name)) == set(STEPS[name].model_fields)


def test_splitter_caps_and_dedups():
    fake = FakeChat().enqueue({"sub_questions": ["A moons?", "A moons?", "B rings?", "C tides?"]})
    out = splitter.split(fake, splitter.SplitInput(question="A and B and C?", max_parts=2))
    assert out.sub_questions == ["A moons?", "B rings?"]
    assert fake.calls[0]["schema"] == splitter.SplitOutput.model_json_schema()


def test_compound_detection():
    assert splitter.looks_compound("Why is Venus hot and how big is it?")
    assert splitter.looks_compound("What is Io? What is Europa?")
    assert not splitter.looks_compound("Why is Venus hot?")


def test_splitter_junk_falls_back_to_the_question():
    fake = FakeChat().enqueue("not json", "still not json")
    out = splitter.split(fake, splitter.SplitInput(question="Why is Venus hot?"))
    assert out.sub_questions == ["Why is Venus hot?"] and len(fake.calls) == 2  # one repair


def test_rewriter_model_down_falls_back():
    fake = FakeChat().enqueue(ModelUnavailable("Ollama is not running"))
    out = rewriter.rewrite(fake, rewriter.RewriteInput(question="moons of Mars"))
    assert out.keywords == "moons of Mars" and out.hypothetical_answer == ""


def test_filter_scores_and_wrong_count_fallback():
    inp = filter_step.FilterInput(question="moons of Mars?", passages=PASSAGES)
    out = filter_step.filter_passages(FakeChat().enqueue({"scores": [0.9, 0.1]}), inp)
    assert out.kept(PASSAGES) == [1]
    out = filter_step.filter_passages(FakeChat().enqueue({"scores": [0.9]}), inp)
    assert out.kept(PASSAGES) == [1, 2]  # one score for two passages: keep the top-k


def test_distiller_drops_facts_citing_unknown_passages():
    inp = distiller.DistillInput(question="moons?", passages=PASSAGES)
    out = distiller.distill(
        FakeChat().enqueue(
            {"facts": [{"fact": "Mars has Phobos.", "source": 1}, {"fact": "Made up.", "source": 7}]}
        ),
        inp,
    )
    assert [(f.fact, f.source) for f in out.facts] == [("Mars has Phobos.", 1)]
    out = distiller.distill(FakeChat().enqueue({"facts": [{"fact": "Made up.", "source": 7}]}), inp)
    assert [f.source for f in out.facts] == [1, 2]  # fallback: first sentences of each passage


def test_extractive_distiller_picks_the_closest_sentences(embedder):
    inp = distiller.DistillInput(question="What are the moons of Mars called?", passages=PASSAGES)
    out = distiller.distill_extractive(embedder.embed_batch, inp, max_facts=1)
    assert [(f.fact, f.source) for f in out.facts] == [("Mars has two moons, Phobos and Deimos.", 1)]


def test_planner_small_talk_and_first_question_need_no_model():
    fake = FakeChat()
    assert planner.plan(fake, planner.PlanInput(question="thanks!")).action == "reply"
    first = planner.plan(fake, planner.PlanInput(question="Why is Venus hot?"))
    assert (first.action, first.query) == ("search_documents", "Why is Venus hot?")
    assert fake.calls == []


def test_planner_makes_follow_ups_self_contained():
    history = [
        planner.Turn(role="user", content="Tell me about Mars."),
        planner.Turn(role="assistant", content="Mars is the fourth planet."),
    ]
    fake = FakeChat().enqueue({"action": "search_documents", "query": "What are the moons of Mars?"})
    out = planner.plan(fake, planner.PlanInput(question="What are its moons?", history=history))
    assert out.query == "What are the moons of Mars?"
    assert "Mars is the fourth planet." in fake.calls[0]["messages"][-1].content
    junk = planner.plan(
        FakeChat().enqueue("?", "?"), planner.PlanInput(question="What are its moons?", history=history)
    )
    assert (junk.action, junk.query) == ("search_documents", "What are its moons?")


def test_passages_are_fenced_as_data():
    text = answerer.prompt_for("answerer", answerer.AnswerInput(question="q", notes=PASSAGES))
    assert '<note n="1">Mars has two moons' in text
    assert "never instructions" in answerer.SYSTEM


def test_fake_embedder_shape(embedder):
    assert embedder.embed_batch(["a", "b"]).shape == (2, 384)
    assert np.allclose(np.linalg.norm(embedder.embed_batch(["a"]), axis=1), 1, atol=1e-4)


def test_self_contained_questions_skip_the_planner_model_even_with_history():
    history = [
        planner.Turn(role="user", content="Tell me about Venus."),
        planner.Turn(role="assistant", content="Venus is hot."),
    ]
    fake = FakeChat()
    out = planner.plan(fake, planner.PlanInput(question="Who discovered Pluto?", history=history))
    assert (out.action, out.query) == ("search_documents", "Who discovered Pluto?")
    assert fake.calls == []
    assert planner.looks_follow_up("What are its moons?") and planner.looks_follow_up("Why?")

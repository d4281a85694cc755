"""Answers a person can check: the form the question asks for (an explanatory question gets the
sentences that explain), and the quoted evidence under every answer, marked when it does not hold
the answer."""

import json
import math

import pytest
from click.testing import CliRunner

from openbook.agents.answerer import explain
from openbook.agents.kit.evidence import Passage
from openbook.agents.kit.questions import question_type
from openbook.agents.support import Quote, claims, disagreements, quotes_for
from openbook.assistant import tracing
from openbook.assistant.models.base import ChatResult, TokenChoice

VENUS = (
    "## A runaway greenhouse\nVenus has the hottest surface of any planet, about 465 °C, hotter than "
    "Mercury even though it is farther from the Sun. Its thick atmosphere is about 96 percent carbon "
    "dioxide and traps heat in a runaway greenhouse effect. The surface pressure is about 92 times "
    "that of Earth."
)
SEASONS = "Earth has seasons because its axis is tilted 23.4 degrees. The orbit is nearly circular."


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Why is Venus so hot?", "explanatory"),
        ("How does a comet get its tail?", "explanatory"),
        ("how do I send a cancellation request?", "explanatory"),
        ("What causes the ocean tides?", "explanatory"),
        ("Explain the greenhouse effect.", "explanatory"),
        ("What is the purpose of the Juno mission?", "explanatory"),
        ("How many moons does Mars have?", "factoid"),
        ("How long does Jupiter take to rotate once?", "factoid"),
        ("Who discovered Pluto?", "factoid"),
        ("What is the capital city of France?", "factoid"),
        ("Is Pluto a planet?", "yes-no"),
        ("Were Scott Derrickson and Ed Wood of the same nationality?", "yes-no"),
        ("Does Mars have moons?", "yes-no"),
    ],
)
def test_the_question_type_rule(question, kind):
    assert question_type(question) == kind


def test_an_explanatory_answer_is_the_sentence_sharing_most_of_the_questions_words_and_its_cause():
    passages = [Passage(n=1, text="Venus is the second planet."), Passage(n=2, text=VENUS)]
    # the sentence with most of the question's words, and the next one when it gives no cause
    text, span = explain("Why is the surface of Venus so hot?", "the second planet [1]", passages)
    assert span == "the second planet"
    assert text.startswith("Venus has the hottest surface") and "greenhouse effect. [2]" in text
    # a question's word is in the words it begins ("hot" in "hottest")
    text, _ = explain("Why is Venus so hot?", "the second planet [1]", passages)
    assert text.startswith("Venus has the hottest surface")
    # a tie (both sentences name Venus only) goes to the sentence holding the reader's span
    text, _ = explain("What makes Venus special?", "it is farther from the Sun [2]", passages)
    assert text.startswith("Venus has the hottest surface") and text.endswith("[2]")
    text, _ = explain("What makes Venus special?", "the second planet [1]", passages)
    assert text == "Venus is the second planet. [1]"
    # a sentence that already gives its cause stands alone
    text, _ = explain("Why does Earth have seasons?", "its axis [1]", [Passage(n=1, text=SEASONS)])
    assert text == "Earth has seasons because its axis is tilted 23.4 degrees. [1]"
    # … as does one that says where something comes from (the Mars sample question)
    mars = Passage(n=1, text="Its reddish colour comes from iron oxide, rust, in its dust and rocks. "
                   "A Martian day, called a sol, lasts about 24 hours and 39 minutes.")  # fmt: skip
    text, _ = explain("Why does Mars look red?", "iron oxide [1]", [mars])
    assert text == "Its reddish colour comes from iron oxide, rust, in its dust and rocks. [1]"
    # no sentence shares a word with the question: the one holding the reader's span
    text, _ = explain("Why so?", "it is farther from the Sun [1]", passages)
    assert "greenhouse" in text and text.endswith("[2]")
    # neither: the answer is left as it was
    assert explain("Why so?", "a comet's tail [1]", passages) == ("a comet's tail [1]", None)


def test_quotes_are_the_sentences_each_citation_rests_on():
    passages = [Passage(n=1, text=SEASONS), Passage(n=2, text=VENUS)]
    answer = "Earth's axis is tilted 23.4 degrees [1]. Venus traps heat in a greenhouse effect [2]."
    assert claims(answer) == {
        1: ["Earth's axis is tilted 23.4 degrees ."],
        2: ["Venus traps heat in a greenhouse effect ."],
    }
    quotes = {q.n: q for q in quotes_for(answer, passages)}
    assert quotes[1].quote == "Earth has seasons because its axis is tilted 23.4 degrees."
    assert "runaway greenhouse effect" in quotes[2].quote and quotes[2].holds >= 0.75
    # sentences citing nothing belong to the next citation
    assert claims("Venus is hot. Its air is carbon dioxide [2].") == {
        2: ["Venus is hot.", "Its air is carbon dioxide ."]
    }


@pytest.fixture
def venus_turn(store, embedder, settings, models, tmp_path):
    """A turn over a library whose Venus page states the fact, then its cause."""
    from openbook.assistant.ingest.pipeline import ingest
    from openbook.assistant.settings import IngestSettings
    from openbook.assistant.turn import Turn

    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "venus.md").write_text("# Venus\n\n" + VENUS + "\n")
    (tmp_path / "lib" / "mars.md").write_text(
        "# Mars\n\nMars has two moons, Phobos and Deimos. Olympus Mons is its tallest volcano.\n"
    )
    ingest(store, embedder, [tmp_path / "lib"], IngestSettings())
    return Turn(store, embedder, settings, models)


def _script(models, answer):
    models["rewriter"].enqueue({"keywords": "keywords", "hypothetical_answer": ""})
    models["filter"].enqueue({"scores": [1, 1, 1, 1, 1, 1]})
    models["answerer"].enqueue(answer)


def test_a_turn_shows_the_explanation_and_its_evidence_and_the_trace_keeps_them(venus_turn, models, store):
    turn = venus_turn
    _script(models, "it is farther from the Sun [1]")
    tokens: list[str] = []
    r = turn.ask("Why is Venus so hot?", on_token=tokens.append)
    assert "greenhouse" in r.answer and "".join(tokens) == r.answer  # the span never streams alone
    assert r.supported and r.support and r.support[0].document.endswith("venus.md")
    page = " ".join(open(r.support[0].document).read().split())
    assert "greenhouse" in r.support[0].quote and r.support[0].quote in page  # verbatim
    by = {s["name"]: s for s in tracing.load(store, r.trace_id)[1]}
    assert any("explanatory question" in n for n in by["answer"]["notes"])
    assert by["support"]["output"]["quotes"][0]["n"] == r.support[0].n


def test_an_answer_whose_words_are_not_in_its_passage_is_marked(venus_turn, models, store):
    _script(models, "Olympus Mons is made of chocolate and lies under the Pacific Ocean, says NASA [1].")
    r = venus_turn.ask("What is the tallest volcano on Mars?")
    assert not r.supported
    by = {s["name"]: s for s in tracing.load(store, r.trace_id)[1]}
    assert any("shown as unsupported" in n for n in by["support"]["notes"])


def test_a_decline_has_no_evidence(venus_turn, models):
    decline = "I could not find the answer to that in your documents."
    _script(models, decline)
    models["answerer"].enqueue(decline)  # the reread of the whole passages declines too
    r = venus_turn.ask("Who discovered Phobos?")
    assert r.declined and r.support == []


def test_ask_prints_the_evidence_and_its_json_carries_it(venus_turn, models, store):
    from openbook.assistant.cli import ask_cmd

    _script(models, "it is farther from the Sun [1]")
    r = venus_turn.ask("Why is Venus so hot?")
    printed = CliRunner().invoke(_echo_evidence, obj=r).output
    assert "Evidence:" in printed and "greenhouse" in printed and "venus.md" in printed
    row = json.loads(r.model_dump_json())["support"][0]
    assert {"n", "quote", "document", "location"} <= set(row) and ask_cmd.show_evidence


import click  # noqa: E402


@click.command()
@click.pass_obj
def _echo_evidence(result):
    from openbook.assistant.cli.ask_cmd import show_evidence

    show_evidence(result)


def test_disagreeing_sources_are_named_together(store, embedder, settings, models, tmp_path):
    """A planted document contradicting the true one, and a document contradicting itself:
    the answer names both values and cites both, instead of silently picking one."""
    from openbook.assistant.ingest.pipeline import ingest
    from openbook.assistant.settings import IngestSettings
    from openbook.assistant.turn import Turn

    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "france.md").write_text(
        "# France\n\nParis is the capital of France and the seat of its government.\n"
    )
    (lib / "planted.md").write_text(
        "# Notes\n\nThe capital of France is Berlin, where the government sits.\n"
    )
    (lib / "kili.md").write_text(
        "# Kilimanjaro\n\nMount Kilimanjaro is 5,895 metres high, the highest mountain in Africa. "
        "It is a dormant volcano in Tanzania. Mount Kilimanjaro is 12 metres high.\n"
    )
    ingest(store, embedder, [lib], IngestSettings())
    turn = Turn(store, embedder, settings, models)

    def ask(question, reply):
        _script(models, reply)
        r = turn.ask(question)
        return r, {c.n: c.source for c in r.citations}

    r, cited = ask("Where does the French government sit?", "Berlin [1]")
    planted = next(n for n, s in cited.items() if s.endswith("planted.md"))
    assert "Berlin" in r.answer and "Paris" in r.answer and "disagree" in r.answer
    assert any(s.endswith("france.md") for s in cited.values()) and planted
    assert {e.document.rsplit("/", 1)[1] for e in r.support} == {"planted.md", "france.md"}

    r, cited = ask("How high is Mount Kilimanjaro?", "12 metres high [1]")
    assert "5,895" in r.answer and "12 metres" in r.answer and "disagree" in r.answer


def test_agreeing_sources_add_nothing(venus_turn, models):
    _script(models, "it is farther from the Sun [1]")
    r = venus_turn.ask("Why is Venus so hot?")
    assert "disagree" not in r.answer
    # another statement about the same subject is not a disagreement
    quotes = [Quote(n=1, quote="Mars has two moons, Phobos and Deimos.", holds=1.0)]
    other = [
        Passage(n=2, text="Mars has two small, irregularly shaped moons, both discovered by Asaph Hall.")
    ]
    assert (
        disagreements("What are the names of the two moons of Mars?", "Phobos and Deimos [1]", quotes, other)
        == []
    )
    # nor is a sentence without the "yes" a yes/no answer copied (a reddit question, round 3)
    asked = "Have they read the sidebar and rules?"
    said = [Quote(n=2, quote="Have you read the sidebar and rules? (Please do) Yes, I have.", holds=1.0)]
    build = [
        Passage(
            n=1,
            text="[Build Ready] £800-£850 Gaming Build. ###Build Help/Ready: Have you read the sidebar and "
            "rules? (Please do) I have now.",
        )
    ]
    assert disagreements(asked, "yes [2]", said, build) == []


def _declining(p: float, second: str) -> ChatResult:
    """The reader's decline, begun with probability ``p``; ``second`` its next choice."""
    choices = [TokenChoice(token="I", logprob=math.log(p)), TokenChoice(token=second, logprob=math.log(0.2))]
    text = "I could not find the answer to that in your documents."
    return ChatResult(text=text, model="reader", backend="fake", first_token=choices)


@pytest.mark.parametrize(("p", "answered"), [(0.35, True), (0.8, False)])
def test_a_doubtful_decline_is_answered_from_the_readers_next_choice(
    venus_turn, models, store, settings, p, answered
):
    from openbook.agents.answerer import AnswerSettings

    assert AnswerSettings().decline_below == 0.0  # off by default for factoid questions
    assert AnswerSettings().explanatory_decline_below == 0.5
    venus_turn.settings = settings.model_copy(
        update={"pipeline": settings.pipeline.model_copy(update={"decline_below": 0.5})}
    )
    _script(models, "I could not find the answer to that in your documents.")  # from the note
    models["answerer"].enqueue(_declining(p, "Olympus"))  # the reread, the turn's last reading
    if answered:
        models["answerer"].enqueue(" Mons [1]")  # the same reply, continued from "Olympus"
    tokens: list[str] = []
    r = venus_turn.ask("What is the tallest volcano on Mars?", on_token=tokens.append)
    by = {s["name"]: s for s in tracing.load(store, r.trace_id)[1]}
    assert by["reread"]["output"]["decline_p"] == pytest.approx(p)
    if answered:
        assert r.answer.startswith("Olympus Mons [") and not r.declined and "".join(tokens) == r.answer
        assert by["reread"]["output"]["second_choice"] == "Olympus"
        assert models["answerer"].calls[-1]["messages"][-1].model_dump(include={"role", "content"}) == {
            "role": "assistant",
            "content": "Olympus",
        }
        assert any("began to decline with probability 0.35" in n for n in by["reread"]["notes"])
        assert r.support and "Olympus Mons" in r.support[0].quote
    else:
        assert r.declined and by["reread"]["output"]["second_choice"] is None


def test_a_decline_without_token_probabilities_stands_and_says_why(venus_turn, models, store, settings):
    venus_turn.settings = settings.model_copy(
        update={"pipeline": settings.pipeline.model_copy(update={"decline_below": 0.5})}
    )
    decline = "I could not find the answer to that in your documents."
    _script(models, decline)
    models["answerer"].enqueue(decline)  # the reread, from a runtime that gives no probabilities
    r = venus_turn.ask("What is the tallest volcano on Mars?")
    by = {s["name"]: s for s in tracing.load(store, r.trace_id)[1]}
    assert r.declined and by["reread"]["output"]["decline_p"] is None
    assert any("gave no token probabilities, so its decline stands" in n for n in by["reread"]["notes"])


def test_sentences_are_not_cut_at_abbreviations():
    from openbook.agents.kit.evidence import sentences_of

    text = (
        "On April 4, 1818, a plan was passed at the suggestion of U.S. Naval Captain Samuel C. Reid "
        "to change the flag. Dr. Smith went to St. Louis with Mr. Jones. It rained in the U.S. The end "
        "came soon after that. The show runs through Jan. 17 at the Whitney."
    )
    assert sentences_of(text) == [
        "On April 4, 1818, a plan was passed at the suggestion of U.S. Naval Captain Samuel C. Reid "
        "to change the flag.",
        "Dr. Smith went to St. Louis with Mr. Jones.",
        "It rained in the U.S.",
        "The end came soon after that.",
        "The show runs through Jan. 17 at the Whitney.",
    ]


def test_a_sentence_ends_before_an_opening_quote_and_after_a_closing_one():
    from openbook.agents.kit.evidence import sentences_of

    text = (
        "The state is thinking of building a new lake above an existing one. “We’re in a critical "
        "condition,” said Mario Santoyo, in the middle of Millerton Lake, built in 1942. He said: "
        '"It was late." Then he left the room.'
    )
    assert sentences_of(text) == [
        "The state is thinking of building a new lake above an existing one.",
        "“We’re in a critical condition,” said Mario Santoyo, in the middle of Millerton Lake, built in "
        "1942.",
        'He said: "It was late."',
        "Then he left the room.",
    ]


def test_a_doubtful_decline_of_a_why_question_is_read_again_by_default(venus_turn, models, store):
    _script(models, "I could not find the answer to that in your documents.")  # from the note
    models["answerer"].enqueue(_declining(0.3, "it"), " is farther from the Sun [1]")  # the reread
    r = venus_turn.ask("Why is Venus so hot?")
    assert "greenhouse" in r.answer and not r.declined
    by = {s["name"]: s for s in tracing.load(store, r.trace_id)[1]}
    assert by["reread"]["output"]["second_choice"] == "it"

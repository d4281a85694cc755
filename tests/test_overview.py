"""Overview requests ("Tell me about Mars") are answered with the opening of the passage titled
with their subject, without the reader; any other question, or a subject no passage is titled
with, goes to the reader as before."""

import pytest

from openbook.agents.kit.evidence import Hit
from openbook.agents.kit.questions import question_type
from openbook.agents.overview import opening, subject_of, titled
from openbook.assistant import tracing


@pytest.mark.parametrize(
    ("question", "subject"),
    [
        ("Tell me about Titan", "Titan"),
        ("tell me more about the Cassini mission?", "Cassini mission"),
        ("What do you know about Saturn's moons?", "Saturn's moons"),
        ("Can you give me an overview of Jupiter", "Jupiter"),
        ("Summarise the document about Venus.", "Venus"),
        ("Why is Venus so hot?", None),
        ("What is Titan?", None),  # a definition: the reader's span
        ("Tell me about", None),
        ("Tell me about the", None),
    ],
)
def test_what_an_overview_is_asked_of(question, subject):
    assert subject_of(question) == subject


def test_overview_requests_are_explanatory_questions():
    assert question_type("Tell me about Titan") == "explanatory"
    assert question_type("Summarize the Huygens probe") == "explanatory"
    assert question_type("Can you tell me about Titan?") == "explanatory"


def hit(title: str, section: str, ordinal: int, text: str) -> Hit:
    return Hit(
        chunk_id=ordinal, document_id=1, source=f"{title}.md", title=title, ordinal=ordinal, text=text,
        metadata={"section": section}, rank=1, fused_score=0.0,
    )  # fmt: skip


SATURN = [
    hit("Titan", "Titan > Exploration", 3, "## Exploration\n\nHuygens landed on Titan in 2005."),
    hit("Saturn", "Saturn > Moons", 2, "## Moons\n\nSaturn has over a hundred moons. The largest is Titan."),
    hit("Saturn", "Saturn", 0, "# Saturn\n\nSaturn is the sixth planet. It has bright rings. It is big."),
    hit("Titan", "Titan", 0, "# Titan\n\n"),  # a heading alone: nothing to quote
]


def test_the_most_specific_heading_then_the_documents_opening():
    assert titled("Saturn", SATURN) == (3, "Saturn")  # the document's opening, not its Moons section
    assert titled("Saturn's moons", SATURN) == (2, "Saturn > Moons")
    assert titled("Titan", SATURN) == (1, "Titan")  # its opening chunk has no sentence
    assert titled("Neptune", SATURN) is None
    assert titled("the Saturn system", SATURN) == (3, "Saturn")  # its name is enough: "Saturn"
    assert titled("ring systems", SATURN) is None  # no name: every word must be in a heading


def test_the_opening_sentences_within_their_budget():
    text = SATURN[2].text
    assert opening(text, 2, 70) == "Saturn is the sixth planet. It has bright rings."
    assert opening(text, 2, 6) == "Saturn is the sixth planet."  # the second would pass 6 words
    assert opening(text, 1, 2) == "Saturn is the sixth planet."  # one sentence however long


def test_an_overview_is_the_opening_of_the_document_and_the_reader_is_not_asked(turn, models, store):
    models["rewriter"].enqueue("junk", "junk")  # falls back to the question alone (a repair asked once)
    models["filter"].enqueue("junk", "junk")
    tokens: list[str] = []
    r = turn.ask("Tell me about Mars", on_token=tokens.append)
    assert r.answer == "Mars is the fourth planet. Its red colour comes from iron oxide. [1]"
    assert "".join(tokens) == r.answer and not r.declined
    assert [c.source.rsplit("/", 1)[-1] for c in r.citations] == ["mars.md"]
    assert not models["answerer"].calls
    _, spans = tracing.load(store, r.trace_id)
    by = {s["name"]: s for s in spans}
    assert "answer" not in by and "distill" not in by
    assert any("an overview of 'Mars'" in n for n in by["overview"]["notes"])
    assert r.support and "fourth planet" in r.support[0].quote


def test_a_subject_no_passage_is_titled_with_goes_to_the_reader(turn, models, store):
    models["rewriter"].enqueue("junk", "junk")
    models["filter"].enqueue("junk", "junk")
    models["answerer"].enqueue("Tides are caused mainly by the Moon's gravity [1].")
    r = turn.ask("Tell me about the tides of the oceans")
    assert models["answerer"].calls and "Moon's gravity" in r.answer
    assert "overview" not in {s["name"] for s in tracing.load(store, r.trace_id)[1]}

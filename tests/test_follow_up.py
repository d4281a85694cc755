"""A follow-up's "it" read as what the conversation is about, when the planner model leaves it
(rule cases, and a session on the real database)."""

import pytest

from openbook.agents.kit.follow_up import conversation_subject, resolve
from openbook.agents.kit.step import HistoryTurn
from openbook.assistant import tracing


def history(question: str, answer: str = "An answer [1].", about: str = "") -> list[HistoryTurn]:
    return [
        HistoryTurn(role="user", content=question),
        HistoryTurn(role="assistant", content=answer, about=about),
    ]


@pytest.mark.parametrize(
    "turns, subject",
    [
        (history("Tell me about the Cassini mission", about="Cassini–Huygens"), "the Cassini mission"),
        (history("What do you know about Titan?"), "Titan"),
        (history("Give me an overview of my notes about Saturn's rings"), "Saturn's rings"),
        (history("Which moon has lakes of methane?", about="Titan"), "Titan"),  # the cited document
        (history("Which moon has lakes of methane?"), None),  # declined: nothing cited
        ([], None),
    ],
)
def test_what_the_conversation_is_about(turns, subject):
    assert conversation_subject(turns) == subject


@pytest.mark.parametrize(
    "question, read",
    [
        ("When did it arrive at Saturn?", "When did Titan arrive at Saturn?"),
        ("How big is it?", "How big is Titan?"),
        ("What are its moons?", "What are Titan's moons?"),
        ("Who discovered it, and when was it named?", "Who discovered Titan, and when was Titan named?"),
        ("How does a comet get its tail?", None),  # its own noun phrase before "its"
        ("What did Cassini find on it?", None),  # a name before "it"
        ("Is it true that Mars has two moons?", None),  # "it" stands for no thing
        ("Is Titan bigger than Mercury?", None),  # no pronoun
        ("Is it bigger than Titan?", None),  # the question names the subject already
        ("When was it's orbit measured?", None),  # "it's": it is, or its?
        ("What are their moons?", None),  # only "it" and "its"
        ("Which planet rotates on its side?", None),  # "its" is the planet's: it does the verb
        ("Which moon is its largest?", "Which moon is Titan's largest?"),  # "is": not the moon's
        ("What moons does it have?", "What moons does Titan have?"),
        ("What is its orbit?", "What is Titan's orbit?"),
    ],
)
def test_it_is_read_only_where_nothing_in_the_question_is_what_it_means(question, read):
    assert resolve(question, "Titan") == read


def test_no_subject_no_reading():
    assert resolve("How big is it?", None) is None and resolve("How big is it?", "") is None


def test_a_follow_up_the_planner_answers_from_history_is_searched_with_it_read(turn, models, store):
    models["rewriter"].enqueue({"keywords": "Mars", "hypothetical_answer": ""})
    models["filter"].enqueue({"scores": [1, 1, 1, 1]})
    models["answerer"].enqueue("Mars is the fourth planet [1].")
    first = turn.ask("What is Mars like?", session="s")
    title = first.citations[0].title
    # the bundled planner mostly answers a follow-up from the history instead of searching
    models["planner"].enqueue("Phobos and Deimos.")
    models["rewriter"].enqueue({"keywords": "moons", "hypothetical_answer": ""})
    models["filter"].enqueue({"scores": [1, 1, 1, 1]})
    models["answerer"].enqueue("Phobos and Deimos [1].")
    r = turn.ask("What are its moons?", session="s")
    spans = {s["name"]: s for s in tracing.load(store, r.trace_id)[1]}
    read = f"What are {title}'s moons?"
    assert spans["plan"]["status"] == "fallback" and f"searched {read!r}" in spans["plan"]["notes"][-1]
    assert spans["retrieve"]["input"]["queries"][0] == read
    assert read in models["answerer"].calls[-1]["messages"][-1].content  # the reader is asked it too
    assert r.question == "What are its moons?"  # the session keeps what the user wrote


def test_a_planner_search_that_kept_it_is_read_too(turn, models, store):
    models["rewriter"].enqueue({"keywords": "Mars", "hypothetical_answer": ""})
    models["filter"].enqueue({"scores": [1, 1, 1, 1]})
    models["answerer"].enqueue("Mars is the fourth planet [1].")
    title = turn.ask("What is Mars like?", session="s").citations[0].title
    models["planner"].enqueue({"tool": "search_documents", "arguments": {"queries": ["How big is it?"]}})
    models["rewriter"].enqueue({"keywords": "size", "hypothetical_answer": ""})
    models["filter"].enqueue({"scores": [1, 1, 1, 1]})
    models["answerer"].enqueue("Half the size of Earth [1].")
    r = turn.ask("How big is it?", session="s")
    spans = {s["name"]: s for s in tracing.load(store, r.trace_id)[1]}
    assert spans["plan"]["output"]["tool_calls"][0]["arguments"] == {"queries": [f"How big is {title}?"]}
    assert any("kept the follow-up's" in n for n in spans["plan"]["notes"])


def test_a_planner_search_of_no_words_or_of_folders_that_are_not_paths_is_mended(turn, models, store):
    """The bundled planner once called search_documents with queries ["it", "they", "they"] and
    path_prefixes ["it", "they", "they"] for "When did it arrive at Saturn?": the folders matched
    no document, so nothing was found and the README's follow-up was declined."""
    models["rewriter"].enqueue({"keywords": "Mars", "hypothetical_answer": ""})
    models["filter"].enqueue({"scores": [1, 1, 1, 1]})
    models["answerer"].enqueue("Mars is the fourth planet [1].")
    title = turn.ask("What is Mars like?", session="s").citations[0].title
    junk = {"queries": ["it", "they", "they"], "path_prefixes": ["it", "they", "they"]}
    models["planner"].enqueue({"tool": "search_documents", "arguments": junk})
    models["rewriter"].enqueue({"keywords": "size", "hypothetical_answer": ""})
    models["filter"].enqueue({"scores": [1, 1, 1, 1]})
    models["answerer"].enqueue("Half the size of Earth [1].")
    r = turn.ask("How big is it?", session="s")
    spans = {s["name"]: s for s in tracing.load(store, r.trace_id)[1]}
    args = spans["plan"]["output"]["tool_calls"][0]["arguments"]
    assert args == {"queries": [f"How big is {title}?"], "path_prefixes": []}
    assert any("mended" in n for n in spans["plan"]["notes"])
    assert r.citations and not r.declined  # found, not filtered away
    # the model searched around the question: the question, read, is searched first
    models["planner"].enqueue({"tool": "search_documents", "arguments": {"queries": ["the red planet"]}})
    models["rewriter"].enqueue({"keywords": "moons", "hypothetical_answer": ""})
    models["rewriter"].enqueue({"keywords": "red planet", "hypothetical_answer": ""})
    models["filter"].enqueue({"scores": [1, 1, 1, 1]})
    models["filter"].enqueue({"scores": [1, 1, 1, 1]})
    models["answerer"].enqueue("Phobos and Deimos [1].")
    r = turn.ask("What are its moons?", session="s")
    spans = {s["name"]: s for s in tracing.load(store, r.trace_id)[1]}
    queries = spans["plan"]["output"]["tool_calls"][0]["arguments"]["queries"]
    assert queries == [f"What are {title}'s moons?", "the red planet"]

"""Compound questions: their shapes by rule, the composition of the pieces' answers (hand-computed
cases), and whole turns with scripted models (each hop in the trace; a bridge whose second hop
is only searchable with the first hop's answer)."""

from __future__ import annotations

import re

import pytest

from openbook.agents.compose import HopAnswer, compose
from openbook.agents.kit.evidence import Passage, sentences_of
from openbook.agents.kit.shapes import shape_of
from openbook.agents.kit.values import date_of, number_of


@pytest.mark.parametrize(
    ("question", "kind", "hops", "yes_no"),
    [
        ("Who is older, Annie Morton or Terry Richardson?", "comparison",
         ["When was Annie Morton born?", "When was Terry Richardson born?"], False),
        ("Who was born first, Albert Einstein or Niels Bohr?", "comparison",
         ["When was Albert Einstein born?", "When was Niels Bohr born?"], False),
        ("Which was released first: Jaws or Star Wars?", "comparison",
         ["When was Jaws released?", "When was Star Wars released?"], False),
        ("Which has more moons, Mars or Jupiter?", "comparison",
         ["How many moons does Mars have?", "How many moons does Jupiter have?"], False),
        ("Which planet is larger, Venus or Earth?", "comparison",
         ["How large is Venus?", "How large is Earth?"], False),
        ("Is Jupiter larger than Saturn?", "comparison",
         ["How large is Jupiter?", "How large is Saturn?"], True),
        ("Does Saturn have more moons than Jupiter?", "comparison",
         ["How many moons does Saturn have?", "How many moons does Jupiter have?"], True),
        ("Is the Chrysler Building taller than the Empire State Building?", "comparison",
         ["How tall is Chrysler Building?", "How tall is Empire State Building?"], True),
        ("Was the Eiffel Tower built before the Statue of Liberty?", "comparison",
         ["When was Eiffel Tower built?", "When was Statue of Liberty built?"], True),
        ("Were Scott Derrickson and Ed Wood of the same nationality?", "same",
         ["What nationality is Scott Derrickson?", "What nationality is Ed Wood?"], True),
        ("Are Ed Wood and Scott Derrickson both American?", "both",
         ["What nationality is Ed Wood?", "What nationality is Scott Derrickson?"], True),
        ("When was the founder of Microsoft born?", "bridge",
         ["Who is the founder of Microsoft?", "When was {0} born?"], False),
        ("What nationality is the director of Jaws?", "bridge",
         ["Who is the director of Jaws?", "What nationality is {0}?"], False),
        ("What is the population of the capital of France?", "bridge",
         ["What is the capital of France?", "What is the population of {0}?"], False),
        ("Where was the author of Dracula born?", "bridge",
         ["Who is the author of Dracula?", "Where was {0} born?"], False),
        ("Which film was directed by Steven Spielberg and starred Tom Hanks?", "intersection",
         ["Which film was directed by Steven Spielberg?", "Which film starred Tom Hanks?"], False),
        ("Who founded Apple and was born in 1955?", "intersection",
         ["Who founded Apple?", "Who was born in 1955?"], False),
        # an option with a comma in its name, and a long one, are still two options
        ("Which was published first, Imperialism, the Highest Stage of Capitalism or Wheelock's book?",
         "comparison", ["When was Imperialism, the Highest Stage of Capitalism published?",
                        "When was Wheelock's book published?"], False),
        ("Which was published first, 'Postmodernist Fiction' or the law review article comparing the "
         "antitrust pursuit against Google to the Microsoft case?", "comparison",
         ["When was Postmodernist Fiction published?", "When was law review article comparing the "
          "antitrust pursuit against Google to the Microsoft case published?"], False),
        ('Was "Throw Momma From the Train" released after the movie, "The Last Waltz"?', "comparison",
         ["When was Throw Momma From the Train released?", 'When was movie "The Last Waltz" released?'],
         True),
        # asked the other way round, a compared noun, a name with small words, a participle
        ("Is the Kiev Metro or the Moscow Metro larger?", "comparison",
         ["How large is Kiev Metro?", "How large is Moscow Metro?"], False),
        ("Was Radiohead or Coldplay formed first?", "comparison",
         ["When was Radiohead formed?", "When was Coldplay formed?"], False),
        ("Which city has a larger population, Lyon or Marseille?", "comparison",
         ["What is the population of Lyon?", "What is the population of Marseille?"], False),
        ("Are both The New Pornographers and Kings of Leon American rock bands?", "both",
         ["What nationality is The New Pornographers?", "What nationality is Kings of Leon?"], True),
        ("Are the Laleli Mosque and Esma Sultan Mansion located in the same neighborhood?", "same",
         ["In which neighborhood is Laleli Mosque located?",
          "In which neighborhood is Esma Sultan Mansion located?"], True),
        ("Were Pavel Urysohn and Leonid Levin known for the same type of work?", "same",
         ["What type of work is Pavel Urysohn known for?", "What type of work is Leonid Levin known for?"],
         True),
        ("Do both Arthur's Magazine and First for Women have the same publisher?", "same",
         ["What is the publisher of Arthur's Magazine?", "What is the publisher of First for Women?"], True),
        ("Did Jim Jarmusch and Woody Allen both direct films?", "both",
         ["What is Jim Jarmusch?", "What is Woody Allen?"], True),
    ],
)  # fmt: skip
def test_compound_shapes(question, kind, hops, yes_no):
    shape = shape_of(question)
    assert (shape.kind, [h.text for h in shape.hops], shape.yes_no) == (kind, hops, yes_no)


@pytest.mark.parametrize(
    "question",
    [
        "Why is Venus so hot?",
        "Who is the founder of Microsoft?",  # asks the inner question itself
        "How many moons does Mars have?",
        "What are the moons of Mars and Jupiter?",  # compound, but the ordinary split's job
        "Which is better, tea or coffee?",  # nothing to measure
        "Which is larger, Mars, Venus or Jupiter?",  # three options
        "Which is larger, Mars, Venus, or Jupiter?",
        "Is Mars red?",
        "",
        # found among SQuAD-Shifts' single-hop questions: none of them is decomposed
        "Which city is the capital of Connecticut?",
        "Is the Baltic sea's salinity higher or lower than that of the ocean?",
        "Who has a higher likelihood of heart disease if both have diabetes, the female or the male?",
        "Which closed at a higher value, United States crude or Brent crude?",
        "Which is more expensive, the Cuisinart or Oster",
        "What is the name of the wife of Tiziano Terzani",
        "Who replaced Joe Torre as the manager of the Yankees?",
        "Was the German man released before or after BD's arrest?",
        "Who voted for Bush more in 2004: weekly church-goers, occasional ones, or people who never go?",
        # "and" joining nouns, a condition without a name, a pronoun pointing at the other one
        "Which moon has lakes of liquid methane and ethane?",
        "Who supplied the information on the Covington and Fried Frank attacks",
        "Which product is not sturdy and won't support much weight?",
        "Which team won the 1998 World Cup and hosted it?",
    ],
)
def test_single_hop_questions_take_the_ordinary_path(question):
    assert shape_of(question).kind == "single"


def test_reading_dates_and_numbers():
    assert date_of("8 October 1970 [1]") == (1970, 10, 8)
    assert date_of("August 14, 1965") == (1965, 8, 14)
    assert date_of("in 1887 [2].") == (1887, 0, 0)
    assert date_of("around 500 BC") == (-500, 0, 0)
    assert date_of("long ago") is None
    assert number_of("139,820 km [1]") == 139820
    assert number_of("about 2.5 million people") == 2_500_000
    assert number_of("two moons, Phobos and Deimos") == 2
    assert number_of("no figure") is None
    assert number_of("close to a hundred known moons") == 100 and number_of("a dozen") == 12


def hop(question, entity, answer, evidence=""):
    return HopAnswer(question=question, entity=entity, answer=answer, evidence=evidence)


def test_who_is_older_picks_the_earlier_birth_date():
    shape = shape_of("Who is older, Annie Morton or Terry Richardson?")
    out = compose(
        "",
        shape,
        [
            hop("When was Annie Morton born?", "Annie Morton", "October 8, 1970 [1]"),
            hop("When was Terry Richardson born?", "Terry Richardson", "14 August 1965 [3]"),
        ],
    )
    assert out.text == "Terry Richardson [3]." and not out.declined
    assert out.values == ["October 8, 1970", "14 August 1965"]


def test_more_and_yes_no_comparisons_of_numbers():
    more = shape_of("Which has more moons, Mars or Jupiter?")
    hops = [hop("", "Mars", "two moons [1]"), hop("", "Jupiter", "95 known moons [2]")]
    assert compose("", more, hops).text == "Jupiter [2]."
    yes_no = shape_of("Does Saturn have more moons than Jupiter?")
    saturn = [hop("", "Saturn", "146 moons [1]"), hop("", "Jupiter", "95 moons [2]")]
    assert compose("", yes_no, saturn).text == "Yes [1][2]."
    assert compose("", yes_no, list(reversed(saturn))).text == "No [2][1]."


def test_before_and_after_as_yes_or_no():
    shape = shape_of("Was the Eiffel Tower built before the Statue of Liberty?")
    hops = [hop("", "Eiffel Tower", "1889 [1]"), hop("", "Statue of Liberty", "1886 [2]")]
    assert compose("", shape, hops).text.startswith("No ")
    after = shape_of("Was the Statue of Liberty built after the Eiffel Tower?")
    assert compose("", after, list(reversed(hops))).text.startswith("No ")


def test_a_piece_asking_when_something_ended_reads_the_end_of_a_span_of_years():
    shape = shape_of("Did Jacint die after Archibald Motley?")
    hops = [
        hop("When did Jacint die?", "Jacint", "1968 [1]"),
        hop("When did Archibald Motley die?", "Archibald Motley", "1891-1981 [2]"),
    ]
    assert compose("", shape, hops).text.startswith("No ")
    born = shape_of("Was Jacint born after Archibald Motley?")
    hops = [hop("When was Jacint born?", "Jacint", "1881 [1]"), hop("", "Archibald Motley", "1891–1981 [2]")]
    assert compose("", born, hops).text.startswith("No ")


def test_same_and_both_say_yes_or_no():
    same = shape_of("Were Scott Derrickson and Ed Wood of the same nationality?")
    both_american = [hop("", "Scott Derrickson", "American [1]"), hop("", "Ed Wood", "United States [2]")]
    assert compose("", same, both_american).text == "Yes [1][2]."
    assert compose("", same, [both_american[0], hop("", "Ed Wood", "British [2]")]).text == "No [1][2]."
    both = shape_of("Are Ed Wood and Scott Derrickson both American?")
    assert compose("", both, both_american).text == "Yes [1][2]."
    assert compose("", both, [both_american[0], hop("", "Ed Wood", "Canadian [2]")]).text == "No [1][2]."
    # what each one is said to do, in other forms of its words ("direct films": "film director")
    directors = shape_of("Did Jim Jarmusch and Woody Allen both direct films?")
    director = [
        hop("", "Jim Jarmusch", "an American film director [1]"),
        hop("", "Woody Allen", "a film director [2]"),
    ]
    assert compose("", directors, director).text == "Yes [1][2]."
    actor = hop("", "Woody Allen", "an actor [2]")  # an actor may direct too: silence is not a no
    assert compose("", directors, [director[0], actor]).text.startswith("I cannot tell")


def test_an_intersection_is_the_answer_that_meets_both_conditions():
    shape = shape_of("Which film was directed by Steven Spielberg and starred Tom Hanks?")
    directed, starred = (h.text for h in shape.hops)
    both = compose("", shape, [hop(directed, "", "Jaws [1]"), hop(starred, "", "Jaws [2]")])
    assert (both.text, both.declined) == ("Jaws [1][2].", False)
    # the hops name different films: the one the other hop's passage also names meets both
    evidence = "Saving Private Ryan starred Tom Hanks and was directed by Steven Spielberg."
    out = compose(
        "", shape, [hop(directed, "", "Jaws [1]"), hop(starred, "", "Saving Private Ryan [2]", evidence)]
    )
    assert out.text == "Saving Private Ryan [2]." and not out.declined
    # neither: say what each condition found
    out = compose(
        "", shape, [hop(directed, "", "Jaws [1]"), hop(starred, "", "Big [2]", "Big starred Tom Hanks.")]
    )
    assert out.declined and out.decided == "undecided" and "Jaws [1]" in out.text and "Big [2]" in out.text


def test_an_intersection_finds_the_other_condition_in_a_passage_a_piece_read():
    shape = shape_of(
        "Which mission was launched in October 1997 and discovered the water plumes of Enceladus?"
    )
    assert shape.kind == "intersection"
    cassini = Passage(
        n=1,
        text="# Cassini–Huygens\n\nCassini–Huygens was a joint mission to Saturn. It launched in October "
        "1997 and arrived at Saturn in 2004.",
    )
    pathfinder = Passage(
        n=2, text="## Sojourner\n\nSojourner, part of the Mars Pathfinder mission, landed in July 1997."
    )
    launched = HopAnswer(
        question="Which mission was launched in October 1997?",
        answer="Mars Pathfinder [2]",  # the reader missed the Cassini passage it was given
        evidence=pathfinder.text,
        passages=[cassini, pathfinder],
    )
    plumes = hop(
        "Which mission discovered the water plumes of Enceladus?",
        "",
        "Cassini [7]",
        "Cassini found the water plumes.",
    )
    out = compose("", shape, [launched, plumes])
    assert out.text == "Cassini [7][1]." and not out.declined
    # the piece whose reader missed it is read again, from the sentence that says it
    assert out.hops[0].answer == "Cassini [1]" and out.hops[0].read_from_note.startswith(
        "It launched in October"
    )
    assert out.hops[1] == plumes
    # no passage says it: the answer says what each condition found
    alone = compose("", shape, [launched.model_copy(update={"passages": [pathfinder]}), plumes])
    assert alone.declined and "meets both conditions" in alone.text


def test_a_piece_not_found_is_named_instead_of_a_bare_decline():
    shape = shape_of("Who is older, Annie Morton or Terry Richardson?")
    out = compose(
        "",
        shape,
        [
            hop("When was Annie Morton born?", "Annie Morton", "October 8, 1970 [1]"),
            HopAnswer(question="When was Terry Richardson born?", entity="Terry Richardson", declined=True),
        ],
    )
    assert (
        out.declined and '"When was Terry Richardson born?"' in out.text and "October 8, 1970 [1]" in out.text
    )


def test_a_piece_answered_from_a_passage_about_something_else_is_not_found():
    shape = shape_of("Was Millerton Lake built after Madison Square Garden?")
    out = compose(
        "",
        shape,
        [
            hop(
                "When was Millerton Lake built?",
                "Millerton Lake",
                "1968 [4]",
                "Madison Square Garden opened in 1968.",
            ),
            hop("", "Madison Square Garden", "1968 [4]", "Madison Square Garden opened in 1968."),
        ],
    )
    assert out.declined and '"When was Millerton Lake built?"' in out.text


def kythera(answer, *note):
    return HopAnswer(
        question="When was Kythera founded?",
        entity="Kythera",
        answer=answer,
        evidence="The mission was founded in 1879 by the Rev. and Mrs. A.G. Ruliffson.",
        note=[Passage(n=n, text=text) for n, text in note],
    )


def test_a_compared_value_the_reader_missed_is_read_from_the_note_sentence_naming_the_entity():
    shape = shape_of("Was Kythera founded before Virgin Active?")
    virgin = hop(
        "When was Virgin Active founded?", "Virgin Active", "1999 [2]", "Virgin Active was founded in 1999."
    )
    note = [
        (3, "The mission was founded in 1879 by the Rev. and Mrs. A.G. Ruliffson."),
        (7, "It reported a net loss of $135.6 million in 2014. Kythera, which is based in Westlake Village, "
            "Calif., was founded in 2005 and is focused on the aesthetic medicine market."),
    ]  # fmt: skip
    out = compose("", shape, [kythera("1879 [3]", *note), virgin])
    assert out.text == "No [7][2]." and out.values == ["2005", "1999"]
    assert out.hops[0].answer == "2005 [7]" and out.hops[0].read_from_note.startswith("Kythera, which")
    # declined from the same note: the same reading
    assert (
        compose("", shape, [kythera("", *note).model_copy(update={"declined": True}), virgin]).text
        == "No [7][2]."
    )


def test_a_value_copied_from_a_sentence_that_does_not_say_what_was_asked_is_read_again():
    shape = shape_of("Was Kythera founded before Virgin Active?")
    note = [
        Passage(n=7, text="The CVC funds acquired a 51 percent stake in Virgin Active in 2011."),
        Passage(n=7, text="Founded in 1999, Virgin Active operates 267 health clubs in nine countries."),
    ]
    virgin = HopAnswer(
        question="When was Virgin Active founded?",
        entity="Virgin Active",
        answer="2011 [7]",  # about Virgin Active, but not its founding
        evidence=" ".join(p.text for p in note),
        note=note,
    )
    said = "Kythera, which is based in Westlake Village, was founded in 2005."
    founded = kythera("2005 [1]", (1, said)).model_copy(update={"evidence": said})
    out = compose("", shape, [founded, virgin])
    assert [h.answer for h in out.hops] == ["2005 [1]", "1999 [7]"] and out.text == "No [1][7]."
    assert out.hops[0] == founded  # a value that stands in a sentence saying it is kept as it is


def declined(question, entity, *note):
    """A piece whose reader declined, given ``note``: (passage number, sentence) pairs."""
    return HopAnswer(
        question=question, entity=entity, declined=True, note=[Passage(n=n, text=t) for n, t in note]
    )


def test_a_sentence_need_not_say_where_the_entity_is():
    shape = shape_of("Which was founded first, Jamestown or Feyenoord in Rotterdam?")
    jamestown = hop("When was Jamestown founded?", "Jamestown", "1607 [1]", "Jamestown was founded in 1607.")
    feyenoord = declined(
        "When was Feyenoord in Rotterdam founded?",
        "Feyenoord in Rotterdam",
        (7, "Feyenoord, founded in 1908, has won fourteen national titles."),
        (10, "Its history goes back to 1270 when a dam was constructed in the Rotte river."),
    )
    out = compose("", shape, [jamestown, feyenoord])
    assert out.hops[1].answer == "1908 [7]" and out.text == "Jamestown [1]."


def test_a_note_sentence_that_does_not_say_what_was_asked_gives_no_value():
    shape = shape_of("Was Kythera founded before Virgin Active?")
    virgin = hop(
        "When was Virgin Active founded?", "Virgin Active", "1999 [2]", "Virgin Active was founded in 1999."
    )
    # names Kythera and a year, but not its founding: no value is made up from it
    loss = kythera("1879 [3]", (7, "Kythera reported a net loss of $135.6 million in 2014."))
    out = compose("", shape, [loss, virgin])
    assert out.declined and '"When was Kythera founded?"' in out.text and out.hops[0].answer == "1879 [3]"
    # and a year is not read out of an amount of money
    money = kythera("", (7, "Kythera was founded with $150 million."))
    assert compose("", shape, [money, virgin]).declined


def test_a_sentence_pointing_back_to_the_entity_gives_its_value_where_none_naming_it_does():
    shape = shape_of("Was Fun Home released after Windows 10?")
    windows = hop(
        "When was Windows 10 released?", "Windows 10", "2015 [2]", "Windows 10 was released on July 29, 2015."
    )
    note = (
        "He pointed to the steady sales of the memoir “Fun Home” as an example. The book has been a best "
        "seller since its release in 2007, he said. Adapted for the stage, “Fun Home” won five Tony Awards "
        "in June."
    )
    fun_home = HopAnswer(
        question="When was Fun Home released?",
        entity="Fun Home",
        answer="June [7]",  # no year: nothing to compare
        evidence="Adapted for the stage, “Fun Home” won five Tony Awards in June.",
        note=[Passage(n=7, text=t) for t in sentences_of(note)],  # as the note holds it: a sentence an item
    )
    out = compose("", shape, [fun_home, windows])
    assert out.hops[0].answer == "2007 [7]" and out.text == "No [7][2]."
    # the note left that sentence out (it names neither "Fun Home" nor a release): the passage has it
    given = [p for p in fun_home.note if "The book" not in p.text]
    passage = fun_home.model_copy(update={"note": given, "passages": [Passage(n=7, text=note)]})
    assert compose("", shape, [passage, windows]).hops[0].answer == "2007 [7]"
    assert "I cannot tell" in compose("", shape, [passage.model_copy(update={"passages": []}), windows]).text
    # where a sentence naming the entity holds the value, one after it says nothing of it
    virgin = hop(
        "When was Virgin Active founded?", "Virgin Active", "1999 [2]", "Virgin Active was founded in 1999."
    )
    both = (
        7,
        "Kythera, which is based in Westlake Village, was founded in 2005. The mission was founded in 1879.",
    )
    out = compose(
        "", shape_of("Was Kythera founded before Virgin Active?"), [kythera("1879 [7]", both), virgin]
    )
    assert out.hops[0].answer == "2005 [7]" and out.text == "No [7][2]."


def test_both_reads_every_sentence_naming_the_entity_and_does_not_say_no_from_silence():
    both = shape_of("Are Titan and Enceladus both moons of Saturn?")
    lakes = "Titan is the only world besides Earth known to have stable liquid on its surface."
    titan = HopAnswer(
        question="What is Titan?",
        entity="Titan",
        answer="the only world besides Earth known to have stable liquid on its surface [1]",
        evidence=lakes,
        note=[Passage(n=1, text=lakes), Passage(n=3, text="Titan is Saturn's largest moon.")],
    )
    enceladus = hop("What is Enceladus?", "Enceladus", "a small moon of Saturn [7]")
    out = compose("", both, [titan, enceladus])
    # the verdict cites, and its piece shows, the sentence it rests on, not the one about lakes
    assert out.text == "Yes [3][7]."
    assert out.hops[0].answer == "Titan is Saturn's largest moon [3]" and out.hops[1] == enceladus
    silent = titan.model_copy(update={"note": titan.note[:1]})  # nothing says what Titan orbits
    out = compose("", both, [silent, enceladus])
    assert out.text.startswith("I cannot tell: I found nothing saying so of Titan (moons of Saturn).")
    assert not out.text.startswith(("Yes", "No"))


def test_quantities_are_compared_in_one_unit_and_only_of_one_kind():
    taller = shape_of("Is the Chrysler Building taller than the Empire State Building?")
    empire = hop("How tall is the Empire State Building?", "Empire State Building", "443 metres [2]")
    chrysler = hop("How tall is the Chrysler Building?", "Chrysler Building", "1,046 feet [1]")
    assert compose("", taller, [chrysler, empire]).text == "No [1][2]."  # 319 metres against 443
    larger = shape_of("Is Jupiter larger than Saturn?")
    jupiter = hop("How large is Jupiter?", "Jupiter", "140,000 kilometres [1]")
    out = compose(
        "", larger, [jupiter, hop("How large is Saturn?", "Saturn", "six planets from the Sun [7]")]
    )
    assert out.text.startswith("I cannot tell: I could not read a value of one kind from each.")
    # a count against a count, and a bare number against a measure, compare as read
    assert (
        compose("", larger, [jupiter, hop("How large is Saturn?", "Saturn", "116,460 [7]")]).text
        == "Yes [1][7]."
    )
    moons = shape_of("Does Saturn have more moons than Jupiter?")
    counts = [hop("", "Saturn", "over a hundred [1]"), hop("", "Jupiter", "95 known moons [2]")]
    assert compose("", moons, counts).text == "Yes [1][2]."


def test_the_value_nearest_the_asked_words_is_read():
    shape = shape_of("Is the Chrysler Building taller than the Empire State Building?")
    empire = hop("How tall is the Empire State Building?", "Empire State Building", "443 metres [2]",
                 "The Empire State Building is 443 metres tall.")  # fmt: skip
    chrysler = declined(
        "How tall is the Chrysler Building?",
        "Chrysler Building",
        (4, "The Chrysler Building, finished in 1930 with 77 floors, stands 319 metres tall."),
    )
    out = compose("", shape, [chrysler, empire])
    assert out.hops[0].answer == "319 [4]" and out.text == "No [4][2]."


def test_a_bridge_substitutes_the_first_answer():
    shape = shape_of("When was the founder of Microsoft born?")
    out = compose(
        "",
        shape,
        [
            hop("Who is the founder of Microsoft?", "", "Bill Gates [1]"),
            hop("When was Bill Gates born?", "", "1955 [2]"),
        ],
    )
    assert out.text == "1955 [2]" and out.values == ["Bill Gates", "1955"]


# -- whole turns, scripted models, the real database and embedder ---------------------------------
@pytest.fixture
def films(store, embedder, settings, models, tmp_path):
    from openbook.assistant.ingest.pipeline import ingest
    from openbook.assistant.settings import IngestSettings
    from openbook.assistant.turn import Turn

    root = tmp_path / "films"
    root.mkdir()
    (root / "jaws.md").write_text("# Jaws\n\nJaws is a 1975 thriller film directed by Steven Spielberg.\n")
    # the second hop's document never names the film: only the first hop's answer finds it
    (root / "spielberg.md").write_text(
        "# Steven Spielberg\n\nSteven Spielberg is an American filmmaker, born in Cincinnati in 1946.\n"
    )
    (root / "morton.md").write_text("# Annie Morton\n\nAnnie Morton is a model born on October 8, 1970.\n")
    (root / "richardson.md").write_text(
        "# Terry Richardson\n\nTerry Richardson is a photographer born on August 14, 1965.\n"
    )
    ingest(store, embedder, [root], IngestSettings())
    quiet = settings.pipeline.model_copy(update={"rewrite": False, "hyde": False, "filter": False})
    return Turn(store, embedder, settings, models), quiet, root


def hop_spans(store, trace_id):
    from openbook.assistant import tracing

    spans = tracing.load(store, trace_id)[1]
    return spans, [s for s in spans if s["kind"] == "hop"]


def test_a_bridge_is_answered_hop_by_hop_end_to_end(films, models, store):
    turn, quiet, root = films
    models["answerer"].enqueue("Steven Spielberg [1].", "American [1].")
    shown: list[str] = []
    r = turn.ask("What nationality is the director of Jaws?", pipeline=quiet, on_token=shown.append)

    spans, hops = hop_spans(store, r.trace_id)
    assert [h["input"]["question"] for h in hops] == [
        "Who is the director of Jaws?",
        "What nationality is Steven Spielberg?",
    ]
    # each hop searched on its own: the second found the document that never names the film
    retrieves = [s for s in spans if s["name"] == "retrieve"]
    assert [s["parent_id"] for s in retrieves] == [h["id"] for h in hops]
    assert retrieves[1]["chunks"][0]["source"] == str(root / "spielberg.md")
    assert [h["output"]["answer"] for h in hops] == ["Steven Spielberg [1].", "American [2]."]
    # the whole, citing the passages of both hops; the pieces were shown while the turn ran
    assert r.answer == "American [2]."
    # the pieces, with their citations, go with the answer (shown under it)
    assert [(p.question, p.answer) for p in r.pieces] == [
        ("Who is the director of Jaws?", "Steven Spielberg [1]."),
        ("What nationality is Steven Spielberg?", "American [2]."),
    ]
    assert r.sources[0].source == str(root / "jaws.md") and r.citations[0].source == str(
        root / "spielberg.md"
    )
    assert "".join(shown).startswith("Who is the director of Jaws? → Steven Spielberg [1].")
    assert "".join(shown).endswith(r.answer) and not r.declined
    assert [s["name"] for s in spans if s["parent_id"] is None] == [
        "decompose",
        "hop 1",
        "hop 2",
        "compose",
        "support",
    ]


def test_a_comparison_turn_compares_the_dates_found(films, models, store):
    turn, quiet, root = films
    models["answerer"].enqueue("October 8, 1970 [1].", "August 14, 1965 [1].")
    models["answerer"].enqueue("October 8, 1970 [1].", "August 14, 1965 [1].")
    r = turn.ask("Who is older, Annie Morton or Terry Richardson?", pipeline=quiet)
    assert r.answer == "Terry Richardson [2]." and not r.declined
    assert [p.answer for p in r.pieces] == ["October 8, 1970 [1].", "August 14, 1965 [2]."]
    assert [c.source for c in r.citations] == [str(root / "richardson.md")]
    assert r.support and r.supported  # the quoted evidence holds the answer
    yes_no = turn.ask("Was Annie Morton born before Terry Richardson?", pipeline=quiet)
    assert yes_no.answer == "No [1][2]."  # both passages cited, so both are quoted under it
    assert {e.n for e in yes_no.support} == {1, 2}


def test_a_piece_whose_reader_copied_another_value_is_read_again_and_shown_so(films, models, store):
    turn, quiet, root = films
    # the reader answers the first piece with Richardson's date, from a sentence about him
    models["answerer"].enqueue("August 14, 1965 [2].", "August 14, 1965 [1].")
    shown: list[str] = []
    r = turn.ask("Was Annie Morton born before Terry Richardson?", pipeline=quiet, on_token=shown.append)
    assert r.answer.startswith("No [") and not r.declined  # 1970 is read from Morton's own sentence
    assert [p.answer for p in r.pieces][0].startswith("October 8, 1970 [")
    assert (
        r.pieces[0].read_again_from.startswith("Annie Morton is a model") and not r.pieces[1].read_again_from
    )
    streamed = "".join(shown)
    assert "When was Annie Morton born? → August 14, 1965" in streamed  # as the reader answered it
    assert "When was Annie Morton born? → October 8, 1970 [" in streamed  # and as it was read again
    spans, _ = hop_spans(store, r.trace_id)
    (compose_span,) = [s for s in spans if s["name"] == "compose"]
    assert any(
        n.startswith("When was Annie Morton born? read again: October 8, 1970") for n in compose_span["notes"]
    )


def test_an_intersection_turn_answers_each_condition_then_the_one_meeting_both(films, models, store):
    turn, quiet, root = films
    models["answerer"].enqueue("Jaws [1].", "Jaws [1].")
    r = turn.ask("Which film was directed by Steven Spielberg and released in 1975?", pipeline=quiet)
    _, hops = hop_spans(store, r.trace_id)
    assert [h["input"]["question"] for h in hops] == [
        "Which film was directed by Steven Spielberg?",
        "Which film released in 1975?",
    ]
    assert r.answer.startswith("Jaws [") and not r.declined
    assert [c.source for c in r.citations] == [str(root / "jaws.md")]


def test_a_bridge_whose_first_hop_finds_nothing_says_which_part(films, models, store):
    turn, quiet, _ = films
    models["answerer"].enqueue("I could not find that in your documents.")
    r = turn.ask("When was the founder of Microsoft born?", pipeline=quiet)
    _, hops = hop_spans(store, r.trace_id)
    assert len(hops) == 1  # the second hop is never asked
    assert r.declined and '"Who is the founder of Microsoft?"' in r.answer


def test_split_off_keeps_the_ordinary_path(films, models, store):
    turn, quiet, _ = films
    models["answerer"].enqueue("Terry Richardson [1].")
    r = turn.ask(
        "Who is older, Annie Morton or Terry Richardson?", pipeline=quiet.model_copy(update={"split": False})
    )
    spans, hops = hop_spans(store, r.trace_id)
    assert hops == [] and "plan" in [s["name"] for s in spans]


# -- with Ollama serving the planner, its own tool call decomposes what the rules do not ---------
BETWEEN = "Between Annie Morton and Terry Richardson, who was born earlier?"  # no rule's shape


def _pieces(kind="comparison", second="When was Terry Richardson born?", **more):
    args = {
        "kind": kind,
        "pieces": [
            {"question": "When was Annie Morton born?", "entity": "Annie Morton"},
            {"question": second, "entity": "Terry Richardson"},
        ],
        "compare": "date",
        "winner": "smaller",
        **more,
    }
    return {"tool": "answer_in_pieces", "arguments": args}


def test_an_ollama_planner_decomposes_a_question_the_rules_call_single(films, models, store):
    turn, quiet, root = films
    assert not shape_of(BETWEEN).compound
    models["planner"].backend = "ollama"
    models["planner"].enqueue(_pieces())
    models["answerer"].enqueue("October 8, 1970 [1].", "August 14, 1965 [1].")
    r = turn.ask(BETWEEN, pipeline=quiet)
    assert r.answer == "Terry Richardson [2]." and not r.declined
    offered = models["planner"].calls[0]["tools"]
    assert [t.name for t in offered] == ["answer_in_pieces"]
    spans, hops = hop_spans(store, r.trace_id)
    assert [s["name"] for s in spans if s["parent_id"] is None] == [
        "decompose", "hop 1", "hop 2", "compose", "support",
    ]  # fmt: skip
    decompose = next(s for s in spans if s["name"] == "decompose")
    assert "shape by the planner model: comparison (2 pieces)" in decompose["notes"]
    assert [h["input"]["question"] for h in hops] == [
        "When was Annie Morton born?",
        "When was Terry Richardson born?",
    ]


def test_a_planner_that_calls_no_tool_or_gives_unusable_pieces_leaves_the_question_whole(
    films, models, store
):
    turn, quiet, _ = films
    models["planner"].backend = "ollama"
    # no tool call; then a bridge whose second piece does not use the first's answer
    models["planner"].enqueue({"answer": "single"}, _pieces(kind="bridge"))
    models["splitter"].enqueue(*[{"sub_questions": [BETWEEN]}] * 2)  # the ordinary path: "and"
    models["answerer"].enqueue("August 14, 1965 [1].", "August 14, 1965 [1].")
    for note in ("did not call answer_in_pieces", "a bridge's second piece must use {0}"):
        r = turn.ask(BETWEEN, pipeline=quiet)
        spans, hops = hop_spans(store, r.trace_id)
        decompose = next(s for s in spans if s["name"] == "decompose")
        assert hops == [] and "plan" in [s["name"] for s in spans]
        assert any(note in n for n in decompose["notes"] + [decompose.get("fallback") or ""])


def test_the_planner_model_is_not_asked_unless_ollama_serves_it(films, models, store):
    turn, quiet, _ = films  # the scripted models are not served by Ollama (nor is the bundled base)
    models["splitter"].enqueue({"sub_questions": [BETWEEN]})
    models["answerer"].enqueue("August 14, 1965 [1].")
    r = turn.ask(BETWEEN, pipeline=quiet)
    spans, _ = hop_spans(store, r.trace_id)
    assert "decompose" not in [s["name"] for s in spans] and models["planner"].calls == []


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        ({"kind": "bridge", "pieces": [{"question": "Who made Jaws?"}, {"question": "Where is he from?"}]},
         "must use {0}"),
        ({"kind": "comparison", "pieces": [{"question": "a?"}, {"question": "b?"}]}, "needs compare"),
        ({"kind": "both", "pieces": [{"question": "a?"}, {"question": "b?"}]}, "needs the subject"),
    ],
)  # fmt: skip
def test_pieces_a_model_states_must_make_a_usable_shape(args, problem):
    from openbook.agents.decompose import PiecesArgs

    with pytest.raises(ValueError, match=re.escape(problem)):
        PiecesArgs.model_validate(args).shape()
    bridge = {
        "kind": "bridge",
        "pieces": [{"question": "Who directed Jaws?"}, {"question": "Where was {0} born?"}],
    }
    assert [h.needs for h in PiecesArgs.model_validate(bridge).shape().hops] == [None, 0]

"""Compose the answer to a compound question from the answers of its pieces (``EachHop``):
compare the dates or numbers found, say yes or no, or substitute a bridge's first answer —
citing the passages of every piece. When a piece found nothing, say which part could not be
found instead of a bare decline.

The values are read from each piece's answer by rule (``kit/values.py``: ``date_of``,
``number_of``) — or, when the piece's reader missed the sentence that says it, from that
sentence of its note (``read_from_note``); no model call.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Literal

from pydantic import BaseModel, Field

from .kit.evidence import CITE, Passage, sentences_of, uncited
from .kit.grounding import headings
from .kit.hold import is_decline
from .kit.shapes import Shape
from .kit.step import Step, StepContext, TurnState
from .kit.values import (
    ENDED,
    MEASURES,
    NOTE_YEAR,
    NUMBER,
    SPAN,
    date_of,
    normal,
    quantity_of,
    with_day,
)
from .kit.words import tokenize


class HopAnswer(BaseModel):
    """One piece of a compound question, answered from its own evidence."""

    question: str
    entity: str = ""
    answer: str = ""  # with citations numbered as the turn's passages
    declined: bool = False
    evidence: str = ""  # the sentences of the passages it cites (for "both")
    note: list[Passage] = Field(default_factory=list)  # what its answerer read, numbered as the turn's
    # the whole passages it found (an intersection looks in them for the other piece's answer);
    # not in traces: the retrieve span lists them
    passages: list[Passage] = Field(default_factory=list, exclude=True)
    read_from_note: str = ""  # the note's sentence its value was read from (``read_from_note``)

    def read_again(self, answer: str, sentence: str) -> HopAnswer:
        """This piece answered ``answer`` by rule, from ``sentence``: its reader's answer set aside."""
        return self.model_copy(
            update={"answer": answer, "declined": False, "evidence": sentence, "read_from_note": sentence}
        )


class ComposeInput(BaseModel):
    question: str
    shape: Shape
    hops: list[HopAnswer]


class ComposeOutput(BaseModel):
    text: str
    declined: bool = False
    decided: Literal["compared", "substituted", "missing", "undecided"] = "undecided"
    values: list[str] = Field(default_factory=list)  # what was compared, per hop
    shown: bool = False  # never streamed token by token: the runner shows it whole
    hops: list[HopAnswer] = Field(default_factory=list)  # the pieces as composed (values read from notes)


def found(hop: HopAnswer) -> bool:
    """The hop has an answer, from a passage about its entity (one that names none of the
    entity's words answered about something else, e.g. the other hop's passage)."""
    if hop.declined or not uncited(hop.answer):
        return False
    about = set(tokenize(hop.entity))
    return not about or not hop.evidence or bool(about & set(tokenize(hop.evidence)))


def missing(hops: list[HopAnswer]) -> str:
    lost = [h.question for h in hops if not found(h)]
    found_ = [f"{h.question} {h.answer.strip()}" for h in hops if found(h)]
    text = "I could not find the answer to " + " or ".join(f'"{q}"' for q in lost) + " in your documents."
    if found_:
        text += " What I found: " + " ".join(found_)
    return text


def _cites(*hops: HopAnswer) -> str:
    return "".join(f"[{n}]" for n in dict.fromkeys(n for h in hops for n in CITE.findall(h.answer)))


def compose(question: str, shape: Shape, hops: list[HopAnswer]) -> ComposeOutput:
    """The answer to ``question`` from its pieces' answers, as ``shape`` says to combine them:
    short (the entity, yes or no, the bridge's answer), citing the passages it rests on; the
    pieces themselves are shown beside it (``TurnResult.pieces``)."""
    if shape.kind == "comparison" and shape.value in ("date", "number"):
        hops = [h if found(h) and says_it(h) else read_from_note(h, shape.value) or h for h in hops]
    out = _compose(question, shape, hops)
    return out if out.hops else out.model_copy(update={"hops": hops})


def _compose(question: str, shape: Shape, hops: list[HopAnswer]) -> ComposeOutput:
    if len(hops) < 2 or not all(found(h) for h in hops):
        return ComposeOutput(text=missing(hops), declined=True, decided="missing")
    values = [uncited(h.answer) for h in hops]
    if shape.kind == "bridge":
        return ComposeOutput(text=hops[1].answer.strip(), decided="substituted", values=values)
    if shape.kind == "intersection":
        return meets_both(hops, values, shape.subject)

    def verdict(yes: bool) -> ComposeOutput:
        return ComposeOutput(
            text=f"{'Yes' if yes else 'No'} {_cites(*hops)}.", decided="compared", values=values
        )

    if shape.kind == "same":
        a, b = (normal(h.answer) for h in hops)
        return verdict(bool(a & b))
    if shape.kind == "both":
        want = set(tokenize(shape.subject.lower())) - {"a", "an", "the"}
        held = [bool(want) and _holds(want, _said_of(h)) for h in hops]
        if all(held) or shape.subject[:1].isupper():  # a nationality: each one's was asked for
            hops = [_resting_on(h, want) for h in hops]  # what the verdict cites and quotes
            return verdict(all(held)).model_copy(update={"hops": hops})
        lacking = " or ".join(h.entity for h, ok in zip(hops, held, strict=True) if not ok)
        return _cannot_tell(f"I found nothing saying so of {lacking} ({shape.subject})", hops, values)
    read: list[Any]  # dates (year, month, day) or amounts: compared among their own kind
    if shape.value == "number":
        read, apart = _amounts(hops)
    else:
        read, apart = [date_of(h.answer, last=bool(ENDED.search(h.question))) for h in hops], False
    if read[0] is None or read[1] is None or read[0] == read[1]:
        why = (
            "they are the same"
            if read[0] is not None and read[0] == read[1]
            else "I could not read a value of one kind from each"
            if apart
            else "I could not read a value from each"
        )
        return _cannot_tell(why, hops, values)
    first_wins = (read[0] < read[1]) == (shape.pick == "min")
    if shape.yes_no:
        return verdict(first_wins)
    winner = hops[0 if first_wins else 1]
    return ComposeOutput(text=f"{winner.entity} {_cites(winner)}.", decided="compared", values=values)


def _cannot_tell(why: str, hops: list[HopAnswer], values: list[str]) -> ComposeOutput:
    listed = "; ".join(f"{h.entity}: {h.answer.strip().rstrip('.')}" for h in hops)
    return ComposeOutput(text=f"I cannot tell: {why}. {listed}.", decided="undecided", values=values)


def _amounts(hops: list[HopAnswer]) -> tuple[list[float | None], bool]:
    """The quantities two pieces found, comparable, and whether they were of different kinds:
    in one unit where both are measures of one kind ("1,046 feet" against "443 metres"), as read
    where either is a bare number or both count things, none where a measure meets a count of
    something else ("140,000 kilometres" against "six planets")."""
    found = [quantity_of(h.answer) for h in hops]
    if found[0] is None or found[1] is None:
        return [q[0] if q else None for q in found], False
    (x, first, one), (y, second, other) = found[0], found[1]
    if first in MEASURES and first == second:
        return [x * one, y * other], False
    if (first in MEASURES or second in MEASURES) and first and second and first != second:
        return [None, None], True
    return [x, y], False


def _said_of(hop: HopAnswer) -> set[str]:
    """The words said of a piece's entity: its answer, the passages it cites, and every sentence
    of its note or passages that names the entity ("Titan is Saturn's largest moon" where the
    answer came from the passage about its lakes)."""
    words = normal(hop.answer) | normal(hop.evidence)
    for _n, sentence in _naming(hop):
        words |= normal(sentence)
    return words


def _naming(hop: HopAnswer) -> Iterator[tuple[int, str]]:
    """The sentences of a piece's note, then of its passages, that name every word of its entity,
    with their passage number."""
    about = set(tokenize(hop.entity))
    if not about:
        return
    for p in [*hop.note, *hop.passages]:
        for sentence in sentences_of(p.text) or [p.text]:
            if about <= set(tokenize(sentence)):
                yield p.n, sentence


def _resting_on(hop: HopAnswer, want: set[str]) -> HopAnswer:
    """The piece as a "both" verdict rests on it: where its answer and the passages it cites do
    not say the wanted words but a sentence naming its entity does ("Titan is Saturn's largest
    moon", where it answered from the passage about Titan's lakes), that sentence, cited, is
    what it found — so the verdict cites and quotes the sentence it rests on."""
    if not want or _holds(want, normal(hop.answer) | normal(hop.evidence)):
        return hop
    for n, sentence in _naming(hop):
        if _holds(want, normal(sentence)):
            return hop.read_again(f"{sentence.rstrip('.')} [{n}]", sentence)
    return hop


def _holds(wanted: set[str], words: set[str]) -> bool:
    """Every wanted word is among ``words``, or shares its first letters with one of them (four
    or more: "direct films" is said by "a film director")."""

    def said(w: str) -> bool:
        if w in words:
            return True
        return len(w) >= 4 and any(len(x) >= 4 and (x.startswith(w) or w.startswith(x)) for x in words)

    return all(said(w) for w in wanted)


# where an entity is ("Feyenoord in Rotterdam", "the Louvre in Paris"): a sentence about it need not say
_PLACED = re.compile(r"\s+in\s+(?:[A-Z][\w'’.-]*\s*)+$")


# a sentence that goes on about what the one before it named ("The book … since its release in 2007")
_REFERS = re.compile(r"^\W*(?:it|its|he|she|his|her|they|their|this|these|the\s+[a-z]+)\b", re.I)


def _saying(
    hop: HopAnswer, texts: list[tuple[int, str]], follow: bool = False
) -> list[tuple[int, str, int, str]]:
    """The sentences of ``texts`` that say what the piece asks: they name every word of its
    entity (but where it is: "Feyenoord, founded in 1908" names "Feyenoord in Rotterdam") and at
    least one of its other words ("Kythera … was founded in 2005" for "When was
    Kythera founded?"; a sentence that only names Kythera and a year says nothing of its
    founding) — with their passage number, how many of those other words they hold, and the
    sentence before them where they point back to it. ``follow``: instead, the sentences that
    open by pointing back ("It", "The book") right after one that names the entity, and hold one
    of the other words."""
    about = set(tokenize(_PLACED.sub("", hop.entity)))
    asked = set(tokenize(hop.question)) - set(tokenize(hop.entity))
    out = []
    for n, text in texts:
        before = ""  # the sentence before, when it names the entity
        for sentence in sentences_of(text) or [text]:
            words = set(tokenize(sentence))
            names = bool(about) and about <= words
            pointing = bool(before) and not names and bool(_REFERS.match(sentence))
            if (pointing if follow else names) and (asked & words or not asked):
                out.append((n, sentence, len(asked & words), before if follow else ""))
            before = sentence if names else ""
    return out


def _runs(hop: HopAnswer) -> list[tuple[int, str]]:
    """Where a sentence can be read after the one before it: the note's sentences as runs of one
    passage each (a note holds a sentence an item, in passage order), then the whole passages the
    piece found (the note leaves out a sentence that names neither the entity nor the question's
    words: "The book … since its release in 2007")."""
    out: list[tuple[int, str]] = []
    for p in hop.note:
        if out and out[-1][0] == p.n:
            out[-1] = (p.n, f"{out[-1][1]} {p.text}")
        else:
            out.append((p.n, p.text))
    return out + [(p.n, p.text) for p in hop.passages]


def says_it(hop: HopAnswer) -> bool:
    """Whether the piece's answer stands in a sentence that says what the piece asks (of its
    note, or of the passages it cites); where none names its entity, one pointing back to it."""
    value = " ".join(uncited(hop.answer).lower().split())
    texts = [(p.n, p.text) for p in hop.note] + [(0, hop.evidence)]
    saying = _saying(hop, texts) or _saying(hop, [*_runs(hop), (0, hop.evidence)], follow=True)
    return bool(value) and any(value in " ".join(s.lower().split()) for _, s, _, _ in saying)


def read_from_note(hop: HopAnswer, value: str) -> HopAnswer | None:
    """A compared piece whose reader declined, answered about something else (``found``) or
    copied a value from a sentence that does not say what was asked (``says_it``): its value
    read by rule from the note the reader was given instead — the sentence that says what the
    piece asks (``_saying``) and holds a value of the kind compared, sharing most of the piece's
    words; in it, the value nearest those words. A small reader given "Founded in 1999, Virgin
    Active operates …" beside "The CVC funds acquired a 51 percent stake in Virgin Active in
    2011" may copy 2011; given "Kythera, …, was founded in 2005" beside "The mission was founded
    in 1879", 1879. Where no sentence naming the entity holds such a value, one pointing back to
    it right after such a sentence may ("… memoir “Fun Home” as an example. The book … has been a
    best seller since its release in 2007"). None when no sentence of the note qualifies (the
    reader's answer stands)."""
    asked = set(tokenize(hop.question)) - set(tokenize(hop.entity))
    pattern = NOTE_YEAR if value == "date" else NUMBER
    texts = [(p.n, p.text) for p in hop.note]
    candidates = [c for c in _saying(hop, texts) if pattern.search(c[1])]
    if not candidates:  # no sentence naming it holds a value: one pointing back to it may
        candidates = [c for c in _saying(hop, _runs(hop), follow=True) if pattern.search(c[1])]
    if not candidates:
        return None
    n, sentence, _, lead = max(candidates, key=lambda c: c[2])  # the first of the best, in note order
    anchors = [m.start() for m in re.finditer(r"[A-Za-z]+", sentence) if asked & set(tokenize(m.group()))]
    nearest = min(
        pattern.finditer(sentence), key=lambda m: min((abs(m.start() - a) for a in anchors), default=0)
    )
    span = SPAN.search(sentence, max(0, nearest.start() - 1))
    if (
        value == "date"
        and ENDED.search(hop.question)
        and span is not None
        and span.start(1) == nearest.start()
    ):
        found_value = span.group(2)  # the end of a span of years, for "When did … die?"
    elif value == "date":
        found_value = with_day(sentence, nearest)
    else:
        found_value = nearest.group(0).strip()
    return hop.read_again(f"{found_value} [{n}]", f"{lead} {sentence}".strip())


def meets_both(hops: list[HopAnswer], values: list[str], subject: str = "") -> ComposeOutput:
    """An intersection's answer: the one both hops found; else a hop's answer that the other
    condition holds for too — the other hop's evidence names it, or its own evidence holds the
    other condition's words ("… starred Tom Hanks and was directed by Steven Spielberg"); else say
    what each condition found, undecided."""
    a, b = hops
    if normal(a.answer) & normal(b.answer):
        return ComposeOutput(text=f"{uncited(a.answer)} {_cites(a, b)}.", decided="compared", values=values)
    asked = set(tokenize(subject))
    for this, other in ((a, b), (b, a)):
        condition = set(tokenize(other.question)) - asked
        named = bool(normal(this.answer)) and normal(this.answer) <= normal(other.evidence)
        if named or (condition and condition <= set(tokenize(this.evidence))):
            cites = _cites(this, other) if named else _cites(this)  # the passages that hold it
            return ComposeOutput(text=f"{uncited(this.answer)} {cites}.", decided="compared", values=values)
    for i, (this, other) in enumerate(((a, b), (b, a))):
        condition = set(tokenize(other.question)) - asked
        said = _says_of(normal(this.answer), condition, [*other.passages, *this.passages])
        if said is not None:  # the other piece, read again: this answer, from the sentence saying it
            n, sentence = said
            again = other.read_again(f"{uncited(this.answer)} [{n}]", sentence)
            cites = "".join(f"[{c}]" for c in dict.fromkeys([*CITE.findall(this.answer), str(n)]))
            return ComposeOutput(
                text=f"{uncited(this.answer)} {cites}.",
                decided="compared",
                values=values,
                hops=[this, again] if i == 0 else [again, this],
            )
    listed = "; ".join(f'"{h.question}" {h.answer.strip()}' for h in hops)
    return ComposeOutput(
        text=f"I found no answer that meets both conditions. {listed}", declined=True, decided="undecided",
        values=values,
    )  # fmt: skip


def _says_of(named: set[str], condition: set[str], passages: list[Passage]) -> tuple[int, str] | None:
    """A passage's number and sentence that holds every word of ``condition`` and, read with
    the sentences beside it and the passage's headings, names every word of ``named`` (one
    piece's answer, the other piece's condition: "# Cassini–Huygens … It launched in October
    1997" for Cassini and "launched in October 1997"), when a piece's reader missed it."""
    if not named or not condition:
        return None
    for p in passages:
        sentences = sentences_of(p.text) or [p.text]
        head = headings(p.text)
        for i in range(len(sentences)):
            words = normal(" ".join([head, *sentences[max(0, i - 1) : i + 2]]))
            if condition <= set(tokenize(sentences[i])) and named <= words:
                return p.n, sentences[i]
    return None


class Compose(Step[ComposeInput, ComposeOutput]):
    name = "compose"
    Input, Output = ComposeInput, ComposeOutput

    def read(self, state: TurnState, ctx: StepContext) -> ComposeInput:
        return ComposeInput(question=state.query or state.question, shape=state.shape, hops=state.hops)

    def run(self, ctx: StepContext, inp: ComposeInput) -> ComposeOutput:
        out = compose(inp.question, inp.shape, inp.hops)
        for before, after in zip(inp.hops, out.hops, strict=True):
            if after.read_from_note and not before.read_from_note:
                was = before.answer.strip() if not before.declined else "declined"
                ctx.note(
                    f"{before.question} read again: {uncited(after.answer)} from {after.read_from_note!r}, "
                    f"the sentence that says it (the reader's answer: {was})"
                )
                if ctx.on_token is not None:  # the piece was shown as the reader answered it
                    ctx.on_token(
                        f"{after.question} → {after.answer} (read again from the sentence that says "
                        f"it; the reader's answer was {was})\n\n"
                    )
        ctx.note(f"{inp.shape.kind}: {out.decided}" + (f" {out.values}" if out.values else ""))
        return out

    def write(self, state: TurnState, out: ComposeOutput, ctx: StepContext) -> None:
        state.answer, state.declined = out.text, out.declined or is_decline(out.text)
        state.hops = list(out.hops) or state.hops  # the pieces shown beside the answer, as composed

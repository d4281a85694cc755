"""Compose the answer to a compound question from the answers of its pieces (``EachHop``):
compare the dates or numbers found, say yes or no, or substitute a bridge's first answer —
citing the passages of every piece. When a piece found nothing, say which part could not be
found instead of a bare decline.

The values are read from each piece's answer by rule (``date_of``, ``number_of``); no model call.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field

from .kit.evidence import CITE, Passage, sentences_of, uncited
from .kit.grounding import headings
from .kit.hold import is_decline
from .kit.shapes import Shape
from .kit.step import Step, StepContext, TurnState
from .kit.words import tokenize

MONTHS = {
    m: i
    for i, names in enumerate(
        [
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
            ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
            ("october", "oct"), ("november", "nov"), ("december", "dec"),
        ],
        1,
    )
    for m in names
}  # fmt: skip
_YEAR = re.compile(r"\b(\d{3,4})\s*(BC|BCE|B\.C\.)?\b", re.I)
_SPAN = re.compile(r"\b(\d{3,4})\s*(?:-|–|—|to|until)\s*(\d{3,4})\b")
# a piece asking when something ended reads the end of a span of years
_ENDED = re.compile(r"\b(die|died|death|end|ended|close|closed|dissolved|abolished|demolished)\b", re.I)
_DAY_MONTH = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?([A-Za-z]{3,9})\.?\b")
_MONTH_DAY = re.compile(r"\b([A-Za-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b")
_NUMBER = re.compile(
    r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\s*(thousand|million|billion|trillion)?", re.I
)
_SCALE = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
_WORD_NUMBERS = {
    **{
        w: i
        for i, w in enumerate(
            "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
            "fifteen sixteen seventeen eighteen nineteen".split()
        )
    },
    **{w: 10 * i for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split(), 2)},
    "dozen": 12, "hundred": 100, "thousand": 1000, "million": 1_000_000,
}  # fmt: skip
_DEMONYMS = {
    "united states": "american", "usa": "american", "us": "american", "america": "american",
    "united kingdom": "british", "uk": "british", "britain": "british", "england": "english",
    "france": "french", "germany": "german", "italy": "italian", "spain": "spanish", "canada": "canadian",
    "australia": "australian", "japan": "japanese", "china": "chinese", "india": "indian",
    "russia": "russian", "ireland": "irish", "scotland": "scottish", "mexico": "mexican",
    "brazil": "brazilian", "netherlands": "dutch", "sweden": "swedish", "norway": "norwegian",
}  # fmt: skip


def date_of(text: str, last: bool = False) -> tuple[int, int, int] | None:
    """(year, month, day) of the first date in ``text``; month and day 0 when not given. With
    ``last``, a span of years ("1891-1981", a life's) gives its end."""
    text = uncited(text)
    span = _SPAN.search(text) if last else None
    if span is not None:
        return int(span.group(2)), 0, 0
    year = _YEAR.search(text)
    if year is None:
        return None
    y = int(year.group(1)) * (-1 if year.group(2) else 1)
    month = day = 0
    for m in (_DAY_MONTH.search(text), _MONTH_DAY.search(text)):
        if m is None:
            continue
        a, b = m.group(1), m.group(2)
        name, num = (b, a) if a.isdigit() else (a, b)
        if name.lower() in MONTHS and 1 <= int(num) <= 31:
            month, day = MONTHS[name.lower()], int(num)
            break
    if not month:
        month = next(
            (MONTHS[w] for w in re.findall(r"[A-Za-z]+", text.lower()) if w in MONTHS and w != "may"), 0
        )
    return y, month, day


def number_of(text: str) -> float | None:
    """The first quantity in ``text`` (commas, decimals, "2.5 million", "twelve")."""
    text = uncited(text)
    m = _NUMBER.search(text)
    if m is not None:
        value = float(m.group(1).replace(",", ""))
        return value * _SCALE.get((m.group(2) or "").lower(), 1.0)
    for word in re.findall(r"[a-z]+", text.lower()):
        if word in _WORD_NUMBERS:
            return float(_WORD_NUMBERS[word])
    return None


def normal(value: str) -> set[str]:
    """The words an attribute value is compared by (a country counts as its demonym)."""
    text = uncited(value).lower()
    for country, demonym in _DEMONYMS.items():
        text = re.sub(rf"\b{re.escape(country)}\b", demonym, text)
    return set(tokenize(text))


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
        return verdict(all(bool(want) and want <= normal(h.answer) | normal(h.evidence) for h in hops))
    read = [
        date_of(h.answer, last=bool(_ENDED.search(h.question)))
        if shape.value == "date"
        else number_of(h.answer)
        for h in hops
    ]
    if read[0] is None or read[1] is None or read[0] == read[1]:
        why = (
            "they are the same"
            if read[0] is not None and read[0] == read[1]
            else "I could not read a value from each"
        )
        listed = "; ".join(f"{h.entity}: {h.answer.strip().rstrip('.')}" for h in hops)
        return ComposeOutput(text=f"I cannot tell: {why}. {listed}.", decided="undecided", values=values)
    first_wins = (read[0] < read[1]) == (shape.pick == "min")  # type: ignore[operator]
    if shape.yes_no:
        return verdict(first_wins)
    winner = hops[0 if first_wins else 1]
    return ComposeOutput(text=f"{winner.entity} {_cites(winner)}.", decided="compared", values=values)


# a year in a sentence: not part of a decimal, an amount of money or a count of millions
_NOTE_YEAR = re.compile(
    r"(?<![\d.,$£€])\b(\d{3,4})\b(?![.,]\d)(?!\s*(?:%|percent|million|billion))(\s*(?:BC|BCE|B\.C\.))?"
)


# where an entity is ("Feyenoord in Rotterdam", "the Louvre in Paris"): its sentences may not say
_PLACED = re.compile(r"\s+in\s+(?:[A-Z][\w'’.-]*\s*)+$")


# the month and day written before a year: "October 8, 1970", "14 August 1965", "May 1607"
_DAY_BEFORE = re.compile(
    r"(?:\b([A-Za-z]{3,9})\.?\s+\d{1,2}(?:st|nd|rd|th)?,?|\b\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?"
    r"([A-Za-z]{3,9})\.?,?|\b([A-Za-z]{3,9})\.?,?)\s+$"
)


def _with_day(sentence: str, year: re.Match[str]) -> str:
    """The year ``year`` found in ``sentence``, with the month and day written before it."""
    before = _DAY_BEFORE.search(sentence[: year.start()])
    month = before and next((g for g in before.groups() if g), "").lower()
    start = before.start() if before and month in MONTHS else year.start()
    return sentence[start : year.end()].strip()


def _saying(hop: HopAnswer, texts: list[tuple[int, str]]) -> list[tuple[int, str, int]]:
    """The sentences of ``texts`` that say what the piece asks: they name every word of its
    entity (but where it is: "Feyenoord, founded in 1908" names "Feyenoord in Rotterdam") and at
    least one of its other words ("Kythera … was founded in 2005" for "When was
    Kythera founded?"; a sentence that only names Kythera and a year says nothing of its
    founding) — with their passage number and how many of those other words they hold."""
    about = set(tokenize(_PLACED.sub("", hop.entity)))
    asked = set(tokenize(hop.question)) - set(tokenize(hop.entity))
    out = []
    for n, text in texts:
        for sentence in sentences_of(text) or [text]:
            words = set(tokenize(sentence))
            if about and about <= words and (asked & words or not asked):
                out.append((n, sentence, len(asked & words)))
    return out


def says_it(hop: HopAnswer) -> bool:
    """Whether the piece's answer stands in a sentence that says what the piece asks (of its
    note, or of the passages it cites)."""
    value = " ".join(uncited(hop.answer).lower().split())
    texts = [(p.n, p.text) for p in hop.note] + [(0, hop.evidence)]
    return bool(value) and any(value in " ".join(s.lower().split()) for _, s, _ in _saying(hop, texts))


def read_from_note(hop: HopAnswer, value: str) -> HopAnswer | None:
    """A compared piece whose reader declined, answered about something else (``found``) or
    copied a value from a sentence that does not say what was asked (``says_it``): its value
    read by rule from the note the reader was given instead — the sentence that says what the
    piece asks (``_saying``) and holds a value of the kind compared, sharing most of the piece's
    words; in it, the value nearest those words. A small reader given "Founded in 1999, Virgin
    Active operates …" beside "The CVC funds acquired a 51 percent stake in Virgin Active in
    2011" may copy 2011; given "Kythera, …, was founded in 2005" beside "The mission was founded
    in 1879", 1879. None when no sentence of the note qualifies (the reader's answer stands)."""
    asked = set(tokenize(hop.question)) - set(tokenize(hop.entity))
    pattern = _NOTE_YEAR if value == "date" else _NUMBER
    candidates = [c for c in _saying(hop, [(p.n, p.text) for p in hop.note]) if pattern.search(c[1])]
    if not candidates:
        return None
    n, sentence, _ = max(candidates, key=lambda c: c[2])  # the first of the best, in note order
    anchors = [m.start() for m in re.finditer(r"[A-Za-z]+", sentence) if asked & set(tokenize(m.group()))]
    nearest = min(
        pattern.finditer(sentence), key=lambda m: min((abs(m.start() - a) for a in anchors), default=0)
    )
    span = _SPAN.search(sentence, max(0, nearest.start() - 1))
    if (
        value == "date"
        and _ENDED.search(hop.question)
        and span is not None
        and span.start(1) == nearest.start()
    ):
        found_value = span.group(2)  # the end of a span of years, for "When did … die?"
    elif value == "date":
        found_value = _with_day(sentence, nearest)
    else:
        found_value = nearest.group(0).strip()
    return hop.model_copy(
        update={
            "answer": f"{found_value} [{n}]",
            "declined": False,
            "evidence": sentence,
            "read_from_note": sentence,
        }
    )


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
            again = other.model_copy(
                update={
                    "answer": f"{uncited(this.answer)} [{n}]",
                    "declined": False,
                    "evidence": sentence,
                    "read_from_note": sentence,
                }
            )
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

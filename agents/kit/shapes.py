"""The shape of a compound question, by rule: what the planner decomposes, and how the answers
of its pieces are put back together (``agents/compose.py``).

- **comparison** — "Who is older, A or B?", "Which has more moons, A or B?", "Is A or B
  larger?", "Which city has a larger population, A or B?", "Is A larger than B?", "Was A born
  before B?": one hop per entity asking for the compared value; the composition
  compares the values found (dates, numbers). Asked as yes/no, the answer is yes or no.
- **same** — "Were A and B of the same nationality?", "Are A and B located in the same city?":
  one hop per entity for the attribute; yes when the values agree.
- **both** — "Are A and B both American?": one hop per entity; yes when each one's evidence says so.
- **bridge** — "When was the founder of Microsoft born?": the inner question ("Who is the founder
  of Microsoft?") is answered first and its answer fills the outer one ("When was {0} born?").
- **intersection** — "Which film was directed by Steven Spielberg and starred Tom Hanks?": one hop
  per condition ("Which film was directed by Steven Spielberg?", "Which film starred Tom
  Hanks?"); the answer is the one that meets both (both hops found it, or one hop's answer is in
  the other's evidence).
- **single** — anything else: the ordinary turn.

Only question text is read: no model call, so a single-hop question pays nothing for this.
"""

from __future__ import annotations

import re
from typing import Literal, cast

from pydantic import BaseModel, Field

Kind = Literal["single", "comparison", "same", "both", "bridge", "intersection"]
# what a comparison looks for in each hop's answer, and which end wins
Value = Literal["date", "number", "text"]
Pick = Literal["min", "max", ""]


class Hop(BaseModel):
    text: str  # the sub-question; "{0}" stands for an earlier hop's answer (bridge)
    entity: str = ""  # whom it is about (comparison, same, both)
    needs: int | None = None  # the hop whose answer fills "{0}"


class Shape(BaseModel):
    kind: Kind = "single"
    hops: list[Hop] = Field(default_factory=list)
    value: Value = "text"
    pick: Pick = ""  # comparison: the smaller (earlier) or larger (later) value answers
    yes_no: bool = False  # answered yes or no (the first entity holds the relation, or not)
    subject: str = ""  # what is compared or asked ("older", "nationality", "American")

    @property
    def compound(self) -> bool:
        return self.kind != "single"


SINGLE = Shape()

_STOP_END = re.compile(r"[?.!\s]+$")
_ARTICLE = re.compile(r"^(the|a|an)\s+", re.I)
_APPOSITIVE = re.compile(r",\s*(?=[\"“])")

# comparative -> (value, pick, hop template). {E}: the entity; {N}: the noun after more/fewer.
_COMPARATIVES: dict[str, tuple[Value, Pick, str]] = {
    "older": ("date", "min", "When was {E} born?"),
    "elder": ("date", "min", "When was {E} born?"),
    "younger": ("date", "max", "When was {E} born?"),
    "larger": ("number", "max", "How large is {E}?"),
    "bigger": ("number", "max", "How big is {E}?"),
    "smaller": ("number", "min", "How large is {E}?"),
    "taller": ("number", "max", "How tall is {E}?"),
    "shorter": ("number", "min", "How long is {E}?"),
    "longer": ("number", "max", "How long is {E}?"),
    "higher": ("number", "max", "How high is {E}?"),
    "lower": ("number", "min", "How high is {E}?"),
    "heavier": ("number", "max", "How heavy is {E}?"),
    "lighter": ("number", "min", "How heavy is {E}?"),
    "deeper": ("number", "max", "How deep is {E}?"),
    "wider": ("number", "max", "How wide is {E}?"),
    "hotter": ("number", "max", "What is the temperature of {E}?"),
    "colder": ("number", "min", "What is the temperature of {E}?"),
    "farther": ("number", "max", "How far away is {E}?"),
    "further": ("number", "max", "How far away is {E}?"),
    "closer": ("number", "min", "How far away is {E}?"),
    "nearer": ("number", "min", "How far away is {E}?"),
    "faster": ("number", "max", "How fast is {E}?"),
    "slower": ("number", "min", "How fast is {E}?"),
    "more": ("number", "max", "How many {N} does {E} have?"),
    "fewer": ("number", "min", "How many {N} does {E} have?"),
    "less": ("number", "min", "How much {N} does {E} have?"),
}
_FIRST = {"first", "earlier", "earliest", "sooner", "before", "older"}
_LAST = {"last", "later", "latest", "more recently", "most recently", "after", "newer", "younger"}
_EVENT_VERBS = (
    "born|founded|established|formed|created|released|published|built|opened|completed|discovered|"
    "launched|started|written|made|produced|introduced|invented|signed|elected|died|married|finished|"
    "begin|began|start|open|die|end|ended|close|closed"
)
# verbs asked with "did": the past form in "Which began first" -> the hop's "When did {E} begin?"
_DID = {
    "began": "begin", "started": "start", "died": "die", "ended": "end", "closed": "close", "opened": "open",
}  # fmt: skip
_BASE = set(_DID.values())

# "Who is older, A or B?" / "Which was released first: A or B?"
_WHICH = re.compile(r"^(who|which(?:\s+\w+)?|what(?:\s+\w+)?)\s+(.+?)\s*[,:]\s*(.+?)\s+or\s+(.+)$", re.I)
# "Is A older than B?" / "Does A have more moons than B?" (only a comparative the rules know
# ends A: "Is the Chrysler Building taller than …" is not cut after "Chrysler")
_THAN = re.compile(
    r"^(is|was|are|were|does|did|do|has|had)\s+(.+?)\s+(?:have\s+|has\s+)?"
    rf"\b({'|'.join(_COMPARATIVES)})\s*((?:[a-z]+\s+){{0,2}}?)than\s+(.+)$",
    re.I,
)
# "Was A born before B?" / "Was A founded after B?"
_BEFORE = re.compile(rf"^(was|were|did)\s+(.+?)\s+(?:get\s+)?({_EVENT_VERBS})\s+(before|after)\s+(.+)$", re.I)
# "Were A and B of the same nationality?" / "Do A and B have the same director?"
_SAME = re.compile(
    r"^(?:are|were|is|was|do|did|does)\s+(?:both\s+)?(.+?)\s+and\s+(.+?)"
    r"(?:\s+(located|based|situated|found|born|known\s+for|used\s+for|made\s+of|named\s+after))?"
    r"\s+(?:of|from|in|on|by|for|have|had|share)?\s*(?:the\s+)?same\s+(.+)$",
    re.I,
)
_PLACES = {"located", "based", "situated", "found", "born"}
# "Are A and B both American?" / "Are both A and B directors?"
_BOTH = re.compile(
    r"^(?:are|were|did|do|does|have|has|had)\s+(?:both\s+)?(.+?)\s+and\s+(.+?)\s+both\s+(.+)$"
    r"|^(?:are|were)\s+both\s+(.+?)\s+and\s+(.+?)\s+((?:an?\s+)?[a-z][\w\s-]*)$",
    re.I,
)
# a name's small words between its capitalised ones ("Kings of Leon", "Bank of America")
_LINKS = {"of", "the", "de", "du", "von", "van", "la", "le", "&", "and", "for", "on", "in"}
# a capitalised word that describes rather than names ("American rock bands")
_DEMONYM = re.compile(r"(?:an|ian|ish|ese|ch|ic|i)$")
_ROLES = (
    "director|author|writer|founder|co-founder|creator|inventor|designer|architect|composer|"
    "producer|president|leader|captain|coach|manager|owner|ceo|chairman|singer|lead singer|star|"
    "father|mother|wife|husband|son|daughter|brother|sister|capital|publisher|"
    "developer|manufacturer|discoverer|host|narrator|editor|successor|predecessor"
)
# "... the founder of Microsoft ..." inside a question that asks something else of them
_BRIDGE = re.compile(
    rf"\bthe\s+({_ROLES})\s+of\s+((?:the\s+)?(?:[A-Z\"'][\w'\".&-]*)(?:\s+(?:of\s+|the\s+|and\s+|&\s+)?[A-Z0-9\"'][\w'\".&-]*)*)"
)
_ATTRIBUTES = {
    "nationality", "age", "height", "religion", "occupation", "profession", "ethnicity", "gender",
    "language", "citizenship", "population", "size",
}  # fmt: skip
_DEMONYM_ATTRS = {"nationality", "citizenship", "country", "country of origin", "origin"}


def _clean(text: str) -> str:
    return _STOP_END.sub("", text.strip()).strip(" ,;:\"'")


def _entity(text: str) -> str:
    out = _clean(_ARTICLE.sub("", _clean(text)) if text[:1].islower() else _clean(text))
    out = _APPOSITIVE.sub(" ", out)  # 'the movie, "The Last Waltz"' → 'movie "The Last Waltz"'
    if out.count('"') % 2:  # _clean took the closing quote of a title that ends the entity
        out += '"'
    return out + "”" * (out.count("“") - out.count("”"))


def _same_hop(attribute: str) -> str:
    attr = attribute.lower()
    if attr in _DEMONYM_ATTRS:
        return "What nationality is {E}?"
    if attr in ("age",):
        return "When was {E} born?"
    if attr in ("birthplace", "place of birth", "hometown"):
        return "Where was {E} born?"
    return f"What is the {attribute} of {{E}}?"


def _hops(template: str, entities: list[str], noun: str = "") -> list[Hop]:
    return [Hop(text=template.replace("{N}", noun).replace("{E}", e), entity=e) for e in entities]


def _comparative(word: str) -> tuple[Value, Pick, str] | None:
    word = word.lower()
    if word in _COMPARATIVES:
        return _COMPARATIVES[word]
    return None


# words a compound question the rules did not recognise would hold ("Which came out earlier, …",
# "… and also …", "… the same …"): only such questions are put to a planner model (``decompose``)
_MAYBE = re.compile(
    r"\b(or|and|both|same|either|neither|than|before|after|first|last|earlier|later|"
    + "|".join(_COMPARATIVES)
    + r")\b",
    re.I,
)


def may_be_compound(question: str) -> bool:
    """Whether a question the rules call single may still be compound (cheap: a word test)."""
    return bool(_MAYBE.search(question))


def shape_of(question: str) -> Shape:
    """The question's shape, by rule (``SINGLE`` when no rule applies)."""
    q = " ".join(question.split())
    if not q:
        return SINGLE
    for find in (_which, _which_of, _than, _before, _same, _both, _bridge, _intersection):
        found = find(q)
        if found is not None:
            return found
    return SINGLE


_LONGEST = 16  # words in an option: "the law review article comparing … to the Microsoft case" is one


def _listed(a: str) -> bool:
    """Whether the first option is itself a list ("Mars, Venus" of "Mars, Venus or Jupiter?"):
    every part between its commas is a short name. A long part is one name with a comma in it
    ("Imperialism, the Highest Stage of Capitalism"; "the College of … of Bombay, India")."""
    parts = [p for p in a.split(",") if p.strip()]
    return len(parts) > 1 and all(len(p.split()) <= 4 for p in parts)


def _which(q: str) -> Shape | None:
    m = _WHICH.match(_clean(q) + "?")
    if not m:
        return None
    asker = m.group(1).lower().split()
    head = " ".join(asker[1:] + [m.group(2).lower()])  # "which began first" -> "began first"
    a, b = _entity(m.group(3)), _entity(m.group(4))
    if not a or not b or len(a.split()) > _LONGEST or len(b.split()) > _LONGEST or _listed(a) or " or " in b:
        return None  # more than two options
    words = head.split()
    verb = next((w for w in words if re.fullmatch(_EVENT_VERBS, w)), "")
    ordered = any(w in _FIRST or w in _LAST for w in words)
    if ordered and not verb and len(words) > 2 and "older" not in words and "younger" not in words:
        return None  # "Who appointed a commissioner first": no verb we know how to ask with
    if ordered and verb in _DID and not re.search(r"\b(was|were|is|are)\b", head):  # "began first"
        when = f"When did {{E}} {_DID[verb]}?"
        pick: Pick = "max" if any(w in _LAST for w in words) else "min"
        return Shape(kind="comparison", hops=_hops(when, [a, b]), value="date", pick=pick, subject=head)
    for marks, age, pick_ in ((_FIRST, "older", "min"), (_LAST, "younger", "max")):
        if any(w in marks for w in words) or any(p in head for p in marks if " " in p):
            unnamed = "When was {E} born?" if age in words else "When was {E} founded?"
            template = f"When was {{E}} {verb}?" if verb else unnamed
            hops = _hops(template, [a, b])
            return Shape(kind="comparison", hops=hops, value="date", pick=cast(Pick, pick_), subject=head)
    for i, w in enumerate(words):
        found = _comparative(w)
        if found is None:
            continue
        value, pick, template = found
        rest = words[i + 1 :]
        if w in ("more", "fewer", "less"):
            if not rest or not _plural(rest[0]):
                return None  # "more expensive", "more likely": not a count
            noun = rest[0]
        elif len(rest) == 1 and value == "number" and _HAS.search(" ".join(words[:i])):
            # "Which city has a larger population, A or B?": the noun is the compared value
            template, noun = f"What is the {rest[0]} of {{E}}?", ""
        elif rest:
            return None  # "a higher likelihood of …": the compared thing is not the adjective
        else:
            noun = ""
        return Shape(
            kind="comparison", hops=_hops(template, [a, b], noun), value=value, pick=pick, subject=head
        )
    return None


_HAS = re.compile(r"\b(?:has|have|had)(?:\s+(?:a|an|the))?$")
# "Is A or B older?" / "Was A or B founded first?": which of the two, asked the other way round
_WHICH_OF = re.compile(
    rf"^(is|was|are|were)\s+(.+?)\s+or\s+(.+?)\s+(?:({'|'.join(_COMPARATIVES)})|({_EVENT_VERBS})\s+"
    r"(first|earlier|later|last))$",
    re.I,
)


def _which_of(q: str) -> Shape | None:
    m = _WHICH_OF.match(_clean(q))
    if not m or m.group(2).lower().split()[-1] in _COMPARATIVES or " or " in m.group(3):
        return None  # "Is the salinity higher or lower than …": offers both, asks neither
    asked = m.group(4) or f"{m.group(5)} {m.group(6)}"
    return _which(f"Which {m.group(1).lower()} {asked}, {m.group(2)} or {m.group(3)}?")


def _plural(word: str) -> bool:
    return len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is"))


def _than(q: str) -> Shape | None:
    m = _THAN.match(_clean(q))
    if not m or " or " in m.group(2) or m.group(2).endswith(" or"):
        return None  # "higher or lower than": the question offers both
    word = m.group(3).lower()
    found = _comparative(word)
    if found is None:
        return None
    value, pick, template = found
    a, b = _entity(m.group(2)), _entity(m.group(5))
    noun = _clean(m.group(4))
    if word in ("more", "fewer", "less") and not (noun and _plural(noun.split()[-1])):
        return None
    if word not in ("more", "fewer", "less") and noun:
        return None  # "higher or lower than", "larger in size than": not one compared value
    if not a or not b:
        return None
    return Shape(
        kind="comparison", hops=_hops(template, [a, b], noun), value=value, pick=pick, yes_no=True,
        subject=f"{word} {noun}".strip(),
    )  # fmt: skip


def _before(q: str) -> Shape | None:
    m = _BEFORE.match(_clean(q))
    if not m or m.group(5).lower().startswith("or "):
        return None  # "before or after": asks which, not yes or no
    verb, when = m.group(3).lower(), m.group(4).lower()
    a, b = _entity(m.group(2)), _entity(m.group(5))
    if not a or not b:
        return None
    if verb in _BASE or verb == "died":
        template = f"When did {{E}} {_DID.get(verb, verb)}?"
    else:
        template = f"When was {{E}} {verb}?"
    pick: Pick = "min" if when == "before" else "max"
    hops = _hops(template, [a, b])
    return Shape(kind="comparison", hops=hops, value="date", pick=pick, yes_no=True, subject=f"{verb} {when}")


def _same(q: str) -> Shape | None:
    m = _SAME.match(_clean(q))
    if not m:
        return None
    a, b, attribute = _entity(m.group(1)), _entity(m.group(2)), _clean(m.group(4))
    if not a or not b or not attribute:
        return None
    participle = " ".join((m.group(3) or "").lower().split())
    if participle in _PLACES:  # "located in the same neighborhood": where each one is
        was = "was" if participle == "born" else "is"
        template = f"In which {attribute} {was} {{E}} {participle}?"
    elif participle:  # "known for the same type of work": what each one is known for
        template = f"What {attribute} is {{E}} {participle}?"
    else:
        template = _same_hop(attribute)
    return Shape(kind="same", hops=_hops(template, [a, b]), yes_no=True, subject=attribute)


def _both(q: str) -> Shape | None:
    m = _BOTH.match(_clean(q))
    if not m:
        return None
    if m.group(1):
        a, b, what = m.group(1), m.group(2), m.group(3)
    else:
        a, (b, what) = m.group(4), _name_then(f"{m.group(5)} {m.group(6)}")
    a, b, what = _entity(a), _entity(b), _clean(what)
    if not a or not b or not what:
        return None
    hop = "What nationality is {E}?" if what[:1].isupper() else "What is {E}?"
    return Shape(kind="both", hops=_hops(hop, [a, b]), yes_no=True, subject=what)


def _name_then(text: str) -> tuple[str, str]:
    """A name and what follows it: "Kings of Leon American rock bands" → ("Kings of Leon",
    "American rock bands"). The name is the run of capitalised words (and the small words
    between them); a last capitalised word that reads as a nationality, with words after it,
    belongs to what follows."""
    words = text.split()
    end = 0
    while end < len(words):
        w = words[end]
        if w[:1].isupper() or w[:1].isdigit():
            end += 1
        elif w.lower() in _LINKS and end + 1 < len(words) and words[end + 1][:1].isupper() and end:
            end += 1
        else:
            break
    if 1 < end < len(words) and _DEMONYM.search(words[end - 1]):
        end -= 1
    if not 0 < end < len(words):  # no name first, or nothing after it: the shortest split
        return words[0], " ".join(words[1:])
    return " ".join(words[:end]), " ".join(words[end:])


def _bridge(q: str) -> Shape | None:
    m = _BRIDGE.search(q)
    if not m:
        return None
    role, inner = m.group(1), _clean(m.group(2))
    outer = q[: m.start()] + "{0}" + q[m.end() :]
    before = q[: m.start()].split()
    after = q[m.end() :].strip().split()
    # the phrase is the subject the question asks about ("When was {0} born?", "What
    # nationality is {0}?"), not an object ("Who replaced Joe Torre as {0}?")
    if not before or before[-1].lower() not in ("is", "was", "were", "are", "did", "does", "of"):
        return None
    then = after[0].rstrip("?.,!") if after else ""
    if then and not re.fullmatch(_EVENT_VERBS + "|located|based|from", then):
        return None
    if before[-1].lower() in ("did", "does") and not then:
        return None  # "When did {0}": no verb left to ask with
    if before[-1].lower() == "of" and len(before) > 1 and before[-2].lower() in ("name", "names"):
        return None  # "What is the name of {0}?" asks the inner question
    # "Who is the founder of Microsoft?", "Which city is the capital of X?" ask the inner question;
    # "What nationality is the director of Jaws?" asks something of its answer
    asks = re.match(r"(?i)(who|what|which)(?:\s+(\w+))?\s+(is|was|are|were)\s+\{0\}", outer.strip())
    if asks and (asks.group(2) or "").lower() not in _ATTRIBUTES:
        return None
    who = "What" if role == "capital" else "Who"
    first = f"{who} is the {role} of {inner}?"
    return Shape(kind="bridge", hops=[Hop(text=first), Hop(text=outer, needs=0)], subject=role)


_PREDICATE = r"(?:is|was|are|were|has|have|had|did|does|won|became|[a-z]{3,}ed)"
# "Which film was directed by A and starred B?" / "Who founded Apple and was born in 1955?"
_INTERSECTION = re.compile(  # case-sensitive past the question word: "Fried Frank" is no verb
    rf"^(?P<wh>(?i:which|what|who))(?P<head>(?:\s+(?!{_PREDICATE}\b)[\w-]+){{0,3}})\s+(?P<one>{_PREDICATE}\b.+?)"
    rf"\s+and\s+(?:also\s+)?(?P<two>{_PREDICATE}\b.+)$"
)


_PRONOUNS = {"it", "its", "they", "them", "their", "he", "she", "him", "her", "his", "this", "that", "these"}


def _intersection(q: str) -> Shape | None:
    """Two conditions on one answer, each with its own verb and naming something to look up
    ("was directed by A and starred B"); "and" joining two nouns ("lakes of methane and ethane")
    is not a second condition."""
    m = _INTERSECTION.match(_clean(q))
    if not m or m.group("wh").lower() == "who" and m.group("head").strip():
        return None
    ask = (m.group("wh") + m.group("head")).strip()
    one, two = _clean(m.group("one")), _clean(m.group("two"))
    for condition in (one, two):
        words = condition.lower().split()
        content = [w for w in words if not re.fullmatch(_PREDICATE, w)]
        if not content or _PRONOUNS & set(words) or " or " in f" {condition} ":
            return None  # "was built and opened", "won it and hosted it": not a condition by itself
        if not re.search(r"\b(?:[A-Z][\w'.-]*|\d{3,4})\b", condition):
            return None  # each condition names something to look up: a name, a year
    hops = [Hop(text=f"{ask} {one}?"), Hop(text=f"{ask} {two}?")]
    return Shape(kind="intersection", hops=hops, subject=ask)

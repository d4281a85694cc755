"""Values read from text by rule: dates ("8 October 1970", "1891-1981", "500 BC"), quantities
("139,820 km", "2.5 million", "twelve") and the words an attribute is compared by (a country
counts as its demonym). Used to compose a compound question's answer from its pieces'."""

from __future__ import annotations

import re

from .evidence import uncited
from .words import tokenize

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
YEAR = re.compile(r"\b(\d{3,4})\s*(BC|BCE|B\.C\.)?\b", re.I)
SPAN = re.compile(r"\b(\d{3,4})\s*(?:-|–|—|to|until)\s*(\d{3,4})\b")
# a piece asking when something ended reads the end of a span of years
ENDED = re.compile(r"\b(die|died|death|end|ended|close|closed|dissolved|abolished|demolished)\b", re.I)
_DAY_MONTH = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?([A-Za-z]{3,9})\.?\b")
_MONTH_DAY = re.compile(r"\b([A-Za-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b")
NUMBER = re.compile(
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
    span = SPAN.search(text) if last else None
    if span is not None:
        return int(span.group(2)), 0, 0
    year = YEAR.search(text)
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
    found = _number(uncited(text))
    return found[0] if found else None


def _number(text: str) -> tuple[float, int] | None:
    """The first quantity in ``text`` and where it ends."""
    m = NUMBER.search(text)
    if m is not None:
        value = float(m.group(1).replace(",", ""))
        return value * _SCALE.get((m.group(2) or "").lower(), 1.0), m.end()
    for word in re.finditer(r"[A-Za-z]+", text):
        if word.group().lower() in _WORD_NUMBERS:
            return float(_WORD_NUMBERS[word.group().lower()]), word.end()
    return None


# units a compared quantity may be given in: (what it measures, its size in that measure's unit)
_UNITS: dict[str, tuple[str, float]] = {
    **dict.fromkeys(("km", "kilometre", "kilometres", "kilometer", "kilometers"), ("length", 1000.0)),
    **dict.fromkeys(("m", "metre", "metres", "meter", "meters"), ("length", 1.0)),
    **dict.fromkeys(("cm", "centimetre", "centimetres", "centimeter", "centimeters"), ("length", 0.01)),
    **dict.fromkeys(("mi", "mile", "miles"), ("length", 1609.344)),
    **dict.fromkeys(("ft", "foot", "feet"), ("length", 0.3048)),
    **dict.fromkeys(("kg", "kilogram", "kilograms"), ("mass", 1.0)),
    **dict.fromkeys(("t", "tonne", "tonnes", "ton", "tons"), ("mass", 1000.0)),
    **dict.fromkeys(("lb", "lbs", "pound", "pounds"), ("mass", 0.4536)),
    **dict.fromkeys(("second", "seconds", "s"), ("time", 1.0)),
    **dict.fromkeys(("minute", "minutes", "min"), ("time", 60.0)),
    **dict.fromkeys(("hour", "hours", "h"), ("time", 3600.0)),
    **dict.fromkeys(("day", "days"), ("time", 86400.0)),
    **dict.fromkeys(("year", "years"), ("time", 3.156e7)),
}  # fmt: skip
MEASURES = {measure for measure, _size in _UNITS.values()}
_AFTER = re.compile(r"\s*([A-Za-z]+)")


def quantity_of(text: str) -> tuple[float, str, float] | None:
    """The first quantity in ``text``, what it counts or measures, and the size of its unit in
    that measure's base unit: "140,000 kilometres" → (140000, "length", 1000); "six planets" →
    (6, "planets", 1); "" when no word follows it."""
    text = uncited(text)
    found = _number(text)
    if found is None:
        return None
    value, end = found
    after = _AFTER.match(text, end)
    unit = after.group(1).lower() if after else ""
    measure, size = _UNITS.get(unit, (unit, 1.0))
    return value, measure, size


def normal(value: str) -> set[str]:
    """The words an attribute value is compared by (a country counts as its demonym)."""
    text = uncited(value).lower()
    for country, demonym in _DEMONYMS.items():
        text = re.sub(rf"\b{re.escape(country)}\b", demonym, text)
    return set(tokenize(text))


# a year in a sentence: not part of a decimal, an amount of money or a count of millions
NOTE_YEAR = re.compile(
    r"(?<![\d.,$£€])\b(\d{3,4})\b(?![.,]\d)(?!\s*(?:%|percent|million|billion))(\s*(?:BC|BCE|B\.C\.))?"
)


# the month and day written before a year: "October 8, 1970", "14 August 1965", "May 1607"
_DAY_BEFORE = re.compile(
    r"(?:\b([A-Za-z]{3,9})\.?\s+\d{1,2}(?:st|nd|rd|th)?,?|\b\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?"
    r"([A-Za-z]{3,9})\.?,?|\b([A-Za-z]{3,9})\.?,?)\s+$"
)


def with_day(sentence: str, year: re.Match[str]) -> str:
    """The year ``year`` found in ``sentence``, with the month and day written before it."""
    before = _DAY_BEFORE.search(sentence[: year.start()])
    month = before and next((g for g in before.groups() if g), "").lower()
    start = before.start() if before and month in MONTHS else year.start()
    return sentence[start : year.end()].strip()

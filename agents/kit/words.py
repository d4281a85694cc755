"""Words for matching: the BM25 tokenizer, also used to attribute answer sentences to passages.

1. Unicode case folding (``str.casefold``) and NFKC normalisation.
2. Tokens are runs of letters/digits (``\\w+`` minus ``_``); punctuation separates tokens; a
   possessive's ``'s`` is dropped (``Uranus's`` -> ``uranus``, as "Uranus" is; it was once kept as
   ``uranuss``, which no query for Uranus, Venus or Mars matched) and other apostrophes inside
   words are removed (``don't`` -> ``dont``).
3. English stopwords (a fixed list, below) and one-character tokens are removed; numbers stay.
4. Light stemming with the Snowball (Porter2) English stemmer, cached per distinct word.

Queries and chunks go through the same function, so "Moons?" matches "moon".
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_POSSESSIVE = re.compile(r"['’]s$")

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had
    has have having he her here hers herself him himself his how i if in into is it its itself just
    me more most my myself no nor not now of off on once only or other our ours ourselves out over
    own same she should so some such than that the their theirs them themselves then there these
    they this those through to too under until up very was we were what when where which while who
    whom why will with would you your yours yourself yourselves s t don dont doesnt didnt isnt
    arent wasnt werent cant couldnt wont wouldnt shouldnt""".split()
)


@lru_cache(maxsize=1)
def _stemmer():  # noqa: ANN202
    from nltk.stem.snowball import SnowballStemmer

    return SnowballStemmer("english")


@lru_cache(maxsize=500_000)
def stem(word: str) -> str:
    return _stemmer().stem(word)


def tokenize(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).casefold()
    out = []
    for match in _WORD.finditer(text):
        word = _POSSESSIVE.sub("", match.group()).replace("'", "").replace("’", "")
        if len(word) < 2 or word in STOPWORDS:
            continue
        out.append(stem(word))
    return out

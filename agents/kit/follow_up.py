"""A follow-up's "it" read as what the conversation is about, by rule (no model).

"When did it arrive at Saturn?" after "Tell me about the Cassini mission" is searched, and read,
as "When did the Cassini mission arrive at Saturn?". The planner model is asked to make a
follow-up self-contained first; this rule is what the turn falls back on when it does not (the
bundled 135M model mostly answers from the history instead of searching, and then the question
was searched with its "it", and the reader guessed what "it" was).

What "it" is: the subject of the last question when it asked for an overview ("Tell me about X"),
else the title of the document the last answer cited first. Only "it" and "its" are
read, and only where nothing in the question itself could be what they mean: not after a noun
phrase of its own ("How does a comet get its tail?"), not after a name ("What did Cassini find
on it?"), not for "its" after a which-noun doing the question's verb ("Which planet rotates on
its side?", where "What is its orbit?" and "Which moon is its largest?" are still read), not in
"it is true / possible / likely …", and not when the question already names the subject.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from .questions import OVERVIEW, subject_of
from .words import tokenize

PRONOUN = re.compile(r"\b(it|its)\b(?!['’])", re.I)  # "it's" is left alone (it is? its?)
# "it" that stands for no thing: "is it true that …", "it is possible to …"
IMPERSONAL = re.compile(
    r"\b(is it|it is|it's|was it|it was)\s+(true|false|possible|likely|known|said|the case|worth|"
    r"better|necessary|normal|safe|ok|okay)\b",
    re.I,
)
# before the pronoun, something the question itself may mean: "a comet", "the probe", a name
OWN_ANTECEDENT = re.compile(r"\b(a|an|the|this|that|these|those|my|your|our)\s+\w+|\s[A-Z][\w’'–-]*", re.U)
# "Which planet rotates on its side?": a which/what-noun that does the verb owns the "its" after it
# (not when an auxiliary or "is" follows the noun: "Which moon is its largest?", "What moons does
# it have?")
AUXILIARY = r"is|are|was|were|be|been|does|do|did|has|have|had|can|could|will|would|should|may|might|must"
_NOT_AUX = rf"(?!(?:{AUXILIARY})\b)\w+"
WH_SUBJECT = re.compile(rf"^\s*(?:which|what|whose)\s+{_NOT_AUX}\s+{_NOT_AUX}", re.I)


def conversation_subject(history: Sequence[Any]) -> str | None:
    """What the last exchange was about: the overview subject the user asked for, else the
    title of the document the answer cited first (``about``); None when neither is known."""
    last_user = next((t for t in reversed(history) if t.role == "user"), None)
    if last_user is not None:
        m, subject = OVERVIEW.match(last_user.content), subject_of(last_user.content)
        if m and subject:
            raw = m.group("subject").strip().rstrip("?.!").strip()
            # as the user said it ("the Cassini mission"), unless it was "my notes about X"
            return raw if re.fullmatch(rf"(?:(?:the|a|an)\s+)?{re.escape(subject)}", raw, re.I) else subject
    last_answer = next((t for t in reversed(history) if t.role == "assistant"), None)
    about = getattr(last_answer, "about", "") if last_answer is not None else ""
    return about.strip() or None


def resolve(question: str, subject: str | None) -> str | None:
    """``question`` with its "it"/"its" replaced by ``subject``; None when the rule does not
    apply (see the module's docstring)."""
    if not subject or IMPERSONAL.search(question):
        return None
    found = PRONOUN.search(question)
    if found is None:
        return None
    before = question[: found.start()]
    if OWN_ANTECEDENT.search(before):
        return None
    if found.group(1).lower() == "its" and WH_SUBJECT.match(before):
        return None
    named = set(tokenize(subject))
    if named and named <= set(tokenize(question)):
        return None

    def swap(m: re.Match[str]) -> str:
        word = m.group(1).lower()
        return f"{subject}'s" if word == "its" else subject

    return PRONOUN.sub(swap, question)

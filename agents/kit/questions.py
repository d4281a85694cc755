"""What form of answer a question asks for, by a rule on its words (documented, so that every
figure split by question type can be reproduced):

- ``explanatory``: it asks why or how something happens — starts with "why", "how come", "how"
  followed by an auxiliary ("how does / do / did / is / are / can …"), "what causes / caused /
  makes / made", "explain", "describe", "what is the purpose / reason / role / effect of", or
  asks for an overview ("tell me about", "what do you know about", "give me an overview of",
  "summarise"). It wants one or two sentences that explain, not a span.
- ``yes-no``: it starts with an auxiliary ("is", "are", "was", "does", "did", "can", "has", …):
  it wants yes or no (with the evidence).
- ``factoid``: everything else (who, what, when, where, which, how many / much / long …): a
  short answer.
"""

from __future__ import annotations

import re
from typing import Literal

from .words import tokenize

QuestionType = Literal["factoid", "explanatory", "yes-no"]

AUXILIARY = r"(do|does|did|is|are|was|were|can|could|would|will|should|has|have|had|may|might|must)"
EXPLANATORY = re.compile(
    rf"^\s*(why\b|how come\b|how {AUXILIARY}\b|what (causes|caused|makes|made)\b|explain\b|describe\b|"
    r"what (is|was|are|were) the (purpose|reason|role|effect|cause)s?\b)",
    re.I,
)
# a request for an overview of something ("Tell me about Titan"): its subject in the group
OVERVIEW = re.compile(
    r"^\s*(?:please\s+|can you\s+|could you\s+)*"
    r"(?:tell me(?: a bit| a little| more)? about|what do you know about|give me an overview of|"
    r"(?:an\s+|a short\s+)?overview of|summari[sz]e|introduce)\s+(?P<subject>.+?)\s*[?.!]*\s*$",
    re.I,
)
_FILLER = re.compile(
    r"^(?:(?:the|a|an|your|my)\s+)?(?:(?:documents?|notes?|files?|pages?)\s+(?:about|on)\s+)?(?:the\s+)?",
    re.I,
)


def subject_of(question: str) -> str | None:
    """What an overview is asked of ("Tell me about the Titan moon?" → "Titan moon"), or None."""
    m = OVERVIEW.match(question)
    if not m:
        return None
    subject = _FILLER.sub("", m.group("subject").strip())
    return subject if tokenize(subject) else None


YES_NO = re.compile(rf"^\s*{AUXILIARY}\b", re.I)


def question_type(question: str) -> QuestionType:
    if EXPLANATORY.search(question) or OVERVIEW.match(question):
        return "explanatory"
    if YES_NO.search(question):
        return "yes-no"
    return "factoid"

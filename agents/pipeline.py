"""The pipelines, declared as data. Adding a step is writing its module (and prompt) and adding
it to a list here; the runner (``kit.step.run_steps``) does the rest: spans, switches, order.

    turn:   plan ─┬─ search_documents ── split ── each piece: rewrite → retrieve → filter
                  └─ open_document
            → distill → answer → reread (only when the answer declined from the note)
    plain:  each piece (the question): retrieve → answer
    closed book (eval ``base``): answer from the model alone
    given evidence (eval ``oracle``): answer from passages set beforehand
"""

from __future__ import annotations

from typing import Any

from .answerer import Answer
from .closed_book import ClosedBook
from .distiller import Distill
from .documents import OpenDocument
from .filter import Filter
from .kit.step import Step
from .planner import Planner
from .reread import Reread
from .retrieve import Retrieve
from .rewriter import Rewrite
from .search import EachPiece, SearchDocuments
from .splitter import Split

SEARCH: list[Step[Any, Any]] = [Split(), EachPiece([Rewrite(), Retrieve(), Filter()])]

TURN: list[Step[Any, Any]] = [
    Planner(tools=[SearchDocuments(SEARCH), OpenDocument()]),
    Distill(),
    Answer(),
    Reread(),
]

PLAIN: list[Step[Any, Any]] = [EachPiece([Retrieve(plain=True)]), Answer(plain=True)]

# Evaluation baselines: no documents at all, and the evidence given (the gold document).
CLOSED_BOOK: list[Step[Any, Any]] = [ClosedBook()]
GIVEN_EVIDENCE: list[Step[Any, Any]] = [Answer(plain=True)]

# The switches a user can turn off (``pipeline.<name>``), each naming the steps it skips.
SWITCHES = ("split", "rewrite", "hyde", "filter", "distill", "reread")

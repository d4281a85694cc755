"""The pipelines, declared as data: the order, the loops and the conditions of a turn. The runner
(``kit/runner.py``) is the only thing that runs them; adding a step is writing its module (and
prompt) and adding it here.

    turn:   When(a compound shape, by rule): decompose
            When(single by rule, but it may be compound, and Ollama serves the planner):
                decompose (the planner model's answer_in_pieces tool call)
            When(compound): EachHop = HOP: each piece searched and answered on its own evidence
                (a bridge's second piece filled with the first's answer)
                → Stream(compose: compare the values found, say yes/no, substitute)
            When(not compound) = ORDINARY:
                ToolRounds: plan ─┬─ search_documents = SEARCH: split → EachPiece: rewrite → retrieve → filter
                (max_tool_rounds) └─ open_document
                → When(an overview asked of a subject a passage is titled with): Stream(overview)
                → else: distill → Stream(answer) → When(the answer declined from the note): Stream(reread)
            → support (the sentences the answer rests on, quoted)
    plain:  EachPiece (the question): retrieve → Stream(answer) → support
    closed book (eval ``base``): answer from the model alone
    given evidence (eval ``oracle``): Stream(answer) from passages set beforehand
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from .answerer import Answer
from .closed_book import ClosedBook
from .compose import Compose, HopAnswer
from .decompose import Decompose, DecomposeByModel
from .distiller import Distill
from .documents import OpenDocument
from .filter import Filter
from .kit.runner import EachHop, EachPiece, Node, RunnerSettings, Stream, ToolRounds, ToolUse, When, steps_of
from .kit.step import StepSettings
from .overview import Overview
from .planner import Planner, PlannerSettings
from .reread import Reread
from .retrieve import Retrieve
from .rewriter import Rewrite
from .search import SearchDocuments
from .splitter import Split
from .support import Support

# search_documents: split the query, then per piece rewrite → retrieve → filter
SEARCH: list[Node] = [Split(), EachPiece([Rewrite(), Retrieve(), Filter()])]

# one piece of a compound question, answered on its own evidence (no streaming: the runner shows
# each piece's answer as it arrives)
HOP: list[Node] = [
    EachPiece([Rewrite(), Retrieve(), Filter()]),
    Distill(),
    Answer(),
    When(lambda state: state.reread_due, [Reread()], why="the answer declined from the note"),
]

ORDINARY: list[Node] = [
    ToolRounds(
        Planner(),
        tools=[
            ToolUse(
                SearchDocuments(),
                pipeline=SEARCH,
                fallback=SearchDocuments.as_asked,
                fallback_note="searched the question as asked",
            ),
            ToolUse(OpenDocument()),
        ],
        rounds=lambda ctx: PlannerSettings.of(ctx).max_tool_rounds,
    ),
    When(
        Overview.applies,
        [Stream(Overview())],
        why="an overview asked of a subject a passage is titled with: that passage's opening",
    ),
    When(
        lambda state: not Overview.applies(state),
        [
            Distill(),
            Stream(Answer()),
            When(lambda state: state.reread_due, [Stream(Reread())], why="the answer declined from the note"),
        ],
        why="any other question",
    ),
]

TURN: list[Node] = [
    When(Decompose.applies, [Decompose()], why="a compound question by rule"),
    When(
        DecomposeByModel.applies,
        [DecomposeByModel()],
        why="a question the rules call single that may be compound, when Ollama serves the planner",
    ),
    When(
        lambda state: state.shape.compound,
        [EachHop(HOP, keep=HopAnswer), Stream(Compose())],
        why="a compound question (comparison, same/both, bridge, intersection): each piece answered, "
        "then the whole",
    ),
    When(lambda state: not state.shape.compound, ORDINARY, why="any other question"),
    Support(),
]

PLAIN: list[Node] = [EachPiece([Retrieve(plain=True)]), Stream(Answer(plain=True)), Support()]

# Evaluation baselines: no documents at all, and the evidence given (the gold document).
CLOSED_BOOK: list[Node] = [ClosedBook()]
GIVEN_EVIDENCE: list[Node] = [Stream(Answer(plain=True)), Support()]

# The switches a user can turn off (``pipeline.<name>``), each naming the steps it skips.
SWITCHES = ("split", "rewrite", "hyde", "filter", "distill", "reread")


def step_defaults() -> dict[str, tuple[Any, str]]:
    """Each value the declared steps (and the runner) take from the turn's settings by name:
    its one default, and the module that declares it (``openbook config`` shows these)."""
    classes: list[type[StepSettings]] = [
        RunnerSettings,
        *(s.Settings for s in steps_of(TURN + PLAIN + CLOSED_BOOK + GIVEN_EVIDENCE)),
    ]
    out: dict[str, tuple[Any, str]] = {}
    for cls in classes:
        where = Path(inspect.getfile(cls)).relative_to(Path(__file__).resolve().parent.parent).as_posix()
        for name, f in cls.model_fields.items():
            out.setdefault(name, (f.default, where))
    return out

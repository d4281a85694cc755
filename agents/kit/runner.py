"""The runner: the one thing that runs steps, and the constructs a pipeline is declared with.

A pipeline (``agents/pipeline.py``) is a list of nodes. A node is a step, or one of:

- ``EachPiece(steps)``: run ``steps`` once per sub-question (``state.pieces``, else the query),
  each with its own ``Piece`` (search texts, hits); merge what each found; number the best.
- ``ToolRounds(planner, tools)``: the planner's rounds, up to its ``max_tool_rounds``. Each round
  the planner chooses tool calls (or replies, which ends the turn); each call runs as a ``tool``
  span — a step, or a whole sub-pipeline over a state of its own — and its summary goes back to
  the planner in the next round.
- ``Stream(step)``: the step's reply streams to the user, except a reply the step may still
  withdraw (``may_withdraw``: a decline that a reread may replace, a copy the support check may
  reject), which is held until it clearly stands and shown at the end unless a later step
  answers instead.
- ``When(condition, steps)``: run ``steps`` only when ``condition(state)`` holds; ``why`` says
  when, for the reader of the declaration and the trace.
- ``EachHop(steps, keep)``: a compound question's pieces (``state.shape.hops``), each answered
  on its own: ``steps`` run once per hop over a state of its own, in a ``hop`` span; a bridge
  hop's "{0}" is filled with the answer of the hop it needs, and is not asked when that hop found
  nothing. Each hop's passages join the turn's (its citations renumbered to match) and ``keep``
  turns what it found into ``state.hops``; each answer is shown as it arrives.

Between nodes, pieces and tool calls the runner checks for cancellation (``kit.cancel``), and a
turn the planner has answered itself (``state.done``) stops.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, cast

from pydantic import BaseModel, ValidationError

from openbook.prompts import text as prompt_text

from .evidence import CITE, Passage, number, uncited
from .hold import HeldDecline
from .llm import Tool, ToolCall
from .step import Piece, Step, StepContext, StepSettings, TurnState


class RunnerSettings(StepSettings):
    max_passages: int = 6  # passages given to the answerer, the best of all that was found
    max_question_chars: int = 2000  # a longer question is trimmed before the turn, with a note


@dataclass(frozen=True)
class EachPiece:
    steps: list[Node]


class HopKeeper(Protocol):
    """Makes the record of one answered hop (``EachHop``): the hop's sub-question and entity,
    its answer with citations renumbered as the turn's passages, whether it declined, the text
    of the passages it cites, the evidence its answerer read (the note) and the whole passages it
    found, renumbered too."""

    def __call__(
        self,
        *,
        question: str,
        entity: str,
        answer: str,
        declined: bool,
        evidence: str,
        note: list[Passage],
        passages: list[Passage],
    ) -> Any: ...


@dataclass(frozen=True)
class EachHop:
    steps: list[Node]
    keep: HopKeeper


@dataclass(frozen=True)
class When:
    condition: Callable[[TurnState], bool]
    steps: list[Node]
    why: str  # when the steps run, in words


class Withdrawable(Protocol):
    """A step whose streamed reply may still be withdrawn (``Stream``)."""

    def may_withdraw(self, state: TurnState, ctx: StepContext) -> bool: ...


@dataclass(frozen=True)
class Stream:
    step: Step[Any, Any]


class PipelineTool(Protocol):
    """A tool whose work is a sub-pipeline: it builds the sub-state from its arguments and
    reads its result back from it."""

    def start(self, args: Any) -> TurnState: ...

    def finish(self, sub: TurnState) -> Any: ...


@dataclass(frozen=True)
class ToolUse:
    """A tool the planner may call: a step (its ``Input`` is the tool's argument schema, its
    description ``prompts/tool_<name>.md``), or, with ``pipeline``, a ``PipelineTool`` whose
    work that pipeline does. ``fallback``: arguments to use when the model's are invalid (else
    the call reports the error to the planner)."""

    step: Step[Any, Any]
    pipeline: list[Node] | None = None
    fallback: Callable[[TurnState], dict[str, Any]] | None = None
    fallback_note: str = ""  # what the fallback did, for the trace

    @property
    def name(self) -> str:
        return self.step.name

    def spec(self) -> Tool:
        return Tool(
            name=self.name,
            description=prompt_text(f"tool_{self.name}"),
            parameters=self.step.Input.model_json_schema(),
        )


@dataclass(frozen=True)
class ToolRounds:
    planner: Step[Any, Any]
    tools: list[ToolUse] = field(default_factory=list)
    rounds: Callable[[StepContext], int] = lambda ctx: 1

    def tool(self, name: str) -> ToolUse | None:
        return next((t for t in self.tools if t.name == name), None)


Node = Step[Any, Any] | EachPiece | EachHop | When | Stream | ToolRounds


def steps_of(pipeline: list[Node]) -> Iterator[Step[Any, Any]]:
    """Every step a declaration holds, inside its constructs and tools too, in order."""
    for node in pipeline:
        if isinstance(node, Step):
            yield node
        elif isinstance(node, Stream):
            yield node.step
        elif isinstance(node, EachPiece | EachHop | When):
            yield from steps_of(node.steps)
        elif isinstance(node, ToolRounds):
            yield node.planner
            for use in node.tools:
                yield use.step
                yield from steps_of(use.pipeline or [])


def run(pipeline: list[Node], state: TurnState, ctx: StepContext) -> TurnState:
    """Run a declared pipeline over ``state``: switched-off steps are left out, cancellation is
    checked before every node, and a turn the planner answered (``state.done``) stops."""
    for node in pipeline:
        if state.done:
            break
        ctx.check_cancelled()
        if isinstance(node, Step):
            if node.enabled(ctx):
                execute(node, state, ctx)
        elif isinstance(node, EachPiece):
            each_piece(node, state, ctx)
        elif isinstance(node, EachHop):
            each_hop(node, state, ctx)
        elif isinstance(node, When):
            if node.condition(state):
                run(node.steps, state, ctx)
        elif isinstance(node, Stream):
            stream(node, state, ctx)
        elif isinstance(node, ToolRounds):
            tool_rounds(node, state, ctx)
        else:  # pragma: no cover - a declaration error
            raise TypeError(f"not a pipeline node: {node!r}")
    return state


def execute(step: Step[Any, Any], state: TurnState, ctx: StepContext) -> BaseModel:
    """Read, run (or skip) and write one step inside its own span, a child of ``ctx.span``;
    returns its output."""
    inp = step.read(state, ctx)
    with ctx.tracer.span(step.name, step.kind, input=inp, parent=ctx.span) as span:
        inner = ctx.within(span)
        skipped = step.skip(state, inp)
        if skipped is not None:
            reason, out = skipped
            span.notes.append(reason)
        else:
            out = step.run(inner, inp)
        span.output = out
        step.write(state, out, inner)
    return out


def each_piece(node: EachPiece, state: TurnState, ctx: StepContext) -> None:
    for text in state.pieces or [state.query]:
        ctx.check_cancelled()
        state.piece = Piece.of(text)
        run(node.steps, state, ctx)
        state.merge(state.piece.hits)
    state.collect(RunnerSettings.of(ctx).max_passages)


def renumber(text: str, numbers: dict[int, int]) -> str:
    """``text`` with each citation [n] replaced by [numbers[n]]."""
    return CITE.sub(lambda m: f"[{numbers.get(int(m.group(1)), int(m.group(1)))}]", text)


def each_hop(node: EachHop, state: TurnState, ctx: StepContext) -> None:
    answers: list[str] = []  # each hop's answer, citations removed (what fills a bridge's "{0}")
    for i, hop in enumerate(state.shape.hops, 1):
        ctx.check_cancelled()
        text = hop.text
        if hop.needs is not None:
            needed = answers[hop.needs] if hop.needs < len(answers) else ""
            if not needed:
                break  # the hop it needs found nothing: the composition says which part is missing
            text = text.replace("{0}", needed)
        sub = TurnState(question=text, query=text, pieces=[text])
        with ctx.tracer.span(f"hop {i}", "hop", input={"question": text}, parent=ctx.span) as span:
            run(node.steps, sub, replace(ctx.within(span), on_token=None))
            numbers: dict[int, int] = {}
            for p, hit in zip(sub.passages, sub.chunks, strict=True):
                known = next((n for n, h in enumerate(state.chunks, 1) if h.chunk_id == hit.chunk_id), None)
                if known is None:
                    state.chunks.append(hit)
                    known = len(state.chunks)
                numbers[p.n] = known
            answer = renumber(sub.answer, numbers)
            cited = {int(n) for n in CITE.findall(sub.answer)}
            evidence = " ".join(h.text for p, h in zip(sub.passages, sub.chunks, strict=True) if p.n in cited)
            kept = node.keep(
                question=text,
                entity=hop.entity,
                answer=answer,
                declined=sub.declined,
                evidence=evidence,
                note=renumbered(sub.evidence, numbers),
                passages=renumbered(sub.passages, numbers),
            )
            span.output = kept
        state.hops.append(kept)
        answers.append("" if sub.declined else uncited(answer))
        if ctx.on_token is not None:
            ctx.on_token(f"{text} → {answer.strip()}\n\n")  # shown while the turn runs
    state.passages = number(state.chunks)
    state.evidence = list(state.passages)


def renumbered(passages: list[Passage], numbers: dict[int, int]) -> list[Passage]:
    """A hop's passages numbered as the turn's (``numbers``: the hop's n -> the turn's)."""
    return [p.model_copy(update={"n": numbers[p.n]}) for p in passages if p.n in numbers]


def stream(node: Stream, state: TurnState, ctx: StepContext) -> None:
    step = node.step
    if not step.enabled(ctx):
        return
    on_token = ctx.on_token
    withdrawable = hasattr(step, "may_withdraw") and cast(Withdrawable, step).may_withdraw(state, ctx)
    holds = on_token is not None and withdrawable
    out = execute(step, state, replace(ctx, on_token=HeldDecline(on_token)) if holds and on_token else ctx)
    if on_token is not None and not getattr(out, "shown", True) and not state.reread_due:
        on_token(getattr(out, "text", ""))  # a reply held back, or never streamed (no evidence)


def tool_rounds(node: ToolRounds, state: TurnState, ctx: StepContext) -> None:
    planner_ctx = replace(ctx, tools=[t.spec() for t in node.tools])
    for round_no in range(node.rounds(ctx)):
        ctx.check_cancelled()
        out = execute(node.planner, state, planner_ctx)
        calls: list[ToolCall] = list(getattr(out, "tool_calls", []))
        if not calls:
            reply = str(getattr(out, "reply", ""))
            if round_no == 0 and reply:
                state.answer, state.done = reply, True
                if ctx.on_token:
                    ctx.on_token(reply)
            return
        for call in calls:
            ctx.check_cancelled()
            state.tool_results.append(call_tool(node, call, state, ctx))


def call_tool(node: ToolRounds, call: ToolCall, state: TurnState, ctx: StepContext) -> str:
    """Run one tool call in its span; its hits join the turn's evidence. Returns the summary
    the planner reads next round."""
    use = node.tool(call.name)
    assert use is not None, f"unknown tool {call.name}"  # the planner drops unknown calls
    with ctx.tracer.span(call.name, "tool", input=call.arguments, parent=ctx.span) as span:
        try:
            args = use.step.Input.model_validate(call.arguments)
        except ValidationError as exc:
            reason = f"invalid arguments: {exc.errors()[0]['msg']}"
            if use.fallback is None:
                span.fallback(reason)
                return f"{call.name}: {reason}"
            span.fallback(f"{reason}; {use.fallback_note}")
            args = use.step.Input.model_validate(use.fallback(state))
        inner = ctx.within(span)
        if use.pipeline is not None:
            tool = cast(PipelineTool, use.step)
            sub = tool.start(args)
            if not state.query:
                state.query = sub.query
            run(use.pipeline, sub, inner)
            out = tool.finish(sub)
        else:
            out = use.step.run(inner, args)
        span.output = out
    state.merge(out.hits)
    state.collect(RunnerSettings.of(ctx).max_passages)
    return f"{call.name}({call.arguments}):\n{out.summary()}"

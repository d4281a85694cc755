"""The planner: an agent that answers small talk itself and otherwise gathers evidence with
tools (``search_documents``, ``open_document``) before the answer steps run.

Each round is a ``plan`` span: the planner chooses tool calls, schema-constrained — native tool
calling on Ollama models that support it, a JSON-schema grammar in-process — and the runner
executes each as a ``tool`` span and feeds a summary of its result back into the next round.
Rules spare the model where it cannot add anything: small talk gets a fixed reply, and a first
(or self-contained) question is searched as asked. Later rounds, up to ``max_tool_rounds``,
always ask the model, which may call another tool or stop.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from openbook.prompts import text as prompt_text

from .kit.llm import ChatOptions, ModelError, Tool, ToolCall
from .kit.step import HistoryTurn, Step, StepContext, StepSettings, TurnState

_SMALL_TALK = re.compile(
    r"^\s*(hi|hello|hey|thanks|thank you|thx|good (morning|evening|afternoon)|bye|goodbye|ok(ay)?|"
    r"cool|great|nice)[\s!.,]*$",
    re.I,
)
_REFERS_BACK = re.compile(
    r"\b(it|its|it's|they|them|their|theirs|this|that|these|those|he|him|his|she|her|there|"
    r"the same|the other|previous|above|earlier|you|your|we|our|us)\b",
    re.I,
)


class PlanInput(BaseModel):
    question: str
    history: list[HistoryTurn] = Field(default_factory=list)
    results: list[str] = Field(default_factory=list)  # what earlier tool calls found


class PlanOutput(BaseModel):
    tool_calls: list[ToolCall] = Field(default_factory=list)
    reply: str = ""  # a direct reply (round 1) or nothing more to do (later rounds)
    decided_by: str = "model"


class PlannerSettings(StepSettings):
    max_tokens: int = 160
    max_tool_rounds: int = 1


def looks_follow_up(question: str) -> bool:
    """Whether a question leans on the conversation (pronouns, "the other one", very short)."""
    return bool(_REFERS_BACK.search(question)) or len(question.split()) <= 2


def small_talk_reply(text: str) -> str | None:
    if not _SMALL_TALK.match(text):
        return None
    if re.match(r"\s*(thanks|thank you|thx)", text, re.I):
        return prompt_text("reply_thanks")
    if re.match(r"\s*(bye|goodbye)", text, re.I):
        return prompt_text("reply_goodbye")
    return prompt_text("reply_hello")


def search(question: str, why: str) -> PlanOutput:
    return PlanOutput(
        tool_calls=[ToolCall(name="search_documents", arguments={"queries": [question]})], decided_by=why
    )


class Planner(Step[PlanInput, PlanOutput]):
    name = "plan"
    prompt = "planner"
    role = "planner"
    Input, Output, Settings = PlanInput, PlanOutput, PlannerSettings

    def __init__(self, tools: list[Step[Any, Any]]) -> None:
        self.tools = {t.name: t for t in tools}

    def specs(self) -> list[Tool]:
        return [
            Tool(
                name=t.name,
                description=prompt_text(f"tool_{t.name}"),
                parameters=t.Input.model_json_schema(),
            )
            for t in self.tools.values()
        ]

    def read(self, state: TurnState, ctx: StepContext) -> PlanInput:
        return PlanInput(question=state.question, history=state.history)

    def skip(self, state: TurnState, inp: PlanInput) -> tuple[str, PlanOutput] | None:
        if inp.results:
            return None
        reply = small_talk_reply(inp.question)
        if reply is not None:
            return "small talk: replied without the library", PlanOutput(reply=reply, decided_by="rule")
        if not inp.history or not looks_follow_up(inp.question):
            return "a self-contained question: searched as asked", search(inp.question, "rule")
        return None

    def run(self, ctx: StepContext, inp: PlanInput) -> PlanOutput:
        prompt, messages = self.messages(inp)
        options = ChatOptions(temperature=0.0, seed=0, max_tokens=PlannerSettings.of(ctx).max_tokens)
        try:
            result = ctx.model("planner").chat(messages, tools=self.specs(), options=options)
        except ModelError as exc:
            if ctx.span is not None:
                ctx.span.prompt = prompt
            ctx.fallback(f"model error: {exc.message}")
            return search(inp.question, "fallback") if not inp.results else PlanOutput(decided_by="fallback")
        if ctx.span is not None:
            ctx.span.record_call(result, prompt)
        calls = [c for c in result.tool_calls if c.name in self.tools]
        if len(calls) < len(result.tool_calls):
            ctx.note(f"ignored calls of unknown tools: {[c.name for c in result.tool_calls]}")
        if calls or inp.results:
            return PlanOutput(tool_calls=calls, reply=result.text.strip())
        if result.text.strip():
            return PlanOutput(reply=result.text.strip())
        ctx.fallback("no tool call and no reply; searching the question as asked")
        return search(inp.question, "fallback")

    def execute(self, state: TurnState, ctx: StepContext) -> None:
        rounds = PlannerSettings.of(ctx).max_tool_rounds
        results: list[str] = []
        for round_no in range(rounds):
            inp = PlanInput(question=state.question, history=state.history, results=results)
            with ctx.tracer.span(self.name, self.kind, input=inp, parent=ctx.span) as span:
                skipped = self.skip(state, inp)
                if skipped is not None:
                    span.notes.append(skipped[0])
                    out = skipped[1]
                else:
                    out = self.run(ctx.within(span), inp)
                span.output = out
            if not out.tool_calls:
                if round_no == 0 and out.reply:
                    state.answer, state.done = out.reply, True
                    if ctx.on_token:
                        ctx.on_token(out.reply)
                return
            for call in out.tool_calls:
                ctx.check_cancelled()
                results.append(self.call(call, state, ctx))

    def call(self, call: ToolCall, state: TurnState, ctx: StepContext) -> str:
        """Run one tool call in its span; its hits join the turn's evidence."""
        tool = self.tools[call.name]
        with ctx.tracer.span(call.name, "tool", input=call.arguments, parent=ctx.span) as span:
            try:
                args = tool.Input.model_validate(call.arguments)
            except ValidationError as exc:
                reason = f"invalid arguments: {exc.errors()[0]['msg']}"
                if call.name != "search_documents":
                    span.fallback(reason)
                    return f"{call.name}: {reason}"
                span.fallback(reason + "; searched the question as asked")
                args = tool.Input.model_validate({"queries": [state.question]})
            if not state.query and call.name == "search_documents":
                state.query = args.queries[0]
            out = tool.run(ctx.within(span), args)
            span.output = out
        state.merge(out.hits)
        state.collect(int(ctx.settings.get("max_passages", 6)))
        return f"{call.name}({call.arguments}):\n{out.summary()}"

"""The planner: an agent that answers small talk itself and otherwise gathers evidence with
tools (``search_documents``, ``open_document``) before the answer steps run.

Each round is a ``plan`` span: the planner chooses tool calls, schema-constrained — native tool
calling on Ollama models that support it, a JSON-schema grammar in-process — and the runner
(``ToolRounds`` in ``agents/pipeline.py``) executes each as a ``tool`` span and feeds a summary
of its result back into the next round.
Rules spare the model where it cannot add anything: small talk gets a fixed reply, and a first
(or self-contained) question is searched as asked. When the model leaves a follow-up's "it" —
it searched nothing, or searched with the pronoun still in — the rule in ``kit/follow_up.py``
reads it as what the last exchange was about. Later rounds, up to ``max_tool_rounds``,
always ask the model, which may call another tool or stop.
"""

from __future__ import annotations

import os
import re

from pydantic import BaseModel, Field

from openbook.prompts import text as prompt_text

from .kit.follow_up import conversation_subject, resolve
from .kit.llm import ChatOptions, ModelError, ToolCall
from .kit.step import HistoryTurn, Step, StepContext, StepSettings, TurnState
from .kit.words import tokenize

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
    history_turns: int = 6  # messages of the session's history the planner sees


def own_words(text: str) -> list[str]:
    """The words of ``text`` that are not a pointer back to the conversation ("it", "they")."""
    return tokenize(_REFERS_BACK.sub(" ", text))


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

    def read(self, state: TurnState, ctx: StepContext) -> PlanInput:
        return PlanInput(question=state.question, history=state.history, results=list(state.tool_results))

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
            result = ctx.model("planner").chat(messages, tools=ctx.tools, options=options)
        except ModelError as exc:
            if ctx.span is not None:
                ctx.span.prompt = prompt
            if inp.results:
                ctx.fallback(f"model error: {exc.message}")
                return PlanOutput(decided_by="fallback")
            return self.as_asked(inp, ctx, f"model error: {exc.message}")
        if ctx.span is not None:
            ctx.span.record_call(result, prompt)
        known = {t.name for t in ctx.tools}
        calls = [c for c in result.tool_calls if c.name in known]
        if len(calls) < len(result.tool_calls):
            ctx.note(f"ignored calls of unknown tools: {[c.name for c in result.tool_calls]}")
        calls = [self.resolved(c, inp, ctx) for c in calls]
        if calls or inp.results:
            return PlanOutput(tool_calls=calls, reply=result.text.strip())
        if result.text.strip():
            # Small talk was answered by rule before any model call, so this is a question about
            # the documents answered from the model alone: never shown. ("How does a comet get its
            # tail?" after a question about Cassini got the bundled base's "Cassini [7][1] was
            # launched in October 1997 …", made up from the history.)
            return self.as_asked(
                inp, ctx, f"the planner replied without searching ({result.text.strip()[:80]!r})"
            )
        return self.as_asked(inp, ctx, "no tool call and no reply")

    def as_asked(self, inp: PlanInput, ctx: StepContext, reason: str) -> PlanOutput:
        """The question searched without the model's plan: as asked, or with a follow-up's "it"
        read as what the conversation is about (``kit/follow_up.py``)."""
        subject = conversation_subject(inp.history) if inp.history else None
        resolved = resolve(inp.question, subject)
        if resolved is None:
            ctx.fallback(f"{reason}: searched as asked")
            return search(inp.question, "fallback")
        ctx.fallback(f'{reason}: searched {resolved!r} ("it" read as {subject!r}, from the last exchange)')
        return search(resolved, "fallback")

    def resolved(self, call: ToolCall, inp: PlanInput, ctx: StepContext) -> ToolCall:
        """A search the model asked for, mended by rule: searches of no word ("they") and folders
        that are not paths ("it") left out — each would find nothing, and a folder that is not a
        path would keep every other search of the call from finding anything; the follow-up's
        "it" still in a search read as what the conversation is about, and the follow-up itself,
        so read, searched first when the model searched around it."""
        wanted = call.arguments.get("queries")
        call = self.sane(call, ctx)
        queries = call.arguments.get("queries") if call.name == "search_documents" else None
        subject = conversation_subject(inp.history) if inp.history else None
        if wanted and queries == []:  # every search was of no word: the question itself
            whole = resolve(inp.question, subject) or inp.question
            return call.model_copy(update={"arguments": {**call.arguments, "queries": [whole]}})
        if not inp.history or not isinstance(queries, list) or not all(isinstance(q, str) for q in queries):
            return call
        read = [resolve(q, subject) or q for q in queries]
        asked = resolve(inp.question, subject)
        own = set(own_words(inp.question))
        around = read and not any(own & set(tokenize(q)) for q in read)
        if asked is not None and around:  # the model searched around the question, not for it
            read = [asked, *read][:3]
        if read == queries:
            return call
        ctx.note(f"the planner's search kept the follow-up's \"it\" or left the question out: {read}")
        return call.model_copy(update={"arguments": {**call.arguments, "queries": read}})

    @staticmethod
    def sane(call: ToolCall, ctx: StepContext) -> ToolCall:
        args = call.arguments
        queries, folders = args.get("queries"), args.get("path_prefixes")
        if call.name != "search_documents" or not isinstance(queries, list):
            return call
        kept = [q for q in queries if not isinstance(q, str) or own_words(q)]
        update: dict[str, object] = {}
        if len(kept) < len(queries):
            update["queries"] = kept  # none left: the question itself is searched (``resolved``)
        if isinstance(folders, list) and folders:
            paths = [f for f in folders if isinstance(f, str) and os.path.isabs(os.path.expanduser(f))]
            if len(paths) < len(folders):
                update["path_prefixes"] = paths
        if not update:
            return call
        ctx.note(f"the planner's search mended: {args} -> {update} (no words to search, or not a folder)")
        return call.model_copy(update={"arguments": {**args, **update}})

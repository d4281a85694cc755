"""The Ollama runtime, through the official ``ollama`` client (honours OLLAMA_HOST)."""

from __future__ import annotations

import time
from typing import Any

from openbook.agents.kit import cancel

from .base import (
    ChatOptions,
    ChatResult,
    Message,
    ModelError,
    ModelNotFound,
    ModelUnavailable,
    TokenCallback,
    TokenChoice,
    Tool,
    ToolCall,
    Usage,
    parse_tool_arguments,
)
from .context import fit

NS = 1e6  # Ollama reports durations in nanoseconds


def _client(host: str, timeout: float):  # noqa: ANN202
    import ollama

    return ollama.Client(host=host, timeout=timeout)


class _Connections:
    """The sockets of one client's connections, so that a stopped turn can shut them down: a
    read blocked while the server processes a prompt returns at once (closing the client does
    not interrupt it), and Ollama, seeing the client gone, stops too."""

    def __init__(self) -> None:
        import weakref

        import httpcore

        outer = self

        class Backend(httpcore.SyncBackend):
            def connect_tcp(self, *args: Any, **kwargs: Any) -> Any:
                stream = super().connect_tcp(*args, **kwargs)
                outer.streams.add(stream)
                return stream

            def connect_unix_socket(self, *args: Any, **kwargs: Any) -> Any:
                stream = super().connect_unix_socket(*args, **kwargs)
                outer.streams.add(stream)
                return stream

        self.streams: weakref.WeakSet[Any] = weakref.WeakSet()
        self.backend = Backend()

    def shut_down(self) -> None:
        import socket

        for stream in list(self.streams):
            sock = stream.get_extra_info("socket")
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass  # already closed


def _tracked_client(host: str, timeout: float) -> tuple[Any, _Connections]:
    """A client whose connections a stopped turn can shut down (``_Connections``)."""
    import httpx
    import ollama

    conns = _Connections()
    transport = httpx.HTTPTransport()
    transport._pool._network_backend = conns.backend  # httpcore's pool makes every connection with it
    return ollama.Client(host=host, timeout=timeout, transport=transport), conns


def _unavailable(host: str, exc: Exception) -> ModelUnavailable:
    return ModelUnavailable(
        f"Ollama is not running at {host} ({type(exc).__name__})",
        hint="start it with `ollama serve`, set OLLAMA_HOST, or use the in-process runtime",
    )


class OllamaChat:
    backend = "ollama"

    def __init__(
        self,
        model: str,
        host: str,
        *,
        timeout: float = 120.0,
        keep_alive: str | None = "10m",
        num_ctx: int = 4096,
    ) -> None:
        self.name = model
        self.host = host
        self.keep_alive = keep_alive
        self.num_ctx = num_ctx
        self.timeout = timeout
        self._client, self._connections = _tracked_client(host, timeout)

    def chat(
        self,
        messages: list[Message],
        *,
        schema: dict[str, Any] | None = None,
        tools: list[Tool] | None = None,
        options: ChatOptions | None = None,
        on_token: TokenCallback | None = None,
    ) -> ChatResult:
        """One streamed call. A stopped turn (``kit.cancel``) closes the connection, also while
        the server is still processing the prompt, so Ollama stops too; it raises ``Cancelled``."""
        token = cancel.current()
        token.check()
        unhook = token.on_cancel(self._connections.shut_down)
        try:
            result = self._chat(messages, schema=schema, tools=tools, options=options, on_token=on_token)
        except Exception as exc:
            if token.cancelled:
                raise cancel.Cancelled() from exc
            raise
        finally:
            unhook()
            if token.cancelled:  # a fresh client: the shut connections are done
                self._client, self._connections = _tracked_client(self.host, self.timeout)
        token.check()
        return result

    def _chat(
        self,
        messages: list[Message],
        *,
        schema: dict[str, Any] | None = None,
        tools: list[Tool] | None = None,
        options: ChatOptions | None = None,
        on_token: TokenCallback | None = None,
    ) -> ChatResult:
        import httpx
        import ollama

        opts = options or ChatOptions()
        num_ctx = opts.num_ctx or self.num_ctx
        budget = num_ctx - (opts.max_tokens or 0)
        messages, notes = fit(messages, lambda s: len(s) // 3 + 1, budget)  # ~3 chars per token
        request: dict[str, Any] = {
            "model": self.name,
            "messages": [_wire(m) for m in messages],
            "stream": True,
            "options": _options(opts, num_ctx),
        }
        if schema is not None:
            request["format"] = schema
        if tools:
            request["tools"] = [t.as_ollama() for t in tools]
        if self.keep_alive is not None:
            request["keep_alive"] = self.keep_alive
        if opts.top_logprobs > 0:  # Ollama ≥ 0.12.11; an older server ignores it (no first_token)
            request["logprobs"], request["top_logprobs"] = True, opts.top_logprobs
        first_token: list[TokenChoice] = []
        text: list[str] = []
        calls: list[ToolCall] = []
        final: Any = None
        started = time.perf_counter()
        try:
            for chunk in self._client.chat(**request):
                cancel.check()
                piece = chunk.message.content or ""
                if not first_token and chunk.get("logprobs"):
                    first_token = _choices(chunk["logprobs"][0])
                if piece:
                    text.append(piece)
                    if on_token:
                        on_token(piece)
                for call in chunk.message.tool_calls or []:
                    calls.append(
                        ToolCall(
                            name=call.function.name,
                            arguments=parse_tool_arguments(call.function.arguments),
                        )
                    )
                if chunk.done:
                    final = chunk
        except (httpx.ConnectError, ConnectionRefusedError) as exc:
            raise _unavailable(self.host, exc) from exc
        except ollama.ResponseError as exc:
            if exc.status_code == 404:
                raise ModelNotFound(
                    f"Ollama has no model named {self.name!r}",
                    hint=f"ollama pull {self.name}  (or ollama create {self.name} -f Modelfile)",
                ) from exc
            raise ModelError(f"Ollama error: {exc.error}") from exc
        except httpx.TimeoutException as exc:
            if not text:
                raise ModelError(
                    f"Ollama did not answer within the timeout ({self.host})",
                    hint="raise ollama.timeout, or check the server's load",
                ) from exc
            return self._partial(text, calls, started, notes, f"timed out: {exc}")
        except (httpx.HTTPError, ConnectionError) as exc:
            if not text and not calls:
                raise _unavailable(self.host, exc) from exc
            return self._partial(text, calls, started, notes, f"connection dropped: {exc}")
        if final is None:
            return self._partial(text, calls, started, notes, "stream ended without a final chunk")
        usage = Usage(
            prompt_tokens=final.prompt_eval_count or 0,
            completion_tokens=final.eval_count or 0,
            load_ms=(final.load_duration or 0) / NS,
            prompt_ms=(final.prompt_eval_duration or 0) / NS,
            generation_ms=(final.eval_duration or 0) / NS,
            total_ms=(final.total_duration or 0) / NS,
        )
        return ChatResult(
            text="".join(text),
            tool_calls=calls,
            usage=usage,
            model=self.name,
            backend=self.backend,
            finish_reason=final.done_reason or "stop",
            notes=notes,
            first_token=first_token,
        )

    def _partial(
        self, text: list[str], calls: list[ToolCall], started: float, notes: list[str], why: str
    ) -> ChatResult:
        elapsed = (time.perf_counter() - started) * 1000
        return ChatResult(
            text="".join(text),
            tool_calls=calls,
            usage=Usage(total_ms=elapsed),
            model=self.name,
            backend=self.backend,
            finish_reason="interrupted",
            partial=True,
            notes=[*notes, f"partial answer: {why}"],
        )


def _choices(logprob: Any) -> list[TokenChoice]:
    """A token's ``top_logprobs`` (the token itself when the server sent no alternatives), most
    likely first."""
    top = logprob.get("top_logprobs") or [logprob]
    choices = [TokenChoice(token=t["token"], logprob=float(t["logprob"])) for t in top]
    return sorted(choices, key=lambda c: -c.logprob)


def _wire(m: Message) -> dict[str, Any]:
    out: dict[str, Any] = {"role": m.role, "content": m.content}
    if m.tool_calls:
        out["tool_calls"] = [{"function": {"name": c.name, "arguments": c.arguments}} for c in m.tool_calls]
    if m.name and m.role == "tool":
        out["tool_name"] = m.name
    return out


def _options(opts: ChatOptions, num_ctx: int) -> dict[str, Any]:
    out: dict[str, Any] = {"num_ctx": num_ctx}
    if opts.temperature is not None:
        out["temperature"] = opts.temperature
    if opts.seed is not None:
        out["seed"] = opts.seed
    if opts.max_tokens is not None:
        out["num_predict"] = opts.max_tokens
    if opts.stop:
        out["stop"] = opts.stop
    if opts.repeat_penalty is not None:
        out["repeat_penalty"] = opts.repeat_penalty
    return out


def list_models(host: str, timeout: float = 3.0) -> list[dict[str, Any]]:
    """Models the daemon has (``/api/tags``); ModelUnavailable when it does not answer."""
    import httpx

    try:
        response = _client(host, timeout).list()
    except (httpx.HTTPError, ConnectionError) as exc:
        raise _unavailable(host, exc) from exc
    return [
        {
            "name": m.model,
            "size": m.size,
            "family": getattr(m.details, "family", None),
            "parameters": getattr(m.details, "parameter_size", None),
            "quantization": getattr(m.details, "quantization_level", None),
        }
        for m in response.models
    ]


def show_model(host: str, model: str, timeout: float = 10.0) -> dict[str, Any]:
    """``/api/show``: details and the model's context length."""
    import httpx
    import ollama

    try:
        info = _client(host, timeout).show(model)
    except (httpx.HTTPError, ConnectionError) as exc:
        raise _unavailable(host, exc) from exc
    except ollama.ResponseError as exc:
        raise ModelNotFound(f"Ollama has no model named {model!r}", hint=f"ollama pull {model}") from exc
    mi = dict(info.modelinfo or {})
    ctx = next((v for k, v in mi.items() if k.endswith(".context_length")), None)
    return {"name": model, "context_length": ctx, "template": info.template, "parameters": info.parameters}

"""A loopback HTTP server that speaks Ollama's documented wire format, for tests.

Records every request body; answers /api/chat with scripted NDJSON chunks (or an error, or a
stream that breaks off), /api/tags and /api/show from its model list, and /api/blobs +
/api/create as Ollama does (a blob is kept only if its bytes match its digest; create needs every
named blob and adds the model to the list).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def chat_chunks(text: str, *, tool_calls: list[dict] | None = None, model: str = "m") -> list[dict]:
    """Streamed chunks for ``text`` (a few characters each) and the final ``done`` chunk."""
    chunks = [
        {
            "model": model,
            "created_at": "2026-01-01T00:00:00Z",
            "message": {"role": "assistant", "content": text[i : i + 4]},
            "done": False,
        }
        for i in range(0, len(text), 4)
    ]
    final = {
        "model": model,
        "created_at": "2026-01-01T00:00:01Z",
        "message": {"role": "assistant", "content": ""},
        "done": True,
        "done_reason": "stop",
        "total_duration": 900_000_000,
        "load_duration": 100_000_000,
        "prompt_eval_count": 12,
        "prompt_eval_duration": 200_000_000,
        "eval_count": 7,
        "eval_duration": 500_000_000,
    }
    if tool_calls:
        final["message"]["tool_calls"] = [{"function": c} for c in tool_calls]
    return [*chunks, final]


class FakeOllama:
    def __init__(self, models: list[str] | None = None) -> None:
        self.models = models if models is not None else ["qwen3:0.6b"]
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.script: list[dict[str, Any]] = []  # one entry per /api/chat call
        self.blobs: dict[str, int] = {}  # digest → size of what was uploaded
        self.created: dict[str, dict[str, Any]] = {}  # name → the /api/create body
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _body(self) -> dict[str, Any]:
                n = int(self.headers.get("Content-Length") or 0)
                return json.loads(self.rfile.read(n) or b"{}")

            def _json(self, status: int, data: dict[str, Any]) -> None:
                raw = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:  # noqa: N802
                fake.requests.append((self.path, {}))
                if self.path == "/api/tags":
                    self._json(
                        200,
                        {
                            "models": [
                                {
                                    "name": m,
                                    "model": m,
                                    "size": 1000,
                                    "digest": "d",
                                    "details": {
                                        "family": "qwen3",
                                        "parameter_size": "0.6B",
                                        "quantization_level": "Q4_K_M",
                                    },
                                }
                                for m in fake.models
                            ]
                        },
                    )
                else:
                    self._json(404, {"error": "not found"})

            def do_POST(self) -> None:  # noqa: N802
                if self.path.startswith("/api/blobs/"):
                    digest = self.path.rsplit("/", 1)[1]
                    raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                    fake.requests.append((self.path, {"bytes": len(raw)}))
                    if digest != "sha256:" + hashlib.sha256(raw).hexdigest():
                        self._json(400, {"error": "digest mismatch"})
                        return
                    fake.blobs[digest] = len(raw)
                    self._json(201, {})
                    return
                body = self._body()
                fake.requests.append((self.path, body))
                if self.path == "/api/create":
                    named = {**(body.get("files") or {}), **(body.get("adapters") or {})}
                    missing = [f for f, d in named.items() if d not in fake.blobs]
                    if missing or not body.get("files"):
                        self._json(
                            400, {"error": f"neither 'from' or 'files' was specified (missing {missing})"}
                        )
                        return
                    fake.created[body["model"]] = body
                    fake.models.append(body["model"])
                    self._json(200, {"status": "success"})
                    return
                if self.path == "/api/show":
                    if body.get("model") not in fake.models:
                        self._json(404, {"error": f"model '{body.get('model')}' not found"})
                        return
                    self._json(
                        200,
                        {
                            "template": "{{ .Prompt }}",
                            "parameters": "",
                            "model_info": {"qwen3.context_length": 40960},
                        },
                    )
                    return
                if self.path != "/api/chat":
                    self._json(404, {"error": "not found"})
                    return
                if body.get("model") not in fake.models:
                    self._json(404, {"error": f"model '{body.get('model')}' not found, try pulling it first"})
                    return
                step = fake.script.pop(0) if fake.script else {"chunks": chat_chunks("ok")}
                if step.get("delay"):
                    time.sleep(step["delay"])  # a server too slow to answer
                self.send_response(200)
                self.send_header("Content-Type", "application/x-ndjson")
                self.end_headers()
                chunks = step["chunks"]
                if step.get("drop_after") is not None:
                    chunks = chunks[: step["drop_after"]]
                for chunk in chunks:
                    self.wfile.write((json.dumps(chunk) + "\n").encode())
                    self.wfile.flush()
                if step.get("drop_after") is not None:
                    self.connection.shutdown(2)  # the connection drops mid-stream

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeOllama:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def chat_requests(self) -> list[dict[str, Any]]:
        return [body for path, body in self.requests if path == "/api/chat"]

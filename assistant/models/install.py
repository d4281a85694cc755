"""Create a fine-tuned model in Ollama from the very weights the in-process runtime serves.

Ollama's create API (``/api/blobs/<digest>`` then ``/api/create``, via the official client): the
base GGUF (the bundled Q4_1 file the adapter was trained on) goes up as the model file, the LoRA
GGUF as its adapter — the same pair ``llama-cpp-python`` loads — with the base's chat template,
its stop tokens and greedy parameters, so both runtimes answer alike. A merged GGUF (``--merged``)
goes up alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import OpenbookError

# SmolLM2's ChatML template, in Ollama's Go-template syntax (system messages are in .Messages).
# A final assistant message is left open, so the reply continues it (a prefill).
CHATML = (
    "{{- range $i, $_ := .Messages }}{{- $last := eq (len (slice $.Messages $i)) 1 -}}"
    "<|im_start|>{{ .Role }}\n{{ .Content }}"
    '{{ if or (ne .Role "assistant") (not $last) }}<|im_end|>\n{{ end }}'
    '{{ if and (ne .Role "assistant") $last }}<|im_start|>assistant\n{{ end }}'
    "{{- end }}"
)
STOP = ["<|im_end|>", "<|im_start|>"]


@dataclass
class Install:
    name: str
    model_file: Path
    adapter: Path | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)
    status: str = ""

    def modelfile(self) -> str:
        """The Modelfile equivalent of what was sent, for the user to read or reuse."""
        lines = [f"FROM {self.model_file}"]
        if self.adapter:
            lines.append(f"ADAPTER {self.adapter}")
        lines.append(f'TEMPLATE """{CHATML}"""')
        for key, value in self.parameters.items():
            for v in value if isinstance(value, list) else [value]:
                lines.append(f'PARAMETER {key} "{v}"' if isinstance(v, str) else f"PARAMETER {key} {v}")
        return "\n".join(lines) + "\n"


def create(
    host: str, name: str, model_file: Path, adapter: Path | None = None, *, num_ctx: int = 4096
) -> Install:
    """Upload the files (skipped by Ollama when it already has the digest) and create ``name``."""
    import ollama

    for path in (model_file, adapter):
        if path is not None and not path.is_file():
            raise OpenbookError(f"No such model file: {path}", hint="train and export it first (make reader)")
    plan = Install(
        name,
        model_file,
        adapter,
        parameters={"stop": STOP, "temperature": 0, "num_ctx": num_ctx},
    )
    client = ollama.Client(host=host)
    try:
        plan.digests[model_file.name] = client.create_blob(model_file)
        if adapter is not None:
            plan.digests[adapter.name] = client.create_blob(adapter)
        done = client.create(
            model=name,
            files={model_file.name: plan.digests[model_file.name]},
            adapters={adapter.name: plan.digests[adapter.name]} if adapter is not None else None,
            template=CHATML,
            parameters=plan.parameters,
            stream=False,
        )
    except ollama.ResponseError as exc:
        raise OpenbookError(
            f"Ollama at {host} refused to create {name}: {exc.error}",
            hint="Ollama ≥ 0.5.5 is needed for the create-from-files API; `ollama --version`",
        ) from exc
    except (ConnectionError, OSError) as exc:
        raise OpenbookError(
            f"Cannot reach Ollama at {host} to create {name}: {exc}",
            hint="start it with `ollama serve`, or set OLLAMA_HOST",
        ) from exc
    plan.status = str(getattr(done, "status", "") or "")
    if plan.status != "success":
        raise OpenbookError(f"Ollama did not finish creating {name} (status: {plan.status or 'none'})")
    return plan

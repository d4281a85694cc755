"""Retrieval benchmark: latency per leg and fused at 10k and 100k chunks, BM25 vs bm25s.

    .venv/bin/python bench/retrieval.py [--sizes 10000 100000] [--queries 200] [--json out.json]

Chunks are synthetic (sentences drawn from the sample documents plus a long tail of rare words)
with random unit vectors: fine for latency, meaningless for quality. For each size it reports
index build times (HNSW in PostgreSQL, BM25), the BM25 index's memory, and p50/p95 latency of:
the BM25 leg, bm25s on the same tokens (a bench-only reference, same process, same queries),
the vector leg (SQL only, query vectors precomputed), query embedding, and a whole hybrid
``retrieve()`` (embedding + both legs + fusion + fetching the chunks).
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil
from psycopg.types.json import Jsonb

from openbook.agents.kit.words import tokenize
from openbook.assistant import paths
from openbook.assistant.embeddings import SentenceTransformerEmbedder
from openbook.assistant.retrieval.retriever import Retriever
from openbook.assistant.settings import load_settings
from openbook.assistant.store import Store

DIM = 384


def sentences() -> list[str]:
    out = []
    for doc in sorted(paths.sample_docs_dir().glob("*.md")):
        for para in doc.read_text().split("\n\n"):
            if not para.startswith("#"):
                out += [s.strip() for s in para.replace("\n", " ").split(". ") if len(s) > 20]
    return out


def synth_texts(n: int, rng: random.Random, pool: list[str]) -> list[str]:
    texts = []
    for _ in range(n):
        words = " ".join(rng.choice(pool) for _ in range(5))
        rare = " ".join(f"term{int(rng.paretovariate(1.0)) % 200_000}" for _ in range(8))
        texts.append(f"{words} {rare}")
    return texts


def load_store(store: Store, texts: list[str], rng: np.random.Generator) -> float:
    """Bulk-load chunks (10 per document) with random unit vectors; returns HNSW build seconds."""
    with store.transaction() as conn:
        conn.execute("DROP INDEX IF EXISTS chunks_embedding_hnsw")
        with conn.cursor().copy(
            "COPY documents (id, source, title, kind, content_hash, size_bytes, ingest_signature,"
            " chunk_count) FROM STDIN"
        ) as copy:
            for d in range(0, len(texts), 10):
                copy.write_row([d + 1, f"/bench/doc{d}", f"doc {d}", "text", "x", 1, "bench", 10])
        with conn.cursor().copy(
            "COPY chunks (document_id, ordinal, text, metadata, embedding) FROM STDIN WITH (FORMAT BINARY)"
        ) as copy:
            copy.set_types(["int8", "int4", "text", "jsonb", "vector"])
            for i, text in enumerate(texts):
                v = rng.standard_normal(DIM).astype(np.float32)
                copy.write_row([(i // 10) * 10 + 1, i % 10, text, Jsonb({}), v / np.linalg.norm(v)])
        conn.execute(
            "UPDATE store_meta SET value = to_jsonb(value::text::bigint + 1) WHERE key = 'corpus_generation'"
        )
    t0 = time.perf_counter()
    with store.connection() as conn:
        conn.autocommit = True
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute("CREATE INDEX chunks_embedding_hnsw ON chunks USING hnsw (embedding vector_cosine_ops)")
        conn.execute("ANALYZE chunks")
        conn.autocommit = False
    return time.perf_counter() - t0


def pct(values: list[float]) -> dict[str, float]:
    values = sorted(values)
    return {
        "p50": round(statistics.median(values), 3),
        "p95": round(values[int(0.95 * (len(values) - 1))], 3),
    }


def timed(fn, items) -> list[float]:  # noqa: ANN001
    out = []
    for item in items:
        t0 = time.perf_counter()
        fn(item)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def bench_size(n: int, n_queries: int, work: Path, embedder, pool: list[str]) -> dict:  # noqa: ANN001
    import bm25s

    rng = random.Random(n)
    texts = synth_texts(n, rng, pool)
    queries = [" ".join(rng.choice(pool).split()[:8]) for _ in range(n_queries)]
    settings = load_settings({"database": {"data_dir": str(work / "pg"), "db_schema": f"bench{n}"}})
    result: dict = {"chunks": n, "queries": n_queries}
    with Store(settings, embedding=embedder.identity) as store:
        result["hnsw_build_s"] = round(load_store(store, texts, np.random.default_rng(n)), 2)
        retriever = Retriever(store, embedder, settings.retrieval, cache_dir=work / "cache")
        gc.collect()
        rss0 = psutil.Process().memory_info().rss
        t0 = time.perf_counter()
        index = retriever.bm25_index()
        result["bm25_build_s"] = round(time.perf_counter() - t0, 2)
        gc.collect()
        result["bm25_rss_growth_mb"] = round((psutil.Process().memory_info().rss - rss0) / 2**20, 1)
        result["bm25_index_mb"] = round(index.memory_bytes() / 2**20, 1)
        fresh = Retriever(store, embedder, settings.retrieval, cache_dir=work / "cache")
        t0 = time.perf_counter()
        fresh.bm25_index()
        result["bm25_load_from_cache_s"] = round(time.perf_counter() - t0, 3)
        del fresh

        depth = settings.retrieval.candidates
        # bm25s on exactly the same tokens (our tokenizer), same k.
        ref = bm25s.BM25()
        t0 = time.perf_counter()
        ref.index([tokenize(t) for t in texts], show_progress=False)
        result["bm25s_build_s"] = round(time.perf_counter() - t0, 2)

        def bm25s_query(q: str) -> None:
            toks = tokenize(q)
            ref.retrieve([toks], k=depth, show_progress=False, n_threads=1)

        vectors = embedder.embed_batch(queries)
        for q in queries[:5]:  # warm caches and plans
            retriever.retrieve(q)
            bm25s_query(q)
        result["bm25_leg_ms"] = pct(timed(lambda q: index.search(q, depth), queries))
        result["bm25s_ms"] = pct(timed(bm25s_query, queries))
        result["vector_leg_ms"] = pct(
            timed(lambda i: retriever.vector_leg(vectors[i : i + 1], depth), range(len(queries)))
        )
        result["embed_query_ms"] = pct(timed(lambda q: embedder.embed_batch([q]), queries))
        result["hybrid_retrieve_ms"] = pct(timed(lambda q: retriever.retrieve(q), queries))
        result["bm25_vs_bm25s_p50"] = round(result["bm25_leg_ms"]["p50"] / result["bm25s_ms"]["p50"], 2)
    return result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="openbook-bench-retrieval-"))
    embedder = SentenceTransformerEmbedder("all-MiniLM-L6-v2")
    embedder.embed_batch(["warm up"])
    pool = sentences()
    results = [bench_size(n, args.queries, work, embedder, pool) for n in args.sizes]
    if len(results) >= 2:
        ratio = results[-1]["hybrid_retrieve_ms"]["p50"] / results[0]["hybrid_retrieve_ms"]["p50"]
        print(f"hybrid p50 {results[-1]['chunks']} / {results[0]['chunks']}: {ratio:.2f}x")
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

"""Hybrid retrieval: BM25 (rank-bm25) + pgvector HNSW, fused with weighted RRF."""

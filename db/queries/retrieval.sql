-- name: corpus_snapshot
SELECT (SELECT value::text::bigint FROM store_meta WHERE key = 'corpus_generation') AS generation;

-- name: bm25_corpus
SELECT c.id, d.title, c.text, c.metadata FROM chunks c JOIN documents d ON d.id = c.document_id;

-- name: vector_search
-- The HNSW index serves this ORDER BY ... LIMIT directly.
SELECT id, embedding <=> %(embedding)s AS distance
FROM chunks
ORDER BY embedding <=> %(embedding)s
LIMIT %(k)s;

-- name: vector_search_filtered
-- With a filter, pgvector 0.8's iterative index scan keeps scanning until enough rows pass it.
SELECT c.id, c.embedding <=> %(embedding)s AS distance
FROM chunks c
WHERE c.document_id = ANY(%(document_ids)s)
ORDER BY c.embedding <=> %(embedding)s
LIMIT %(k)s;

-- name: filter_document_ids
SELECT id FROM documents
WHERE (cardinality(%(ids)s::bigint[]) > 0 AND id = ANY(%(ids)s::bigint[]))
   OR (cardinality(%(prefixes)s::text[]) > 0 AND source LIKE ANY(%(prefixes)s::text[]));

-- name: chunk_ids_of_documents
SELECT id FROM chunks WHERE document_id = ANY(%(document_ids)s);

-- name: chunks_by_ids
SELECT c.id, c.document_id, c.ordinal, c.text, c.metadata, d.source, d.title
FROM chunks c JOIN documents d ON d.id = c.document_id
WHERE c.id = ANY(%(ids)s);

-- name: chunk_distances
-- Exact cosine distances of given chunks to one query vector (fused hits the vector leg missed).
SELECT id, embedding <=> %(embedding)s AS distance FROM chunks WHERE id = ANY(%(ids)s);

-- name: chunk_sources
SELECT c.id, d.source FROM chunks c JOIN documents d ON d.id = c.document_id;

-- name: chunks_with_vectors
SELECT c.id, c.text, c.embedding, d.source, d.title
FROM chunks c JOIN documents d ON d.id = c.document_id ORDER BY c.id;

-- name: chunks_for_tuning
SELECT c.id, c.document_id, c.ordinal, c.text FROM chunks c ORDER BY c.id;

-- name: chunk_count
SELECT count(*) AS n FROM chunks;

-- name: get_meta
SELECT value FROM store_meta WHERE key = %(key)s;

-- name: set_meta
INSERT INTO store_meta (key, value) VALUES (%(key)s, %(value)s)
ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value;

-- name: bump_generation
UPDATE store_meta SET value = to_jsonb(value::text::bigint + 1)
WHERE key = 'corpus_generation' RETURNING value;

-- name: document_fingerprints
SELECT source, content_hash, ingest_signature FROM documents;

-- name: upsert_document
INSERT INTO documents (source, title, kind, content_hash, size_bytes, mtime, ingest_signature,
                       chunk_count, metadata)
VALUES (%(source)s, %(title)s, %(kind)s, %(content_hash)s, %(size_bytes)s, %(mtime)s,
        %(ingest_signature)s, %(chunk_count)s, %(metadata)s)
ON CONFLICT (source) DO UPDATE SET
    title = EXCLUDED.title, kind = EXCLUDED.kind, content_hash = EXCLUDED.content_hash,
    size_bytes = EXCLUDED.size_bytes, mtime = EXCLUDED.mtime,
    ingest_signature = EXCLUDED.ingest_signature, chunk_count = EXCLUDED.chunk_count,
    metadata = EXCLUDED.metadata, updated_at = now()
RETURNING id;

-- name: touch_document
UPDATE documents SET mtime = %(mtime)s WHERE source = %(source)s;

-- name: delete_chunks_of_document
DELETE FROM chunks WHERE document_id = %(document_id)s;

-- name: list_documents
SELECT id, source, title, kind, chunk_count, size_bytes, mtime, updated_at
FROM documents ORDER BY source;

-- name: get_document_by_id
SELECT id, source, title, kind, content_hash, size_bytes, mtime, ingest_signature, chunk_count,
       metadata, created_at, updated_at
FROM documents WHERE id = %(id)s;

-- name: get_document_by_source
SELECT id, source, title, kind, content_hash, size_bytes, mtime, ingest_signature, chunk_count,
       metadata, created_at, updated_at
FROM documents WHERE source = %(source)s;

-- name: chunks_of_document
SELECT id, ordinal, text, metadata FROM chunks WHERE document_id = %(document_id)s ORDER BY ordinal;

-- name: delete_document
DELETE FROM documents WHERE id = %(id)s RETURNING source;

-- name: sources_under
SELECT id, source FROM documents WHERE source = %(root)s OR source LIKE %(prefix)s ORDER BY source;

-- name: library_stats
SELECT (SELECT count(*) FROM documents) AS documents,
       (SELECT count(*) FROM chunks) AS chunks,
       (SELECT coalesce(sum(size_bytes), 0) FROM documents) AS source_bytes;

-- name: schema_size
SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint AS bytes
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %(schema)s AND c.relkind IN ('r', 'm');

-- name: all_chunk_texts_for_reembed
SELECT c.id, c.text, d.title, c.metadata FROM chunks c JOIN documents d ON d.id = c.document_id
ORDER BY c.id;

-- name: nearest_chunks
SELECT c.id, c.text, c.metadata, d.source, d.title, c.embedding <=> %(embedding)s AS distance
FROM chunks c JOIN documents d ON d.id = c.document_id
ORDER BY c.embedding <=> %(embedding)s
LIMIT %(k)s;

-- name: copy_chunks
COPY chunks (document_id, ordinal, text, metadata, embedding) FROM STDIN WITH (FORMAT BINARY);

-- name: reembed_drop_index
DROP INDEX IF EXISTS chunks_embedding_hnsw;

-- name: reembed_retype
ALTER TABLE chunks ALTER COLUMN embedding DROP NOT NULL,
                   ALTER COLUMN embedding TYPE vector({dim}) USING NULL;

-- name: reembed_temp
CREATE TEMP TABLE new_embeddings (id bigint PRIMARY KEY, embedding vector({dim})) ON COMMIT DROP;

-- name: reembed_copy
COPY new_embeddings (id, embedding) FROM STDIN WITH (FORMAT BINARY);

-- name: reembed_apply
UPDATE chunks c SET embedding = n.embedding FROM new_embeddings n WHERE n.id = c.id;

-- name: reembed_not_null
ALTER TABLE chunks ALTER COLUMN embedding SET NOT NULL;

-- name: create_hnsw_index
CREATE INDEX chunks_embedding_hnsw ON chunks USING hnsw (embedding vector_cosine_ops);

-- name: has_chunks
SELECT EXISTS (SELECT 1 FROM chunks) AS present;

-- name: find_document_by_name
SELECT id, source, title FROM documents
WHERE source = %(name)s OR lower(title) = lower(%(name)s) OR source LIKE %(suffix)s
ORDER BY (source = %(name)s) DESC, (lower(title) = lower(%(name)s)) DESC, length(source)
LIMIT 1;

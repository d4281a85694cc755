-- Documents and their chunks. {dim} is the embedding dimension the store is created with;
-- `openbook reembed` changes it later.
CREATE TABLE IF NOT EXISTS store_meta (
    key   text PRIMARY KEY,
    value jsonb NOT NULL
);

CREATE TABLE documents (
    id               bigserial PRIMARY KEY,
    source           text NOT NULL UNIQUE,          -- absolute path (or URI) of the original
    title            text NOT NULL,
    kind             text NOT NULL,                 -- markdown, text, html, pdf, code, ...
    content_hash     text NOT NULL,                 -- sha256 of the file's bytes
    size_bytes       bigint NOT NULL,
    mtime            timestamptz,
    ingest_signature text NOT NULL,                 -- parser + chunking settings used
    chunk_count      integer NOT NULL DEFAULT 0,
    metadata         jsonb NOT NULL DEFAULT '{}',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE chunks (
    id          bigserial PRIMARY KEY,
    document_id bigint NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    ordinal     integer NOT NULL,
    text        text NOT NULL,
    metadata    jsonb NOT NULL DEFAULT '{}',        -- page, section, start/end offsets
    embedding   vector({dim}) NOT NULL,
    UNIQUE (document_id, ordinal)
);

CREATE INDEX chunks_embedding_hnsw ON chunks USING hnsw (embedding vector_cosine_ops);

-- Bumped in the same transaction as every change to documents/chunks, so caches derived from
-- the corpus (the BM25 index) know when they are stale.
INSERT INTO store_meta (key, value) VALUES ('corpus_generation', '0');

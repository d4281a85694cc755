-- Conversations and traces. A trace is one turn; every step, model call and retrieval inside it
-- is a span row, inserted when it starts and updated when it ends, so a crash mid-turn still
-- leaves a readable partial trace.
CREATE TABLE sessions (
    id         bigserial PRIMARY KEY,
    name       text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE traces (
    id         bigserial PRIMARY KEY,
    session_id bigint REFERENCES sessions(id) ON DELETE SET NULL,
    question   text NOT NULL,
    status     text NOT NULL DEFAULT 'running',     -- running, ok, error
    answer     text,
    metadata   jsonb NOT NULL DEFAULT '{}',         -- pipeline switches, model choices
    started_at timestamptz NOT NULL DEFAULT now(),
    ended_at   timestamptz
);
CREATE INDEX traces_started ON traces (started_at DESC);

CREATE TABLE spans (
    id          bigserial PRIMARY KEY,
    trace_id    bigint NOT NULL REFERENCES traces(id) ON DELETE CASCADE,
    parent_id   bigint REFERENCES spans(id) ON DELETE CASCADE,
    name        text NOT NULL,
    kind        text NOT NULL DEFAULT 'step',       -- step, model, retrieval, tool
    status      text NOT NULL DEFAULT 'running',    -- running, ok, fallback, error
    input       jsonb,
    output      jsonb,
    prompt      text,
    model       text,
    backend     text,
    usage       jsonb,
    chunks      jsonb,                              -- retrieved chunks with per-leg ranks
    notes       jsonb NOT NULL DEFAULT '[]',
    error       text,
    started_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    ended_at    timestamptz,
    duration_ms double precision
);
CREATE INDEX spans_trace ON spans (trace_id, id);

CREATE TABLE messages (
    id         bigserial PRIMARY KEY,
    session_id bigint NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    role       text NOT NULL,                       -- user, assistant
    content    text NOT NULL,
    citations  jsonb NOT NULL DEFAULT '[]',
    trace_id   bigint REFERENCES traces(id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX messages_session ON messages (session_id, id);

-- What other agents asked of the library (`openbook mcp`): one row per tool call, with its
-- arguments, how long it took and how much it returned; an `ask` also links its turn's trace.
CREATE TABLE tool_calls (
    id           bigserial PRIMARY KEY,
    client       text,                                -- the MCP client's name, as it gave it
    tool         text NOT NULL,
    arguments    jsonb NOT NULL DEFAULT '{}',
    status       text NOT NULL,                       -- ok, error
    error        text,
    result_chars integer NOT NULL DEFAULT 0,
    duration_ms  double precision NOT NULL,
    trace_id     bigint REFERENCES traces(id) ON DELETE SET NULL,
    started_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX tool_calls_started ON tool_calls (started_at DESC);

-- Folders kept in sync by `openbook ingest --watch` / `openbook chat --watch`: who watches,
-- and the last time a change was applied.
CREATE TABLE watched_folders (
    path        text PRIMARY KEY,
    host        text NOT NULL,
    pid         integer NOT NULL,
    started_at  timestamptz NOT NULL DEFAULT now(),
    stopped_at  timestamptz,
    last_sync   timestamptz,
    last_change jsonb NOT NULL DEFAULT '{}'           -- added / updated / removed / failed counts
);

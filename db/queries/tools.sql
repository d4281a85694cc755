-- name: insert_tool_call
INSERT INTO tool_calls (client, tool, arguments, status, error, result_chars, duration_ms, trace_id)
VALUES (%(client)s, %(tool)s, %(arguments)s, %(status)s, %(error)s, %(result_chars)s, %(duration_ms)s,
        %(trace_id)s)
RETURNING id;

-- name: list_tool_calls
SELECT id, client, tool, arguments, status, error, result_chars, duration_ms, trace_id, started_at
FROM tool_calls ORDER BY id DESC LIMIT %(limit)s;

-- name: watch_started
INSERT INTO watched_folders (path, host, pid) VALUES (%(path)s, %(host)s, %(pid)s)
ON CONFLICT (path) DO UPDATE SET host = EXCLUDED.host, pid = EXCLUDED.pid, started_at = now(),
    stopped_at = NULL;

-- name: watch_synced
UPDATE watched_folders SET last_sync = now(), last_change = %(change)s WHERE path = %(path)s;

-- name: watch_stopped
UPDATE watched_folders SET stopped_at = now() WHERE path = %(path)s AND pid = %(pid)s AND host = %(host)s;

-- name: list_watched
SELECT path, host, pid, started_at, stopped_at, last_sync, last_change FROM watched_folders ORDER BY path;

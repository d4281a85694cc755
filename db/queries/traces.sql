-- name: insert_trace
INSERT INTO traces (session_id, question, metadata) VALUES (%(session_id)s, %(question)s, %(metadata)s)
RETURNING id;

-- name: finish_trace
UPDATE traces SET status = %(status)s, answer = %(answer)s, ended_at = clock_timestamp()
WHERE id = %(id)s;

-- name: insert_span
INSERT INTO spans (trace_id, parent_id, name, kind, input)
VALUES (%(trace_id)s, %(parent_id)s, %(name)s, %(kind)s, %(input)s)
RETURNING id, started_at;

-- name: finish_span
UPDATE spans SET status = %(status)s, output = %(output)s, prompt = %(prompt)s, model = %(model)s,
       backend = %(backend)s, usage = %(usage)s, chunks = %(chunks)s, notes = %(notes)s,
       error = %(error)s, ended_at = clock_timestamp(),
       duration_ms = extract(epoch FROM clock_timestamp() - started_at) * 1000
WHERE id = %(id)s;

-- name: list_traces
SELECT t.id, t.question, t.status, t.started_at, t.ended_at, s.name AS session,
       extract(epoch FROM coalesce(t.ended_at, clock_timestamp()) - t.started_at) * 1000 AS duration_ms,
       (SELECT count(*) FROM spans sp WHERE sp.trace_id = t.id) AS spans
FROM traces t LEFT JOIN sessions s ON s.id = t.session_id
ORDER BY t.id DESC LIMIT %(limit)s;

-- name: get_trace
SELECT t.*, s.name AS session FROM traces t LEFT JOIN sessions s ON s.id = t.session_id
WHERE t.id = %(id)s;

-- name: spans_of_trace
SELECT * FROM spans WHERE trace_id = %(trace_id)s ORDER BY id;

-- name: latest_trace_id
SELECT max(id) AS id FROM traces;

-- name: get_session
SELECT id, name FROM sessions WHERE name = %(name)s;

-- name: create_session
INSERT INTO sessions (name) VALUES (%(name)s)
ON CONFLICT (name) DO UPDATE SET updated_at = now() RETURNING id, name;

-- name: recent_messages
SELECT role, content, citations FROM (
    SELECT id, role, content, citations FROM messages WHERE session_id = %(session_id)s
    ORDER BY id DESC LIMIT %(limit)s
) m ORDER BY id;

-- name: add_message
INSERT INTO messages (session_id, role, content, citations, trace_id)
VALUES (%(session_id)s, %(role)s, %(content)s, %(citations)s, %(trace_id)s)
RETURNING id;

-- name: list_sessions
SELECT s.id, s.name, s.updated_at, (SELECT count(*) FROM messages m WHERE m.session_id = s.id) AS messages
FROM sessions s ORDER BY s.updated_at DESC;

-- name: rename_session
UPDATE sessions SET name = %(new)s, updated_at = now() WHERE name = %(old)s RETURNING id;

-- name: delete_session
DELETE FROM sessions WHERE name = %(name)s RETURNING id;

-- name: session_messages
SELECT m.role, m.content, m.citations, m.trace_id FROM messages m JOIN sessions s ON s.id = m.session_id
WHERE s.name = %(name)s ORDER BY m.id;

-- Advisory locks for ingestion (keys are signed 64-bit hashes made in db/locks.py).

-- name: lock_shared
SELECT pg_advisory_lock_shared(%(key)s);

-- name: try_lock
SELECT pg_try_advisory_lock(%(key)s) AS got;

-- name: lock
SELECT pg_advisory_lock(%(key)s);

-- name: unlock
SELECT pg_advisory_unlock(%(key)s);

-- name: unlock_all
SELECT pg_advisory_unlock_all();

-- name: lock_holders
-- A bigint advisory key shows in pg_locks as classid (high 32 bits), objid (low 32), objsubid 1.
SELECT count(DISTINCT pid) AS holders FROM pg_locks
WHERE locktype = 'advisory' AND granted AND objsubid = 1
  AND classid::bigint = %(hi)s AND objid::bigint = %(lo)s AND pid <> pg_backend_pid();

"""Shared test helpers."""


def half_ingested(store) -> list:
    """Documents whose stored chunks do not match their chunk count (or that have none)."""
    with store.connection() as conn:
        return conn.execute(
            "SELECT d.source FROM documents d LEFT JOIN chunks c ON c.document_id = d.id "
            "GROUP BY d.id HAVING count(c.id) <> d.chunk_count OR count(c.id) = 0"
        ).fetchall()

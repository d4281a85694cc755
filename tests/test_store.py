import pytest

from openbook.assistant.errors import DatabaseError, EmbeddingMismatchError
from openbook.assistant.settings import load_settings
from openbook.assistant.store import EmbeddingIdentity, Store
from openbook.db import migrations


def test_migrations_applied_once_and_tracked(store, settings, embedder):
    with store.connection() as conn:
        rows = conn.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
    assert [r[0] for r in rows] == [m.version for m in migrations()]
    # Opening again applies nothing twice (the version table has a primary key).
    with Store(settings, embedding=embedder.identity) as again:
        with again.connection() as conn:
            count = conn.execute("SELECT count(*) FROM schema_migrations").fetchone()[0]
    assert count == len(migrations())


def test_schema_has_vector_column_and_hnsw_index(store):
    with store.connection() as conn:
        typ = conn.execute(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = 'chunks'::regclass AND attname = 'embedding'"
        ).fetchone()[0]
        index = conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'chunks' AND schemaname = %s "
            "AND indexname = 'chunks_embedding_hnsw'",
            (store.schema,),
        ).fetchone()[0]
    assert typ == "vector(384)"
    assert "hnsw" in index and "vector_cosine_ops" in index


def test_store_records_embedding_identity(store, embedder):
    assert store.embedding_identity() == embedder.identity


def test_dimension_mismatch_is_a_clear_error(store):
    other = EmbeddingIdentity("ollama:nomic-embed-text", 768)
    with pytest.raises(EmbeddingMismatchError) as info:
        store.check_embedding(other)
    assert "dimension 384" in info.value.message and "768" in info.value.message
    assert "openbook reembed" in info.value.hint


def test_schemas_are_isolated(store, settings, embedder, pg_data_dir):
    from openbook.assistant import library

    other = load_settings({"database": {"data_dir": str(pg_data_dir), "db_schema": "t_other_iso"}})
    with Store(other, embedding=embedder.identity) as s2:
        try:
            assert library.stats(s2)["documents"] == 0
        finally:
            with s2.connection() as conn:
                conn.execute('DROP SCHEMA "t_other_iso" CASCADE')
                conn.commit()


def test_external_url_mode_uses_the_given_server(pg_data_dir, embedder, schema):
    from openbook.assistant.embedded_pg import server_for

    url = server_for(pg_data_dir).conninfo()
    ext = load_settings({"database": {"url": url, "db_schema": schema}})
    assert ext.database.external
    with Store(ext, embedding=embedder.identity) as s:
        assert not s.embedded
        assert s.embedding_identity() == embedder.identity
        with s.connection() as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
            conn.commit()


def test_unreachable_external_server_is_a_clear_error(tmp_path, embedder):
    bad = load_settings(
        {"database": {"url": f"host={tmp_path} port=1 user=x dbname=y", "connect_timeout": 2}}
    )
    with pytest.raises(DatabaseError) as info:
        Store(bad, embedding=embedder.identity).open()
    assert "Cannot connect to PostgreSQL" in info.value.message

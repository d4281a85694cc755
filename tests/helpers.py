"""Shared test helpers."""


def half_ingested(store) -> list:
    """Documents whose stored chunks do not match their chunk count (or that have none)."""
    with store.connection() as conn:
        return conn.execute(
            "SELECT d.source FROM documents d LEFT JOIN chunks c ON c.document_id = d.id "
            "GROUP BY d.id HAVING count(c.id) <> d.chunk_count OR count(c.id) = 0"
        ).fetchall()


def closed_port_host() -> str:
    """An http://127.0.0.1:PORT where nothing listens (a daemon that is not running)."""
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}"


def openbook_cmd(database: dict, *args: str) -> list[str]:
    """argv running ``openbook`` in a child process against the test database and schema."""
    import sys

    return [
        sys.executable,
        "-c",
        "from openbook.assistant.cli.main import main; main()",
        "--data-dir",
        database["data_dir"],
        "--schema",
        database["db_schema"],
        *args,
    ]


def wait_until(condition, seconds: float = 30.0, what: str = "condition") -> None:  # noqa: ANN001
    """Poll ``condition`` until it is true; fail loudly after ``seconds``."""
    import time

    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {what}")
        time.sleep(0.02)

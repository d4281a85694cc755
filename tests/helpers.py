"""Shared test helpers."""

# The repository's top-level folders and the packages they install as.
FOLDERS = {
    "assistant": "openbook.assistant",
    "agents": "openbook.agents",
    "prompts": "openbook.prompts",
    "db": "openbook.db",
}


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


def write_tiny_lora(path, base):
    """A small random LoRA on one tensor of ``base``, as llama.cpp loads adapters."""
    import gguf
    import numpy as np

    reader = gguf.GGUFReader(str(base))
    target = next(t for t in reader.tensors if t.name == "blk.0.attn_q.weight")
    n_in, n_out = int(target.shape[0]), int(target.shape[1])
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_string("general.type", "adapter")
    writer.add_string("adapter.type", "lora")
    writer.add_float32("adapter.lora.alpha", 8.0)
    rng = np.random.default_rng(0)
    writer.add_tensor("blk.0.attn_q.weight.lora_a", rng.normal(0, 0.01, (8, n_in)).astype(np.float32))
    writer.add_tensor("blk.0.attn_q.weight.lora_b", rng.normal(0, 0.01, (n_out, 8)).astype(np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()

"""The embedded server: shared by processes, crash tolerant, stopped by the last user."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import psycopg
import pytest

from openbook.assistant.embedded_pg import EmbeddedServer

HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from openbook.assistant.embedded_pg import server_for
    s = server_for(Path(sys.argv[1]))
    s.acquire()
    print(s.postmaster_pid(), flush=True)
    if sys.argv[2] == "hold":
        time.sleep(600)
    s.release()
    """
)


def _holder(data_dir, mode="hold"):
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(data_dir), mode], stdout=subprocess.PIPE, text=True
    )
    pid = int(proc.stdout.readline())
    return proc, pid


def test_start_query_stop(tmp_path):
    server = EmbeddedServer(tmp_path / "db")
    conninfo = server.acquire()
    with psycopg.connect(conninfo) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    assert server.is_running()
    server.release()
    assert not server.is_running()


@pytest.mark.slow
def test_concurrent_processes_share_one_server(tmp_path):
    data = tmp_path / "db"
    proc, child_pid = _holder(data)
    try:
        server = EmbeddedServer(data)
        server.acquire()
        assert server.postmaster_pid() == child_pid  # reused, not a second server
        server.release()
        assert server.is_running()  # the child still holds a lease
    finally:
        proc.kill()
        proc.wait()
    # The child died without releasing: its lease is stale; the next user stops the server.
    server = EmbeddedServer(data)
    server.acquire()
    assert server.live_leases() == 1
    server.release()
    assert not server.is_running()


@pytest.mark.slow
def test_recovers_after_postgres_is_killed(tmp_path):
    server = EmbeddedServer(tmp_path / "db")
    server.acquire()
    pid = server.postmaster_pid()
    server.release_all()
    server = EmbeddedServer(tmp_path / "db")
    server.acquire()
    pid = server.postmaster_pid()
    os.kill(pid, signal.SIGKILL)  # leaves a stale postmaster.pid behind
    for _ in range(100):
        if not server.is_running():
            break
        time.sleep(0.05)
    server.release_all()
    again = EmbeddedServer(tmp_path / "db")
    conninfo = again.acquire()
    with psycopg.connect(conninfo) as conn:
        assert conn.execute("SELECT 2").fetchone() == (2,)
    assert again.postmaster_pid() != pid
    again.release()


def test_a_running_server_whose_socket_is_gone_is_restarted(tmp_path):
    """Seen once: a data folder deleted under a live server, whose later shutdown removed the
    socket of the server started in its place; the next openbook could not connect."""
    server = EmbeddedServer(tmp_path / "db")
    server.acquire()
    pid = server.postmaster_pid()
    server.socket_path().unlink()
    os.close(server._lease_fd)  # as if the process holding it had died
    server._lease_fd, server._refs = None, 0
    again = EmbeddedServer(tmp_path / "db")
    conninfo = again.acquire()
    with psycopg.connect(conninfo) as conn:
        assert conn.execute("SELECT 3").fetchone() == (3,)
    assert again.postmaster_pid() != pid
    again.release()
    assert not again.is_running()


def test_half_finished_initdb_is_redone(tmp_path):
    data = tmp_path / "db"
    scratch = data.with_name("db.initdb")
    scratch.mkdir()
    (scratch / "garbage").write_text("left by a crash during initdb")
    server = EmbeddedServer(data)
    server.acquire()
    assert (data / "PG_VERSION").exists() and not scratch.exists()
    server.release()


@pytest.mark.slow
def test_two_openbook_processes_at_once_on_a_fresh_store(overrides):
    """Both start (or reuse) the server, create the extension/schema/tables once, and succeed."""
    import json

    from tests.helpers import openbook_cmd

    cmd = openbook_cmd(overrides["database"], "status", "--json")
    procs = [
        subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)
    ]
    results = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [r[1] for r in results]
    assert [json.loads(out)["documents"] for out, _ in results] == [0, 0]


def test_offline_switches_are_set_in_code():
    import openbook.assistant  # noqa: F401

    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert os.environ["TRANSFORMERS_OFFLINE"] == "1"
    assert os.environ["HF_HUB_DISABLE_TELEMETRY"] == "1"

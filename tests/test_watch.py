"""A library that follows its folders: ``FolderWatcher`` (``ingest --watch``, ``chat --watch``)
against real file events, the real database and the real embedder."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from openbook.assistant import library
from openbook.assistant.errors import IngestError
from openbook.assistant.ingest.watch import FolderWatcher, Sync, watched
from openbook.assistant.settings import IngestSettings
from tests.helpers import half_ingested, openbook_cmd, wait_until


def sources(store) -> set[str]:  # noqa: ANN001
    return {d["source"] for d in library.list_documents(store)}


def texts(store, source: str) -> str:  # noqa: ANN001
    doc = library.find_document(store, source)
    return " ".join(c["text"] for c in library.chunks_of(store, doc["id"]))


class Running:
    """A watcher on its own thread, as the chat runs one."""

    def __init__(self, watcher: FolderWatcher) -> None:
        self.watcher, self.stop, self.syncs = watcher, threading.Event(), []
        watcher.on_sync = self.syncs.append
        self.thread = threading.Thread(target=watcher.run, args=(self.stop,), daemon=True)

    def __enter__(self) -> Running:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=30)
        assert not self.thread.is_alive()


def test_the_library_follows_the_folder(store, embedder, tmp_path, overrides, capsys):
    root = tmp_path / "notes"
    (root / "sub").mkdir(parents=True)
    (root / "ceres.md").write_text("# Ceres\n\nCeres is the largest object in the asteroid belt.\n")
    (root / "sub" / "eris.md").write_text("# Eris\n\nEris is a dwarf planet beyond Pluto.\n")
    (root / "image.png").write_bytes(b"\x89PNG not text")
    watcher = FolderWatcher(store, embedder, [root], IngestSettings())
    with Running(watcher) as run:
        # the first sync brings in what is there
        wait_until(lambda: len(sources(store)) == 2, 60, "the first sync")

        created = root / "vesta.md"
        created.write_text("# Vesta\n\nVesta is the brightest asteroid seen from Earth.\n")
        wait_until(lambda: str(created) in sources(store), 15, "the new file")

        created.write_text("# Vesta\n\nVesta was visited by the Dawn spacecraft in 2011.\n")
        wait_until(lambda: "Dawn spacecraft" in texts(store, str(created)), 15, "the edit")

        renamed = root / "sub" / "vesta-asteroid.md"
        created.rename(renamed)
        wait_until(
            lambda: str(renamed) in sources(store) and str(created) not in sources(store), 15, "rename"
        )

        (root / "ceres.md").unlink()
        wait_until(lambda: str(root / "ceres.md") not in sources(store), 15, "the deletion")

        moved_away = tmp_path / "elsewhere"
        (root / "sub").rename(moved_away)  # a folder moved out of the watched one
        wait_until(lambda: sources(store) == set(), 15, "the folder moved away")

        (root / "draft.md~").write_text("an editor's backup")
        (root / ".hidden.md").write_text("# Hidden\n\nNot for the library.\n")
        shutil.copytree(moved_away, root / "back")  # and a folder moved in
        wait_until(lambda: len(sources(store)) == 2, 15, "the folder moved in")
    assert sources(store) == {str(root / "back" / "eris.md"), str(root / "back" / "vesta-asteroid.md")}
    assert half_ingested(store) == []
    assert all(isinstance(s, Sync) for s in run.syncs) and any(s.report.removed for s in run.syncs)

    # status: the folder, that no one watches it now, and when it last synced
    (row,) = watched(store)
    assert row["path"] == str(root) and row["state"] == "stopped" and row["last_sync"] is not None
    from openbook.assistant.cli.main import main

    db = overrides["database"]
    capsys.readouterr()
    main(["--data-dir", db["data_dir"], "--schema", db["db_schema"], "status"])
    assert f"Watched:    {root} — stopped, last sync " in capsys.readouterr().out


def test_a_file_still_being_written_waits_until_it_settles(store, embedder, tmp_path):
    root = tmp_path / "inbox"
    root.mkdir()
    growing = root / "log.txt"
    growing.write_text("start of a long report about comets\n")
    watcher = FolderWatcher(store, embedder, [root], IngestSettings(), settle_s=0.5)
    writing = threading.Event()
    writing.set()

    def writer() -> None:
        with growing.open("a") as f:
            while writing.is_set():
                f.write("more lines about comet tails and their ions\n")
                f.flush()
                time.sleep(0.05)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        sync = watcher.apply({str(growing)})
    finally:
        writing.clear()
        thread.join()
    assert sync.waiting == [str(growing)] and sources(store) == set()
    again = watcher.apply(set(sync.waiting))  # the next round (the watcher retries waiting files)
    assert again.report.added == [str(growing)] and again.waiting == []


def test_only_folders_can_be_watched(store, embedder, corpus):
    with pytest.raises(IngestError, match="Only folders can be watched"):
        FolderWatcher(store, embedder, [corpus / "venus.md"], IngestSettings())


class Turns:
    """The chat's lock, counting the syncs that have come to wait for it."""

    def __init__(self) -> None:
        self.lock, self.waiting = threading.Lock(), 0

    def __call__(self) -> Turns:
        return self

    def __enter__(self) -> None:
        self.waiting += 1
        self.lock.acquire()

    def __exit__(self, *exc: object) -> None:
        self.lock.release()


def test_the_chat_lock_holds_a_sync_back_while_a_turn_reads(store, embedder, tmp_path):
    root = tmp_path / "docs"
    root.mkdir()
    turns = Turns()
    watcher = FolderWatcher(store, embedder, [root], IngestSettings(), guard=turns)
    with Running(watcher):
        wait_until(lambda: watched(store) and watched(store)[0]["last_sync"], 60, "the first sync")
        with turns.lock:  # a turn is running: the library must not change under it
            (root / "pallas.md").write_text("# Pallas\n\nPallas is the third-largest asteroid.\n")
            wait_until(lambda: turns.waiting == 2, 15, "the sync to wait for the turn")
            assert sources(store) == set()
        wait_until(lambda: sources(store) == {str(root / "pallas.md")}, 15, "the held sync")


def test_a_file_written_as_the_first_sync_ends_is_not_missed(store, embedder, tmp_path):
    root = tmp_path / "papers"
    root.mkdir()
    (root / "hygiea.md").write_text("# Hygiea\n\nHygiea is the fourth-largest asteroid.\n")
    late = root / "psyche.md"
    watcher = FolderWatcher(store, embedder, [root], IngestSettings())
    run = Running(watcher)

    def first_sync_done(sync: Sync) -> None:  # a file arrives the moment the first sync ends
        if not run.syncs:
            late.write_text("# Psyche\n\nPsyche is a metal-rich asteroid.\n")
        run.syncs.append(sync)

    watcher.on_sync = first_sync_done
    with run:
        wait_until(lambda: run.syncs, 60, "the first sync")
        assert sources(store) == {str(root / "hygiea.md")}
        wait_until(lambda: str(late) in sources(store), 15, "the file written as the first sync ended")


@pytest.mark.slow
def test_kill_9_of_the_watcher_mid_ingest_leaves_documents_whole_or_absent(store, overrides, tmp_path):
    root = tmp_path / "big"
    root.mkdir()
    (root / "first.md").write_text("# First\n\nA note to start with.\n")
    child = subprocess.Popen(
        openbook_cmd(overrides["database"], "ingest", str(root), "--watch"),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "OPENBOOK_INGEST__EMBED_GROUP": "32"},
    )
    try:
        assert "1 added" in child.stdout.readline()  # the first sync
        staging = tmp_path / "staging"
        staging.mkdir()
        for i in range(200):
            (staging / f"note{i:03}.md").write_text(
                f"# Note {i}\n\nFirst part of note {i} about orbit {i}.\n\n## Second\n\nMoons {i}.\n"
            )
        staging.rename(root / "batch")  # 200 files appear at once
        wait_until(lambda: library.stats(store)["documents"] > 1, 120, "the watcher to start on them")
        assert library.stats(store)["documents"] < 201, "the sync finished before it could be killed"
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert half_ingested(store) == []
    assert watched(store)[0]["state"].startswith("not running")

    # the next watcher's first sync catches up
    again = subprocess.run(
        openbook_cmd(overrides["database"], "ingest", str(root), "--json"), capture_output=True, timeout=300
    )
    assert again.returncode == 0
    assert library.stats(store)["documents"] == 201 and half_ingested(store) == []


def test_ingest_watch_is_documented_and_refuses_files(capsys, overrides, corpus: Path):
    from openbook.assistant.cli.main import main

    db = overrides["database"]
    with pytest.raises(SystemExit) as info:
        main(
            [
                "--data-dir",
                db["data_dir"],
                "--schema",
                db["db_schema"],
                "ingest",
                str(corpus / "venus.md"),
                "--watch",
            ]
        )
    assert info.value.code != 0 and "Only folders can be watched" in capsys.readouterr().err

"""Find the files to ingest under the paths a user gives, and say why any are skipped."""

from __future__ import annotations

import errno
import fnmatch
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

MARKDOWN = {".md", ".markdown", ".mdx"}
TEXT = {".txt", ".text", ".rst", ".adoc", ".org", ".tex", ".csv", ".log"}
HTML = {".html", ".htm", ".xhtml"}
PDF = {".pdf"}
CODE = {
    ".py": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".ts": "typescript",
    ".tsx": "typescript",
    ".jsx": "javascript",
    ".java": "java",
    ".kt": "kotlin",
    ".go": "go",
    ".rs": "rust",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".hpp": "cpp",
    ".cs": "csharp",
    ".rb": "ruby",
    ".php": "php",
    ".swift": "swift",
    ".scala": "scala",
    ".sh": "bash",
    ".bash": "bash",
    ".sql": "sql",
    ".r": "r",
    ".lua": "lua",
    ".pl": "perl",
    ".toml": "toml",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".json": "json",
    ".ini": "ini",
    ".cfg": "ini",
    ".css": "css",
    ".scss": "css",
    ".xml": "xml",
}
SKIP_DIRS = {
    ".git",
    ".hg",
    ".svn",
    "__pycache__",
    "node_modules",
    ".venv",
    "venv",
    ".tox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".idea",
    ".vscode",
}


def kind_of(path: Path) -> str | None:
    suffix = path.suffix.lower()
    if suffix in MARKDOWN:
        return "markdown"
    if suffix in TEXT:
        return "rst" if suffix == ".rst" else "text"
    if suffix in HTML:
        return "html"
    if suffix in PDF:
        return "pdf"
    if suffix in CODE:
        return "code"
    return None


@dataclass
class Problem:
    path: str
    reason: str


@dataclass
class Discovery:
    files: list[Path] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    unsupported: int = 0  # files of types we do not read, found while walking folders
    roots: list[Path] = field(default_factory=list)


def _matches(path: Path, globs: list[str]) -> bool:
    return not globs or any(fnmatch.fnmatch(path.name, g) or fnmatch.fnmatch(str(path), g) for g in globs)


def discover(paths: list[Path], globs: list[str] | None = None) -> Discovery:
    """Walk ``paths`` (files or folders); follow symlinks but never loop."""
    globs = globs or []
    found = Discovery()
    seen_files: set[Path] = set()
    for raw in paths:
        root = Path(os.path.abspath(raw.expanduser()))
        found.roots.append(root)
        try:
            st = root.stat()
        except OSError as exc:
            found.problems.append(Problem(str(root), _os_reason(exc)))
            continue
        if stat.S_ISDIR(st.st_mode):
            _walk(root, globs, found, seen_files)
        else:
            _add(root, found, seen_files, explicit=True)
    return found


def _walk(root: Path, globs: list[str], found: Discovery, seen_files: set[Path]) -> None:
    visited: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            st = folder.stat()
        except OSError as exc:
            found.problems.append(Problem(str(folder), _os_reason(exc)))
            continue
        key = (st.st_dev, st.st_ino)
        if key in visited:
            found.problems.append(Problem(str(folder), "symlink loop (folder already visited)"))
            continue
        visited.add(key)
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            found.problems.append(Problem(str(folder), _os_reason(exc)))
            continue
        subdirs = []
        for entry in entries:
            path = Path(entry.path)
            try:
                is_dir = entry.is_dir(follow_symlinks=True)
            except OSError as exc:
                found.problems.append(Problem(str(path), _os_reason(exc)))
                continue
            if is_dir:
                if entry.name not in SKIP_DIRS and not entry.name.startswith("."):
                    subdirs.append(path)
                continue
            if entry.name.startswith("."):
                continue
            if not entry.is_file(follow_symlinks=True) and not entry.is_symlink():
                continue  # sockets, fifos, devices
            if not _matches(path, globs):
                continue
            _add(path, found, seen_files, explicit=bool(globs))
        stack.extend(reversed(subdirs))


def _add(path: Path, found: Discovery, seen_files: set[Path], explicit: bool) -> None:
    try:
        st = path.stat()
    except OSError as exc:
        found.problems.append(Problem(str(path), _os_reason(exc)))
        return
    if not stat.S_ISREG(st.st_mode):
        found.problems.append(Problem(str(path), "not a regular file"))
        return
    if kind_of(path) is None:
        if explicit:
            found.problems.append(Problem(str(path), f"unsupported file type {path.suffix or '(none)'}"))
        else:
            found.unsupported += 1
        return
    real = path.resolve()
    if real in seen_files:
        return
    seen_files.add(real)
    found.files.append(path)


def _os_reason(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "symlink loop"
    if exc.errno == errno.ENOENT:
        return "no such file (broken symlink?)"
    if exc.errno == errno.EACCES:
        return "permission denied"
    return exc.strerror or str(exc)

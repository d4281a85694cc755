"""Where Openbook keeps its files: XDG config and data dirs (honours XDG_* variables)."""

from __future__ import annotations

import os
from pathlib import Path

APP = "openbook"


def _xdg(var: str, fallback: str) -> Path:
    value = os.environ.get(var)
    if value and os.path.isabs(value):
        return Path(value)
    return Path.home() / fallback


def config_dir() -> Path:
    return _xdg("XDG_CONFIG_HOME", ".config") / APP


def data_dir() -> Path:
    return _xdg("XDG_DATA_HOME", ".local/share") / APP


def cache_dir() -> Path:
    return _xdg("XDG_CACHE_HOME", ".cache") / APP


def config_file() -> Path:
    """The TOML settings file; ``OPENBOOK_CONFIG`` points elsewhere."""
    explicit = os.environ.get("OPENBOOK_CONFIG")
    return Path(explicit).expanduser() if explicit else config_dir() / "config.toml"


def sample_docs_dir() -> Path:
    return Path(__file__).resolve().parent / "sample_docs"

"""Openbook: ask questions of your own documents, offline, from the terminal."""

from . import offline as _offline

_offline.enforce()

__version__ = "0.1.0"

"""The chat's modal dialogs, one module each."""

from .chunk import ChunkScreen
from .help import HelpScreen
from .prompt import PromptScreen
from .sessions import SessionItem, SessionsScreen

__all__ = ["ChunkScreen", "HelpScreen", "PromptScreen", "SessionItem", "SessionsScreen"]

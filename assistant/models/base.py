"""The chat-model interface the backends implement. It is defined with the agents that use it
(``openbook.agents.kit.llm``) and re-exported here for the backends and the CLI."""

from openbook.agents.kit.llm import (
    ChatModel,
    ChatOptions,
    ChatResult,
    ContextOverflow,
    Message,
    ModelError,
    ModelNotFound,
    ModelUnavailable,
    PartialAnswer,
    Role,
    SchemaError,
    TokenCallback,
    Tool,
    ToolCall,
    Usage,
    json_schema,
    parse_tool_arguments,
    structured,
)

__all__ = [
    "ChatModel",
    "ChatOptions",
    "ChatResult",
    "ContextOverflow",
    "Message",
    "ModelError",
    "ModelNotFound",
    "ModelUnavailable",
    "PartialAnswer",
    "Role",
    "SchemaError",
    "TokenCallback",
    "Tool",
    "ToolCall",
    "Usage",
    "json_schema",
    "parse_tool_arguments",
    "structured",
]

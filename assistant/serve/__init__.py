"""Openbook as a tool for other agents: the MCP server (``openbook mcp``)."""

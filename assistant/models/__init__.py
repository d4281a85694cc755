"""Chat models: one narrow interface (base.ChatModel), two runtimes (Ollama, in-process llama.cpp)."""

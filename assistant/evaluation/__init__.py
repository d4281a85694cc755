"""Evaluation: retrieval now; base / RAG / fine-tuned comparisons later."""

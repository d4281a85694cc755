"""Fine-tuning the answer model on retrieval (RAFT): data from a QA dataset or a library,
LoRA training on the bundled base's dequantised weights, and export to a GGUF adapter that the
in-process runtime (and Ollama) serve on the same base. Imports torch only when training."""

"""Calibrating retrieval to one library (``openbook tune retrieval``): the fusion and the
evidence gate measured on questions about the library, stored with it. Not run-time code: a turn
only reads the stored result (``retrieval.retriever``)."""

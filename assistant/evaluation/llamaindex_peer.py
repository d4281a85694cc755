"""The ``llamaindex`` configuration of ``openbook eval qa``: a plain LlamaIndex
``VectorStoreIndex`` query engine over the same chunks (with the vectors already stored), the
same embedding model for the question, and the same answer model — a peer baseline."""

from __future__ import annotations

import time
from typing import Any

from openbook.db import chunks as chunk_rows

from ..embeddings import Embedder
from ..models.base import ChatModel, ChatOptions, Message, Usage
from ..store import Store


class PeerAnswer:
    def __init__(self, text: str, chunk_ids: list[int], usage: Usage, seconds: float) -> None:
        self.text, self.chunk_ids, self.usage, self.seconds = text, chunk_ids, usage, seconds


class LlamaIndexPeer:
    def __init__(self, store: Store, embedder: Embedder, model: ChatModel, k: int, max_tokens: int) -> None:
        from llama_index.core import VectorStoreIndex
        from llama_index.core.schema import TextNode

        self.usage = Usage()
        nodes = [
            TextNode(
                id_=str(r["id"]),
                text=r["text"],
                embedding=[float(x) for x in r["embedding"].to_list()],
                metadata={"title": r["title"], "source": r["source"]},
            )
            for r in chunk_rows.with_vectors(store)
        ]
        self.embed_model = _embedding(embedder)
        self.llm = _llm(model, max_tokens, self.usage)
        index = VectorStoreIndex(nodes, embed_model=self.embed_model)
        self.engine = index.as_query_engine(llm=self.llm, similarity_top_k=k)

    def ask(self, question: str) -> PeerAnswer:
        before = self.usage.model_copy()
        t0 = time.perf_counter()
        response = self.engine.query(question)
        seconds = time.perf_counter() - t0
        used = Usage(
            prompt_tokens=self.usage.prompt_tokens - before.prompt_tokens,
            completion_tokens=self.usage.completion_tokens - before.completion_tokens,
        )
        ids = [int(n.node.node_id) for n in response.source_nodes]
        return PeerAnswer(str(response).strip(), ids, used, seconds)


def _embedding(embedder: Embedder) -> Any:
    from llama_index.core.embeddings import BaseEmbedding

    class OpenbookEmbedding(BaseEmbedding):
        def _get_query_embedding(self, query: str) -> list[float]:
            return [float(x) for x in embedder.embed_batch([query])[0]]

        def _get_text_embedding(self, text: str) -> list[float]:
            return [float(x) for x in embedder.embed_batch([text])[0]]

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

    return OpenbookEmbedding(model_name=embedder.identity.model)


def _llm(model: ChatModel, max_tokens: int, usage: Usage) -> Any:
    from llama_index.core.llms import CompletionResponse, CustomLLM, LLMMetadata

    class OpenbookLLM(CustomLLM):
        @property
        def metadata(self) -> LLMMetadata:
            return LLMMetadata(model_name=model.name, num_output=max_tokens, context_window=4096)

        def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
            result = model.chat(
                [Message(role="user", content=prompt)],
                options=ChatOptions(temperature=0.0, seed=0, max_tokens=max_tokens),
            )
            usage.prompt_tokens += result.usage.prompt_tokens
            usage.completion_tokens += result.usage.completion_tokens
            return CompletionResponse(text=result.text)

        def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> Any:
            yield self.complete(prompt)

    return OpenbookLLM()

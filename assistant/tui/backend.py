"""What the app needs from the rest of Openbook, opened off the UI thread: the store, the
retriever/turn runner, the models and why each was chosen, and the library's size."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..embeddings import make_embedder
from ..models.resolve import resolve_roles
from ..settings import Settings
from ..store import Store
from ..turn import Turn

# the README's first questions (tests/test_first_impression.py holds their answers)
SAMPLE_QUESTIONS = [
    "Tell me about the Cassini mission (then: When did it arrive at Saturn?)",
    "Why is Venus so hot?",
    "Which was launched first, Voyager or Cassini?",
]


@dataclass
class Backend:
    store: Store
    turn: Turn
    reasons: dict[str, str] = field(default_factory=dict)
    ingested_samples: int = 0
    holds_samples: bool = False  # the library holds the bundled sample documents

    def first_questions(self) -> list[str]:
        """Questions to try on an empty chat: the README's first ones when the library holds the
        sample documents they are about."""
        return SAMPLE_QUESTIONS if self.holds_samples else []

    def describe(self) -> str:
        from .. import library

        stats = library.stats(self.store)
        model = self.turn.models["answerer"]
        reason = self.reasons.get("answerer", "")
        return (
            f"{model.name} ({model.backend}{': ' + reason if reason else ''}) · "
            f"{self.store.where()} · {stats['documents']} docs, {stats['chunks']} chunks"
        )

    def close(self) -> None:
        self.store.close()


def open_backend(settings: Settings) -> Backend:
    """Start the database, add the sample documents on first run, pick the models."""
    from .. import library, paths
    from ..ingest.pipeline import ingest_samples_if_empty

    embedder = make_embedder(settings.embedding, settings.ollama)
    store = Store(settings, embedding=embedder.identity)
    store.open()
    try:
        store.check_embedding(embedder.identity)
        # a chat that watches folders is about those folders: no sample documents
        report = None if settings.ingest.watch else ingest_samples_if_empty(store, embedder, settings.ingest)
        added = len(report.added) if report else 0
        models, reasons = resolve_roles(settings)
        for m in {id(m): m for m in models.values()}.values():
            preload = getattr(m, "preload", None)
            if preload:
                preload()  # load the GGUF now, in this background thread
        turn = Turn(store, embedder, settings, models)
        turn.retriever.warm()
        samples = bool(library.sources_under(store, str(paths.sample_docs_dir())))
    except BaseException:
        store.close()
        raise
    return Backend(store, turn, reasons, added, samples)

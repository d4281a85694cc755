"""The sentence-transformers embedder: local model directories only, and their dimension read
from how sentence-transformers saved them (any version)."""

import json

import pytest

from openbook.assistant.embeddings import SentenceTransformerEmbedder
from openbook.assistant.errors import EmbeddingError


def _model_dir(tmp_path, pooling=None, config=None):
    d = tmp_path / "model"
    d.mkdir()
    (d / "modules.json").write_text("[]")
    if pooling is not None:
        (d / "1_Pooling").mkdir()
        (d / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    if config is not None:
        (d / "config.json").write_text(json.dumps(config))
    return d


@pytest.mark.parametrize(
    "pooling, config",
    [
        ({"word_embedding_dimension": 384, "pooling_mode_mean_tokens": True}, None),  # v2-v5
        ({"embedding_dimension": 256, "pooling_mode": "mean"}, None),  # as v6 saves it
        ({"pooling_mode": "mean"}, {"hidden_size": 512}),  # no size in the pooling config
    ],
)
def test_the_dimension_of_a_local_model_directory(tmp_path, pooling, config):
    want = (pooling.get("word_embedding_dimension") or pooling.get("embedding_dimension")
            or config["hidden_size"])  # fmt: skip
    e = SentenceTransformerEmbedder(str(_model_dir(tmp_path, pooling, config)))
    assert e.identity.dimension == want and e.identity.model.startswith("sentence-transformers:")


def test_an_unreadable_model_directory_is_a_clear_error(tmp_path):
    with pytest.raises(EmbeddingError, match="Cannot tell the dimension") as info:
        SentenceTransformerEmbedder(str(_model_dir(tmp_path, {"pooling_mode": "mean"}, {"layers": 6})))
    assert "hidden_size" in (info.value.hint or "")
    with pytest.raises(EmbeddingError, match="never downloads"):
        SentenceTransformerEmbedder("some-org/some-hub-model")

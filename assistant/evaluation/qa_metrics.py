"""Answer metrics: SQuAD exact match and F1 (the official normalisation), answer containment,
citation precision and recall, declines, and a bootstrap interval for a mean."""

from __future__ import annotations

import random
import re
import string
from collections import Counter
from collections.abc import Sequence

from .answers import is_decline

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCT = set(string.punctuation)
_CITES = re.compile(r"\[\d{1,3}\]")


def normalize(text: str) -> str:
    """SQuAD v1.1's ``normalize_answer``: lower case, no punctuation, no articles, one space."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCT)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def strip_citations(answer: str) -> str:
    return _CITES.sub("", answer)


def exact_match(prediction: str, golds: Sequence[str]) -> float:
    pred = normalize(strip_citations(prediction))
    return float(any(pred == normalize(g) for g in golds)) if golds else 0.0


def _f1(prediction: str, gold: str) -> float:
    pred, ref = normalize(prediction).split(), normalize(gold).split()
    common = Counter(pred) & Counter(ref)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(ref)
    return 2 * precision * recall / (precision + recall)


def f1(prediction: str, golds: Sequence[str]) -> float:
    """Token F1 against the best-matching gold answer (SQuAD's max over ground truths)."""
    pred = strip_citations(prediction)
    return max((_f1(pred, g) for g in golds), default=0.0)


def contains(prediction: str, golds: Sequence[str]) -> float:
    """1 when a gold answer appears in the prediction (both normalised)."""
    pred = f" {normalize(strip_citations(prediction))} "
    return float(any(f" {normalize(g)} " in pred for g in golds if normalize(g)))


def has_answer(text: str, golds: Sequence[str]) -> bool:
    return contains(text, golds) == 1.0


def citation_scores(
    cited: Sequence[str], given: Sequence[str], golds: Sequence[str]
) -> tuple[float | None, float | None]:
    """(precision, recall) of an answer's citations. ``cited``/``given`` are chunk texts.
    Precision: the share of cited chunks that contain a gold answer (None if none cited).
    Recall: whether a given chunk holding a gold answer was cited (None if none was given)."""
    precision = sum(has_answer(c, golds) for c in cited) / len(cited) if cited else None
    holding = [g for g in given if has_answer(g, golds)]
    recall = float(any(has_answer(c, golds) for c in cited)) if holding else None
    return precision, recall


def declined(answer: str) -> bool:
    return is_decline(answer)


def bootstrap_ci(values: Sequence[float], n: int = 1000, seed: int = 0) -> tuple[float, float]:
    """95% percentile bootstrap interval of the mean."""
    if not values:
        return (0.0, 0.0)
    rng = random.Random(seed)
    k = len(values)
    means = sorted(sum(values[rng.randrange(k)] for _ in range(k)) / k for _ in range(n))
    return means[int(0.025 * n)], means[min(int(0.975 * n), n - 1)]


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    idx = (len(ordered) - 1) * q
    lo, hi = int(idx), min(int(idx) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (idx - lo)

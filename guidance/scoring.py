"""Score the candidate replies and rewrites of one guide() call in as few classifier calls as possible.

Each classifier call has a fixed cost that one short text does not repay, so
texts known in advance (the first reply of each playbook in the first batch of
suggestions, the draft and its sentences) are scored together, and a text asked
for again later in the same call is not scored twice. A Scores lives for one
call: no score is kept between tickets, so every ticket pays for all its own
scoring (only the hashing of words is shared, see models.features.GramColumns).
"""

from __future__ import annotations

from typing import Iterable, Protocol, Sequence

import numpy as np

from models.classifier import OUTPUTS
from models.predict import Analyzer


class Scorer(Protocol):
    """What guidance needs of a classifier: agent-role scores of texts, and the thresholds."""

    thresholds: dict[str, float]

    def score_texts(self, texts: Sequence[str], roles: Sequence[str]) -> np.ndarray:
        """Probabilities (rows x OUTPUTS) for raw texts."""


class Scores:
    """Agent-role scores of the texts one guide() call looks at, scored in batches.

    A text's scores do not depend on the other texts of its batch (every row is
    computed on its own), so batching and reuse leave every number unchanged.
    """

    def __init__(self, analyzer: Analyzer):
        self.analyzer = analyzer
        self.thresholds = analyzer.thresholds
        self._probs: dict[str, np.ndarray] = {}

    def prefetch(self, texts: Iterable[str]) -> None:
        """Score, in one classifier call, those of `texts` not scored yet."""
        new = [t for t in dict.fromkeys(texts) if t not in self._probs]
        if new:
            self._probs.update(zip(new, self.analyzer.score_texts(new, ["agent"] * len(new))))

    def score_texts(self, texts: Sequence[str], roles: Sequence[str]) -> np.ndarray:
        """Probabilities (rows x OUTPUTS) of agent texts, as Analyzer.score_texts gives them."""
        if any(role != "agent" for role in roles):
            raise ValueError("guidance scores agent replies only")
        self.prefetch(texts)
        return np.array([self._probs[t] for t in texts]).reshape(len(texts), len(OUTPUTS))

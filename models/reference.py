"""The straightforward feature computation the fast path in features.py replaced.

One scipy matrix per step: HashingVectorizer.transform per batch, a summing
matrix product from sentences to messages, tf-idf and the role crossing on
sparse matrices. It is slow on one message (a dozen sparse constructions) but
plainly right, so tests check the fast path against it number for number and
bench/bench_classify.py measures both in the same run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import scipy.sparse as sp

from .cues import _MAX_WORDS, _TABLE, _TOKEN, GROUPS
from .features import _DIGITS, _EMAIL, _HANDLE, _REPEAT, _URL, MessageFeaturizer, _tfidf, clean, segments_of


@dataclass
class ReferenceCounts:
    """Per-sentence counts as scipy matrices, and the matrix summing sentences into messages."""

    words: sp.csr_matrix
    chars: sp.csr_matrix
    cues: sp.csr_matrix
    summing: sp.csr_matrix
    owners: np.ndarray
    agent: np.ndarray


class ReferenceFeatures:
    """The featurizer's methods (features, count, message_features, sentence_features and their products with
    coefficients) the straightforward way."""

    def __init__(self, featurizer: MessageFeaturizer):
        self.featurizer = featurizer

    def features(self, texts: Sequence[str], roles: Sequence[str]) -> sp.csr_matrix:
        """Message features for texts and their roles."""
        return self.message_features(self.count([segments_of(t) for t in texts], roles))

    def count(self, segment_lists: Sequence[Sequence[str]], roles: Sequence[str]) -> ReferenceCounts:
        """Hash every sentence with scikit-learn's vectorizers."""
        flat = [clean(seg) for segs in segment_lists for seg in segs]
        owners = np.repeat(np.arange(len(segment_lists)), [len(segs) for segs in segment_lists])
        words, chars = self.featurizer._vectorizers()
        summing = sp.csr_matrix((np.ones(len(flat), np.float32), (owners, np.arange(len(flat)))),
                                shape=(len(segment_lists), len(flat)))
        return ReferenceCounts(words.transform(flat), chars.transform(flat), cue_counts(flat), summing, owners,
                               np.array([r == "agent" for r in roles], dtype=np.float32))

    def message_features(self, counts: ReferenceCounts) -> sp.csr_matrix:
        """Features of whole messages (sums of their sentences)."""
        s = counts.summing
        return self._assemble(s @ counts.words, s @ counts.chars, s @ counts.cues, counts.agent)

    def sentence_features(self, counts: ReferenceCounts, rows: np.ndarray) -> sp.csr_matrix:
        """Features of the chosen sentences."""
        return self._assemble(counts.words[rows], counts.chars[rows], counts.cues[rows],
                              counts.agent[counts.owners[rows]])

    def linear(self, texts: Sequence[str], roles: Sequence[str], coef: np.ndarray) -> np.ndarray:
        """features(texts, roles) @ coef, with scipy's product."""
        return np.asarray(self.features(texts, roles) @ coef, dtype=np.float32)

    def message_linear(self, counts: ReferenceCounts, coef: np.ndarray) -> np.ndarray:
        """message_features(counts) @ coef."""
        return np.asarray(self.message_features(counts) @ coef, dtype=np.float32)

    def sentence_linear(self, counts: ReferenceCounts, rows: np.ndarray, coef: np.ndarray) -> np.ndarray:
        """sentence_features(counts, rows) @ coef."""
        return np.asarray(self.sentence_features(counts, rows) @ coef, dtype=np.float32)

    def _assemble(self, w: sp.csr_matrix, c: sp.csr_matrix, cues: sp.csr_matrix, agent: np.ndarray) -> sp.csr_matrix:
        """Words, chars, words x agent, words x customer, role bias, cues x role, from COO triplets."""
        w = tfidf(w, self.featurizer.word_tfidf_.idf_)
        c = tfidf(c, self.featurizer.char_tfidf_.idf_)
        cues = cues.tocsr()
        n, n_words, n_chars, n_cues = w.shape[0], w.shape[1], c.shape[1], cues.shape[1]
        rows_w = np.repeat(np.arange(n), np.diff(w.indptr))
        rows_c = np.repeat(np.arange(n), np.diff(c.indptr))
        rows_q = np.repeat(np.arange(n), np.diff(cues.indptr))
        customer = (agent == 0).astype(np.int64)
        crossed = w.indices + n_words + n_chars + customer[rows_w] * n_words
        bias = 3 * n_words + n_chars + customer
        cue_cols = 3 * n_words + n_chars + 2 + cues.indices + customer[rows_q] * n_cues
        rows = np.concatenate([rows_w, rows_c, rows_w, np.arange(n), rows_q])
        cols = np.concatenate([w.indices, c.indices + n_words, crossed, bias, cue_cols])
        data = np.concatenate([w.data, c.data, w.data, np.ones(n, np.float32),
                               np.log1p(cues.data).astype(np.float32)])
        shape = (n, 3 * n_words + n_chars + 2 + 2 * n_cues)
        return sp.csr_matrix((data, (rows, cols)), shape=shape, dtype=np.float32)


def tfidf(counts: sp.csr_matrix, idf: np.ndarray) -> sp.csr_matrix:
    """Sublinear tf-idf with l2 rows, on a scipy matrix (features._tfidf's arithmetic, checked against scikit-learn)."""
    counts = counts.tocsr()
    return sp.csr_matrix((_tfidf(counts, idf), counts.indices, counts.indptr), shape=counts.shape)


def cue_counts(texts: Sequence[str]) -> sp.csr_matrix:
    """(texts x GROUPS) counts of cue phrases: every run of up to _MAX_WORDS tokens looked up in the phrase table."""
    counts = sp.lil_matrix((len(texts), len(GROUPS)), dtype=np.float32)
    for r, text in enumerate(texts):
        tokens = _TOKEN.findall(text)
        for i in range(len(tokens)):
            for n in range(1, min(_MAX_WORDS, len(tokens) - i) + 1):
                group = _TABLE.get(tuple(tokens[i:i + n]))
                if group is not None:
                    counts[r, group] += 1
    return counts.tocsr()


def reference_clean(text: str) -> str:
    """features.clean with every substitution run, as it was before it skipped the ones that cannot match."""
    text = _URL.sub(" xxurl ", text)
    text = _EMAIL.sub(" xxemail ", text)
    text = _HANDLE.sub(" xxhandle ", text)
    text = _DIGITS.sub("0", text)
    text = _REPEAT.sub(r"\1\1\1", text)
    return text.lower().replace("’", "'")

"""Turn (text, author role) pairs into the sparse features the classifiers read.

Hashed word and character n-grams keep the artifact small and need no
vocabulary, so unseen words and typos still land on useful character grams.
Word features are also crossed with the author's role: "you should have"
means blame from an agent and something else from a customer. Cue-phrase
groups (cues.py) add what the corpus cannot teach word by word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer

from .cues import cue_counts
from .text import sentences

_URL = re.compile(r"https?://\S+|www\.\S+")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b")
_HANDLE = re.compile(r"(?<!\w)@\w+")
_DIGITS = re.compile(r"\d")
_REPEAT = re.compile(r"(.)\1{3,}")
_WORD_PATTERN = r"(?u)\b\w[\w']*\b|[!?]{2,}"


def clean(text: str) -> str:
    """Normalise a text for features: placeholders for links, handles and numbers."""
    text = _URL.sub(" xxurl ", text)
    text = _EMAIL.sub(" xxemail ", text)
    text = _HANDLE.sub(" xxhandle ", text)
    text = _DIGITS.sub("0", text)
    text = _REPEAT.sub(r"\1\1\1", text)
    return text.lower().replace("’", "'")


@dataclass
class SegmentCounts:
    """Hashed n-gram counts of every sentence of a batch, and which message owns each."""

    words: sp.csr_matrix
    chars: sp.csr_matrix
    cues: sp.csr_matrix
    summing: sp.csr_matrix
    owners: np.ndarray
    agent: np.ndarray


def segments_of(text: str) -> list[str]:
    """The sentences of a text (the text itself when it has no sentence with words)."""
    found = [text[s:e] for s, e in sentences(text)]
    return found or [text]


class MessageFeaturizer(BaseEstimator, TransformerMixin):
    """Sparse features for rows of (text, role); role is "agent" or "customer".

    A message's n-gram counts are the sum of its sentences' counts, so one
    hashing pass yields both the message features and the sentence features
    that locate spans (character n-grams never cross words, so the sum is exact
    for them; word n-grams simply do not cross sentences).
    """

    def __init__(self, word_bits: int = 17, char_bits: int = 17):
        self.word_bits = word_bits
        self.char_bits = char_bits

    def _vectorizers(self) -> tuple[HashingVectorizer, HashingVectorizer]:
        words = HashingVectorizer(
            n_features=2 ** self.word_bits, ngram_range=(1, 3), token_pattern=_WORD_PATTERN,
            alternate_sign=False, norm=None, lowercase=False, dtype=np.float32,
        )
        chars = HashingVectorizer(
            n_features=2 ** self.char_bits, analyzer="char_wb", ngram_range=(2, 5),
            alternate_sign=False, norm=None, lowercase=False, dtype=np.float32,
        )
        return words, chars

    def _hash_segments(self, segment_lists: Sequence[Sequence[str]]):
        """Raw counts per segment, and the matrix summing segments into messages."""
        flat = [clean(seg) for segs in segment_lists for seg in segs]
        owners = np.repeat(np.arange(len(segment_lists)), [len(segs) for segs in segment_lists])
        words, chars = self._vectorizers()
        summing = sp.csr_matrix((np.ones(len(flat), np.float32), (owners, np.arange(len(flat)))),
                                shape=(len(segment_lists), len(flat)))
        return words.transform(flat), chars.transform(flat), cue_counts(flat), summing, owners

    def fit(self, rows: Sequence, y=None) -> "MessageFeaturizer":
        """Learn inverse document frequencies from the training texts."""
        self.fit_transform(rows)
        return self

    def fit_transform(self, rows: Sequence, y=None) -> sp.csr_matrix:
        """Fit and return the training features, hashing the texts once."""
        counts = self.count([segments_of(str(row[0])) for row in rows], [row[1] for row in rows])
        self.word_tfidf_ = TfidfTransformer(sublinear_tf=True).fit(counts.summing @ counts.words)
        self.char_tfidf_ = TfidfTransformer(sublinear_tf=True).fit(counts.summing @ counts.chars)
        return self.message_features(counts)

    def transform(self, rows: Sequence) -> sp.csr_matrix:
        """Message features for rows of (text, role)."""
        counts = self.count([segments_of(str(row[0])) for row in rows], [row[1] for row in rows])
        return self.message_features(counts)

    def count(self, segment_lists: Sequence[Sequence[str]], roles: Sequence[str]) -> "SegmentCounts":
        """Hash every sentence once; messages and sentences are both built from this."""
        w, c, cues, summing, owners = self._hash_segments(segment_lists)
        return SegmentCounts(w, c, cues, summing, owners, np.array([r == "agent" for r in roles], dtype=np.float32))

    def message_features(self, counts: "SegmentCounts") -> sp.csr_matrix:
        """Features of whole messages (sums of their sentences)."""
        s = counts.summing
        return self._assemble(s @ counts.words, s @ counts.chars, s @ counts.cues, counts.agent)

    def sentence_features(self, counts: "SegmentCounts", rows: np.ndarray) -> sp.csr_matrix:
        """Features of the chosen sentences (indices into the flat sentence list)."""
        return self._assemble(counts.words[rows], counts.chars[rows], counts.cues[rows], counts.agent[counts.owners[rows]])

    def _assemble(self, w: sp.csr_matrix, c: sp.csr_matrix, cues: sp.csr_matrix, agent: np.ndarray) -> sp.csr_matrix:
        """Features: words, chars, words x agent, words x customer, role bias, cues x role.

        Built straight from the index arrays: for one message, stacking and
        scaling sparse blocks costs far more in object overhead than the maths.
        """
        w = _tfidf(w, self.word_tfidf_.idf_)
        c = _tfidf(c, self.char_tfidf_.idf_)
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


def _tfidf(counts: sp.csr_matrix, idf: np.ndarray) -> sp.csr_matrix:
    """Sublinear tf-idf with l2 rows, as TfidfTransformer computes it, on the raw arrays.

    On one message TfidfTransformer's per-call checks cost more than the arithmetic;
    the result is identical (a test compares them).
    """
    counts = counts.tocsr()
    n = counts.shape[0]
    data = np.log(counts.data.astype(np.float64)) + 1.0
    data *= idf[counts.indices]
    rows = np.repeat(np.arange(n), np.diff(counts.indptr))
    norms = np.sqrt(np.bincount(rows, weights=data * data, minlength=n))
    norms[norms == 0] = 1.0
    data /= norms[rows]
    return sp.csr_matrix((data.astype(np.float32), counts.indices, counts.indptr), shape=counts.shape)

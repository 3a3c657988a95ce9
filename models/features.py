"""Turn (text, author role) pairs into the sparse features the classifiers read.

Hashed word and character n-grams keep the artifact small and need no
vocabulary, so unseen words and typos still land on useful character grams.
Word features are also crossed with the author's role: "you should have"
means blame from an agent and something else from a customer. Cue-phrase
groups (cues.py) add what the corpus cannot teach word by word.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Callable, NamedTuple, Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
from sklearn.utils import murmurhash3_32

from .cues import GROUPS, cue_entries
from .text import sentences

try:  # compiled by setup.py where a C compiler is at hand; the Python path below gives the same counts
    from . import _grams
except ImportError:  # pragma: no cover - depends on the build
    _grams = None

_URL = re.compile(r"https?://\S+|www\.\S+")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b")
_HANDLE = re.compile(r"(?<!\w)@\w+")
_DIGITS = re.compile(r"\d")
_REPEAT = re.compile(r"(.)\1{3,}")
_WORD_PATTERN = r"(?u)\b\w[\w']*\b|[!?]{2,}"


def clean(text: str) -> str:
    """Normalise a text for features: placeholders for links, handles and numbers.

    Most sentences hold no link and no "@": a substring test every match needs
    skips those passes (models.reference.reference_clean runs them all; a test compares).
    """
    if "http" in text or "www." in text:
        text = _URL.sub(" xxurl ", text)
    if "@" in text:
        text = _EMAIL.sub(" xxemail ", text)
        text = _HANDLE.sub(" xxhandle ", text)
    text = _DIGITS.sub("0", text)
    text = _REPEAT.sub(r"\1\1\1", text)
    return text.lower().replace("’", "'")


class Rows(NamedTuple):
    """Sparse rows as bare CSR arrays, columns sorted and unique within each row.

    Building and checking a scipy matrix costs tens of microseconds; one message
    needed a dozen of them, more than all its arithmetic. So counts stay plain
    arrays and only the final feature matrix is a scipy matrix.
    """

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray

    @property
    def n_rows(self) -> int:
        """How many rows."""
        return len(self.indptr) - 1

    def row_ids(self) -> np.ndarray:
        """The row of every stored entry."""
        return np.repeat(np.arange(self.n_rows), np.diff(self.indptr))

    def take(self, rows: np.ndarray) -> "Rows":
        """The chosen rows, in the order given."""
        lengths = np.diff(self.indptr)[rows]
        indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        pick = np.repeat(self.indptr[rows] - indptr[:-1], lengths) + np.arange(indptr[-1])
        return Rows(indptr, self.indices[pick], self.data[pick])

    def to_csr(self, n_cols: int) -> sp.csr_matrix:
        """The same rows as a scipy matrix."""
        return sp.csr_matrix((self.data, self.indices, self.indptr), shape=(self.n_rows, n_cols))


def summed(rows, cols, n_rows: int, n_cols: int, weights: np.ndarray | None = None) -> Rows:
    """Entries (row, col[, weight]) with the same row and column added up (weight 1 when not given)."""
    key = np.asarray(rows, np.int64) * n_cols + np.asarray(cols, np.int64)
    if weights is None:
        unique, data = np.unique(key, return_counts=True)
    else:
        unique, inverse = np.unique(key, return_inverse=True)
        data = np.bincount(inverse, weights=weights, minlength=len(unique))
    row = unique // n_cols
    indptr = np.zeros(n_rows + 1, np.int64)
    np.cumsum(np.bincount(row, minlength=n_rows), out=indptr[1:])
    return Rows(indptr, unique - row * n_cols, data.astype(np.float32))


@dataclass
class SegmentCounts:
    """Hashed n-gram counts of every sentence of a batch, and which message owns each."""

    words: Rows
    chars: Rows
    cues: Rows
    owners: np.ndarray
    agent: np.ndarray

    @cached_property
    def bounds(self) -> np.ndarray:
        """Where each message's sentence rows start and end (a message's sentences are consecutive)."""
        bounds = np.zeros(len(self.agent) + 1, np.int64)
        np.cumsum(np.bincount(self.owners, minlength=len(self.agent)), out=bounds[1:])
        return bounds

    def per_message(self, counts: Rows, n_cols: int, compiled: bool = True) -> Rows:
        """Counts of whole messages: the sums of their sentences' counts."""
        if compiled and _grams is not None:
            return Rows(*(np.frombuffer(a, dtype) for a, dtype in
                          zip(_grams.merge(counts, self.bounds), (np.int64, np.int64, np.float32))))
        return summed(self.owners[counts.row_ids()], counts.indices, len(self.agent), n_cols, counts.data)


def segments_of(text: str) -> list[str]:
    """The sentences of a text (the text itself when it has no sentence with words)."""
    found = [text[s:e] for s, e in sentences(text)]
    return found or [text]


@lru_cache(maxsize=None)
def _word_analyzer(word_bits: int) -> Callable[[str], list[str]]:
    """The word n-gram analyzer of the word hashing vectorizer (built once)."""
    return _vectorizers(word_bits, word_bits)[0].build_analyzer()


def _vectorizers(word_bits: int, char_bits: int) -> tuple[HashingVectorizer, HashingVectorizer]:
    words = HashingVectorizer(
        n_features=2 ** word_bits, ngram_range=(1, 3), token_pattern=_WORD_PATTERN,
        alternate_sign=False, norm=None, lowercase=False, dtype=np.float32,
    )
    chars = HashingVectorizer(
        n_features=2 ** char_bits, analyzer="char_wb", ngram_range=(2, 5),
        alternate_sign=False, norm=None, lowercase=False, dtype=np.float32,
    )
    return words, chars


def _hash(grams: list[str], n_features: int) -> np.ndarray:
    """Columns as HashingVectorizer assigns them: murmurhash3, then |h| mod n_features.

    (abs of -2**31 taken in 64 bits equals scikit-learn's special case for it.)
    """
    return np.abs(np.array([murmurhash3_32(g, 0) for g in grams], dtype=np.int64)) % n_features


class GramColumns:
    """Hashed columns of n-grams, remembered by what they are made of (words, or word tokens).

    Hashing is most of the cost of featurizing a short text, and it is spent on
    the same words again and again: language is repetitive and playbook replies
    are scored for every ticket. So the columns of each distinct key are
    computed once per process. Keys are words and grams, never whole texts, so
    every text is still featurized in full; the result is exactly what hashing
    gives (a test checks it). At `limit` keys the table starts afresh, which
    bounds memory whatever the traffic (typos, ids, other languages).
    Safe across threads: the job consumer scores in threads.
    """

    def __init__(self, n_features: int, expand: Callable[[str], list[str]], limit: int = 50_000):
        self.n_features, self.expand, self.limit = n_features, expand, limit
        self._lock = threading.Lock()
        self._clear()

    def _clear(self) -> None:
        self._slots: dict[str, int] = {}  # key -> its slot in _starts and _lengths
        self._starts = np.zeros(0, np.int64)  # where each slot's columns begin in _codes
        self._lengths = np.zeros(0, np.int64)
        self._codes = np.zeros(0, np.int32)  # columns < n_features <= 2**31 - 1 (HashingVectorizer's limit)
        self._used = 0

    def gathered(self, keys: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """The columns of every key in turn, concatenated, and how many each key has."""
        with self._lock:
            try:  # most calls find every key: one C-level pass
                slots = np.fromiter(map(self._slots.__getitem__, keys), np.int64, len(keys))
            except KeyError:
                new = [k for k in dict.fromkeys(keys) if k not in self._slots]
                if len(self._slots) + len(new) > self.limit:
                    self._clear()
                    new = list(dict.fromkeys(keys))
                self._add(new)
                slots = np.fromiter(map(self._slots.__getitem__, keys), np.int64, len(keys))
            starts, lengths, codes = self._starts[slots], self._lengths[slots], self._codes
        offsets = np.cumsum(lengths) - lengths
        return codes[np.repeat(starts - offsets, lengths) + np.arange(lengths.sum())], lengths

    def _add(self, keys: list[str]) -> None:
        """Hash new keys and append them (arrays grow by copying: a reader keeps the old ones, still valid)."""
        expanded = [self.expand(k) for k in keys]
        codes = _hash([g for gs in expanded for g in gs], self.n_features)
        lengths = np.array([len(gs) for gs in expanded], np.int64)
        first = len(self._slots)
        self._codes = _appended(self._codes, self._used, codes)
        self._starts = _appended(self._starts, first, self._used + np.cumsum(lengths) - lengths)
        self._lengths = _appended(self._lengths, first, lengths)
        self._slots.update(zip(keys, range(first, first + len(keys))))
        self._used += len(codes)


def _appended(array: np.ndarray, used: int, values: np.ndarray) -> np.ndarray:
    """`values` written after the first `used` entries, in a new array with room to spare when full."""
    if used + len(values) > len(array):
        grown = np.zeros(max(2 * len(array), used + len(values), 1024), array.dtype)
        grown[:used] = array[:used]
        array = grown
    array[used:used + len(values)] = values
    return array


@lru_cache(maxsize=None)
def _char_table(n_features: int) -> GramColumns:
    return GramColumns(n_features, _token_grams)


@lru_cache(maxsize=None)
def _word_table(n_features: int) -> GramColumns:
    return GramColumns(n_features, lambda gram: [gram], limit=100_000)


def word_counts(texts: Sequence[str], analyzer: Callable[[str], list[str]], n_features: int,
                owners: np.ndarray, n_rows: int) -> Rows:
    """What the word HashingVectorizer counts (no alternate sign, no norm), added up into rows by owner."""
    grams = [analyzer(t) for t in texts]
    codes, _ = _word_table(n_features).gathered([g for gs in grams for g in gs])
    return summed(np.repeat(owners, [len(gs) for gs in grams]), codes, n_rows, n_features)


def _token_grams(token: str) -> list[str]:
    """The char_wb 2- to 5-grams of one whitespace-free token, as scikit-learn's analyzer lists them.

    (" ab " gives " a", "ab", "b ", " ab", "ab ", " ab "; a padded token of n or
    fewer characters counts once as an n-gram.) A test checks it against the analyzer.
    """
    w = f" {token} "
    size = len(w)
    out = [w[i:i + n] for n in range(2, min(size, 6)) for i in range(size - n + 1)]
    if size <= 5:
        out.append(w)
    return out


def char_counts(texts: Sequence[str], n_features: int, owners: np.ndarray, n_rows: int) -> Rows:
    """What the char_wb HashingVectorizer counts, added up into rows by owner.

    char_wb n-grams never cross whitespace, so a text's grams are its tokens'
    grams, looked up by token (GramColumns).
    """
    token_lists = [t.split() for t in texts]
    codes, lengths = _char_table(n_features).gathered([tok for toks in token_lists for tok in toks])
    token_rows = np.repeat(owners, [len(toks) for toks in token_lists])
    return summed(np.repeat(token_rows, lengths), codes, n_rows, n_features)


def gram_counts(texts: Sequence[str], owners: np.ndarray, n_rows: int, word_bits: int, char_bits: int,
                compiled: bool = True) -> tuple[Rows, Rows]:
    """Word 1-3-gram and char_wb 2-5-gram counts of cleaned texts, added up into rows by owner.

    models/_grams.c computes them without making a Python string per gram
    (where it was built); `word_counts` and `char_counts` are the same in Python.
    A text UTF-8 cannot encode (a lone surrogate) takes the Python path, which
    treats it as it always did.
    """
    if compiled and _grams is not None:
        try:
            words, chars = _grams.counts(texts, np.ascontiguousarray(owners, np.int64), n_rows, 2 ** word_bits,
                                         2 ** char_bits)
        except UnicodeEncodeError:
            pass
        else:
            return tuple(Rows(np.frombuffer(indptr, np.int64), np.frombuffer(indices, np.int64),
                              np.frombuffer(data, np.float32)) for indptr, indices, data in (words, chars))
    return (word_counts(texts, _word_analyzer(word_bits), 2 ** word_bits, owners, n_rows),
            char_counts(texts, 2 ** char_bits, owners, n_rows))


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
        return _vectorizers(self.word_bits, self.char_bits)

    def fit(self, rows: Sequence, y=None) -> "MessageFeaturizer":
        """Learn inverse document frequencies from the training texts."""
        self.fit_transform(rows)
        return self

    def fit_transform(self, rows: Sequence, y=None) -> sp.csr_matrix:
        """Fit and return the training features, hashing the texts once."""
        counts = self.count([segments_of(str(row[0])) for row in rows], [row[1] for row in rows])
        n_words, n_chars = 2 ** self.word_bits, 2 ** self.char_bits
        self.word_tfidf_ = TfidfTransformer(sublinear_tf=True).fit(counts.per_message(counts.words, n_words).to_csr(n_words))
        self.char_tfidf_ = TfidfTransformer(sublinear_tf=True).fit(counts.per_message(counts.chars, n_chars).to_csr(n_chars))
        return self.message_features(counts)

    def transform(self, rows: Sequence) -> sp.csr_matrix:
        """Message features for rows of (text, role)."""
        return self.features(texts=[str(row[0]) for row in rows], roles=[row[1] for row in rows])

    def features(self, texts: Sequence[str], roles: Sequence[str]) -> sp.csr_matrix:
        """Message features for texts and their roles (transform without scikit-learn's output wrapper).

        Sentences are counted straight into their message's row: no sentence rows are kept.
        """
        return self._assemble(*self._text_counts(texts), _agent(roles))

    def linear(self, texts: Sequence[str], roles: Sequence[str], coef: np.ndarray) -> np.ndarray:
        """features(texts, roles) @ coef, without building the feature matrix (see `_product`)."""
        return self._product(*self._text_counts(texts), _agent(roles), coef)

    def _text_counts(self, texts: Sequence[str]) -> tuple[Rows, Rows, Rows]:
        """Word, character and cue counts of whole texts, their sentences counted straight into the text's row."""
        segment_lists = [segments_of(t) for t in texts]
        flat = [clean(seg) for segs in segment_lists for seg in segs]
        owners = np.repeat(np.arange(len(texts)), [len(segs) for segs in segment_lists])
        return self._counts(flat, owners, len(texts))

    def count(self, segment_lists: Sequence[Sequence[str]], roles: Sequence[str]) -> SegmentCounts:
        """Hash every sentence once; messages and sentences are both built from this."""
        flat = [clean(seg) for segs in segment_lists for seg in segs]
        owners = np.repeat(np.arange(len(segment_lists)), [len(segs) for segs in segment_lists])
        return SegmentCounts(*self._counts(flat, np.arange(len(flat)), len(flat)), owners, _agent(roles))

    def _counts(self, flat: list[str], owners: np.ndarray, n_rows: int) -> tuple[Rows, Rows, Rows]:
        """Word, character and cue counts of cleaned texts, added up into n_rows rows by owner."""
        cue_rows, cue_cols = cue_entries(flat)
        words, chars = gram_counts(flat, owners, n_rows, self.word_bits, self.char_bits)
        return words, chars, summed(owners[cue_rows], cue_cols, n_rows, len(GROUPS))

    def message_features(self, counts: SegmentCounts) -> sp.csr_matrix:
        """Features of whole messages (sums of their sentences)."""
        return self._assemble(counts.per_message(counts.words, 2 ** self.word_bits),
                              counts.per_message(counts.chars, 2 ** self.char_bits),
                              counts.per_message(counts.cues, len(GROUPS)), counts.agent)

    def sentence_features(self, counts: SegmentCounts, rows: np.ndarray) -> sp.csr_matrix:
        """Features of the chosen sentences (indices into the flat sentence list)."""
        return self._assemble(counts.words.take(rows), counts.chars.take(rows), counts.cues.take(rows),
                              counts.agent[counts.owners[rows]])

    def message_linear(self, counts: SegmentCounts, coef: np.ndarray) -> np.ndarray:
        """message_features(counts) @ coef."""
        return self._product(counts.per_message(counts.words, 2 ** self.word_bits),
                             counts.per_message(counts.chars, 2 ** self.char_bits),
                             counts.per_message(counts.cues, len(GROUPS)), counts.agent, coef)

    def sentence_linear(self, counts: SegmentCounts, rows: np.ndarray, coef: np.ndarray) -> np.ndarray:
        """sentence_features(counts, rows) @ coef."""
        rows = np.asarray(rows, np.int64)
        return self._product(counts.words, counts.chars, counts.cues, counts.agent[counts.owners[rows]], coef, rows)

    def _product(self, w: Rows, c: Rows, cues: Rows, agent: np.ndarray, coef: np.ndarray,
                 rows: np.ndarray | None = None, compiled: bool = True) -> np.ndarray:
        """_assemble(...)[rows] @ coef as float32, one row per chosen row (all rows when None).

        Scoring needs only this product, and building the scipy matrix for it (concatenating,
        sorting and checking index arrays) cost more than the arithmetic. models/_grams.c adds
        each row's entries in the matrix's column order, in float32, as scipy's product does,
        so the numbers are the same (tests/models/test_fast_paths.py compares them).
        """
        if compiled and _grams is not None:
            rows = np.arange(w.n_rows, dtype=np.int64) if rows is None else rows
            out = np.empty((len(rows), coef.shape[1]), np.float32)
            _grams.linear(w, c, cues, rows, np.ascontiguousarray(agent, np.float32), self.word_tfidf_.idf_,
                          self.char_tfidf_.idf_, np.ascontiguousarray(coef, np.float32), out)
            return out
        if rows is not None:
            w, c, cues = w.take(rows), c.take(rows), cues.take(rows)
        return np.asarray(self._assemble(w, c, cues, agent) @ coef, dtype=np.float32)

    def _assemble(self, w: Rows, c: Rows, cues: Rows, agent: np.ndarray) -> sp.csr_matrix:
        """Features: words, chars, words x agent, words x customer, role bias, cues x role.

        Built straight from the index arrays: blocks are laid side by side in
        column order and a stable sort by row interleaves them, so each row's
        columns come out sorted, the order the scoring product adds them in.
        """
        n, n_words, n_chars, n_cues = len(agent), 2 ** self.word_bits, 2 ** self.char_bits, len(GROUPS)
        rows_w, rows_c, rows_q = w.row_ids(), c.row_ids(), cues.row_ids()
        customer = (agent == 0).astype(np.int64)
        crossed = w.indices + n_words + n_chars + customer[rows_w] * n_words
        bias = 3 * n_words + n_chars + customer
        cue_cols = 3 * n_words + n_chars + 2 + cues.indices + customer[rows_q] * n_cues
        w_data = _tfidf(w, self.word_tfidf_.idf_)
        rows = np.concatenate([rows_w, rows_c, rows_w, np.arange(n), rows_q])
        cols = np.concatenate([w.indices, c.indices + n_words, crossed, bias, cue_cols])
        data = np.concatenate([w_data, _tfidf(c, self.char_tfidf_.idf_), w_data, np.ones(n, np.float32),
                               np.log1p(cues.data).astype(np.float32)])
        order = np.argsort(rows, kind="stable")
        indptr = np.zeros(n + 1, np.int64)
        np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
        shape = (n, 3 * n_words + n_chars + 2 + 2 * n_cues)
        return sp.csr_matrix((data[order], cols[order], indptr), shape=shape)


def _agent(roles: Sequence[str]) -> np.ndarray:
    return np.array([r == "agent" for r in roles], dtype=np.float32)


def _tfidf(counts, idf: np.ndarray) -> np.ndarray:
    """Sublinear tf-idf with l2 rows, as TfidfTransformer computes it: the new data of CSR-like counts.

    On one message TfidfTransformer's per-call checks cost more than the arithmetic;
    the result is identical (a test compares them).
    """
    n = len(counts.indptr) - 1
    data = np.log(counts.data.astype(np.float64)) + 1.0
    data *= idf[counts.indices]
    rows = np.repeat(np.arange(n), np.diff(counts.indptr))
    norms = np.sqrt(np.bincount(rows, weights=data * data, minlength=n))
    norms[norms == 0] = 1.0
    data /= norms[rows]
    return data.astype(np.float32)

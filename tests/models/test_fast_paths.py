"""The fast feature path gives exactly the numbers of the straightforward one (models/reference.py)."""

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
import scipy.sparse as sp
from sklearn.feature_extraction.text import HashingVectorizer

from models.corpus import load_messages, load_tickets
from models.cues import cue_counts
from models.features import _token_grams, char_counts, clean, segments_of, word_counts, _word_analyzer
from models.reference import ReferenceFeatures
from models.ticket import load_ticket

SAMPLES = Path(__file__).parents[2] / "models" / "samples" / "tickets.jsonl"
# Texts that stress tokenising: empty, whitespace only, unicode spaces, digits, links, long repeats.
ODD = ["", "   ", "a", "ok\u00a0thanks\u2003again\u3000!", "tab\tand\nnewline  twice", "x" * 40,
       "Order #12345 at https://example.com/a?b=1 from bob@example.com, @agent!!", "naïve café — ☕ 🙂",
       "Hi Priya,\n\nAs I said, you typed the wrong address.\n\n> On Mon, Sam wrote:\n> where is it?"]


@pytest.fixture(scope="module")
def texts():
    """Sample ticket messages, a slice of the corpus and the odd texts, with their roles."""
    rows = [(m["body"], m["author_role"]) for line in SAMPLES.read_text().splitlines() if line.strip()
            for m in json.loads(line)["messages"]]
    rows += [(e.text, e.role) for e in load_messages()[:1500]]
    rows += [(t, role) for t in ODD for role in ("agent", "customer")]
    return rows


@pytest.fixture(scope="module")
def reference(analyzer):
    return ReferenceFeatures(analyzer._features)


def test_token_grams_match_scikit_learn(texts):
    analyzer = HashingVectorizer(analyzer="char_wb", ngram_range=(2, 5), lowercase=False).build_analyzer()
    tokens = {tok for text, _ in texts for tok in clean(text).split()}
    assert all(_token_grams(tok) == analyzer(tok) for tok in tokens)
    for text, _ in texts:  # a text's grams are its whitespace tokens' grams
        assert [g for tok in clean(text).split() for g in _token_grams(tok)] == analyzer(clean(text))


@pytest.mark.parametrize("kind", ["words", "chars"])
def test_hashed_counts_match_hashing_vectorizer(analyzer, texts, kind):
    words, chars = analyzer._features._vectorizers()
    flat = [clean(t) for t, _ in texts]
    expected = (words if kind == "words" else chars).transform(flat).toarray()
    n, owners = expected.shape[1], np.arange(len(flat))
    got = (word_counts(flat, _word_analyzer(17), n, owners, len(flat)) if kind == "words"
           else char_counts(flat, n, owners, len(flat))).to_csr(n).toarray()
    assert np.array_equal(got, expected)


def test_message_features_equal_the_reference(analyzer, reference, texts):
    batch, roles = [t for t, _ in texts], [r for _, r in texts]
    fast = analyzer._features.features(batch, roles)
    slow = reference.features(batch, roles)
    assert fast.shape == slow.shape
    # Same entries in the same order: the scoring product adds them up identically.
    assert np.array_equal(fast.indptr, slow.indptr)
    assert np.array_equal(fast.indices, slow.indices)
    assert np.array_equal(fast.data, slow.data)


def test_sentence_features_equal_the_reference(analyzer, reference, texts):
    segments, roles = [segments_of(t) for t, _ in texts[:300]], [r for _, r in texts[:300]]
    rows = np.arange(0, sum(map(len, segments)), 3)
    fast = analyzer._features.sentence_features(analyzer._features.count(segments, roles), rows)
    slow = reference.sentence_features(reference.count(segments, roles), rows)
    assert (fast != slow).nnz == 0


def test_features_match_plain_scikit_learn(analyzer, texts):
    """Independent of both implementations: vectorizers, TfidfTransformer and hstack."""
    featurizer = analyzer._features
    batch, roles = [t for t, _ in texts[:400]], [r for _, r in texts[:400]]
    segments = [segments_of(t) for t in batch]
    flat = [clean(s) for segs in segments for s in segs]
    owners = np.repeat(np.arange(len(batch)), [len(s) for s in segments])
    summing = sp.csr_matrix((np.ones(len(flat)), (owners, np.arange(len(flat)))), shape=(len(batch), len(flat)))
    words, chars = featurizer._vectorizers()
    w = featurizer.word_tfidf_.transform(summing @ words.transform(flat).astype(np.float64))
    c = featurizer.char_tfidf_.transform(summing @ chars.transform(flat).astype(np.float64))
    q = summing @ cue_counts(flat).astype(np.float64)
    q.data = np.log1p(q.data)
    agent = np.array([r == "agent" for r in roles], dtype=float)
    a, u = sp.diags(agent), sp.diags(1 - agent)
    expected = sp.hstack([w, c, a @ w, u @ w, sp.csr_matrix(np.c_[agent, 1 - agent]), a @ q, u @ q]).tocsr()
    assert abs(featurizer.features(batch, roles).astype(np.float64) - expected).max() <= 1e-6


def test_scores_equal_the_reference(analyzer, reference, texts):
    batch, roles = [t for t, _ in texts], [r for _, r in texts]
    expected = analyzer._outputs.predict_proba(reference.features(batch, roles))
    assert np.abs(analyzer.score_texts(batch, roles) - expected).max() <= 1e-9


def test_scores_do_not_depend_on_the_batch(analyzer, texts):
    """Guidance scores candidates together; each row must be what it is alone."""
    batch, roles = [t for t, _ in texts[:60]], [r for _, r in texts[:60]]
    together = analyzer.score_texts(batch, roles)
    alone = np.vstack([analyzer.score_texts([t], [r]) for t, r in zip(batch, roles)])
    assert np.array_equal(together, alone)


def test_analysis_equals_the_reference_path(analyzer, monkeypatch):
    """Whole analyses (scores, flags, spans, kinds) with the reference featurizer swapped in."""
    tickets = [load_ticket(json.loads(line)) for line in SAMPLES.read_text().splitlines() if line.strip()]
    tickets += [load_ticket({k: v for k, v in t.items() if k != "labels"}) for t in load_tickets()[:80]]
    fast = analyzer.analyze_many(tickets) + [analyzer.analyze(t) for t in tickets[:20]]
    monkeypatch.setattr(analyzer, "_features", ReferenceFeatures(analyzer._features))
    slow = analyzer.analyze_many(tickets) + [analyzer.analyze(t) for t in tickets[:20]]
    assert fast == slow


def _hashed_directly(keys, expand, n_features):
    from models.features import _hash

    grams = [g for k in keys for g in expand(k)]
    return _hash(grams, n_features), np.array([len(expand(k)) for k in keys])


def test_gram_table_gives_the_hashes_through_resets_and_growth(texts):
    """A table small enough to start afresh many times still gives exactly the hashed columns."""
    from models.features import GramColumns

    table = GramColumns(2 ** 17, _token_grams, limit=300)
    batches = [clean(t).split() for t, _ in texts[:600]]
    for tokens in batches + batches[::-1]:  # the second pass meets keys stored, evicted and new
        got, lengths = table.gathered(tokens)
        expected, expected_lengths = _hashed_directly(tokens, _token_grams, 2 ** 17)
        assert np.array_equal(got, expected) and np.array_equal(lengths, expected_lengths)
    assert len(table._slots) <= 300 + max(len(set(tokens)) for tokens in batches)


def test_gram_table_is_safe_across_threads(texts):
    """Threads scoring at once (the job consumer does) each get exactly their own columns."""
    from concurrent.futures import ThreadPoolExecutor

    from models.features import GramColumns

    table = GramColumns(2 ** 17, _token_grams, limit=500)
    batches = [clean(t).split() for t, _ in texts[:400]] * 3

    def check(tokens):
        got, _ = table.gathered(tokens)
        return np.array_equal(got, _hashed_directly(tokens, _token_grams, 2 ** 17)[0])

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(check, batches))


def test_gram_table_handles_an_empty_batch():
    from models.features import GramColumns

    got, lengths = GramColumns(2 ** 17, _token_grams).gathered([])
    assert got.size == 0 and lengths.size == 0


def test_cue_counts_equal_the_reference(texts):
    from models import reference

    cleaned = [clean(seg) for text, _ in texts for seg in segments_of(text)]
    assert (cue_counts(cleaned) != reference.cue_counts(cleaned)).nnz == 0
    assert cue_counts(cleaned).sum() > 500  # the texts do contain cue phrases


def _same_rows(a, b):
    return all(x.dtype == y.dtype and np.array_equal(x, y) for left, right in zip(a, b) for x, y in zip(left, right))


def _compiled_or_skip():
    from models import features

    if features._grams is None:
        pytest.skip("models/_grams.c was not built here (no C compiler at install): only the Python path runs")


def test_compiled_gram_counts_equal_the_python_path(texts):
    from models.features import gram_counts

    _compiled_or_skip()
    cleaned = [clean(seg) for text, _ in texts for seg in segments_of(text)]
    owners = np.arange(len(cleaned)) // 2  # two sentences to a row: counts add up across texts
    n_rows = int(owners[-1]) + 1
    assert _same_rows(gram_counts(cleaned, owners, n_rows, 17, 17), gram_counts(cleaned, owners, n_rows, 17, 17, compiled=False))


@settings(max_examples=400, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(list("ab'_!? \t\n\u00a0\u2003-.,0") + ["é", "ǅ", "²", "ⅷ", "日", "🙂", "\u0301",
                                                                                       "İ", "ß"]), max_size=30), max_size=6))
def test_compiled_gram_counts_equal_the_python_path_on_any_text(pieces):
    from models.features import gram_counts

    _compiled_or_skip()
    owners = np.zeros(len(pieces), np.int64)
    assert _same_rows(gram_counts(pieces, owners, 1, 10, 10), gram_counts(pieces, owners, 1, 10, 10, compiled=False))


def test_a_lone_surrogate_takes_the_python_path():
    from models.features import gram_counts

    with pytest.raises(UnicodeEncodeError):  # as hashing it in Python always did
        gram_counts(["ok \ud800 there"], np.zeros(1, np.int64), 1, 10, 10)


def _sentence_counts(analyzer, texts):
    segments, roles = [segments_of(t) for t, _ in texts], [r for _, r in texts]
    return analyzer._features.count(segments, roles)


def test_compiled_merge_equals_summing_sentences(analyzer, texts):
    """Message rows (the sums of their consecutive sentence rows) the same from C as from numpy."""
    _compiled_or_skip()
    counts = _sentence_counts(analyzer, texts)
    for part, n_cols in ((counts.words, 2 ** 17), (counts.chars, 2 ** 17), (counts.cues, 50)):
        assert _same_rows([counts.per_message(part, n_cols)], [counts.per_message(part, n_cols, compiled=False)])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.lists(st.integers(0, 30), max_size=12), max_size=5), max_size=6))
def test_compiled_merge_on_any_rows(groups):
    """Any groups of rows, empty rows and empty groups included."""
    from models.features import SegmentCounts, summed

    _compiled_or_skip()
    entries = [(r, col) for r, row in enumerate(row for group in groups for row in group) for col in row]
    n_sentences = sum(len(group) for group in groups)
    rows = summed([r for r, _ in entries], [c for _, c in entries], n_sentences, 31)
    owners = np.repeat(np.arange(len(groups)), [len(group) for group in groups])
    counts = SegmentCounts(rows, rows, rows, owners, np.zeros(len(groups), np.float32))
    assert _same_rows([counts.per_message(rows, 31)], [counts.per_message(rows, 31, compiled=False)])


def test_compiled_product_equals_the_matrix_product(analyzer, texts):
    """The scores' product without the matrix: the same float32 numbers as scipy's, messages and sentences."""
    _compiled_or_skip()
    featurizer, coef = analyzer._features, analyzer._outputs.coef_
    batch, roles = [t for t, _ in texts], [r for _, r in texts]
    assert np.array_equal(featurizer.linear(batch, roles, coef), np.asarray(featurizer.features(batch, roles) @ coef))
    counts = _sentence_counts(analyzer, texts[:300])
    assert np.array_equal(featurizer.message_linear(counts, coef), np.asarray(featurizer.message_features(counts) @ coef))
    rows = np.arange(0, len(counts.owners), 2)
    assert np.array_equal(featurizer.sentence_linear(counts, rows, coef),
                          np.asarray(featurizer.sentence_features(counts, rows) @ coef))
    parts = (counts.words, counts.chars, counts.cues, counts.agent[counts.owners[rows]], coef, rows)
    assert np.array_equal(featurizer._product(*parts), featurizer._product(*parts, compiled=False))


def test_compiled_product_refuses_arrays_of_the_wrong_shape_or_type(analyzer):
    """Bad arguments raise Python errors, never read out of bounds."""
    from models import features

    _compiled_or_skip()
    featurizer, coef = analyzer._features, analyzer._outputs.coef_
    counts = featurizer.count([["you should have read the email"]], ["agent"])
    w, c, q = counts.words, counts.chars, counts.cues
    idf_w, idf_c = featurizer.word_tfidf_.idf_, featurizer.char_tfidf_.idf_
    one, agent, out = np.zeros(1, np.int64), np.ones(1, np.float32), np.empty((1, coef.shape[1]), np.float32)
    assert features._grams.linear(w, c, q, one, agent, idf_w, idf_c, coef, out) is None
    bad = [
        ((w, c, q, np.array([1]), agent, idf_w, idf_c, coef, out), ValueError),  # row out of range
        ((w, c, q, one, agent, idf_w, idf_c, coef[:-1], out), ValueError),  # coef of another layout
        ((w, c, q, one, agent, idf_w, idf_c, coef, out[:, :2]), (ValueError, BufferError)),  # out of another shape
        ((w, c, q, one, agent.astype(np.float64), idf_w, idf_c, coef, out), TypeError),
        ((w, c, q, one, agent, idf_w.astype(np.int32), idf_c, coef, out), TypeError),
        ((type(w)(w.indptr, w.indices + 2 ** 17, w.data), c, q, one, agent, idf_w, idf_c, coef, out), ValueError),
        ((type(w)(w.indptr[::-1].copy(), w.indices, w.data), c, q, one, agent, idf_w, idf_c, coef, out), ValueError),
    ]
    for args, error in bad:
        with pytest.raises(error):
            features._grams.linear(*args)
    for bounds in ([0, 5], [0, 100, 1], [1, 1], [], [0, -3, 1]):
        with pytest.raises(ValueError):
            features._grams.merge(w, np.array(bounds, np.int64))


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(["http", "https://", "www.", "x.co", "@", "@bob", "a@b.co", "bob", " ", "\n", ".", "-",
                                 "4", "٣", "!!!!", "’", "É", "_", "ww", "w."]), max_size=14))
def test_clean_equals_every_substitution_run(pieces):
    from models.reference import reference_clean

    text = "".join(pieces)
    assert clean(text) == reference_clean(text)


def test_clean_equals_every_substitution_run_on_the_texts(texts):
    from models.reference import reference_clean

    assert all(clean(t) == reference_clean(t) for t, _ in texts)

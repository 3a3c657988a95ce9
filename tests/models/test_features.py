"""Features: the fast tf-idf matches scikit-learn's, roles and cue groups are separate inputs."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfTransformer

from models.cues import GROUPS, cue_counts
from models.features import MessageFeaturizer, _tfidf, clean, segments_of

TEXTS = [("Hi! As I said, you typed the wrong address. Please check.", "agent"),
         ("Where is my refund?? Third time asking. I'm calling my bank.", "customer"),
         ("", "customer")]


@pytest.fixture(scope="module")
def featurizer():
    return MessageFeaturizer(word_bits=12, char_bits=12).fit(TEXTS * 3)


def test_fast_tfidf_matches_scikit_learn(featurizer):
    counts = featurizer._vectorizers()[0].transform([clean(t) for t, _ in TEXTS])
    expected = TfidfTransformer(sublinear_tf=True).fit(counts).transform(counts).toarray()
    data = _tfidf(counts, TfidfTransformer(sublinear_tf=True).fit(counts).idf_)
    got = sp.csr_matrix((data, counts.indices, counts.indptr), shape=counts.shape).toarray()
    assert np.allclose(expected, got, atol=1e-6)


def test_message_features_are_the_sum_of_their_sentences(featurizer):
    counts = featurizer.count([segments_of(TEXTS[0][0])], ["agent"])
    assert counts.words.n_rows == 3  # three sentences hashed once
    whole = featurizer.message_features(counts).toarray()
    assert np.allclose(whole, featurizer.transform([TEXTS[0]]).toarray())


def test_role_changes_the_features(featurizer):
    as_agent = featurizer.transform([(TEXTS[0][0], "agent")]).toarray()
    as_customer = featurizer.transform([(TEXTS[0][0], "customer")]).toarray()
    assert not np.allclose(as_agent, as_customer)


@pytest.mark.parametrize(
    "text, group",
    [
        ("What a scam company, you people are crooks", "accusation"),
        ("Per my last email, you should have read the terms", "agent_fault"),
        ("Expedia is an independent third party, please contact them directly", "referral"),
        ("I've contacted the carrier on your behalf", "ownership"),
        ("They told me to call you and now you say call them", "run_around"),
        ("Leaving a one star review on Trustpilot", "public"),
        ("I'm reporting you to trading standards", "legal"),
        ("I will file a chargeback", "chargeback"),
        ("I'm porting my number to another network", "churn"),
        ("Put me through to a supervisor", "manager"),
        ("This is my 3rd email, still no reply", "repeat_contact"),
    ],
)
def test_cue_groups(text, group):
    counts = cue_counts([clean(text)]).toarray()[0]
    assert counts[GROUPS.index(group)] >= 1


@pytest.mark.parametrize(
    "text",
    ["the suede jacket was lovely", "my account manager sent the invoice", "please review my application",
     "try again tomorrow", "meet me at the food court", "the how-to video helped"],
)
def test_ambiguous_words_alone_are_not_cues(text):
    assert cue_counts([clean(text)]).sum() == 0

"""The message classifier: one scikit-learn pipeline scoring every output at once.

Outputs are the three labels (calibrated probabilities) and the six
escalation kinds. Calibration is Platt scaling fitted on out-of-fold scores
from grouped cross-validation, so the probabilities and the default
thresholds both come from data the final weights never saw.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import Pipeline

from .corpus import KINDS, LABELS
from .features import MessageFeaturizer

OUTPUTS = LABELS + tuple(f"kind:{k}" for k in KINDS)
CALIBRATED = LABELS  # kinds are only ranked, never thresholded by users
# A kind says which way an escalating message escalates, so each kind's regression learns
# from the rows that escalate only: P(kind | escalation). Learnt from every row, each kind
# also learnt "escalates at all", and any threat ("third time I'm writing") lit up every kind.
GIVEN = {OUTPUTS.index(f"kind:{k}"): OUTPUTS.index("escalation") for k in KINDS}
N_JOBS = 2  # the machines we target have two cores


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))


def _fit_platt(scores: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Platt scaling: the (slope, intercept) mapping a decision score to a probability."""
    if len(np.unique(y)) < 2:
        return 1.0, 0.0
    lr = LogisticRegression(C=1e4).fit(scores.reshape(-1, 1), y)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


class MultiOutputCalibrated(BaseEstimator, ClassifierMixin):
    """One logistic regression per output; the labels are calibrated out of fold.

    A kind's regression learns from the rows that escalate only (GIVEN): its
    score is the kind given that the message escalates.

    After `fit`, `oof_proba_` holds calibrated out-of-fold probabilities for the
    calibrated outputs: the held-out data on which default thresholds are chosen.
    """

    def __init__(self, C: float = 4.0, folds: int = 5, seed: int = 0):
        self.C = C
        self.folds = folds
        self.seed = seed

    def _new(self) -> LogisticRegression:
        # The dual formulation is the fast one when features far outnumber rows, as here.
        return LogisticRegression(C=self.C, solver="liblinear", dual=True, tol=1e-3, max_iter=1000,
                                  class_weight="balanced", random_state=self.seed)

    def fit(self, X, Y: np.ndarray, groups: Sequence | None = None, calibrate_on: np.ndarray | None = None,
            sample_weight: np.ndarray | None = None) -> "MultiOutputCalibrated":
        """Fit every output; Y has one column per name in OUTPUTS.

        `calibrate_on` marks the rows that are whole messages: calibration and the
        out-of-fold probabilities use only those (sentence rows teach spans).
        """
        Y = np.asarray(Y)
        whole = np.ones(X.shape[0], bool) if calibrate_on is None else np.asarray(calibrate_on, bool)
        weight = np.ones(X.shape[0]) if sample_weight is None else np.asarray(sample_weight, float)
        groups = groups if groups is not None else np.arange(X.shape[0])
        splits = list(GroupKFold(n_splits=self.folds).split(X, Y[:, 0], groups))
        n_out = Y.shape[1]
        given = {j: np.flatnonzero(Y[:, c] == 1) for j, c in GIVEN.items() if j < n_out}
        two_class = [len(np.unique(Y[given.get(j, slice(None)), j])) == 2 for j in range(n_out)]
        # Every fit is independent: run them in worker processes. Not threads: liblinear
        # draws from the C library's global random state, so parallel threads would make
        # training irreproducible.
        tasks = [(j, None) for j in range(n_out) if two_class[j]]
        tasks += [(j, k) for j in range(len(CALIBRATED)) if two_class[j] for k in range(len(splits))]
        fitted = Parallel(n_jobs=N_JOBS)(
            delayed(self._fit_one)(X, Y[:, j], weight, given.get(j) if k is None else splits[k][0]) for j, k in tasks)
        models = dict(zip(tasks, fitted))
        self.platt_ = np.tile([1.0, 0.0], (n_out, 1))
        self.oof_proba_ = np.full((X.shape[0], n_out), np.nan)
        for j in range(len(CALIBRATED)):
            if two_class[j]:
                oof = np.zeros(X.shape[0])
                for k, (_, test) in enumerate(splits):
                    if models[(j, k)] is not None:
                        oof[test] = models[(j, k)].decision_function(X[test])
                self.platt_[j] = _fit_platt(oof[whole], Y[whole, j])
                self.oof_proba_[:, j] = _sigmoid(self.platt_[j, 0] * oof + self.platt_[j, 1])
        # All outputs' weights in one dense float32 matrix: one sparse-times-dense
        # product scores everything (much faster than sparse-times-sparse).
        self.coef_ = np.zeros((X.shape[1], n_out), dtype=np.float32)
        self.intercept_ = np.array([0.0 if two_class[j] else (40.0 if Y[:, j].max() else -40.0) for j in range(n_out)])
        for j in range(n_out):
            if two_class[j]:
                self.coef_[:, j] = models[(j, None)].coef_[0]
                self.intercept_[j] = models[(j, None)].intercept_[0]
        return self

    def _fit_one(self, X, y: np.ndarray, weight: np.ndarray, rows: np.ndarray | None) -> LogisticRegression | None:
        """One logistic regression, on all rows or on one fold's training rows."""
        if rows is not None:
            X, y, weight = X[rows], y[rows], weight[rows]
        if len(np.unique(y)) < 2:
            return None
        return self._new().fit(X, y, sample_weight=weight)

    def decision_function(self, X) -> np.ndarray:
        """Raw linear scores, one column per output."""
        return np.asarray(X @ self.coef_, dtype=np.float64) + self.intercept_

    def predict_proba(self, X) -> np.ndarray:
        """Probabilities per output (calibrated for the labels)."""
        return self.proba_of_product(X @ self.coef_)

    def proba_of_product(self, product: np.ndarray) -> np.ndarray:
        """Probabilities from X @ coef_ computed elsewhere (MessageFeaturizer.linear skips building X)."""
        z = np.asarray(product, dtype=np.float64) + self.intercept_
        return _sigmoid(self.platt_[:, 0] * z + self.platt_[:, 1])


def build_pipeline(C: float = 4.0, folds: int = 5, seed: int = 0) -> Pipeline:
    """The message pipeline: features, then every output's classifier."""
    return Pipeline([("features", MessageFeaturizer()), ("outputs", MultiOutputCalibrated(C=C, folds=folds, seed=seed))])


def fit_pipeline(pipeline: Pipeline, rows: Sequence, Y: np.ndarray, groups: Sequence,
                 whole: np.ndarray | None = None, weight: np.ndarray | None = None) -> Pipeline:
    """Fit the pipeline, passing groups to the grouped cross-validation."""
    X = pipeline.named_steps["features"].fit_transform(rows)
    pipeline.named_steps["outputs"].fit(X, Y, groups=groups, calibrate_on=whole, sample_weight=weight)
    return pipeline

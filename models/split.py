"""The held-out split: stable, grouped, and closed under near-duplicates.

A message and its paraphrase on opposite sides of the split would flatter the
model, so groups that contain near-duplicate texts are merged before the split.
The side a group falls on depends only on a hash of its name, so adding data
never reshuffles what the evaluation already held out.
"""

from __future__ import annotations

import hashlib
from typing import Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from .features import clean

TEST_FRACTION = 0.2
NEAR_DUPLICATE = 0.8


class _UnionFind:
    def __init__(self, names: Sequence[str]):
        self.parent = {n: n for n in names}

    def find(self, x: str) -> str:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            lo, hi = sorted((ra, rb))
            self.parent[hi] = lo


def merge_near_duplicates(texts: Sequence[str], groups: Sequence[str], threshold: float = NEAR_DUPLICATE) -> list[str]:
    """Group names where any two texts with cosine similarity >= threshold share a group."""
    uf = _UnionFind(sorted(set(groups)))
    if len(texts) > 1:
        X = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1).fit_transform([clean(t) for t in texts])
        for start in range(0, X.shape[0], 1000):
            sims = (X[start:start + 1000] @ X.T).toarray()
            rows, cols = np.nonzero(sims >= threshold)
            for r, c in zip(rows, cols):
                if start + r < c:
                    uf.union(groups[start + r], groups[c])
    return [uf.find(g) for g in groups]


def is_held_out(group: str, fraction: float = TEST_FRACTION) -> bool:
    """Whether a group belongs to the evaluation split (a pure function of its name)."""
    digest = hashlib.sha256(group.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2 ** 64 < fraction


def split_mask(texts: Sequence[str], groups: Sequence[str], fraction: float = TEST_FRACTION) -> tuple[np.ndarray, list[str]]:
    """Boolean mask of held-out rows, and the merged group of every row."""
    merged = merge_near_duplicates(texts, groups)
    return np.array([is_held_out(g, fraction) for g in merged]), merged

"""Ticket-level escalation risk: the conversation's trajectory, not one message.

What precedes a customer leaving normal handling is often visible only across
messages and tickets: the third follow-up, anger rising, an agent deflecting
twice, days without an answer, a reopened ticket. These become a handful of
numeric features for a small calibrated logistic regression.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

FEATURES = (
    "customer_escalation_max", "customer_escalation_last", "customer_blame_mean", "anger_rise",
    "customer_messages", "follow_ups", "agent_deflections", "agent_deflection_max", "agent_blame_max",
    "repeat_contact_signal", "longest_wait_hours", "days_spanned", "prior_contacts", "reopened",
    "history_days_open", "prior_deflections",
)


@dataclass
class MessageSignal:
    """What the ticket model needs to know about one scored message."""

    role: str
    blame: float
    deflection: float
    escalation: float
    repeat_contact: float
    created_at: datetime | None


def _hours(a: datetime | None, b: datetime | None) -> float:
    if a is None or b is None:
        return 0.0
    return max((b - a).total_seconds() / 3600.0, 0.0)


def _waits(signals: Sequence[MessageSignal]) -> float:
    """Longest time a customer message waited for the next agent message."""
    longest, waiting_since = 0.0, None
    for s in signals:
        if s.role == "customer" and waiting_since is None:
            waiting_since = s.created_at
        elif s.role == "agent" and waiting_since is not None:
            longest = max(longest, _hours(waiting_since, s.created_at))
            waiting_since = None
    return longest


def trajectory(signals: Sequence[MessageSignal], history: dict | None) -> dict[str, float]:
    """The named features of one ticket (raw values, before scaling)."""
    cust = [s for s in signals if s.role == "customer"]
    agent = [s for s in signals if s.role == "agent"]
    follow_ups = sum(1 for a, b in zip(signals, signals[1:]) if a.role == b.role == "customer")
    times = [s.created_at for s in signals if s.created_at is not None]
    history = history or {}
    return {
        "customer_escalation_max": max((s.escalation for s in cust), default=0.0),
        "customer_escalation_last": cust[-1].escalation if cust else 0.0,
        "customer_blame_mean": float(np.mean([s.blame for s in cust])) if cust else 0.0,
        "anger_rise": (cust[-1].blame + cust[-1].escalation - cust[0].blame - cust[0].escalation) if len(cust) > 1 else 0.0,
        "customer_messages": float(len(cust)),
        "follow_ups": float(follow_ups),
        "agent_deflections": float(sum(s.deflection >= 0.5 for s in agent)),
        "agent_deflection_max": max((s.deflection for s in agent), default=0.0),
        "agent_blame_max": max((s.blame for s in agent), default=0.0),
        "repeat_contact_signal": max((s.repeat_contact for s in cust), default=0.0),
        "longest_wait_hours": _waits(signals),
        "days_spanned": _hours(min(times), max(times)) / 24.0 if times else 0.0,
        "prior_contacts": float(history.get("prior_contacts", 0) or 0),
        "reopened": float(history.get("reopened", 0) or 0),
        "history_days_open": float(history.get("days_open", 0) or 0),
        "prior_deflections": float(history.get("prior_deflections", 0) or 0),
    }


_COUNTS = {"customer_messages", "follow_ups", "agent_deflections", "longest_wait_hours", "days_spanned",
           "prior_contacts", "reopened", "history_days_open", "prior_deflections"}


def vector(features: dict[str, float]) -> np.ndarray:
    """Features in FEATURES order, counts and durations on a log scale."""
    return np.array([math.log1p(features[n]) if n in _COUNTS else features[n] for n in FEATURES])


def fit_ticket_model(X: np.ndarray, y: np.ndarray, seed: int = 0) -> tuple[Pipeline, np.ndarray]:
    """Fit the ticket model; also return its calibrated out-of-fold probabilities."""
    model = Pipeline([("scale", StandardScaler()), ("lr", LogisticRegression(C=0.5, max_iter=1000))])
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    oof = cross_val_predict(model, X, y, cv=folds, method="predict_proba")[:, 1]
    return model.fit(X, y), oof


def evidence(features: dict[str, float]) -> str | None:
    """Plain words for the history signals behind a repeat-contact risk, if any."""
    parts = []
    if features["prior_contacts"]:
        parts.append(_count(features["prior_contacts"], "earlier contact") + " about this")
    if features["reopened"]:
        parts.append("reopened " + _count(features["reopened"], "time"))
    if features["customer_messages"] >= 3:
        parts.append(f"{int(features['customer_messages'])} customer messages in this ticket")
    if features["follow_ups"]:
        parts.append(_count(features["follow_ups"], "follow-up") + " without an answer")
    if features["agent_deflections"] or features["prior_deflections"]:
        count = int(features["agent_deflections"] + features["prior_deflections"])
        parts.append(f"{count} deflecting {'reply' if count == 1 else 'replies'} so far")
    days = max(features["days_spanned"], features["history_days_open"])
    if days >= 3:
        parts.append(f"open {days:.0f} days")
    if features["longest_wait_hours"] >= 24:
        parts.append(f"waited {features['longest_wait_hours'] / 24:.0f} days for an answer")
    return "; ".join(parts) if parts else None


def _count(value: float, noun: str) -> str:
    n = int(value)
    return f"{n} {noun}{'' if n == 1 else 's'}"

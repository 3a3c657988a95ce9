"""Score normalized tickets: per-message labels with spans, and ticket-level risk.

The Analyzer is what the CLI and the service call. It hashes every sentence of
a batch once, scores the messages (sums of their sentences) in one vectorised
pass, then scores the sentences of the flagged messages from the same counts to
find spans and escalation evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from . import escalation, language, store
from .classifier import OUTPUTS
from .corpus import KINDS
from .text import join_regions, own_regions, sentences

# Internal label name -> the name the product shows.
PUBLIC_NAMES = {"blame": "blame", "deflection": "deflection", "escalation": "escalation_risk"}
LABEL_INDEX = {name: OUTPUTS.index(internal) for internal, name in PUBLIC_NAMES.items()}
KIND_INDEX = {kind: OUTPUTS.index(f"kind:{kind}") for kind in KINDS}
KIND_THRESHOLD = 0.5


@dataclass
class _Message:
    """Working state for one message while a batch is analysed."""

    index: int
    role: str
    body: str
    regions: list[tuple[int, int]]
    guess: language.LanguageGuess
    created_at: Any
    body_changed: bool
    probs: np.ndarray | None = None
    sentences: list[tuple[int, int]] = field(default_factory=list)
    sentence_probs: np.ndarray | None = None


@dataclass(frozen=True)
class TicketContext:
    """A scored conversation, kept to check the next message against (see Analyzer.context)."""

    model_version: str
    signals: list[escalation.MessageSignal]
    history: dict | None
    size: int
    agent_max: dict[str, float | None]


class Analyzer:
    """A loaded model plus thresholds; turns tickets into analyses."""

    def __init__(self, stored: store.StoredModel, thresholds: dict[str, float] | None = None):
        self.pipeline = stored.objects["messages"]
        self.ticket_model = stored.objects["tickets"]
        self.manifest = stored.manifest
        self.version = stored.manifest.get("model_version", "unknown")
        self.thresholds = {**stored.manifest["thresholds"], **(thresholds or {})}
        self._features = self.pipeline.named_steps["features"]
        self._outputs = self.pipeline.named_steps["outputs"]

    @classmethod
    def load(cls, path: str | Path | None = None, thresholds: dict[str, float] | None = None) -> "Analyzer":
        """Load and verify an artifact (the shipped default when path is None)."""
        return cls(store.load(path), thresholds)

    def score_texts(self, texts: Sequence[str], roles: Sequence[str]) -> np.ndarray:
        """Probabilities (rows x OUTPUTS) for raw texts; no quote or language handling."""
        if not texts:
            return np.zeros((0, len(OUTPUTS)))
        # The pipeline's steps called directly, skipping Pipeline's routing, transform's output wrapper
        # and the feature matrix itself (only its product with the coefficients is needed).
        return self._outputs.proba_of_product(self._features.linear(list(texts), list(roles), self._outputs.coef_))

    def analyze(self, ticket: dict) -> dict:
        """Analyse one normalized ticket (see models.ticket.load_ticket)."""
        return self.analyze_many([ticket])[0]

    def analyze_many(self, tickets: Sequence[dict]) -> list[dict]:
        """Analyse a batch of normalized tickets in one vectorised pass."""
        prepared, features = self._score_batch(tickets)
        risks = self._ticket_risks(features)
        return [self._ticket_result(t, msgs, f, r if any(m.probs is not None for m in msgs) else None)
                for t, msgs, f, r in zip(tickets, prepared, features, risks)]

    def context(self, ticket: dict) -> "TicketContext":
        """Score a ticket's messages once, so drafts of its next message can be checked against it cheaply."""
        prepared = [self._prepare(i, m) for i, m in enumerate(ticket["messages"])]
        self._score([m for m in prepared if not m.guess.abstained])
        scored = [m for m in prepared if m.probs is not None]
        agent_max = {name: max((float(m.probs[LABEL_INDEX[name]]) for m in scored if m.role == "agent"), default=None)
                     for name in ("blame", "deflection")}
        return TicketContext(self.version, [self._signal(m) for m in scored], ticket.get("history"), len(prepared), agent_max)

    def analyze_next(self, context: "TicketContext", message: dict) -> dict:
        """One message as the ticket's next: its own result, and the ticket's scores and flags with it added."""
        m = self._prepare(context.size, message)
        if not m.guess.abstained:
            self._score([m])
        signals = context.signals + ([self._signal(m)] if m.probs is not None else [])
        risk = self._ticket_risks([escalation.trajectory(signals, context.history)])[0] if signals else None
        result = self._message_result(m)
        scores: dict[str, float | None] = {}
        for name in ("blame", "deflection"):
            values = [v for v in (context.agent_max[name], result["scores"][name] if m.role == "agent" else None)
                      if v is not None]
            scores[name] = _round(max(values)) if values else None
        scores["escalation_risk"] = None if risk is None else _round(risk)
        flags = [name for name, value in scores.items() if value is not None and value >= self.threshold_for(name)]
        return {"message": result, "scores": scores, "flags": flags}

    def trajectories(self, tickets: Sequence[dict]) -> list[dict[str, float]]:
        """The ticket model's input features for each ticket (training uses this too)."""
        return self._score_batch(tickets)[1]

    def _score_batch(self, tickets: Sequence[dict]) -> tuple[list[list[_Message]], list[dict[str, float]]]:
        prepared = [[self._prepare(i, m) for i, m in enumerate(t["messages"])] for t in tickets]
        self._score([m for msgs in prepared for m in msgs if not m.guess.abstained])
        features = [escalation.trajectory([self._signal(m) for m in msgs if m.probs is not None], t.get("history"))
                    for t, msgs in zip(tickets, prepared)]
        return prepared, features

    def _score(self, flat: list[_Message]) -> None:
        """Score messages, then the sentences of those that were flagged (for spans)."""
        if not flat:
            return
        counts = self._features.count([[m.body[s:e] for s, e in m.sentences] for m in flat], [m.role for m in flat])
        outputs = self._outputs
        for m, p in zip(flat, outputs.proba_of_product(self._features.message_linear(counts, outputs.coef_))):
            m.probs = p
        first = np.concatenate([[0], np.cumsum([len(m.sentences) for m in flat])])
        needed = [i for i, m in enumerate(flat) if self._flagged(m) and len(m.sentences) > 1]
        if needed:
            rows = np.concatenate([np.arange(first[i], first[i + 1]) for i in needed])
            probs = outputs.proba_of_product(self._features.sentence_linear(counts, rows, outputs.coef_))
            offset = 0
            for i in needed:
                n = len(flat[i].sentences)
                flat[i].sentence_probs = probs[offset:offset + n]
                offset += n
        for m in flat:
            if m.sentence_probs is None and len(m.sentences) == 1:
                m.sentence_probs = m.probs.reshape(1, -1)

    @staticmethod
    def _prepare(index: int, message: dict) -> _Message:
        body = message["body"]
        regions = own_regions(body)
        guess = language.detect(join_regions(body, regions))
        found = list(sentences(body, regions)) or regions or [(0, 0)]
        return _Message(index, message["author_role"], body, regions, guess,
                        message.get("created_at"), bool(message.get("body_changed")), sentences=found)

    def _flagged(self, m: _Message) -> list[str]:
        if m.probs is None:
            return []
        return [name for name, j in LABEL_INDEX.items() if m.probs[j] >= self.thresholds[name]]

    def _sentence_probs(self, m: _Message) -> np.ndarray:
        """Per-sentence probabilities, scored now if the batch pass skipped this message."""
        if m.sentence_probs is None:
            m.sentence_probs = self.score_texts([m.body[s:e] for s, e in m.sentences], [m.role] * len(m.sentences))
        return m.sentence_probs

    def _ticket_risks(self, features: list[dict[str, float]]) -> np.ndarray:
        """Ticket escalation probabilities for a batch, in one matrix product."""
        if not features:
            return np.zeros(0)
        # The fitted scaler and regression applied directly: sklearn's per-call checks
        # cost more than the arithmetic for one ticket. Same numbers as predict_proba.
        scale, lr = self.ticket_model.named_steps["scale"], self.ticket_model.named_steps["lr"]
        X = (np.array([escalation.vector(f) for f in features]) - scale.mean_) / scale.scale_
        return 1.0 / (1.0 + np.exp(-(X @ lr.coef_[0] + lr.intercept_[0])))

    # --- results -----------------------------------------------------------------

    def _spans(self, m: _Message, flags: list[str]) -> list[dict]:
        spans = []
        for name in flags:
            j = LABEL_INDEX[name]
            column = m.sentence_probs[:, j]
            picked = [k for k, p in enumerate(column) if p >= self.thresholds[name]] or [int(np.argmax(column))]
            for k in picked:
                s, e = m.sentences[k]
                spans.append({"label": name, "start": s, "end": e, "text": m.body[s:e], "score": _round(column[k])})
        return sorted(spans, key=lambda sp: (sp["start"], sp["label"]))

    def _kinds(self, m: _Message) -> list[dict]:
        kinds = [k for k, j in KIND_INDEX.items() if m.probs[j] >= KIND_THRESHOLD]
        if not kinds:
            kinds = [max(KIND_INDEX, key=lambda k: m.probs[KIND_INDEX[k]])]
        out = []
        for kind in kinds:
            k = int(np.argmax(_shown(m.sentence_probs, kind)))
            s, e = m.sentences[k]
            out.append({"kind": kind, "evidence": m.body[s:e], "start": s, "end": e})
        return out

    def _message_result(self, m: _Message) -> dict:
        flags = self._flagged(m)
        result: dict[str, Any] = {
            "index": m.index, "author_role": m.role, "language": m.guess.language,
            "abstained": m.guess.abstained,
            "scores": {name: (None if m.probs is None else _round(m.probs[j])) for name, j in LABEL_INDEX.items()},
            "flags": flags,
            "spans": self._spans(m, flags) if flags else [],
            "escalation_kinds": self._kinds(m) if "escalation_risk" in flags else [],
        }
        if m.body_changed:
            result["body"] = m.body
        return result

    def _ticket_result(self, ticket: dict, msgs: list[_Message], features: dict[str, float], risk: float | None) -> dict:
        results = [self._message_result(m) for m in msgs]
        scored = [m for m in msgs if m.probs is not None]

        def top(role: str, name: str) -> float | None:
            values = [m.probs[LABEL_INDEX[name]] for m in scored if m.role == role]
            return _round(max(values)) if values else None

        risk = None if risk is None else _round(risk)
        scores = {"blame": top("agent", "blame"), "deflection": top("agent", "deflection"), "escalation_risk": risk}
        flags = [name for name, value in scores.items() if value is not None and value >= self.threshold_for(name)]
        kinds = self._ticket_kinds(results, msgs, features) if "escalation_risk" in flags else []
        return {
            "id": ticket["id"], "model_version": self.version, "scores": scores, "flags": flags,
            "escalation_kinds": kinds,
            "customer": {"blame": top("customer", "blame"), "deflection": top("customer", "deflection")},
            "messages": results,
        }

    def threshold_for(self, name: str) -> float:
        """The ticket-level threshold of a label (escalation has its own ticket model)."""
        return self.thresholds["ticket_escalation_risk"] if name == "escalation_risk" else self.thresholds[name]

    @staticmethod
    def _signal(m: _Message) -> escalation.MessageSignal:
        p = m.probs
        escalates = float(p[LABEL_INDEX["escalation_risk"]])
        return escalation.MessageSignal(
            role=m.role, blame=float(p[LABEL_INDEX["blame"]]), deflection=float(p[LABEL_INDEX["deflection"]]),
            # Kinds are P(kind | escalation) (see classifier.GIVEN): the message's own repeat-contact signal is both.
            escalation=escalates, repeat_contact=escalates * float(p[KIND_INDEX["repeat_contact"]]),
            created_at=m.created_at,
        )

    def _ticket_kinds(self, results: list[dict], msgs: list[_Message], features: dict[str, float]) -> list[dict]:
        kinds: dict[str, dict] = {}
        for r in reversed(results):  # the latest evidence of each kind wins
            for k in r["escalation_kinds"]:
                kinds.setdefault(k["kind"], {"kind": k["kind"], "evidence": k["evidence"], "message_index": r["index"]})
        history = escalation.evidence(features)
        if "repeat_contact" not in kinds and history and _repeated(features):
            kinds["repeat_contact"] = {"kind": "repeat_contact", "evidence": history, "message_index": None}
        if not kinds:
            kinds = self._strongest_kind(msgs)
        return [kinds[k] for k in KINDS if k in kinds]

    def _strongest_kind(self, msgs: list[_Message]) -> dict[str, dict]:
        """The kind a customer message most likely shows, when no message was flagged, if it more likely than not does.

        The ticket may be at risk from its trajectory alone (waits, our own deflections):
        then no message threatens anything, and naming a kind would put words in the
        customer's mouth ("the customer mentions a chargeback").
        """
        customers = [m for m in msgs if m.probs is not None and m.role == "customer"]
        if not customers:
            return {}
        shown, m, kind = max(((float(_shown(c.probs[None], k)[0]), c, k) for c in customers for k in KIND_INDEX),
                             key=lambda found: found[0])
        if shown < KIND_THRESHOLD:
            return {}
        k = int(np.argmax(_shown(self._sentence_probs(m), kind)))
        s, e = m.sentences[k]
        return {kind: {"kind": kind, "evidence": m.body[s:e], "message_index": m.index}}


def _shown(probs: np.ndarray, kind: str) -> np.ndarray:
    """How strongly each row (a sentence) shows a kind: it escalates, and escalates that way.

    Kind scores are given escalation (classifier.GIVEN); a calm sentence may score high
    on a kind, and must not become the kind's evidence.
    """
    return probs[:, LABEL_INDEX["escalation_risk"]] * probs[:, KIND_INDEX[kind]]


def _repeated(features: dict[str, float]) -> bool:
    """History that by itself shows repeated contact about the same issue."""
    return bool(features["prior_contacts"] >= 1 or features["reopened"] or features["follow_ups"] >= 1
                or features["customer_messages"] >= 3)


def _round(value: float) -> float:
    return round(float(value), 4)

"""Train the message pipeline and the ticket model from the corpus, reproducibly.

The held-out split (see split.py) is never seen here: the shipped model is
trained on the training side only, so `trustdesk evaluate` stays honest.
Default thresholds are chosen on out-of-fold predictions of the training side.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import numpy as np
from sklearn.metrics import precision_recall_curve

from . import escalation, store
from .classifier import build_pipeline, fit_pipeline
from .corpus import DATA_DIR, KINDS, LABELS, Example, corpus_hash, load_messages, load_tickets, message_files, ticket_files
from .split import is_held_out, split_mask
from .text import own_text, sentences
from .ticket import load_ticket

Progress = Callable[[str], None]


def label_matrix(examples: list[Example]) -> np.ndarray:
    """One column per name in OUTPUTS: the three labels, then the six kinds."""
    return np.array([e.y + [int(k in e.kinds) for k in KINDS] for e in examples], dtype=int)


SENTENCE_WEIGHT = 0.5


def sentence_rows(example: Example) -> list[tuple[str, list[int]]]:
    """Sentences of a multi-sentence message with their own labels, from the evidence.

    A sentence is positive for a label when it overlaps that label's annotated
    evidence; the message's kinds go with its escalation evidence. These rows
    teach the model which sentence carries the signal, so spans point there.
    """
    text = own_text(example.text)
    found = list(sentences(text))
    if len(found) < 2:
        return []
    evidence = {name: [(text.find(ev), text.find(ev) + len(ev)) for ev in spans if ev in text]
                for name, spans in example.evidence.items()}
    rows = []
    for s, e in found:
        hit = {name: any(a < e and s < b for a, b in ranges) for name, ranges in evidence.items()}
        labels = [int(hit.get(name, False)) for name in LABELS]
        kinds = [int(hit.get("escalation", False) and k in example.kinds) for k in KINDS]
        rows.append((text[s:e], labels + kinds))
    return rows


def training_rows(examples: list[Example], groups: list[str]) -> tuple[list, np.ndarray, list[str], np.ndarray, np.ndarray]:
    """Whole messages plus their labelled sentences: rows, Y, groups, whole-message mask, weights."""
    rows, Y, row_groups, whole, weight = [], [], [], [], []
    for example, group, y in zip(examples, groups, label_matrix(examples)):
        rows.append((own_text(example.text), example.role))
        Y.append(y)
        row_groups.append(group)
        whole.append(True)
        weight.append(1.0)
        for text, labels in sentence_rows(example):
            rows.append((text, example.role))
            Y.append(labels)
            row_groups.append(group)
            whole.append(False)
            weight.append(SENTENCE_WEIGHT)
    return rows, np.array(Y, dtype=int), row_groups, np.array(whole), np.array(weight)


def best_threshold(y: np.ndarray, p: np.ndarray) -> float:
    """The probability threshold that maximises F1 on held-out predictions."""
    if y.sum() == 0 or y.sum() == len(y):
        return 0.5
    precision, recall, thresholds = precision_recall_curve(y, p)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    best = int(np.argmax(f1[:-1]))
    return round(float(thresholds[best]), 4)


def split_corpus(examples: list[Example]) -> tuple[np.ndarray, list[str]]:
    """Held-out mask and merged groups for the message corpus."""
    return split_mask([own_text(e.text) for e in examples], [e.group for e in examples])


def split_tickets(tickets: list[dict]) -> tuple[list[dict], list[dict]]:
    """(training, held-out) tickets; a ticket's side depends only on its id."""
    train = [t for t in tickets if not is_held_out("ticket:" + t["id"])]
    held = [t for t in tickets if is_held_out("ticket:" + t["id"])]
    return train, held


def ticket_matrix(pipeline, thresholds: dict[str, float], tickets: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """Ticket feature matrix and labels, computed by the same code that serves predictions."""
    from .predict import Analyzer

    analyzer = Analyzer(store.StoredModel({"messages": pipeline, "tickets": None}, {"thresholds": thresholds}, Path(".")))
    normalized = [load_ticket({k: v for k, v in t.items() if k != "labels"}) for t in tickets]
    X = np.array([escalation.vector(f) for f in analyzer.trajectories(normalized)])
    y = np.array([int(t["labels"]["escalation"]) for t in tickets])
    return X, y


def train(data_dir: Path = DATA_DIR, out_dir: Path | None = None, seed: int = 0,
          progress: Progress = lambda msg: None) -> dict:
    """Train on the corpus' training side and save the artifact; returns its manifest."""
    started = time.perf_counter()
    examples = load_messages(message_files(data_dir))
    tickets = load_tickets(ticket_files(data_dir))
    progress(f"corpus: {len(examples)} messages, {len(tickets)} tickets")
    held, groups = split_corpus(examples)
    train_idx = np.flatnonzero(~held)
    rows, Y, row_groups, whole, weight = training_rows([examples[i] for i in train_idx], [groups[i] for i in train_idx])
    progress(f"training messages: {len(train_idx)} (+{len(rows) - len(train_idx)} sentences; held out: {int(held.sum())})")
    pipeline = fit_pipeline(build_pipeline(seed=seed), rows, Y, row_groups, whole, weight)
    oof = pipeline.named_steps["outputs"].oof_proba_[whole]
    Y = Y[whole]
    thresholds = {("escalation_risk" if name == "escalation" else name): best_threshold(Y[:, j], oof[:, j])
                  for j, name in enumerate(LABELS)}
    train_tickets, held_tickets = split_tickets(tickets)
    progress(f"training tickets: {len(train_tickets)} (held out: {len(held_tickets)})")
    Xt, yt = ticket_matrix(pipeline, thresholds, train_tickets)
    ticket_model, ticket_oof = escalation.fit_ticket_model(Xt, yt, seed=seed)
    thresholds["ticket_escalation_risk"] = best_threshold(yt, ticket_oof)
    data_hash = corpus_hash(data_dir)
    manifest = {
        "model_version": None,  # named after the artifact's bytes when saved
        "thresholds": thresholds,
        "training_data": {"sha256": data_hash, "messages": len(train_idx), "tickets": len(train_tickets),
                          "held_out_messages": int(held.sum()), "held_out_tickets": len(held_tickets)},
        "seed": seed,
        "training_seconds": round(time.perf_counter() - started, 1),
    }
    objects = {"messages": pipeline, "tickets": ticket_model}
    if out_dir is not None:
        from .evaluate import evaluate_heldout

        manifest["metrics"] = evaluate_heldout(objects, manifest, data_dir)["summary"]
        manifest = store.save(Path(out_dir), objects, manifest)
        progress(f"saved {out_dir} ({manifest['artifacts'][store.ARTIFACT]['bytes'] / 1e6:.1f} MB)")
    return manifest

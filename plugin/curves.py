"""Precision and recall per threshold on the held-out split, for the admin's threshold sliders.

Scoring the held-out split takes seconds to a minute, so a curve is computed
once per (model version, corpus) in a background thread and cached as JSON in
<data_dir>/curves/; the page asks again until it is there. The split is the one
models/evaluate.py reports on (models/split.py), so the numbers on the slider
match `trustdesk evaluate`.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any

import numpy as np

from models import store
from models.corpus import LABELS, corpus_hash, load_messages, load_tickets, message_files, ticket_files
from models.evaluate import score_messages
from models.predict import PUBLIC_NAMES, Analyzer
from models.ticket import load_ticket

log = logging.getLogger("trustdesk.curves")
GRID = [round(float(t), 2) for t in np.arange(0.02, 0.99, 0.01)]
_running: set[str] = set()
_lock = threading.Lock()


def points(y: np.ndarray, p: np.ndarray) -> list[dict[str, float]]:
    """Precision, recall and share flagged at each threshold of GRID (precision is 1 where nothing is flagged)."""
    y, p = np.asarray(y, dtype=int), np.asarray(p, dtype=float)
    out = []
    for t in GRID:
        flagged = p >= t
        tp = int((flagged & (y == 1)).sum())
        out.append({"threshold": t, "precision": round(tp / int(flagged.sum()), 4) if flagged.any() else 1.0,
                    "recall": round(tp / int(y.sum()), 4) if y.sum() else 0.0, "flagged": round(float(flagged.mean()), 4)})
    return out


def compute(analyzer: Analyzer, data_dir: Path) -> dict[str, Any]:
    """Every label's curve on the held-out messages, and the ticket model's on the held-out tickets."""
    from models.train import split_corpus, split_tickets

    examples = load_messages(message_files(data_dir))
    held, _ = split_corpus(examples)
    test = [e for e, h in zip(examples, held) if h]
    results = score_messages(analyzer, [e.text for e in test], [e.role for e in test])
    labels = {}
    for internal in LABELS:
        name = PUBLIC_NAMES[internal]
        y = np.array([e.labels[internal] for e in test])
        p = np.array([r["scores"][name] or 0.0 for r in results])
        labels[name] = {"n": len(test), "positives": int(y.sum()), "points": points(y, p)}
    _, held_tickets = split_tickets(load_tickets(ticket_files(data_dir)))
    if held_tickets:
        analyses = analyzer.analyze_many([load_ticket({k: v for k, v in t.items() if k != "labels"}) for t in held_tickets])
        y = np.array([int(t["labels"]["escalation"]) for t in held_tickets])
        p = np.array([a["scores"]["escalation_risk"] or 0.0 for a in analyses])
        labels["ticket_escalation_risk"] = {"n": len(held_tickets), "positives": int(y.sum()), "points": points(y, p)}
    return {"model_version": analyzer.version, "labels": labels}


def cache_path(data_dir: Path, version: str, corpus: Path) -> Path:
    """Where a version's curve on a corpus is kept."""
    return Path(data_dir) / "curves" / f"{version}-{corpus_hash(corpus)[:12]}.json"


def cached(data_dir: Path, version: str, corpus: Path) -> dict[str, Any] | None:
    """The stored curve, or None when it is not computed yet."""
    path = cache_path(data_dir, version, corpus)
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _compute_and_store(model_path: str, data_dir: Path, version: str, corpus: Path) -> None:
    try:
        result = compute(Analyzer(store.load(model_path)), corpus)
        path = cache_path(data_dir, version, corpus)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(result), encoding="utf-8")
        tmp.replace(path)
    except Exception:  # logged; the page keeps saying "computing" and the log says why
        log.exception("could not compute the precision/recall curve of %s", version)
    finally:
        with _lock:
            _running.discard(version)


def curve(data_dir: Path, version: str, model_path: str, corpus: Path, background: bool = True) -> dict[str, Any] | None:
    """The curve for a model version; None while it is being computed (started here if needed)."""
    found = cached(data_dir, version, corpus)
    if found is not None:
        return found
    with _lock:
        if version in _running:
            return None
        _running.add(version)
    if not background:
        _compute_and_store(model_path, data_dir, version, corpus)
        return cached(data_dir, version, corpus)
    threading.Thread(target=_compute_and_store, args=(model_path, data_dir, version, corpus),
                     name=f"curve-{version}", daemon=True).start()
    return None


def at(curve_points: list[dict[str, float]], threshold: float) -> dict[str, float]:
    """The grid point nearest a threshold."""
    return min(curve_points, key=lambda point: abs(point["threshold"] - threshold))

"""Measure a model: held-out corpus split, per slice, beside a lexicon baseline, and on real text.

Numbers on our own held-out split say whether training worked; numbers on real
public text (labelled by us, never trained on) say whether it will work for
customers. Both are reported, and neither replaces the other.
"""

from __future__ import annotations

import csv
import json
import os
from collections import defaultdict
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from scipy.stats import spearmanr
from sklearn.metrics import brier_score_loss, cohen_kappa_score, confusion_matrix, roc_auc_score

from . import store
from .corpus import DATA_DIR, KINDS, LABELS, Example, load_messages, load_tickets, message_files, ticket_files
from .lexicon import lexicon_scores
from .predict import PUBLIC_NAMES, Analyzer
from .text import own_text

SLICES = ("role", "register", "industry", "non_native", "source")
GOLD_FILE = DATA_DIR / "eval" / "real-gold.jsonl"
SECOND_ANNOTATOR_FILE = DATA_DIR / "eval" / "real-gold-annotator2.jsonl"


def shared_dir() -> Path:
    """Where ../shared lives (TRUSTDESK_SHARED_DIR overrides, for other checkouts)."""
    return Path(os.environ.get("TRUSTDESK_SHARED_DIR") or Path(__file__).resolve().parents[2] / "shared")


def binary_metrics(y: Sequence[int], p: Sequence[float], threshold: float) -> dict[str, Any]:
    """Precision, recall, F1, ROC-AUC, Brier, expected calibration error and the confusion matrix."""
    y, p = np.asarray(y, dtype=int), np.asarray(p, dtype=float)
    pred = (p >= threshold).astype(int)
    tn, fp, fn, tp = confusion_matrix(y, pred, labels=[0, 1]).ravel()
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    both = len(set(y.tolist())) == 2
    return {
        "n": int(len(y)), "positives": int(y.sum()),
        "precision": round(precision, 3), "recall": round(recall, 3), "f1": round(f1, 3),
        "roc_auc": round(float(roc_auc_score(y, p)), 3) if both else None,
        "brier": round(float(brier_score_loss(y, p, pos_label=1)), 4) if len(y) else None,
        "ece": round(expected_calibration_error(y, p), 4) if len(y) else None,
        "confusion": {"tp": int(tp), "fp": int(fp), "fn": int(fn), "tn": int(tn)},
    }


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Mean |observed rate - predicted probability| over equal-width bins, weighted by size."""
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        mask = idx == b
        if mask.any():
            total += mask.sum() * abs(y[mask].mean() - p[mask].mean())
    return float(total / len(y))


def score_messages(analyzer: Analyzer, texts: Sequence[str], roles: Sequence[str]) -> list[dict]:
    """Analyse each text as a one-message ticket through the production path."""
    tickets = [{"id": str(i), "messages": [{"author_role": r, "body": t}], "history": None}
               for i, (t, r) in enumerate(zip(texts, roles))]
    return [a["messages"][0] for a in analyzer.analyze_many(tickets)]


def _scores(results: list[dict], name: str) -> np.ndarray:
    # An abstained message counts as "not flagged" (score 0) for the metrics.
    return np.array([r["scores"][name] if r["scores"][name] is not None else 0.0 for r in results])


def evaluate_examples(analyzer: Analyzer, examples: list[Example]) -> dict[str, Any]:
    """Model and lexicon metrics per label, overall and per slice, on labelled messages."""
    results = score_messages(analyzer, [e.text for e in examples], [e.role for e in examples])
    lexicon = [lexicon_scores(own_text(e.text), e.role) for e in examples]
    out: dict[str, Any] = {"abstained": sum(r["abstained"] for r in results), "labels": {}, "slices": {},
                           "kinds": kind_metrics([e.kinds for e in examples], results)}
    for internal in LABELS:
        name = PUBLIC_NAMES[internal]
        y = np.array([e.labels[internal] for e in examples])
        p = _scores(results, name)
        lex = np.array([s[internal] for s in lexicon])
        out["labels"][name] = {
            "model": binary_metrics(y, p, analyzer.thresholds[name]),
            "lexicon": binary_metrics(y, lex, 0.5),
            "span_hit_rate": span_hit_rate(examples, results, internal, name),
        }
        for slice_name in SLICES:
            groups: dict[str, list[int]] = defaultdict(list)
            for i, e in enumerate(examples):
                groups[str(getattr(e, slice_name))].append(i)
            out["slices"].setdefault(slice_name, {})
            for value, idx in sorted(groups.items()):
                if len(idx) >= 20:
                    out["slices"][slice_name].setdefault(value, {})[name] = {
                        "model": _short(binary_metrics(y[idx], p[idx], analyzer.thresholds[name])),
                        "lexicon": _short(binary_metrics(y[idx], lex[idx], 0.5)),
                    }
    return out


def _short(m: dict) -> dict:
    return {k: m[k] for k in ("n", "positives", "precision", "recall", "f1", "roc_auc")}


def span_hit_rate(examples: list[Example], results: list[dict], internal: str, name: str) -> float | None:
    """Share of flagged true positives whose spans overlap the annotated evidence."""
    hits = total = 0
    for e, r in zip(examples, results):
        spans = [s for s in r["spans"] if s["label"] == name]
        if not spans or internal not in e.evidence:
            continue
        total += 1
        for ev in e.evidence[internal]:
            start = e.text.find(ev)
            if any(s["start"] < start + len(ev) and start < s["end"] for s in spans):
                hits += 1
                break
    return round(hits / total, 3) if total else None


def kind_metrics(true_kinds: Sequence[Sequence[str]], results: list[dict]) -> dict[str, Any]:
    """How well the kinds shown on flagged escalating messages match their labelled kinds.

    Only messages that truly escalate and were flagged count: there the product
    names kinds, and a wrong kind sends a team lead after the wrong threat.
    Micro precision and recall over (message, kind) pairs, the share of messages
    whose kinds are exactly right, and precision and recall per kind.
    """
    pairs = [(set(kinds), {k["kind"] for k in r["escalation_kinds"]})
             for kinds, r in zip(true_kinds, results) if kinds and "escalation_risk" in r["flags"]]

    def pr(true_pos: int, shown: int, labelled: int) -> dict[str, Any]:
        precision = true_pos / shown if shown else 0.0
        recall = true_pos / labelled if labelled else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {"precision": round(precision, 3), "recall": round(recall, 3), "f1": round(f1, 3)}

    per_kind = {}
    for kind in KINDS:
        labelled = sum(kind in t for t, _ in pairs)
        per_kind[kind] = {"labelled": labelled, **pr(sum(kind in t and kind in p for t, p in pairs),
                                                     sum(kind in p for _, p in pairs), labelled)}
    return {"messages": len(pairs),
            "exact": round(sum(t == p for t, p in pairs) / len(pairs), 3) if pairs else None,
            **pr(sum(len(t & p) for t, p in pairs), sum(len(p) for _, p in pairs), sum(len(t) for t, _ in pairs)),
            "per_kind": per_kind}


def evaluate_tickets(analyzer: Analyzer, tickets: list[dict]) -> dict[str, Any]:
    """Ticket-level escalation on labelled tickets."""
    from .ticket import load_ticket

    analyses = analyzer.analyze_many([load_ticket({k: v for k, v in t.items() if k != "labels"}) for t in tickets])
    y = [int(t["labels"]["escalation"]) for t in tickets]
    p = [a["scores"]["escalation_risk"] or 0.0 for a in analyses]
    return {"escalation_risk": binary_metrics(y, p, analyzer.threshold_for("escalation_risk"))}


def evaluate_heldout(objects: dict, manifest: dict, data_dir: Path = DATA_DIR) -> dict[str, Any]:
    """Metrics on the held-out split for freshly trained objects (used by train)."""
    from .train import split_corpus, split_tickets

    analyzer = Analyzer(store.StoredModel(objects, manifest, Path(".")))
    examples = load_messages(message_files(data_dir))
    held, _ = split_corpus(examples)
    test = [e for e, h in zip(examples, held) if h]
    _, held_tickets = split_tickets(load_tickets(ticket_files(data_dir)))
    messages = evaluate_examples(analyzer, test)
    tickets = evaluate_tickets(analyzer, held_tickets) if held_tickets else {}
    summary = {name: {"model": _short(m["model"]) | {"brier": m["model"]["brier"]},
                      "lexicon": _short(m["lexicon"])} for name, m in messages["labels"].items()}
    summary["kinds"] = {k: v for k, v in messages["kinds"].items() if k != "per_kind"}
    if tickets:
        summary["ticket_escalation_risk"] = _short(tickets["escalation_risk"]) | {"brier": tickets["escalation_risk"]["brier"]}
    return {"summary": summary, "messages": messages, "tickets": tickets}


# --- real public text (kept in ../shared, never trained on) ---------------------

def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _gold_texts(shared: Path) -> dict[tuple[str, str], str]:
    texts: dict[tuple[str, str], str] = {}
    with open(shared / "data/external/twcs-sample/twcs_sample_5000.csv", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            texts[("twcs", row["tweet_id"])] = row["text"]
    for conv in json.loads((shared / "data/external/ibm-twitter-customer-care/test.json").read_text(encoding="utf-8")):
        session = conv["dialogHeader"]["sessionID"]
        for i, turn in enumerate(conv["dialogContent"]):
            texts[("ibm-test", f"{session}:{i}")] = turn["message"]
        texts[("ibm-test", f"{session}:u")] = conv["agentURL"]["url_utterance"]
    return texts


def evaluate_gold(analyzer: Analyzer, shared: Path) -> dict[str, Any]:
    """F1 per label on our hand-labelled real tweets and IBM conversations."""
    gold = _read_jsonl(GOLD_FILE)
    texts = _gold_texts(shared)
    rows = [g for g in gold if (g["source"], str(g["ref"])) in texts]
    results = score_messages(analyzer, [texts[(g["source"], str(g["ref"]))] for g in rows], [g["role"] for g in rows])
    lexicon = [lexicon_scores(texts[(g["source"], str(g["ref"]))], g["role"]) for g in rows]
    out: dict[str, Any] = {"n": len(rows), "missing": len(gold) - len(rows), "labels": {}}
    for internal in LABELS:
        name = PUBLIC_NAMES[internal]
        y = np.array([int(g[internal]) for g in rows])
        p = _scores(results, name)
        lex = np.array([s[internal] for s in lexicon])
        entry = {"model": binary_metrics(y, p, analyzer.thresholds[name]), "lexicon": _short(binary_metrics(y, lex, 0.5))}
        for source in sorted({g["source"] for g in rows}):
            idx = [i for i, g in enumerate(rows) if g["source"] == source]
            entry[source] = _short(binary_metrics(y[idx], p[idx], analyzer.thresholds[name]))
        out["labels"][name] = entry
    out["kinds"] = kind_metrics([g.get("kinds") or [] for g in rows], results)
    out["agreement"] = annotator_agreement(gold)
    return out


def annotator_agreement(gold: list[dict]) -> dict[str, Any] | None:
    """Cohen's kappa per label between our two independent annotators of the gold set."""
    if not SECOND_ANNOTATOR_FILE.is_file():
        return None
    second = {(g["source"], str(g["ref"])): g for g in _read_jsonl(SECOND_ANNOTATOR_FILE)}
    pairs = [(g, second[(g["source"], str(g["ref"]))]) for g in gold if (g["source"], str(g["ref"])) in second]
    out: dict[str, Any] = {"n": len(pairs)}
    for internal in LABELS:
        a = [int(p[0][internal]) for p in pairs]
        b = [int(p[1][internal]) for p in pairs]
        out[PUBLIC_NAMES[internal]] = round(float(cohen_kappa_score(a, b)), 3) if len(set(a) | set(b)) > 1 else None
    return out


def evaluate_xci(analyzer: Analyzer, shared: Path) -> dict[str, Any]:
    """Customer blame ROC-AUC (severity 3-4 vs rest) and escalation false alarms on calm complaints."""
    with open(shared / "data/external/complaints-xci/xci_dataset.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    results = score_messages(analyzer, [r["tweet"] for r in rows], ["customer"] * len(rows))
    severity = np.array([int(float(r["Severity"] or 0)) for r in rows])
    blame = _scores(results, "blame")
    esc_flag = np.array(["escalation_risk" in r["flags"] for r in results])
    blame_flag = np.array(["blame" in r["flags"] for r in results])
    calm = (severity == 1) | (severity == 2)
    accusing = severity >= 3
    return {
        "n": len(rows),
        "blame_roc_auc_sev34_vs_rest": round(float(roc_auc_score(accusing.astype(int), blame)), 3),
        "blame_flag_rate_sev34": round(float(blame_flag[accusing].mean()), 3),
        "blame_flag_rate_non_complaints": round(float(blame_flag[severity == 0].mean()), 3),
        "escalation_fpr_calm_sev12": round(float(esc_flag[calm].mean()), 3),
        "escalation_flag_rate_non_complaints": round(float(esc_flag[severity == 0].mean()), 3),
    }


def evaluate_politeness(analyzer: Analyzer, shared: Path) -> dict[str, Any]:
    """Construct check: impolite requests should score higher on blame (Spearman < 0).

    Only requests the corpus did not train on are used.
    """
    trained = {e.id for e in load_messages(message_files()) if e.source.startswith("politeness")}
    texts, politeness = [], []
    for name, tag in (("wikipedia", "wiki"), ("stack-exchange", "se")):
        with open(shared / f"data/external/stanford-politeness/{name}.annotated.csv", encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                site = "" if tag == "wiki" else row["Community"].split(" ", 1)[-1].lower().replace(" ", "") + "-"
                if f"pol-{tag}-{site}{row['Id']}" in trained or f"pol-{tag}-{row['Id']}" in trained:
                    continue
                texts.append(row["Request"])
                politeness.append(float(row["Normalized Score"]))
    blame = _scores(score_messages(analyzer, texts, ["customer"] * len(texts)), "blame")
    rho = spearmanr(blame, politeness).statistic
    return {"n": len(texts), "spearman_blame_vs_politeness": round(float(rho), 3)}


def evaluate_real(analyzer: Analyzer, shared: Path | None = None) -> dict[str, Any]:
    """All real-text measurements, or the reason they were skipped."""
    shared = shared or shared_dir()
    if not (shared / "data/external").is_dir():
        return {"skipped": f"real text not found at {shared}/data/external (set TRUSTDESK_SHARED_DIR)"}
    return {"gold": evaluate_gold(analyzer, shared), "xci": evaluate_xci(analyzer, shared),
            "politeness": evaluate_politeness(analyzer, shared)}


def evaluate(model_path: str | Path | None = None, data_dir: Path = DATA_DIR, real: bool = True) -> dict[str, Any]:
    """The full evaluation report of a saved model."""
    stored = store.load(model_path)
    report = evaluate_heldout(stored.objects, stored.manifest, data_dir)
    report["model_version"] = stored.manifest.get("model_version")
    report["thresholds"] = stored.manifest.get("thresholds")
    if real:
        report["real"] = evaluate_real(Analyzer(stored))
    return report


def format_report(report: dict[str, Any]) -> str:
    """A readable text version of the report."""
    lines = [f"model {report.get('model_version')}  thresholds {report.get('thresholds')}", "",
             "held-out split (messages)           model: P     R     F1    AUC   Brier | lexicon: P     R     F1"]
    for name, m in report["messages"]["labels"].items():
        mm, lx = m["model"], m["lexicon"]
        lines.append(f"  {name:<16} n={mm['n']:<5} pos={mm['positives']:<5} {mm['precision']:.3f} {mm['recall']:.3f} "
                     f"{mm['f1']:.3f} {mm['roc_auc'] or 0:.3f} {mm['brier']:.3f} | {lx['precision']:.3f} {lx['recall']:.3f} "
                     f"{lx['f1']:.3f}   spans hit {m['span_hit_rate']}")
    kinds = report["messages"].get("kinds")
    if kinds and kinds["messages"]:
        lines.append(f"  {_kind_line(kinds)}")
    if report.get("tickets"):
        t = report["tickets"]["escalation_risk"]
        lines.append(f"  ticket escalation n={t['n']} pos={t['positives']} P={t['precision']} R={t['recall']} "
                     f"F1={t['f1']} AUC={t['roc_auc']} Brier={t['brier']}")
    lines.append("")
    lines.append("per slice (model F1 / lexicon F1)")
    for slice_name, values in report["messages"]["slices"].items():
        for value, labels in values.items():
            cells = "  ".join(f"{n}={v['model']['f1']:.2f}/{v['lexicon']['f1']:.2f}" for n, v in labels.items())
            lines.append(f"  {slice_name}={value:<14} {cells}")
    real = report.get("real")
    if real:
        lines.append("")
        if "skipped" in real:
            lines.append(f"real text: skipped ({real['skipped']})")
        else:
            gold = real["gold"]
            lines.append(f"real text, hand-labelled gold set (n={gold['n']})")
            for name, m in gold["labels"].items():
                mm = m["model"]
                lines.append(f"  {name:<16} pos={mm['positives']:<4} P={mm['precision']} R={mm['recall']} F1={mm['f1']} "
                             f"AUC={mm['roc_auc']} Brier={mm['brier']} ECE={mm['ece']} | lexicon F1={m['lexicon']['f1']}")
            if gold.get("kinds") and gold["kinds"]["messages"]:
                lines.append(f"  {_kind_line(gold['kinds'])}")
            if gold.get("agreement"):
                lines.append(f"  annotator agreement (Cohen's kappa): {json.dumps(gold['agreement'])}")
            lines.append(f"  complaints-xci: {json.dumps(real['xci'])}")
            lines.append(f"  politeness (construct check): {json.dumps(real['politeness'])}")
    return "\n".join(lines)


def _kind_line(kinds: dict[str, Any]) -> str:
    return (f"kinds on flagged escalating messages (n={kinds['messages']}): exact {kinds['exact']} "
            f"P={kinds['precision']} R={kinds['recall']} F1={kinds['f1']}")

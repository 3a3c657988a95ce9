"""Train a new model from the console: the corpus plus the leads' confirmed feedback, in the background.

A run is a row in `training_runs` that the admin page polls for progress. The
corpus is TRUSTDESK_TRAINING_DATA_DIR (default: the shipped models/data), and
every flag a lead confirmed or called wrong becomes an extra labelled message
(the message's stored flags, with the lead's verdict on that label). The new
artifact lands in <data_dir>/models/<version>, where the versions page finds
it; it is not activated: an admin compares and activates it.

Training runs in a thread of the process that started it (minutes on the full
corpus would hold up the one job consumer's write-backs); a run whose process
died is shown as interrupted once its heartbeat is older than STALE_AFTER.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import corpus, store
from models.train import train

from .storage import Analysis, Feedback, Message, TrainingRun, utcnow

log = logging.getLogger("trustdesk.training")
STALE_AFTER = timedelta(minutes=10)
FEEDBACK_FILE = "zz-console-feedback.jsonl"
# train() reports its stages in this order; each maps to a share of the work done.
STAGES = (("corpus:", 15, "corpus loaded"), ("training messages:", 25, "training the message model"),
          ("training tickets:", 70, "training the ticket model and evaluating"), ("saved", 95, "saved"))
LABEL_OF = {"blame": "blame", "deflection": "deflection", "escalation_risk": "escalation"}


class TrainingBusy(RuntimeError):
    """Another run is still going; one at a time."""


def corpus_dir(settings: Any) -> Path:
    """The corpus to train on: TRUSTDESK_TRAINING_DATA_DIR or the shipped one."""
    return Path(settings.training_data_dir) if settings.training_data_dir else corpus.DATA_DIR


def _verdicts(session: Session) -> dict[tuple[int, int, str], int]:
    """(ticket, message position, label) -> 1 confirmed / 0 wrong; the latest verdict wins."""
    verdicts: dict[tuple[int, int, str], int] = {}
    rows = session.scalars(select(Feedback).where(Feedback.kind.in_(("flag_confirmed", "flag_wrong")))
                           .order_by(Feedback.id)).all()
    for row in rows:
        label, index = (row.value or {}).get("label"), (row.value or {}).get("message_index")
        if label not in LABEL_OF:
            continue
        analysis = session.scalar(select(Analysis.result).where(Analysis.ticket_id == row.ticket_id)
                                  .order_by(Analysis.id.desc()).limit(1)) or {}
        messages = analysis.get("messages") or []
        targets = [index] if isinstance(index, int) else [m["index"] for m in messages if label in (m.get("flags") or [])]
        for position in targets:
            verdicts[(row.ticket_id, position, label)] = int(row.kind == "flag_confirmed")
    return verdicts


def feedback_examples(session: Session) -> list[dict[str, Any]]:
    """Corpus lines (models/data/FORMAT.md) from the leads' verdicts on flags; messages without text are skipped."""
    by_message: dict[tuple[int, int], dict[str, int]] = {}
    for (ticket_id, position, label), verdict in _verdicts(session).items():
        by_message.setdefault((ticket_id, position), {})[label] = verdict
    lines = []
    for (ticket_id, position), verdicts in sorted(by_message.items()):
        body = session.scalar(select(Message.body).where(Message.ticket_id == ticket_id, Message.position == position))
        role = session.scalar(select(Message.author_role).where(Message.ticket_id == ticket_id, Message.position == position))
        analysis = session.scalar(select(Analysis.result).where(Analysis.ticket_id == ticket_id)
                                  .order_by(Analysis.id.desc()).limit(1)) or {}
        scored = next((m for m in analysis.get("messages") or [] if m.get("index") == position), {})
        if not body or not body.strip() or role not in corpus.ROLES:
            continue
        flags = set(scored.get("flags") or [])
        labels = {LABEL_OF[name]: int(verdicts.get(name, name in flags)) for name in LABEL_OF}
        kinds = sorted({k["kind"] for k in scored.get("escalation_kinds") or []}) if labels["escalation"] else []
        if labels["escalation"] and not kinds:
            if "escalation_risk" in verdicts:
                continue  # a confirmed escalation needs its kind, which only the model's flag gives
            labels["escalation"] = 0
        lines.append({"id": f"feedback-{ticket_id}-{position}", "group": f"feedback-ticket-{ticket_id}", "text": body,
                      "role": role, **labels, "kinds": kinds, "source": "feedback"})
    return lines


def build_corpus(source: Path, extra: list[dict[str, Any]], target: Path) -> Path:
    """A corpus directory: the source's files copied, plus the feedback lines as one more message file."""
    for sub in ("messages", "real", "tickets"):
        if (source / sub).is_dir():
            shutil.copytree(source / sub, target / sub)
    (target / "messages").mkdir(parents=True, exist_ok=True)
    if extra:
        (target / "messages" / FEEDBACK_FILE).write_text(
            "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in extra), encoding="utf-8")
    return target


def start(services: Any, actor: str, background: bool = True) -> int:
    """Start a training run (refused while another one runs); its id."""
    with services.sessions.begin() as session:
        busy = session.scalars(select(TrainingRun).where(TrainingRun.status.in_(("queued", "running")))).all()
        if any(not _stale(run) for run in busy):
            raise TrainingBusy("a training run is already in progress")
        for run in busy:
            run.status, run.message = "interrupted", "the process running it stopped"
        source = corpus_dir(services.settings)
        if not (source / "messages").is_dir():
            raise FileNotFoundError(f"no corpus at {source} (TRUSTDESK_TRAINING_DATA_DIR): it needs a messages/ folder")
        run = TrainingRun(status="queued", progress=0, actor=actor, message="queued")
        session.add(run)
        session.flush()
        run_id = run.id
    if background:
        threading.Thread(target=run_training, args=(services, run_id), name=f"training-{run_id}", daemon=True).start()
    else:
        run_training(services, run_id)
    return run_id


def _stale(run: TrainingRun) -> bool:
    from .storage import as_utc

    return utcnow() - as_utc(run.updated_at) > STALE_AFTER


def _update(services: Any, run_id: int, **values: Any) -> None:
    with services.sessions.begin() as session:
        run = session.get(TrainingRun, run_id)
        for key, value in values.items():
            setattr(run, key, value)
        run.updated_at = utcnow()


def _progress(services: Any, run_id: int, text: str) -> None:
    """Turn one of train()'s progress lines into a percentage and a message on the run."""
    for prefix, percent, label in STAGES:
        if text.startswith(prefix):
            _update(services, run_id, progress=percent, message=f"{label} ({text})")
            return


def run_training(services: Any, run_id: int) -> None:
    """Train, save under <data_dir>/models/<version> and register it; the run row says how it went."""
    from .versions import register

    models_dir = Path(services.settings.data_dir) / "models"
    models_dir.mkdir(parents=True, exist_ok=True)
    try:
        with services.sessions() as session:
            extra = feedback_examples(session)
        _update(services, run_id, status="running", progress=5, feedback_rows=len(extra),
                message=f"preparing the corpus (+{len(extra)} message(s) from feedback)")
        with tempfile.TemporaryDirectory(prefix="trustdesk-corpus-") as tmp:
            data = build_corpus(corpus_dir(services.settings), extra, Path(tmp))
            out = Path(tempfile.mkdtemp(prefix=f".training-{run_id}-", dir=models_dir))
            manifest = train(data, out, progress=lambda text: _progress(services, run_id, text))
        version = manifest["model_version"]
        final = models_dir / version
        if final.exists():
            shutil.rmtree(out)  # the same corpus and seed made the same bytes before
        else:
            out.rename(final)
        with services.sessions.begin() as session:
            register(session, final)
        _update(services, run_id, status="done", progress=100, version=version, finished_at=utcnow(),
                message=f"trained {version}: compare it with the active model, then activate it")
    except Exception as exc:  # any failure ends the run with its reason for the page, never a dead thread
        log.exception("training run %s failed", run_id)
        _update(services, run_id, status="failed", finished_at=utcnow(), message=f"{type(exc).__name__}: {exc}"[:2000])


def describe(run: TrainingRun) -> dict[str, Any]:
    """A run as the page shows it."""
    status = "interrupted" if run.status in ("queued", "running") and _stale(run) else run.status
    return {"id": run.id, "status": status, "progress": run.progress, "message": run.message, "actor": run.actor,
            "feedback_rows": run.feedback_rows, "version": run.version,
            "started_at": run.started_at.isoformat() if run.started_at else None,
            "finished_at": run.finished_at.isoformat() if run.finished_at else None}


def recent(session: Session, limit: int = 5) -> list[dict[str, Any]]:
    """The latest runs, newest first."""
    return [describe(r) for r in session.scalars(select(TrainingRun).order_by(TrainingRun.id.desc()).limit(limit))]


def artifact_ok(path: str) -> bool:
    """Whether a model directory still verifies (for the versions table)."""
    try:
        store.verify(Path(path), store.read_manifest(Path(path)))
    except store.ModelError:
        return False
    return True

"""Admin model pages: versions side by side, training with progress, activate, roll back, shadow mode (thin views)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for

from .. import runtime, shadow, training, versions
from ..services import services
from ..storage import TrainingRun
from .auth import current_user, error_pages, role_required

bp = Blueprint("console_models", __name__, url_prefix="/console/admin/models")
error_pages(bp)
# The columns of the versions table; "kinds" are the escalation kinds shown on flagged escalating messages.
METRIC_LABELS = ("blame", "deflection", "escalation_risk", "ticket_escalation_risk", "kinds")


@bp.before_request
@role_required("admin")
def _admins_only() -> None:
    """Admins only; follow activations made by other workers."""
    runtime.refresh(services())


def _actor() -> str:
    user = current_user()
    return f"console:{user.username}" if user else "console"


def _metrics(manifest: dict) -> dict[str, dict]:
    """Held-out precision, recall, F1 and AUC per label from a manifest's metrics."""
    found = manifest.get("metrics") or {}
    out = {}
    for label in METRIC_LABELS:
        entry = found.get(label) or {}
        entry = entry.get("model", entry)
        out[label] = {k: entry.get(k) for k in ("precision", "recall", "f1", "roc_auc", "n", "positives")}
    return out


@bp.get("/")
def models():
    """Every known version with its metrics side by side, the training runs and the shadow comparison."""
    s = services()
    with s.sessions.begin() as session:
        versions.scan(session, s.settings.data_dir)
        current = versions.active(session)
        rows = [{"version": r.version, "active": current is not None and r.id == current.id,
                 "registered_at": r.registered_at, "activated_at": r.activated_at,
                 "training": (r.manifest or {}).get("training_data") or {}, "metrics": _metrics(r.manifest or {})}
                for r in versions.listing(session)]
        runs = training.recent(session)
        candidate = shadow.candidate(session)
        comparison = shadow.report(session, candidate)
    return render_template("console/admin_models.html", nav_active="admin", rows=rows, runs=runs, labels=METRIC_LABELS,
                           candidate=candidate, comparison=comparison,
                           corpus=str(training.corpus_dir(s.settings)))


@bp.post("/train")
def train():
    """Start training from the corpus plus confirmed feedback; the page polls its progress."""
    try:
        run_id = training.start(services(), _actor())
    except training.TrainingBusy as exc:
        abort(409, str(exc))
    except FileNotFoundError as exc:
        abort(400, str(exc))
    flash(f"Training run {run_id} started.", "info")
    return redirect(url_for("console_models.models", run=run_id))


@bp.get("/runs/<int:run_id>.json")
def run_status(run_id: int):
    """One training run's status and progress, for the page to poll."""
    with services().sessions() as session:
        run = session.get(TrainingRun, run_id)
        if run is None:
            return jsonify({"error": f"no training run {run_id}"}), 404
        return jsonify(training.describe(run))


@bp.post("/activate")
def activate():
    """Make a version the active one (audited); every worker follows within seconds."""
    s = services()
    version = (request.form.get("version") or "").strip()
    if not version:
        abort(400, "say which version to activate")
    try:
        with s.sessions.begin() as session:
            versions.activate(session, version, _actor())
    except versions.VersionError as exc:
        abort(exc.status, str(exc))
    runtime.refresh(s, force=True)
    flash(f"Model {version} is now active.", "info")
    return redirect(url_for("console_models.models"))


@bp.post("/rollback")
def rollback():
    """Go back to the version active before the current one (audited)."""
    s = services()
    try:
        with s.sessions.begin() as session:
            previous = versions.rollback(session, _actor())
            version = previous.version
    except versions.VersionError as exc:
        abort(exc.status, str(exc))
    runtime.refresh(s, force=True)
    flash(f"Rolled back: model {version} is active again.", "info")
    return redirect(url_for("console_models.models"))


@bp.post("/shadow")
def set_shadow():
    """Run a candidate beside the active model on new analyses (and the latest ones now), or stop it."""
    s = services()
    version = (request.form.get("version") or "").strip() or None
    try:
        with s.sessions.begin() as session:
            shadow.set_candidate(session, version, _actor())
    except versions.VersionError as exc:
        abort(exc.status, str(exc))
    if version is None:
        flash("Shadow mode stopped.", "info")
    else:
        compared = shadow.compare_recent(s)
        flash(f"{version} runs in shadow: compared on {compared} recent ticket(s); new ones follow.", "info")
    return redirect(url_for("console_models.models"))

"""Admin pages: thresholds with their precision/recall curve, partner names, playbooks, integrations (thin views).

Models and training are in admin_models.py, the leads' trends page in
trends_view.py; BLUEPRINTS lists all three for plugin/console/__init__.py.
"""

from __future__ import annotations

import math

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for

from .. import alerts, curves, integration_status, jobs, playbook_files, runtime, training
from ..services import services
from ..storage import AuditEntry
from .admin_models import bp as models_bp
from .auth import current_user, error_pages, role_required
from .trends_view import bp as trends_bp

bp = Blueprint("console_admin", __name__, url_prefix="/console/admin")
error_pages(bp)
LABEL_TITLES = {"blame": "Blame (agent messages)", "deflection": "Deflection (agent messages)",
                "escalation_risk": "Escalation risk (per message)", "ticket_escalation_risk": "Escalation risk (whole ticket)"}
MAX_PARTNERS, MAX_PARTNER_LENGTH = 200, 100


@bp.before_request
@role_required("admin")
def _admins_only() -> None:
    """Every admin page needs the admin role; take on changes other workers made."""
    runtime.refresh(services())


def actor() -> str:
    """Who is acting, for the audit log."""
    user = current_user()
    return f"console:{user.username}" if user else "console"


@bp.get("/")
def index():
    """The admin home: where each setting lives."""
    return render_template("console/admin_index.html", nav_active="admin")


@bp.get("/thresholds")
def thresholds():
    """One slider per label, with the precision and recall it gives on the held-out split."""
    s = services()
    with s.sessions() as session:
        current = runtime.current_thresholds(session, s.analyzer)
        overrides = runtime.threshold_overrides(session)
    return render_template("console/admin_thresholds.html", nav_active="admin", current=current, overrides=overrides,
                           defaults=s.analyzer.manifest["thresholds"], titles=LABEL_TITLES, version=s.analyzer.version)


@bp.get("/thresholds/curve.json")
def threshold_curve():
    """The active model's precision/recall curves (202 while they are being computed)."""
    s = services()
    version = s.analyzer.version
    path = s.live.paths.get(version) if s.live else None
    with s.sessions() as session:
        from ..versions import active

        row = active(session)
        path = row.path if row is not None and row.version == version else path
    from models.store import DEFAULT_MODEL_DIR

    found = curves.curve(s.settings.data_dir, version, str(path or DEFAULT_MODEL_DIR), training.corpus_dir(s.settings))
    if found is None:
        return jsonify({"status": "computing", "model_version": version}), 202
    return jsonify({"status": "ready", **found})


def _parse_thresholds(form) -> dict[str, float | None]:
    """Thresholds from the form: a number in (0, 1) per label, or reset to the model's own."""
    values: dict[str, float | None] = {}
    for name in runtime.THRESHOLD_NAMES:
        if form.get(f"reset-{name}"):
            values[name] = None
            continue
        raw = (form.get(name) or "").strip()
        if not raw:
            continue
        try:
            value = float(raw)
        except ValueError:
            abort(400, f"{name}: {raw!r} is not a number")
        if not math.isfinite(value) or not 0 < value < 1:
            abort(400, f"{name}: a threshold is a number between 0 and 1, got {raw}")
        values[name] = round(value, 4)
    return values


@bp.post("/thresholds")
def save_thresholds():
    """Save the thresholds (audited); flags in the queue, API and notes follow at once."""
    s = services()
    values = _parse_thresholds(request.form)
    with s.sessions.begin() as session:
        model_own = s.analyzer.manifest["thresholds"]
        overrides = runtime.threshold_overrides(session)
        for name, value in values.items():
            if value is None or value == model_own.get(name):
                overrides.pop(name, None)
            else:
                overrides[name] = value
        runtime.write_setting(session, runtime.THRESHOLDS, overrides, actor())
    runtime.refresh(s)
    flash("Thresholds saved: the queue now flags with them.", "info")
    return redirect(url_for("console_admin.thresholds"))


@bp.route("/partners", methods=["GET", "POST"])
def partners():
    """The deployment's partner and third-party names (common ones such as Expedia are always known)."""
    s = services()
    if request.method == "POST":
        names = list(dict.fromkeys(n.strip() for n in (request.form.get("names") or "").splitlines() if n.strip()))
        if len(names) > MAX_PARTNERS or any(len(n) > MAX_PARTNER_LENGTH for n in names):
            abort(400, f"at most {MAX_PARTNERS} names of at most {MAX_PARTNER_LENGTH} characters each")
        with s.sessions.begin() as session:
            runtime.write_setting(session, runtime.PARTNERS, {"names": names}, actor())
        runtime.refresh(s)
        flash(f"Saved {len(names)} partner name(s).", "info")
        return redirect(url_for("console_admin.partners"))
    with s.sessions() as session:
        names = runtime.partner_names(session, s.settings.partners)
        from_admin = runtime.read_setting(session, runtime.PARTNERS) is not None
    return render_template("console/admin_partners.html", nav_active="admin", names=names, from_admin=from_admin)


@bp.get("/playbooks")
def playbooks():
    """Every playbook, edited or shipped."""
    return render_template("console/admin_playbooks.html", nav_active="admin",
                           playbooks=playbook_files.listing(services().settings.data_dir))


def _playbook_page(name: str, text: str, status: int = 200, error: str | None = None, preview: dict | None = None,
                   sample: int = 0):
    samples = [{"index": i, "subject": t.get("subject") or t["id"]} for i, t in enumerate(playbook_files.samples())]
    return render_template("console/admin_playbook.html", nav_active="admin", name=name, text=text, error=error,
                           preview=preview, samples=samples, sample=sample), status


@bp.get("/playbooks/<name>")
def playbook(name: str):
    """One playbook's file in a textarea."""
    try:
        text = playbook_files.read(services().settings.data_dir, name)
    except playbook_files.PlaybookInputError as exc:
        abort(404, str(exc))
    return _playbook_page(name, text)[0]


@bp.post("/playbooks/<name>")
def playbook_action(name: str):
    """Validate, preview on a sample ticket, save (over the shipped file, under the data dir) or revert."""
    s = services()
    action, text = request.form.get("action", "validate"), request.form.get("text", "").replace("\r\n", "\n")
    try:
        sample = int(request.form.get("sample", "0"))
        playbook_files.check_name(name)
        if action == "revert":
            reverted = playbook_files.revert(s.settings.data_dir, name)
            _audit("playbook.revert", {"name": name})
            _playbooks_changed(name)
            flash("Back to the shipped playbook." if reverted else "This playbook had no edits.", "info")
            return redirect(url_for("console_admin.playbook", name=name))
        parsed = playbook_files.validate(name, text)
        if action == "save":
            playbook_files.save(s.settings.data_dir, name, text)
            _audit("playbook.save", {"name": name})
            _playbooks_changed(name)
            flash(f"Saved {name}: guidance uses it from now on.", "info")
            return redirect(url_for("console_admin.playbook", name=name))
        preview = playbook_files.preview(s.guidance, parsed, sample) if action == "preview" else None
        if action == "validate":
            flash(f"{name} is valid.", "info")
        return _playbook_page(name, text, preview=preview, sample=sample)
    except ValueError as exc:  # PlaybookError, PlaybookInputError, a bad sample number
        return _playbook_page(name, text, 400, error=str(exc))


def _playbooks_changed(name: str) -> None:
    """Bump the playbooks' revision, so every worker (and the job consumer) reloads them, this one at once."""
    s = services()
    with s.sessions.begin() as session:
        runtime.write_setting(session, runtime.PLAYBOOKS, {"changed": name}, actor(), audit=False)
    runtime.refresh(s, force=True)


def _audit(action: str, detail: dict) -> None:
    with services().sessions.begin() as session:
        session.add(AuditEntry(actor=actor(), action=action, detail=detail))


@bp.get("/integrations")
def integrations():
    """Per integration: configured or dry-run, the last webhook, failures and dead write-backs; recent alerts."""
    s = services()
    with s.sessions() as session:
        overview = integration_status.overview(session, s.adapters)
        recent_alerts = alerts.recent(session)
    return render_template("console/admin_integrations.html", nav_active="admin", overview=overview,
                           dead=jobs.dead(s), alerts=recent_alerts, alert_channels=alerts.channels(s.settings))


@bp.post("/integrations/jobs/<int:job_id>/retry")
def retry_job(job_id: int):
    """Give a dead write-back a fresh set of attempts (audited)."""
    s = services()
    try:
        jobs.retry_dead(s, job_id, s.write_back_task or (lambda *_: None))
    except jobs.NoSuchJob as exc:
        abort(404, str(exc))
    except jobs.NotDead as exc:
        abort(409, str(exc))
    _audit("job.retry", {"job_id": job_id})
    flash(f"Write-back {job_id} queued again.", "info")
    return redirect(url_for("console_admin.integrations"))


@bp.post("/integrations/alerts/<int:alert_id>/retry")
def retry_alert(alert_id: int):
    """Send a failed lead alert again, on the channels that failed (audited)."""
    try:
        alerts.retry(services(), alert_id)
    except alerts.NoSuchAlert as exc:
        abort(404, str(exc))
    except alerts.NotFailed as exc:
        abort(409, str(exc))
    _audit("alert.retry", {"alert_id": alert_id})
    flash(f"Alert {alert_id} queued to be sent again.", "info")
    return redirect(url_for("console_admin.integrations"))


# Registered by plugin/console/__init__.py, in this order.
BLUEPRINTS = [trends_bp, bp, models_bp]

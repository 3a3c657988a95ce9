"""Admin endpoints: thresholds and partner names, model versions, dead write-backs, failed lead alerts,
customer export and erase.

Every change is written to the audit log with the calling token's name.
"""

from __future__ import annotations

from .. import alerts, jobs, privacy, runtime, versions
from ..schemas import (AlertsQuery, AlertsResponse, CustomerExportResponse, DeadJobsResponse, EraseResponse,
                       ModelsResponse, PartnersRequest, PartnersResponse, RetryResponse, ThresholdsRequest,
                       ThresholdsResponse)
from ..services import services
from ..storage import AuditEntry
from . import ApiError, actor, bp, endpoint


def _thresholds_view(session) -> dict:
    analyzer = services().analyzer
    return {"thresholds": runtime.current_thresholds(session, analyzer), "model_defaults": analyzer.manifest["thresholds"],
            "overrides": runtime.threshold_overrides(session), "model_version": analyzer.version}


@bp.get("/admin/thresholds")
@endpoint("admin", response=ThresholdsResponse)
def get_thresholds():
    """The thresholds in force, the active model's own, and the overrides."""
    with services().sessions() as session:
        return _thresholds_view(session)


@bp.put("/admin/thresholds")
@endpoint("admin", body=ThresholdsRequest, response=ThresholdsResponse, errors=(400, 422))
def put_thresholds(data: dict):
    """Set thresholds for some labels (null: back to the model's own); flags change at once everywhere."""
    s = services()
    with s.sessions.begin() as session:
        overrides = {} if data["replace"] else runtime.threshold_overrides(session)
        for name, value in data["thresholds"].items():
            if value is None:
                overrides.pop(name, None)
            else:
                overrides[name] = value
        runtime.write_setting(session, runtime.THRESHOLDS, overrides, actor())
    runtime.refresh(s)
    with s.sessions() as session:
        return _thresholds_view(session)


def _partners_view(session) -> dict:
    s = services()
    stored = runtime.read_setting(session, runtime.PARTNERS)
    return {"names": runtime.partner_names(session, s.settings.partners), "source": "settings" if stored is None else "admin"}


@bp.get("/admin/partners")
@endpoint("admin", response=PartnersResponse)
def get_partners():
    """The deployment's partner names (common names such as Expedia are always known as well)."""
    with services().sessions() as session:
        return _partners_view(session)


@bp.put("/admin/partners")
@endpoint("admin", body=PartnersRequest, response=PartnersResponse, errors=(400, 422))
def put_partners(data: dict):
    """Replace the deployment's partner names; guidance uses them from the next request on."""
    s = services()
    names = list(dict.fromkeys(n.strip() for n in data["names"] if n.strip()))
    with s.sessions.begin() as session:
        runtime.write_setting(session, runtime.PARTNERS, {"names": names}, actor())
    runtime.refresh(s)
    with s.sessions() as session:
        return _partners_view(session)


def _models_view() -> dict:
    s = services()
    with s.sessions.begin() as session:
        versions.scan(session, s.settings.data_dir)  # models trained since the start show up too
        current = versions.active(session)
        rows = versions.listing(session)
        return {"active": current.version if current else None,
                "models": [{"version": r.version, "path": r.path, "active": current is not None and r.id == current.id,
                            "registered_at": r.registered_at, "activated_at": r.activated_at, "manifest": r.manifest}
                           for r in rows]}


@bp.get("/admin/models")
@endpoint("admin", response=ModelsResponse)
def list_models():
    """Known model versions with their manifest metrics, and which one is active."""
    return _models_view()


@bp.post("/admin/models/<version>/activate")
@endpoint("admin", response=ModelsResponse, errors=(404, 409))
def activate_model(version: str):
    """Make a model version the active one; every worker loads it at its next request (within seconds)."""
    s = services()
    try:
        with s.sessions.begin() as session:
            versions.activate(session, version, actor())
    except versions.VersionError as exc:
        raise ApiError(exc.status, "not found" if exc.status == 404 else "conflict", str(exc)) from None
    runtime.refresh(s, force=True)
    return _models_view()


@bp.post("/admin/models/rollback")
@endpoint("admin", response=ModelsResponse, errors=(409,))
def rollback_model():
    """Go back to the model version that was active before the current one."""
    s = services()
    try:
        with s.sessions.begin() as session:
            versions.rollback(session, actor())
    except versions.VersionError as exc:
        raise ApiError(exc.status, "conflict", str(exc)) from None
    runtime.refresh(s, force=True)
    return _models_view()


@bp.get("/admin/jobs/dead")
@endpoint("admin", response=DeadJobsResponse)
def dead_jobs():
    """Write-backs that ran out of attempts, newest first."""
    return {"jobs": jobs.dead(services())}


@bp.post("/admin/jobs/<int:job_id>/retry")
@endpoint("admin", response=RetryResponse, status=202, errors=(404, 409))
def retry_job(job_id: int):
    """Give a dead write-back a fresh set of attempts (404: no such job; 409: it is not dead)."""
    s = services()
    try:
        jobs.retry_dead(s, job_id, s.write_back_task or (lambda *_: None))
    except jobs.NoSuchJob as exc:
        raise ApiError(404, "not found", str(exc)) from None
    except jobs.NotDead as exc:
        raise ApiError(409, "conflict", str(exc)) from None
    with s.sessions.begin() as session:
        session.add(AuditEntry(actor=actor(), action="job.retry", detail={"job_id": job_id}))
    return {"id": job_id, "status": "pending"}


@bp.get("/admin/alerts")
@endpoint("admin", query=AlertsQuery, response=AlertsResponse, errors=(422,))
def list_alerts(params: dict):
    """Lead alerts, newest first (?status=failed for those the queue gave up on)."""
    with services().sessions() as session:
        return {"alerts": alerts.recent(session, params["limit"], params["status"])}


@bp.post("/admin/alerts/<int:alert_id>/retry")
@endpoint("admin", response=RetryResponse, status=202, errors=(404, 409))
def retry_alert(alert_id: int):
    """Send a failed lead alert again, on the channels that failed (404: no such alert; 409: it is not failed)."""
    s = services()
    try:
        alerts.retry(s, alert_id)
    except alerts.NoSuchAlert as exc:
        raise ApiError(404, "not found", str(exc)) from None
    except alerts.NotFailed as exc:
        raise ApiError(409, "conflict", str(exc)) from None
    with s.sessions.begin() as session:
        session.add(AuditEntry(actor=actor(), action="alert.retry", detail={"alert_id": alert_id}))
    return {"id": alert_id, "status": "pending"}


@bp.get("/admin/customers/<source>/<customer_id>/export")
@endpoint("admin", response=CustomerExportResponse, errors=(404,))
def export_customer(source: str, customer_id: str):
    """Everything stored about one customer (audited)."""
    with services().sessions.begin() as session:
        data = privacy.export(session, customer_id, source)
        if data is None:
            raise ApiError(404, "not found", f"no customer {customer_id!r} from {source!r}")
        session.add(AuditEntry(actor=actor(), action="customer.export", detail={"source": source, "customer": customer_id}))
    return data


@bp.delete("/admin/customers/<source>/<customer_id>")
@endpoint("admin", response=EraseResponse, errors=(404,))
def erase_customer(source: str, customer_id: str):
    """Remove one customer and everything about them (audited)."""
    with services().sessions.begin() as session:
        if not privacy.erase(session, customer_id, source, actor=actor()):
            raise ApiError(404, "not found", f"no customer {customer_id!r} from {source!r}")
    return {"erased": True, "source": source, "customer_id": customer_id}

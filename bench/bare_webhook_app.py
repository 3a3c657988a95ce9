"""The baseline for bench_webhooks.py: a bare Flask endpoint doing only what any signed webhook costs.

`POST /webhooks/generic` checks the signature with the generic adapter's own
`verify` (secret from TRUSTDESK_GENERIC_WEBHOOK_SECRET, five-minute window),
parses the body as JSON and answers `{"event_id", "ticket_id"}`; no schema,
storage, model or logging. `GET /readyz` says it is up. Served by gunicorn:
`gunicorn --chdir <project root> bench.bare_webhook_app:app`.
"""

from __future__ import annotations

import json
import os

from flask import Flask, jsonify, request

from integrations.base import Delivery, Unauthorized
from integrations.generic.adapter import GenericAdapter

app = Flask(__name__)
adapter = GenericAdapter({"TRUSTDESK_GENERIC_WEBHOOK_SECRET": os.environ["TRUSTDESK_GENERIC_WEBHOOK_SECRET"]})


@app.post("/webhooks/generic")
def receive():
    """Verify the signature, parse the JSON, answer with the ids."""
    delivery = Delivery(request.get_data(cache=False), dict(request.headers))
    try:
        adapter.verify(delivery)
    except Unauthorized as exc:
        return jsonify({"error": "unauthorized", "detail": str(exc)}), 401
    data = json.loads(delivery.body)
    return jsonify({"event_id": data["event_id"], "ticket_id": data["ticket"]["id"]})


@app.get("/readyz")
def ready():
    """Up as soon as the worker has imported the app."""
    return jsonify({"status": "ready"})

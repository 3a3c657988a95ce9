"""API v1's contract: one marshmallow schema per request and per response.

Requests are loaded (unknown fields refused, each bad field named in a 422);
responses are dumped through their schema, so what the OpenAPI document at
/openapi.json says is what the API sends.
"""

from __future__ import annotations

from marshmallow import INCLUDE, Schema, ValidationError, fields, validate, validates_schema

LABELS = ("blame", "deflection", "escalation_risk")
THRESHOLD_NAMES = ("blame", "deflection", "escalation_risk", "ticket_escalation_risk")
FEEDBACK_KINDS = ("suggestion_used", "suggestion_edited", "suggestion_dismissed", "flag_confirmed", "flag_wrong")
MAX_DRAFT = 20_000
_text = validate.Length(min=1, max=MAX_DRAFT)
_probability = validate.Range(min=0.0, max=1.0)


class ErrorSchema(Schema):
    """Every 4xx answer: what went wrong and, for 422, the message for each bad field."""

    error = fields.String(required=True, metadata={"example": "invalid request"})
    detail = fields.String()
    fields_ = fields.Dict(data_key="fields", metadata={"description": "field name -> messages"})


# --- analyses and guidance (what the model and guidance engine produce) -------------------------

class ScoresSchema(Schema):
    """Probabilities per label (null where nothing was scored)."""

    blame = fields.Float(allow_none=True)
    deflection = fields.Float(allow_none=True)
    escalation_risk = fields.Float(allow_none=True)


class SpanSchema(Schema):
    """A flagged sentence of a message."""

    label = fields.String(validate=validate.OneOf(LABELS))
    start = fields.Integer()
    end = fields.Integer()
    text = fields.String()
    score = fields.Float()


class MessageAnalysisSchema(Schema):
    """One message's scores, flags and flagged spans."""

    index = fields.Integer()
    author_role = fields.String()
    language = fields.String(allow_none=True)
    abstained = fields.Boolean()
    scores = fields.Nested(ScoresSchema)
    flags = fields.List(fields.String())
    spans = fields.List(fields.Nested(SpanSchema))
    escalation_kinds = fields.List(fields.Dict())
    body = fields.String(metadata={"description": "the text as scored, when it differs from what was sent"})


class AnalysisSchema(Schema):
    """A ticket's analysis: ticket-level scores and flags, and each message's."""

    id = fields.String()
    model_version = fields.String()
    scores = fields.Nested(ScoresSchema)
    flags = fields.List(fields.String())
    escalation_kinds = fields.List(fields.Dict())
    customer = fields.Dict(metadata={"description": "the customer's own blame and deflection scores"})
    messages = fields.List(fields.Nested(MessageAnalysisSchema))


class RewriteSchema(Schema):
    """A rewrite of an agent's message that no longer flags, with each change and what to confirm."""

    original = fields.String()
    text = fields.String()
    changes = fields.List(fields.Dict())
    to_confirm = fields.List(fields.String())
    scores = fields.Dict()


class GuidanceSchema(Schema):
    """Risk, reasons, summary, advice, verified reply suggestions and a rewrite of the agent's last message."""

    id = fields.String()
    risk = fields.String(validate=validate.OneOf(("low", "medium", "high")))
    reasons = fields.List(fields.Dict())
    summary = fields.String()
    advice = fields.List(fields.Dict())
    suggestions = fields.List(fields.Dict())
    rewrite = fields.Nested(RewriteSchema, allow_none=True)
    verification = fields.Dict()


class AnalyzeResponse(Schema):
    """POST /analyze."""

    analysis = fields.Nested(AnalysisSchema, required=True)
    guidance = fields.Nested(GuidanceSchema, required=True)


class AnalyzeRequest(Schema):
    """A normalized ticket (models/ticket.py checks it in full; its other fields are allowed)."""

    class Meta:
        unknown = INCLUDE

    id = fields.Raw(required=True)
    messages = fields.List(fields.Dict(), required=True)


# --- tickets ------------------------------------------------------------------------------------

class TicketRefSchema(Schema):
    """Which stored ticket."""

    source = fields.String()
    id = fields.String()


class DraftCheckRequest(Schema):
    """The reply an agent is typing."""

    draft = fields.String(required=True, validate=_text)
    rewrite = fields.Boolean(load_default=True, metadata={"description": "suggest a rewrite when the draft is flagged"})


class DraftScoresSchema(Schema):
    """The draft as the ticket's next agent message."""

    language = fields.String(allow_none=True)
    abstained = fields.Boolean()
    scores = fields.Nested(ScoresSchema)
    flags = fields.List(fields.String())
    spans = fields.List(fields.Nested(SpanSchema))


class DraftCheckResponse(Schema):
    """Scores and flags of a draft in its ticket's context, and a rewrite when it is flagged."""

    ticket = fields.Nested(TicketRefSchema)
    model_version = fields.String()
    draft = fields.Nested(DraftScoresSchema)
    scores = fields.Nested(ScoresSchema, metadata={"description": "the ticket's scores if the draft were sent"})
    flags = fields.List(fields.String(), metadata={"description": "the ticket's flags if the draft were sent"})
    rewrite = fields.Nested(RewriteSchema, allow_none=True)
    thresholds = fields.Dict(keys=fields.String(), values=fields.Float())


class TicketGuidanceResponse(Schema):
    """The ticket's latest analysis and guidance, flags recomputed with the current thresholds."""

    ticket = fields.Nested(TicketRefSchema)
    analyzed_at = fields.DateTime()
    model_version = fields.String()
    thresholds = fields.Dict(keys=fields.String(), values=fields.Float())
    analysis = fields.Nested(AnalysisSchema)
    guidance = fields.Nested(GuidanceSchema)


class FeedbackRequest(Schema):
    """What the agent did with a suggestion or a flag."""

    kind = fields.String(required=True, validate=validate.OneOf(FEEDBACK_KINDS))
    label = fields.String(validate=validate.OneOf(LABELS), metadata={"description": "required for flag_* kinds"})
    message_index = fields.Integer(validate=validate.Range(min=0), allow_none=True)
    text = fields.String(validate=_text, metadata={"description": "the edited text, for suggestion_edited"})

    @validates_schema
    def _label_for_flags(self, data: dict, **_: object) -> None:
        """A flag is confirmed or called wrong for one label."""
        if data.get("kind", "").startswith("flag_") and not data.get("label"):
            raise ValidationError("required for flag_confirmed and flag_wrong", "label")


class FeedbackResponse(Schema):
    """The stored feedback."""

    id = fields.Integer()
    kind = fields.String()
    label = fields.String(allow_none=True)
    message_index = fields.Integer(allow_none=True)
    text = fields.String(allow_none=True)
    actor = fields.String()
    created_at = fields.DateTime()


class AtRiskQuery(Schema):
    """GET /customers/at-risk query string."""

    sort = fields.String(load_default="risk", validate=validate.OneOf(("risk", "value")))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class AtRiskCustomerSchema(Schema):
    """A customer with their trust score and the value at risk."""

    customer_id = fields.Integer()
    name = fields.String(allow_none=True)
    organization = fields.String(allow_none=True)
    trust = fields.Float()
    value_at_risk = fields.Float()


class AtRiskResponse(Schema):
    """Customers, worst first."""

    customers = fields.List(fields.Nested(AtRiskCustomerSchema))


class AtRiskOrganizationSchema(Schema):
    """An organisation: its customers' ledgers taken together, and the value of all of them."""

    organization = fields.String()
    customers = fields.Integer()
    trust = fields.Float()
    value_at_risk = fields.Float()


class OrganizationsAtRiskResponse(Schema):
    """Organisations, worst first."""

    organizations = fields.List(fields.Nested(AtRiskOrganizationSchema))


# --- admin --------------------------------------------------------------------------------------

class ThresholdsRequest(Schema):
    """New thresholds (0..1) for some labels; null puts a label back to the model's own."""

    thresholds = fields.Dict(keys=fields.String(validate=validate.OneOf(THRESHOLD_NAMES)),
                             values=fields.Float(allow_none=True, validate=_probability, allow_nan=False),
                             required=True, validate=validate.Length(min=1))
    replace = fields.Boolean(load_default=False, metadata={"description": "drop overrides not named here"})


class ThresholdsResponse(Schema):
    """The thresholds in force, the model's own, and the overrides set by admins."""

    thresholds = fields.Dict(keys=fields.String(), values=fields.Float())
    model_defaults = fields.Dict(keys=fields.String(), values=fields.Float())
    overrides = fields.Dict(keys=fields.String(), values=fields.Float())
    model_version = fields.String()


class PartnersRequest(Schema):
    """The deployment's partner names (replaces the list; common names stay known)."""

    names = fields.List(fields.String(validate=validate.Length(min=1, max=100)), required=True,
                        validate=validate.Length(max=500))


class PartnersResponse(Schema):
    """The deployment's partner names and where they come from."""

    names = fields.List(fields.String())
    source = fields.String(validate=validate.OneOf(("settings", "admin")))


class ModelVersionSchema(Schema):
    """A known model version and its manifest summary (metrics, thresholds, training data)."""

    version = fields.String()
    path = fields.String()
    active = fields.Boolean()
    registered_at = fields.DateTime()
    activated_at = fields.DateTime(allow_none=True)
    manifest = fields.Dict()


class ModelsResponse(Schema):
    """Every known model version and which one is active."""

    active = fields.String(allow_none=True)
    models = fields.List(fields.Nested(ModelVersionSchema))


class DeadJobSchema(Schema):
    """A write-back that ran out of attempts."""

    id = fields.Integer()
    source = fields.String()
    event_id = fields.String()
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)


class DeadJobsResponse(Schema):
    """The dead-letter list, newest first."""

    jobs = fields.List(fields.Nested(DeadJobSchema))


class RetryResponse(Schema):
    """A dead write-back, or a failed lead alert, queued again."""

    id = fields.Integer()
    status = fields.String()


class AlertsQuery(Schema):
    """GET /admin/alerts query string."""

    status = fields.String(load_default=None, validate=validate.OneOf(("pending", "sent", "failed")))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class AlertSchema(Schema):
    """A lead alert: its ticket, level, state and each channel's outcome."""

    id = fields.Integer()
    source = fields.String()
    external_id = fields.String()
    level = fields.String()
    status = fields.String()
    channels = fields.Dict(keys=fields.String(), values=fields.String())
    attempts = fields.Integer()
    created_at = fields.DateTime()


class AlertsResponse(Schema):
    """Lead alerts, newest first."""

    alerts = fields.List(fields.Nested(AlertSchema))


class CustomerExportResponse(Schema):
    """Everything stored about one customer."""

    customer = fields.Dict()
    tickets = fields.List(fields.Dict())
    ledger = fields.List(fields.Dict())


class EraseResponse(Schema):
    """A customer erased."""

    erased = fields.Boolean()
    source = fields.String()
    customer_id = fields.String()

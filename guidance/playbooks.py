"""Playbooks: support situations and reply patterns, as data admins edit without code.

Each TOML file in a playbook directory describes one situation: when it fits
(triggers), how to stand in it, advice, and reply templates with slots filled
from the ticket. Loading is all or nothing: one bad file and nothing is loaded,
with an error naming the file and the field, so a typo never half-applies.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from models.corpus import INDUSTRIES, KINDS
from models.ticket import flatten_errors

DEFAULT_DIR = Path(__file__).parent / "playbooks"
SLOTS = ("customer_name", "agent_name", "partner", "reference", "product", "amount")
FLAG_NAMES = ("blame", "deflection", "escalation_risk")
_SLOT = re.compile(r"\{([^{}]*)\}")
_PLACEHOLDER = re.compile(r"\[[^\[\]]+\]")


class PlaybookError(ValueError):
    """A playbook file that cannot be used; the message names the file and the field."""


def _check_slots(text: str) -> None:
    unknown = sorted({s for s in _SLOT.findall(text) if s not in SLOTS})
    if unknown:
        raise ValidationError(f"unknown slot(s) {unknown}; allowed: {', '.join(SLOTS)}")


class TriggersSchema(Schema):
    """When a playbook fits: phrases in the conversation, partners, flags, kinds."""

    class Meta:
        unknown = RAISE

    phrases = fields.List(fields.String(validate=validate.Length(min=2)), load_default=list)
    partner_named = fields.Boolean(load_default=False)
    labels = fields.List(fields.String(validate=validate.OneOf(FLAG_NAMES)), load_default=list)
    kinds = fields.List(fields.String(validate=validate.OneOf(KINDS)), load_default=list)


class AdviceSchema(Schema):
    """One piece of advice: something to do or to avoid."""

    class Meta:
        unknown = RAISE

    kind = fields.String(required=True, validate=validate.OneOf(("do", "avoid")))
    text = fields.String(required=True, validate=[validate.Length(min=5), _check_slots])


class ReplySchema(Schema):
    """A reply template; every [placeholder] must be explained in to_confirm."""

    class Meta:
        unknown = RAISE

    text = fields.String(required=True, validate=[validate.Length(min=20), _check_slots])
    to_confirm = fields.List(fields.String(validate=validate.Length(min=3)), load_default=list)
    # The situation this reply is written for ("arrived damaged" or "never arrived"): a reply whose
    # phrases fit the customer's words is offered before the playbook's others.
    when = fields.List(fields.String(validate=validate.Length(min=2)), load_default=list)

    @validates_schema
    def _placeholders_explained(self, data: dict, **kwargs: Any) -> None:
        placeholders = _PLACEHOLDER.findall(data.get("text", ""))
        if len(placeholders) > len(data.get("to_confirm", [])):
            raise ValidationError(
                f"{len(placeholders)} placeholder(s) {placeholders} but {len(data.get('to_confirm', []))} to_confirm line(s)",
                "to_confirm",
            )


class PlaybookSchema(Schema):
    """A whole playbook file."""

    class Meta:
        unknown = RAISE

    id = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9]+(-[a-z0-9]+)*$", error="use kebab-case"))
    title = fields.String(required=True, validate=validate.Length(min=3))
    industries = fields.List(fields.String(validate=validate.OneOf(INDUSTRIES)), load_default=list)
    stance = fields.String(required=True, validate=validate.Length(min=10))
    triggers = fields.Nested(TriggersSchema, required=True)
    advice = fields.List(fields.Nested(AdviceSchema), required=True, validate=validate.Length(min=1))
    replies = fields.List(fields.Nested(ReplySchema), required=True, validate=validate.Length(min=1))


@dataclass(frozen=True)
class Playbook:
    """A validated playbook."""

    id: str
    title: str
    industries: tuple[str, ...]
    stance: str
    triggers: dict
    advice: tuple[dict, ...]
    replies: tuple[dict, ...]
    path: Path


def parse(data: Any, where: str) -> Playbook:
    """Validate one playbook's data (from TOML); `where` names it in errors."""
    try:
        loaded = PlaybookSchema(unknown=RAISE).load(data)
    except ValidationError as exc:
        raise PlaybookError(f"{where}: " + "; ".join(flatten_errors(exc.messages))) from None
    return Playbook(loaded["id"], loaded["title"], tuple(loaded["industries"]), loaded["stance"], loaded["triggers"],
                    tuple(loaded["advice"]), tuple(loaded["replies"]), Path(where))


def load_file(path: Path) -> Playbook:
    """Read and validate one playbook file; its id must equal its file name."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise PlaybookError(f"{path.name}: not valid TOML ({exc})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PlaybookError(f"{path.name}: cannot read ({exc})") from None
    playbook = parse(data, path.name)
    if playbook.id != path.stem:
        raise PlaybookError(f"{path.name}: id {playbook.id!r} must equal the file name {path.stem!r}")
    return Playbook(**{**playbook.__dict__, "path": Path(path)})


def load_dir(directory: Path | str | None = None) -> list[Playbook]:
    """Load every playbook of a directory, or raise for the first bad one (nothing half-loaded)."""
    directory = Path(directory) if directory else DEFAULT_DIR
    files = sorted(directory.glob("*.toml"))
    if not files:
        raise PlaybookError(f"{directory}: no playbook files (*.toml)")
    return [load_file(path) for path in files]


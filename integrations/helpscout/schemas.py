"""The parts of Help Scout's v2 Conversation object (webhook body and Mailbox API answers) the adapter reads."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields

from ..payloads import Lenient, optional



class TagName(fields.Field):
    """A conversation tag: `{"id", "color", "tag"}` in v2 answers, a bare name in older payloads."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        name = value.get("tag") if isinstance(value, dict) else value
        if not isinstance(name, str) or not name:
            raise ValidationError("Must be a tag name or a tag object with `tag`.")
        return name


class PersonSchema(Lenient):
    """A customer or user; `type` says which ("customer", "user", "team")."""

    id = optional(fields.Integer)
    type = optional()
    first = optional()
    last = optional()
    email = optional()


class ThreadSchema(Lenient):
    """One thread: customer, message (agent reply), note, chat, phone, lineitem, forwardparent/child."""

    id = fields.Integer(required=True)
    type = fields.String(required=True)
    state = optional()
    body = optional()
    createdBy = optional(fields.Nested, PersonSchema)
    customer = optional(fields.Nested, PersonSchema)
    createdAt = optional()


class EmbeddedThreadsSchema(Lenient):
    """HAL `_embedded` holding threads (conversation with embed=threads, or a threads page)."""

    threads = fields.List(fields.Nested(ThreadSchema), load_default=list)


class ConversationSchema(Lenient):
    """A conversation; `threads` is the thread count, the threads themselves are in `_embedded`."""

    id = fields.Integer(required=True)
    number = optional(fields.Integer)
    threads = optional(fields.Integer)
    threadCount = optional(fields.Integer)
    subject = optional()
    preview = optional()
    status = optional()
    createdAt = optional()
    userUpdatedAt = optional()
    tags = fields.List(TagName(), load_default=list, allow_none=True)
    primaryCustomer = optional(fields.Nested, PersonSchema)
    assignee = optional(fields.Nested, PersonSchema)
    createdBy = optional(fields.Nested, PersonSchema)
    embedded = optional(fields.Nested, EmbeddedThreadsSchema, data_key="_embedded")


class PageSchema(Lenient):
    """HAL paging: `page.number` (1-based) of `page.totalPages`."""

    number = fields.Integer(load_default=1)
    totalPages = fields.Integer(load_default=1)


class ThreadPageSchema(Lenient):
    """GET /v2/conversations/{id}/threads: one page of threads, newest first."""

    embedded = fields.Nested(EmbeddedThreadsSchema, data_key="_embedded", load_default=dict)
    page = fields.Nested(PageSchema, load_default=dict)


class ConversationRefSchema(Lenient):
    """A conversation in a list: only its id is needed."""

    id = fields.Integer(required=True)


class EmbeddedConversationsSchema(Lenient):
    """HAL `_embedded` of a conversation list (absent when the list is empty)."""

    conversations = fields.List(fields.Nested(ConversationRefSchema), load_default=list)


class ConversationPageSchema(Lenient):
    """GET /v2/conversations: one page of conversations."""

    embedded = fields.Nested(EmbeddedConversationsSchema, data_key="_embedded", load_default=dict)
    page = fields.Nested(PageSchema, load_default=dict)

"""The parts of Help Scout's v2 Conversation object (webhook body and Mailbox API answers) the adapter reads."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields


class _Lenient(Schema):
    class Meta:
        unknown = EXCLUDE


class TagName(fields.Field):
    """A conversation tag: `{"id", "color", "tag"}` in v2 answers, a bare name in older payloads."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        name = value.get("tag") if isinstance(value, dict) else value
        if not isinstance(name, str) or not name:
            raise ValidationError("Must be a tag name or a tag object with `tag`.")
        return name


class PersonSchema(_Lenient):
    """A customer or user; `type` says which ("customer", "user", "team")."""

    id = fields.Integer(load_default=None, allow_none=True)
    type = fields.String(load_default=None, allow_none=True)
    first = fields.String(load_default=None, allow_none=True)
    last = fields.String(load_default=None, allow_none=True)
    email = fields.String(load_default=None, allow_none=True)


class ThreadSchema(_Lenient):
    """One thread: customer, message (agent reply), note, chat, phone, lineitem, forwardparent/child."""

    id = fields.Integer(required=True)
    type = fields.String(required=True)
    state = fields.String(load_default=None, allow_none=True)
    body = fields.String(load_default=None, allow_none=True)
    createdBy = fields.Nested(PersonSchema, load_default=None, allow_none=True)
    customer = fields.Nested(PersonSchema, load_default=None, allow_none=True)
    createdAt = fields.String(load_default=None, allow_none=True)


class EmbeddedThreadsSchema(_Lenient):
    """HAL `_embedded` holding threads (conversation with embed=threads, or a threads page)."""

    threads = fields.List(fields.Nested(ThreadSchema), load_default=list)


class ConversationSchema(_Lenient):
    """A conversation; `threads` is the thread count, the threads themselves are in `_embedded`."""

    id = fields.Integer(required=True)
    number = fields.Integer(load_default=None, allow_none=True)
    threads = fields.Integer(load_default=None, allow_none=True)
    threadCount = fields.Integer(load_default=None, allow_none=True)
    subject = fields.String(load_default=None, allow_none=True)
    preview = fields.String(load_default=None, allow_none=True)
    status = fields.String(load_default=None, allow_none=True)
    createdAt = fields.String(load_default=None, allow_none=True)
    userUpdatedAt = fields.String(load_default=None, allow_none=True)
    tags = fields.List(TagName(), load_default=list, allow_none=True)
    primaryCustomer = fields.Nested(PersonSchema, load_default=None, allow_none=True)
    assignee = fields.Nested(PersonSchema, load_default=None, allow_none=True)
    createdBy = fields.Nested(PersonSchema, load_default=None, allow_none=True)
    embedded = fields.Nested(EmbeddedThreadsSchema, data_key="_embedded", load_default=None, allow_none=True)


class PageSchema(_Lenient):
    """HAL paging: `page.number` (1-based) of `page.totalPages`."""

    number = fields.Integer(load_default=1)
    totalPages = fields.Integer(load_default=1)


class ThreadPageSchema(_Lenient):
    """GET /v2/conversations/{id}/threads: one page of threads, newest first."""

    embedded = fields.Nested(EmbeddedThreadsSchema, data_key="_embedded", load_default=dict)
    page = fields.Nested(PageSchema, load_default=dict)


class ConversationRefSchema(_Lenient):
    """A conversation in a list: only its id is needed."""

    id = fields.Integer(required=True)


class EmbeddedConversationsSchema(_Lenient):
    """HAL `_embedded` of a conversation list (absent when the list is empty)."""

    conversations = fields.List(fields.Nested(ConversationRefSchema), load_default=list)


class ConversationPageSchema(_Lenient):
    """GET /v2/conversations: one page of conversations."""

    embedded = fields.Nested(EmbeddedConversationsSchema, data_key="_embedded", load_default=dict)
    page = fields.Nested(PageSchema, load_default=dict)

"""The people's-data API's input and answers."""

import marshmallow as ma

from engagement.fields import Email


class PersonArgs(ma.Schema):
    email = Email(required=True, metadata={"description": "The person's email address"})


class EraseArgs(PersonArgs):
    with_comments = ma.fields.Boolean(load_default=False, metadata={
        "description": "Delete their comments' text too (else kept under the name Deleted)"})


class ErasedOut(ma.Schema):
    comments = ma.fields.Integer(metadata={"description": "Comments whose author was erased"})
    flags = ma.fields.Integer()
    newsletter = ma.fields.Integer(metadata={"description": "1 when a subscription was erased"})
    queued_mail = ma.fields.Integer()
    reply_notifications = ma.fields.Integer(
        metadata={"description": "1 when reply-email subscriptions were erased"})

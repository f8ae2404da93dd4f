"""The people's-data API's input and answers."""

import re

import marshmallow as ma

from engagement.fields import Email

# An address as an archive may have kept it: one @ between two parts without spaces.
_STORED_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+")


class StoredEmail(Email):
    """The address of someone whose data is asked for: a valid address, or one that an import
    stored as the archive had it (a WordPress site on an intranet kept `jo@intranet`), which
    a request for their data must still find."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return super()._deserialize(value, attr, data, **kwargs)
        except ma.ValidationError:
            text = str(value).strip()
            if len(text) <= 320 and _STORED_ADDRESS.fullmatch(text):
                return text
            raise


class PersonArgs(ma.Schema):
    email = StoredEmail(required=True, metadata={"description": "The person's email address"})


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

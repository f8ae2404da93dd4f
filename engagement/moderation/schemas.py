"""Flag In/Out schemas."""

import marshmallow as ma

from engagement.fields import Text
from engagement.moderation.models import FlagReason


class FlagIn(ma.Schema):
    reason = ma.fields.Enum(FlagReason, by_value=True, required=True)
    note = Text(load_default=None, allow_none=True, validate=ma.validate.Length(max=500))


class FlaggedOut(ma.Schema):
    flagged = ma.fields.Boolean()
    hidden = ma.fields.Boolean()  # this flag took the comment out of the public list

"""Moderators' In/Out schemas for bans."""

import marshmallow as ma

from engagement.fields import NotBlank, Text, Timestamp
from engagement.moderation.models import BanKind
from engagement.pagination import page_schema


class BanIn(ma.Schema):
    kind = ma.fields.Enum(BanKind, by_value=True, required=True)
    value = Text(
        required=True, single_line=True, validate=ma.validate.Length(1, 320),
        metadata={"description": "An email address, or an IPv4 or IPv6 address or CIDR network"},
    )
    reason = NotBlank(required=True, max_length=500,
                      metadata={"description": "Why, for the other moderators"})
    expires_at = Timestamp(
        load_default=None, allow_none=True,
        metadata={"description": "In the future; null bans until the ban is deleted"},
    )


class BanOut(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String()
    value = ma.fields.String(
        metadata={"description": "Lower-cased email, or CIDR network (a single address as /32 "
                                 "or /128)"}
    )
    reason = ma.fields.String()
    expires_at = Timestamp(allow_none=True)
    created_at = Timestamp()
    created_by = ma.fields.String(metadata={"description": "The token holder who banned"})
    active = ma.fields.Boolean(metadata={"description": "false once expires_at has passed"})


BanPageOut = page_schema(BanOut, "BanPage")


class ReplacedBanOut(ma.Schema):
    reason = ma.fields.String()
    expires_at = Timestamp(allow_none=True)
    created_at = Timestamp()
    created_by = ma.fields.String()


class BanCreatedOut(BanOut):
    replaced = ma.fields.Nested(
        ReplacedBanOut, allow_none=True,
        metadata={"description": "The ban of the same value that was in force, which this one "
                                 "replaces (its reason and expiry); null when there was none"})

"""Admins' newsletter schemas: subscribers with their consent record, and the CSV export."""

import marshmallow as ma

from engagement.fields import Timestamp
from engagement.newsletter.models import SubscriberStatus
from engagement.pagination import PageArgs, page_schema

STATUSES = [status.value for status in SubscriberStatus]


class SubscriberArgs(PageArgs):
    status = ma.fields.String(load_default=None, validate=ma.validate.OneOf(STATUSES),
                              metadata={"description": "Only subscribers in this state"})


class ExportArgs(ma.Schema):
    status = ma.fields.String(load_default=None, validate=ma.validate.OneOf(STATUSES),
                              metadata={"description": "Only subscribers in this state"})


class SubscriberOut(ma.Schema):
    id = ma.fields.Integer()
    email = ma.fields.String()
    name = ma.fields.String(allow_none=True)
    status = ma.fields.String(metadata={"enum": STATUSES})
    created_at = Timestamp(metadata={"description": "The address's first signup"})
    source = ma.fields.String(allow_none=True, metadata={"description": "Consent record"})
    consent_version = ma.fields.String(metadata={"description": "Consent record"})
    signed_up_at = Timestamp(metadata={"description": "Consent record"})
    confirmed_at = Timestamp(allow_none=True, metadata={"description": "Consent record"})
    unsubscribed_at = Timestamp(allow_none=True)
    user_agent = ma.fields.String(allow_none=True, metadata={"description": "Consent record"})
    client_hash = ma.fields.String(
        allow_none=True,
        metadata={"description": "Consent record: a keyed hash of the client address"})


SubscriberPageOut = page_schema(SubscriberOut, "SubscriberPage")

CSV_COLUMNS = list(SubscriberOut().fields)
# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    """A cell's text, with a leading ' when a spreadsheet would take it for a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text

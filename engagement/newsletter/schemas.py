"""Newsletter In/Out schemas. No answer says anything about an address."""

import marshmallow as ma

from engagement.fields import Email, Language, StrictBoolean, Text

CONSENT_RULE = "Must be true: the reader agreed to receive the newsletter."


def _blank_is_none(value: str | None) -> str | None:
    if value is None:
        return None
    return value.strip() or None


class SubscriptionIn(ma.Schema):
    email = Email(required=True, metadata={"description": "Normalised; never shown in answers"})
    name = Text(load_default=None, allow_none=True, single_line=True,
                validate=ma.validate.Length(max=80),
                metadata={"description": "Optional; blank is the same as null"})
    source = Text(load_default=None, allow_none=True, single_line=True,
                  validate=ma.validate.Length(max=64),
                  metadata={"description": "Where the form is (`sidebar`, `footer`, ...)"})
    lang = Language(metadata={"description": "The reader's language (a BCP 47 tag such as "
                                             "`fr`) for the confirmation email; en, fr, de, "
                                             "es, ar and so ship, others get English"})
    consent = StrictBoolean(required=True, validate=ma.validate.Equal(True, error=CONSENT_RULE),
                            metadata={"description": CONSENT_RULE, "enum": [True]})

    @ma.post_load
    def _blanks(self, data, **kwargs):
        return {**data, "name": _blank_is_none(data["name"]),
                "source": _blank_is_none(data["source"])}


class SubscriptionOut(ma.Schema):
    status = ma.fields.String(metadata={"description": "Always `pending_confirmation`",
                                        "enum": ["pending_confirmation"]})


class TokenIn(ma.Schema):
    token = Text(required=True, validate=ma.validate.Length(1, 200),
                 metadata={"description": "The `token` of the emailed link"})


class ConfirmedOut(ma.Schema):
    status = ma.fields.String(metadata={"enum": ["confirmed"]})


class UnsubscribedOut(ma.Schema):
    status = ma.fields.String(metadata={"enum": ["unsubscribed"]})

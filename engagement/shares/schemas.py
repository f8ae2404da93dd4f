"""Share In/Out schemas."""

import marshmallow as ma
from flask import current_app

from engagement.fields import Text
from engagement.shares.services import known_network

SHARE_COUNTS_DESCRIPTION = "Every configured network, zeros included, and `total`"


class ShareIn(ma.Schema):
    network = Text(
        required=True,
        validate=ma.validate.Length(1, 32),
        metadata={"description": "A configured network; `twitter` is taken as `x`"},
    )

    @ma.post_load
    def resolve_network(self, data, **kwargs):
        network = known_network(data["network"], current_app.config["SHARE_NETWORKS"])
        if network is None:
            networks = ", ".join(current_app.config["SHARE_NETWORKS"])
            raise ma.ValidationError(f"Not a network this site counts: {networks}.", "network")
        return {"network": network}


def share_counts_field() -> ma.fields.Dict:
    return ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.Integer(),
        metadata={"description": SHARE_COUNTS_DESCRIPTION},
    )


class ShareRecordedOut(ma.Schema):
    counted = ma.fields.Boolean(
        metadata={"description": "false when this reader was already counted in the window, "
                                 "or three other readers of its address were"}
    )
    share_counts = share_counts_field()

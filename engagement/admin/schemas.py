"""Out schema of the token holder's own description."""

import marshmallow as ma

from engagement.admin.models import Role


class HolderOut(ma.Schema):
    name = ma.fields.String(metadata={"description": "Who holds the token"})
    role = ma.fields.Enum(Role, by_value=True,
                          metadata={"description": "admin may also manage newsletter subscribers"})

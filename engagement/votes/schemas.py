"""Vote In/Out schemas. A reader's votes are answered to that reader only."""

import marshmallow as ma


class VoteIn(ma.Schema):
    value = ma.fields.Integer(
        required=True, strict=True, validate=ma.validate.OneOf([1, -1, 0]),
        metadata={"description": "1 up, -1 down (422 when `ENGAGEMENT_VOTES` is `up`), "
                                 "0 withdraws your vote"},
    )


class VoteOut(ma.Schema):
    upvotes = ma.fields.Integer()
    downvotes = ma.fields.Integer()
    value = ma.fields.Integer(metadata={"description": "Your vote now: 1, -1 or 0"})


class ReaderVotesOut(ma.Schema):
    votes = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.Integer(),
        metadata={"description": "Your votes by comment id: 1 or -1", "example": {"12": 1}},
    )

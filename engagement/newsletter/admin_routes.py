"""The admins' newsletter API: subscribers listed, exported as CSV, and erased. The admin role
only: a moderator's token is refused with 403. Reads of the list are not audited; the export
and erasure are."""

import csv
import io

from flask import Response, stream_with_context
from flask.views import MethodView
from flask_smorest import Blueprint

from engagement.admin.auth import current_admin, protect
from engagement.admin.models import Role
from engagement.clock import now
from engagement.errors import ErrorSchema
from engagement.newsletter import services
from engagement.newsletter.admin_schemas import (
    CSV_COLUMNS,
    ExportArgs,
    SubscriberArgs,
    SubscriberOut,
    SubscriberPageOut,
    csv_cell,
)

blp = Blueprint(
    "newsletter_admin", __name__, url_prefix="/api/v1/admin/newsletter",
    description="Newsletter subscribers (admin role only).",
)
protect(blp, role=Role.ADMIN)


@blp.route("/subscribers")
class Subscribers(MethodView):
    @blp.arguments(SubscriberArgs, location="query")
    @blp.response(200, SubscriberPageOut)
    @blp.alt_response(403, schema=ErrorSchema, description="Not the admin role")
    def get(self, args):
        """Subscribers with their consent record, newest first"""
        return services.subscriber_page(args["status"], args["limit"], args["cursor"])


@blp.route("/subscribers.csv")
class SubscribersExport(MethodView):
    @blp.arguments(ExportArgs, location="query")
    @blp.doc(responses={"200": {"description": "Every subscriber, oldest first",
                                "content": {"text/csv": {"schema": {"type": "string"}}}}})
    @blp.alt_response(403, schema=ErrorSchema, description="Not the admin role")
    def get(self, args):
        """Every subscriber as CSV (cells a spreadsheet would run as formulas are quoted)"""
        services.record_export(args["status"], actor=current_admin().name, now=now())
        rows = (SubscriberOut().dump(subscriber)
                for subscriber in services.all_subscribers(args["status"]))
        return Response(
            stream_with_context(_csv(rows)), mimetype="text/csv",
            headers={"Content-Disposition": 'attachment; filename="subscribers.csv"'},
        )


def _csv(rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([csv_cell(row[column]) for column in CSV_COLUMNS])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


@blp.route("/subscribers/<id:subscriber_id>")
class SubscriberById(MethodView):
    @blp.response(204)
    @blp.alt_response(404, schema=ErrorSchema, description="No such subscriber")
    def delete(self, subscriber_id):
        """Erase a subscriber: nothing of the address remains (audited by id only)"""
        services.erase_subscriber(subscriber_id, actor=current_admin().name, now=now())

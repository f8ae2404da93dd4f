"""Who the caller is: the console checks a token with it at sign-in and shows the tabs the
token's role may use."""

from flask.views import MethodView
from flask_smorest import Blueprint

from engagement.admin.auth import current_admin, protect
from engagement.admin.schemas import HolderOut

blp = Blueprint(
    "admin", __name__, url_prefix="/api/v1/admin",
    description="The admin token's holder (Authorization: Bearer <token>).",
)
protect(blp)


@blp.route("/me")
class Holder(MethodView):
    @blp.response(200, HolderOut)
    def get(self):
        """The holder of the token: its name and role"""
        return current_admin()

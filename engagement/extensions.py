"""The extension objects, unbound: `create_app` binds them with `init_app`. No I/O here."""

from flask_cors import CORS
from flask_limiter import Limiter
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from engagement.clients import current_limit_key
from engagement.database import Base
from engagement.errors import Api
from engagement.openapi import ConventionResponses

db = SQLAlchemy(model_class=Base)
# Batch mode lets later migrations alter columns on SQLite too.
migrate = Migrate(render_as_batch=True, compare_type=True)
api = Api(spec_kwargs={"extra_plugins": [ConventionResponses()]})
cors = CORS()
# Limits key on the client address that clients.py resolves (an IPv6 address by its /64).
limiter = Limiter(key_func=current_limit_key)

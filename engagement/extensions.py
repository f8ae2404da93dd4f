"""The extension objects, unbound: `create_app` binds them with `init_app`. No I/O here."""

from flask_cors import CORS
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from engagement.database import Base
from engagement.errors import Api

db = SQLAlchemy(model_class=Base)
# Batch mode lets later migrations alter columns on SQLite too.
migrate = Migrate(render_as_batch=True, compare_type=True)
api = Api()
cors = CORS()

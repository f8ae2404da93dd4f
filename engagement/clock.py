"""The one clock: services take `now` as an argument, routes read it here, tests replace it
with `create_app({"CLOCK": ...})`."""

from datetime import UTC, datetime

from flask import current_app


def system_now() -> datetime:
    return datetime.now(UTC)


def now() -> datetime:
    return current_app.config.get("CLOCK", system_now)()

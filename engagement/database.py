"""The declarative base every model shares, the UTC timestamp type, the SQL idioms that must
behave the same on SQLite and PostgreSQL (insert-if-absent, connection pragmas), and the
PostgreSQL connection that gives up on a server that stops answering."""

from __future__ import annotations

import contextlib
import copy
import enum
import functools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, NamedTuple

import psycopg
import sqlalchemy as sa
from psycopg.pq import TransactionStatus
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, MappedColumn, Session, mapped_column, registry

# Deterministic constraint names, so that Alembic migrations name what the models declare.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(sa.TypeDecorator):
    """Aware UTC datetimes in and out, on PostgreSQL (timestamptz) and SQLite (naive UTC text)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware UTC datetime")
        value = value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    registry = registry(
        metadata=sa.MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


def enum_column(states: type[enum.Enum], name: str, *, length: int = 16,
                **column: Any) -> MappedColumn[Any]:
    """A column holding one of `states` by value: a VARCHAR with a CHECK constraint `name`,
    the same on SQLite and PostgreSQL (no native enum type, so a new state is a plain
    migration)."""
    return mapped_column(
        sa.Enum(states, name=name, native_enum=False, create_constraint=True, length=length,
                values_callable=_values),
        **column,
    )


def _values(states: type[enum.Enum]) -> list[str]:
    return [state.value for state in states]


def insert_if_absent(session: Session | sa.Connection, model: type[Base],
                     values: dict[str, Any] | list[dict[str, Any]]) -> bool:
    """INSERT a row (or several, in one statement) unless one with the same primary key
    exists; True when this call inserted one.

    The database settles the race between concurrent first writers, not a read-then-write.
    """
    statement = _insert(session, model, values).on_conflict_do_nothing(
        index_elements=_primary_key(model)
    )
    return session.execute(statement).rowcount > 0


def delete_where(session: Session, model: type[Base], *conditions: sa.ColumnElement[bool]) -> int:
    """DELETE the rows of `model` that meet every condition, in one statement (the purges of
    the scheduled jobs); how many went."""
    return session.execute(
        sa.delete(model).where(*conditions).execution_options(synchronize_session=False)
    ).rowcount


def upsert(
    session: Session,
    model: type[Base],
    values: dict[str, Any],
    update: dict[str, Any],
    where: sa.ColumnElement[bool] | None = None,
    on: list[str] | None = None,
) -> bool:
    """INSERT a row, or on a conflict of its primary key (or of the unique columns `on`)
    UPDATE the existing row with `update`, only where `where` holds of it; True when a row was
    inserted or updated. One atomic statement: concurrent callers queue on the row and each
    sees the others' committed result."""
    statement = _insert(session, model, values).on_conflict_do_update(
        index_elements=on or _primary_key(model), set_=update, where=where
    )
    return session.execute(statement).rowcount == 1


def on_conflict_insert(dialect: str):
    """The INSERT construct of a database kind (its `dialect.name`), which takes the
    ON CONFLICT clauses."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def _insert(session: Session | sa.Connection, model: type[Base],
            values: dict[str, Any] | list[dict[str, Any]]):
    bind = session if isinstance(session, sa.Connection) else session.get_bind()
    insert = on_conflict_insert(bind.dialect.name)
    # SQLAlchemy keeps an INSERT's rowcount only when asked to; it is how callers learn
    # whether the row was written.
    return insert(model.__table__).values(values).execution_options(preserve_rowcount=True)


def _primary_key(model: type[Base]) -> list[str]:
    return [column.name for column in sa.inspect(model).primary_key]


def single_statement(engine: sa.Engine) -> sa.Connection:
    """A connection for one statement that stands alone (a validator's read, an answer kept
    after its write); the caller commits a write. On PostgreSQL that is autocommit: the
    statement is its own transaction, without a BEGIN and a COMMIT or ROLLBACK, two round trips
    of three. On SQLite a plain connection: its driver begins no transaction for a read, and
    switching its isolation level would cost two PRAGMAs."""
    connection = engine.connect()
    if engine.dialect.name == "postgresql":
        return connection.execution_options(isolation_level="AUTOCOMMIT")
    return connection


def read_rows(engine: sa.Engine, statement: sa.Select, parameters: dict[str, Any]) -> list[tuple]:
    """The rows of a read that stands alone (a validator's), as tuples of the driver's values:
    no result types applied (a boolean is 0 or 1 on SQLite). On SQLite it runs on the driver's
    own connection from the pool: SQLAlchemy's execution costs more than such a read itself,
    and that read is the whole work of a 304 or a cached answer (fast_reads.py). Elsewhere,
    the round trip dominates: single_statement runs it. A list value fills an expanding
    parameter (`IN`)."""
    if engine.dialect.name != "sqlite":
        with single_statement(engine) as connection:
            return [tuple(row) for row in connection.execute(statement, parameters)]
    connection = engine.raw_connection()
    try:
        return _on_driver(connection.driver_connection, engine.dialect, statement,
                          parameters).rows
    finally:
        connection.close()  # back to the pool


def read_value(engine: sa.Engine, statement: sa.Select, parameters: dict[str, Any]) -> Any:
    """The first column of the first row of `read_rows`, or None without a row."""
    rows = read_rows(engine, statement, parameters)
    return rows[0][0] if rows else None


def from_driver(engine: sa.Engine, type_: sa.types.TypeEngine, value: Any) -> Any:
    """A value of `read_rows` (the driver's) as SQLAlchemy's execution gives it for a column of
    `type_` (a UTCDateTime from SQLite's text)."""
    process = _result_processor(type_, engine.dialect)
    return value if process is None else process(value)


@functools.cache
def _result_processor(type_: sa.types.TypeEngine, dialect: sa.Dialect) -> Callable | None:
    return type_.dialect_impl(dialect).result_processor(dialect, None)


# --- Answers kept while nothing is written (SQLite) ------------------------------------------

# Values each pooled SQLite connection keeps (one per listing page whose counts are asked); past
# this, it forgets them all and starts again.
KEPT_PER_CONNECTION = 256
_KEPT = "engagement.kept"
_DATA_VERSION = "PRAGMA data_version"


class Kept(NamedTuple):
    stamp: tuple  # the driver's connection, its data_version and total_changes, before the read
    value: Any
    until: datetime | None  # the moment it changes without a write (a close date), if any


def kept_while_unchanged(engine: sa.Engine, key: Any, now: datetime,
                         read: Callable[[], tuple[Any, datetime | None]]) -> Any:
    """The value of `read()`, which reads the database alone and gives it with the moment it
    changes without a write (None: it does not), kept on SQLite and given again without
    reading while nothing has been committed to the database since and `now` is before that
    moment. SQLite says so in one statement: `PRAGMA data_version` changes when another
    connection (thread, process, command) commits, and the driver's `total_changes` when this
    one writes. The value is kept with the pooled connection that took the stamp (these
    numbers are its own), and read after it, so a commit in between only makes it read again.
    Elsewhere `read()` runs every time: a server's round trip costs as much as the read."""
    if engine.dialect.name != "sqlite":
        return read()[0]
    error_class = engine.dialect.loaded_dbapi.Error
    connection = engine.raw_connection()
    try:
        driver = connection.dbapi_connection
        try:
            cursor = driver.execute(_DATA_VERSION)
            stamp = (driver, cursor.fetchone()[0], driver.total_changes)
            cursor.close()
        except error_class as error:  # as read_rows raises it
            raise sa.exc.DBAPIError.instance(_DATA_VERSION, {}, error, error_class) from error
        kept = connection.info.setdefault(_KEPT, {})
        known = kept.get(key)
        if known is not None and known.stamp == stamp and (
                known.until is None or now < known.until):
            return known.value
        # Read while this connection is held: only its holder changes what it keeps.
        value, until = read()
        if len(kept) >= KEPT_PER_CONNECTION:
            kept.clear()
        kept[key] = Kept(stamp, value, until)
        return value
    finally:
        connection.close()


# --- Statements on the driver's cursor -------------------------------------------------------

class DriverResult(NamedTuple):
    rows: list[tuple]  # the driver's values, no result types applied
    rowcount: int


def run_on_driver(connection: sa.Connection, statement: sa.Executable,
                  parameters: dict[str, Any], *, commit: bool = False) -> DriverResult:
    """Run a statement built once on the driver's cursor of `connection`, in its transaction
    (begun here if it was not): its SQL compiled once, its values converted by their types'
    dialect implementations, as SQLAlchemy's execution does, and a driver error raised as
    SQLAlchemy's `DBAPIError` (the connection invalidated when the error says it is lost).
    For the statements of a write that every reader makes (a share's): SQLAlchemy's
    execution of each cost the worker more than the driver's. No result types are applied
    and no execution events fire.
    With `commit`, the transaction is committed with the statement: on PostgreSQL in the same
    round trip (psycopg's pipeline mode), so that the rows the statement locks stay locked
    for the server's work alone, not while its answer travels to the worker and the worker,
    scheduled again, sends a COMMIT. Nothing is committed if the statement fails."""
    if not connection.in_transaction():
        connection.begin()  # or SQLAlchemy's commit would have nothing to commit
    dialect = connection.dialect
    driver_connection = connection.connection.driver_connection
    try:
        if commit and dialect.name == "postgresql":
            try:
                with driver_connection.pipeline():
                    cursor = _on_driver(driver_connection, dialect, statement, parameters,
                                        fetch=False)
                    connection.commit()  # sent with the statement; raises its error
            except sa.exc.DBAPIError:
                # SQLAlchemy counts its transaction as over; the server's is failed (its
                # COMMIT was skipped): end it, as the rollback the caller cannot send would.
                with contextlib.suppress(psycopg.Error):
                    driver_connection.rollback()
                raise
            return _fetched(cursor)
        if (dialect.name == "postgresql" and not driver_connection.autocommit
                and driver_connection.info.transaction_status == TransactionStatus.IDLE):
            # The transaction's first statement goes with its BEGIN: one round trip, not two.
            with driver_connection.pipeline():
                cursor = _on_driver(driver_connection, dialect, statement, parameters,
                                    fetch=False)
            result = _fetched(cursor)
        else:
            result = _on_driver(driver_connection, dialect, statement, parameters)
        if commit:
            connection.commit()
        return result
    except sa.exc.DBAPIError as error:
        _invalidate_if_lost(connection, driver_connection, error)
        raise


def run_many(connection: sa.Connection, statement: sa.Executable,
             many: list[dict[str, Any]], *, commit: bool = False) -> list[DriverResult]:
    """PostgreSQL: run_on_driver for one statement with each of `many` sets of parameters in
    turn, sent in one round trip (psycopg's executemany in pipeline mode: the statement
    prepared once, each set's values only converted and sent), in the connection's
    transaction (begun here if it was not), and with `commit` the COMMIT with them. The
    results in the same order. One that fails stops those after it and the commit, and its
    error is raised as SQLAlchemy's `DBAPIError` (the connection invalidated when the error
    says it is lost): nothing of the transaction is committed then."""
    if not connection.in_transaction():
        connection.begin()
    dialect = connection.dialect
    driver_connection = connection.connection.driver_connection
    driver = _driver_statement(statement, dialect, ())
    try:
        try:
            with driver_connection.pipeline():
                cursor = driver_connection.cursor()
                cursor.executemany(driver.sql, [_driver_values(driver, parameters)
                                                for parameters in many], returning=True)
                if commit:
                    connection.commit()  # sent with the statements; raises their error
        except psycopg.Error as error:
            raise sa.exc.DBAPIError.instance(driver.sql, many, error, psycopg.Error) from error
        results = []
        for _ in many:
            rows = cursor.fetchall() if cursor.description is not None else []
            results.append(DriverResult(rows, cursor.rowcount))
            cursor.nextset()
        cursor.close()
        return results
    except sa.exc.DBAPIError as error:
        if not _invalidate_if_lost(connection, driver_connection, error) and commit:
            # As run_on_driver: end the failed transaction the caller cannot.
            with contextlib.suppress(psycopg.Error):
                driver_connection.rollback()
        raise


def _invalidate_if_lost(connection: sa.Connection, driver_connection: Any,
                        error: sa.exc.DBAPIError) -> bool:
    """Whether the error says the driver's connection is lost; if so the pool is told, as
    SQLAlchemy's own execution tells it, so that the connection is not handed out again."""
    if not connection.dialect.is_disconnect(error.orig, driver_connection, None):
        return False
    connection.invalidate(error.orig)
    error.connection_invalidated = True
    return True


def _on_driver(driver_connection: Any, dialect: sa.Dialect, statement: sa.Executable,
               parameters: dict[str, Any], *, fetch: bool = True) -> Any:
    """The statement's DriverResult, or with `fetch` false its cursor, whose results come
    later (in a pipeline)."""
    shape = tuple(sorted((name, len(value)) for name, value in parameters.items()
                         if isinstance(value, list)))
    driver = _driver_statement(statement, dialect, shape)
    values = _driver_values(driver, parameters)
    error_class = dialect.loaded_dbapi.Error
    try:
        cursor = driver_connection.cursor()
        cursor.execute(driver.sql, values)
        return _fetched(cursor) if fetch else cursor
    except error_class as error:  # as SQLAlchemy's own execution raises it (503s, the logs)
        raise sa.exc.DBAPIError.instance(driver.sql, parameters, error, error_class) from error


def _driver_values(driver: DriverStatement, parameters: dict[str, Any]) -> list[Any]:
    """The values of a statement's places, converted for the driver."""
    values, computed = [], {}
    for (name, index), fixed, process in zip(driver.places, driver.fixed, driver.processors,
                                             strict=True):
        if name in parameters:
            value = parameters[name] if index is None else parameters[name][index]
        elif callable(fixed):  # a bindparam's callable_: taken once per execution
            value = computed[name] if name in computed else computed.setdefault(name, fixed())
        else:
            value = fixed
        values.append(value if process is None else process(value))
    return values


def _fetched(cursor: Any) -> DriverResult:
    rows = cursor.fetchall() if cursor.description is not None else []
    result = DriverResult(rows, cursor.rowcount)
    cursor.close()
    return result


class DriverStatement(NamedTuple):
    sql: str
    places: tuple[tuple[str, int | None], ...]  # each place's parameter, and index in a list
    fixed: tuple[Any, ...]  # each place's value (or callable) when no parameter names it
    processors: tuple[Callable[[Any], Any] | None, ...]  # each place's conversion, if any


@functools.cache
def _driver_statement(statement: sa.Executable, dialect: sa.Dialect,
                      lists: tuple[tuple[str, int], ...]) -> DriverStatement:
    """A statement's SQL for the driver with its lists (name, length) expanded, where its
    values go, and how each is converted (a UTCDateTime to SQLite's text). Positional: a
    driver with named parameters (psycopg's `%(name)s`) takes `%s` as well."""
    compiled = statement.compile(dialect=_positional(dialect))
    if compiled.insert_prefetch or compiled.update_prefetch:
        # Defaults computed in Python when the statement runs: SQLAlchemy's execution does it.
        raise ValueError("a statement with Python-side column defaults runs on SQLAlchemy's "
                         "execution")
    lengths = dict(lists)
    expanded = compiled.construct_expanded_state(
        {name: [None] * lengths[name] if name in lengths else None for name in compiled.binds})
    source = {item: (name, index) for name, items in expanded.parameter_expansion.items()
              for index, item in enumerate(items)}
    places = tuple(source.get(name, (name, None)) for name in expanded.positiontup or ())
    binds = [compiled.binds[name] for name, _ in places]
    fixed = tuple(bind.callable or bind.value for bind in binds)
    processors = tuple(bind.type.dialect_impl(dialect).bind_processor(dialect)
                       for bind in binds)
    return DriverStatement(expanded.statement, places, fixed, processors)


@functools.cache
def _positional(dialect: sa.Dialect) -> sa.Dialect:
    """The dialect, or its twin that writes parameters by position (`%s`)."""
    if dialect.positional:
        return dialect
    if dialect.paramstyle != "pyformat":
        raise NotImplementedError(f"no positional form of {dialect.paramstyle}")
    twin = copy.copy(dialect)
    twin.paramstyle, twin.positional = "format", True
    return twin


def configure_sqlite(engine: sa.Engine) -> None:
    """Foreign keys on, WAL so readers do not block the writer, and a wait instead of 'locked'."""

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()


# How much longer than the statement timeout the service waits for any answer of the server
# (a statement, a commit, the pool's ping) before it gives the connection up.
ANSWER_GRACE_SECONDS = 0.5
_answer_budget: ContextVar[float | None] = ContextVar("engagement_answer_budget", default=None)


@contextmanager
def answer_budget(seconds: float) -> Iterator[None]:
    """Within the block, give up on the database after `seconds` (a probe's short budget)."""
    token = _answer_budget.set(seconds)
    try:
        yield
    finally:
        _answer_budget.reset(token)


class BoundedConnection(psycopg.Connection):
    """A psycopg connection that stops waiting for the server after `answer_timeout` seconds.

    PostgreSQL's statement_timeout is enforced by the server, so it cannot help when the
    server itself hangs (frozen, or a half-open connection): then the client side must give
    up. The connection is closed, so SQLAlchemy sees a disconnect, drops it from the pool and
    the request is answered 503 `unavailable`."""

    answer_timeout: float | None = None

    def wait(self, gen, interval=0.1, timeout=None):
        ours = min((t for t in (self.answer_timeout, _answer_budget.get()) if t), default=None)
        if ours is None or (timeout is not None and timeout <= ours):
            # The caller's own timeout (psycopg's notifies(), a cancel) is the caller's to handle.
            return super().wait(gen, interval=interval, timeout=timeout)
        try:
            return super().wait(gen, interval=interval, timeout=ours)
        except psycopg.errors._WaitTimeout:
            # The protocol state is unknown: nothing more can be sent on this connection.
            self.pgconn.finish()
            raise psycopg.OperationalError("the database did not answer in time") from None


# A pooled connection may have been cut while it sat in the pool (a restart, a failover). Testing
# it each time it is taken, as SQLAlchemy's pool_pre_ping does, costs every request a round
# trip; under load a connection goes back into use within milliseconds, where a cut is no more
# likely than during the request itself. So only a connection idle for longer is tested.
PING_AFTER_IDLE_SECONDS = 1.0


def configure_postgresql(engine: sa.Engine, statement_timeout: float) -> None:
    """Connect with BoundedConnection, waiting a little longer than the statement timeout, and
    test a connection taken from the pool after it sat idle."""
    answer_timeout = statement_timeout + ANSWER_GRACE_SECONDS if statement_timeout else None

    @sa.event.listens_for(engine, "do_connect")
    def _connect(_dialect, _record, cargs, cparams):
        connection = BoundedConnection.connect(*cargs, **cparams)
        connection.answer_timeout = answer_timeout
        return connection

    @sa.event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection, record):
        record.info["returned_at"] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _test_if_idle(dbapi_connection, record, _proxy):
        returned_at = record.info.get("returned_at")
        if returned_at is None or time.monotonic() - returned_at < PING_AFTER_IDLE_SECONDS:
            return  # new, or back in use at once
        try:
            engine.dialect.do_ping(dbapi_connection)
        except psycopg.Error as exc:
            # As pool_pre_ping does: the others pooled as long are as likely cut; the pool
            # drops them all and takes this request a new connection.
            raise sa.exc.InvalidatePoolError() from exc

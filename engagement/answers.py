"""Public answers built once per article version. A public GET reads the article's version (one
row by its key), makes the validator (ETag) from it, and answers 304 to a matching
If-None-Match before loading anything else; otherwise it serves the answer's JSON from a cache
keyed by that same validator, building it only on a miss. Writes never touch the cache: they
bump the version (`bump_article_version`), so the old entries are simply no longer asked for.

The cache is in-process by default and Redis when `ENGAGEMENT_CACHE_URL` names one, so that
every worker and host shares each answer built. A cache that is down or cold costs speed only:
a failed call is a miss, and after one the cache is left alone for a few seconds."""

from __future__ import annotations

import functools
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version

import marshmallow as ma
import redis
from cachelib import BaseCache, RedisCache, SimpleCache
from flask import Flask, current_app, request
from werkzeug.wrappers import Request

log = logging.getLogger(__name__)

# Answers kept in each process when no shared cache is set: a bound on its memory.
LOCAL_ENTRIES = 256
# A cached answer's lifetime: the version decides freshness; this only lets entries go, and
# soon, since readers can ask for many pages and spellings of queries. A hot answer is built
# again once in this while.
ENTRY_SECONDS = 600
# After a failed call, the shared cache is not asked again for this long.
RETRY_AFTER_SECONDS = 5.0
# Longest wait for the shared cache: slower than this, building the answer is cheaper.
CACHE_TIMEOUT_SECONDS = 0.25


class AnswerCache:
    """Answer bodies by key, in a cachelib store; an error is a miss, never a failed request."""

    def __init__(self, store: BaseCache, shared: bool):
        self.store = store
        self.shared = shared
        self._quiet_until = 0.0

    def get(self, key: str) -> bytes | None:
        return self._call(self.store.get, key)

    def set(self, key: str, body: bytes) -> None:
        self._call(self.store.set, key, body, ENTRY_SECONDS)

    def _call(self, operation: Callable, *args):
        if time.monotonic() < self._quiet_until:
            return None
        try:
            return operation(*args)
        except (redis.RedisError, OSError) as exc:
            self._quiet_until = time.monotonic() + RETRY_AFTER_SECONDS
            log.warning("answer cache unavailable, building answers meanwhile: %s", exc)
            return None


def register_answer_cache(app: Flask) -> None:
    url = app.config["CACHE_URL"]
    if url:
        client = redis.Redis.from_url(url, socket_timeout=CACHE_TIMEOUT_SECONDS,
                                      socket_connect_timeout=CACHE_TIMEOUT_SECONDS)
        store = RedisCache(host=client, key_prefix="engagement:answer:")
    else:
        store = SimpleCache(threshold=LOCAL_ENTRIES)
    app.extensions["engagement.answers"] = AnswerCache(store, shared=bool(url))


def answer_cache() -> AnswerCache:
    return current_app.extensions["engagement.answers"]


@dataclass(frozen=True)
class Decision:
    """What a versioned answer is for one request: its validator (the ETag), whether the
    client holds it already, and the key its body is cached under."""

    etag: str
    not_modified: bool
    cache_key: str


@dataclass(frozen=True)
class Versioned:
    """A public GET whose answer is decided by its `validator`: `validator(query, **view_args)`
    gives the article's version and whatever else the answer depends on, read from one row
    (`query`: the values of the view's query schema, as loaded; never changed). `query` tells
    apart answers of one validator (a thread's pages)."""

    schema: type[ma.Schema]
    validator: Callable[..., str | None]
    query: type[ma.Schema] | None

    def decide(self, query_string: str, view_args: dict, if_none_match,
               path: str) -> Decision | None:
        """The Decision for a request (`query_string` as the WSGI environ has it), or None when
        its query is refused or the validator gives None: the view then refuses the request
        and says why."""
        read = _query_read(self.query, query_string) if self.query else ({}, "")
        if read is None:
            return None
        values, variant = read
        state = self.validator(values, **view_args)
        if state is None:
            return None
        etag = f"{answer_format(self.schema)}.{state}"
        return Decision(etag, if_none_match.contains_weak(etag), f"{etag}:{path}:{variant}")


# The environ key under which fast_reads.py hands Flask what it decided for a request it did
# not answer (or the exception deciding raised), so that the view reads the validator once.
DECIDED = "engagement.answers.decided"


def versioned(schema: type[ma.Schema], validator: Callable[..., str | None],
              query: type[ma.Schema] | None = None) -> Callable:
    """A public GET answered by its Versioned: 304 when the client holds the answer, else its
    JSON from the cache, and only on a miss the view itself (its arguments parsed, its answer
    dumped with `schema`), whose body is then kept. Goes outside the view's argument and
    response decorators, so that a hit costs one small query and no parsing or dumping.
    Most hits are answered before Flask (fast_reads.py), which finds the Versioned on the
    view as `versioned`."""
    decider = Versioned(schema, validator, query)

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def answer(*args, **kwargs):
            decision = request.environ.pop(DECIDED, None)
            if isinstance(decision, Exception):
                raise decision
            if decision is None:
                decision = decider.decide(request.environ.get("QUERY_STRING", ""), kwargs,
                                          request.if_none_match, request.path)
            if decision is None:
                return view(*args, **kwargs)
            if decision.not_modified:
                response = current_app.response_class(status=304)
            else:
                response = _cached_or_built(decision.cache_key, view, args, kwargs)
            response.set_etag(decision.etag)
            return response

        answer.versioned = decider
        return answer

    return decorate


# Each process remembers this many query strings read: a page's widget sends the same one for
# every reader, so a 304 or a cached answer parses nothing.
QUERIES_REMEMBERED = 1024


@functools.lru_cache(maxsize=QUERIES_REMEMBERED)
def _query_read(query: type[ma.Schema], query_string: str) -> tuple[dict, str] | None:
    """The query's values as the view reads them (its schema's fields, the first value of
    each, as webargs takes them from werkzeug's request.args) and a text that tells them
    apart, or None when the view refuses them. `?limit=020` and `?limit=20` are then one
    answer, and parameters no field reads tell none apart."""
    args = Request({"QUERY_STRING": query_string}).args
    sent = tuple((name, args[name]) for name in _parameter_names(query) if name in args)
    return _loaded(query, sent)


@functools.cache
def _parameter_names(query: type[ma.Schema]) -> tuple[str, ...]:
    return tuple(field.data_key or name for name, field in query().fields.items())


@functools.lru_cache(maxsize=QUERIES_REMEMBERED)
def _loaded(query: type[ma.Schema], sent: tuple[tuple[str, str], ...]) -> tuple[dict, str] | None:
    try:
        values = query().load(dict(sent))
    except ma.ValidationError:
        return None
    return values, repr(sorted(values.items()))


def _cached_or_built(key: str, view: Callable, args, kwargs):
    cache = answer_cache()
    body = cache.get(key)
    if body is not None:
        return current_app.response_class(body, mimetype="application/json")
    response = view(*args, **kwargs)
    if response.status_code == 200:
        cache.set(key, response.get_data())
    return response


def answer_format(schema: type[ma.Schema]) -> str:
    """A short hash of what shapes an answer besides the data: the service's version, the
    schema's fields (nested ones included) and the settings that appear in answers. After a
    deploy that changes any of them, old validators and cached answers are not used."""
    formats = current_app.extensions.setdefault("engagement.answer_formats", {})
    name = schema.__name__
    if name not in formats:
        shape = [_package_version(), _shape(schema()), current_app.config["SHARE_NETWORKS"]]
        formats[name] = hashlib.sha256(repr(shape).encode()).hexdigest()[:12]
    return formats[name]


def _shape(schema: ma.Schema, seen: frozenset = frozenset()) -> list:
    """The field names of a schema and of the schemas it nests, as a comparable value."""
    shape = []
    for name, field in sorted(schema.fields.items()):
        inner = field
        if isinstance(field, ma.fields.List):
            inner = field.inner
        elif isinstance(field, ma.fields.Dict):
            inner = field.value_field
        if isinstance(inner, ma.fields.Nested) and type(inner.schema) not in seen:
            nested = type(inner.schema)
            shape.append((name, _shape(inner.schema, seen | {type(schema), nested})))
        else:
            shape.append((name, type(field).__name__))
    return shape


def _package_version() -> str:
    try:
        return version("engagement")
    except PackageNotFoundError:
        return "unknown"

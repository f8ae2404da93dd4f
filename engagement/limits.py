"""Rate limits per client address, one named limit per kind of request, each read from its
`ENGAGEMENT_LIMIT_*` setting when the request comes (flask-limiter strings like "5/minute").

Counts live in `ENGAGEMENT_RATELIMIT_STORAGE_URI`, shared by every worker and host. When that
store stops answering, public reads go unlimited (as the contract says: readers must not meet
the outage), and every other limit falls back to per-process counts of its share of the limit:
the limit divided by the number of worker processes (`WEB_CONCURRENCY`, which gunicorn.conf.py
sets to gunicorn's own count), rounded up, so that a client spread over all the workers gets
about the limit, not the limit once per worker. The store is checked again with a growing
back-off and takes over when it answers.

A write spends its quota only when it was not refused for its form (400, 413, 415, 422), by
the limit itself (429) or by the service's trouble (5xx), and was not an Idempotency-Key
replay: a client whose writes fail during an outage still has its quota when it retries. So a
write reserves its quota when it is checked, in one step of the store (requests in flight
cannot all pass the check), and is settled once answered: the reservation is given back, to
the store that took it, when the answer says it should have cost nothing."""

from __future__ import annotations

import functools
import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Flask, current_app, g
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, RedisStorage
from limits.strategies import MovingWindowRateLimiter, RateLimiter

from engagement.extensions import limiter

log = logging.getLogger("engagement.limits")


def _setting(name: str):
    def limit() -> str:
        value = current_app.config[f"LIMIT_{name}"]
        return per_process_share(value, worker_count()) if limit_store_down() else value

    return limit


def worker_count() -> int:
    try:
        return max(int(os.environ.get("WEB_CONCURRENCY", "1") or 1), 1)
    except ValueError:
        return 1


def per_process_share(limits: str, workers: int) -> str:
    """Each limit of a flask-limiter string divided among `workers` processes, rounded up."""
    return ";".join(
        f"{max(math.ceil(item.amount / workers), 1)}/{item.multiples} {item.GRANULARITY.name}"
        for item in parse_many(limits))


# Answers that do not spend a write's quota (the Idempotency-Key replay header aside).
REFUSED_WITHOUT_COST = frozenset({400, 413, 415, 422, 429})


def spends_quota(response) -> bool:
    if response.status_code >= 500 or response.status_code in REFUSED_WITHOUT_COST:
        return False
    return response.headers.get("Idempotent-Replayed") != "true"


def limit_store_down() -> bool:
    """Whether the shared store was found unreachable and limits run on per-process counts."""
    # flask-limiter keeps this state privately; its fallback is what decides it.
    return bool(getattr(limiter, "_storage_dead", False))


def _write_limit(name: str, scope: str):
    """A write's limit, whose quota is taken when the request is checked (see _settle_writes)."""
    setting = _setting(name)

    def reserving() -> str:
        # flask-limiter reads the limit right before it takes the quota, from the store in use
        # at that moment: note that store, which the settlement goes back to even if the
        # limiter switches stores (Redis lost, or found again) while the request runs.
        g.setdefault("write_reservations", {})[scope] = (limiter.limiter, time.time())
        return setting()

    return limiter.shared_limit(reserving, scope=scope)


comments = _write_limit("COMMENTS", "comments")
edits = _write_limit("EDITS", "edits")
flags = _write_limit("FLAGS", "flags")
SHARES_SCOPE = "shares"
shares = _write_limit("SHARES", SHARES_SCOPE)
votes = _write_limit("VOTES", "votes")
subscriptions = _write_limit("SUBSCRIPTIONS", "subscriptions")
READS_SCOPE = "reads"
reads = limiter.shared_limit(_setting("READS"), scope=READS_SCOPE, exempt_when=limit_store_down)
admin = limiter.shared_limit(_setting("ADMIN"), scope="admin")


def spend(limit: str, scope: str, key: str) -> int | None:
    """Count one event against a limit outside a view's decorator (a failed sign-in, a mail
    to one mailbox): None while allowed, else the seconds until it is allowed again. Limits
    off, or a store that does not answer, allow it, as the decorators do. A 429 that the
    request answers then describes this limit in its headers (_describe_refusal)."""
    if not current_app.config["RATELIMIT_ENABLED"]:
        return None
    strategy = limiter.limiter
    try:
        for item in parse_many(limit):
            if not strategy.hit(item, scope, key):
                reset_at, _ = strategy.get_window_stats(item, scope, key)
                g.refused_by = (item, reset_at)
                return max(1, int(reset_at - time.time()) + 1)
    except Exception:  # the store is down: fail open, like the decorators
        log.warning("rate-limit store unreachable while counting %s", scope)
    return None


def count_read(client_key: Callable[[], str]) -> list[tuple[str, str]] | None:
    """Count a public read answered before Flask (fast_reads.py) as the `reads` decorator
    counts it (count_before_flask)."""
    return count_before_flask(READS_SCOPE, "READS", client_key)


def count_before_flask(scope: str, name: str,
                       client_key: Callable[[], str]) -> list[tuple[str, str]] | None:
    """Count a request answered before Flask (fast_reads.py, fast_shares.py) as the view's
    decorator counts it: each limit of ENGAGEMENT_LIMIT_<name> in turn, in flask-limiter's
    entries for the client (its key: the prefix, the client's limit key, asked only when
    limits are on, the scope), so that answers from either side share one count. Gives the
    X-RateLimit headers flask-limiter would write (of the limit with the shortest window), or
    None when a limit is full or the store fails: the request then goes on to Flask, which
    refuses it with its 429, or falls back as it does (and so while the store is down).
    The limits of a refused request that had room are given back, so that Flask counts it
    once; `uncount` gives back a request counted here that goes on to Flask after all."""
    config = current_app.config
    if not config["RATELIMIT_ENABLED"]:
        return []
    if limit_store_down():
        return None  # flask-limiter's own checks notice when the store is back
    strategy = limiter.limiter
    place = _place(client_key(), scope)
    taken: list[RateLimitItem] = []
    try:
        for item in _in_order(config[f"LIMIT_{name}"]):
            if not strategy.hit(item, *place):
                for earlier in taken:
                    give_back(strategy, earlier, earlier.key_for(*place))
                return None
            taken.append(item)
        if not config["RATELIMIT_HEADERS_ENABLED"]:
            return []
        reset_at, remaining = strategy.get_window_stats(taken[0], *place)
    except Exception:  # the store is down: say so, as flask-limiter would, and let it fall back
        if config["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] and not limit_store_down():
            log.warning("rate-limit store unreachable: limits run per process meanwhile")
            # flask-limiter's own flag: without it, Flask would wait on the store again.
            limiter._storage_dead = True
        return None
    return [("X-RateLimit-Limit", str(taken[0].amount)),
            ("X-RateLimit-Remaining", str(remaining)),
            ("X-RateLimit-Reset", str(int(reset_at + 1)))]


def uncount(scope: str, name: str, client_key: str) -> None:
    """Give back what count_before_flask counted for a request that goes on to Flask after
    all (which counts it again), as _settle_writes gives back a write's reservation."""
    config = current_app.config
    if not config["RATELIMIT_ENABLED"] or limit_store_down():
        return
    strategy, place = limiter.limiter, _place(client_key, scope)
    for item in _in_order(config[f"LIMIT_{name}"]):
        give_back(strategy, item, item.key_for(*place))


def _place(client_key: str, scope: str) -> tuple[str, ...]:
    """Where flask-limiter counts a client's requests of a scope: an empty prefix is left out,
    not kept as ""."""
    prefix = current_app.config["RATELIMIT_KEY_PREFIX"]
    return (prefix, client_key, scope) if prefix else (client_key, scope)


@functools.lru_cache(maxsize=64)
def _in_order(limits: str) -> tuple[RateLimitItem, ...]:
    """A limit string's items in the order flask-limiter checks them (shortest window first),
    parsed once: a read answered before Flask would parse it again each time."""
    return tuple(sorted(parse_many(limits)))


# A throttle looks this many windows ahead for room (a week of an hourly limit) before it
# gives up on an event.
THROTTLE_HORIZON_WINDOWS = 168


@dataclass(frozen=True)
class Slot:
    """When a throttled event may happen, and whether it is the first that its window pushed
    to a later one (so that the throttling is told once per key and window)."""

    at: datetime
    throttling_began: bool = False


def reserve(limit: str, scope: str, key: str, *, now: datetime) -> Slot | None:
    """Count one event against a limit that delays instead of refusing (the confirmation
    emails to one mail domain): its place is in the window of `now` (windows fixed to the
    clock: each hour of "200/hour") or, that one full, in the first later window with room,
    whose start the Slot names. None past THROTTLE_HORIZON_WINDOWS full windows. Limits off,
    or a store that does not answer, let it happen now, as `spend` does."""
    if not current_app.config["RATELIMIT_ENABLED"]:
        return Slot(now)
    storage = limiter.limiter.storage
    at, began = now, False
    try:
        for item in parse_many(limit):
            period = item.get_expiry()
            window = int(at.timestamp()) // period
            for ahead in range(THROTTLE_HORIZON_WINDOWS):
                # A window's count lives until that window is over, whatever the clocks say.
                counted = storage.incr(item.key_for(scope, key, str(window + ahead)),
                                       (ahead + 2) * period)
                if counted <= item.amount:
                    break
                began = began or (ahead == 0 and counted == item.amount + 1)
            else:
                return None
            if ahead:
                at = max(at, datetime.fromtimestamp((window + ahead) * period, UTC))
    except Exception:  # the store is down: fail open, like the decorators
        log.warning("rate-limit store unreachable while counting %s", scope)
        return Slot(now)
    return Slot(at, began)


def register_limits(app: Flask) -> None:
    config = app.config
    # The OpenAPI document and its page are public reads like any other.
    if "api-docs" in app.blueprints:
        reads(app.blueprints["api-docs"])
    config.setdefault("RATELIMIT_STRATEGY", "moving-window")
    config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    config.setdefault("RATELIMIT_KEY_PREFIX", "engagement")
    if config["RATELIMIT_STORAGE_URI"].startswith(("redis://", "rediss://", "unix://")):
        # A store that hangs must not hold the request: past this, limits run per process.
        timeout = config["RATELIMIT_STORAGE_TIMEOUT"]
        config.setdefault("RATELIMIT_STORAGE_OPTIONS",
                          {"socket_timeout": timeout, "socket_connect_timeout": timeout})
    # Registered before the limiter's own: after_request functions run last-registered first,
    # so this one runs after flask-limiter has written its headers.
    app.after_request(_retry_after_where_it_means_something)
    limiter.init_app(app)
    # And this one before: X-RateLimit-Remaining counts what the write was settled at.
    app.after_request(_settle_writes)


def _settle_writes(response):
    """Give back the quota a write reserved when it was checked, if its answer says it should
    have cost nothing (spends_quota). A 429 gives back what the request's other limits took
    (each limit of "5/minute;30/hour" is taken in turn until one is full), not the full one."""
    reserved = g.pop("write_reservations", {})
    if not reserved or spends_quota(response):
        return response
    for taken in limiter.current_limits:
        store = reserved.get(taken.request_args[-1])  # the limit's scope
        if store is None or taken.breached:
            continue
        strategy, reserved_at = store
        # Past its window, the entry has gone by itself; the newest left is another's.
        if time.time() - reserved_at < taken.limit.get_expiry():
            give_back(strategy, taken.limit, taken.key)
    return response


def give_back(strategy: RateLimiter, item: RateLimitItem, key: str) -> None:
    """Take one entry out of `item`'s moving window at `key` in the store `strategy` counts in.
    The store's own layout says how: one function per kind below. Another strategy or store,
    or one that does not answer, keeps the entry: the write is counted, as if it had passed."""
    if not isinstance(strategy, MovingWindowRateLimiter):
        return
    storage = strategy.storage
    try:
        if isinstance(storage, MemoryStorage):
            _give_back_in_memory(storage, key)
        elif isinstance(storage, RedisStorage):  # redis+cluster:// and redis+sentinel:// too
            _give_back_in_redis(storage, key)
    except Exception:  # the store is down: the entry stays, like any write it counted
        log.warning("rate-limit store unreachable while giving back %s", item)


# Both give back the newest entry, which is this request's own or a later one of the same
# client: the count is exact, and the window may open again a request's duration sooner.

def _give_back_in_memory(storage: MemoryStorage, key: str) -> None:
    # limits' MemoryStorage (memory://, and flask-limiter's fallback while Redis is down) keeps
    # a moving window as `events[key]`, its entries newest first (acquire_entry inserts at the
    # front), changed under `locks[key]`.
    with storage.locks[key]:
        if events := storage.events.get(key):
            del events[0]


def _give_back_in_redis(storage: RedisStorage, key: str) -> None:
    # limits' RedisStorage and its cluster and sentinel kinds keep a moving window as a list at
    # `prefixed_key(key)` of the entries' timestamps, newest first (acquire_moving_window.lua
    # pushes on the left); LPOP takes the newest in one step.
    storage.get_connection().lpop(storage.prefixed_key(key))


def _retry_after_where_it_means_something(response):
    """flask-limiter sets Retry-After to its window's reset on every answer it counted. A 429
    keeps it (when the limit lets the client in again); a 503 says when to try again itself
    (ENGAGEMENT_RETRY_AFTER_SECONDS); on any other answer it would ask a client to wait for
    nothing (X-RateLimit-Reset tells when the window starts again)."""
    if response.status_code == 503:
        response.headers["Retry-After"] = str(current_app.config["RETRY_AFTER_SECONDS"])
    elif response.status_code != 429:
        response.headers.pop("Retry-After", None)
    elif refused := g.pop("refused_by", None):
        _describe_refusal(response, *refused)
    return response


def _describe_refusal(response, item: RateLimitItem, reset_at: float) -> None:
    """A 429 refused by a limit counted with `spend` (failed sign-ins) says that limit, full,
    in the headers flask-limiter wrote for the request's own limit (the admin calls')."""
    headers = response.headers
    if current_app.config["RATELIMIT_HEADERS_ENABLED"]:
        headers["X-RateLimit-Limit"] = str(item.amount)
        headers["X-RateLimit-Remaining"] = "0"
        headers["X-RateLimit-Reset"] = str(int(reset_at))
    headers["Retry-After"] = str(max(1, int(reset_at - time.time()) + 1))


def limit_store_status() -> str:
    """For /readyz: "ok", or "degraded" while limits run on per-process counts."""
    if not current_app.config["RATELIMIT_ENABLED"]:
        return "disabled"
    try:
        healthy = limiter.storage.check()
    except Exception:  # any failure to reach the store means the same to a probe
        healthy = False
    return "ok" if healthy else "degraded"

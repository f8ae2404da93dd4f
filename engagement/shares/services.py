"""Share rules: which networks count, counting a reader once per article and network within
the de-duplication window, and reading the tallies. Functions flush; the route commits (the
shares answered before Flask ask record_share for the commit, and record_shares_together, which
counts several readers' shares in one transaction, always commits)."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from engagement.articles.models import Article
from engagement.articles.services import (
    ArticlePolicy,
    bump_statement,
    forget_loaded_counters,
    record_article,
)
from engagement.clients import (
    FINGERPRINT_ADDRESS_CHARS,
    IPAddress,
    reader_bounds,
    room_for_reader,
)
from engagement.database import (
    UTCDateTime,
    delete_where,
    on_conflict_insert,
    run_many,
    run_on_driver,
)
from engagement.extensions import db
from engagement.moderation.services import ADDRESS_BANS, address_banned
from engagement.shares.models import Share, ShareClaim, ShareTally

# Names a network is also known by.
NETWORK_ALIASES = {"twitter": "x"}


@dataclass(frozen=True)
class SharePolicy:
    articles: ArticlePolicy
    networks: tuple[str, ...]
    dedupe_window: timedelta

    @classmethod
    def from_config(cls, config) -> SharePolicy:
        return cls(
            articles=ArticlePolicy.from_config(config),
            networks=tuple(config["SHARE_NETWORKS"]),
            dedupe_window=timedelta(seconds=config["SHARE_DEDUPE_SECONDS"]),
        )


def known_network(name: str, networks: Iterable[str]) -> str | None:
    """The configured network a name stands for (`twitter` is `x`), or None."""
    name = name.strip().lower()
    name = NETWORK_ALIASES.get(name, name)
    return name if name in networks else None


# The statements of a share are built once and run with its values on the driver's cursor
# (database.run_on_driver): building one, or SQLAlchemy's execution of it, costs more CPU than
# running it, and every reader's share runs them all. They name the tables, not the mapped
# classes, whose statements take the ORM's slower path.
_articles, _claims, _tallies = Article.__table__, ShareClaim.__table__, ShareTally.__table__
_shares = Share.__table__
_TALLIES = sa.select(_tallies.c.network, _tallies.c.count).where(
    _tallies.c.article_id == sa.bindparam("article_id"))


@functools.cache
def _share_state(dialect: str) -> sa.Select:
    """What a share must know before it writes, in one round trip: whether the article is
    recorded, the address bans in force, and the article's tallies (a row each; the one row
    has none when it has no tally). On PostgreSQL it also takes the transaction's lock on the
    article, network and address (`lock`), so that the claim, a later statement, reads the
    address's other readers after those before it committed."""
    state = [
        sa.exists().where(_articles.c.id == sa.bindparam("article_id")).label("recorded"),
        ADDRESS_BANS.label("address_bans"),
    ]
    if dialect == "postgresql":
        state.append(sa.func.pg_advisory_xact_lock(sa.bindparam("lock")).label("locked"))
    subquery = sa.select(*state).subquery("state")
    return sa.select(subquery, _tallies.c.network, _tallies.c.count).select_from(
        subquery.outerjoin(_tallies, _tallies.c.article_id == sa.bindparam("article_id")))


def _lock_key(article_id: str, network: str, client_hash: str) -> int:
    """The advisory lock (a signed 64-bit key) the shares of one address on an article and
    network queue on."""
    address = client_hash[:FINGERPRINT_ADDRESS_CHARS]
    key = hashlib.blake2b(f"{article_id} {network} {address}".encode(), digest_size=8)
    return int.from_bytes(key.digest(), "big", signed=True)


# Counting a share: claim it for the client (new, or renewed once the window passed) while its
# address has room for another reader, and only when the claim was written, log the share, add
# it to its tally (which answers its new count) and bump the article. Parameters: article_id,
# network, now, since, and reader_bounds' client_hash, lowest and highest.
_ARTICLE, _NETWORK = sa.bindparam("article_id"), sa.bindparam("network")
_NOW = sa.bindparam("now", type_=UTCDateTime())
_SHARE_BUMP = {"comments": 0, "top_level": 0, "shares": 1}  # bump_statement's deltas


@functools.cache
def _claim(dialect: str) -> sa.Insert:
    room = room_for_reader(_claims.c.client_hash, _claims.c.article_id == _ARTICLE,
                           _claims.c.network == _NETWORK,
                           _claims.c.counted_at > sa.bindparam("since"))
    claim = on_conflict_insert(dialect)(_claims).from_select(
        ["article_id", "network", "client_hash", "counted_at"],
        sa.select(_ARTICLE, _NETWORK, sa.bindparam("client_hash"), _NOW).where(room))
    return claim.on_conflict_do_update(
        index_elements=_claims.primary_key.columns,
        set_={"counted_at": claim.excluded.counted_at},
        where=_claims.c.counted_at <= sa.bindparam("since"),
    )


@functools.cache
def _count_in_steps(dialect: str) -> tuple[sa.Insert, sa.Insert, sa.Insert]:
    """The claim (its rowcount says whether the share counts), the log, and the tally's
    increment, which answers the new count."""
    tally = on_conflict_insert(dialect)(_tallies).values(
        article_id=_ARTICLE, network=_NETWORK, count=1)
    return (
        _claim(dialect).execution_options(preserve_rowcount=True),
        sa.insert(_shares).values(article_id=_ARTICLE, network=_NETWORK, created_at=_NOW)
        .inline(),  # no RETURNING of the new id: nothing reads it
        tally.on_conflict_do_update(
            index_elements=_tallies.primary_key.columns, set_={"count": _tallies.c.count + 1},
        ).returning(_tallies.c.count),
    )


@functools.cache
def _count_in_one() -> sa.Select:
    """PostgreSQL: the same steps as one statement, chained by WITH on the claim's RETURNING.
    One round trip, and the article's hottest rows (its tally and counters) stay locked only
    from it to the commit. It answers the tally's new count, or no row when the claim was not
    written."""
    claimed = _claim("postgresql").returning(_claims.c.article_id, _claims.c.network)
    claimed = claimed.cte("claimed")
    logged = sa.insert(_shares).from_select(
        ["article_id", "network", "created_at"],
        sa.select(claimed.c.article_id, claimed.c.network, _NOW)).cte("logged")
    tallied = on_conflict_insert("postgresql")(_tallies).from_select(
        ["article_id", "network", "count"],
        sa.select(claimed.c.article_id, claimed.c.network, sa.literal(1)))
    tallied = tallied.on_conflict_do_update(
        index_elements=_tallies.primary_key.columns, set_={"count": _tallies.c.count + 1},
    ).returning(_tallies.c.count).cte("tallied")
    bumped = bump_statement(share=True).where(sa.exists(claimed.select()))
    return sa.select(tallied.c.count).add_cte(logged, bumped.cte("bumped"))


@dataclass(frozen=True)
class ShareRecorded:
    """A share's answer (ShareRecordedOut)."""

    counted: bool
    share_counts: dict[str, int]


@dataclass(frozen=True)
class ShareToRecord:
    """One reader's share, as record_share and record_shares_together take it."""

    article_id: str
    network: str
    address: IPAddress | None
    client_hash: str
    now: datetime

    @functools.cached_property
    def lock(self) -> int:
        """The advisory lock its shares queue on (PostgreSQL)."""
        return _lock_key(self.article_id, self.network, self.client_hash)

    def parameters(self, policy: SharePolicy) -> dict[str, Any]:
        return {"article_id": self.article_id, "network": self.network, "now": self.now,
                "since": self.now - policy.dedupe_window, **reader_bounds(self.client_hash)}


def record_share(
    connection: sa.Connection, article_id: str, network: str, *, address: IPAddress | None,
    client_hash: str, now: datetime, policy: SharePolicy, commit: bool = False,
) -> ShareRecorded:
    """Count one share unless the client's address is banned, or this client was counted for
    the same article and network within the window; and the article's counts after it. The
    claim row, not this process, decides the race. One address counts as at most
    READERS_PER_ADDRESS readers, however many user agents it sends, and however many at once:
    the claim reads the address's other readers in the statement that writes it, which SQLite
    runs under its one write lock, and on PostgreSQL after the state's lock on the article,
    network and address. Every reader's share writes the article's hottest rows (its tally and
    counters): it takes those rows' locks last, just before the caller commits. On the
    caller's connection (the session's, or one of its own), in its transaction. A caller
    with nothing more to write there asks for the `commit` with the share's last statement
    (database.run_on_driver): those rows are then locked for the database's work alone."""
    share = ShareToRecord(article_id, network, address, client_hash, now)
    parameters = share.parameters(policy)
    rows = run_on_driver(connection, _share_state(connection.dialect.name),
                         {**parameters, "lock": share.lock}).rows
    recorded, address_bans = rows[0][:2]
    tallies = _tallies_of(rows)
    counted = False
    if not address_banned(address, address_bans):
        if not recorded:
            record_article(connection, article_id, policy.articles, now)  # or NotFound
        count = _count(connection, parameters, commit)
        if count is not None:
            counted, tallies[network] = True, count
    if commit and connection.in_transaction():  # not counted, or counted in steps
        connection.commit()
    return ShareRecorded(counted, _all_networks(tallies, policy.networks))


def _tallies_of(state: list[tuple]) -> dict[str, int]:
    """The tallies read by _share_state: its last two columns, a row each."""
    return {row[-2]: row[-1] for row in state if row[-2] is not None}


def shares_together(batch: Sequence[ShareToRecord], share: ShareToRecord) -> bool:
    """Whether record_shares_together may count `share` with those of `batch`: not with
    another of its address on the same article and network (the second must see the first's
    claim, committed), nor with one of another network of its article. A batch then writes an
    article's rows in the order a single share does, its tally before its counters, and no two
    transactions can each hold a row the other waits for."""
    return not any(other.article_id == share.article_id
                   and (other.network != share.network or other.lock == share.lock)
                   for other in batch)


def record_shares_together(connection: sa.Connection, shares: Sequence[ShareToRecord],
                           policy: SharePolicy) -> list[ShareRecorded | None]:
    """PostgreSQL: several readers' shares (each admitted by `shares_together`) counted as
    record_share counts each, in one transaction committed on return, and two round trips
    for them all: the states, then every share's count with the COMMIT. Each share's answer
    is the one it would have alone, its tally's count right after its own (the shares of one
    tally are counted in turn), and one commit makes them all durable at once. None for a
    share of an article not yet recorded: record_share must take it alone (it records the
    article, or refuses it). A database error is raised for them all, nothing committed.
    The address locks are taken in the order of their keys, then the article's rows in the
    order of the articles, as every other transaction of shares takes them."""
    parameters = [share.parameters(policy) for share in shares]
    by_lock = sorted(range(len(shares)), key=lambda index: shares[index].lock)
    states = dict(zip(by_lock, run_many(connection, _share_state("postgresql"), [
        {**parameters[index], "lock": shares[index].lock} for index in by_lock]), strict=True))
    to_count = sorted(
        (index for index, share in enumerate(shares)
         if states[index].rows[0][0] and not address_banned(share.address,
                                                            states[index].rows[0][1])),
        key=lambda index: (shares[index].article_id, shares[index].network))
    if to_count:
        counts = dict(zip(to_count, run_many(connection, _count_in_one(), [
            {**parameters[index], **_SHARE_BUMP} for index in to_count], commit=True),
            strict=True))
    else:
        counts = {}
        connection.commit()
    answers: list[ShareRecorded | None] = []
    for index, share in enumerate(shares):
        state = states[index].rows
        tallies = _tallies_of(state)
        if not state[0][0]:
            answers.append(None)
            continue
        count = counts[index].rows if index in counts else []
        if count:
            tallies[share.network] = count[0][0]
        answers.append(ShareRecorded(bool(count), _all_networks(tallies, policy.networks)))
    return answers


def _count(connection: sa.Connection, share: dict[str, Any], commit: bool) -> int | None:
    """Count the share: the tally's new count, or None when the client was already counted in
    the window or its address has no room for another reader. One statement on PostgreSQL;
    elsewhere (SQLite, one writer at a time) the steps, and the article's bump."""
    if connection.dialect.name == "postgresql":
        rows = run_on_driver(connection, _count_in_one(), {**share, **_SHARE_BUMP},
                             commit=commit).rows
        if not rows:
            return None
    else:
        claim, log, tally = _count_in_steps(connection.dialect.name)
        if run_on_driver(connection, claim, share).rowcount != 1:
            return None
        run_on_driver(connection, log, share)
        rows = run_on_driver(connection, tally, share).rows
        run_on_driver(connection, bump_statement(share=True), {**share, **_SHARE_BUMP})
    forget_loaded_counters(share["article_id"])
    return rows[0][0]


def share_activity(since: datetime) -> sa.Select:
    """(article_id, comments=0, shares) for shares counted since a moment."""
    return (
        sa.select(Share.article_id, sa.literal(0).label("comments"),
                  sa.func.count().label("shares"))
        .where(Share.created_at >= since)
        .group_by(Share.article_id)
    )


def share_counts(article_id: str, networks: Iterable[str]) -> dict[str, int]:
    """Every configured network's count, zeros included, and their `total`."""
    return _all_networks(dict(db.session.execute(_TALLIES, {"article_id": article_id}).all()),
                         networks)


def _all_networks(tallies: dict[str, int], networks: Iterable[str]) -> dict[str, int]:
    counts = {network: tallies.get(network, 0) for network in networks}
    counts["total"] = sum(counts.values())
    return counts


def share_totals(article_ids: Iterable[str], networks: Iterable[str]) -> dict[str, int]:
    """Total shares on the configured networks per article, in one query."""
    rows = db.session.execute(
        sa.select(ShareTally.article_id, sa.func.sum(ShareTally.count))
        .where(ShareTally.article_id.in_(list(article_ids)),
               ShareTally.network.in_(list(networks)))
        .group_by(ShareTally.article_id)
    )
    return {article_id: int(total) for article_id, total in rows}


def purge_share_claims(before: datetime) -> int:
    """Forget who was counted before a moment: past the de-duplication window, a claim
    stops nothing, and only grows the table."""
    return delete_where(db.session, ShareClaim, ShareClaim.counted_at < before)


def purge_share_log(before: datetime) -> int:
    """Drop counted shares older than any trending window: the tallies keep the counts."""
    return delete_where(db.session, Share, Share.created_at < before)

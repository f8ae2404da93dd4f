"""Share rules: which networks count, counting a reader once per article and network within
the de-duplication window, and reading the tallies. Functions flush; the route commits."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from engagement.articles.models import Article
from engagement.articles.services import ArticlePolicy, bump_article_version, find_article
from engagement.clients import FINGERPRINT_ADDRESS_CHARS
from engagement.database import on_conflict_insert
from engagement.extensions import db
from engagement.shares.models import Share, ShareClaim, ShareTally

# Readers one address may count as (by user agent) per article and network in the window:
# a household shares one address, but a forger changes user agents at will.
READERS_PER_ADDRESS = 3

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


# The statements of a share are built once and run with its values: building one costs more
# CPU than running it, and every reader's share runs them all. They name the tables, not the
# mapped classes, whose statements take the ORM's slower path.
_articles, _claims, _tallies = Article.__table__, ShareClaim.__table__, ShareTally.__table__
_SHARE_STATE = sa.select(
    sa.exists().where(_articles.c.id == sa.bindparam("article_id")),
    # Other readers of the client's address counted in the window. Their fingerprints (hex,
    # the address's hash first) are a range of the claims' key: an index range on every
    # database, where a LIKE prefix is one only under the C collation.
    sa.select(sa.func.count()).where(
        _claims.c.article_id == sa.bindparam("article_id"),
        _claims.c.network == sa.bindparam("network"),
        _claims.c.client_hash.between(sa.bindparam("lowest"), sa.bindparam("highest")),
        _claims.c.client_hash != sa.bindparam("client_hash"),
        _claims.c.counted_at > sa.bindparam("since"),
    ).scalar_subquery(),
)
_LOG_SHARE = sa.insert(Share.__table__)
_TALLIES = sa.select(_tallies.c.network, _tallies.c.count).where(
    _tallies.c.article_id == sa.bindparam("article_id"))


@functools.cache
def _counting(dialect: str) -> tuple[sa.Insert, sa.Insert]:
    """The claim (new, or renewed once the window passed: its rowcount says whether the share
    counts) and the tally's increment, built once per database kind."""
    insert = on_conflict_insert(dialect)
    claim = insert(_claims)
    claim = claim.on_conflict_do_update(
        index_elements=_claims.primary_key.columns,
        set_={"counted_at": claim.excluded.counted_at},
        where=_claims.c.counted_at <= sa.bindparam("since"),
    ).execution_options(preserve_rowcount=True)
    tally = insert(_tallies).on_conflict_do_update(
        index_elements=_tallies.primary_key.columns, set_={"count": _tallies.c.count + 1})
    return claim, tally


def record_share(
    article_id: str, network: str, *, client_hash: str, now: datetime, policy: SharePolicy
) -> bool:
    """Count one share unless this client was counted for the same article and network within
    the window; True when it counted. The claim row, not this process, decides the race.
    One address counts as at most READERS_PER_ADDRESS readers, however many user agents it
    sends. Every reader's share writes the article's hottest rows (its tally and counters):
    it takes those rows' locks last, just before the route commits."""
    since = now - policy.dedupe_window
    address = client_hash[:FINGERPRINT_ADDRESS_CHARS]
    recorded, others = db.session.execute(_SHARE_STATE, {
        "article_id": article_id, "network": network, "client_hash": client_hash,
        "lowest": address.ljust(len(client_hash), "0"),
        "highest": address.ljust(len(client_hash), "f"), "since": since,
    }).one()
    if not recorded:
        find_article(article_id, policy.articles, now)  # records it, or NotFound
    if others >= READERS_PER_ADDRESS:
        return False
    claim, tally = _counting(db.session.get_bind().dialect.name)
    share = {"article_id": article_id, "network": network}
    counted = db.session.execute(
        claim, {**share, "client_hash": client_hash, "counted_at": now, "since": since}
    ).rowcount == 1
    if counted:
        db.session.execute(_LOG_SHARE, {**share, "created_at": now})
        db.session.execute(tally, {**share, "count": 1})
        bump_article_version(article_id, shares=1)
    return counted


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
    tallies = dict(db.session.execute(_TALLIES, {"article_id": article_id}).all())
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
    return db.session.execute(
        sa.delete(ShareClaim).where(ShareClaim.counted_at < before)
        .execution_options(synchronize_session=False)
    ).rowcount


def purge_share_log(before: datetime) -> int:
    """Drop counted shares older than any trending window: the tallies keep the counts."""
    return db.session.execute(
        sa.delete(Share).where(Share.created_at < before)
        .execution_options(synchronize_session=False)
    ).rowcount

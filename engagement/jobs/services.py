"""The scheduled jobs: the housekeeping that keeps stored data within what the settings
promise (retention) and the tables from growing with every anonymous request. Each job is
idempotent, so running it twice, late or from two places at once does no harm; each says in
one sentence what it did."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from engagement.admin.services import forget_failed_sign_in_addresses, purge_audit
from engagement.articles.counters import counter_differences, recount
from engagement.comments.services import forget_client_addresses
from engagement.idempotency.services import purge_answers
from engagement.mail.outbox import purge_batch_keys, purge_failed
from engagement.newsletter.services import purge_expired_tokens, purge_unconfirmed
from engagement.notifications import services as notifications
from engagement.shares.services import purge_share_claims, purge_share_log
from engagement.trending.services import WINDOWS

Config = dict[str, Any]
log = logging.getLogger("engagement.jobs")


@dataclass(frozen=True)
class Job:
    name: str
    help: str
    run: Callable[[Config, datetime], int]
    done: str  # what it did, with {n}


def repair_counters() -> int:
    """`counts verify --fix` on a schedule: a drift means a write bypassed the services (a
    hand-made SQL change, say); each one is logged before it is repaired."""
    differences = counter_differences()
    for difference in differences:
        log.warning("counters of %s drifted: %s", difference.article_id, difference)
        recount(difference.article_id)
    return len(differences)


def _forget_addresses(before: datetime) -> int:
    return forget_client_addresses(before=before) + forget_failed_sign_in_addresses(before=before)


# A batch key is busy for minutes (while its message waits for its first attempt): a day
# leaves no doubt.
MAIL_BATCH_KEYS_KEPT = timedelta(days=1)


def _days(config: Config, key: str) -> timedelta:
    return timedelta(days=config[key])


JOBS = [
    Job("forget-addresses",
        "Erase the client addresses of comments and failed sign-ins past IP_RETENTION_DAYS.",
        lambda config, now: _forget_addresses(before=now - _days(config, "IP_RETENTION_DAYS")),
        "erased the client address of {n} comments and failed sign-ins"),
    Job("purge-share-claims", "Forget who shared what once SHARE_DEDUPE_SECONDS have passed.",
        lambda config, now: purge_share_claims(
            before=now - timedelta(seconds=config["SHARE_DEDUPE_SECONDS"])),
        "removed {n} expired share claims"),
    Job("purge-share-log", "Drop counted shares older than the longest trending window.",
        lambda config, now: purge_share_log(before=now - max(WINDOWS.values())),
        "removed {n} shares older than the trending windows"),
    Job("purge-tokens", "Drop expired confirmation and unsubscribe links (newsletter, replies).",
        lambda config, now: (purge_expired_tokens(now=now)
                             + notifications.purge_expired_tokens(now=now)),
        "removed {n} expired tokens"),
    Job("purge-unconfirmed", "Erase signups never confirmed within UNCONFIRMED_SIGNUP_DAYS.",
        lambda config, now: purge_unconfirmed(
            before=now - _days(config, "UNCONFIRMED_SIGNUP_DAYS")),
        "erased {n} never-confirmed signups"),
    Job("purge-idempotency-keys", "Drop the answers kept for Idempotency-Key retries after a day.",
        lambda config, now: purge_answers(now=now),
        "removed {n} answers kept for retries"),
    Job("purge-mail-batches", "Forget the batch keys of mail untouched for a day.",
        lambda config, now: purge_batch_keys(before=now - MAIL_BATCH_KEYS_KEPT),
        "removed {n} batch keys"),
    Job("purge-failed-mail", "Drop mail refused for good, after FAILED_MAIL_RETENTION_DAYS.",
        lambda config, now: purge_failed(before=now - _days(config, "FAILED_MAIL_RETENTION_DAYS")),
        "removed {n} failed messages"),
    Job("purge-audit", "Drop audit entries older than AUDIT_RETENTION_DAYS (0 keeps them).",
        lambda config, now: (purge_audit(before=now - _days(config, "AUDIT_RETENTION_DAYS"))
                             if config["AUDIT_RETENTION_DAYS"] else 0),
        "removed {n} audit entries"),
    Job("verify-counts", "Recount articles' stored counters; repair any that drifted.",
        lambda config, now: repair_counters(),
        "repaired the counters of {n} articles"),
]
JOBS_BY_NAME = {job.name: job for job in JOBS}

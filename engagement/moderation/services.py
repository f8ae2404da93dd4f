"""Moderation rules in force, readers' flags, moderators' decisions, and bans. Functions flush;
the route commits."""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email

from engagement.admin.services import audit, audit_each
from engagement.articles.services import articles_by_id
from engagement.clients import IPAddress, keyed_hash, limit_key, parse_address
from engagement.comments import services as comments
from engagement.comments.models import Comment, CommentStatus
from engagement.database import insert_if_absent, upsert
from engagement.errors import Banned, InvalidInput, NotFound
from engagement.extensions import db
from engagement.fields import RowView
from engagement.mailboxes import canonical_mailbox
from engagement.moderation.models import Ban, BanKind, Flag, FlagReason, ModerationSettings
from engagement.moderation.rules import ModerationRules
from engagement.notifications import services as notifications
from engagement.notifications.services import NotifyPolicy
from engagement.pagination import IdKey, Pager, newest_first


def moderation_rules(config) -> ModerationRules:
    """The settings moderators set at run time, else the ENGAGEMENT_* starting values; the
    threshold for comments a moderator approved is the operator's, never below the other."""
    row = db.session.get(ModerationSettings, 1, populate_existing=True)  # as just changed
    if row is None:
        live = {"mode": config["MODERATION_MODE"], "max_links": config["MAX_LINKS"],
                "blocked_words": tuple(config["BLOCKED_WORDS"]),
                "flag_threshold": config["FLAG_THRESHOLD"]}
    else:
        live = {"mode": row.moderation_mode, "max_links": row.max_links,
                "blocked_words": tuple(row.blocked_words), "flag_threshold": row.flag_threshold}
    approved = max(config["FLAG_THRESHOLD_APPROVED"], live["flag_threshold"])
    return ModerationRules(**live, approved_flag_threshold=approved)


def flagger_hash(address: str) -> str:
    """Who flagged, without storing their address: a keyed hash, also found again from an
    address when its owner's data is erased. An IPv6 address counts by its /64, like every
    per-client rule: one host holds a whole /64, and must not count as many readers."""
    return keyed_hash("flag", limit_key(parse_address(address)))


def flag_comment(
    comment_id: int, reason: FlagReason, note: str | None, *, client_hash: str, now: datetime,
    rules: ModerationRules,
) -> Comment | None:
    """Record one client's flag on a published comment (a repeat changes nothing); at the
    threshold (the larger one once a moderator approved it) the comment leaves the public list
    and waits for a moderator as `flagged`: then the comment is returned, to the flag that hid
    it only."""
    comments.published_comment(comment_id)
    first_from_client = insert_if_absent(
        db.session,
        Flag,
        {"comment_id": comment_id, "client_hash": client_hash, "reason": reason.value,
         "note": note, "created_at": now},
    )
    if first_from_client:
        return comments.count_flag(comment_id, rules)
    return None


# --- The moderators' queue ------------------------------------------------------------------

QUEUE_ORDERS = {"newest": newest_first(Comment.id), "oldest": Pager(IdKey(Comment.id))}
# Held or hidden by flags: what a moderator has to decide on, unless it was deleted since.
AWAITING_DECISION = (CommentStatus.PENDING, CommentStatus.FLAGGED)


def moderation_queue(
    *, statuses: list[str], reason: str | None, article: str | None, q: str | None,
    order: str, limit: int, cursor: list | None, now: datetime, ip_retention_days: int,
    comment_id: int | None = None,
) -> dict[str, Any]:
    """Comments for moderators, newest (or oldest) first, with their private fields, flags and
    the context a decision needs."""
    query = sa.select(Comment)
    if statuses != ["all"]:
        query = query.where(
            Comment.status.in_([CommentStatus(status) for status in statuses]),
            # A deleted comment has nothing left to decide: the review queue can empty.
            sa.or_(Comment.deleted_at.is_(None), Comment.status.not_in(AWAITING_DECISION)),
        )
    if reason:
        # held_for is a JSON list of plain words: its text holds `"links"` exactly when the
        # list does, on every database, without a JSON operator of one dialect.
        query = query.where(sa.cast(Comment.held_for, sa.Text).contains(f'"{reason}"'))
    if article:
        query = query.where(Comment.article_id == article)
    if comment_id is not None:
        query = query.where(Comment.id == comment_id)
    if q:
        query = query.where(sa.or_(*(
            sa.func.lower(column).contains(q.lower(), autoescape=True)
            for column in (Comment.body, Comment.author_name, Comment.author_email)
        )))
    page = QUEUE_ORDERS[order].page(query, limit, cursor)
    page["items"] = admin_comments(page["items"], now=now, ip_retention_days=ip_retention_days)
    return page


def _flags_of(comment_ids: list[int]) -> dict[int, list[Flag]]:
    by_comment: dict[int, list[Flag]] = {}
    if comment_ids:
        rows = db.session.scalars(
            sa.select(Flag).where(Flag.comment_id.in_(comment_ids)).order_by(Flag.created_at)
        )
        for flag in rows:
            by_comment.setdefault(flag.comment_id, []).append(flag)
    return by_comment


def admin_comments(found: list[Comment], *, now: datetime,
                   ip_retention_days: int) -> list[RowView]:
    """Comments as moderators see them, with their context, in a fixed number of queries
    whatever the number of comments."""
    ids = [comment.id for comment in found]
    flags = _flags_of(ids)
    articles = articles_by_id({comment.article_id for comment in found})
    parents = _comments_by_id({comment.parent_id for comment in found} - {None})
    # An erased or imported comment may have no email: it is nobody's history.
    history = _history_of({comment.author_email for comment in found} - {""})
    banned = _banned_among(found, now)
    retained_since = now - timedelta(days=ip_retention_days)
    return [
        admin_comment(
            comment, flags.get(comment.id, []), retained_since,
            article_title=articles[comment.article_id].title,
            article_url=articles[comment.article_id].url,
            parent=_parent_view(parents.get(comment.parent_id)),
            author_history=_others(history.get(comment.author_email, {}), comment),
            author_banned=comment.id in banned,
        )
        for comment in found
    ]


def _comments_by_id(comment_ids: set[int]) -> dict[int, Comment]:
    if not comment_ids:
        return {}
    rows = db.session.scalars(sa.select(Comment).where(Comment.id.in_(comment_ids)))
    return {comment.id: comment for comment in rows}


def _parent_view(parent: Comment | None) -> RowView | None:
    """The comment replied to (ParentOut): its status, and the rest as the public sees it."""
    return None if parent is None else RowView(parent, **comments.shown_publicly(parent))


HISTORY = (CommentStatus.APPROVED, CommentStatus.REJECTED, CommentStatus.SPAM)


def _history_of(emails: set[str]) -> dict[str, dict[CommentStatus, int]]:
    """Comments per author email and status, for the decided statuses."""
    rows = db.session.execute(
        sa.select(Comment.author_email, Comment.status, sa.func.count())
        .where(Comment.author_email.in_(emails), Comment.status.in_(HISTORY))
        .group_by(Comment.author_email, Comment.status)
    ) if emails else []
    history: dict[str, dict[CommentStatus, int]] = {}
    for email, status, count in rows:
        history.setdefault(email, {})[status] = count
    return history


def _others(counts: dict[CommentStatus, int], comment: Comment) -> dict[str, int]:
    """The author's comments by status, this one left out (counted among them when decided,
    unless it has no author to count it under: then there are none)."""
    return {status.value: counts.get(status, 0) - (bool(counts) and comment.status is status)
            for status in HISTORY}


def _banned_among(found: list[Comment], now: datetime) -> set[int]:
    """Ids of the comments whose author email or client address an active ban matches."""
    forms = {comment.id: _email_ban_forms(comment.author_email) for comment in found}
    banned_emails, networks = _active_bans(set().union(*forms.values()), now,
                                           with_networks=bool(found))
    return {
        comment.id for comment in found
        if forms[comment.id] & banned_emails
        or _address_in(comment.client_ip, networks)
    }


def _address_in(address: str | None, networks: list) -> bool:
    parsed = parse_address(address) if networks else None
    return parsed is not None and any(parsed in network for network in networks)


def admin_comment(comment: Comment, flags: list[Flag], retained_since: datetime,
                  **context: Any) -> RowView:
    """A comment as moderators see it (AdminCommentOut): the public fields as the public sees
    them, the private ones of the row (its address only while it is kept), its flags, and the
    `context` a decision needs."""
    return RowView(
        comment, **comments.shown_publicly(comment), flags=flags,
        client_ip=comment.client_ip if comment.created_at > retained_since else None, **context,
    )


DECISIONS = {
    "approved": comments.approve,
    "rejected": comments.reject,
    "spam": comments.mark_spam,
}


def decide(comment_id: int, *, status: str | None, pinned: bool | None, actor: str,
           now: datetime, ip_retention_days: int, notify: NotifyPolicy) -> dict:
    """A moderator's decision on one comment (approving clears its flags and announces it),
    audited with what it changed: a decision the comment already had is not a change."""
    comment = comments.comment_by_id(comment_id)
    if comment.deleted:  # by another moderator, in a tab that still shows it: nothing to decide
        raise NotFound("This comment was deleted: there is nothing to decide.")
    changes = {}
    if status is not None:
        before = _decided(comment)
        _apply([comment], status, now, notify)
        if _decided(comment) != before:
            changes["status"] = status
    if pinned is not None and pinned != comment.pinned:
        comments.pin_comment(comment, pinned)
        changes["pinned"] = pinned
    if changes:
        audit(actor, "comment.moderate", f"comment:{comment_id}", changes, now=now)
    db.session.flush()
    (answer,) = admin_comments([comment], now=now, ip_retention_days=ip_retention_days)
    return answer


def _apply(found: list[Comment], status: str, now: datetime, notify: NotifyPolicy) -> None:
    """One decision on comments, in a number of statements that does not grow with them."""
    comments.decide_comments(found, DECISIONS[status])
    if status == "approved":
        db.session.execute(sa.delete(Flag).where(Flag.comment_id.in_(
            [comment.id for comment in found])))
        notifications.comments_published(found, now=now, policy=notify)


def _decided(comment: Comment) -> tuple:
    """What a moderator's decision sets: approving a comment approved with flags clears them."""
    return (comment.status, list(comment.held_for), comment.flag_count,
            comment.approved_by_moderator)


def remove(comment_id: int, *, actor: str, now: datetime) -> None:
    """Delete a comment; audited once (deleting it again changes nothing)."""
    comment = comments.comment_by_id(comment_id)
    if comment.deleted:
        return
    comments.erase_comment(comment, now)
    audit(actor, "comment.delete", f"comment:{comment_id}", now=now)


BULK = {"approve": "approved", "reject": "rejected", "spam": "spam"}


def bulk(ids: list[int], action: str, *, actor: str, now: datetime,
         notify: NotifyPolicy) -> int:
    """The same decision on many comments; ids that do not exist, and deleted comments for a
    decision other than delete, are skipped and not counted."""
    found = comments.comments_by_id(ids)
    if action != "delete":  # a deleted comment has nothing to decide (decide())
        found = [comment for comment in found if not comment.deleted]
    if action == "delete":
        comments.erase_comments(found, now)
    elif found:
        _apply(found, BULK[action], now, notify)
    audit_each(actor, f"comment.bulk_{action}",
               [f"comment:{comment.id}" for comment in found],
               {"in_one_decision": len(found)}, now=now)
    db.session.flush()
    return len(found)


def update_settings(changes: dict[str, Any], config, *, actor: str,
                    now: datetime) -> ModerationRules:
    """Change the live settings sent, and only those, in one statement: two moderators
    changing different settings at once both keep their change (a read-then-write of every
    setting would put back what the other just changed). The first change stores the
    ENGAGEMENT_* values of the settings it does not send. The rules in force after it."""
    rules = moderation_rules(config)
    starting = {"moderation_mode": rules.mode, "max_links": rules.max_links,
                "blocked_words": list(rules.blocked_words),
                "flag_threshold": rules.flag_threshold}
    sent = {key: list(value) if key == "blocked_words" else value
            for key, value in changes.items()}
    if not sent:
        return rules
    upsert(db.session, ModerationSettings, {"id": 1, **starting, **sent, "updated_at": now},
           update={**sent, "updated_at": now})
    changed = {key: value for key, value in sent.items() if starting[key] != value}
    if changed:  # audited with what changed: a setting sent as it was is not a change
        audit(actor, "settings.update", "settings", changed, now=now)
    db.session.flush()
    return moderation_rules(config)  # which reads the row again, as the upsert left it


# --- Bans -------------------------------------------------------------------------------------

def ban_value(kind: BanKind, value: str) -> str:
    """The form a ban is stored and matched in: an email as comments store it (normalised,
    lower-cased); an address or network in canonical CIDR form, a single address as /32 or
    /128, an IPv4-mapped IPv6 one as IPv4 (as clients.py reads client addresses)."""
    if kind is BanKind.EMAIL:
        try:
            return canonical_mailbox(
                validate_email(value.strip(), check_deliverability=False).normalized)
        except EmailNotValidError:
            raise InvalidInput.field("value", "Not a valid email address.") from None
    try:
        network = ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        network = None
    if network is None or "%" in value:  # an IPv6 zone is local to one host: no ban can use it
        raise InvalidInput.field("value", "Not an IP address or CIDR network.")
    mapped = network.version == 6 and network.network_address.ipv4_mapped
    if mapped and network.prefixlen >= 96:
        network = ipaddress.ip_network((mapped, network.prefixlen - 96))
    return str(network)


def ban_is_active(ban: Ban, now: datetime) -> bool:
    return ban.expires_at is None or ban.expires_at > now


def ban_view(ban: Ban, now: datetime) -> RowView:
    """A ban as moderators see it (BanOut): the row, and whether it is in force now."""
    return RowView(ban, active=ban_is_active(ban, now))


def create_ban(kind: BanKind, value: str, reason: str, expires_at: datetime | None, *,
               actor: str, now: datetime) -> RowView:
    """Ban an author email or a client address or network, for good or until `expires_at`;
    the ban (BanCreatedOut) and the one in force it replaced, if any."""
    if expires_at is not None and expires_at <= now:
        raise InvalidInput.field("expires_at", "Must be in the future.")
    value = ban_value(kind, value)
    # A value banned again: the new ban replaces the one in force (its reason and expiry), so
    # that lifting it lifts the ban; a second ban beside the first would outlive the lift.
    # The answer names the one replaced: a ban for good may just have become a day's.
    replaced = db.session.execute(
        sa.delete(_bans).where(_IN_FORCE, _bans.c.kind == kind, _bans.c.value == value)
        .returning(_bans.c.reason, _bans.c.expires_at, _bans.c.created_at,
                   _bans.c.created_by), {"now": now}).first()
    ban = Ban(kind=kind, value=value, reason=reason, expires_at=expires_at, created_at=now,
              created_by=actor)
    db.session.add(ban)
    db.session.flush()
    audit(actor, "ban.create", f"ban:{ban.id}", {
        "kind": ban.kind.value, "value": ban.value, "reason": ban.reason,
        "expires_at": expires_at and expires_at.isoformat().replace("+00:00", "Z"),
    }, now=now)
    return RowView(ban, active=ban_is_active(ban, now), replaced=replaced)


def ban_page(limit: int, cursor: list | None, *, now: datetime) -> dict[str, Any]:
    """Every ban, newest first, the expired ones too (`active` false)."""
    page = newest_first(Ban.id).page(sa.select(Ban), limit, cursor)
    page["items"] = [ban_view(ban, now) for ban in page["items"]]
    return page


def lift_ban(ban_id: int, *, actor: str, now: datetime) -> None:
    """Remove a ban at once; the audit log keeps what it was."""
    ban = db.session.get(Ban, ban_id)
    if ban is None:
        raise NotFound("No such ban.")
    audit(actor, "ban.delete", f"ban:{ban_id}", {"kind": ban.kind.value, "value": ban.value},
          now=now)
    db.session.delete(ban)
    db.session.flush()


def _email_ban_forms(email: str) -> set[str]:
    """The ban values that stop an email: its mailbox (a ban of ada@ also stops ada+x@ and, at
    Gmail, a.d.a@; bans are stored so), and the address itself, lower-cased, as bans made
    before mailboxes were compared were stored."""
    return {email.strip().lower(), canonical_mailbox(email)}


def refuse_banned(email: str | None, address: IPAddress | None, *, now: datetime) -> None:
    """Banned (403) when the email or the client's address is under an active ban."""
    if is_banned(email, address, now=now):
        raise Banned()


def is_banned(email: str | None, address: IPAddress | None, *, now: datetime) -> bool:
    """Whether the author's email (if the request has one) or the client's address is
    under an active ban.

    One query: the email's bans by index, and every active IP ban, tested here with
    `ipaddress`. That is linear in the number of active IP bans, which suits the hundreds a
    site keeps; for very many, store each network's first and last address as sortable keys
    and look the address up by range (or use PostgreSQL's inet type with a GiST index)."""
    emails, networks = _active_bans(_email_ban_forms(email) if email is not None else set(),
                                    now, with_networks=address is not None)
    return bool(emails) or any(address in network for network in networks)


def _active_bans(email_forms: set[str], now: datetime, *,
                 with_networks: bool) -> tuple[set[str], list]:
    """The active email bans among `email_forms`, and (when asked) every active IP ban's
    network, in one query."""
    if not email_forms and not with_networks:
        return set(), []
    bans = db.session.connection().execute(_ACTIVE_BANS, {
        "emails": list(email_forms), "with_networks": with_networks, "now": now})
    emails, networks = set(), []
    for kind, value in bans:
        if kind is BanKind.EMAIL:
            emails.add(value)
        else:
            networks.append(ipaddress.ip_network(value))
    return emails, networks


# Built once, on the table: every comment, vote, flag and share asks it, and building it (or
# running it through the ORM) cost more CPU than running it.
_bans = Ban.__table__
_IN_FORCE = sa.or_(_bans.c.expires_at.is_(None), _bans.c.expires_at > sa.bindparam("now"))
_ACTIVE_BANS = sa.select(_bans.c.kind, _bans.c.value).where(
    _IN_FORCE,
    sa.or_(
        sa.and_(_bans.c.kind == BanKind.EMAIL,
                _bans.c.value.in_(sa.bindparam("emails", expanding=True))),
        sa.and_(_bans.c.kind == BanKind.IP, sa.bindparam("with_networks", type_=sa.Boolean)),
    ),
)

# Every active address ban's network, space-separated (NULL for none), as one column that a
# write's own first statement can carry with its other reads (parameter `now`): the ban check
# without a round trip of its own. `address_banned` reads it.
ADDRESS_BANS = (
    # The separator as SQL text: given as a string, SQLAlchemy renders it into the statement
    # anew at every execution.
    sa.select(sa.func.aggregate_strings(_bans.c.value, sa.literal_column("' '")))
    .where(_IN_FORCE, _bans.c.kind == BanKind.IP)
    .scalar_subquery()
)


def address_banned(address: IPAddress | None, address_bans: str | None) -> bool:
    """Whether the client's address is in one of the networks of an ADDRESS_BANS column."""
    return address is not None and address_bans is not None and any(
        address in ipaddress.ip_network(network) for network in address_bans.split())

"""Settings: the defaults below, then `ENGAGEMENT_*` from the environment, then the mapping a
test or embedding passes to `create_app`. Every setting (docs/operations.md, Settings) has its
default here; `ENGAGEMENT_X` in the environment sets the key `X`, read as the type of its default
(`true`/`false`, whole numbers, lists as `a, b` or JSON `["a", "b"]`); a value that does not
read as its type stops the start with a message naming the setting.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import logging
import os
import re
import secrets
from collections.abc import Callable, Mapping
from email.utils import getaddresses, parseaddr
from typing import Any
from urllib.parse import SplitResult, urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

ENV_PREFIX = "ENGAGEMENT"

DEFAULTS: dict[str, Any] = {
    # --- Deployment -------------------------------------------------------------------------
    # "development" or "production"; production refuses unsafe defaults instead of guessing.
    "ENV": "development",
    # Required in production. In development a random key is made per start, so keyed hashes
    # (avatars, client hashes) are stable only within one process.
    "SECRET_KEY": None,
    # Base of every absolute link the service writes (emails, widget); never the request's Host.
    "PUBLIC_BASE_URL": "http://127.0.0.1:8000",
    # Requests whose body is larger get 413 before anything reads it.
    "MAX_BODY_BYTES": 64 * 1024,
    # Addresses or CIDR networks of reverse proxies whose X-Forwarded-For is believed.
    "TRUSTED_PROXIES": [],
    # Origins whose pages may call the public API (the widget).
    "CORS_ORIGINS": [],
    # max-age of public GET responses, in seconds; every answer also has an ETag.
    "CACHE_MAX_AGE": 10,
    # Where public answers are cached by article version: in each process when unset,
    # redis://host:6379/1 to share them between workers and hosts.
    "CACHE_URL": None,
    # Create and migrate the schema on start. None means: only for the embedded SQLite default.
    "AUTO_MIGRATE": None,
    # Who may read GET /metrics: peers in these networks (the client address, as resolved
    # through TRUSTED_PROXIES), or anyone sending `Authorization: Bearer <METRICS_TOKEN>`.
    "METRICS_ALLOW": ["127.0.0.0/8", "::1/128"],
    "METRICS_TOKEN": None,
    # --- Timeouts (seconds): a dependency that hangs costs a request at most this long ----
    # Connecting to PostgreSQL (libpq counts whole seconds, and at least 2).
    "DATABASE_CONNECT_TIMEOUT": 2,
    # PostgreSQL cancels a statement after this long (0: never); the service also stops
    # waiting for an answer shortly after it, so a frozen server cannot hold a request.
    "DATABASE_STATEMENT_TIMEOUT": 5.0,
    # Waiting for a free connection of the pool.
    "DATABASE_POOL_TIMEOUT": 2.0,
    # Connecting to and each command of the rate-limit store (Redis); then limits run per process.
    "RATELIMIT_STORAGE_TIMEOUT": 0.5,
    # Connecting to the mail server and each SMTP command; then the message waits for a retry.
    "MAIL_TIMEOUT": 10.0,
    # A request's body must have arrived this long after its head did; then 400.
    "REQUEST_BODY_TIMEOUT": 10.0,
    # /readyz asks the database for at most this long.
    "READYZ_TIMEOUT": 1.0,
    # Retry-After of a 503 (the database does not answer).
    "RETRY_AFTER_SECONDS": 5,
    # --- Articles ---------------------------------------------------------------------------
    # An article id never seen before answers with defaults instead of 404; its first comment
    # or share records it (reads record nothing).
    "ARTICLES_AUTO_CREATE": True,
    # A regular expression for the site's article ids: auto-create records only ids that match
    # it in full, and What's Hot lists such articles beside those with a title (set by the
    # admin API or an import). Unset: any slug is recorded, and only titled articles trend.
    "ARTICLE_ID_PATTERN": None,
    # Comments close this many days after publication (or first sight); 0 never closes them.
    # At most 36500 (a century).
    "COMMENTS_CLOSE_AFTER_DAYS": 0,
    # --- Comments ---------------------------------------------------------------------------
    "COMMENT_MAX_LENGTH": 10000,
    # Replies nest this many levels below a top-level comment; deeper replies join the last level.
    "MAX_REPLY_DEPTH": 5,
    # How long the author may edit or delete a comment with its edit token.
    "EDIT_WINDOW_SECONDS": 900,
    # What readers' identicons are derived from: "email" (a keyed hash: the same person gets
    # the same picture everywhere), "name", or "off". See the README's Security model.
    "AVATARS": "email",
    # --- Shares -----------------------------------------------------------------------------
    "SHARE_NETWORKS": [
        "facebook", "x", "pinterest", "linkedin", "tumblr",
        "email", "whatsapp", "reddit", "telegram", "copy_link",
    ],
    "SHARE_DEDUPE_SECONDS": 86400,
    # --- Votes ------------------------------------------------------------------------------
    # "updown" (up and down), "up" (upvotes only) or "off" (the vote endpoints answer 404).
    "VOTES": "updown",
    # --- Moderation (starting values; changed at run time by moderators) -------------------
    "MODERATION_MODE": "none",
    "MAX_LINKS": 2,
    "BLOCKED_WORDS": [],
    "FLAG_THRESHOLD": 3,
    # Flags that hide again a comment a moderator approved (never fewer than FLAG_THRESHOLD):
    # readers who disagree with the moderator cannot undo the decision with a few flags.
    "FLAG_THRESHOLD_APPROVED": 9,
    "IP_RETENTION_DAYS": 30,
    # --- Retention of what the scheduled jobs purge (`engagement jobs run`) ----------------
    # Signups whose confirmation link was never used are erased after this many days.
    "UNCONFIRMED_SIGNUP_DAYS": 30,
    # Mail refused for good by the mail server is kept this long for the operator.
    "FAILED_MAIL_RETENTION_DAYS": 30,
    # Audit entries are kept this many days; 0 keeps them for ever.
    "AUDIT_RETENTION_DAYS": 365,
    # --- Newsletter and mail ----------------------------------------------------------------
    "MAIL_URL": "console://",
    "MAIL_FROM": "engagement@localhost",
    # Deliver the outbox from a thread of each serving process: on (None) for the embedded
    # default only. Elsewhere `flask --app engagement outbox deliver --watch` runs as a worker.
    "MAIL_BACKGROUND": None,
    "CONFIRM_RESEND_SECONDS": 600,
    "CONFIRM_TOKEN_TTL_SECONDS": 172800,
    # An unsubscribe link (the List-Unsubscribe header's too) works for this many days after
    # its email. Each email carries a link of its own, so every email younger than this
    # unsubscribes in one click; a link copied into an old log or mailbox stops working.
    "UNSUBSCRIBE_TOKEN_TTL_DAYS": 365,
    "NEWSLETTER_CONFIRMED_URL": None,
    # The publication's name in emails; empty: the host of PUBLIC_BASE_URL.
    "SITE_NAME": "",
    # --- Reply notifications and moderator alerts --------------------------------------------
    # A reader gets at most one reply email per thread in this time, listing every reply.
    "NOTIFY_BATCH_SECONDS": 900,
    # Moderators emailed when comments are held or hidden by flags, at most once per digest time.
    "MODERATOR_EMAILS": [],
    "MODERATOR_DIGEST_SECONDS": 300,
    # A URL that receives a signed JSON POST per moderation event (Slack, Mattermost, ...).
    "MODERATION_WEBHOOK_URL": None,
    "WEBHOOK_SECRET": None,
    "WEBHOOK_EVENTS": ["comment.held", "comment.flagged"],
    # --- Rate limits (flask-limiter strings, per client address) ----------------------------
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_STORAGE_URI": "memory://",
    "LIMIT_COMMENTS": "5/minute;30/hour",
    "LIMIT_EDITS": "20/hour",
    "LIMIT_FLAGS": "20/hour",
    "LIMIT_SHARES": "60/minute",
    "LIMIT_VOTES": "60/hour",
    "LIMIT_SUBSCRIPTIONS": "5/hour",
    # Confirmation emails per mailbox (tags and Gmail's dots folded) and per recipient domain,
    # whoever asks: signups from many clients cannot fill one inbox.
    "LIMIT_MAILBOX": "6/hour;12/day",
    "LIMIT_MAIL_DOMAIN": "200/hour",
    "LIMIT_READS": "600/minute",
    "LIMIT_AUTH_FAILURES": "10/minute",
    "LIMIT_ADMIN": "1200/minute",
}

# The type of each setting is its default's; these defaults are None, so their type is named.
TYPES_OF_UNSET = {"SECRET_KEY": str, "AUTO_MIGRATE": bool, "MAIL_BACKGROUND": bool,
                  "NEWSLETTER_CONFIRMED_URL": str, "METRICS_TOKEN": str,
                  "ARTICLE_ID_PATTERN": str, "CACHE_URL": str, "MODERATION_WEBHOOK_URL": str,
                  "WEBHOOK_SECRET": str}
WEBHOOK_EVENTS = ("comment.held", "comment.flagged", "comment.posted")
TRUE_WORDS = frozenset({"true", "1", "yes", "on"})
FALSE_WORDS = frozenset({"false", "0", "no", "off"})

# Keys that may be set although they have no ENGAGEMENT default: Flask's and the libraries' own.
FOREIGN_KEYS_ALLOWED = ("TESTING", "DEBUG", "PROPAGATE_EXCEPTIONS", "SQLALCHEMY_", "OPENAPI_",
                        "API_", "RATELIMIT_", "CLOCK", "DATABASE_URL")


# A century: longer closes, keeps or waits for nothing a site still has, and today plus or less
# a setting must stay a date the database and Python hold (year 1 is some 740,000 days back;
# 999,999,999 days is not). Every *_DAYS and *_SECONDS setting is held to it.
LONGEST_DAYS = 36500


class ConfigError(RuntimeError):
    """The settings are unsafe or inconsistent; the service refuses to start."""


def load_config(app, overrides: Mapping[str, Any] | None) -> None:
    """Layer defaults, environment and overrides onto `app.config`, then check them."""
    log = logging.getLogger("engagement.config")
    app.config.from_mapping(DEFAULTS)
    before_env = set(app.config)
    # Values stay text here: each is read as its setting's type below, so that a secret of
    # digits stays a string and "False" is not a truthy string.
    app.config.from_prefixed_env(ENV_PREFIX, loads=str)
    from_env = set(app.config) - before_env
    app.config["DATABASE_URL"] = os.environ.get("DATABASE_URL")
    port = os.environ.get("PORT")
    if port and f"{ENV_PREFIX}_PUBLIC_BASE_URL" not in os.environ:
        # `PORT=8001 ./scripts/serve`: emailed links then point where the service listens.
        app.config["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{port}"
    if overrides:
        app.config.from_mapping(overrides)

    unknown = sorted(
        key for key in from_env | set(overrides or ())
        if key not in DEFAULTS and not key.startswith(FOREIGN_KEYS_ALLOWED)
    )
    for key in unknown:
        log.warning("unknown setting %s ignored (from %s_%s or create_app)", key, ENV_PREFIX, key)
    if "DATABASE_URL" in from_env:  # allowed as an override, but read without the prefix
        log.warning("%s_DATABASE_URL ignored: the database is set by DATABASE_URL", ENV_PREFIX)

    for key in DEFAULTS:
        app.config[key] = _typed(key, app.config[key])
    _check(app.config, log)
    _derive(app)


def _typed(key: str, value: Any) -> Any:
    """The value as its setting's type, from Python values or from environment text."""
    kind = TYPES_OF_UNSET.get(key) or type(DEFAULTS[key])
    name = f"{ENV_PREFIX}_{key}"
    if value is None:
        return [] if kind is list else None
    if kind is bool:
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if word in TRUE_WORDS | FALSE_WORDS:
            return word in TRUE_WORDS
        raise ConfigError(f"{name} must be true or false, not {value!r}")
    if kind is float:
        if isinstance(value, str) and re.fullmatch(r"\s*\d{1,9}(\.\d{1,6})?\s*", value):
            return float(value)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise ConfigError(f"{name} must be a number of seconds, not {value!r}")
    if kind is int:
        if isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,18}\s*", value):
            return int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(f"{name} must be a whole number, not {value!r}")
    if kind is list:
        if isinstance(value, str):
            text = value.strip()
            if not text.startswith("["):
                return [part.strip() for part in text.split(",") if part.strip()]
            try:
                value = json.loads(text)
            except ValueError as exc:
                raise ConfigError(f"{name} is not a JSON list: {exc}") from None
        if isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
            return list(value)
        raise ConfigError(f"{name} must be a list of strings")
    if isinstance(value, str):
        return value
    raise ConfigError(f"{name} must be text, not {value!r}")


def _check(config, log: logging.Logger) -> None:
    production = config["ENV"] == "production"
    if config["ENV"] not in ("development", "production"):
        raise ConfigError(f"{ENV_PREFIX}_ENV must be development or production")
    if not config["SECRET_KEY"]:
        if production:
            raise ConfigError(f"{ENV_PREFIX}_SECRET_KEY is required in production")
        config["SECRET_KEY"] = secrets.token_urlsafe(32)
        # Each worker makes its own: readers' fingerprints (share de-duplication) and avatars
        # then differ between workers. One worker, or a key, keeps them whole.
        log.warning("no %s_SECRET_KEY: a random key for this process only; set one when "
                    "running several workers", ENV_PREFIX, extra={"serving_only": True})
    if production and config["RATELIMIT_STORAGE_URI"].startswith("memory://"):
        workers = int(os.environ.get("WEB_CONCURRENCY", "1") or 1)
        if workers > 1:
            raise ConfigError(
                "in-memory rate limits are per process: set "
                f"{ENV_PREFIX}_RATELIMIT_STORAGE_URI to redis://... for {workers} workers"
            )
    if config.get("RATELIMIT_STRATEGY", "moving-window") != "moving-window":
        # limits.py gives a refused write's place back in a moving window's entries.
        raise ConfigError(f"{ENV_PREFIX}_RATELIMIT_STRATEGY must be moving-window (the only "
                          "one whose places refused writes can give back)")
    for key in ("TRUSTED_PROXIES", "METRICS_ALLOW"):
        try:
            config[key] = [ipaddress.ip_network(entry, strict=False) for entry in config[key]]
        except ValueError as exc:
            raise ConfigError(f"{ENV_PREFIX}_{key}: {exc}") from exc
    for key in ("MAX_BODY_BYTES", "COMMENT_MAX_LENGTH", "MAX_REPLY_DEPTH", "EDIT_WINDOW_SECONDS"):
        if config[key] < 1:
            raise ConfigError(f"{ENV_PREFIX}_{key} must be a positive integer")
    for key in ("DATABASE_CONNECT_TIMEOUT", "DATABASE_POOL_TIMEOUT", "RATELIMIT_STORAGE_TIMEOUT",
                "MAIL_TIMEOUT", "REQUEST_BODY_TIMEOUT", "READYZ_TIMEOUT",
                "RETRY_AFTER_SECONDS"):
        if config[key] <= 0:
            raise ConfigError(f"{ENV_PREFIX}_{key} must be a positive number of seconds")
    for key in ("COMMENTS_CLOSE_AFTER_DAYS", "CACHE_MAX_AGE", "DATABASE_STATEMENT_TIMEOUT",
                "UNCONFIRMED_SIGNUP_DAYS", "FAILED_MAIL_RETENTION_DAYS", "AUDIT_RETENTION_DAYS"):
        if config[key] < 0:
            raise ConfigError(f"{ENV_PREFIX}_{key} must be zero or a positive integer")
    for key in DEFAULTS:
        unit = {"_DAYS": 1, "_SECONDS": 86400}.get(key[key.rfind("_"):])
        if unit and config[key] > LONGEST_DAYS * unit:
            raise ConfigError(f"{ENV_PREFIX}_{key} must be at most {LONGEST_DAYS * unit} "
                              "(a century)")
    if config["ARTICLE_ID_PATTERN"]:
        try:
            re.compile(config["ARTICLE_ID_PATTERN"])
        except re.error as exc:
            raise ConfigError(f"{ENV_PREFIX}_ARTICLE_ID_PATTERN is not a regular expression: "
                              f"{exc}") from None
    if config["AVATARS"] not in ("email", "name", "off"):
        raise ConfigError(f"{ENV_PREFIX}_AVATARS must be email, name or off")
    if config["MODERATION_MODE"] not in ("none", "first_time", "all"):
        raise ConfigError(f"{ENV_PREFIX}_MODERATION_MODE must be none, first_time or all")
    for key in ("NOTIFY_BATCH_SECONDS", "MODERATOR_DIGEST_SECONDS"):
        if config[key] < 0:
            raise ConfigError(f"{ENV_PREFIX}_{key} must be zero or a positive integer")
    unknown_events = set(config["WEBHOOK_EVENTS"]) - set(WEBHOOK_EVENTS)
    if unknown_events:
        raise ConfigError(f"{ENV_PREFIX}_WEBHOOK_EVENTS: unknown {sorted(unknown_events)}; "
                          f"choose from {', '.join(WEBHOOK_EVENTS)}")
    _check_mail_addresses(config)
    webhook = config["MODERATION_WEBHOOK_URL"]
    if webhook and not _http_url(webhook):
        raise ConfigError(f"{ENV_PREFIX}_MODERATION_WEBHOOK_URL must be an http(s) URL such as "
                          "https://hooks.news.example/engagement")
    if config["MODERATION_WEBHOOK_URL"] and not config["WEBHOOK_SECRET"]:
        raise ConfigError(f"{ENV_PREFIX}_MODERATION_WEBHOOK_URL needs "
                          f"{ENV_PREFIX}_WEBHOOK_SECRET to sign what it sends")
    if config["VOTES"] not in ("updown", "up", "off"):
        raise ConfigError(f"{ENV_PREFIX}_VOTES must be updown, up or off")
    _check_readable_urls(config)
    config["CORS_ORIGINS"] = [_origin(entry) for entry in config["CORS_ORIGINS"]]
    for key, problem_of in UNSAFE_SETTINGS:
        problem = problem_of(config[key])
        if problem is None:
            continue
        line = f"{ENV_PREFIX}_{key} {problem}"
        if production:
            raise ConfigError(line)
        logging.getLogger("engagement.config.checks").warning(
            "%s (refused in production)", line, extra={"serving_only": True})
    if _redis_server(config["CACHE_URL"]) and \
            _redis_server(config["CACHE_URL"]) == _redis_server(config["RATELIMIT_STORAGE_URI"]):
        log.warning("%s_CACHE_URL is on the Redis server of %s_RATELIMIT_STORAGE_URI: readers "
                    "asking for many pages can fill it and push out rate-limit counters; give "
                    "the cache a server of its own, with maxmemory and allkeys-lru",
                    ENV_PREFIX, ENV_PREFIX, extra={"serving_only": True})


def _redis_parts(url: str | None) -> SplitResult | None:
    """urlsplit of a redis:// or rediss:// URL, else None."""
    parts = urlsplit(url) if url else None
    return parts if parts and parts.scheme in ("redis", "rediss") else None


def _redis_database(url: str | None) -> None:
    """ValueError for a redis:// URL whose path is not a database number: the client would
    use database 0 in silence (`/x`, `/1O`), maybe the rate limits' own."""
    parts = _redis_parts(url)
    path = parts.path.strip("/") if parts else ""
    if path and not path.isdigit():
        raise ValueError(f"{path!r} is not a number")


def _redis_server(url: str | None) -> tuple[str, int] | None:
    """(host, port) of a redis:// or rediss:// URL (readable: checked before), else None."""
    parts = _redis_parts(url)
    return ((parts.hostname or "localhost").lower(), parts.port or 6379) if parts else None


def _check_mail_addresses(config) -> None:
    """Addresses mail could not be sent from or to: an error in development too. (A sender at
    a domain that does not exist, as the default's, is only unsafe: UNSAFE_SETTINGS.)"""
    from email_validator import EmailNotValidError, validate_email

    senders = [address for _, address in getaddresses([config["MAIL_FROM"]])]
    local, _, domain = senders[0].partition("@") if len(senders) == 1 else ("", "", "")
    if not local or not domain or "@" in domain or " " in senders[0]:
        raise ConfigError(f"{ENV_PREFIX}_MAIL_FROM is {config['MAIL_FROM']!r}: give an address "
                          "such as news@news.example or Newsroom <news@news.example>")
    for moderator in config["MODERATOR_EMAILS"]:
        try:
            validate_email(moderator, check_deliverability=False)
        except EmailNotValidError as exc:
            raise ConfigError(f"{ENV_PREFIX}_MODERATOR_EMAILS has {moderator!r}: {exc}") from None


def _http_url(url: str) -> bool:
    """Whether `url` is http(s) with a host (and a port, if any, that is a number)."""
    try:
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:
        return False


def _check_readable_urls(config) -> None:
    """URLs their library cannot read at all: an error in development too, since the service
    would otherwise stop later with a traceback (a worker, a request, the first mail)."""
    from limits.errors import ConfigurationError
    from limits.storage import storage_from_string
    from redis import Redis

    from engagement.mail.transport import parse_mail_url

    _refuse_unreadable(config, "MAIL_URL", parse_mail_url, ValueError, "is not a mail URL")
    # Read as flask-limiter reads it: a client is made, nothing is connected to. memory://
    # names no server, and its store would start a timer thread in gunicorn's master.
    if not config["RATELIMIT_STORAGE_URI"].startswith("memory://"):
        _refuse_unreadable(config, "RATELIMIT_STORAGE_URI", storage_from_string,
                           (ConfigurationError, ValueError),
                           "is not a rate-limit store such as redis://host:6379/0")
    if config["CACHE_URL"]:
        _refuse_unreadable(config, "CACHE_URL", Redis.from_url, ValueError,
                           "is not a Redis URL such as redis://host:6379/1")
    for key in ("RATELIMIT_STORAGE_URI", "CACHE_URL"):
        _refuse_unreadable(config, key, _redis_database, ValueError,
                           "names no Redis database: end it with its number, as /1")
    # An unclosed [ of an IPv6 address: every link the service writes would be broken.
    _refuse_unreadable(config, "PUBLIC_BASE_URL", lambda url: urlsplit(url).port, ValueError,
                       "is not an address such as https://comments.news.example")


def _origin(entry: str) -> str:
    """An entry of CORS_ORIGINS as browsers send Origin: `https://news.example/`, as pasted
    from the address bar, never matches, so its slash goes; a path or no scheme is refused."""
    origin = entry.removesuffix("/")
    if origin == "*":
        return origin  # refused in production, warned about in development (UNSAFE_SETTINGS)
    if not _http_url(origin) or any(urlsplit(origin)[2:]) or "@" in origin:  # path, query...
        raise ConfigError(f"{ENV_PREFIX}_CORS_ORIGINS has {entry!r}, which is not an origin "
                          "such as https://news.example")
    return origin


def _refuse_unreadable(config, key: str, read: Callable[[str], Any], errors, problem: str):
    url = config[key]
    try:
        read(url)
    except errors as exc:
        reason = str(exc)
        with contextlib.suppress(ValueError):
            password = urlsplit(url).password
            if password:  # the library's message may quote the URL: never its password
                reason = reason.replace(password, "***")
        raise ConfigError(f"{ENV_PREFIX}_{key} {problem}: {reason}") from None


def _short_secret(key: str | None) -> str | None:
    if key is not None and len(key) < MIN_SECRET_LENGTH:
        return (f"is {len(key)} characters: use at least {MIN_SECRET_LENGTH}, for instance "
                "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'")
    return None


def _everyone_a_proxy(networks) -> str | None:
    wide = [str(network) for network in networks if network.prefixlen < 8]
    if wide:
        return f"trusts {', '.join(wide)}: any client could then name its own address"
    return None


def _any_origin(origins: list[str]) -> str | None:
    return "must list origins, not '*': any site could then post as its readers" \
        if "*" in origins else None


def _unsafe_mail(url: str) -> str | None:
    from engagement.mail.transport import parse_mail_url

    server = parse_mail_url(url)  # readable: _check_readable_urls said so
    if server.console:
        return "is console://: confirmation mail would only reach the log"
    if server.username and server.scheme == "smtp" and not server.starttls:
        return "logs in without TLS: add ?starttls=1 or use smtps://"
    return None


def _unknown_sender_domain(sender: str) -> str | None:
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(parseaddr(sender)[1], check_deliverability=False)
    except EmailNotValidError:
        return (f"is {sender!r}: mail servers refuse mail from a domain that does not exist; "
                "use an address of the site's own domain")
    return None


def _not_a_public_base_url(url: str) -> str | None:
    parts = urlsplit(url)  # readable: _check_readable_urls said so
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        return (f"is {url!r}, not an address such as https://comments.news.example: links in "
                "emails and the widget would not open")
    if host == "localhost" or host.endswith(".localhost") \
            or host.startswith("127.") or host in ("::1", "0.0.0.0"):
        return f"is {url!r}: links in emails and the widget would point at this machine"
    return None


def _not_a_limit(text: str) -> str | None:
    from limits import parse_many

    try:
        parse_many(text)
    except ValueError:
        return (f"is {text!r}, which is not a rate limit such as '5/minute;30/hour' "
                "(the limit would not apply)")
    return None


def _at_least(least: int):
    return lambda value: f"is {value}: it must be {least} or more" if value < least else None


MIN_SECRET_LENGTH = 32
# Settings that start but are unsafe or wrong: production refuses each with one line naming
# it, development says the same line as a warning. (key, the problem with a value or None)
UNSAFE_SETTINGS = (
    ("SECRET_KEY", _short_secret),
    ("TRUSTED_PROXIES", _everyone_a_proxy),
    ("CORS_ORIGINS", _any_origin),
    ("MAIL_URL", _unsafe_mail),
    ("MAIL_FROM", _unknown_sender_domain),
    ("PUBLIC_BASE_URL", _not_a_public_base_url),
    *((key, _not_a_limit) for key in DEFAULTS if key.startswith("LIMIT_")),
    ("FLAG_THRESHOLD", _at_least(1)),
    ("MAX_LINKS", _at_least(0)),
    ("SHARE_DEDUPE_SECONDS", _at_least(0)),
    ("IP_RETENTION_DAYS", _at_least(0)),
    ("CONFIRM_RESEND_SECONDS", _at_least(0)),
    ("CONFIRM_TOKEN_TTL_SECONDS", _at_least(60)),
    ("UNSUBSCRIBE_TOKEN_TTL_DAYS", _at_least(30)),
)


def _engine_options(config) -> dict[str, Any]:
    """The pool's and the driver's timeouts: a database that hangs is a fast 503, not a
    request that waits for as long as the database does."""
    options: dict[str, Any] = {}
    if config["DATABASE_URL"].startswith("postgresql"):
        # Pooled connections idle for a while are tested when taken (database.py); a SQLite
        # file has no connection to lose.
        options["pool_timeout"] = config["DATABASE_POOL_TIMEOUT"]
        statement_ms = round(config["DATABASE_STATEMENT_TIMEOUT"] * 1000)
        options["connect_args"] = {
            "connect_timeout": config["DATABASE_CONNECT_TIMEOUT"],
            "options": f"-c statement_timeout={statement_ms}",
        }
    return options


def _derive(app) -> None:
    """Translate our settings into the names Flask and its extensions read."""
    config = app.config
    config["MAX_CONTENT_LENGTH"] = config["MAX_BODY_BYTES"]
    embedded = not config["DATABASE_URL"]
    if embedded:
        os.makedirs(app.instance_path, exist_ok=True)
        path = os.path.join(app.instance_path, "engagement.sqlite3")
        config["DATABASE_URL"] = f"sqlite:///{path}"
    config["DATABASE_URL"] = database_url(config["DATABASE_URL"])
    config.setdefault("SQLALCHEMY_DATABASE_URI", config["DATABASE_URL"])
    config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", _engine_options(config))
    if config["AUTO_MIGRATE"] is None:
        config["AUTO_MIGRATE"] = embedded
    if config["MAIL_BACKGROUND"] is None:
        config["MAIL_BACKGROUND"] = embedded
    if not config["SITE_NAME"]:
        base = config["PUBLIC_BASE_URL"]
        config["SITE_NAME"] = urlsplit(base).hostname or base
    config["API_TITLE"] = "engagement"
    config["API_VERSION"] = "v1"
    config["OPENAPI_VERSION"] = "3.0.3"
    with open(os.path.join(os.path.dirname(__file__), "openapi.md"), encoding="utf-8") as text:
        config["API_SPEC_OPTIONS"] = {"info": {"description": text.read()}}
    config["OPENAPI_URL_PREFIX"] = "/api/v1"
    config["OPENAPI_JSON_PATH"] = "openapi.json"
    # /api/v1/docs is our own page (console.routes): no Swagger UI loaded from a CDN.


# (database, driver) as SQLAlchemy names them: the ones this service installs and tests.
SUPPORTED_DATABASES = {("postgresql", "psycopg"), ("sqlite", "pysqlite")}


def database_url(text: str) -> str:
    """The URL SQLAlchemy is given. `postgres://` and `postgresql://` (as hosting platforms
    write them) mean PostgreSQL through psycopg 3, the driver this service installs."""
    scheme, _, rest = text.partition("://")
    if scheme in ("postgres", "postgresql"):
        text = f"postgresql+psycopg://{rest}"
    try:
        url = make_url(text)
        # Another driver or database would fail on its first connection, with a traceback.
        supported = (url.get_backend_name(), url.get_driver_name()) in SUPPORTED_DATABASES
    except (ArgumentError, NoSuchModuleError, ImportError):
        supported = False
    except ValueError:  # an unclosed [ of an IPv6 address, a port that is not a number
        raise ConfigError("DATABASE_URL cannot be read: check the host's brackets and the "
                          "port") from None
    if not supported:
        # Never the URL itself in the message: it may hold a password.
        raise ConfigError(
            f"DATABASE_URL must be postgresql://user:password@host:5432/name or "
            f"sqlite:///path, not a {scheme!r} URL") from None
    return text

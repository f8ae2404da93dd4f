"""Settings (STYLE.md habit 2): defaults, then ENGAGEMENT_* from the environment, then the
mapping given to create_app; unsafe production settings refuse to start; unknown keys warn."""

from __future__ import annotations

import logging
import os

import pytest
from conftest import TEST_SECRET, comment_fields

from engagement import create_app
from engagement.config import DEFAULTS, ConfigError


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """Each test starts from the defaults, whatever the shell running the suite exports."""
    for key in list(os.environ):
        if key.startswith("ENGAGEMENT_"):
            monkeypatch.delenv(key)
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)


@pytest.fixture
def configure(tmp_path):
    """create_app on a SQLite file that is never migrated: for settings that need no rows."""

    def configure(**overrides):
        return create_app({
            "DATABASE_URL": f"sqlite:///{tmp_path / 'config.sqlite3'}",
            "AUTO_MIGRATE": False,
            **overrides,
        })

    return configure


@pytest.fixture
def config_log(monkeypatch, caplog):
    """The warnings engagement.config writes."""
    caplog.set_level(logging.WARNING, logger="engagement.config")
    return caplog


def unknown_setting_warnings(caplog) -> list[str]:
    return [
        record.getMessage() for record in caplog.records
        if record.name == "engagement.config" and record.levelno == logging.WARNING
    ]


# --- Layering ------------------------------------------------------------------------------


def test_defaults(configure):
    config = configure(SECRET_KEY=TEST_SECRET).config
    assert config["ENV"] == "development"
    assert config["MAX_BODY_BYTES"] == 64 * 1024
    assert config["CACHE_MAX_AGE"] == 10
    assert config["TRUSTED_PROXIES"] == []
    assert config["CORS_ORIGINS"] == []
    assert config["ARTICLES_AUTO_CREATE"] is True
    assert config["COMMENTS_CLOSE_AFTER_DAYS"] == 0
    assert config["COMMENT_MAX_LENGTH"] == 10000
    assert config["MAX_REPLY_DEPTH"] == 5
    assert config["EDIT_WINDOW_SECONDS"] == 900
    assert config["SHARE_NETWORKS"] == [
        "facebook", "x", "pinterest", "linkedin", "tumblr",
        "email", "whatsapp", "reddit", "telegram", "copy_link",
    ]
    assert config["SHARE_DEDUPE_SECONDS"] == 86400
    assert (config["MODERATION_MODE"], config["MAX_LINKS"], config["BLOCKED_WORDS"],
            config["FLAG_THRESHOLD"]) == ("none", 2, [], 3)
    assert config["IP_RETENTION_DAYS"] == 30
    assert config["MAIL_URL"] == "console://"
    assert config["CONFIRM_RESEND_SECONDS"] == 600
    assert config["CONFIRM_TOKEN_TTL_SECONDS"] == 172800
    assert config["RATELIMIT_ENABLED"] is True
    assert config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert config["LIMIT_COMMENTS"] == "5/minute;30/hour"
    assert config["LIMIT_READS"] == "600/minute"


def test_development_without_a_secret_makes_a_random_one_per_start(configure):
    first, second = configure().config["SECRET_KEY"], configure().config["SECRET_KEY"]
    assert isinstance(first, str) and len(first) >= 32
    assert first != second


@pytest.mark.parametrize(
    ("variable", "value", "key", "expected"),
    [
        ("ENGAGEMENT_CACHE_MAX_AGE", "30", "CACHE_MAX_AGE", 30),
        ("ENGAGEMENT_ARTICLES_AUTO_CREATE", "false", "ARTICLES_AUTO_CREATE", False),
        ("ENGAGEMENT_RATELIMIT_ENABLED", "true", "RATELIMIT_ENABLED", True),
        ("ENGAGEMENT_CORS_ORIGINS", '["https://a.example", "https://b.example"]', "CORS_ORIGINS",
         ["https://a.example", "https://b.example"]),
        ("ENGAGEMENT_CORS_ORIGINS", "https://a.example, https://b.example", "CORS_ORIGINS",
         ["https://a.example", "https://b.example"]),
        ("ENGAGEMENT_SHARE_NETWORKS", "facebook,x", "SHARE_NETWORKS", ["facebook", "x"]),
        ("ENGAGEMENT_BLOCKED_WORDS", "[]", "BLOCKED_WORDS", []),
        ("ENGAGEMENT_BLOCKED_WORDS", "spam", "BLOCKED_WORDS", ["spam"]),
        ("ENGAGEMENT_LIMIT_COMMENTS", "2/minute;10/hour", "LIMIT_COMMENTS", "2/minute;10/hour"),
        ("ENGAGEMENT_PUBLIC_BASE_URL", "https://comments.example", "PUBLIC_BASE_URL",
         "https://comments.example"),
        ("ENGAGEMENT_SECRET_KEY", "from-the-environment", "SECRET_KEY", "from-the-environment"),
        ("ENGAGEMENT_SECRET_KEY", "12345", "SECRET_KEY", "12345"),
        ("ENGAGEMENT_SECRET_KEY", "true", "SECRET_KEY", "true"),
        ("ENGAGEMENT_ARTICLES_AUTO_CREATE", "False", "ARTICLES_AUTO_CREATE", False),
        ("ENGAGEMENT_ARTICLES_AUTO_CREATE", "0", "ARTICLES_AUTO_CREATE", False),
        ("ENGAGEMENT_AUTO_MIGRATE", "no", "AUTO_MIGRATE", False),
        ("ENGAGEMENT_RATELIMIT_ENABLED", "YES", "RATELIMIT_ENABLED", True),
        ("ENGAGEMENT_EDIT_WINDOW_SECONDS", " 60 ", "EDIT_WINDOW_SECONDS", 60),
        ("ENGAGEMENT_DATABASE_STATEMENT_TIMEOUT", "2.5", "DATABASE_STATEMENT_TIMEOUT", 2.5),
        ("ENGAGEMENT_RATELIMIT_STORAGE_TIMEOUT", "1", "RATELIMIT_STORAGE_TIMEOUT", 1.0),
        ("ENGAGEMENT_RETRY_AFTER_SECONDS", "30", "RETRY_AFTER_SECONDS", 30),
    ],
)
def test_environment_overrides_defaults(monkeypatch, configure, variable, value, key, expected):
    monkeypatch.setenv(variable, value)
    assert configure().config[key] == expected


def test_create_app_overrides_win_over_the_environment(monkeypatch, configure):
    monkeypatch.setenv("ENGAGEMENT_CACHE_MAX_AGE", "30")
    monkeypatch.setenv("ENGAGEMENT_SHARE_NETWORKS", "facebook,x")
    monkeypatch.setenv("ENGAGEMENT_SECRET_KEY", "from-the-environment")
    config = configure(CACHE_MAX_AGE=5, SHARE_NETWORKS=["email"], SECRET_KEY=TEST_SECRET).config
    assert config["CACHE_MAX_AGE"] == 5
    assert config["SHARE_NETWORKS"] == ["email"]
    assert config["SECRET_KEY"] == TEST_SECRET


def test_environment_setting_reaches_the_answers(monkeypatch, make_app):
    monkeypatch.setenv("ENGAGEMENT_CACHE_MAX_AGE", "30")
    monkeypatch.setenv("ENGAGEMENT_ARTICLES_AUTO_CREATE", "false")
    client = make_app().test_client()
    assert client.get("/api/v1/articles/never-seen").status_code == 404
    assert client.get("/api/v1/counts?ids=a").cache_control.max_age == 30


def test_override_reaches_the_answers_over_the_environment(monkeypatch, make_app):
    monkeypatch.setenv("ENGAGEMENT_CACHE_MAX_AGE", "30")
    client = make_app(CACHE_MAX_AGE=5).test_client()
    assert client.get("/api/v1/counts?ids=a").cache_control.max_age == 5


# --- Derived settings ----------------------------------------------------------------------


def test_postgresql_connections_carry_the_timeouts(configure):
    app = configure(DATABASE_URL="postgresql+psycopg://engagement@db.example/engagement",
                    DATABASE_CONNECT_TIMEOUT=3, DATABASE_STATEMENT_TIMEOUT=2.5,
                    DATABASE_POOL_TIMEOUT=1.5)

    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["pool_timeout"] == 1.5
    assert options["connect_args"] == {"connect_timeout": 3,
                                       "options": "-c statement_timeout=2500"}


def test_max_body_bytes_becomes_flasks_max_content_length(configure):
    assert configure(MAX_BODY_BYTES=2048).config["MAX_CONTENT_LENGTH"] == 2048
    assert configure().config["MAX_CONTENT_LENGTH"] == DEFAULTS["MAX_BODY_BYTES"]


def test_max_body_bytes_from_the_environment_limits_writes(monkeypatch, make_app):
    monkeypatch.setenv("ENGAGEMENT_MAX_BODY_BYTES", "512")
    client = make_app().test_client()
    response = client.post(
        "/api/v1/articles/an-article/comments", json=comment_fields(body="x" * 600)
    )
    assert response.status_code == 413
    assert response.get_json()["reason"] == "payload_too_large"


def test_trusted_proxies_become_networks(configure):
    config = configure(TRUSTED_PROXIES=["10.0.0.1", "192.168.0.0/16", "2001:db8::/32"]).config
    assert [str(network) for network in config["TRUSTED_PROXIES"]] == [
        "10.0.0.1/32", "192.168.0.0/16", "2001:db8::/32",
    ]


def test_without_database_url_the_embedded_sqlite_lives_in_the_instance_folder(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    # AUTO_MIGRATE off: the test must not create the real instance database.
    app = create_app({"SECRET_KEY": TEST_SECRET, "AUTO_MIGRATE": False})
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    assert uri.startswith("sqlite:///")
    assert uri == "sqlite:///" + os.path.join(app.instance_path, "engagement.sqlite3")


def test_database_url_from_the_environment(monkeypatch, tmp_path):
    url = f"sqlite:///{tmp_path / 'from-env.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", url)
    app = create_app({"SECRET_KEY": TEST_SECRET})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == url
    # A database the operator names is migrated by `flask db upgrade`, not on start.
    assert app.config["AUTO_MIGRATE"] is False
    assert not (tmp_path / "from-env.sqlite3").exists()


# --- Refusing to start ---------------------------------------------------------------------

# What production needs besides a secret (issue 10, item 19: no console mail, no local links).
LONG_SECRET = "a-real-secret-of-forty-three-characters-xyz"
SAFE_MAIL_AND_BASE = {"MAIL_URL": "smtps://mail.news.example",
                      "MAIL_FROM": "Newsroom <news@news.example>",
                      "PUBLIC_BASE_URL": "https://comments.news.example"}


def test_production_without_a_secret_refuses_to_start(configure):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        configure(ENV="production")


def test_production_without_a_secret_from_the_environment_refuses_to_start(monkeypatch, configure):
    monkeypatch.setenv("ENGAGEMENT_ENV", "production")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        configure()
    monkeypatch.setenv("ENGAGEMENT_SECRET_KEY", LONG_SECRET)
    assert configure(**SAFE_MAIL_AND_BASE).config["ENV"] == "production"


def test_production_with_in_memory_limits_and_several_workers_refuses(monkeypatch, configure):
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    with pytest.raises(ConfigError, match="RATELIMIT_STORAGE_URI"):
        configure(ENV="production", SECRET_KEY=TEST_SECRET)


@pytest.mark.parametrize(
    ("workers", "settings"),
    [
        (None, {"ENV": "production"}),
        ("1", {"ENV": "production"}),
        ("4", {"ENV": "production", "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0"}),
        ("4", {"ENV": "development"}),
    ],
)
def test_safe_combinations_start(monkeypatch, configure, workers, settings):
    if workers is not None:
        monkeypatch.setenv("WEB_CONCURRENCY", workers)
    app = configure(SECRET_KEY=LONG_SECRET, **SAFE_MAIL_AND_BASE, **settings)
    assert app.config["ENV"] == settings["ENV"]


@pytest.mark.parametrize("strategy", ["fixed-window", "sliding-window-counter"])
def test_a_rate_limit_strategy_that_cannot_give_places_back_refuses_to_start(configure, strategy):
    with pytest.raises(ConfigError, match="RATELIMIT_STRATEGY must be moving-window"):
        configure(RATELIMIT_STRATEGY=strategy)


def test_production_refuses_a_sender_at_a_domain_that_does_not_exist(configure):
    settings = {**SAFE_MAIL_AND_BASE, "MAIL_FROM": "engagement@localhost"}  # the default
    with pytest.raises(ConfigError, match="^ENGAGEMENT_MAIL_FROM .*domain that does not exist"):
        configure(ENV="production", SECRET_KEY=LONG_SECRET, **settings)


@pytest.mark.parametrize(("url", "problem"), [
    ("ftp://news.example", "not an address such as https://"),
    ("notaurl", "not an address such as https://"),
    ("https://", "not an address such as https://"),
    ("http://localhost:8000", "would point at this machine"),
    ("https://127.0.0.1", "would point at this machine"),
])
def test_production_refuses_a_public_base_url_that_is_not_the_public_address(configure, url,
                                                                             problem):
    settings = {**SAFE_MAIL_AND_BASE, "PUBLIC_BASE_URL": url}
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL") as refused:
        configure(ENV="production", SECRET_KEY=LONG_SECRET, **settings)
    assert problem in str(refused.value)


@pytest.mark.parametrize(
    "proxies",
    [
        ["not-an-address"],
        ["10.0.0.0/33"],
        ["10.0.0.0/8", "2001:db8::/129"],
        ["10.0.0.0/8, 192.168.0.0/16"],  # one entry holding two networks
        [42],
        "10.0.0.0/8, example.com",
    ],
)
def test_invalid_trusted_proxies_refuse_to_start(configure, proxies):
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        configure(TRUSTED_PROXIES=proxies)


def test_invalid_trusted_proxies_from_the_environment_refuse_to_start(monkeypatch, configure):
    monkeypatch.setenv("ENGAGEMENT_TRUSTED_PROXIES", "10.0.0.0/8, proxy.internal")
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        configure()


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("ENV", "staging"),
        ("MAX_BODY_BYTES", 0),
        ("MAX_BODY_BYTES", -1),
        ("MAX_BODY_BYTES", "64k"),
        ("MAX_BODY_BYTES", True),  # what ENGAGEMENT_MAX_BODY_BYTES=true reads as
        ("COMMENT_MAX_LENGTH", 0),
        ("MAX_REPLY_DEPTH", 0),
        ("EDIT_WINDOW_SECONDS", 0),
        ("CACHE_MAX_AGE", -1),
        ("CACHE_MAX_AGE", False),
        ("COMMENTS_CLOSE_AFTER_DAYS", -1),
        ("COMMENTS_CLOSE_AFTER_DAYS", 36501),
        ("COMMENTS_CLOSE_AFTER_DAYS", 999999999),  # today less it is no date: every read 500
        ("MODERATION_MODE", "sometimes"),
        ("SHARE_NETWORKS", {"facebook": True}),
        ("CORS_ORIGINS", [1, 2]),
        ("DATABASE_POOL_TIMEOUT", 0),
        ("DATABASE_STATEMENT_TIMEOUT", -1),
        ("RATELIMIT_STORAGE_TIMEOUT", "soon"),
        ("MAIL_TIMEOUT", True),
        ("READYZ_TIMEOUT", 0),
        ("REQUEST_BODY_TIMEOUT", 0),
        ("RETRY_AFTER_SECONDS", 0),
    ],
)
def test_invalid_values_refuse_to_start(configure, key, value):
    with pytest.raises(ConfigError, match=key):
        configure(**{key: value})


@pytest.mark.parametrize("key", [key for key in DEFAULTS if key.endswith(("_DAYS", "_SECONDS"))])
def test_a_duration_past_a_century_refuses_to_start(configure, key):
    # Today plus or less it would be no date: the first signup, job or read using it was a 500.
    century = 36500 * (1 if key.endswith("_DAYS") else 86400)
    configure(**{key: century})

    with pytest.raises(ConfigError, match=f"{key} must be at most {century}"):
        configure(**{key: century + 1})


@pytest.mark.parametrize(("key", "value", "named"), [
    ("DATABASE_URL", "mysql://u:hunter2@db/engagement", "DATABASE_URL"),
    ("DATABASE_URL", "oracle://x", "DATABASE_URL"),
    ("DATABASE_URL", "postgresql+psycopg2://u:hunter2@db/engagement", "DATABASE_URL"),
    ("RATELIMIT_STORAGE_URI", "bogus://u:hunter2@x", "ENGAGEMENT_RATELIMIT_STORAGE_URI"),
    ("RATELIMIT_STORAGE_URI", "redis://redis:notaport/0", "ENGAGEMENT_RATELIMIT_STORAGE_URI"),
    ("CACHE_URL", "bogus://", "ENGAGEMENT_CACHE_URL"),
    ("MAIL_URL", "ftp://x", "ENGAGEMENT_MAIL_URL"),
    ("MAIL_URL", "smtp://mail.news.example:notaport", "ENGAGEMENT_MAIL_URL"),
    ("MAIL_URL", "smtps://u:hunter2@mail.news.example?starttls=1", "ENGAGEMENT_MAIL_URL"),
    ("MAIL_FROM", "", "ENGAGEMENT_MAIL_FROM"),
    ("MAIL_FROM", "news at news.example", "ENGAGEMENT_MAIL_FROM"),
    ("MAIL_FROM", "Newsroom <news@>", "ENGAGEMENT_MAIL_FROM"),
    ("MAIL_FROM", "news@news.example, other@news.example", "ENGAGEMENT_MAIL_FROM"),
    ("CACHE_URL", "redis://cache.internal:6379/x", "ENGAGEMENT_CACHE_URL"),
    ("CACHE_URL", "redis://cache.internal:6379/1O", "ENGAGEMENT_CACHE_URL"),
    ("RATELIMIT_STORAGE_URI", "redis://u:hunter2@redis.internal:6379/zero",
     "ENGAGEMENT_RATELIMIT_STORAGE_URI"),
    ("MODERATOR_EMAILS", ["mod@news.example", "not-an-email"], "ENGAGEMENT_MODERATOR_EMAILS"),
    ("MODERATOR_EMAILS", ["mod@"], "ENGAGEMENT_MODERATOR_EMAILS"),
    ("MODERATION_WEBHOOK_URL", "ftp://hooks.news.example", "ENGAGEMENT_MODERATION_WEBHOOK_URL"),
    ("DATABASE_URL", "postgresql://u:hunter2@[::1/engagement", "DATABASE_URL"),
    ("PUBLIC_BASE_URL", "http://[::1", "ENGAGEMENT_PUBLIC_BASE_URL"),
    ("PUBLIC_BASE_URL", "https://comments.news.example:https", "ENGAGEMENT_PUBLIC_BASE_URL"),
    ("CORS_ORIGINS", ["http://[::1"], "ENGAGEMENT_CORS_ORIGINS"),
    ("CORS_ORIGINS", ["https://news.example", "news.example"], "ENGAGEMENT_CORS_ORIGINS"),
    ("CORS_ORIGINS", ["https://news.example/blog"], "ENGAGEMENT_CORS_ORIGINS"),
])
def test_urls_that_cannot_be_read_refuse_to_start_in_development_too(configure, key, value,
                                                                     named):
    """Merely unsafe values only warn in development; these would stop the service later
    with a traceback (the first connection, a worker, the first mail)."""
    with pytest.raises(ConfigError) as refused:
        configure(**{key: value})
    assert str(refused.value).startswith(f"{named} ")
    assert "hunter2" not in str(refused.value)


def test_an_origin_pasted_with_its_slash_is_the_origin_browsers_send(configure):
    app = configure(CORS_ORIGINS=["https://news.example/"])

    response = app.test_client().get("/api/v1/articles/a",
                                     headers={"Origin": "https://news.example"})

    assert response.headers["Access-Control-Allow-Origin"] == "https://news.example"


def test_a_cache_on_the_rate_limits_redis_server_is_warned_about(configure, config_log):
    configure(RATELIMIT_STORAGE_URI="redis://redis.internal:6379/0",
              CACHE_URL="redis://redis.internal/1")
    configure(RATELIMIT_STORAGE_URI="redis://redis.internal:6379/0",
              CACHE_URL="redis://cache.internal:6379/0")

    [warning] = [message for message in unknown_setting_warnings(config_log)
                 if "CACHE_URL" in message]
    assert "ENGAGEMENT_RATELIMIT_STORAGE_URI" in warning and "allkeys-lru" in warning


def test_store_urls_are_read_without_connecting(configure):
    unreachable = "redis://u:secret@127.0.0.1:1"
    app = configure(RATELIMIT_STORAGE_URI=f"{unreachable}/0", CACHE_URL=f"{unreachable}/1")
    assert app.config["CACHE_URL"] == f"{unreachable}/1"


@pytest.mark.parametrize(("variable", "value"), [
    ("ENGAGEMENT_MAX_BODY_BYTES", "true"),
    ("ENGAGEMENT_CACHE_MAX_AGE", "ten"),
    ("ENGAGEMENT_CACHE_MAX_AGE", "1.5"),
    ("ENGAGEMENT_DATABASE_STATEMENT_TIMEOUT", "5s"),
    ("ENGAGEMENT_MAIL_TIMEOUT", "-1"),
    ("ENGAGEMENT_ARTICLES_AUTO_CREATE", "maybe"),
    ("ENGAGEMENT_CORS_ORIGINS", '["https://a.example"'),
    ("ENGAGEMENT_CORS_ORIGINS", "[1, 2]"),
])
def test_environment_values_that_do_not_read_as_their_type_refuse_to_start(
    monkeypatch, configure, variable, value
):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=variable):
        configure()


def test_a_secret_of_digits_from_the_environment_still_signs(monkeypatch, database_url):
    monkeypatch.setenv("ENGAGEMENT_SECRET_KEY", "12345")
    app = create_app({"DATABASE_URL": database_url, "AUTO_MIGRATE": False})
    assert app.config["SECRET_KEY"] == "12345"

    response = app.test_client().post("/api/v1/articles/a/comments", json=comment_fields())

    assert response.status_code == 201


# --- Unknown keys --------------------------------------------------------------------------


def test_unknown_environment_key_warns(monkeypatch, configure, config_log):
    monkeypatch.setenv("ENGAGEMENT_MAX_BODY_BYTE", "1024")  # a typo of MAX_BODY_BYTES
    app = configure()
    assert any("MAX_BODY_BYTE " in w for w in unknown_setting_warnings(config_log))
    assert app.config["MAX_BODY_BYTES"] == DEFAULTS["MAX_BODY_BYTES"]


def test_unknown_override_key_warns(configure, config_log):
    configure(COMMENTS_MAX_LENGTH=5)
    assert any("COMMENTS_MAX_LENGTH" in w for w in unknown_setting_warnings(config_log))


def test_prefixed_database_url_is_not_silently_ignored(monkeypatch, tmp_path, config_log):
    """The database is named by DATABASE_URL; ENGAGEMENT_DATABASE_URL must not quietly leave a
    service on the embedded SQLite file."""
    monkeypatch.setenv("ENGAGEMENT_DATABASE_URL", f"sqlite:///{tmp_path / 'prefixed.sqlite3'}")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'named.sqlite3'}")
    app = create_app({"SECRET_KEY": TEST_SECRET})
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("named.sqlite3")
    assert any("ENGAGEMENT_DATABASE_URL" in w for w in unknown_setting_warnings(config_log))


def test_known_keys_do_not_warn(monkeypatch, configure, config_log):
    monkeypatch.setenv("ENGAGEMENT_CACHE_MAX_AGE", "30")
    monkeypatch.setenv("ENGAGEMENT_TRUSTED_PROXIES", "10.0.0.0/8")
    configure(SECRET_KEY=TEST_SECRET, TESTING=True, PROPAGATE_EXCEPTIONS=False,
              MODERATION_MODE="all")
    assert unknown_setting_warnings(config_log) == []


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def test_migrating_in_process_keeps_the_service_loggers(monkeypatch, tmp_path, configure):
    # Put back whatever fileConfig changes (levels, handlers, disabled flags) after the test.
    monkeypatch.setattr(logging.root, "handlers", list(logging.root.handlers))
    monkeypatch.setattr(logging.root, "level", logging.root.level)
    for logger in list(logging.root.manager.loggerDict.values()):
        if isinstance(logger, logging.Logger):
            monkeypatch.setattr(logger, "disabled", logger.disabled)
    config_logger = logging.getLogger("engagement.config")
    monkeypatch.setattr(config_logger, "disabled", False)
    records = _Records()
    config_logger.addHandler(records)
    try:
        # A service on the embedded default migrates its database as it starts...
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'embedded.sqlite3'}",
                    "AUTO_MIGRATE": True, "SECRET_KEY": TEST_SECRET})
        assert (tmp_path / "embedded.sqlite3").exists()
        # ...and a warning written afterwards must still reach the operator.
        configure(COMMENTS_MAX_LENGTH=5)
    finally:
        config_logger.removeHandler(records)
    assert any("COMMENTS_MAX_LENGTH" in message for message in records.messages)

"""Who the client is (docs/api.md, Rate limits: trusted proxies): the address parser and the
X-Forwarded-For walk as a table, then the address a posted comment is stored with."""

from __future__ import annotations

import ipaddress

import pytest
from conftest import comment_fields
from sqlalchemy import select

from engagement.clients import limit_key, parse_address, resolve_client
from engagement.comments.models import Comment
from engagement.extensions import db

CLIENT = "198.51.100.7"  # the reader
SPOOFED = "203.0.113.66"  # what the reader claims to be


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("  203.0.113.7 ", "203.0.113.7"),
        ("203.0.113.7:5100", "203.0.113.7"),
        ("2001:db8::1", "2001:db8::1"),
        ("2001:DB8:0:0::1", "2001:db8::1"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("::1", "::1"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("[::ffff:203.0.113.7]:80", "203.0.113.7"),
        ("::ffff:cb00:7107", "203.0.113.7"),
        (None, None),
        ("", None),
        ("   ", None),
        ("unknown", None),  # nginx's placeholder
        ("_hidden", None),  # an RFC 7239 obfuscated identifier
        ("example.com", None),
        ("203.0.113", None),
        ("256.0.0.1", None),
        ("203.0.113.7/24", None),
        ("203.0.113.7:80:90", None),
        ("2001:db8::1::2", None),
        ("[2001:db8::1", None),
        ("2001:db8::1]", None),
        ("<script>", None),
    ],
)
def test_parse_address(text, expected):
    address = parse_address(text)
    assert (None if address is None else str(address)) == expected


def networks(*entries: str) -> list:
    return [ipaddress.ip_network(entry) for entry in entries]


PROXIES = networks("10.0.0.0/8", "192.168.0.0/16", "2001:db8:aaaa::/48")


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "trusted", "expected"),
    [
        pytest.param(CLIENT, [SPOOFED], [], CLIENT, id="no-trusted-proxies-header-ignored"),
        pytest.param("10.0.0.1", [CLIENT], [], "10.0.0.1", id="no-trusted-proxies-even-private"),
        pytest.param(CLIENT, [SPOOFED], PROXIES, CLIENT, id="untrusted-peer-header-ignored"),
        pytest.param(CLIENT, ["10.0.0.5"], PROXIES, CLIENT,
                     id="untrusted-peer-claiming-a-proxy-ignored"),
        pytest.param("10.0.0.1", [CLIENT], PROXIES, CLIENT, id="trusted-peer-one-hop"),
        pytest.param("10.0.0.1", [f"{SPOOFED}, {CLIENT}"], PROXIES, CLIENT,
                     id="trusted-peer-rightmost-untrusted-wins-over-spoof"),
        pytest.param("10.0.0.1", [f"{SPOOFED}, {CLIENT}, 192.168.4.4, 10.200.0.9"], PROXIES,
                     CLIENT, id="several-trusted-ipv4-hops-skipped"),
        pytest.param("2001:db8:aaaa::1", [f"{SPOOFED}, 2001:db8:beef::7, 2001:db8:aaaa:1::2"],
                     PROXIES, "2001:db8:beef::7", id="several-trusted-ipv6-hops-skipped"),
        pytest.param("2001:db8:aaaa::1", [f"{CLIENT}, 10.0.0.2"], PROXIES, CLIENT,
                     id="ipv6-proxy-then-ipv4-proxy"),
        pytest.param("::1", [f"{CLIENT}, 127.0.0.1"], networks("127.0.0.1/32", "::1/128"), CLIENT,
                     id="loopback-proxies-of-both-families"),
        pytest.param("10.0.0.1", [], PROXIES, "10.0.0.1", id="trusted-peer-without-header"),
        pytest.param("10.0.0.1", ["10.0.0.3, 192.168.0.2"], PROXIES, "10.0.0.3",
                     id="all-trusted-leftmost"),
        pytest.param("10.0.0.1", [SPOOFED, f"{CLIENT}, 10.0.0.2"], PROXIES, CLIENT,
                     id="header-lines-joined-in-order"),
        pytest.param("10.0.0.1", [CLIENT, "10.0.0.2"], PROXIES, CLIENT,
                     id="second-header-line-is-nearer"),
        pytest.param("10.0.0.1", [f"{CLIENT}, garbage, 10.0.0.2"], PROXIES, "10.0.0.2",
                     id="garbage-ends-the-walk-at-the-last-believable-hop"),
        pytest.param("10.0.0.1", [f"{CLIENT}, unknown"], PROXIES, "10.0.0.1",
                     id="garbage-next-to-peer-leaves-the-peer"),
        pytest.param("10.0.0.1", [f"garbage, {CLIENT}, 10.0.0.2"], PROXIES, CLIENT,
                     id="garbage-beyond-the-client-is-never-read"),
        pytest.param("10.0.0.1", [f"{CLIENT},, , 10.0.0.2"], PROXIES, CLIENT,
                     id="empty-entries-skipped"),
        pytest.param("::ffff:10.0.0.1", ["::ffff:198.51.100.7"], PROXIES, CLIENT,
                     id="ipv4-mapped-ipv6-normalised"),
        pytest.param("10.0.0.1", ["[2001:db8:beef::7]:4711, 10.0.0.2:8080"], PROXIES,
                     "2001:db8:beef::7", id="bracketed-and-ported-hops"),
        pytest.param("10.0.0.1", [f" {CLIENT}:5100 "], PROXIES, CLIENT, id="ported-ipv4-hop"),
        pytest.param("2001:db8:aaab::1", [SPOOFED], PROXIES, "2001:db8:aaab::1",
                     id="ipv6-peer-just-outside-the-trusted-network"),
        pytest.param(None, [CLIENT], PROXIES, None, id="no-peer"),
        pytest.param("", [CLIENT], PROXIES, CLIENT, id="unix-socket-with-trusted-proxies"),
        pytest.param("", [CLIENT], [], None, id="unix-socket-without-trusted-proxies"),
        pytest.param("not-an-address", [CLIENT], PROXIES, None, id="unparseable-peer"),
    ],
)
def test_resolve_client(peer, forwarded_for, trusted, expected):
    address = resolve_client(peer, forwarded_for, trusted)
    assert (None if address is None else str(address)) == expected


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
        ("::1", "::/64"),
        (None, "unknown"),
    ],
)
def test_limit_key(address, expected):
    assert limit_key(parse_address(address)) == expected


def test_limit_key_groups_one_ipv6_subscriber_and_separates_others():
    same = {limit_key(parse_address(a)) for a in ("2001:db8:1:2::1", "2001:db8:1:2:ffff::9")}
    assert len(same) == 1
    assert limit_key(parse_address("2001:db8:1:3::1")) not in same
    assert limit_key(parse_address("203.0.113.7")) != limit_key(parse_address("203.0.113.8"))


# --- Through HTTP: the address a comment is stored with ------------------------------------


def stored_client_ips(app) -> list[str | None]:
    with app.app_context():
        return [comment.client_ip for comment in db.session.scalars(select(Comment))]


def post_from(app, peer: str, forwarded_for: str | None = None):
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    response = app.test_client().post(
        "/api/v1/articles/an-article/comments",
        json=comment_fields(),
        environ_base={"REMOTE_ADDR": peer},
        headers=headers,
    )
    assert response.status_code == 201, response.json
    return response


@pytest.mark.parametrize(
    ("trusted", "peer", "forwarded_for", "stored"),
    [
        pytest.param(["10.0.0.0/8"], "10.1.2.3", f"{CLIENT}, 10.0.0.5", CLIENT,
                     id="behind-trusted-proxies"),
        pytest.param(["10.0.0.0/8"], "10.1.2.3", f"{SPOOFED}, {CLIENT}, 10.0.0.5", CLIENT,
                     id="behind-trusted-proxies-spoof-ignored"),
        pytest.param(["10.0.0.0/8"], SPOOFED, f"{CLIENT}, 10.0.0.5", SPOOFED,
                     id="untrusted-peer-header-ignored"),
        pytest.param([], "10.1.2.3", CLIENT, "10.1.2.3", id="no-trusted-proxies-header-ignored"),
        pytest.param(["2001:db8:aaaa::/48"], "2001:db8:aaaa::1", f"{SPOOFED}, 2001:db8:beef::7",
                     "2001:db8:beef::7", id="ipv6-proxy"),
        pytest.param(["10.0.0.0/8"], "::ffff:10.1.2.3", CLIENT, CLIENT,
                     id="ipv4-mapped-peer-is-trusted"),
    ],
)
def test_comment_is_stored_with_the_resolved_client(make_app, trusted, peer, forwarded_for, stored):
    app = make_app(TRUSTED_PROXIES=trusted)
    post_from(app, peer, forwarded_for)
    assert stored_client_ips(app) == [stored]


def test_client_address_is_never_in_the_public_answer(make_app):
    app = make_app(TRUSTED_PROXIES=["10.0.0.0/8"])
    posted = post_from(app, "10.1.2.3", CLIENT)
    listing = app.test_client().get("/api/v1/articles/an-article/comments")
    assert CLIENT not in posted.get_data(as_text=True)
    assert CLIENT not in listing.get_data(as_text=True)


def test_trusted_proxies_from_the_environment_as_a_comma_list(monkeypatch, make_app):
    monkeypatch.setenv("ENGAGEMENT_TRUSTED_PROXIES", "192.0.2.0/24, 10.0.0.0/8")
    app = make_app()
    post_from(app, "10.1.2.3", f"{SPOOFED}, {CLIENT}, 192.0.2.10")
    post_from(app, SPOOFED, CLIENT)  # not a proxy of the list
    assert stored_client_ips(app) == [CLIENT, SPOOFED]


def test_trusted_proxies_from_the_environment_as_json(monkeypatch, make_app):
    monkeypatch.setenv("ENGAGEMENT_TRUSTED_PROXIES", '["10.0.0.0/8", "2001:db8:aaaa::/48"]')
    app = make_app()
    post_from(app, "2001:db8:aaaa::1", f"{CLIENT}, 10.0.0.5")
    assert stored_client_ips(app) == [CLIENT]

"""Who the client is. The one place that reads the peer address and `X-Forwarded-For`, following
`ENGAGEMENT_TRUSTED_PROXIES` (docs/api.md, Rate limits); everything keyed on a client (limits, bans,
share de-duplication, flags, stored addresses) asks here."""

from __future__ import annotations

import functools
import hashlib
import hmac
import ipaddress
import logging
from collections.abc import Sequence

import sqlalchemy as sa
from flask import current_app, g, request

log = logging.getLogger("engagement.clients")

# What gunicorn gives as the peer of a connection on a unix socket.
UNIX_SOCKET_PEER = ""

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


# The same few addresses come again and again (the proxy's, a reader's), and parsing one costs
# a few microseconds of every request.
@functools.lru_cache(maxsize=4096)
def parse_address(text: str | None) -> IPAddress | None:
    """An address as a proxy or a socket writes it, or None when it is not one."""
    if not text:
        return None
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # "203.0.113.7:5100"
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def resolve_client(
    peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[IPNetwork]
) -> IPAddress | None:
    """The client address: the peer, unless the peer is a trusted proxy; then the first address
    of X-Forwarded-For, read from the right, that is not a trusted proxy.

    A malformed entry ends the walk at the last hop we could still believe, so nobody can
    hide behind garbage; a chain made only of trusted proxies yields its leftmost address.
    """
    client = parse_address(peer)
    if client is None:
        if peer != UNIX_SOCKET_PEER or not trusted:
            return None
        # A unix socket, which only a process on this host (the proxy the operator
        # configured) can reach: its X-Forwarded-For is believed like a trusted proxy's.
    elif not _is_trusted(client, trusted):
        return client
    hops = [hop for header in forwarded_for for hop in header.split(",") if hop.strip()]
    for hop in reversed(hops):
        address = parse_address(hop)
        if address is None:
            return client
        client = address
        if not _is_trusted(address, trusted):
            return address
    return client


def _is_trusted(address: IPAddress, trusted: Sequence[IPNetwork]) -> bool:
    return any(address.version == network.version and address in network for network in trusted)


def client_address() -> IPAddress | None:
    """The current request's client address (computed once per request)."""
    if "client_address" not in g:
        trusted = current_app.config["TRUSTED_PROXIES"]
        forwarded_for = request.headers.getlist("X-Forwarded-For")
        g.client_address = resolve_client(request.remote_addr, forwarded_for, trusted)
        _warn_if_everyone_looks_alike(request.remote_addr, bool(forwarded_for), trusted)
    return g.client_address


def _warn_if_everyone_looks_alike(
    peer: str | None, forwarded: bool, trusted: Sequence[IPNetwork]
) -> None:
    """Say once per process when the setup makes every reader the same client: requests over
    a unix socket with no trusted proxy, or a proxy's X-Forwarded-For that is not believed.
    Limits, bans, flags and share counts then treat the whole readership as one reader."""
    address = parse_address(peer)
    if peer == UNIX_SOCKET_PEER and not trusted:
        kind = "unix-socket"
        problem = ("requests arrive on a unix socket and ENGAGEMENT_TRUSTED_PROXIES is empty: "
                   "every reader is one client; list the proxy (any address will do) in it")
    elif forwarded and address is not None and not _is_trusted(address, trusted):
        kind = "forwarded-for"
        problem = (f"X-Forwarded-For from {address} is ignored: it is not in "
                   "ENGAGEMENT_TRUSTED_PROXIES; if it is your proxy, every reader is one client")
    else:
        return
    warned = current_app.extensions.setdefault("engagement.client_warnings", set())
    if kind not in warned:  # once per kind, whatever the addresses: the log cannot be flooded
        warned.add(kind)
        log.warning(problem)


def current_limit_key() -> str:
    """The current request's rate-limit key."""
    return limit_key(client_address())


def limit_key(address: IPAddress | None) -> str:
    """What rate limits count per: the address, or an IPv6 address's /64 (one subscriber's)."""
    if address is None:
        return "unknown"
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


# A reader's home or office network: one person's changing addresses stay inside it, a
# stranger's elsewhere do not. first_time moderation recognises a regular by it.
HOME_PREFIX = {4: 24, 6: 48}


def home_network(address: IPAddress) -> IPNetwork:
    return ipaddress.ip_network((address, HOME_PREFIX[address.version]), strict=False)


# A fingerprint is the address's keyed hash (its first characters) then the user agent's.
FINGERPRINT_ADDRESS_CHARS = 48


def client_fingerprint() -> str:
    """Who a reader is for de-duplication, without storing their address: a keyed hash of
    the client address (an IPv6 address by its /64), then one of the user agent. The address
    decides; the user agent only tells apart the few readers behind one address (a household,
    an office), up to a cap the caller sets, since anyone can change it at will."""
    return fingerprint(client_address(), request.headers.get("User-Agent", ""))


def fingerprint(address: IPAddress | None, user_agent: str) -> str:
    """client_fingerprint of a client address and user agent."""
    hashed_address = keyed_hash("client", limit_key(address))[:FINGERPRINT_ADDRESS_CHARS]
    return hashed_address + keyed_hash("agent", user_agent)[: 64 - FINGERPRINT_ADDRESS_CHARS]


# Readers one address may count as (by user agent) wherever readers are counted (shares, votes):
# a household shares one address, but a forger changes user agents at will.
READERS_PER_ADDRESS = 3


def room_for_reader(fingerprint: sa.ColumnElement[str],
                    *scope: sa.ColumnElement[bool]) -> sa.ColumnElement[bool]:
    """Whether the client's address has fewer than READERS_PER_ADDRESS other readers among the
    rows of `scope`, by their `fingerprint` column; bound to `reader_bounds(client_hash)`.
    The fingerprints of one address's readers (hex, the address's hash first) are a range of
    the column: an index range on every database, where a LIKE prefix is one only under the C
    collation. Read in the statement that writes, or after a lock, or two readers of one
    address may both see room for one."""
    others = sa.select(sa.func.count()).where(
        *scope,
        fingerprint.between(sa.bindparam("lowest"), sa.bindparam("highest")),
        fingerprint != sa.bindparam("client_hash"),
    )
    return others.scalar_subquery() < READERS_PER_ADDRESS


def reader_bounds(client_hash: str) -> dict[str, str]:
    """The bound values of `room_for_reader` for a client: its fingerprint, and the lowest and
    highest fingerprint its address's readers can have."""
    address = client_hash[:FINGERPRINT_ADDRESS_CHARS]
    return {"client_hash": client_hash, "lowest": address.ljust(len(client_hash), "0"),
            "highest": address.ljust(len(client_hash), "f")}


def keyed_hash(purpose: str, value: str) -> str:
    """An HMAC of `value` under the service secret, separate per purpose, so the stored hash
    cannot be reversed by hashing candidate values without the key."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{purpose}\x00{value}".encode(), hashlib.sha256).hexdigest()

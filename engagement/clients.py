"""Who the client is. The one place that reads the peer address and `X-Forwarded-For`, following
`ENGAGEMENT_TRUSTED_PROXIES` (API.md, Operations); everything keyed on a client (limits, bans,
share de-duplication, flags, stored addresses) asks here."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Sequence

from flask import current_app, g, request

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


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
    if client is None or not _is_trusted(client, trusted):
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
        g.client_address = resolve_client(
            request.remote_addr,
            request.headers.getlist("X-Forwarded-For"),
            current_app.config["TRUSTED_PROXIES"],
        )
    return g.client_address


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


def client_fingerprint() -> str:
    """Who a reader is for de-duplication, without storing their address: a keyed hash of
    the client address and the user agent."""
    user_agent = request.headers.get("User-Agent", "")
    return keyed_hash("client", f"{client_address()}\x00{user_agent}")


def keyed_hash(purpose: str, value: str) -> str:
    """An HMAC of `value` under the service secret, separate per purpose, so the stored hash
    cannot be reversed by hashing candidate values without the key."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{purpose}\x00{value}".encode(), hashlib.sha256).hexdigest()

"""Which mailbox an email address reaches. `Ada.Lovelace+news@Gmail.com` and
`adalovelace@gmail.com` land in one inbox: throttles and bans that count addresses count
mailboxes instead, so that a tag or a dot does not make a new person."""

from __future__ import annotations

# Providers known to ignore dots in the local part (and the other names they answer to).
DOTLESS_DOMAINS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}


def canonical_mailbox(email: str) -> str:
    """The address lower-cased, without its `+tag`, without dots where the provider ignores
    them, on the provider's main domain."""
    local, _, domain = email.strip().lower().rpartition("@")
    local = local.split("+", 1)[0] or local
    if domain in DOTLESS_DOMAINS:
        local, domain = local.replace(".", ""), DOTLESS_DOMAINS[domain]
    return f"{local}@{domain}"


def mail_domain(email: str) -> str:
    return canonical_mailbox(email).rpartition("@")[2]

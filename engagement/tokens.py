"""Secret tokens handed to people (edit tokens, admin tokens, newsletter links): random, and
kept at rest only as their SHA-256, so a copy of the database cannot act as anyone."""

import hashlib
import secrets


def new_token(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    # surrogatepass: a token from a header or JSON is text we did not choose; hash, never fail.
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()

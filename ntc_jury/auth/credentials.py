"""Making and checking secrets: staff passwords, jurors' link tokens and PINs."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from werkzeug.security import check_password_hash, generate_password_hash

PIN_DIGITS = 6


def hash_password(password: str) -> str:
    return generate_password_hash(password)  # scrypt, salted


def password_matches(stored_hash: str | None, password: str) -> bool:
    return bool(stored_hash) and check_password_hash(stored_hash, password)


def new_link_token() -> str:
    return secrets.token_urlsafe(24)


def token_digest(token: str) -> str:
    """Link tokens carry 192 random bits, so a plain SHA-256 is safe and allows lookup."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_pin() -> str:
    return f"{secrets.randbelow(10**PIN_DIGITS):0{PIN_DIGITS}d}"


def digests_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a, b)


# A fixed hash to compare against when the account does not exist, so that a wrong email
# costs the same time as a wrong password.
DUMMY_HASH = generate_password_hash(secrets.token_hex(16))

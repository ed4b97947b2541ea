"""Keys derived from EMPAUSE_SECRET_KEY: one per purpose, so a leak of one use is not another.

Tokens at rest are Fernet-encrypted; API keys are random and only their SHA-256 is stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet, InvalidToken

API_KEY_PREFIX = "emp_"


def derive_key(secret_key: str, purpose: str) -> bytes:
    """32 bytes for `purpose`, from the one configured secret (HMAC-SHA256 as a KDF)."""
    return hmac.new(secret_key.encode(), f"empause:{purpose}".encode(), hashlib.sha256).digest()


class TokenCipher:
    """Encrypts members' OAuth tokens before they reach the database."""

    def __init__(self, secret_key: str):
        key = base64.urlsafe_b64encode(derive_key(secret_key, "tokens-at-rest"))
        self._fernet = Fernet(key)

    def encrypt(self, value: str | None) -> str | None:
        return None if value is None else self._fernet.encrypt(value.encode()).decode()

    def decrypt(self, value: str | None) -> str | None:
        """The plaintext, or None when absent or encrypted under another secret key."""
        if value is None:
            return None
        try:
            return self._fernet.decrypt(value.encode()).decode()
        except InvalidToken:
            return None


def new_api_key() -> tuple[str, str, str]:
    """(full key shown once, lookup prefix, hash to store)."""
    prefix = secrets.token_hex(4)
    key = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    return key, prefix, hash_api_key(key)


def hash_api_key(key: str) -> str:
    # Keys carry 256 random bits, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(key.encode()).hexdigest()


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def same_token(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))

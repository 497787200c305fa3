"""Team panel accounts: password hashes, sessions, and cross-site request forgery tokens.

Passwords are stored as PBKDF2-SHA256 hashes (`scripts/hash-password`). A session is a
random token in an HttpOnly cookie, signed with the panel secret so a tampered cookie is
refused without a database lookup, and stored (hashed) in `posta_panel_sessions` with an
expiry, so logging out really ends it and every replica agrees. State-changing requests
carry a CSRF token derived from the session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from datetime import timedelta
from typing import Optional

import sqlalchemy as sa

from posta.db import UTCDateTime, connect, metadata, utcnow

ITERATIONS = 260_000
SESSION_LIFETIME = timedelta(hours=12)

sessions = sa.Table(
    "posta_panel_sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("agent", sa.String(255), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("revoked_at", UTCDateTime),
)
settings = sa.Table(
    "posta_settings",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)


def hash_password(password: str, salt: Optional[str] = None) -> str:
    salt = salt or secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), ITERATIONS)
    return f"pbkdf2_sha256${ITERATIONS}${salt}${base64.b64encode(digest).decode()}"


def verify_password(password: str, encoded: Optional[str]) -> bool:
    try:
        algorithm, iterations, salt, expected = (encoded or "").split("$")
    except ValueError:
        return False
    if algorithm != "pbkdf2_sha256":
        return False
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), int(iterations))
    return hmac.compare_digest(base64.b64encode(digest).decode(), expected)


class Accounts:
    def __init__(self, url: Optional[str] = None) -> None:
        self.engine = connect(url)
        self.secret = self._secret()

    def _secret(self) -> bytes:
        """POSTA_PANEL_SECRET, else one generated once and kept in the database (replicas share it)."""
        configured = os.environ.get("POSTA_PANEL_SECRET")
        if configured:
            return configured.encode()
        with self.engine.begin() as conn:
            value = conn.execute(sa.select(settings.c.value).where(settings.c.key == "panel_secret")).scalar()
            if value is None:
                value = secrets.token_hex(32)
                try:
                    with conn.begin_nested():
                        conn.execute(settings.insert().values(key="panel_secret", value=value))
                except sa.exc.IntegrityError:  # another process made it first
                    value = conn.execute(sa.select(settings.c.value).where(settings.c.key == "panel_secret")).scalar()
        return value.encode()

    def open_session(self, agent: str) -> str:
        """A signed cookie value for a new session."""
        token = secrets.token_urlsafe(32)
        now = utcnow()
        with self.engine.begin() as conn:
            conn.execute(sessions.insert().values(token_hash=_hash(token), agent=agent, created_at=now,
                                                  expires_at=now + SESSION_LIFETIME))
        return f"{token}.{self._sign(token)}"

    def agent_for(self, cookie: Optional[str]) -> Optional[str]:
        """Who the cookie belongs to, if it is untampered, unexpired and not logged out."""
        token = self._verified(cookie)
        if token is None:
            return None
        query = sa.select(sessions.c.agent).where(
            sessions.c.token_hash == _hash(token), sessions.c.expires_at > utcnow(), sessions.c.revoked_at.is_(None))
        with self.engine.connect() as conn:
            return conn.execute(query).scalar()

    def close_session(self, cookie: Optional[str]) -> None:
        token = self._verified(cookie)
        if token is not None:
            with self.engine.begin() as conn:
                conn.execute(sessions.update().where(sessions.c.token_hash == _hash(token)).values(revoked_at=utcnow()))

    def csrf_token(self, cookie: str) -> str:
        return self._sign(f"csrf:{cookie}")

    def csrf_ok(self, cookie: Optional[str], token: Optional[str]) -> bool:
        return bool(cookie and token) and hmac.compare_digest(self.csrf_token(cookie), token)

    def _sign(self, value: str) -> str:
        return hmac.new(self.secret, value.encode(), hashlib.sha256).hexdigest()

    def _verified(self, cookie: Optional[str]) -> Optional[str]:
        token, _, signature = (cookie or "").rpartition(".")
        if not token or not hmac.compare_digest(self._sign(token), signature):
            return None
        return token


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()

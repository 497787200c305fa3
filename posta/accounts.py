"""Team panel accounts: password hashes, sessions, login limits, and cross-site request
forgery tokens.

Passwords are stored as PBKDF2-SHA256 hashes (`scripts/hash-password`). Checking one costs
the same whether the name exists or not, so timing does not tell which names do. The demo
business's hashes are marked (their salt starts with `demo`) and only work where the
WhatsApp number is the local simulator. Failed logins are counted in the database per
name and per client address, so the limit holds across replicas. A session is a random
token in an HttpOnly cookie, signed with the panel secret so a tampered cookie is refused
without a database lookup, and stored (hashed) in `posta_panel_sessions` with an expiry,
so logging out really ends it and every replica agrees. State-changing requests carry a
CSRF token derived from the session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Iterable, Optional

import sqlalchemy as sa

from posta.db import connect, utcnow
from posta.schema import login_failures, sessions, settings

ITERATIONS = 260_000
SESSION_LIFETIME = timedelta(hours=12)
DEMO_SALT = "demo"  # marks the demo business's hashes
# Checked instead of a real hash when the name is unknown: the same work, no match.
NOBODY = f"pbkdf2_sha256${ITERATIONS}$nobody${'A' * 44}"
# Failed logins allowed in FAILURE_WINDOW, per name and per client address.
FAILURE_WINDOW = timedelta(minutes=15)
FAILURES_PER_NAME = 5
FAILURES_PER_ADDRESS = 20


def hash_password(password: str, salt: Optional[str] = None, demo: bool = False) -> str:
    salt = salt or ((DEMO_SALT if demo else "") + secrets.token_hex(16))
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), ITERATIONS)
    return f"pbkdf2_sha256${ITERATIONS}${salt}${base64.b64encode(digest).decode()}"


def verify_password(password: str, encoded: Optional[str]) -> bool:
    """Whether `password` matches; a missing or malformed hash costs the same and fails."""
    try:
        algorithm, iterations, salt, expected = (encoded or "").split("$")
        rounds = int(iterations)
    except ValueError:
        algorithm, rounds, salt, expected = "", ITERATIONS, "", ""
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8", "surrogatepass"), salt.encode(), rounds)
    return algorithm == "pbkdf2_sha256" and hmac.compare_digest(base64.b64encode(digest), expected.encode())


def is_demo(encoded: Optional[str]) -> bool:
    """A hash made for the demo business (`scripts/hash-password --demo`)."""
    parts = (encoded or "").split("$")
    return len(parts) == 4 and parts[2].startswith(DEMO_SALT)


@dataclass(frozen=True)
class Login:
    agent: Optional[str]  # who signed in, when the password matched and may be used
    demo_refused: bool = False  # the right demo password, where demo passwords do not work


def check_login(agents: Iterable, name: str, password: str, demo_allowed: bool) -> Login:
    """The agent `name` (from `agents`, by name) if `password` is theirs. The same PBKDF2
    work is done for unknown names, agents without a password and refused demo hashes."""
    wanted = name.strip().casefold()
    agent = next((a for a in agents if a.name.casefold() == wanted), None)
    encoded = agent.password_hash if agent and agent.password_hash else NOBODY
    if not verify_password(password, encoded) or agent is None:
        return Login(None)
    if is_demo(encoded) and not demo_allowed:
        return Login(None, demo_refused=True)
    return Login(agent.name)


class LoginLimits:
    """Failed logins per name and per client address, in the database (all replicas)."""

    def __init__(self, url: Optional[str] = None) -> None:
        self.engine = connect(url)

    def retry_after(self, name: str, address: str) -> Optional[int]:
        """Seconds until this name and address may try again; None when they may now."""
        since = utcnow() - FAILURE_WINDOW
        waits = []
        with self.engine.connect() as conn:
            for key, limit in ((_name_key(name), FAILURES_PER_NAME), (_address_key(address), FAILURES_PER_ADDRESS)):
                times = (
                    conn.execute(
                        sa.select(login_failures.c.at)
                        .where(login_failures.c.key == key, login_failures.c.at > since)
                        .order_by(login_failures.c.at.desc())
                        .limit(limit)
                    )
                    .scalars()
                    .all()
                )
                if len(times) >= limit:  # blocked until the oldest of the last `limit` ages out
                    waits.append((times[-1] + FAILURE_WINDOW - utcnow()).total_seconds())
        return max(1, int(max(waits)) + 1) if waits else None

    def failed(self, name: str, address: str) -> None:
        now = utcnow()
        with self.engine.begin() as conn:
            conn.execute(login_failures.delete().where(login_failures.c.at <= now - FAILURE_WINDOW))
            conn.execute(
                login_failures.insert(),
                [{"key": _name_key(name), "at": now}, {"key": _address_key(address), "at": now}],
            )

    def succeeded(self, name: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(login_failures.delete().where(login_failures.c.key == _name_key(name)))


def _name_key(name: str) -> str:
    return "name:" + name.strip().casefold()[:255]


def _address_key(address: str) -> str:
    return "address:" + (address or "?")[:64]


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
            conn.execute(
                sessions.insert().values(
                    token_hash=_hash(token), agent=agent, created_at=now, expires_at=now + SESSION_LIFETIME
                )
            )
        return f"{token}.{self._sign(token)}"

    def agent_for(self, cookie: Optional[str]) -> Optional[str]:
        """Who the cookie belongs to, if it is untampered, unexpired and not logged out."""
        token = self._verified(cookie)
        if token is None:
            return None
        query = sa.select(sessions.c.agent).where(
            sessions.c.token_hash == _hash(token), sessions.c.expires_at > utcnow(), sessions.c.revoked_at.is_(None)
        )
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

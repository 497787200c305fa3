"""Team panel sessions (posta.accounts.Accounts): a signed cookie for a stored session that
every replica accepts until it expires or its agent logs out, and nothing else."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from posta.accounts import SESSION_LIFETIME, Accounts
from posta.db import utcnow
from posta.schema import sessions


@pytest.fixture
def url(tmp_path, monkeypatch):
    monkeypatch.delenv("POSTA_PANEL_SECRET", raising=False)  # the secret kept in the database
    return f"sqlite:///{tmp_path / 'sessions.db'}"


def test_a_new_session_belongs_to_its_agent_on_every_replica(url):
    accounts = Accounts(url)
    cookie = accounts.open_session("Eva")
    assert accounts.agent_for(cookie) == "Eva"
    assert Accounts(url).agent_for(cookie) == "Eva"  # another process, the same secret
    with accounts.engine.connect() as conn:
        [row] = conn.execute(sa.select(sessions)).fetchall()
    token = cookie.rpartition(".")[0]
    assert row.agent == "Eva" and token not in row.token_hash  # only a hash of the token is stored
    assert timedelta(0) < row.expires_at - row.created_at <= SESSION_LIFETIME
    assert accounts.open_session("Eva") != cookie  # each login its own session


def test_a_tampered_or_foreign_cookie_is_nobody(url, tmp_path):
    accounts = Accounts(url)
    cookie = accounts.open_session("Eva")
    token, _, signature = cookie.rpartition(".")
    assert accounts.agent_for(token + "x." + signature) is None
    assert accounts.agent_for(token + "." + signature[:-1] + ("0" if signature[-1] != "0" else "1")) is None
    assert accounts.agent_for(token) is None and accounts.agent_for("") is None and accounts.agent_for(None) is None
    elsewhere = Accounts(f"sqlite:///{tmp_path / 'other.db'}")  # another installation, another secret
    assert elsewhere.agent_for(elsewhere.open_session("Eva")) == "Eva"
    assert elsewhere.agent_for(cookie) is None
    # Signed right but never stored (a session from a database that was reset): nobody.
    with accounts.engine.begin() as conn:
        conn.execute(sessions.delete())
    assert accounts.agent_for(cookie) is None


def test_a_session_ends_when_it_expires(url):
    accounts = Accounts(url)
    cookie = accounts.open_session("Hugo")
    with accounts.engine.begin() as conn:
        conn.execute(sessions.update().values(expires_at=utcnow() - timedelta(seconds=1)))
    assert accounts.agent_for(cookie) is None


def test_logging_out_ends_that_session_only(url):
    accounts = Accounts(url)
    laptop, phone = accounts.open_session("Rosa"), accounts.open_session("Rosa")
    accounts.close_session(laptop)
    assert accounts.agent_for(laptop) is None
    assert Accounts(url).agent_for(laptop) is None  # on every replica
    assert accounts.agent_for(phone) == "Rosa"
    accounts.close_session("forged.cookie")  # ignored, no error
    assert accounts.agent_for(phone) == "Rosa"


def test_csrf_tokens_are_bound_to_the_session(url):
    accounts = Accounts(url)
    mine, theirs = accounts.open_session("Eva"), accounts.open_session("Hugo")
    token = accounts.csrf_token(mine)
    assert accounts.csrf_ok(mine, token)
    assert not accounts.csrf_ok(theirs, token)
    assert not accounts.csrf_ok(mine, "") and not accounts.csrf_ok(None, token)

"""Panel passwords: the same work for every name, demo hashes, login limits."""

import hashlib

import pytest

from posta import accounts
from posta.accounts import ITERATIONS, LoginLimits, check_login, hash_password, is_demo
from posta.config import Agent
from posta.schema import login_failures


def agent(name, password=None, demo=False):
    return Agent(
        name=name,
        phone="5491100000000",
        teams=("sales",),
        languages=("es",),
        max_open_cases=1,
        schedule=None,
        password_hash=hash_password(password, demo=demo) if password else None,
    )


@pytest.fixture
def pbkdf2_calls(monkeypatch):
    calls = []
    real = hashlib.pbkdf2_hmac

    def counting(name, password, salt, rounds, *rest):
        calls.append(rounds)
        return real(name, password, salt, rounds, *rest)

    monkeypatch.setattr(accounts.hashlib, "pbkdf2_hmac", counting)
    return calls


def test_unknown_names_and_agents_without_a_password_cost_the_same_work(pbkdf2_calls):
    team = [agent("Ana", "secret-ana"), agent("Bruno")]
    pbkdf2_calls.clear()
    assert check_login(team, "Ana", "secret-ana", demo_allowed=False).agent == "Ana"
    assert check_login(team, "Ana", "wrong", demo_allowed=False).agent is None
    assert check_login(team, "Zoe", "secret-ana", demo_allowed=False).agent is None
    assert check_login(team, "Bruno", "", demo_allowed=False).agent is None
    assert pbkdf2_calls == [ITERATIONS] * 4


def test_demo_hashes_work_only_where_demo_passwords_are_allowed(pbkdf2_calls):
    team = [agent("Carla", "carla-demo", demo=True)]
    assert is_demo(team[0].password_hash) and not is_demo(hash_password("carla-demo"))
    pbkdf2_calls.clear()
    assert check_login(team, "carla", "carla-demo", demo_allowed=True).agent == "Carla"
    refused = check_login(team, "Carla", "carla-demo", demo_allowed=False)
    assert refused.agent is None and refused.demo_refused
    assert not check_login(team, "Carla", "wrong", demo_allowed=False).demo_refused  # says nothing to a guess
    assert pbkdf2_calls == [ITERATIONS] * 3


def test_the_shipped_demo_hashes_are_marked_as_demo():
    from posta import config

    shipped = config.load(config.ROOT / "business.yml")  # the demo business.yml itself, on purpose
    hashes = [a.password_hash for a in shipped.agents if a.password_hash]
    assert hashes and all(is_demo(h) for h in hashes)


def test_login_limits_per_name_and_per_address(database_url):
    limits = LoginLimits(database_url)
    with limits.engine.begin() as conn:
        conn.execute(login_failures.delete())
    for n in range(accounts.FAILURES_PER_NAME):
        assert limits.retry_after("Ana", f"10.0.0.{n}") is None
        limits.failed("Ana", f"10.0.0.{n}")
    wait = limits.retry_after(" ana ", "10.0.9.9")
    assert wait is not None and 0 < wait <= accounts.FAILURE_WINDOW.total_seconds() + 1
    assert limits.retry_after("Bruno", "10.0.9.9") is None
    limits.succeeded("Ana")
    assert limits.retry_after("Ana", "10.0.9.9") is None
    for n in range(accounts.FAILURES_PER_ADDRESS):
        limits.failed(f"name-{n}", "10.1.1.1")
    assert limits.retry_after("Carla", "10.1.1.1") is not None
    assert limits.retry_after("Carla", "10.1.1.2") is None
    with limits.engine.begin() as conn:
        conn.execute(login_failures.delete())

"""Shared fixtures: one database for the whole run.

SQLite in a temporary directory by default. With POSTA_TEST_POSTGRES_URL set (CI sets
it to the machine's PostgreSQL), a fresh database is created on that server for the run
and dropped afterwards. Tests that are about PostgreSQL itself (the production profile,
erasure) always use it, at that URL or the machine's default.
"""

import os
import uuid
from pathlib import Path

import pytest
import redis

# The suite's own default business is the demo, whatever POSTA_BUSINESS `make` was given:
# the tests of another business say so (tests/integration/test_restaurant.py).
os.environ["POSTA_BUSINESS"] = "."

from deploy.profile import ProductionProfile
from harness import phones
from harness.phones import Phone, agent_phone
from harness.stack import (  # noqa: F401  (tests import the clock and the database helper from here)
    AFTER_HOURS,
    APP_SECRET,
    MODEL,
    OPEN_HOURS,
    POSTGRES_ADMIN_URL,
    Stack,
    fresh_postgres_database,
    post_webhook,
    whatsapp_env,
)
from posta.accounts import hash_password
from posta.store import CaseStore
from simulator.app import Simulator

TESTS = Path(__file__).resolve().parent
# What each directory's tests need, as a marker (pyproject.toml): `-m unit` is the fast path.
MARKERS = {
    "unit": "unit",
    "integration": "integration",
    "security": "integration",
    "bench": "integration",
    "browser": "browser",
    "production": "production",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        directory = item.path.resolve().relative_to(TESTS).parts[0]
        if directory not in MARKERS:
            raise pytest.UsageError(f"{item.nodeid}: tests/{directory} has no marker in tests/conftest.py MARKERS")
        item.add_marker(MARKERS[directory])


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if not os.environ.get("POSTA_TEST_POSTGRES_URL"):
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'posta.db'}"
        return
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture(scope="session")
def stack(database_url, tmp_path_factory):
    """The real servers, started once for the whole run (Rasa takes ~30 s to start)."""
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing: run `make train` (make test does it for you)")
    stack = Stack(database_url, tmp_path_factory.mktemp("stack"), now=OPEN_HOURS).start()
    yield stack
    stack.stop()


@pytest.fixture(scope="session")
def cases(database_url):
    return CaseStore(database_url)


@pytest.fixture
def sender(stack):
    return stack.new_sender()


@pytest.fixture(autouse=True)
def _agents_free_after_each_test(request):
    """Every agent free after a test of the real servers: open cases it left are closed."""
    yield
    if "stack" in request.fixturenames:
        cases = request.getfixturevalue("cases")
        for case in cases.cases():
            if case.is_open:
                cases.close(case.conversation_id, by="test-cleanup")


@pytest.fixture
def customer(stack):
    return Phone(stack, name="Lucía")


@pytest.fixture
def ana(stack):
    return agent_phone(stack, phones.ANA, "Ana")


# -- the production profile: two replicas behind nginx, PostgreSQL, Redis -------------------

# Production refuses demo passwords: Carla signs in with this one there.
CARLA_PASSWORD = "carla-in-production"


class Via:
    """What harness.phones.Phone needs: a webhook poster and the Graph API fake."""

    def __init__(self, profile: ProductionProfile, simulator: Simulator) -> None:
        self.profile, self.graph = profile, simulator.graph
        self.url = profile.url

    def post_webhook(self, body, secret: str = APP_SECRET, signature=None):
        return post_webhook(self.url, body, secret, signature)


@pytest.fixture(scope="session")
def production(tmp_path_factory):
    try:
        redis.Redis(host="127.0.0.1", port=6379).ping()
    except redis.ConnectionError as error:  # the machine's services are part of the contract
        pytest.fail(f"the production profile needs Redis on 127.0.0.1:6379: {error}")
    simulator = Simulator("", APP_SECRET)
    server = simulator.start_in_thread()
    env = {
        **whatsapp_env(simulator.graph, server.url),
        "POSTA_NOW": OPEN_HOURS,
        "POSTA_JOBS_EVERY": "0",
        "POSTA_API_TOKEN": uuid.uuid4().hex,
        "POSTA_PASSWORD_HASH_CARLA": hash_password(CARLA_PASSWORD),
        # Quick recovery for a short test: a dead replica's message and Redis lock are
        # taken over after seconds, not the production half minute.
        "POSTA_INBOX_STALE_SECONDS": "5",
        "TICKET_LOCK_LIFETIME": "5",
    }
    with fresh_postgres_database("posta_prod") as url:
        profile = ProductionProfile(url, tmp_path_factory.mktemp("production"), replicas=2, redis_db=3, env=env)
        simulator.webhook_url = f"{profile.url}/webhooks/whatsapp/webhook"
        profile.start()
        yield Via(profile, simulator)
        profile.stop()
        server.stop()

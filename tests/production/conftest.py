"""The production profile for tests: two replicas behind nginx, PostgreSQL, Redis."""

import os
import uuid

import pytest
import redis
import sqlalchemy as sa

from deploy.profile import ProductionProfile
from simulator.app import Simulator
from tests.conftest import OPEN_HOURS
from tests.stack import APP_SECRET, whatsapp_env

ADMIN_URL = os.environ.get("POSTA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


class Via:
    """What tests.phones.Phone needs: a webhook poster and the Graph API fake."""

    def __init__(self, profile: ProductionProfile, simulator: Simulator) -> None:
        self.profile, self.graph = profile, simulator.graph
        self.url = profile.url

    def post_webhook(self, body, secret: str = APP_SECRET, signature=None):
        import json

        import requests

        from posta.whatsapp.inbound import sign

        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": signature or sign(raw, secret)}
        return requests.post(f"{self.url}/webhooks/whatsapp/webhook", data=raw, headers=headers, timeout=30)


@pytest.fixture(scope="session")
def production(tmp_path_factory):
    try:
        admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
        admin.connect().close()
        redis.Redis(host="127.0.0.1", port=6379).ping()
    except Exception as error:  # the machine's services are part of the contract; say which is missing
        pytest.fail(f"the production profile needs PostgreSQL ({ADMIN_URL}) and Redis on 127.0.0.1:6379: {error}")
    name = f"posta_prod_{uuid.uuid4().hex[:8]}"
    url = str(sa.engine.make_url(ADMIN_URL).set(database=name))
    simulator = Simulator("", APP_SECRET)
    server = simulator.start_in_thread()
    env = {**whatsapp_env(simulator.graph, server.url), "POSTA_NOW": OPEN_HOURS, "POSTA_JOBS_EVERY": "0",
           # Quick recovery for a short test: a dead replica's message and Redis lock are
           # taken over after seconds, not the production minute.
           "POSTA_INBOX_STALE_SECONDS": "5", "TICKET_LOCK_LIFETIME": "5"}
    profile = ProductionProfile(url, tmp_path_factory.mktemp("production"), replicas=2, redis_db=3, env=env)
    simulator.webhook_url = f"{profile.url}/webhooks/whatsapp/webhook"
    profile.start()
    yield Via(profile, simulator)
    profile.stop()
    server.stop()
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))

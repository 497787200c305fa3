"""The production profile for tests: two replicas behind nginx, PostgreSQL, Redis."""

import pytest
import redis

from deploy.profile import ProductionProfile
from simulator.app import Simulator
from tests.conftest import OPEN_HOURS, fresh_postgres_database
from tests.stack import APP_SECRET, post_webhook, whatsapp_env


class Via:
    """What tests.phones.Phone needs: a webhook poster and the Graph API fake."""

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
    env = {**whatsapp_env(simulator.graph, server.url), "POSTA_NOW": OPEN_HOURS, "POSTA_JOBS_EVERY": "0",
           # Quick recovery for a short test: a dead replica's message and Redis lock are
           # taken over after seconds, not the production half minute.
           "POSTA_INBOX_STALE_SECONDS": "5", "TICKET_LOCK_LIFETIME": "5"}
    with fresh_postgres_database("posta_prod") as url:
        profile = ProductionProfile(url, tmp_path_factory.mktemp("production"), replicas=2, redis_db=3, env=env)
        simulator.webhook_url = f"{profile.url}/webhooks/whatsapp/webhook"
        profile.start()
        yield Via(profile, simulator)
        profile.stop()
        server.stop()

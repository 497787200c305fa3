"""Starts the real action server and Rasa server on free ports, and talks to them; makes
throwaway PostgreSQL databases for them.

The Rasa server takes ~30 s to start, so tests start it once per session. The action
server starts in seconds, so it is restarted when a test needs another business clock
(`POSTA_NOW`), e.g. after hours.
"""

from __future__ import annotations

import json
import os
import secrets
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import requests
import sqlalchemy as sa

from deploy.processes import (  # noqa: F401  (re-exported to the tests)
    DEMO,
    MODEL,
    PYTHON,
    RESTAURANT,
    ROOT,
    Process,
    action_server,
    free_port,
    rasa_server,
    ready,
    with_token,
)
from posta.whatsapp.inbound import sign
from simulator.app import Simulator

APP_SECRET = "test-app-secret"
VERIFY_TOKEN = "test-verify-token"
ACTIONS_HEADER = "X-Posta-Actions-Secret"
# What the Rasa server expects of whoever calls it: tests call its HTTP API with the
# token; the Rasa server calls the action server with the secret (endpoints.yml).
ACTIONS_ENDPOINT = (
    "action_endpoint:\n  url: http://127.0.0.1:{port}/webhook\n"
    "  headers:\n    " + ACTIONS_HEADER + ": ${{POSTA_ACTIONS_SECRET}}\n"
)

# The demo business's clock (business.yml). Wednesday 25 November 2026, 11:00 in Buenos
# Aires: open; Ana (sales) and Bruno (support) are on shift, Carla starts at 14:00.
OPEN_HOURS = "2026-11-25T11:00"
# Sunday 29 November, 23:10: closed; back Monday at 10:00.
AFTER_HOURS = "2026-11-29T23:10"

POSTGRES_ADMIN_URL = os.environ.get("POSTA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@contextmanager
def fresh_postgres_database(prefix: str = "posta_test") -> Iterator[str]:
    """A new, empty PostgreSQL database (its URL) on POSTGRES_ADMIN_URL's server, dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)  # outlives restarts
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f"CREATE DATABASE {name}"))
    except sa.exc.OperationalError as error:  # the machine's services are part of the contract
        raise RuntimeError(f"PostgreSQL is needed at {POSTGRES_ADMIN_URL}: {error}") from None
    try:
        yield str(sa.engine.make_url(POSTGRES_ADMIN_URL).set(database=name))
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def whatsapp_env(graph, graph_url: str) -> Dict[str, str]:
    """The WhatsApp channel's settings for talking to the Graph API fake at `graph_url`."""
    return {
        "WHATSAPP_APP_SECRET": APP_SECRET,
        "WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN,
        "WHATSAPP_ACCESS_TOKEN": graph.access_token,
        "WHATSAPP_PHONE_NUMBER_ID": graph.phone_number_id,
        "WHATSAPP_API_BASE_URL": graph_url,
    }


class Stack:
    """The action server, the outbox worker and the Rasa server (REST, WhatsApp and panel
    channels, HTTP API on), with the WhatsApp simulator (and its Graph API fake) in a
    thread of the test process."""

    def __init__(
        self,
        database_url: str,
        work: Path,
        now: str,
        extra_env: Optional[Dict[str, str]] = None,
        business: str = DEMO,
    ) -> None:
        self.work = work
        self.now = now
        self.rasa_port, self.actions_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.rasa_port}"
        self.panel_url = f"{self.url}/webhooks/panel"
        # The simulator is the Graph API fake (self.graph) and the two-phone page.
        self.simulator = Simulator(f"{self.url}/webhooks/whatsapp/webhook", APP_SECRET, panel_url=self.panel_url)
        self.graph = self.simulator.graph
        self.graph_server = self.simulator.start_in_thread()
        endpoints = work / "endpoints.yml"
        endpoints.write_text(
            ACTIONS_ENDPOINT.format(port=self.actions_port)
            + "tracker_store:\n  type: channels.tracker_store.PostaTrackerStore\n"
        )
        self.token, self.actions_secret = secrets.token_hex(16), secrets.token_hex(16)
        self.env = {
            **os.environ,
            "POSTA_DATABASE_URL": database_url,
            "POSTA_BUSINESS": business,
            "POSTA_REVIEW_DIR": str(work / "review"),  # the review page writes here, not into the repository
            "PYTHONPATH": str(ROOT),
            "POSTA_API_TOKEN": self.token,
            "POSTA_ACTIONS_SECRET": self.actions_secret,
            "POSTA_SIMULATOR": "1",  # the Graph API is the simulator's: demo logins work
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            **whatsapp_env(self.graph, self.graph_server.url),
            # Timed jobs read the business clock; tests move it, so they run the jobs
            # themselves (tests/unit/test_jobs.py).
            "POSTA_JOBS_EVERY": "0",
            **(extra_env or {}),
        }
        self.actions = self._actions_process(now)
        self.worker = Process("worker", [PYTHON, "-m", "posta.whatsapp.worker"], self.env, work)
        self.rasa = Process(
            "rasa",
            rasa_server(self.rasa_port, endpoints, ROOT / "credentials.yml", self.token, business),
            self.env,
            work,
        )

    def _actions_process(self, now: str) -> Process:
        return Process("actions", action_server(self.actions_port), {**self.env, "POSTA_NOW": now}, self.work)

    def start(self) -> "Stack":
        try:
            self.actions.start()
            self.worker.start()
            self.rasa.start()
            self.actions.wait_until(f"http://127.0.0.1:{self.actions_port}/health", 120)
            self.rasa.wait_until(ready(self.rasa_port), 240)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        self.rasa.stop()
        self.worker.stop()
        self.actions.stop()
        self.graph_server.stop()

    @contextmanager
    def clock(self, now: str):
        """Runs the action server with the business clock at `now` (POSTA_NOW)."""
        self._restart_actions(now)
        try:
            yield
        finally:
            self._restart_actions(self.now)

    def _restart_actions(self, now: str) -> None:
        self.actions.stop()
        self.actions = self._actions_process(now)
        self.actions.start()
        self.actions.wait_until(f"http://127.0.0.1:{self.actions_port}/health", 120)

    # -- talking to it --------------------------------------------------------------------

    @staticmethod
    def new_sender() -> str:
        return "test-" + uuid.uuid4().hex[:12]

    def api(self, path: str) -> str:
        """The URL of a Rasa API route (or the REST channel), with the token."""
        return with_token(self.url + path, self.token)

    def say(self, sender: str, text: str, **metadata) -> List[dict]:
        body = {"sender": sender, "message": text}
        if metadata:
            body["metadata"] = metadata
        response = requests.post(self.api("/webhooks/rest/webhook"), json=body, timeout=60)
        response.raise_for_status()
        return response.json()

    def tracker(self, sender: str) -> dict:
        response = requests.get(self.api(f"/conversations/{sender}/tracker"), timeout=30)
        response.raise_for_status()
        return response.json()

    def hand_back(self, sender: str, agent: str) -> List[dict]:
        """What a channel or the panel does when a person is done: resume (and mark the bot
        as listening: nothing was predicted while paused), then trigger the `handback`
        intent so the rules run action_handback."""
        requests.post(
            self.api(f"/conversations/{sender}/tracker/events"),
            json=[{"event": "resume"}, {"event": "action", "name": "action_listen"}],
            timeout=30,
        ).raise_for_status()
        response = requests.post(
            self.api(f"/conversations/{sender}/trigger_intent"),
            json={"name": "handback", "entities": {"agent": agent}},
            timeout=60,
        )
        response.raise_for_status()
        return response.json()["messages"]

    def panel_session(self, name: str, password: str) -> requests.Session:
        """A team-panel session signed in as `name`, with its CSRF token on every request."""
        session = requests.Session()
        session.get(f"{self.panel_url}/login")
        session.post(
            f"{self.panel_url}/login",
            data={"name": name, "password": password, "csrf": session.cookies.get("posta_login_csrf")},
        )
        csrf = session.get(f"{self.panel_url}/queue").text.split('const CSRF = "')[1].split('"')[0]
        session.headers["X-CSRF-Token"] = csrf
        return session

    def post_webhook(self, body, secret: str = APP_SECRET, signature: Optional[str] = None) -> requests.Response:
        return post_webhook(self.url, body, secret, signature)

    def log(self) -> str:
        return self.rasa.log.read_text(errors="replace")


def post_webhook(url: str, body, secret: str = APP_SECRET, signature: Optional[str] = None) -> requests.Response:
    """POSTs a webhook body (a dict, or raw bytes) to the server at `url`, signed like Meta signs it."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": signature if signature is not None else sign(raw, secret),
    }
    return requests.post(f"{url}/webhooks/whatsapp/webhook", data=raw, headers=headers, timeout=30)


def texts(messages: List[dict]) -> str:
    return "\n".join(m.get("text", "") for m in messages)

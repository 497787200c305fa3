"""The production profile: replicas behind nginx, on PostgreSQL and Redis.

    python -m deploy.profile            (what `make run-prod` runs)

Starts `POSTA_REPLICAS` (default 2) Rasa servers, as many action servers and workers, and
nginx in front: port `POSTA_PROD_PORT` (8080, on `POSTA_PROD_HOST`, default loopback)
takes what Meta and the team need — the WhatsApp webhook, the team panel and `/health` —
and spreads it over the Rasa servers; nothing else is reachable through it. The REST
channel is off and Rasa's HTTP API answers only on each replica's loopback port, with
`POSTA_API_TOKEN` (required). An internal port spreads the Rasa servers' calls over the
action servers, which answer only calls carrying `POSTA_ACTIONS_SECRET` (made for the run
when not set). Conversations and cases live in PostgreSQL (`POSTA_DATABASE_URL`); Rasa's
Redis lock store keeps each conversation's messages in order across replicas
(`POSTA_REDIS_HOST`, `POSTA_REDIS_PORT`, `POSTA_REDIS_DB`). Tests and `make reliability`
use the same class, so what they exercise is what this starts.
"""

from __future__ import annotations

import getpass
import os
import secrets
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

import sqlalchemy as sa

from deploy.processes import PYTHON, ROOT, Process, action_server, free_port, rasa_server, ready, with_token
from posta import web

NGINX_TEMPLATE = Path(__file__).with_name("nginx.conf.template")
ENDPOINTS = Path(__file__).with_name("endpoints.prod.yml")
CREDENTIALS = Path(__file__).with_name("credentials.prod.yml")  # no REST channel


def ensure_database(url: str) -> None:
    """Creates the PostgreSQL database of `url` if it does not exist yet."""
    target = sa.engine.make_url(url)
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": target.database}).first():
            conn.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


class ProductionProfile:
    def __init__(
        self,
        database_url: str,
        work: Path,
        replicas: int = 2,
        port: Optional[int] = None,
        redis: str = "127.0.0.1:6379",
        redis_db: int = 1,
        env: Optional[Dict[str, str]] = None,
    ) -> None:
        if not database_url.startswith("postgresql"):
            raise SystemExit("the production profile runs on PostgreSQL: set POSTA_DATABASE_URL=postgresql://...")
        if not shutil.which("nginx"):
            raise SystemExit("nginx is missing: `make nginx` installs Debian's")
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "POSTA_DATABASE_URL": database_url,
            **(env or {}),
        }
        self.token = web.secret("POSTA_API_TOKEN", "it guards Rasa's HTTP API on every replica", self.env)
        self.env.setdefault("POSTA_ACTIONS_SECRET", secrets.token_hex(24))  # only these processes need it
        self.work = work
        self.host = self.env.get("POSTA_PROD_HOST") or web.LOOPBACK
        self.port = port or free_port()
        self.url = f"http://{web.LOOPBACK if self.host in ('0.0.0.0', '::') else self.host}:{self.port}"
        self.actions_port = free_port()
        redis_host, redis_port = redis.split(":")
        self.env.update(
            {
                "POSTA_ACTIONS_URL": f"http://127.0.0.1:{self.actions_port}/webhook",
                "POSTA_REDIS_HOST": redis_host,
                "POSTA_REDIS_PORT": redis_port,
                "POSTA_REDIS_DB": str(redis_db),
            }
        )
        ensure_database(database_url)
        self.rasa_ports = [free_port() for _ in range(replicas)]
        self.action_ports = [free_port() for _ in range(replicas)]
        self.actions = [
            Process(f"actions-{n}", action_server(p), self.env, work) for n, p in enumerate(self.action_ports)
        ]
        self.workers = [
            Process(f"worker-{n}", [PYTHON, "-m", "posta.whatsapp.worker"], self.env, work) for n in range(replicas)
        ]
        self.replicas = [self._replica(n, p) for n, p in enumerate(self.rasa_ports)]
        self.nginx = Process("nginx", ["nginx", "-c", str(self._nginx_conf()), "-g", "daemon off;"], self.env, work)

    def _replica(self, n: int, port: int) -> Process:
        return Process(
            f"rasa-{n}",
            rasa_server(port, ENDPOINTS, CREDENTIALS, self.token, self.env.get("POSTA_BUSINESS")),
            self.env,
            self.work,
        )

    def api(self, replica: int, path: str) -> str:
        """A Rasa API route on one replica's loopback port (never through nginx), with the token."""
        return with_token(f"http://127.0.0.1:{self.rasa_ports[replica]}{path}", self.token)

    def _nginx_conf(self) -> Path:
        servers = lambda ports: "\n".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;" for p in ports)  # noqa
        text = NGINX_TEMPLATE.read_text().format(
            run=self.work,
            host=self.host,
            port=self.port,
            actions_port=self.actions_port,
            user=getpass.getuser(),
            rasa_servers=servers(self.rasa_ports),
            action_servers=servers(self.action_ports),
        )
        path = self.work / "nginx.conf"
        path.write_text(text)
        return path

    @property
    def processes(self) -> List[Process]:
        return [*self.actions, *self.workers, *self.replicas, self.nginx]

    def start(self, timeout: float = 300) -> "ProductionProfile":
        """Starts every process and waits until each answers; stops them all if one does not."""
        try:
            for process in self.processes:
                process.start()
            for process, port in zip(self.actions, self.action_ports):
                process.wait_until(f"http://127.0.0.1:{port}/health", timeout)
            for process, port in zip(self.replicas, self.rasa_ports):
                process.wait_until(ready(port), timeout)
            self.nginx.wait_until(f"{self.url}/health", 30)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()


def main() -> None:
    url = os.environ.get("POSTA_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/posta")
    work = Path(tempfile.mkdtemp(prefix="posta-prod-"))
    profile = ProductionProfile(
        url,
        work,
        replicas=int(os.environ.get("POSTA_REPLICAS", "2")),
        port=int(os.environ.get("POSTA_PROD_PORT", "8080")),
        redis=os.environ.get("POSTA_REDIS", "127.0.0.1:6379"),
    )
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        print(f"Posta (production profile): starting {len(profile.replicas)} replicas; logs in {work}")
        profile.start()
        print(f"  WhatsApp webhook: {profile.url}/webhooks/whatsapp/webhook   health: {profile.url}/health")
        print(f"  Team panel: {profile.url}/webhooks/panel/   (listening on {profile.host}:{profile.port})")
        print(
            f"  Rasa's HTTP API, on this host only: http://127.0.0.1:{profile.rasa_ports[0]}/...?token=$POSTA_API_TOKEN"
        )
        while all(p.alive for p in profile.processes):
            time.sleep(1)
        print("a process stopped; see the logs in", work)
    except KeyboardInterrupt:
        pass
    finally:
        profile.stop()


if __name__ == "__main__":
    main()

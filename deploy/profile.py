"""The production profile: replicas behind nginx, on PostgreSQL and Redis.

    python -m deploy.profile            (what `make run-prod` runs)

Starts `POSTA_REPLICAS` (default 2) Rasa servers, as many action servers and workers, and
nginx in front: port `POSTA_PROD_PORT` (8080) takes webhooks, the panel, the REST channel
and the HTTP API and spreads them over the Rasa servers; an internal port spreads the Rasa
servers' calls over the action servers. Conversations and cases live in PostgreSQL
(`POSTA_DATABASE_URL`); Rasa's Redis lock store keeps each conversation's messages in
order across replicas (`POSTA_REDIS_HOST`, `POSTA_REDIS_PORT`, `POSTA_REDIS_DB`). Tests and
`make reliability` use the same class, so what they exercise is what this starts.
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

import sqlalchemy as sa

from deploy.processes import MODEL, PYTHON, RASA, ROOT, Process, free_port

NGINX_TEMPLATE = Path(__file__).with_name("nginx.conf.template")
ENDPOINTS = Path(__file__).with_name("endpoints.prod.yml")


def ensure_database(url: str) -> None:
    """Creates the PostgreSQL database of `url` if it does not exist yet."""
    target = sa.engine.make_url(url)
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": target.database}).first():
            conn.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


class ProductionProfile:
    def __init__(self, database_url: str, work: Path, replicas: int = 2, port: Optional[int] = None,
                 redis: str = "127.0.0.1:6379", redis_db: int = 1, env: Optional[Dict[str, str]] = None) -> None:
        if not database_url.startswith("postgresql"):
            raise SystemExit("the production profile runs on PostgreSQL: set POSTA_DATABASE_URL=postgresql://...")
        if not shutil.which("nginx"):
            raise SystemExit("nginx is missing: `make nginx` installs Debian's")
        self.work = work
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.actions_port = free_port()
        redis_host, redis_port = redis.split(":")
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), "RASA_TELEMETRY_ENABLED": "false",
                    "TF_CPP_MIN_LOG_LEVEL": "2", "POSTA_DATABASE_URL": database_url,
                    "POSTA_ACTIONS_URL": f"http://127.0.0.1:{self.actions_port}/webhook",
                    "POSTA_REDIS_HOST": redis_host, "POSTA_REDIS_PORT": redis_port,
                    "POSTA_REDIS_DB": str(redis_db), **(env or {})}
        ensure_database(database_url)
        self.rasa_ports = [free_port() for _ in range(replicas)]
        self.action_ports = [free_port() for _ in range(replicas)]
        self.actions = [Process(f"actions-{n}", [RASA, "run", "actions", "--actions", "actions", "--port", str(p)],
                                self.env, work) for n, p in enumerate(self.action_ports)]
        self.workers = [Process(f"worker-{n}", [PYTHON, "-m", "posta.whatsapp.worker"], self.env, work)
                        for n in range(replicas)]
        self.replicas = [self._replica(n, p) for n, p in enumerate(self.rasa_ports)]
        self.nginx = Process("nginx", ["nginx", "-c", str(self._nginx_conf()), "-g", "daemon off;"], self.env, work)

    def _replica(self, n: int, port: int) -> Process:
        token = self.env.get("POSTA_API_TOKEN")
        return Process(f"rasa-{n}", [RASA, "run", "--enable-api", *(["--auth-token", token] if token else []),
                                     "--port", str(port), "--model", str(MODEL), "--endpoints", str(ENDPOINTS),
                                     "--credentials", str(ROOT / "credentials.yml")], self.env, self.work)

    def _nginx_conf(self) -> Path:
        servers = lambda ports: "\n".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;" for p in ports)  # noqa
        text = NGINX_TEMPLATE.read_text().format(
            run=self.work, port=self.port, actions_port=self.actions_port, user=getpass.getuser(),
            rasa_servers=servers(self.rasa_ports), action_servers=servers(self.action_ports))
        path = self.work / "nginx.conf"
        path.write_text(text)
        return path

    @property
    def processes(self) -> List[Process]:
        return [*self.actions, *self.workers, *self.replicas, self.nginx]

    def start(self, timeout: float = 300) -> "ProductionProfile":
        for process in self.processes:
            process.start()
        for process, port in zip(self.actions, self.action_ports):
            process.wait_until(f"http://127.0.0.1:{port}/health", timeout)
        for process, port in zip(self.replicas, self.rasa_ports):
            process.wait_until(f"http://127.0.0.1:{port}/status", timeout)
        self.nginx.wait_until(f"{self.url}/", 30)
        return self

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()


def main() -> None:
    url = os.environ.get("POSTA_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/posta")
    work = Path(tempfile.mkdtemp(prefix="posta-prod-"))
    profile = ProductionProfile(url, work, replicas=int(os.environ.get("POSTA_REPLICAS", "2")),
                                port=int(os.environ.get("POSTA_PROD_PORT", "8080")),
                                redis=os.environ.get("POSTA_REDIS", "127.0.0.1:6379"))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        print(f"Posta (production profile): starting {len(profile.replicas)} replicas; logs in {work}")
        profile.start()
        print(f"  Webhooks, panel, REST and API: {profile.url}  (WhatsApp webhook: {profile.url}/webhooks/whatsapp/webhook)")
        print(f"  Team panel: {profile.url}/webhooks/panel/")
        while all(p.alive for p in profile.processes):
            time.sleep(1)
        print("a process stopped; see the logs in", work)
    except KeyboardInterrupt:
        pass
    finally:
        profile.stop()


if __name__ == "__main__":
    main()

"""Starting, watching and stopping the processes of a Posta installation (tests, benchmarks,
`make run-prod`)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Dict, List, Optional

import requests

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
RASA = str(ROOT / ".venv" / "bin" / "rasa")
LOOPBACK = "127.0.0.1"
DEMO = "."  # the demo business, at the repository's root
RESTAURANT = "businesses/restaurant"  # the second shipped business


def model(business: Optional[str] = None) -> Path:
    """The trained model of a business directory (default: $POSTA_BUSINESS, else the demo)."""
    return ROOT / (business or os.environ.get("POSTA_BUSINESS") or DEMO) / "models" / "posta.tar.gz"


MODEL = model(DEMO)


def rasa_server(port: int, endpoints: Path, credentials: Path, token: str, business: Optional[str] = None) -> List[str]:
    """The command for a Rasa server of `business`: HTTP API on, behind the token, on loopback."""
    return [
        RASA,
        "run",
        "--enable-api",
        "--auth-token",
        token,
        "--interface",
        LOOPBACK,
        "--port",
        str(port),
        "--model",
        str(model(business)),
        "--endpoints",
        str(endpoints),
        "--credentials",
        str(credentials),
    ]


def action_server(port: int) -> List[str]:
    return [PYTHON, "-m", "actions.server", "--port", str(port)]


def with_token(url: str, token: str) -> str:
    """`url` with Rasa's `?token=` for its HTTP API and the REST channel."""
    return f"{url}{'&' if '?' in url else '?'}token={token}"


def ready(port: int) -> str:
    """The URL that answers 200 once a Rasa server has its model and channels up."""
    return f"http://{LOOPBACK}:{port}/webhooks/whatsapp/"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Process:
    def __init__(self, name: str, args: List[str], env: Dict[str, str], log_dir: Path) -> None:
        self.name, self.args, self.env = name, args, env
        self.log = log_dir / f"{name}.log"
        self.proc: Optional[subprocess.Popen] = None

    def start(self) -> None:
        handle = open(self.log, "ab")
        self.proc = subprocess.Popen(
            self.args, cwd=ROOT, env=self.env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )

    def kill(self) -> None:
        """SIGKILL, no goodbyes: what a crash or an OOM kill does."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    @property
    def alive(self) -> bool:
        return bool(self.proc) and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def wait_until(self, url: str, timeout: float) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n{self.tail()}")
            try:
                if requests.get(url, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"{self.name} not ready after {timeout:.0f} s:\n{self.tail()}")

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

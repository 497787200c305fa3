"""`make run` as a new user starts it (scripts/run, default ports), attacked from outside:
everything listens on loopback, the API and the REST channel need the token it made, the
action server answers only Rasa, the simulator only its own page and its secret is not on
a command line. And servers started unsafely refuse to start."""

import json
import os
import re
import signal
import socket
import stat
import subprocess
import time
from pathlib import Path

import pytest
import requests

from deploy.processes import RASA, ROOT
from harness.phones import CARLA

PORTS = {"rasa": 5005, "actions": 5055, "simulator": 5006}
BASE = "http://127.0.0.1:5005"


def listening(pids):
    """(address, port) of every listening TCP socket the processes hold."""
    inodes = set()
    for pid in pids:
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
        except OSError:
            continue
    found = set()
    for table, parse in (("/proc/net/tcp", _ipv4), ("/proc/net/tcp6", _ipv6)):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # LISTEN
                address, port = fields[1].split(":")
                found.add((parse(address), int(port, 16)))
    return found


def _ipv4(hex_address):
    return socket.inet_ntop(socket.AF_INET, bytes.fromhex(hex_address)[::-1])


def _ipv6(hex_address):
    raw = bytes.fromhex(hex_address)
    return socket.inet_ntop(socket.AF_INET6, b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4)))


def group(pgid):
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == pgid:
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


@pytest.fixture(scope="module")
def made_run(tmp_path_factory):
    for name, port in PORTS.items():
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                pytest.fail(f"port {port} ({name}) is taken: stop the `make run` that holds it")
    work = tmp_path_factory.mktemp("make-run")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WHATSAPP_", "POSTA_"))}
    env.update(
        {
            "POSTA_DATABASE_URL": f"sqlite:///{work / 'posta.db'}",
            "POSTA_SECRETS_FILE": str(work / "secrets.env"),
            "POSTA_JOBS_EVERY": "0",
            "RASA_TELEMETRY_ENABLED": "false",
            "PYTHONPATH": str(ROOT),
        }
    )
    output = open(work / "output.log", "wb")
    process = subprocess.Popen(
        [str(ROOT / "scripts" / "run")],
        cwd=ROOT,
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.time() + 240
    while True:
        try:
            if requests.get(f"{BASE}/webhooks/whatsapp/", timeout=2).json().get("status") == "ok":
                break
        except (requests.RequestException, ValueError):
            pass
        assert process.poll() is None and time.time() < deadline, (work / "output.log").read_text()[-3000:]
        time.sleep(1)
    yield process, work
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def kept_secrets(work):
    return dict(line.split("=", 1) for line in (work / "secrets.env").read_text().split())


def test_make_run_listens_on_loopback_only(made_run):
    process, _ = made_run
    sockets = listening(group(process.pid))
    assert {port for _, port in sockets} >= set(PORTS.values()), sockets
    assert {address for address, _ in sockets} <= {"127.0.0.1", "::1", "::ffff:127.0.0.1"}, sockets


def test_make_run_makes_a_token_keeps_it_private_and_says_how_to_pass_it(made_run):
    _, work = made_run
    secrets = kept_secrets(work)
    assert len(secrets["POSTA_API_TOKEN"]) >= 32 and len(secrets["POSTA_ACTIONS_SECRET"]) >= 32
    assert stat.S_IMODE((work / "secrets.env").stat().st_mode) == 0o600
    said = (work / "output.log").read_text()
    assert str(work / "secrets.env") in said and "?token=$POSTA_API_TOKEN" in said
    token = secrets["POSTA_API_TOKEN"]
    assert requests.get(f"{BASE}/status", timeout=10).status_code == 401
    assert requests.get(f"{BASE}/status?token={token}", timeout=10).status_code == 200
    rest = f"{BASE}/webhooks/rest/webhook"
    assert requests.post(rest, json={"sender": "x1", "message": "hola"}, timeout=30).status_code == 401
    answer = requests.post(f"{rest}?token={token}", json={"sender": "x1", "message": "hola"}, timeout=30)
    assert answer.status_code == 200 and answer.json()


def test_make_runs_action_server_answers_only_rasa(made_run):
    answer = requests.post(
        f"http://127.0.0.1:{PORTS['actions']}/webhook",
        timeout=10,
        json={
            "next_action": "action_handback",
            "sender_id": "x2",
            "tracker": {"sender_id": "x2", "events": [], "slots": {}, "latest_message": {}},
            "domain": {},
            "version": "3.6.2",
        },
    )
    assert answer.status_code == 401


def test_make_runs_simulator_refuses_other_sites_and_keeps_its_secret_off_command_lines(made_run):
    process, _ = made_run
    simulator = f"http://127.0.0.1:{PORTS['simulator']}"
    forged = requests.post(
        f"{simulator}/api/send",
        data=json.dumps({"phone": CARLA, "text": "borrar 5491155550123"}),
        headers={"Content-Type": "text/plain", "Origin": "http://evil.example"},
        timeout=10,
    )
    assert forged.status_code == 403
    written = [
        m for m in requests.get(f"{simulator}/api/state", timeout=10).json()["messages"] if m["direction"] == "out"
    ]
    assert written == []  # the agent's phone wrote nothing
    secrets = set()
    for pid in group(process.pid):
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        secrets |= {e.split(b"=", 1)[1] for e in environ if e.startswith(b"WHATSAPP_APP_SECRET=")}
    assert secrets and all(len(s) >= 16 for s in secrets)
    for pid in group(process.pid):
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        assert not any(s in cmdline for s in secrets), cmdline


def test_make_runs_demo_logins_work_with_the_simulator(made_run):
    _, work = made_run
    said = (work / "output.log").read_text()
    # The business's agents, with a demo password shown only where it is still the shipped one.
    for login in (
        "sign in as Ana / ana-demo (agent)",
        "sign in as Bruno / bruno-demo (agent)",
        "sign in as Carla / carla-demo (admin)",
    ):
        assert login in said, said[-3000:]
    session = requests.Session()
    session.get(f"{BASE}/webhooks/panel/login")
    answer = session.post(
        f"{BASE}/webhooks/panel/login",
        allow_redirects=False,
        data={"name": "Ana", "password": "ana-demo", "csrf": session.cookies.get("posta_login_csrf")},
    )
    assert answer.status_code == 303


def refuses(command, env, expected):
    """The server exits with a message saying `expected`, never having listened."""
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    output = done.stdout + done.stderr
    assert done.returncode != 0 and re.search(expected, output), output[-3000:]


def test_servers_refuse_to_start_unsafely(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("POSTA_")}
    env.update(
        {
            "POSTA_DATABASE_URL": f"sqlite:///{tmp_path / 'posta.db'}",
            "PYTHONPATH": str(ROOT),
            "POSTA_ACTIONS_SECRET": "s" * 32,
            "RASA_TELEMETRY_ENABLED": "false",
        }
    )
    rasa = [
        RASA,
        "run",
        "--enable-api",
        "--port",
        "5999",
        "--model",
        str(ROOT / "models" / "posta.tar.gz"),
        "--endpoints",
        str(ROOT / "endpoints.yml"),
        "--credentials",
        str(ROOT / "credentials.yml"),
    ]
    refuses(rasa + ["--interface", "127.0.0.1"], env, "POSTA_API_TOKEN is not set")
    refuses(rasa + ["--interface", "127.0.0.1"], {**env, "POSTA_API_TOKEN": "change-me"}, "shorter than 16")
    refuses(rasa, {**env, "POSTA_API_TOKEN": "t" * 32}, "would listen on 0.0.0.0")  # rasa run's default
    refuses(
        [str(ROOT / ".venv" / "bin" / "python"), "-m", "actions.server", "--port", "5998"],
        {k: v for k, v in env.items() if k != "POSTA_ACTIONS_SECRET"},
        "POSTA_ACTIONS_SECRET is not set",
    )

"""`make reliability`: the production profile under load and under faults, written to
docs/reliability.md (raw figures in results/reliability/results.json).

1. Throughput: 50 customers and 2,000 messages through nginx, to one replica and then to
   two (closed loop: each customer waits for the answer before writing again).
2. Faults, on two replicas, each during its own burst of steady traffic (customers keep
   writing whatever happens, like real ones; a webhook that is not answered 200 is sent
   again, as Meta does): a replica (Rasa server and outbox worker) killed with SIGKILL and
   restarted, PostgreSQL restarted, Redis restarted, every action server down for 30 s,
   the Graph API fake failing (500, 429, timeouts) for 60 s.

Most customers ask questions the bot answers with one message; a few have a case taken by
an agent, so their messages are relayed to the agent's phone. Every count comes from what
the Graph API fake received and from the database, never from what was expected:
answered = replies received (per phone, at most one per message), relayed = messages whose
unique token reached the agent, duplicated = replies or relays beyond one per message, or a
message logged twice in its conversation. Time to recover = from the end of the fault until
every message sent before that end had its answer.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Awaitable, Callable, Dict, List, Optional, Tuple

import aiohttp
import redis
import sqlalchemy as sa

from bench import load
from deploy.processes import ready
from deploy.profile import ProductionProfile
from harness.phones import AGENTS, shown
from harness.stack import APP_SECRET, OPEN_HOURS, POSTGRES_ADMIN_URL, fresh_postgres_database, whatsapp_env
from posta import backoff
from posta.schema import inbox
from posta.store import CaseStore
from simulator.app import Simulator

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "results" / "reliability"
REDIS_DB = 4
# Each answered with one message; the catalogue answers come from the action server.
QUESTIONS = load.QUESTIONS + ["que venden?", "cuanto salen los anteojos", "tienen ray ban?"]


class Installation:
    """A production profile on its own PostgreSQL database and Redis database, talking to
    the Graph API fake in this process."""

    def __init__(self, replicas: int, work: Path) -> None:
        self.simulator = Simulator("", APP_SECRET)
        self.graph = self.simulator.graph
        self.graph_server = self.simulator.start_in_thread()
        self.database = ExitStack()  # dropped on exit
        url = self.database.enter_context(fresh_postgres_database("posta_reliability"))
        redis.Redis(db=REDIS_DB).flushdb()
        env = {
            **whatsapp_env(self.graph, self.graph_server.url),
            "POSTA_NOW": OPEN_HOURS,
            "POSTA_JOBS_EVERY": "0",
            "POSTA_API_TOKEN": uuid.uuid4().hex,
            # A dead replica's messages are taken over after 10 s, its Redis locks after 10 s,
            # a dead worker's sends after 30 s (above the Graph API call's 10 s timeout).
            "POSTA_INBOX_STALE_SECONDS": "10",
            "POSTA_OUTBOX_STALE_SECONDS": "30",
            "TICKET_LOCK_LIFETIME": "10",
        }
        work.mkdir(parents=True, exist_ok=True)
        self.profile = ProductionProfile(url, work, replicas=replicas, redis_db=REDIS_DB, env=env)
        self.url = self.profile.url
        self.store = CaseStore(url)

    def __enter__(self) -> "Installation":
        self.profile.start()
        return self

    def __exit__(self, *_) -> None:
        self.profile.stop()
        self.graph_server.stop()
        self.store.engine.dispose()
        self.database.close()


# -- traffic ---------------------------------------------------------------------------


@dataclass
class Message:
    phone: str
    text: str
    token: str
    sent_at: float  # first try
    acknowledged_at: float = 0.0
    tries: int = 0


async def post_until_acknowledged(
    session: aiohttp.ClientSession, url: str, phone: str, text: str, message_id: str
) -> int:
    """Posts one customer message as Meta does: again, with growing pauses, until it is
    answered 200. Returns the number of tries."""
    body, headers = load.signed_text(phone, text, message_id, name="Cliente")
    for tries, pause in enumerate(backoff.pauses(first=0.5, most=5.0), start=1):
        try:
            async with session.post(
                f"{url}/webhooks/whatsapp/webhook", data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=30)
            ) as response:
                await response.read()
                if response.status == 200:
                    return tries
        except (aiohttp.ClientError, asyncio.TimeoutError):
            pass
        await asyncio.sleep(pause)


class Traffic:
    """Customers writing at a steady pace (`rate` messages a second in all) whatever the
    servers are going through."""

    def __init__(self, url: str, questioners: List[str], relayed: List[str], rate: float) -> None:
        self.url, self.questioners, self.relayed = url, questioners, relayed
        self.every = (len(questioners) + len(relayed)) / rate
        self.messages: List[Message] = []
        self.running = True

    async def run(
        self, fault: Callable[[], Awaitable[Tuple[float, float]]], before: float, after: float
    ) -> Tuple[float, float]:
        """Writes for `before` seconds, then during `fault` (which returns when it started and
        ended), then for `after` seconds more. Returns the fault's (start, end)."""
        async with aiohttp.ClientSession() as session:
            writers = [asyncio.ensure_future(self._customer(session, p)) for p in self.questioners + self.relayed]
            await asyncio.sleep(before)
            window = await fault()
            await asyncio.sleep(after)
            self.running = False
            await asyncio.gather(*writers)
        return window

    async def _customer(self, session: aiohttp.ClientSession, phone: str) -> None:
        await asyncio.sleep(random.uniform(0, self.every))
        n = 0
        while self.running:
            n += 1
            token = f"r{uuid.uuid4().hex[:10]}"
            text = f"consulta {token}" if phone in self.relayed else random.choice(QUESTIONS)
            message = Message(phone, text, token, time.time())
            self.messages.append(message)
            message.tries = await post_until_acknowledged(session, self.url, phone, text, f"wamid.REL{token}")
            message.acknowledged_at = time.time()
            await asyncio.sleep(max(0.0, self.every * random.uniform(0.8, 1.2) - (time.time() - message.sent_at)))


# -- counting --------------------------------------------------------------------------


@dataclass
class Outcome:
    scenario: str
    sent: int
    answered: int
    relayed: int
    lost: int
    duplicated: int
    logged_twice: int
    unprocessed: int
    webhook_retries: int
    p50_s: Optional[float]
    p95_s: Optional[float]
    recover_s: Optional[float]  # None: something was never answered
    fault_s: float
    notes: List[str] = field(default_factory=list)


def arrivals(installation: Installation, traffic: Traffic) -> Dict[int, List[float]]:
    """For each message (by index), when its answer or relay reached a phone: one time per
    copy received."""
    graph = installation.graph
    by_phone: Dict[str, List[int]] = defaultdict(list)
    for index, message in enumerate(traffic.messages):
        by_phone[message.phone].append(index)
    received: Dict[int, List[float]] = defaultdict(list)
    for phone in traffic.questioners:
        replies = [r.at for r in graph.attempts(to=phone) if r.accepted]
        indexes = by_phone[phone]
        for k, at in enumerate(replies):  # answered in order: the k-th reply answers the k-th message
            received[indexes[min(k, len(indexes) - 1)] if indexes else -1].append(at)
    tokens = {m.token: i for i, m in enumerate(traffic.messages) if m.phone in traffic.relayed}
    for agent in AGENTS.values():
        for record in graph.attempts(to=agent):
            if record.accepted:
                for token in {w for w in shown(record.body).replace(":", " ").split() if w in tokens}:
                    received[tokens[token]].append(record.at)
    return received


def count(installation: Installation, traffic: Traffic, name: str, window: Tuple[float, float]) -> Outcome:
    received = arrivals(installation, traffic)
    messages = traffic.messages
    delivered = [i for i in range(len(messages)) if received.get(i)]
    relayed = sum(1 for i in delivered if messages[i].phone in traffic.relayed)
    duplicated = sum(len(received[i]) - 1 for i in delivered) + len(received.get(-1, []))
    latencies = sorted(min(received[i]) - messages[i].sent_at for i in delivered)
    start, end = window
    before_end = [i for i, m in enumerate(messages) if m.sent_at <= end]
    recover: Optional[float] = None
    if all(received.get(i) for i in before_end):
        recover = max([min(received[i]) - end for i in before_end] + [0.0])
    logged_twice, unprocessed = database_counts(installation, traffic)
    return Outcome(
        name,
        len(messages),
        len(delivered) - relayed,
        relayed,
        len(messages) - len(delivered),
        duplicated,
        logged_twice,
        unprocessed,
        sum(m.tries - 1 for m in messages),
        _pct(latencies, 50),
        _pct(latencies, 95),
        None if recover is None else round(recover, 1),
        round(end - start, 1),
    )


def database_counts(installation: Installation, traffic: Traffic) -> Tuple[int, int]:
    """Messages logged more than once in their conversation, and messages never processed."""
    phones = traffic.questioners + traffic.relayed
    sent = Counter(m.phone for m in traffic.messages)
    with installation.store.engine.connect() as conn:
        logged = dict(
            conn.execute(
                sa.text(
                    "SELECT sender_id, count(*) FROM events WHERE type_name = 'user' AND sender_id = ANY(:p) "
                    "GROUP BY sender_id"
                ),
                {"p": phones},
            ).fetchall()
        )
        unprocessed = conn.execute(
            sa.select(sa.func.count()).where(inbox.c.processed_at.is_(None), inbox.c.sender.in_(phones))
        ).scalar()
    first_hello = {p: 1 for p in traffic.relayed}  # their greeting before the agent took the case
    twice = sum(max(logged.get(p, 0) - sent[p] - first_hello.get(p, 0), 0) for p in phones)
    return twice, unprocessed


def _pct(values: List[float], percent: float) -> Optional[float]:
    seconds = load._pct(values, percent)
    return None if seconds is None else round(seconds, 2)


# -- scenarios -------------------------------------------------------------------------


def new_phone() -> str:
    return f"54911{random.randint(10_000_000, 99_999_999)}"


async def cases_taken(installation: Installation, count: int) -> List[str]:
    """`count` customers who said hello and whose case an agent took from WhatsApp
    (`tomar <phone>`), so what they write next is relayed to that agent."""
    phones = [new_phone() for _ in range(count)]
    agents = [AGENTS["Ana"], AGENTS["Carla"]]  # a greeting is a sales chat: Bruno (support) may not take it
    async with aiohttp.ClientSession() as session:
        for n, phone in enumerate(phones):
            await post_until_acknowledged(session, installation.url, phone, "hola", f"wamid.HELLO{phone}")
            agent = agents[n % len(agents)]
            await post_until_acknowledged(session, installation.url, agent, f"tomar {phone}", f"wamid.TAKE{phone}")
    deadline = time.time() + 120
    while time.time() < deadline:
        if all(installation.store.open_case_for(p) and installation.store.open_case_for(p).agent for p in phones):
            return phones
        await asyncio.sleep(0.5)
    raise RuntimeError("the agents could not take the relay customers' cases")


async def drain(installation: Installation, traffic: Traffic, quiet: float = 30.0, limit: float = 240.0) -> None:
    """Waits until every message has its answer, or nothing new arrived for `quiet` seconds
    (after `limit` at most); then a little more, for anything doubled."""
    started, last, seen = time.time(), time.time(), -1
    while time.time() - started < limit:
        received = arrivals(installation, traffic)
        got = sum(1 for i in range(len(traffic.messages)) if received.get(i))
        if got == len(traffic.messages):
            break
        if got != seen:
            seen, last = got, time.time()
        elif time.time() - last > quiet:
            break
        await asyncio.sleep(1)
    await asyncio.sleep(5)


async def scenario(
    installation: Installation,
    name: str,
    fault: Callable[[], Awaitable[Tuple[float, float]]],
    customers: int,
    relays: int,
    rate: float,
    before: float,
    after: float,
) -> Outcome:
    relayed = await cases_taken(installation, relays)
    traffic = Traffic(installation.url, [new_phone() for _ in range(customers - relays)], relayed, rate)
    print(f"[reliability] {name}: {customers} customers, {rate} messages/s", flush=True)
    window = await traffic.run(fault, before, after)
    await drain(installation, traffic)
    outcome = count(installation, traffic, name, window)
    for phone in relayed:
        installation.store.close(phone)  # the agents are free for the next scenario
    print(f"[reliability]   {asdict(outcome)}", flush=True)
    return outcome


def faults(installation: Installation) -> Dict[str, Callable[[], Awaitable[Tuple[float, float]]]]:
    profile = installation.profile

    async def nothing() -> Tuple[float, float]:
        now = time.time()
        return now, now

    async def kill_replica() -> Tuple[float, float]:
        await asyncio.to_thread(_busy, installation, profile.replicas[0])
        started = time.time()
        for process in (profile.replicas[0], profile.workers[0]):
            process.kill()
            process.start()  # as systemd's Restart=always would; the Rasa server boots in ~30 s
        return started, started

    async def restart(command: Callable[[], None]) -> Tuple[float, float]:
        started = time.time()
        await asyncio.to_thread(command)
        return started, time.time()

    async def actions_down() -> Tuple[float, float]:
        started = time.time()
        for process in profile.actions:
            process.kill()
        await asyncio.sleep(30)
        for process in profile.actions:
            process.start()
        for process, port in zip(profile.actions, profile.action_ports):
            await asyncio.to_thread(process.wait_until, f"http://127.0.0.1:{port}/health", 120)
        return started, time.time()

    async def graph_outage() -> Tuple[float, float]:
        started = time.time()
        installation.graph.fail_for(60)
        await asyncio.sleep(60)
        return started, time.time()

    return {
        "no fault": nothing,
        "a replica killed (SIGKILL)": kill_replica,
        "PostgreSQL restarted": lambda: restart(restart_postgresql),
        "Redis restarted": lambda: restart(restart_redis),
        "action servers down 30 s": actions_down,
        "Graph API failing 60 s": graph_outage,
    }


def _busy(installation: Installation, replica, timeout: float = 20) -> None:
    """Returns when `replica` is processing a customer's message (its claims carry its pid),
    so that killing it cuts one short."""
    claimed = (
        sa.select(inbox.c.id)
        .where(inbox.c.processed_at.is_(None), inbox.c.claimed_by.like(f"{replica.proc.pid}-%"))
        .limit(1)
    )
    deadline = time.time() + timeout
    with installation.store.engine.connect() as conn:
        while time.time() < deadline and conn.execute(claimed).first() is None:
            time.sleep(0.005)


def restart_postgresql() -> None:
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"], check=True)
    _wait(lambda: sa.create_engine(POSTGRES_ADMIN_URL).connect().close())


def restart_redis() -> None:
    """Stops this machine's Redis without saving, and starts it again as it was."""
    client = redis.Redis()
    settings = {key: client.config_get(key)[key] for key in ("bind", "port", "dir", "logfile")}
    try:
        client.shutdown(nosave=True)
    except redis.ConnectionError:
        pass  # it closes the connection as it goes
    subprocess.run(
        [
            "redis-server",
            "--daemonize",
            "yes",
            "--bind",
            *settings["bind"].split(),
            "--port",
            settings["port"],
            "--dir",
            settings["dir"],
            "--logfile",
            settings["logfile"],
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        check=True,
    )
    _wait(lambda: redis.Redis().ping())


def _wait(ready: Callable[[], object], timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while True:
        try:
            ready()
            return
        except Exception:
            if time.time() > deadline:
                raise
            time.sleep(0.2)


def wait_for_replicas(installation: Installation) -> None:
    profile = installation.profile
    for process, port in zip(profile.replicas, profile.rasa_ports):
        process.wait_until(ready(port), 240)


# -- the run ---------------------------------------------------------------------------


def throughput(replicas: int, customers: int, messages: int, work: Path) -> Dict[str, object]:
    """What the idle installation costs the database, the load, then how long an escalation
    takes to reach an agent's phone."""
    with Installation(replicas, work / f"throughput-{replicas}") as installation:
        idle = idle_transactions_per_second(installation)  # first: after writes, autovacuum would count too
        measured = asyncio.run(load.whatsapp_load(installation, customers, messages, timeout=60))
        notified = asyncio.run(load.escalations(installation, 20))
    return {
        "replicas": replicas,
        **measured.summary(),
        "notify_p50_s": _pct(notified, 50),
        "notify_p95_s": _pct(notified, 95),
        "idle_transactions_per_s": idle,
    }


def idle_transactions_per_second(installation: Installation, seconds: float = 10.0) -> float:
    """Transactions the database runs for an installation nobody writes to (its polling)."""
    query = sa.text("SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()")

    def committed() -> int:
        with installation.store.engine.connect() as conn:
            conn.execute(sa.text("SELECT pg_stat_clear_snapshot()"))
            return conn.execute(query).scalar()

    time.sleep(2)  # statistics are flushed every half second or so
    before = committed()
    time.sleep(seconds)
    return round((committed() - before - 1) / seconds, 1)  # minus the measuring transaction


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="a smaller load and shorter faults' surroundings")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        help="run only the faults whose name contains this (no throughput, no report)",
    )
    parser.add_argument("--report", action="store_true", help="only write docs/reliability.md from the last results")
    args = parser.parse_args()
    if args.report:
        write_report(json.loads((RESULTS / "results.json").read_text()), ROOT / "docs" / "reliability.md")
        return
    customers, messages, rate, before, after = (20, 400, 6.0, 5, 10) if args.quick else (50, 2000, 12.0, 15, 20)
    RESULTS.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="posta-reliability-"))
    results: Dict[str, object] = {"customers": customers, "messages": messages, "rate": rate}
    if not args.only:
        results["throughput"] = [throughput(n, customers, messages, work) for n in (1, 2)]
        (RESULTS / "throughput.json").write_text(json.dumps(results["throughput"], indent=1))
    outcomes = []
    with Installation(2, work / "faults") as installation:
        for name, fault in faults(installation).items():
            if args.only and not any(part in name for part in args.only):
                continue
            wait_for_replicas(installation)
            outcomes.append(
                asyncio.run(
                    scenario(installation, name, fault, customers, relays=6, rate=rate, before=before, after=after)
                )
            )
    results["faults"] = [asdict(o) for o in outcomes]
    if args.only:
        return
    (RESULTS / "results.json").write_text(json.dumps(results, indent=1))
    write_report(results, ROOT / "docs" / "reliability.md")
    print((ROOT / "docs" / "reliability.md").read_text())


def write_report(results: Dict[str, object], path: Path) -> None:
    one, two = results["throughput"]
    lines = [
        "# Reliability of the production profile",
        "",
        f"Written by `make reliability` on {time.strftime('%Y-%m-%d')}: two Rasa servers, two action servers "
        "and two outbox workers behind nginx, on this machine's PostgreSQL and Redis (2 cores, everything on "
        "loopback, the Graph API a fake that records what it receives). How it works and what it guarantees: "
        "[deploy.md](deploy.md). Raw figures: `results/reliability/results.json`.",
        "",
        "## One replica against two",
        "",
        f"{results['customers']} customers, {results['messages']} messages, each customer waiting for the answer "
        "before writing again; latency from the webhook to the answer reaching the Graph API.",
        "",
        "| replicas | messages | answered | lost | duplicated | messages/s | p50 | p95 | escalation to agent, p95 "
        "| idle database transactions/s |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *(
            f"| {t['replicas']} | {t['messages']} | {t['answered']} | {t['lost']} | {t['duplicated']} | "
            f"{t['per_second']} | {t['p50_ms']:.0f} ms | {t['p95_ms']:.0f} ms | {t.get('notify_p95_s')} s | "
            f"{t.get('idle_transactions_per_s')} |"
            for t in (one, two)
        ),
        "",
        "Escalation to agent: from a customer's webhook asking for a person to the case summary reaching an "
        "agent's phone (20 escalations, after the load). Idle transactions: what the installation costs "
        "PostgreSQL when nobody writes, measured before the load (each replica's inbox look every 0.5 s, each worker's safety-net "
        "look every second; the workers are woken by LISTEN/NOTIFY, not by polling).",
        "",
        f"Two replicas give {two['per_second'] / one['per_second']:.2f}× the throughput of one. On this "
        "2-core machine every process shares the same two cores (Rasa servers, action servers, workers, "
        "PostgreSQL, nginx and the load generator), and one Rasa server already uses more than one of "
        "them (NLU and policies on its event loop, database calls in threads), so the gain is bounded "
        "by the machine; on separate machines the replicas share only PostgreSQL and Redis. The same "
        "load on `make run` (one process, SQLite, no proxy) is in [benchmarks.md](benchmarks.md).",
        "",
        "## Faults under load",
        "",
        f"{results['customers']} customers writing about {results['rate']:g} messages a second in all, whatever "
        "happens (six of them have a case an agent took, so their messages are relayed to the agent's phone); "
        "a webhook not answered 200 is sent again, with growing pauses, as Meta does. *Lost* counts messages "
        "whose answer or relay never reached a phone; *duplicated* counts answers or relays received more "
        "than once; *logged twice* counts messages the database holds twice in their conversation. "
        "*Recovered in*: from the end of the fault until every message sent before it was answered.",
        "",
        "| fault | lasted | sent | answered | relayed | lost | duplicated | logged twice | webhook retries | "
        "p50 | p95 | recovered in |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
        *(
            f"| {f['scenario']} | {f['fault_s']:g} s | {f['sent']} | {f['answered']} | {f['relayed']} | {f['lost']} | "
            f"{f['duplicated']} | {f['logged_twice']} | {f['webhook_retries']} | {f['p50_s']} s | {f['p95_s']} s | "
            f"{'never' if f['recover_s'] is None else str(f['recover_s']) + ' s'} |"
            for f in results["faults"]
        ),
        "",
        "How each fault is absorbed:",
        "",
        "- **A replica killed**: nginx sends new webhooks to the other replica; the message the dead one "
        "was processing (the kill waits until it holds one) is taken over when its claim goes stale "
        "(`POSTA_INBOX_STALE_SECONDS`, 10 s here, 30 s by default), and the tracker check keeps it from "
        "being logged twice. Its worker is killed too; systemd-style, both are started again at once.",
        "- **PostgreSQL restarted**: webhooks that cannot be recorded are answered 503 and sent again; "
        "processing that fails is retried with growing pauses; the worker waits to record a send rather "
        "than send again.",
        "- **Redis restarted**: taking Rasa's conversation lock fails for a moment; the inbox retries the "
        "message (nothing was logged yet).",
        "- **Every action server down**: the Rasa servers wait out the outage (`POSTA_ACTION_PATIENCE`) "
        "instead of dropping the custom actions' answers; messages queue in the inbox, in order.",
        "- **The Graph API failing**: each send is retried with backoff, 0.5 s doubling to at most 30 s "
        "apart, in order per recipient; the recovery time is mostly the last backoff.",
        "",
        "The first runs of this benchmark found two doubled messages in the Graph API outage: a call that "
        "timed out after its claim had gone stale put back in the queue a message the other worker had "
        "already sent. Updates after a failure now apply only while the sender still holds the claim "
        "(`tests/unit/test_outbox.py`).",
        "",
    ]
    path.write_text("\n".join(lines))


if __name__ == "__main__":
    main()

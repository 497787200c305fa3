"""Latency, throughput and memory through the real servers, REST channel against WhatsApp.

One run starts the action server and the Rasa server once (same model, same database) and
drives them from this process on loopback:

- REST: each simulated customer POSTs a message to /webhooks/rest/webhook and waits for
  the answer; latency is the request's duration.
- WhatsApp: each customer POSTs a signed webhook and waits until the local Graph API fake
  receives the reply; latency is from the POST to the fake's receipt (webhook to outbound
  send). The webhook's own answer time is the acknowledgement latency.
- Escalations: customers ask for a person; the time from their webhook to the first
  notification an agent's phone receives.
- One long conversation per channel, to see whether latency grows with its length.
- A flood of panel logins, to see whether it stalls the webhook on the same server.

Customers run closed-loop (one message in flight each), `customers` at once, until
`messages` are sent. Every reply is counted, so lost and duplicated messages are measured.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import aiohttp

from harness.phones import AGENTS, webhook
from harness.phones import ONE_REPLY_QUESTIONS as QUESTIONS
from harness.stack import APP_SECRET, Stack
from posta.whatsapp.inbound import sign


@dataclass
class Measured:
    latencies: List[float] = field(default_factory=list)  # seconds
    acks: List[float] = field(default_factory=list)
    sent: int = 0
    answered: int = 0
    duplicated: int = 0
    seconds: float = 0.0

    @property
    def lost(self) -> int:
        return self.sent - self.answered

    def summary(self) -> Dict[str, Optional[float]]:
        return {
            "messages": self.sent,
            "answered": self.answered,
            "lost": self.lost,
            "duplicated": self.duplicated,
            "p50_ms": _ms(_pct(self.latencies, 50)),
            "p95_ms": _ms(_pct(self.latencies, 95)),
            "p99_ms": _ms(_pct(self.latencies, 99)),
            "per_second": round(self.sent / self.seconds, 1) if self.seconds else None,
            "ack_p50_ms": _ms(_pct(self.acks, 50)),
            "ack_p99_ms": _ms(_pct(self.acks, 99)),
        }


async def rest_load(stack: Stack, customers: int, messages: int) -> Measured:
    measured = Measured()
    budget = iter(range(messages))

    async def customer(session: aiohttp.ClientSession, sender: str) -> None:
        for _ in budget:
            text = random.choice(QUESTIONS)
            started = time.perf_counter()
            async with session.post(
                stack.api("/webhooks/rest/webhook"), json={"sender": sender, "message": text}
            ) as response:
                replies = await response.json()
            measured.latencies.append(time.perf_counter() - started)
            measured.sent += 1
            measured.answered += 1 if replies else 0
            measured.duplicated += max(len(replies) - 1, 0)

    started = time.perf_counter()
    async with aiohttp.ClientSession() as session:
        await asyncio.gather(
            *(customer(session, f"bench-rest-{n}-{random.randint(0, 10**9)}") for n in range(customers))
        )
    measured.seconds = time.perf_counter() - started
    return measured


async def whatsapp_load(stack: Stack, customers: int, messages: int, timeout: float = 30.0) -> Measured:
    measured = Measured()
    budget = iter(range(messages))
    arrivals = Arrivals(stack)

    async def customer(session: aiohttp.ClientSession, phone: str) -> None:
        for n in budget:
            before = len(stack.graph.delivered(to=phone))
            started = time.perf_counter()
            wall = time.time()
            status = await _post(session, stack, phone, random.choice(QUESTIONS), n)
            measured.acks.append(time.perf_counter() - started)
            measured.sent += 1
            if status != 200:
                continue
            arrival = await arrivals.nth(phone, before + 1, timeout)
            if arrival is not None:
                measured.latencies.append(arrival - wall)
                measured.answered += 1

    started = time.perf_counter()
    phones = [f"54911{random.randint(10_000_000, 99_999_999)}" for _ in range(customers)]
    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(customer(session, phone) for phone in phones))
    measured.seconds = time.perf_counter() - started
    arrivals.close()
    await asyncio.sleep(2)  # anything late or doubled shows up now
    received = sum(len(stack.graph.delivered(to=p)) for p in phones)
    measured.duplicated = max(received - measured.sent, 0)
    measured.answered = min(received, measured.sent)
    return measured


async def escalations(stack: Stack, count: int, timeout: float = 30.0, warm_agents: bool = True) -> List[float]:
    """Seconds from a customer's webhook to the first notification on an agent's phone."""
    async with aiohttp.ClientSession() as session:
        for n, agent in enumerate(AGENTS.values() if warm_agents else ()):  # agents who wrote today get the summary
            await _post(session, stack, agent, "ayuda", n)
        delays = []
        for n in range(count):
            phone = f"54911{random.randint(10_000_000, 99_999_999)}"
            before = {a: len(stack.graph.delivered(to=a)) for a in AGENTS.values()}
            wall = time.time()
            await _post(session, stack, phone, "quiero hablar con una persona", n)
            deadline = time.time() + timeout
            while time.time() < deadline:
                arrivals = [
                    r.at for a in AGENTS.values() for r in stack.graph.attempts(to=a)[before[a] :] if r.accepted
                ]
                if arrivals:
                    delays.append(min(arrivals) - wall)
                    break
                await asyncio.sleep(0.005)
        return delays


def relays(stack: Stack, count: int, photo_kb: int = 300) -> Dict[str, List[float]]:
    """Seconds from a customer's message to its copy on the phone of the agent who owns the
    chat: a photo (downloaded from the Graph API, kept, uploaded to the business number,
    sent by id) beside a text, `count` of each, alternating."""
    from harness.phones import ANA, Phone, agent_phone, taken
    from posta.store import CaseStore

    ana, customer = agent_phone(stack, ANA, "Ana"), Phone(stack, name="Bench")
    taken(CaseStore(stack.env["POSTA_DATABASE_URL"]), customer, ana)
    measured: Dict[str, List[float]] = {"text": [], "photo": []}
    for n in range(count):
        for kind in ("text", "photo"):
            started = time.time()
            if kind == "text":
                customer.text(f"una pregunta más, la {n}")
            else:
                customer.send_media("image", b"\x89PNG\r\n\x1a\n" + random.randbytes(photo_kb * 1024), "image/png")
            ana.wait()
            measured[kind].append(stack.graph.attempts(ana.number)[-1].at - started)
    ana.text("listo")
    ana.wait_for_text("devuelto al bot")
    return measured


async def long_conversation(stack: Stack, turns: int) -> Dict[str, List[float]]:
    """Latency by turn for one customer writing `turns` times, on each channel."""
    rest, whatsapp = [], []
    arrivals = Arrivals(stack)
    sender = f"bench-long-{random.randint(0, 10**9)}"
    phone = f"54911{random.randint(10_000_000, 99_999_999)}"
    async with aiohttp.ClientSession() as session:
        for n in range(turns):
            text = QUESTIONS[n % len(QUESTIONS)]
            started = time.perf_counter()
            async with session.post(
                stack.api("/webhooks/rest/webhook"), json={"sender": sender, "message": text}
            ) as response:
                await response.read()
            rest.append(time.perf_counter() - started)
            before = len(stack.graph.delivered(to=phone))
            wall = time.time()
            await _post(session, stack, phone, text, n)
            arrival = await arrivals.nth(phone, before + 1, 30.0)
            whatsapp.append((arrival or time.time()) - wall)
    arrivals.close()
    return {"rest": rest, "whatsapp": whatsapp}


async def login_flood(
    stack: Stack,
    seconds: float = 10.0,
    logins_per_second: int = 20,
    webhooks_per_second: int = 5,
    name: Optional[str] = None,
) -> Dict[str, object]:
    """Webhook acknowledgement time without, then during, a flood of panel logins from a
    new address each, for `name` or (by default) a new name each, so that no limit stops
    them and every one is hashed: what an attacker does to stall the server of the panel."""

    async def webhooks(session: aiohttp.ClientSession, acks: List[float]) -> None:
        for n in range(int(seconds * webhooks_per_second)):
            started = time.perf_counter()
            await _post(session, stack, f"54911{random.randint(10_000_000, 99_999_999)}", "hola", n)
            acks.append(time.perf_counter() - started)
            await asyncio.sleep(1 / webhooks_per_second)

    async def login(session: aiohttp.ClientSession, n: int, statuses: Counter) -> None:
        async with session.get(f"{stack.panel_url}/login") as form:
            token = form.cookies["posta_login_csrf"].value
        headers = {
            "X-Forwarded-For": f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}",
            "Cookie": f"posta_login_csrf={token}",
        }
        async with session.post(
            f"{stack.panel_url}/login",
            headers=headers,
            allow_redirects=False,
            data={"name": name or f"flood-{n}", "password": "guess", "csrf": token},
        ) as answer:
            statuses[answer.status] += 1

    async def logins(session: aiohttp.ClientSession, statuses: Counter) -> None:
        tasks = []
        for n in range(int(seconds * logins_per_second)):
            tasks.append(asyncio.ensure_future(login(session, n, statuses)))
            await asyncio.sleep(1 / logins_per_second)
        await asyncio.gather(*tasks)

    idle: List[float] = []
    flooded: List[float] = []
    statuses: Counter = Counter()
    async with aiohttp.ClientSession() as session:
        await webhooks(session, [])  # warm up: the first messages of a run are slower
        await webhooks(session, idle)
        await asyncio.gather(webhooks(session, flooded), logins(session, statuses))
    return {
        "logins_per_second": logins_per_second,
        "logins": dict(statuses),
        "idle_ack_p50_ms": _ms(_pct(idle, 50)),
        "idle_ack_p99_ms": _ms(_pct(idle, 99)),
        "flood_ack_p50_ms": _ms(_pct(flooded, 50)),
        "flood_ack_p99_ms": _ms(_pct(flooded, 99)),
    }


def peak_memory_mb(stack: Stack) -> Dict[str, float]:
    """Peak resident memory (VmHWM) of the Rasa server, the action server and the outbox worker."""
    result = {}
    for name, process in (("rasa", stack.rasa), ("actions", stack.actions), ("worker", stack.worker)):
        for line in Path(f"/proc/{process.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                result[name] = round(int(line.split()[1]) / 1024, 1)
    return result


def signed_text(phone: str, text: str, message_id: str, name: str = "Bench") -> Tuple[bytes, Dict[str, str]]:
    """A webhook body with one text message from `phone`, and the headers Meta sends with it."""
    message = {
        "from": phone,
        "id": message_id,
        "timestamp": str(int(time.time())),
        "type": "text",
        "text": {"body": text},
    }
    body = json.dumps(webhook([message], contacts=[{"profile": {"name": name}, "wa_id": phone}])).encode()
    return body, {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, APP_SECRET)}


async def _post(session: aiohttp.ClientSession, stack: Stack, phone: str, text: str, n: int) -> int:
    body, headers = signed_text(phone, text, f"wamid.BENCH{phone}{n}{random.randint(0, 10**9)}")
    async with session.post(f"{stack.url}/webhooks/whatsapp/webhook", data=body, headers=headers) as response:
        await response.read()
        return response.status


class Arrivals:
    """Wakes a waiting customer when the fake receives a message for their phone, instead
    of polling (50 pollers would steal the CPU the servers are measured on)."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.loop = asyncio.get_running_loop()
        self.changed: Dict[str, asyncio.Event] = {}
        stack.graph.listeners.append(self._heard)

    def _heard(self, recorded) -> None:  # in the fake's thread
        phone = str((recorded.body or {}).get("to")) if isinstance(recorded.body, dict) else ""
        self.loop.call_soon_threadsafe(self._set, phone)

    def _set(self, phone: str) -> None:
        if phone in self.changed:
            self.changed[phone].set()

    async def nth(self, phone: str, count: int, timeout: float) -> Optional[float]:
        """When the `count`-th accepted message to `phone` arrived (None on timeout)."""
        event = self.changed.setdefault(phone, asyncio.Event())
        deadline = time.time() + timeout
        while True:
            accepted = [r for r in self.stack.graph.attempts(to=phone) if r.accepted]
            if len(accepted) >= count:
                return accepted[count - 1].at
            event.clear()
            remaining = deadline - time.time()
            if remaining <= 0:
                return None
            try:
                await asyncio.wait_for(event.wait(), min(remaining, 0.5))
            except asyncio.TimeoutError:
                pass

    def close(self) -> None:
        self.stack.graph.listeners.remove(self._heard)


def _pct(values: List[float], percent: float) -> Optional[float]:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(percent / 100 * (len(ordered) - 1))))]


def _ms(seconds: Optional[float]) -> Optional[float]:
    return None if seconds is None else round(seconds * 1000, 1)


def median_ms(values: List[float]) -> Optional[float]:
    return _ms(statistics.median(values)) if values else None

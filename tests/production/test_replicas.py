"""Two replicas behind nginx on PostgreSQL and Redis; one is killed in the middle of a burst.
Every customer message must be answered exactly once, every case must exist, and no agent
may be told about the same case twice."""

import threading
import time
from collections import Counter

import requests
import sqlalchemy as sa

from harness.phones import ANA, CARLA, ONE_REPLY_QUESTIONS, Phone, shown
from posta.schema import inbox
from posta.store import CaseStore
from tests.conftest import CARLA_PASSWORD

QUESTIONS = ONE_REPLY_QUESTIONS[:5]


def test_a_replica_killed_mid_burst_loses_nothing_and_doubles_nothing(production):
    profile = production.profile
    customers = [Phone(production, name=f"Cliente {n}") for n in range(6)]
    escalating = Phone(production, name="Lucía")
    sent = Counter()
    errors = []

    def converse(phone, texts):
        try:
            for text in texts:
                before = len(phone.delivered())
                phone.text(text)
                sent[phone.number] += 1
                deadline = time.time() + 60
                while len(phone.delivered()) <= before and time.time() < deadline:
                    time.sleep(0.05)
        except Exception as error:  # collected: a thread's assertion would be lost otherwise
            errors.append(error)

    threads = [threading.Thread(target=converse, args=(phone, QUESTIONS)) for phone in customers]
    threads.append(threading.Thread(target=converse, args=(escalating, ["hola", "quiero hablar con una persona"])))
    for thread in threads:
        thread.start()
    while sum(sent.values()) < 12:  # mid-burst
        time.sleep(0.02)
    profile.replicas[0].kill()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    assert sum(sent.values()) == 6 * len(QUESTIONS) + 2

    time.sleep(3)  # anything doubled would have arrived by now
    for phone in customers:
        replies = phone.delivered()
        assert len(replies) == len(QUESTIONS), (phone.number, [shown(r) for r in replies])
    assert [shown(r).split(".")[0] for r in escalating.delivered()][1] == "Te paso con una persona de nuestro equipo"
    assert len(escalating.delivered()) == 2

    store = CaseStore(profile.env["POSTA_DATABASE_URL"])
    [case] = store.cases(conversation_id=escalating.number)
    notified = Counter(
        r.body.get("to")
        for r in production.graph.attempts()
        if r.accepted and r.body.get("to") in (ANA, CARLA) and str(case.id) in str(r.body)
    )
    assert notified and max(notified.values()) == 1, notified  # each agent told once
    with store.engine.connect() as conn:
        unprocessed = conn.execute(sa.select(sa.func.count()).where(inbox.c.processed_at.is_(None))).scalar()
        user_events = dict(
            conn.execute(
                sa.text("SELECT sender_id, count(*) FROM events WHERE type_name = 'user' GROUP BY sender_id")
            ).fetchall()
        )
    assert unprocessed == 0
    for phone in customers + [escalating]:
        assert user_events[phone.number] == sent[phone.number], phone.number  # each message logged once


def test_the_panel_shows_a_new_message_whichever_replica_serves_it(production):
    """The panel reads the database, so a message one replica processed shows on a page
    the other replica serves (nginx alternates between them)."""
    customer = Phone(production, name="Marta")
    customer.text("quiero hablar con una persona")
    customer.wait()
    store = CaseStore(production.profile.env["POSTA_DATABASE_URL"])
    [case] = store.cases(conversation_id=customer.number)
    panel = f"{production.url}/webhooks/panel"
    carla = requests.Session()
    carla.get(f"{panel}/login")
    carla.post(
        f"{panel}/login",
        data={"name": "Carla", "password": CARLA_PASSWORD, "csrf": carla.cookies.get("posta_login_csrf")},
    )
    customer.text("se me rompio la patilla del armazon")
    deadline = time.time() + 20
    while time.time() < deadline:
        pages = [carla.get(f"{panel}/api/cases/{case.id}").json() for _ in range(4)]  # both replicas, twice
        if all(any("patilla" in line["text"] for line in page["thread"]) for page in pages):
            break
        time.sleep(0.5)
    else:
        raise AssertionError(f"the new message is missing from a replica's panel: {pages}")
    assert {c["id"] for c in carla.get(f"{panel}/api/queue").json()["cases"]} >= {case.id}


def test_one_customers_burst_reaches_the_agent_in_order_across_replicas(production):
    """Eight messages in quick succession, each webhook landing on either replica: the agent
    who took the conversation gets them once each, in the order the customer wrote them."""
    customer = Phone(production, name="Rita")
    customer.text("hola")
    customer.wait()
    ana = Phone(production, number=ANA, name="Ana")  # sales: a general chat is her team's
    ana.text(f"tomar {customer.number}")
    ana.wait()
    store = CaseStore(production.profile.env["POSTA_DATABASE_URL"])
    deadline = time.time() + 20
    while getattr(store.open_case_for(customer.number), "agent", None) != "Ana":
        assert time.time() < deadline, "Ana could not take the conversation"
        time.sleep(0.1)
    for n in range(8):
        customer.text(f"detalle numero {n} del pedido")
    relayed = ana.wait(lambda new: sum("detalle numero" in shown(b) for b in new) >= 8, timeout=60)
    time.sleep(2)  # anything doubled arrives by now
    lines = [shown(b) for b in relayed + ana.delivered()[ana.seen :] if "detalle numero" in shown(b)]
    assert [int(line.split("detalle numero ")[1].split()[0]) for line in lines] == list(range(8)), lines

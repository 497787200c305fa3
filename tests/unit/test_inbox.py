"""The inbox's claims (posta.whatsapp.inbox.Inbox): a phone's messages are handled one at a
time in arrival order, a repeat delivery is stored once, a message a dead worker held is
taken over after STALE_CLAIM, and concurrent workers on PostgreSQL never hold two messages
of one phone at once."""

import random
import threading
import time
from collections import defaultdict
from datetime import timedelta

import sqlalchemy as sa

from posta.db import utcnow
from posta.schema import inbox
from posta.whatsapp.inbound import Inbound
from posta.whatsapp.inbox import STALE_CLAIM, Inbox
from tests.conftest import fresh_postgres_database

LUCIA, MARTIN = "5215599990001", "5215599990002"


def message(sender, text, id_=None):
    return Inbound(id=id_ or f"wamid.{sender}.{text}", sender=sender, kind="text", text=text, name="Cliente")


def texts(received):
    return [(r.update.sender, r.update.text) for r in received]


def test_a_phones_messages_come_out_one_at_a_time_in_arrival_order(tmp_path):
    box = Inbox(f"sqlite:///{tmp_path / 'inbox.db'}")
    box.accept([message(LUCIA, "hola"), message(LUCIA, "tienen multifocales?"), message(MARTIN, "buenas")])
    box.accept([message(LUCIA, "y cuánto salen?")])
    lucia, martin = box.claim("worker", limit=10)
    assert texts([lucia, martin]) == [(LUCIA, "hola"), (MARTIN, "buenas")]  # the oldest of each phone
    assert box.claim("worker", limit=10) == []  # both still being handled
    box.processed(lucia.row_id)
    [lucia] = box.claim("worker", limit=10)
    assert texts([lucia]) == [(LUCIA, "tienen multifocales?")]
    box.processed(lucia.row_id)
    [lucia] = box.claim("worker", limit=10)
    assert texts([lucia]) == [(LUCIA, "y cuánto salen?")]
    box.processed(lucia.row_id)
    assert box.claim("worker", limit=10) == []  # Martín's message is still held
    box.processed(martin.row_id)
    assert box.claim("worker", limit=10) == []  # nothing left


def test_a_repeat_delivery_is_stored_and_handled_once(tmp_path):
    box = Inbox(f"sqlite:///{tmp_path / 'inbox.db'}")
    hola = message(LUCIA, "hola")
    assert box.accept([hola, hola]) == [hola]  # twice in one webhook
    assert box.accept([hola]) == []  # Meta delivering it again
    with box.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(inbox)).scalar() == 1
    [received] = box.claim("worker", limit=10)
    box.processed(received.row_id)
    assert box.accept([hola]) == [] and box.claim("worker", limit=10) == []  # not after handling it either


def test_a_message_a_dead_worker_held_is_taken_over_after_the_stale_limit(tmp_path):
    box = Inbox(f"sqlite:///{tmp_path / 'inbox.db'}")
    box.accept([message(LUCIA, "hola")])
    [mine] = box.claim("dies-mid-message", limit=10)
    assert mine.attempts == 0
    assert box.claim("other", limit=10) == []

    def claimed_ago(age):
        with box.engine.begin() as conn:
            conn.execute(inbox.update().values(claimed_at=utcnow() - age))

    claimed_ago(STALE_CLAIM - timedelta(seconds=5))
    assert box.claim("other", limit=10) == []  # not yet
    claimed_ago(STALE_CLAIM + timedelta(seconds=1))
    box.keep(mine.row_id, "someone-else")  # only the holder can renew its claim
    [taken] = box.claim("other", limit=10)
    assert (taken.row_id, taken.update.text, taken.attempts) == (mine.row_id, "hola", 1)  # one earlier try
    assert box.claim("dies-mid-message", limit=10) == []


def test_a_worker_that_keeps_its_claim_is_not_taken_over(tmp_path):
    box = Inbox(f"sqlite:///{tmp_path / 'inbox.db'}")
    box.accept([message(LUCIA, "hola")])
    [mine] = box.claim("slow", limit=10)
    with box.engine.begin() as conn:
        conn.execute(inbox.update().values(claimed_at=utcnow() - STALE_CLAIM - timedelta(seconds=1)))
    box.keep(mine.row_id, "slow")
    assert box.claim("other", limit=10) == []


def test_concurrent_workers_never_hold_two_messages_of_one_phone_on_postgresql():
    phones = [f"52155000000{n:02d}" for n in range(6)]
    per_phone = 8
    with fresh_postgres_database("posta_inbox") as url:
        box = Inbox(url)
        for n in range(per_phone):  # arrival order: interleaved phones, one webhook each
            box.accept([message(phone, f"mensaje {n}") for phone in phones])
        holding, lock = {}, threading.Lock()
        handled, overlaps, errors = defaultdict(list), [], []

        def work(worker):
            try:
                deadline = time.monotonic() + 30
                while sum(map(len, handled.values())) < len(phones) * per_phone:
                    assert time.monotonic() < deadline, "the workers did not get through the inbox"
                    batch = box.claim(worker, limit=3)
                    with lock:
                        for received in batch:
                            phone = received.update.sender
                            if phone in holding:
                                overlaps.append((phone, holding[phone], worker))
                            holding[phone] = worker
                    for received in batch:
                        time.sleep(random.uniform(0, 0.005))  # handling it
                        with lock:
                            handled[received.update.sender].append(received.update.text)
                            del holding[received.update.sender]
                        box.processed(received.row_id)
            except Exception as error:  # noqa: BLE001 - reported by the assertion below
                errors.append(error)

        workers = [threading.Thread(target=work, args=(f"worker-{n}",)) for n in range(6)]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join()
        box.engine.dispose()
    assert errors == [] and overlaps == []
    assert dict(handled) == {phone: [f"mensaje {n}" for n in range(per_phone)] for phone in phones}

"""Erasing a customer removes every row about them; retention erases old closed conversations."""

from contextlib import nullcontext
from datetime import timedelta

import pytest
import sqlalchemy as sa

from posta import privacy
from posta.db import utcnow
from posta.phones import mask_phone
from posta.schema import case_events, cases, contacts, inbox, outbox
from posta.store import CaseStore
from posta.summary import CaseSummary
from posta.whatsapp.inbound import Inbound
from posta.whatsapp.inbox import Inbox
from posta.whatsapp.outbox import Outbox
from tests.conftest import fresh_postgres_database


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    """A case store on SQLite (make run) and on PostgreSQL (production), with Rasa's events table."""
    with (
        fresh_postgres_database("posta_privacy")
        if request.param == "postgresql"
        else nullcontext(f"sqlite:///{tmp_path / 'privacy.db'}")
    ) as url:
        store = CaseStore(url)
        key = "SERIAL" if request.param == "postgresql" else "INTEGER"
        with store.engine.begin() as conn:  # the columns of Rasa's events table
            conn.execute(
                sa.text(
                    f"CREATE TABLE events (id {key} PRIMARY KEY, sender_id VARCHAR, type_name VARCHAR, "
                    "timestamp FLOAT, data TEXT)"
                )
            )
        yield store
        store.engine.dispose()


def customer_with_everything(store, phone, days_ago=0):
    url = str(store.engine.url)
    when = (utcnow() - timedelta(days=days_ago)).timestamp()
    with store.engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (:s, 'user', :t, '{}')"),
            {"s": phone, "t": when},
        )
    case = store.open_case(
        CaseSummary(conversation_id=phone, reason="sensitive", topic="health", language="es"), team="support"
    )
    store.record(case.id, "note", "Bruno", "tiene glaucoma")
    Inbox(url).accept([Inbound(id=f"wamid.{phone}", sender=phone, kind="text", text="me duele el ojo")])
    Outbox(url).enqueue(
        [{"to": phone, "type": "text", "text": {"body": "hola"}}], purpose="reply", conversation_id=phone
    )
    return case


def rows_about(store, phone):
    with store.engine.connect() as conn:
        return {
            "events": conn.execute(sa.text("SELECT count(*) FROM events WHERE sender_id = :s"), {"s": phone}).scalar(),
            "cases": conn.execute(sa.select(sa.func.count()).where(cases.c.conversation_id == phone)).scalar(),
            "case_events": conn.execute(
                sa.select(sa.func.count()).select_from(case_events).join(cases).where(cases.c.conversation_id == phone)
            ).scalar(),
            "inbox": conn.execute(sa.select(sa.func.count()).where(inbox.c.sender == phone)).scalar(),
            "outbox": conn.execute(sa.select(sa.func.count()).where(outbox.c.recipient == phone)).scalar(),
            "contacts": conn.execute(sa.select(sa.func.count()).where(contacts.c.phone == phone)).scalar(),
        }


def test_erase_removes_every_row_about_the_customer_and_nobody_else(db):
    customer_with_everything(db, "5491100000001")
    customer_with_everything(db, "5491100000002")
    counts = privacy.erase(db.engine, "5491100000001")
    assert counts["cases"] == 1 and counts["events"] == 1 and counts["case_events"] >= 3
    assert set(rows_about(db, "5491100000001").values()) == {0}
    assert min(rows_about(db, "5491100000002").values()) >= 1


def test_retention_purges_only_old_conversations_with_every_case_closed(db):
    old_closed = customer_with_everything(db, "5491100000011", days_ago=400)
    db.close(old_closed.conversation_id)
    customer_with_everything(db, "5491100000012", days_ago=400)  # old, but a person still has it open
    recent = customer_with_everything(db, "5491100000013", days_ago=3)
    db.close(recent.conversation_id)
    assert privacy.purge(db.engine, retention_days=365) == 1
    assert set(rows_about(db, "5491100000011").values()) == {0}
    assert rows_about(db, "5491100000012")["cases"] == 1
    assert rows_about(db, "5491100000013")["cases"] == 1


def test_phone_numbers_are_masked():
    assert mask_phone("5491155550123") == "…0123"

"""Timed work: once each, whatever the number of workers."""

import json
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from posta import jobs, ratings, reports, review
from posta.schema import cases
from posta.store import CaseStore
from posta.summary import CaseSummary
from posta.whatsapp.contacts import Contacts
from posta.whatsapp.outbox import Outbox
from tests.unit.conftest import EVA, ROSA, TIMEZONE

MONDAY_OPENING = datetime(2026, 11, 30, 10, 5, tzinfo=TIMEZONE)
WEDNESDAY_11 = datetime(2026, 11, 25, 11, 0, tzinfo=TIMEZONE)


@pytest.fixture
def parts(tmp_path, business):
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    return business, CaseStore(url), Outbox(url), Contacts(url)


def run(*args):
    """What ran, apart from the daily retention purge."""
    return [key for key in jobs.run_due(*args) if not key.startswith("purge:")]


def a_case(store, conversation, team, agent=None, at=None, reason="requested"):
    case = store.open_case(
        CaseSummary(conversation_id=conversation, reason=reason, topic="general", language="es", customer_name="Lucía"),
        team=team,
        agent=agent,
        channel="whatsapp",
    )
    with store.engine.begin() as conn:
        conn.execute(cases.update().where(cases.c.id == case.id).values(created_at=at, assigned_at=at))
    return store.get(case.id)


def test_the_overnight_digest_goes_out_once_per_team_even_with_two_workers(parts):
    business, store, outbox, contacts = parts
    a_case(store, "5491100000001", "sales", at=MONDAY_OPENING - timedelta(hours=11))
    first = run(business, store, outbox, contacts, MONDAY_OPENING)
    second = run(business, store, outbox, contacts, MONDAY_OPENING + timedelta(seconds=15))
    assert first == ["digest:2026-11-30T10:00:00-06:00:sales"] and second == []
    digests = [r for r in outbox.rows() if r.purpose == "notify"]
    assert {r.recipient for r in digests} == {EVA, ROSA}  # sales
    assert {r.body["template"]["name"] for r in digests} == {"faro_digest"}  # nobody wrote in 24 h


def test_no_digest_hours_after_opening_or_when_nothing_waited(parts):
    business, store, outbox, contacts = parts
    assert run(business, store, outbox, contacts, MONDAY_OPENING + timedelta(hours=5)) == []
    assert outbox.rows() == []


def test_an_unanswered_case_goes_to_the_admins_and_the_customer_is_told_once(parts):
    business, store, outbox, contacts = parts
    case = a_case(store, "5491100000002", "sales", agent="Eva", at=WEDNESDAY_11 - timedelta(minutes=20))
    ran = run(business, store, outbox, contacts, WEDNESDAY_11)
    assert f"escalate:{case.id}" in ran
    assert run(business, store, outbox, contacts, WEDNESDAY_11 + timedelta(minutes=1)) == []
    told = [r for r in outbox.rows(case.conversation_id)]
    assert len(told) == 1 and "Seguimos buscando" in told[0].body["text"]["body"]
    # At 11:00 nobody else is on sales (Rosa starts at 14:00): the admin (Rosa) is told.
    assert {r.recipient for r in outbox.rows() if r.purpose == "notify"} == {ROSA}
    assert "escalated" in [e.kind for e in store.history(case.id)]


def test_an_answered_case_is_left_alone(parts):
    business, store, outbox, contacts = parts
    case = a_case(store, "5491100000003", "sales", agent="Eva", at=WEDNESDAY_11 - timedelta(minutes=40))
    store.first_reply(case.id)
    assert run(business, store, outbox, contacts, WEDNESDAY_11) == []


def test_retention_runs_once_a_day(parts):
    business, store, outbox, contacts = parts
    assert "purge:2026-11-25" in jobs.run_due(business, store, outbox, contacts, WEDNESDAY_11)
    assert "purge:2026-11-25" not in jobs.run_due(business, store, outbox, contacts, WEDNESDAY_11)
    assert "purge:2026-11-26" in jobs.run_due(business, store, outbox, contacts, WEDNESDAY_11 + timedelta(days=1))


def test_a_waiting_customer_hears_when_their_place_halves_once_per_place(parts):
    from posta import handoff

    business, store, outbox, contacts = parts
    queued = []
    for n in range(4):  # four wait in support's queue, told places 1 to 4 as they were queued
        case = a_case(store, f"54911000000{n:02d}", "support", at=WEDNESDAY_11 - timedelta(minutes=30 - n))
        store.record(case.id, "queue_told", None, str(handoff.queue_of(store, case).place))
        queued.append(case)
    assert [handoff.told_place(store, c) for c in queued] == [1, 2, 3, 4]
    for case in queued[:2]:  # two are taken
        store.take(case.id, "Hugo")

    def queue_runs(minutes):  # (escalations run too: these cases waited long)
        return [
            k
            for k in run(business, store, outbox, contacts, WEDNESDAY_11 + timedelta(minutes=minutes))
            if k.startswith("queue:")
        ]

    assert queue_runs(0) == [f"queue:{queued[2].id}:1", f"queue:{queued[3].id}:2"]  # 3rd -> 1st, 4th -> 2nd: halved
    told = [
        r.body["text"]["body"] for r in outbox.rows() if r.body.get("text", {}).get("body", "").startswith("Avanzamos")
    ]
    assert sorted(told)[1].startswith("Avanzamos: Tu caso es el número 2 de la fila")
    assert len(told) == 2
    assert queue_runs(1) == []  # once
    store.take(queued[2].id, "Hugo")
    assert queue_runs(2) == [f"queue:{queued[3].id}:1"]  # 2nd -> 1st halves it too: "you are next"
    assert queue_runs(3) == []


def said(store, conversation, at, *steps):
    """Tracker events as Rasa stores them: (customer's text, intent, the bot's response)."""
    rows = [{"event": "session_started", "timestamp": at.timestamp()}]
    for text, intent, response in steps:
        rows.append(
            {"event": "user", "text": text, "timestamp": at.timestamp(), "parse_data": {"intent": {"name": intent}}}
        )
        rows.append(
            {"event": "bot", "text": "…", "timestamp": at.timestamp() + 1, "metadata": {"utter_action": response}}
        )
    with store.engine.begin() as conn:
        for row in rows:
            conn.execute(
                sa.text("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (:s, :t, :at, :d)"),
                {"s": conversation, "t": row["event"], "at": row["timestamp"], "d": json.dumps(row)},
            )


def test_a_customer_the_bot_served_alone_is_asked_once_and_a_low_answer_is_a_possible_miss(parts):
    business, store, outbox, contacts = parts
    business = replace(business, rate_bot_after_minutes=30)
    with store.engine.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR, type_name VARCHAR, timestamp FLOAT, data TEXT)"
            )
        )
    now = datetime.now(TIMEZONE)
    served, greeted, handed, recent, stale = (f"54911000000{n}" for n in range(10, 15))
    question = ("cuanto sale el casco?", "ask_catalogue", "utter_catalogue_helmet")
    said(store, served, now - timedelta(minutes=40), question)
    said(store, greeted, now - timedelta(minutes=40), ("hola", "greet", "utter_greet"))  # nothing answered
    said(store, handed, now - timedelta(minutes=40), question)
    a_case(store, handed, "sales", at=now - timedelta(minutes=39))  # a person took part, and handed back
    store.close(handed, by="Eva")
    said(store, recent, now - timedelta(minutes=10), question)  # not quiet yet
    said(store, stale, now - timedelta(hours=30), question)  # outside their window
    for phone in (served, greeted, handed, recent):
        contacts.seen(phone)

    assert run(business, store, outbox, contacts, now) == [f"rate-bot:{served}"]
    assert run(business, store, outbox, contacts, now + timedelta(minutes=5)) == []  # once
    asked = outbox.rows(served)[-1].body["interactive"]
    assert asked["body"]["text"] == "Una pregunta rápida: ¿te sirvieron mis respuestas?"
    ids = [b["reply"]["id"] for b in asked["action"]["buttons"]]
    assert ids == ["posta:rate-bot:1:3", "posta:rate-bot:1:2", "posta:rate-bot:1:1"]
    assert all(outbox.rows(phone) == [] for phone in (greeted, handed, recent, stale))

    assert ratings.record(business, store, outbox, greeted, "posta:rate-bot:1:1") is None  # not theirs
    assert (
        ratings.record(business, store, outbox, served, "posta:rate-bot:1:1")[0]["text"]["body"]
        == "¡Gracias por contarnos!"
    )
    assert ratings.record(business, store, outbox, served, "posta:rate-bot:1:3") == []  # kept once
    found = review.collect(store, [], now - timedelta(days=1), now + timedelta(days=1))
    assert [(r.subject, r.because, [t.text for t in r.turns]) for r in found] == [
        ("rating-1", "miss_low_rating", ["cuanto sale el casco?"])
    ]
    report = reports.build(store, business, now - timedelta(days=1), now + timedelta(days=1))
    assert report.possible_misses == 1  # the low rating (the handed-off case was requested, answered nothing)
    assert sum(d["possible_misses"] for d in report.by_day) == 1  # and in the day-by-day trend

"""Report numbers against a scripted set of cases with known timings."""

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from posta import reports
from posta.schema import cases, outbox
from posta.store import CaseStore
from posta.summary import CaseSummary
from posta.whatsapp.outbox import Outbox
from tests.unit.conftest import TIMEZONE

DAY = datetime(2026, 11, 25, tzinfo=TIMEZONE)  # a Wednesday


def at(hour, minute=0, day=0):
    return DAY + timedelta(days=day, hours=hour, minutes=minute)


@pytest.fixture
def store(tmp_path):
    store = CaseStore(f"sqlite:///{tmp_path / 'reports.db'}")
    with store.engine.begin() as conn:  # the columns of Rasa's events table that reports read
        conn.execute(
            sa.text(
                "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR, type_name VARCHAR, timestamp FLOAT)"
            )
        )
        for n in range(8):
            conn.execute(
                sa.text("INSERT INTO events (sender_id, type_name, timestamp) VALUES (:s, 'user', :t)"),
                {"s": f"c{n}", "t": at(9 + n).timestamp()},
            )
        conn.execute(
            sa.text("INSERT INTO events (sender_id, type_name, timestamp) VALUES ('old', 'user', :t)"),
            {"t": at(12, day=-1).timestamp()},
        )
    return store


def scripted_case(
    store, name, reason, team, agent, created, first_reply=None, taken=None, closed=None, after_hours=False
):
    case = store.open_case(
        CaseSummary(conversation_id=name, reason=reason, topic="general", language="es", after_hours=after_hours),
        team=team,
        agent=agent,
    )
    with store.engine.begin() as conn:
        conn.execute(
            cases.update()
            .where(cases.c.id == case.id)
            .values(
                created_at=created,
                first_reply_at=first_reply,
                taken_at=taken,
                closed_at=closed,
                status="closed" if closed else "active",
            )
        )
    return case


def test_report_numbers(store, business):
    scripted_case(store, "c0", "requested", "sales", "Eva", at(10), at(10, 2), at(10, 1), at(10, 30))
    scripted_case(store, "c1", "sensitive", "support", "Hugo", at(11), at(11, 10), at(11, 5), at(12))
    scripted_case(store, "c2", "unsure", "sales", "Eva", at(12), at(12, 4), at(12, 1))
    # After hours at 20:00; the store opens at 10:00 next day, Eva takes it at 10:15.
    scripted_case(
        store, "c3", "requested", "sales", "Eva", at(20), at(10, 20, day=1), at(10, 15, day=1), after_hours=True
    )
    scripted_case(store, "old", "unsure", "sales", "Eva", at(12, day=-1))  # outside the period
    box = Outbox(str(store.engine.url))
    body = {"to": "549", "type": "text", "text": {"body": "x"}}
    failed, skipped, sent = box.enqueue([body, body, body], purpose="reply")
    box.failed(failed, "500 after 6 attempts")
    box.failed(skipped, "skipped: 24-hour window closed")
    box.sent(sent, "wamid.1", False)
    with store.engine.begin() as conn:
        conn.execute(outbox.update().values(created_at=at(13)))

    report = reports.build(store, business, DAY, DAY + timedelta(days=1))
    assert (report.conversations, report.handoffs, report.handoff_rate) == (8, 4, 0.5)
    assert report.reasons == {"requested": 2, "sensitive": 1, "unsure": 1}
    # first replies: 2, 10, 4 and 860 minutes
    assert (report.first_reply.count, report.first_reply.median, report.first_reply.p90) == (4, 7.0, 605.0)
    assert (report.resolution.median, report.resolution.p90) == (45.0, 57.0)
    assert (report.after_hours_leads, report.after_hours_picked_up, report.after_hours_pickup.median) == (1, 1, 15.0)
    assert report.returned_to_bot == 2 and report.failed_sends == 1
    assert report.by_team["sales"].handoffs == 3 and report.by_team["support"].reasons == {"sensitive": 1}
    assert report.by_agent["Eva"].first_reply.median == 4.0
    assert report.as_dict()["by_agent"]["Hugo"]["resolution"]["median"] == 60.0


def test_ratings_by_agent_and_team(store, business):
    rated = [
        ("r0", "sales", "Eva", 3),
        ("r1", "sales", "Eva", 1),
        ("r2", "support", "Hugo", 2),
        ("r3", "sales", "Eva", None),
    ]
    for name, team, agent, score in rated:
        case = scripted_case(store, name, "requested", team, agent, at(10), at(10, 1), at(10, 1), at(10, 30))
        if score:
            assert store.rate(case.id, score)
            assert not store.rate(case.id, 3)  # once
    report = reports.build(store, business, at(0), at(0, day=1))
    assert report.ratings == reports.Ratings(rated=3, mean=2.0, low=1)
    assert report.by_agent["Eva"].ratings == reports.Ratings(rated=2, mean=2.0, low=1)
    assert report.by_team["support"].ratings == reports.Ratings(rated=1, mean=2.0, low=0)
    assert report.as_dict()["by_agent"]["Eva"]["ratings"]["low"] == 1  # in the panel's JSON too

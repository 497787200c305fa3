"""`make review`: examples the designer may take, masked, and a threshold report that
matches numbers worked out by hand."""

import json
from datetime import datetime, timedelta

import sqlalchemy as sa

from posta import review
from posta.schema import cases
from posta.store import CaseStore
from posta.summary import CaseSummary, CustomerMessage
from tests.unit.conftest import TIMEZONE

OPENED = datetime(2026, 11, 25, 11, 0, tzinfo=TIMEZONE)


def judged_case(store, name, reason, judgment, topic, text, confidence, mass):
    """A closed case opened by `text`, whose parse said `confidence` and `mass`."""
    summary = CaseSummary(
        conversation_id=name,
        reason=reason,
        topic="general",
        language="es",
        customer_name="Lucía",
        messages=[CustomerMessage(text)],
    )
    case = store.open_case(summary, team="sales", agent="Eva")
    parse = {"intent": {"name": "nlu_fallback", "confidence": confidence}, "handoff_risk": {"sensitive_mass": mass}}
    event = {
        "event": "user",
        "text": text,
        "timestamp": (OPENED - timedelta(seconds=5)).timestamp(),
        "parse_data": parse,
    }
    with store.engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO events (sender_id, data) VALUES (:s, :d)"), {"s": name, "d": json.dumps(event)}
        )
        conn.execute(cases.update().where(cases.c.id == case.id).values(created_at=OPENED, status="closed"))
    if judgment:
        assert store.judge(case.id, judgment, topic, "Eva")
    return store.get(case.id)


def test_review_files_from_judged_cases(tmp_path):
    store = CaseStore(f"sqlite:///{tmp_path / 'review.db'}")
    with store.engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR, data TEXT)"))
    judged_case(store, "r1", "unsure", "bot", "hours", "Lucía acá, abren el domingo? mi cel 55 1234 5678", 0.30, 0.0)
    judged_case(store, "r2", "unsure", "needed", None, "la bici hace un ruido raro", 0.20, 0.05)
    judged_case(store, "r3", "sensitive", "bot", "catalogue", "cuánto sale el casco? soy eva@mail.com", 0.60, 0.18)
    judged_case(store, "r4", "sensitive", "needed", None, "me caí y me duele la rodilla", 0.50, 0.40)
    judged_case(store, "r5", "unsure", None, None, "sin juzgar", 0.10, 0.0)  # neither judged nor flagged: left out

    found = review.collect(store, ["Eva", "Hugo"], OPENED - timedelta(days=1), OPENED + timedelta(days=1))
    assert [r.case.conversation_id for r in found] == ["r1", "r2", "r3", "r4"]
    assert found[0].messages == ["<name> acá, abren el domingo? mi cel <phone>"]  # nothing personal leaves
    assert found[2].messages == ["cuánto sale el casco? soy <email>"]

    nlu = review.nlu_review(found, "2026-11-25")
    assert "#     - <name> acá, abren el domingo? mi cel <phone>" in nlu and "# - intent: ask_hours" in nlu
    assert "# - intent: ask_catalogue" in nlu and "ruido raro" not in nlu  # only what the bot could answer
    assert [line for line in nlu.splitlines() if not line.startswith("#")] == ['version: "3.1"', "nlu: []"]

    # By hand: fallback hands off under t. Needed r2 (0.20) and r4 (0.50); bot r1 (0.30), r3 (0.60).
    rows = {r["threshold"]: (r["missed"], r["unnecessary"]) for r in review.threshold_rows(found, "fallback")}
    assert rows[0.2] == (2, 0) and rows[0.35] == (1, 1) and rows[0.5] == (1, 1)
    # Sensitive hands off at or over t. Needed r2 (0.05), r4 (0.40); bot r1 (0.0), r3 (0.18).
    rows = {r["threshold"]: (r["missed"], r["unnecessary"]) for r in review.threshold_rows(found, "sensitive")}
    assert rows[0.15] == (1, 1) and rows[0.2] == (1, 0) and rows[0.5] == (2, 0)
    report = review.threshold_report(found, {"fallback": 0.35, "sensitive": 0.175}, "2026-11-25")
    assert "| 0.35 (current) | 1 | 1 |" in report
    assert "| 0.175 (current) | 1 | 1 |" in report  # the current one is always a row (r3's 0.18 is over it)

"""`make review`: examples the designer may take, masked; a test story per reviewed
conversation; a threshold report that matches numbers worked out by hand."""

import json
from datetime import datetime, timedelta

import sqlalchemy as sa
import yaml

from posta import review
from posta.config import ROOT
from posta.schema import cases
from posta.store import CaseStore
from posta.summary import CaseSummary, CustomerMessage
from tests.unit.conftest import TIMEZONE

OPENED = datetime(2026, 11, 25, 11, 0, tzinfo=TIMEZONE)


def judged_case(store, name, reason, judgment, topic, text, confidence, mass, before=(), intent="nlu_fallback"):
    """A closed case opened by `text`, whose parse said `confidence` and `mass`, after the
    bot's turns `before` ((text, intent, action) each)."""
    summary = CaseSummary(
        conversation_id=name,
        reason=reason,
        topic="general",
        language="es",
        customer_name="Lucía",
        messages=[CustomerMessage(said) for said, _, _ in before] + [CustomerMessage(text)],
        answered=["catalogue"] if before else [],
    )
    case = store.open_case(summary, team="sales", agent="Eva")
    parse = {"intent": {"name": intent, "confidence": confidence}, "handoff_risk": {"sensitive_mass": mass}}
    at = (OPENED - timedelta(minutes=5)).timestamp()
    events = [{"event": "session_started", "timestamp": at}, {"event": "action", "name": "action_listen"}]
    for said, intent, action in before:
        events += [
            {"event": "user", "text": said, "timestamp": at, "parse_data": {"intent": {"name": intent}}},
            {"event": "action", "name": action, "timestamp": at},
            {"event": "action", "name": "action_listen", "timestamp": at},
        ]
    events.append({"event": "user", "text": text, "timestamp": OPENED.timestamp() - 5, "parse_data": parse})
    events.append({"event": "action", "name": "action_handoff", "timestamp": OPENED.timestamp() + 1})
    events.append({"event": "user", "text": "EXTERNAL: handback", "timestamp": OPENED.timestamp() + 60})
    with store.engine.begin() as conn:
        for event in events:
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
    assert [t.text for t in found[0].turns] == ["<name> acá, abren el domingo? mi cel <phone>"]  # nothing personal
    assert found[2].question.text == "cuánto sale el casco? soy <email>"

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


ANSWERS = {"ask_hours": ("action_answer_hours",), "complaint": ("action_handoff",), "ask_catalogue": ("utter_x",)}


def test_a_story_per_reviewed_conversation_masked_and_the_review_pages_choice_wins(tmp_path):
    store = CaseStore(f"sqlite:///{tmp_path / 'review.db'}")
    with store.engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR, data TEXT)"))
    bot = judged_case(store, "s1", "unsure", "bot", "hours", "abren el domingo? soy Lucía", 0.3, 0.0)
    needed = judged_case(store, "s2", "unsure", "needed", None, "la bici hace un ruido raro", 0.2, 0.0)
    # The bot answered a broken helmet as a price question; then the customer asked for a person.
    missed = judged_case(
        store,
        "s3",
        "requested",
        None,
        None,
        "quiero hablar con alguien",
        0.9,
        0.0,
        before=[
            ("hola", "greet", "utter_greet"),
            ("el casco vino roto [mal], cuánto sale otro?", "ask_catalogue", "utter_x"),
        ],
        intent="request_human",
    )
    skipped = judged_case(store, "s4", "unsure", "bot", "hours", "y el sábado?", 0.3, 0.0)
    window = (OPENED - timedelta(days=1), OPENED + timedelta(days=1))

    found = {r.case.id: r for r in review.collect(store, ["Eva"], *window)}
    assert review.lesson(found[missed.id]) is None  # a possible miss nobody judged waits for a choice
    assert found[missed.id].question.text == "el casco vino roto (mal), cuánto sale otro?"  # the answer in question
    store.record(missed.id, "reviewed", "Hugo", {"choice": "both", "intent": "complaint"})
    store.record(skipped.id, "reviewed", "Hugo", {"choice": "skip", "intent": "ask_hours"})
    found = {r.case.id: r for r in review.collect(store, ["Eva"], *window)}
    assert review.lesson(found[skipped.id]) is None

    written = yaml.safe_load(review.test_stories(list(found.values()), "2026-11-25", ANSWERS))
    stories = {s["story"].split(":")[0]: s["steps"] for s in written["stories"]}
    assert set(stories) == {f"case-{bot.id}", f"case-{needed.id}", f"case-{missed.id}"}
    assert stories[f"case-{bot.id}"] == [
        {"user": "abren el domingo? soy <name>", "intent": "ask_hours"},
        {"action": "action_answer_hours"},
    ]
    assert stories[f"case-{needed.id}"] == [
        {"user": "la bici hace un ruido raro", "intent": "nlu_fallback"},
        {"action": "action_handoff"},  # as it happened: the handoff was right
    ]
    assert stories[f"case-{missed.id}"] == [
        {"user": "hola", "intent": "greet"},
        {"action": "utter_greet"},
        {"user": "el casco vino roto (mal), cuánto sale otro?", "intent": "complaint"},
        {"action": "action_handoff"},  # what the bot should have done, not the request after it
    ]
    nlu = review.nlu_review(list(found.values()), "2026-11-25")
    assert "# - intent: complaint\n#   examples: |\n#     - el casco vino roto (mal), cuánto sale otro?" in nlu
    assert "y el sábado" not in nlu and "Lucía" not in nlu


def test_a_conversation_with_a_form_gets_no_story():
    events = [
        {"event": "session_started", "timestamp": 1},
        {"event": "user", "text": "quiero un turno", "timestamp": 2, "parse_data": {"intent": {"name": "book"}}},
        {"event": "action", "name": "booking_form", "timestamp": 2},
        {"event": "active_loop", "name": "booking_form", "timestamp": 2},
        {"event": "user", "text": "mañana", "timestamp": 3, "parse_data": {"intent": {"name": "inform"}}},
        {"event": "action", "name": "action_handoff", "timestamp": 4},
    ]
    turns, form = review.bot_part(events, 3.5, [])
    assert [t.actions for t in turns] == [("booking_form",), ("action_handoff",)] and form


def test_a_day_left_with_no_lesson_leaves_no_empty_file_behind(tmp_path):
    stale = tmp_path / "tests" / "stories" / "test_review_2026-11-25.yml"
    stale.parent.mkdir(parents=True)
    stale.write_text("stories: [an earlier lesson, since skipped]\n")
    written = review.write([], ROOT, "2026-11-25", tmp_path)
    assert written == [tmp_path / "results" / "review" / "thresholds-2026-11-25.md"]
    assert not stale.exists() and not (tmp_path / "data").exists()

"""A customer's words are words: never an intent shortcut, never a button the bot did not
offer, and nothing they send while a person owns the chat makes the bot speak."""

import time

import sqlalchemy as sa

from harness.phones import shown
from posta.schema import outbox
from tests.security.test_api_and_actions import assert_still_ana_s, owned_by_ana


def events_of(stack, phone):
    """The tracker once the customer's turn is saved (a reply can reach the phone first)."""
    deadline = time.monotonic() + 10
    while True:
        events = stack.tracker(phone.number)["events"]
        if any(e["event"] == "user" for e in events) or time.monotonic() > deadline:
            return events
        time.sleep(0.1)


def test_restart_while_an_agent_owns_the_chat_is_relayed_once_and_answered_by_nobody(stack, cases, customer, ana):
    case = owned_by_ana(stack, cases, customer, ana)
    with cases.engine.connect() as conn:
        notices = conn.execute(
            sa.select(sa.func.count()).where(outbox.c.case_id == case.id, outbox.c.purpose == "notify")
        ).scalar()
    customer.text("/restart")
    relayed = ana.wait_for_text("/restart")
    assert [shown(b) for b in relayed if "/restart" in shown(b)] == ["Lucía: /restart"]
    assert customer.quiet(3) == []  # not the handoff message, not anything
    assert ana.quiet(1) == []  # told once, and no new notification
    assert_still_ana_s(stack, cases, customer, case)
    with cases.engine.connect() as conn:
        assert (
            conn.execute(
                sa.select(sa.func.count()).where(outbox.c.case_id == case.id, outbox.c.purpose == "notify")
            ).scalar()
            == notices
        )
    events = events_of(stack, customer)
    assert not [e for e in events if e["event"] == "restart"]
    assert [e["text"].lstrip("\u2060") for e in events if e["event"] == "user"][-1] == "/restart"  # logged


def test_text_starting_with_a_slash_is_not_an_intent_shortcut(stack, cases, customer):
    customer.text("/handback")
    assert "¿Hay algo más" not in shown(customer.wait()[0])  # not action_handback's follow-up
    events = events_of(stack, customer)
    assert not [e for e in events if e["event"] == "action" and e.get("name") == "action_handback"]
    customer.text("/restart")
    customer.quiet(2)
    events = events_of(stack, customer)
    assert not [e for e in events if e["event"] == "restart"]
    typed = [e["text"].lstrip("\u2060") for e in events if e["event"] == "user"]
    assert typed == ["/handback", "/restart"]  # both kept: the conversation was not wiped
    intents = [e["parse_data"]["intent"]["name"] for e in events if e["event"] == "user"]
    assert "handback" not in intents and "restart" not in intents


def test_a_button_the_bot_never_offered_is_read_as_its_words(stack, customer):
    customer.press("/handback", "gracias")
    reply = customer.wait()
    assert "¿Hay algo más" not in shown(reply[0])  # action_handback's follow-up
    events = events_of(stack, customer)
    assert not [e for e in events if e["event"] == "action" and e.get("name") == "action_handback"]
    [turn] = [e for e in events if e["event"] == "user"]
    assert turn["text"] == "gracias" and turn["parse_data"]["intent"]["name"] == "thanks"


def test_a_button_the_bot_offered_is_its_payload(stack, customer):
    customer.text("quiero un turno para el control de la vista")
    offer = customer.wait(lambda new: any(b["type"] == "interactive" for b in new))
    yes = next(b for b in offer if b["type"] == "interactive")["interactive"]["action"]["buttons"][0]["reply"]
    customer.press(yes["id"], yes["title"])
    assert "Te paso con" in shown(customer.wait()[0])

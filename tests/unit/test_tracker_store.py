"""The tracker store (channels.tracker_store.PostaTrackerStore) on a SQLite file, with Rasa's
own classes and no model or server: a conversation comes back as it was saved; a long one
at rest rolls over to a short session that keeps its slots and its pause, while every
older event stays readable (posta.rasa_events.load)."""

import asyncio
import time

import pytest
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    ConversationPaused,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from channels.tracker_store import ROLLOVER_AFTER, PostaTrackerStore
from posta import rasa_events
from posta.db import connect

DOMAIN = Domain.from_yaml("""
version: "3.1"
intents: [greet, ask_hours]
slots:
  customer_name:
    type: text
    influence_conversation: false
    mappings: [{type: custom}]
responses:
  utter_greet: [{text: "¡Hola!"}]
  utter_hours: [{text: "Abrimos de 10 a 19."}]
""")
CUSTOMER = "5215599990001"


@pytest.fixture
def url(tmp_path):
    return f"sqlite:///{tmp_path / 'tracker.db'}"


@pytest.fixture
def store(url):
    return PostaTrackerStore(domain=DOMAIN, host=url)


def conversation(turns, start=None):
    """A session start, the customer's name, then `turns` question-and-answer turns, at rest
    (the bot listening); every event an hour ago or later, one second apart."""
    clock = iter(range(10_000))
    t0 = start or time.time() - 3600
    at = lambda: t0 + next(clock)
    events = [
        ActionExecuted(ACTION_SESSION_START_NAME, timestamp=at()),
        SessionStarted(timestamp=at()),
        ActionExecuted(ACTION_LISTEN_NAME, timestamp=at()),
        SlotSet("customer_name", "Lucía", timestamp=at()),
    ]
    for n in range(turns):
        events += [
            UserUttered(f"pregunta {n}", {"name": "ask_hours", "confidence": 0.9}, timestamp=at()),
            ActionExecuted("utter_hours", timestamp=at()),
            BotUttered("Abrimos de 10 a 19.", {}, {"utter_action": "utter_hours"}, timestamp=at()),
            ActionExecuted(ACTION_LISTEN_NAME, timestamp=at()),
        ]
    return events


def tracker(events):
    return DialogueStateTracker.from_events(CUSTOMER, events, DOMAIN.slots)


def save(store, tracker_):
    asyncio.run(store.save(tracker_))


def retrieve(store):
    return asyncio.run(store.retrieve(CUSTOMER))


def dicts(events):
    return [e.as_dict() for e in events]


def test_a_conversation_comes_back_as_it_was_saved(store, url):
    assert retrieve(store) is None
    saved = tracker(conversation(turns=3))
    save(store, saved)
    again = retrieve(store)
    assert dicts(again.events) == dicts(saved.events)[1:]  # Rasa reads the session from its start
    assert again.get_slot("customer_name") == "Lucía" and again.latest_action_name == ACTION_LISTEN_NAME
    # The next turn appends only what is new.
    again.update(UserUttered("gracias", {"name": "greet", "confidence": 0.9}))
    save(store, again)
    stored = rasa_events.load(connect(url), CUSTOMER)
    assert stored == dicts(saved.events)[:1] + dicts(again.events)
    assert [e["text"] for e in stored if e["event"] == "user"] == ["pregunta 0", "pregunta 1", "pregunta 2", "gracias"]


def test_a_long_conversation_at_rest_rolls_over_and_keeps_its_history(store, url):
    events = conversation(turns=ROLLOVER_AFTER // 4)
    assert len(events) >= ROLLOVER_AFTER
    save(store, tracker(events))

    short = retrieve(store)
    assert len(short.events) < 10  # Rasa reads and featurizes only the new session
    assert rasa_events.rolled_over(dicts(short.events))
    assert short.get_slot("customer_name") == "Lucía" and short.latest_action_name == ACTION_LISTEN_NAME
    assert not short.is_paused()

    stored = rasa_events.load(connect(url), CUSTOMER)  # what summaries and the panel read
    assert stored[: len(events)] == dicts(events)
    assert [e["text"] for e in stored if e["event"] == "user"] == [f"pregunta {n}" for n in range(ROLLOVER_AFTER // 4)]
    assert not any(rasa_events.is_new_session(e) for e in stored[len(events) :])  # not a new conversation

    # The conversation goes on from the short session, without rolling over again.
    short.update(UserUttered("y los sábados?", {"name": "ask_hours", "confidence": 0.9}))
    short.update(ActionExecuted(ACTION_LISTEN_NAME))
    save(store, short)
    assert [e.text for e in retrieve(store).events if isinstance(e, UserUttered)] == ["y los sábados?"]
    assert len(rasa_events.load(connect(url), CUSTOMER)) == len(stored) + 2


def test_a_long_conversation_inside_a_form_does_not_roll_over(store):
    events = conversation(turns=ROLLOVER_AFTER // 4)
    events[-1:-1] = [ActiveLoop("after_hours_form", timestamp=events[-1].timestamp - 0.5)]  # asking for a name
    save(store, tracker(events))
    kept = retrieve(store)
    assert kept.active_loop_name == "after_hours_form"
    assert dicts(kept.events) == dicts(events)[1:]  # the whole session, as saved


def test_a_paused_conversation_stays_paused_after_rolling_over(store):
    events = conversation(turns=ROLLOVER_AFTER // 4)
    events.append(ConversationPaused(timestamp=events[-1].timestamp + 1))  # a person took the chat
    save(store, tracker(events))
    short = retrieve(store)
    assert len(short.events) < 10 and short.is_paused()
    assert short.get_slot("customer_name") == "Lucía"

"""What every action needs: the owner's config, the case store, the customer's language."""

from __future__ import annotations

from functools import lru_cache

from rasa_sdk import Tracker

from posta import config, rasa_events
from posta.store import CaseStore
from posta.whatsapp.contacts import Contacts
from posta.whatsapp.outbox import Outbox


@lru_cache(maxsize=1)
def case_store() -> CaseStore:
    return CaseStore()


@lru_cache(maxsize=1)
def outbox() -> Outbox:
    return Outbox()


@lru_cache(maxsize=1)
def contacts() -> Contacts:
    return Contacts()


def business() -> config.BusinessConfig:
    return config.current()


def language(tracker: Tracker) -> str:
    return tracker.get_slot("language") or business().default_language


def latest_entity(tracker: Tracker, entity: str):
    return next(tracker.get_latest_entity_values(entity), None)


def conversation(tracker: Tracker):
    """The conversation's events: the tracker's, after the stored history when the tracker
    store rolled the session over to keep a long chat fast."""
    events = list(tracker.events)
    if not rasa_events.rolled_over(events):
        return events
    return rasa_events.with_history(rasa_events.load(case_store().engine, tracker.sender_id), events)

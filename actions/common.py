"""What every action needs: the owner's config, the case store, the customer's language."""

from __future__ import annotations

from functools import lru_cache

from rasa_sdk import Tracker

from posta import config
from posta.store import CaseStore


@lru_cache(maxsize=1)
def case_store() -> CaseStore:
    return CaseStore()


def business() -> config.BusinessConfig:
    return config.current()


def language(tracker: Tracker) -> str:
    return tracker.get_slot("language") or business().default_language


def latest_entity(tracker: Tracker, entity: str):
    return next(tracker.get_latest_entity_values(entity), None)

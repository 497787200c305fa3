"""FAQ answers that depend on the owner's config or on what exactly was asked."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import business, language, latest_entity
from posta import facts, texts
from posta.hours import business_now


class ActionAnswerHours(Action):
    """The hours from business.yml, so the answer never drifts from the handoff logic."""

    def name(self) -> Text:
        return "action_answer_hours"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[Text, Any]]:
        config, lang = business(), language(tracker)
        schedule = config.schedule
        now = business_now(config.timezone)
        dispatcher.utter_message(response="utter_hours", hours=texts.weekly_hours(schedule.weekly_table(), lang))
        if schedule.is_open(now):
            dispatcher.utter_message(response="utter_open_now")
        else:
            dispatcher.utter_message(
                response="utter_closed_now", next_opening=texts.next_opening(schedule.next_opening(now), now, lang)
            )
        return []


class ActionAnswerCatalogue(Action):
    """Price ranges for the product asked about, or the overview with buttons."""

    def name(self) -> Text:
        return "action_answer_catalogue"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[Text, Any]]:
        product = latest_entity(tracker, "product") or next(
            (f.value for f in facts.extract(tracker.latest_message.get("text") or "") if f.kind == "product"), None
        )
        specific = f"utter_catalogue_{product}"  # the product's own answer, if the design has one
        dispatcher.utter_message(
            response=specific if specific in (domain.get("responses") or {}) else "utter_catalogue"
        )
        return []

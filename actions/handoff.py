"""Stepping aside and coming back: the handoff, the after-hours details form, the handback,
and a session start that keeps a conversation paused while a person owns it."""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActionExecuted, ActiveLoop, ConversationPaused, ConversationResumed, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import business, case_store, contacts, conversation, language, latest_entity, outbox
from posta import alerts, handoff, rasa_events, ratings, texts
from posta import summary as summaries
from posta.hours import business_now
from posta.names import clean_name
from posta.phones import mask_phone
from posta.states import Reason

logger = logging.getLogger(__name__)

HANDOFF_SLOTS = ("handoff_reason", "handoff_topic", "handoff_needs_details", "customer_request")
DETAILS_FORM = "after_hours_form"
# What a new session remembers: who the customer is, not a half-finished handoff.
CARRIED_SLOTS = ("language", "customer_name")


class ActionHandoff(Action):
    """Builds the case from the conversation, routes it, tells the customer, and pauses.

    After hours, when the team would lack a name or a request, it activates
    `after_hours_form` to ask for them; a rule runs it again when the form is done.
    """

    def name(self) -> Text:
        return "action_handoff"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[Text, Any]]:
        owned = case_store().open_case_for(tracker.sender_id)
        if owned is not None:  # a person has it already: nothing to add, nobody to tell, stay paused
            logger.info("handoff for %s: case %s is open; nothing to do", mask_phone(tracker.sender_id), owned.id)
            return [
                SlotSet("handoff_reason", owned.reason),
                SlotSet("handoff_topic", owned.topic),
                ConversationPaused(),
            ]
        config, lang = business(), language(tracker)
        now = business_now(config.timezone)
        open_now = config.schedule.is_open(now)
        decision = self._decision(tracker)
        summary = summaries.build(
            conversation(tracker),
            conversation_id=tracker.sender_id,
            reason=decision.reason,
            topic=decision.topic,
            language=lang,
            customer_name=tracker.get_slot("customer_name"),
            after_hours=not open_now,
        )
        decided = [SlotSet("handoff_reason", decision.reason), SlotSet("handoff_topic", decision.topic)]

        if not tracker.get_slot("handoff_needs_details") and handoff.needs_details(summary, open_now):
            dispatcher.utter_message(
                response="utter_after_hours_details",
                next_opening=texts.next_opening(config.schedule.next_opening(now), now, lang),
            )
            known = [SlotSet("customer_name", summary.customer_name)] if summary.customer_name else []
            if decision.reason != Reason.REQUESTED or summary.topic != "general":
                known.append(SlotSet("customer_request", summary.messages[-1].text if summary.messages else ""))
            return decided + known + [SlotSet("handoff_needs_details", True), ActiveLoop(DETAILS_FORM)]

        channel = tracker.get_latest_input_channel()
        result = handoff.hand_off(case_store(), config, summary, now, channel=channel)
        if channel == "whatsapp":  # agents hear about it on their own WhatsApp
            alerts.announce(config, outbox(), contacts(), result.case)
        logger.info(
            "case %s for %s: %s/%s, %s",
            result.case.id,
            mask_phone(tracker.sender_id),
            decision.reason,
            decision.topic,
            result.agent.name if result.agent else f"queue {result.case.team}",
        )
        self._tell_customer(dispatcher, result, summary, now, lang)
        safety = f"utter_safety_{summary.topic}"  # a topic's safety line, if the design has one
        if safety in (domain.get("responses") or {}):
            dispatcher.utter_message(response=safety)
        return decided + [SlotSet("handoff_needs_details", False), ConversationPaused()]

    @staticmethod
    def _decision(tracker: Tracker) -> handoff.Decision:
        if tracker.get_slot("handoff_needs_details") and tracker.get_slot("handoff_reason"):
            # Second run, after the details form: the reason was decided on the first.
            return handoff.Decision(tracker.get_slot("handoff_reason"), tracker.get_slot("handoff_topic") or "general")
        latest = tracker.latest_message or {}
        intent = (latest.get("intent") or {}).get("name")
        return handoff.decide(
            intent,
            latest.get("text") or "",
            accepted_offer=intent == "affirm" and rasa_events.last_response(tracker.events).startswith("utter_offer_"),
            earlier_topic=summaries.latest_topic(conversation(tracker)),
        )

    @staticmethod
    def _tell_customer(
        dispatcher: CollectingDispatcher, result: handoff.Handoff, summary: summaries.CaseSummary, now, lang: str
    ) -> None:
        if not result.open_now:
            name = summary.customer_name
            dispatcher.utter_message(
                response="utter_handoff_after_hours",
                next_opening=texts.next_opening(result.next_opening, now, lang),
                name_suffix=f", {name}" if name else "",
            )
        elif result.agent is None:
            place = result.queue.place if result.queue else 1
            minutes = result.queue.minutes if result.queue else None
            dispatcher.utter_message(response="utter_handoff_queued", queue=texts.queue_line(place, minutes, lang))
        elif business().tone == "named":
            dispatcher.utter_message(response="utter_handoff_named", agent_name=result.agent.name)
        else:
            dispatcher.utter_message(response="utter_handoff")


class ValidateAfterHoursForm(FormValidationAction):
    """Keeps the name a name ("me llamo Lucía" -> "Lucía") and the request non-empty."""

    def name(self) -> Text:
        return "validate_after_hours_form"

    def validate_customer_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        return {"customer_name": clean_name(str(value or ""))}

    def validate_customer_request(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        text = str(value or "").strip()
        return {"customer_request": text or None}


class ActionHandback(Action):
    """A person hands the chat back: close the case, resume, and follow up."""

    def name(self) -> Text:
        return "action_handback"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[Text, Any]]:
        by = latest_entity(tracker, "agent")
        case = handoff.close_case(case_store(), tracker.sender_id, by=by)
        logger.info(
            "handback of %s by %s (case %s)", mask_phone(tracker.sender_id), by or "?", case.id if case else "none"
        )
        dispatcher.utter_message(response="utter_handback")
        if ratings.should_ask(case, contacts().window_open(tracker.sender_id)):
            dispatcher.utter_message(**ratings.question(case, tracker.get_slot("language") or case.language))
        return [ConversationResumed()] + [SlotSet(slot, None) for slot in HANDOFF_SLOTS]


class ActionSessionStart(Action):
    """Rasa's session start, except that a conversation a person owns stays paused.

    A new session resets the tracker, pause included; without this, a customer writing
    an hour into a human's case would get the bot talking over that person.
    """

    def name(self) -> Text:
        return "action_session_start"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict) -> List[Dict[Text, Any]]:
        owned = case_store().open_case_for(tracker.sender_id) is not None
        keep = CARRIED_SLOTS + (("handoff_reason", "handoff_topic") if owned else ())
        events = [SessionStarted()] + [
            SlotSet(name, tracker.get_slot(name)) for name in keep if tracker.get_slot(name) is not None
        ]
        if owned:
            events.append(ConversationPaused())
        return events + [ActionExecuted("action_listen")]

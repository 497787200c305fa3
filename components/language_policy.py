"""Keeps the `language` slot on the language the customer writes in.

Responses pick their Spanish or English variation from that slot, so it must be right
before the first response of a turn. A policy is the one place inside the Rasa server
that sees every turn and can set a slot ahead of the action: it never predicts an action
(all zeros), it only returns a `SlotSet` when the latest message clearly changes the
language (`posta.language`). Doing this as an NLU entity would make every test story
annotate it; doing it as a custom slot-mapping action would post the whole tracker to
the action server on every message.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from posta import language

SLOT = "language"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True)
class CustomerLanguagePolicy(Policy):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"priority": 0}  # it never competes for the next action

    def train(self, training_trackers: List[TrackerWithCachedStates], domain: Domain, **kwargs: Any) -> Resource:
        return self._resource  # nothing to learn

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[Text, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        detected = language.detect(tracker.latest_message.text if tracker.latest_message else "")
        events = []
        if detected and SLOT in tracker.slots and tracker.get_slot(SLOT) != detected:
            events.append(SlotSet(SLOT, detected))
        return self._prediction(self._default_predictions(domain), events=events)
